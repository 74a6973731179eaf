package claims

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestFenString(t *testing.T) {
	cases := map[Fen]string{0: "0.00", 5: "0.05", 50: "0.50", 500000: "5000.00", 123456: "1234.56", -50: "-0.50", -123456: "-1234.56"}
	for f, want := range cases {
		if got := f.String(); got != want {
			t.Errorf("%d: got %q, want %q", int64(f), got, want)
		}
	}
	if Yuan(200) != 20000 {
		t.Errorf("Yuan(200) = %d", Yuan(200))
	}
}

func TestParseYuan(t *testing.T) {
	good := map[string]Fen{"0": 0, "5000": 500000, "5000.5": 500050, "5000.00": 500000, "0.05": 5, "-0.50": -50, "999999999999.99": 99999999999999}
	for s, want := range good {
		if got, err := ParseYuan(s); err != nil || got != want {
			t.Errorf("ParseYuan(%q): got %d, %v, want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".5", "5.", "5.555", "1,000", "5000元", "+5", "1e3", " 5", "5 ", "-", "--5", "1000000000000", "5.x", "x.5", "0x10"} {
		if _, err := ParseYuan(s); !errors.Is(err, ErrMoney) {
			t.Errorf("ParseYuan(%q): got %v, want ErrMoney", s, err)
		}
	}
}

func TestFenJSON(t *testing.T) {
	b, err := json.Marshal(struct{ A Fen }{123456})
	if err != nil || string(b) != `{"A":"1234.56"}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var v struct{ A Fen }
	if err := json.Unmarshal([]byte(`{"A":"70.1"}`), &v); err != nil || v.A != 7010 {
		t.Errorf("unmarshal: %d %v", v.A, err)
	}
	for _, in := range []string{`{"A":70.1}`, `{"A":"70.123"}`, `{"A":true}`} {
		v.A = 42
		if err := json.Unmarshal([]byte(in), &v); !errors.Is(err, ErrMoney) || v.A != 42 {
			t.Errorf("unmarshal %s: got %d %v, want ErrMoney and unchanged", in, v.A, err)
		}
	}
}
