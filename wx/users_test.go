package wx

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"unionbot/localwx"
)

// The follower list is read page by page from next_openid until a page comes back empty.
func TestListFollowersPages(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Plain})
	want := []string{"oF1", "oF2", "oF3", "oF4", "oF5"}
	h.emu.SetFollowers(want)
	h.emu.SetUserPageSize(2)
	var got []string
	next := ""
	for range 10 {
		p, err := h.sender.ListFollowers(t.Context(), next)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != len(want) || p.Count != len(p.OpenIDs) {
			t.Fatalf("page after %q: %+v", next, p)
		}
		if len(p.OpenIDs) == 0 {
			break
		}
		got, next = append(got, p.OpenIDs...), p.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("followers %v, want %v", got, want)
	}
}

// Tags and a tag's followers (paged); an unknown tag is WeChat's errcode, named with the tag.
func TestTagsAndTagFollowers(t *testing.T) {
	h := newWXHarness(t, wxHarnessOptions{mode: localwx.Plain})
	h.emu.SetTag(101, "城关镇", []string{"oT1", "oT2", "oT3"})
	h.emu.SetTag(102, "电力公司", nil)
	h.emu.SetUserPageSize(2)
	tags, err := h.sender.Tags(t.Context())
	if err != nil || !slices.Equal(tags, []Tag{{ID: 101, Name: "城关镇", Count: 3}, {ID: 102, Name: "电力公司", Count: 0}}) {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	p, err := h.sender.TagFollowers(t.Context(), 101, "")
	if err != nil || !slices.Equal(p.OpenIDs, []string{"oT1", "oT2"}) || p.Count != 2 || p.Next != "oT2" {
		t.Fatalf("first page: %+v %v", p, err)
	}
	p, err = h.sender.TagFollowers(t.Context(), 101, p.Next)
	if err != nil || !slices.Equal(p.OpenIDs, []string{"oT3"}) {
		t.Fatalf("second page: %+v %v", p, err)
	}
	_, err = h.sender.TagFollowers(t.Context(), 9, "")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 45159 || !strings.HasPrefix(err.Error(), "tag 9: ") {
		t.Fatalf("unknown tag: %v", err)
	}
}
