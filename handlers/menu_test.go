package handlers_test

import (
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"

	"unionbot/bot"
	"unionbot/handlers"
	"unionbot/storage/storagetest"
)

// WeChat's limits: at most 3 top-level buttons of at most 4 Chinese
// characters, at most 5 sub-buttons of at most 8 (as our brief sets them).
func TestMenuJSONValid(t *testing.T) {
	raw := handlers.MenuJSON()
	if !json.Valid(raw) {
		t.Fatalf("menu.json is not valid JSON")
	}
	m, err := handlers.ParseMenu(raw)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.Button); n < 1 || n > 3 {
		t.Errorf("%d top-level buttons, want 1..3", n)
	}
	db := storagetest.Embedded(t)
	r := bot.NewRouter(nil)
	if _, err := handlers.Register(r, handlers.Deps{Store: db, KV: memoryKV(t)}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, top := range m.Button {
		if n := utf8.RuneCountInString(top.Name); n == 0 || n > 4 {
			t.Errorf("top button %q: %d characters, want 1..4", top.Name, n)
		}
		if n := len(top.SubButton); n < 1 || n > 5 {
			t.Errorf("top button %q: %d sub-buttons, want 1..5", top.Name, n)
		}
		for _, b := range top.SubButton {
			if n := utf8.RuneCountInString(b.Name); n == 0 || n > 8 {
				t.Errorf("button %q: %d characters, want 1..8", b.Name, n)
			}
			if b.Type != "click" {
				t.Errorf("button %q: type %q, want click", b.Name, b.Type)
			}
			if !r.HasIntent(b.Key) {
				t.Errorf("button %q: key %q is not a registered intent", b.Name, b.Key)
			}
			if slices.Contains(keys, b.Key) {
				t.Errorf("button %q: key %q used twice", b.Name, b.Key)
			}
			keys = append(keys, b.Key)
		}
	}
	if got := handlers.MenuKeys(); !slices.Equal(got, keys) {
		t.Errorf("MenuKeys() = %v, want %v", got, keys)
	}
	// Every intent a member can use from the menu brief is on it.
	for _, k := range []string{"bind", "my_info", "mutual_aid", "unbind", "claim", "legal_aid", "progress",
		"faq", "activities", "human", "menu"} {
		if !slices.Contains(keys, k) {
			t.Errorf("menu lacks %q", k)
		}
	}
	// MenuJSON hands out a copy.
	raw[0] = 'x'
	if !json.Valid(handlers.MenuJSON()) {
		t.Error("MenuJSON returned the embedded slice itself")
	}
}

// TestMenuClickRoutesLikeKeyword: a click on each menu button answers what
// typing its keyword answers.
func TestMenuClickRoutesLikeKeyword(t *testing.T) {
	typed := map[string]string{
		"bind": "绑定", "my_info": "我的信息", "mutual_aid": "互助保障", "unbind": "解绑", "claim": "互助金",
		"legal_aid": "法律援助", "progress": "进度", "faq": "常见问题", "activities": "活动", "human": "人工",
		"menu": "菜单", "notices_off": "退订", "notices_on": "订阅",
	}
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		f.seedFAQs()
		const bound = "oid-click-bound"
		f.bind(bound, zhang)
		for _, key := range append(handlers.MenuKeys(), "notices_off", "notices_on") {
			kw, ok := typed[key]
			if !ok {
				t.Errorf("no keyword known for menu key %q", key)
				continue
			}
			for _, who := range []string{"unbound", bound} {
				clicker, typer := who, who
				if who == "unbound" {
					clicker, typer = "oid-click-"+key, "oid-type-"+key
				}
				clicked := f.click(clicker, key)
				if who == bound {
					f.say(bound, "取消") // leave whatever form the click opened
				}
				typedRep := f.say(typer, kw)
				if who == bound {
					f.say(bound, "取消")
				}
				if clicked == "" || clicked != typedRep {
					t.Errorf("%s, %s: click %q answered\n%s\nbut typing %q answered\n%s", key, who, key, clicked, kw, typedRep)
				}
			}
		}
		mustContain(t, f.click("oid-click-unknown", "no_such_key"), "服务菜单")
	})
}
