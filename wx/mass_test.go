package wx

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"unionbot/localwx"
)

// Mass sending by openid list, against the emulator: the job's ids come back and every
// follower gets the text; the openid count is checked before any call (1 to
// MaxMassOpenIDs, the upper bound included); WeChat's refusal of a repeated clientmsgid is
// an APIError with its code, which is not a reason to try another channel.
func TestSendMassText(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Plain})
	ctx := t.Context()
	first, err := h.sender.SendMassText(ctx, []string{"oMassA", "oMassB"}, "周六工会活动", "notice-7")
	if err != nil || first.MsgID == 0 || first.MsgDataID != first.MsgID {
		t.Fatalf("mass send: %+v %v", first, err)
	}
	if job, ok := h.emu.MassJob(first.MsgID); !ok || job.Total != 2 || job.Sent != 2 {
		t.Fatalf("the emulator's job %d: %+v %v", first.MsgID, job, ok)
	}
	if got := h.emu.SentTo("oMassB"); len(got) != 1 || got[0].Kind != localwx.KindMass || got[0].Text != "周六工会活动" {
		t.Fatalf("received: %+v", got)
	}

	_, err = h.sender.SendMassText(ctx, []string{"oMassA", "oMassB"}, "周六工会活动", "notice-7")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != localwx.ErrMassDuplicate || ae.Op != "mass send" || ae.NextChannel() {
		t.Fatalf("a repeated clientmsgid: %v", err)
	}

	for _, n := range []int{0, MaxMassOpenIDs + 1} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("oM%05d", i)
		}
		if _, err := h.sender.SendMassText(ctx, ids, "x", ""); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d openids", n)) {
			t.Fatalf("%d openids: %v", n, err)
		}
	}
	ids := make([]string, MaxMassOpenIDs)
	for i := range ids {
		ids[i] = fmt.Sprintf("oM%05d", i)
	}
	full, err := h.sender.SendMassText(ctx, ids, "通知", "notice-8")
	if err != nil {
		t.Fatalf("%d openids: %v", MaxMassOpenIDs, err)
	}
	// The refused calls made no job: this one is the next after the first.
	if job, _ := h.emu.MassJob(full.MsgID); full.MsgID != first.MsgID+1 || job.Total != MaxMassOpenIDs {
		t.Fatalf("job %d after job %d: %+v", full.MsgID, first.MsgID, job)
	}
}

// 45015 (outside the 48-hour window) and 45047 (the window's cap) send the message to the
// next channel; no other code does.
func TestNextChannel(t *testing.T) {
	for code, want := range map[int64]bool{45015: true, 45047: true, 45065: false, 43004: false, -1: false, 0: false} {
		if got := (&APIError{Code: code}).NextChannel(); got != want {
			t.Errorf("errcode %d: NextChannel %v, want %v", code, got, want)
		}
	}
}
