package delivery

import (
	"testing"
	"time"
)

func TestIdleBackoffDoublesToItsCapAndResets(t *testing.T) {
	b := backoff{base: 250 * time.Millisecond, max: 2 * time.Second}
	want := []time.Duration{250, 500, 1000, 2000, 2000}
	for i, w := range want {
		if got := b.next(); got != w*time.Millisecond {
			t.Fatalf("pause %d = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	b.reset()
	if got := b.next(); got != 250*time.Millisecond {
		t.Fatalf("pause after work = %v, want the base again", got)
	}
}

func TestIdlePollDefault(t *testing.T) {
	if w := New(Deps{}, Options{Poll: 100 * time.Millisecond}); w.o.IdlePoll != 800*time.Millisecond {
		t.Fatalf("IdlePoll default = %v, want 8 × Poll", w.o.IdlePoll)
	}
	if w := New(Deps{}, Options{}); w.o.IdlePoll != 2*time.Second {
		t.Fatalf("IdlePoll default = %v, want 2 s", w.o.IdlePoll)
	}
}
