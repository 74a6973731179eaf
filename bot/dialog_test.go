package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"unionbot/storage/kv"
)

// testBot wires a router with a two-step form, a confirm form, a plain intent,
// a prefix command and an interrupt hook, over a real in-process kv store.
type testBot struct {
	*Bot
	mu        sync.Mutex
	submitted []map[string]string
	failNext  error
}

func newTestBot(t *testing.T) *testBot {
	t.Helper()
	store := kv.NewMemory()
	t.Cleanup(store.Close)
	tb := &testBot{}
	r := NewRouter(nil)
	r.Intent("menu", func(ctx context.Context, s *Session, in Input) (Reply, error) {
		return Text("MENU"), nil
	}, "菜单", "帮助")
	r.Form(&Form{
		Name: "signup", Title: "登记",
		Steps: []Step{
			{Key: "name", Prompt: "请输入姓名", Check: func(ctx context.Context, s *Session, v string) (string, error) {
				if strings.ContainsAny(v, "?？吗") {
					return "", Userf("姓名格式不对")
				}
				return v, nil
			}},
			{Key: "age", Prompt: "请输入年龄", Check: func(ctx context.Context, s *Session, v string) (string, error) {
				var n int
				if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n <= 0 || n > 120 {
					return "", Userf("年龄需要是1到120之间的数字")
				}
				return fmt.Sprint(n), nil
			}},
		},
		Confirm: true,
		Summary: func(d map[string]string) string { return "姓名:" + d["name"] + " 年龄:" + d["age"] },
		Submit: func(ctx context.Context, s *Session, d map[string]string) (Reply, error) {
			tb.mu.Lock()
			defer tb.mu.Unlock()
			if err := tb.failNext; err != nil {
				tb.failNext = nil
				return Reply{}, err
			}
			tb.submitted = append(tb.submitted, d)
			return Text("已提交"), nil
		},
	}, "登记")
	r.Form(&Form{
		Name: "other", Title: "其他",
		Steps: []Step{{Key: "x", Prompt: "请输入X"}},
		Submit: func(ctx context.Context, s *Session, d map[string]string) (Reply, error) {
			return Text("X=" + d["x"]), nil
		},
	}, "其他")
	r.Form(&Form{
		Name: "prefilled", Title: "预填", Confirm: true,
		Guard: func(ctx context.Context, s *Session) error {
			s.Data["who"] = "会员" + s.OpenID
			return nil
		},
		Summary: func(d map[string]string) string { return "确认对象:" + d["who"] },
		Submit: func(ctx context.Context, s *Session, d map[string]string) (Reply, error) {
			return Text("完成:" + d["who"]), nil
		},
	}, "预填")
	r.Form(&Form{
		Name: "guarded", Title: "受限",
		Guard: func(ctx context.Context, s *Session) error { return Userf("暂不可办理") },
		Steps: []Step{{Key: "x", Prompt: "?"}},
	}, "受限")
	r.Prefix("报名", func(ctx context.Context, s *Session, in Input, arg string) (Reply, error) {
		return Text("报名:" + arg), nil
	})
	r.Interrupt(func(ctx context.Context, s *Session, in Input) (Reply, bool) {
		if strings.Contains(in.Text, "会费") {
			return Text("会费答案"), true
		}
		return Reply{}, false
	})
	r.OnEvent(EventSubscribe, func(ctx context.Context, s *Session, in Input) (Reply, error) {
		return Text("欢迎"), nil
	})
	r.Fallback(func(ctx context.Context, s *Session, in Input) (Reply, error) {
		return Text("FALLBACK:" + in.Kind), nil
	})
	tb.Bot = New(Deps{Store: store, Router: r})
	return tb
}

func (tb *testBot) say(t *testing.T, openID, text string) string {
	t.Helper()
	rep, err := tb.Handle(t.Context(), Input{OpenID: openID, Kind: KindText, Text: text})
	if err != nil {
		t.Fatalf("Handle(%q): %v", text, err)
	}
	return rep.Text
}

func mustContain(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("reply %q does not contain %q", got, w)
		}
	}
}

