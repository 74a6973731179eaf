package localwx

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
)

// The user list API of the emulator: user/get paged by next_openid, tags/get and
// user/tag/get, so sync-followers can be run against it.

// Paths of the user list API.
const (
	PathUserGet  = "/cgi-bin/user/get"
	PathTagsGet  = "/cgi-bin/tags/get"
	PathTagUsers = "/cgi-bin/user/tag/get"
)

// DefaultUserPage is WeChat's page size of user/get.
const DefaultUserPage = 10000

// followerList is the follower list the emulator serves; kept beside the Emulator
// (registered by SetFollowers) so the core type stays as it is.
type followerList struct {
	mu       sync.Mutex
	openIDs  []string // in follow order
	tags     map[int64]emuTag
	pageSize int
}

type emuTag struct {
	Name    string
	OpenIDs []string
}

var followerLists sync.Map // *Emulator → *followerList

func (e *Emulator) followers() *followerList {
	v, _ := followerLists.LoadOrStore(e, &followerList{tags: map[int64]emuTag{}, pageSize: DefaultUserPage})
	return v.(*followerList)
}

// SetFollowers sets the follower list user/get pages through.
func (e *Emulator) SetFollowers(openIDs []string) {
	f := e.followers()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.openIDs = slices.Clone(openIDs)
}

// SetTag sets user tag id with its name and followers.
func (e *Emulator) SetTag(id int64, name string, openIDs []string) {
	f := e.followers()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tags[id] = emuTag{Name: name, OpenIDs: slices.Clone(openIDs)}
}

// SetUserPageSize sets how many openids a page holds (tests page across small lists).
func (e *Emulator) SetUserPageSize(n int) {
	f := e.followers()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSize = max(n, 1)
}

// page returns the openids after next, as WeChat pages them.
func (f *followerList) page(list []string, next string) (out []string, nextID string) {
	start := 0
	if next != "" {
		i := slices.Index(list, next)
		if i < 0 {
			return nil, ""
		}
		start = i + 1
	}
	end := min(start+f.pageSize, len(list))
	out = list[start:end]
	if len(out) > 0 {
		nextID = out[len(out)-1]
	}
	return out, nextID
}

func (e *Emulator) routeUsers(path string) (http.HandlerFunc, bool) {
	switch path {
	case PathUserGet:
		return e.handleUserGet, true
	case PathTagsGet:
		return e.handleTagsGet, true
	case PathTagUsers:
		return e.handleTagUsers, true
	}
	return nil, false
}

func (e *Emulator) handleUserGet(w http.ResponseWriter, r *http.Request) {
	f := e.followers()
	f.mu.Lock()
	defer f.mu.Unlock()
	ids, next := f.page(f.openIDs, r.URL.Query().Get("next_openid"))
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, map[string]any{"total": len(f.openIDs), "count": len(ids),
		"data": map[string]any{"openid": ids}, "next_openid": next})
}

func (e *Emulator) handleTagsGet(w http.ResponseWriter, _ *http.Request) {
	f := e.followers()
	f.mu.Lock()
	defer f.mu.Unlock()
	type tag struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tags := []tag{}
	for id, t := range f.tags {
		tags = append(tags, tag{ID: id, Name: t.Name, Count: len(t.OpenIDs)})
	}
	slices.SortFunc(tags, func(a, b tag) int { return int(a.ID - b.ID) })
	writeJSON(w, map[string]any{"tags": tags})
}

func (e *Emulator) handleTagUsers(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TagID int64  `json:"tagid"`
		Next  string `json:"next_openid"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		e.writeErr(w, ErrEmptyPostData, "")
		return
	}
	f := e.followers()
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tags[req.TagID]
	if !ok {
		e.writeErr(w, 45159, "invalid tag id")
		return
	}
	ids, next := f.page(t.OpenIDs, req.Next)
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, map[string]any{"count": len(ids), "data": map[string]any{"openid": ids}, "next_openid": next})
}