func TestFormHappyPathWithConfirm(t *testing.T) {
	tb := newTestBot(t)
	mustContain(t, tb.say(t, "o1", "登记"), "第1/2步", "请输入姓名")
	mustContain(t, tb.say(t, "o1", "张三"), "第2/2步", "请输入年龄")
	mustContain(t, tb.say(t, "o1", "３０"), "姓名:张三 年龄:30", "确认")
	if len(tb.submitted) != 0 {
		t.Fatal("submitted before 确认")
	}
	mustContain(t, tb.say(t, "o1", "确认！"), "已提交")
	if len(tb.submitted) != 1 || tb.submitted[0]["age"] != "30" {
		t.Fatalf("submitted = %v", tb.submitted)
	}
	// The form is over: 确认 now is not a form word but falls through.
	mustContain(t, tb.say(t, "o1", "确认"), "FALLBACK")
}

func TestFormReasksWithReason(t *testing.T) {
	tb := newTestBot(t)
	tb.say(t, "o1", "登记")
	tb.say(t, "o1", "李四")
	mustContain(t, tb.say(t, "o1", "三十岁"), "年龄需要是1到120之间的数字", "请输入年龄")
	mustContain(t, tb.say(t, "o1", "200"), "年龄需要是1到120之间的数字")
	mustContain(t, tb.say(t, "o1", "45"), "年龄:45")
}

func TestFormBackAndCancel(t *testing.T) {
	tb := newTestBot(t)
	tb.say(t, "o1", "登记")
	mustContain(t, tb.say(t, "o1", "返回"), "已经是第一步", "请输入姓名")
	tb.say(t, "o1", "王五")
	mustContain(t, tb.say(t, "o1", "返回"), "请输入姓名")
	tb.say(t, "o1", "王六")
	tb.say(t, "o1", "20")
	mustContain(t, tb.say(t, "o1", "返回"), "请输入年龄")
	mustContain(t, tb.say(t, "o1", "21"), "姓名:王六 年龄:21")
	mustContain(t, tb.say(t, "o1", "取消"), "确定不办「登记」了吗")
	mustContain(t, tb.say(t, "o1", "是"), "已取消「登记」")
	mustContain(t, tb.say(t, "o1", "张三"), "FALLBACK")
	if len(tb.submitted) != 0 {
		t.Fatal("cancelled form was submitted")
	}
}

func TestFormInterruptAnswersThenReasks(t *testing.T) {
	tb := newTestBot(t)
	tb.say(t, "o1", "登记")
	got := tb.say(t, "o1", "会费怎么交吗？")
	mustContain(t, got, "会费答案", "继续办理「登记」", "请输入姓名")
	// A question nobody can answer gets the validation reason instead.
	mustContain(t, tb.say(t, "o1", "你是谁吗"), "姓名格式不对", "请输入姓名")
	mustContain(t, tb.say(t, "o1", "赵七"), "请输入年龄")
}

func TestCommandInsideForm(t *testing.T) {
	tb := newTestBot(t)
	tb.say(t, "o1", "登记")
	tb.say(t, "o1", "孙八")
	// A non-form command is answered and the pending question asked again.
	mustContain(t, tb.say(t, "o1", "菜单"), "MENU", "继续办理「登记」", "请输入年龄")
	// The same form again keeps the progress.
	mustContain(t, tb.say(t, "o1", "登记"), "您正在办理「登记」", "请输入年龄")
	// A form that refuses to start leaves the current one as it was.
	mustContain(t, tb.say(t, "o1", "受限"), "暂不可办理", "继续办理「登记」", "请输入年龄")
	// Another form replaces it.
	mustContain(t, tb.say(t, "o1", "其他"), "已退出「登记」", "请输入X")
	mustContain(t, tb.say(t, "o1", "abc"), "X=abc")
}

func TestMenuClickRoutesLikeKeyword(t *testing.T) {
	tb := newTestBot(t)
	rep, err := tb.Handle(t.Context(), Input{OpenID: "o1", Kind: KindEvent, Event: EventClick, EventKey: "signup"})
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, rep.Text, "请输入姓名")
	rep, _ = tb.Handle(t.Context(), Input{OpenID: "o1", Kind: KindEvent, Event: EventClick, EventKey: "menu"})
	mustContain(t, rep.Text, "MENU", "请输入姓名")
	rep, _ = tb.Handle(t.Context(), Input{OpenID: "o2", Kind: KindEvent, Event: EventSubscribe})
	mustContain(t, rep.Text, "欢迎")
	rep, _ = tb.Handle(t.Context(), Input{OpenID: "o2", Kind: KindEvent, Event: EventView, EventKey: "https://x"})
	if !rep.Empty() {
		t.Fatalf("VIEW got a reply %q", rep.Text)
	}
}

func TestGuardAndPrefixAndNonText(t *testing.T) {
	tb := newTestBot(t)
	mustContain(t, tb.say(t, "o1", "受限"), "暂不可办理")
	mustContain(t, tb.say(t, "o1", "报名 3"), "报名:3")
	mustContain(t, tb.say(t, "o1", "报名３"), "报名:3")
	rep, _ := tb.Handle(t.Context(), Input{OpenID: "o1", Kind: KindImage, MediaID: "m1"})
	mustContain(t, rep.Text, "FALLBACK:image")
	tb.say(t, "o1", "登记")
	rep, _ = tb.Handle(t.Context(), Input{OpenID: "o1", Kind: KindImage, MediaID: "m1"})
	mustContain(t, rep.Text, "需要您回复文字", "请输入姓名")
	rep, _ = tb.Handle(t.Context(), Input{OpenID: "o1", Kind: KindVoice, Text: "周九"})
	mustContain(t, rep.Text, "请输入年龄")
}

func TestGuardPrefillsSummary(t *testing.T) {
	tb := newTestBot(t)
	mustContain(t, tb.say(t, "o9", "预填"), "确认对象:会员o9", "确认")
	mustContain(t, tb.say(t, "o9", "什么"), "确认对象:会员o9")
	mustContain(t, tb.say(t, "o9", "确认"), "完成:会员o9")
}

func TestSubmitFailureKeepsAnswers(t *testing.T) {
	tb := newTestBot(t)
	tb.say(t, "o1", "登记")
	tb.say(t, "o1", "吴十")
	tb.say(t, "o1", "33")
	tb.failNext = errors.New("database is down")
	mustContain(t, tb.say(t, "o1", "确认"), "信息都已保存")
	if len(tb.submitted) != 0 {
		t.Fatal("failed submit recorded")
	}
	mustContain(t, tb.say(t, "o1", "随便"), "姓名:吴十 年龄:33")
	mustContain(t, tb.say(t, "o1", "确认"), "已提交")
	if len(tb.submitted) != 1 || tb.submitted[0]["name"] != "吴十" {
		t.Fatalf("submitted = %v", tb.submitted)
	}
}

func TestSessionsAreIsolatedAndSerialized(t *testing.T) {
	tb := newTestBot(t)
	tb.say(t, "a", "登记")
	mustContain(t, tb.say(t, "b", "张三"), "FALLBACK")
	mustContain(t, tb.say(t, "a", "张三"), "请输入年龄")

	// Many concurrent messages of one member: every answer lands exactly once
	// because Handle serializes per openid.
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("c%d", i%3)
			if _, err := tb.Handle(context.Background(), Input{OpenID: id, Kind: KindText, Text: "其他"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 3 {
		mustContain(t, tb.say(t, fmt.Sprintf("c%d", i), "v"), "X=v")
	}
}

func TestNormalizeCommand(t *testing.T) {
	for in, want := range map[string]string{
		"  菜单！":  "菜单",
		"菜单。。":   "菜单",
		"ＨＥＬＰ":   "help",
		"报名　 3":  "报名 3",
		"确认~":    "确认",
		"取消报名 2": "取消报名 2",
	} {
		if got := NormalizeCommand(in); got != want {
			t.Errorf("NormalizeCommand(%q) = %q, want %q", in, got, want)
		}
	}
}
