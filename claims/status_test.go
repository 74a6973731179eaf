package claims

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// want is the transition table written out independently of table: "from>to" → the roles
// that may make it. Everything else is illegal.
var want = map[string][]Role{
	"submitted>reviewing":     {RoleReviewer, RoleAdmin},
	"submitted>withdrawn":     {RoleMember},
	"reviewing>need_more":     {RoleReviewer, RoleAdmin},
	"need_more>reviewing":     {RoleMember, RoleReviewer, RoleAdmin},
	"reviewing>approved":      {RoleReviewer, RoleAdmin},
	"reviewing>rejected":      {RoleReviewer, RoleAdmin},
	"approved>paid":           {RoleFinance},
	"approved>payment_failed": {RoleFinance},
	"payment_failed>approved": {RoleMember, RoleFinance},
}

var allRoles = []Role{RoleMember, RoleReviewer, RoleAdmin, RoleFinance, "viewer", ""}

func TestTransitionEveryPair(t *testing.T) {
	legal := 0
	for _, from := range append(Statuses, "bogus") {
		for _, to := range append(Statuses, "bogus") {
			roles, ok := want[string(from)+">"+string(to)]
			for _, role := range allRoles {
				err := Transition(from, to, role)
				switch {
				case !ok:
					if !errors.Is(err, ErrIllegal) || errors.Is(err, ErrForbidden) {
						t.Errorf("%s→%s as %q: got %v, want illegal", from, to, role, err)
					}
				case slices.Contains(roles, role):
					legal++
					if err != nil {
						t.Errorf("%s→%s as %q: got %v, want allowed", from, to, role, err)
					}
				default:
					if !errors.Is(err, ErrForbidden) || errors.Is(err, ErrIllegal) {
						t.Errorf("%s→%s as %q: got %v, want forbidden", from, to, role, err)
					}
				}
			}
		}
	}
	if legal != 16 {
		t.Errorf("allowed (transition, role) pairs: got %d, want 16", legal)
	}
}

func TestTransitionErrorCarriesTheMove(t *testing.T) {
	err := Transition(Approved, Paid, RoleReviewer)
	var te *TransitionError
	if !errors.As(err, &te) || te.From != Approved || te.To != Paid || te.Role != RoleReviewer || te.Kind != ErrForbidden {
		t.Fatalf("got %#v", err)
	}
	if got := te.Error(); got != "approved → paid: role may not make this transition: reviewer" {
		t.Errorf("Error: got %q", got)
	}
	if got := te.Message(); got != "您的角色无权将申请从「审核通过」改为「已发放」" {
		t.Errorf("Message: got %q", got)
	}
	err = Transition(Paid, Approved, RoleFinance)
	if !errors.As(err, &te) || te.Kind != ErrIllegal {
		t.Fatalf("got %#v", err)
	}
	if got := te.Error(); got != "paid → approved: illegal transition" {
		t.Errorf("Error: got %q", got)
	}
	if got := te.Message(); got != "申请当前为「已发放」，不能改为「审核通过」" {
		t.Errorf("Message: got %q", got)
	}
}

func TestNext(t *testing.T) {
	cases := []struct {
		from Status
		role Role
		want []Status
	}{
		{Submitted, RoleReviewer, []Status{Reviewing}},
		{Submitted, RoleMember, []Status{Withdrawn}},
		{Reviewing, RoleAdmin, []Status{NeedMore, Approved, Rejected}},
		{Reviewing, RoleFinance, nil},
		{Approved, RoleFinance, []Status{Paid, PaymentFailed}},
		{PaymentFailed, RoleMember, []Status{Approved}},
		{Paid, RoleAdmin, nil},
	}
	for _, c := range cases {
		if got := Next(c.from, c.role); !slices.Equal(got, c.want) {
			t.Errorf("Next(%s, %s): got %v, want %v", c.from, c.role, got, c.want)
		}
	}
}

func TestStatusLabelsAndFinal(t *testing.T) {
	final := map[Status]bool{Rejected: true, Paid: true, Withdrawn: true}
	for _, s := range Statuses {
		if !s.Valid() || s.Label() == string(s) || s.Label() == "" {
			t.Errorf("%s: valid %v label %q", s, s.Valid(), s.Label())
		}
		if s.Final() != final[s] {
			t.Errorf("%s.Final(): got %v", s, s.Final())
		}
	}
	if Approved.Label() != "审核通过" || NeedMore.Label() != "待补充材料" {
		t.Errorf("labels: %q %q", Approved.Label(), NeedMore.Label())
	}
	if Status("x").Valid() || Status("x").Label() != "x" {
		t.Errorf("unknown status: valid or labelled")
	}
}

func TestCheckApprovalAfterCardCorrection(t *testing.T) {
	if err := Check(PaymentFailed, Approved, Details{}); err != nil {
		t.Errorf("payment_failed → approved without amount: %v", err)
	}
	if err := Check(Reviewing, Approved, Details{}); !errors.Is(err, ErrDetails) {
		t.Errorf("reviewing → approved without amount: %v", err)
	}
}

func TestCheckDetails(t *testing.T) {
	cases := []struct {
		to   Status
		d    Details
		want string // "" ok, else part of the message
	}{
		{Approved, Details{Amount: 1}, ""},
		{Approved, Details{Amount: 0}, "核定金额"},
		{Approved, Details{Amount: -5}, "核定金额"},
		{Rejected, Details{Reason: "不在保障期"}, ""},
		{Rejected, Details{Reason: " \t\u3000\n\r"}, "原因"},
		{PaymentFailed, Details{Reason: ""}, "原因"},
		{PaymentFailed, Details{Reason: "户名不符"}, ""},
		{NeedMore, Details{Missing: "出院小结"}, ""},
		{NeedMore, Details{}, "补充的材料"},
		{Paid, Details{PaymentRef: "B2026"}, ""},
		{Paid, Details{}, "流水号"},
		{Reviewing, Details{}, ""},
		{Withdrawn, Details{}, ""},
	}
	for _, c := range cases {
		err := Check(Reviewing, c.to, c.d)
		if c.want == "" {
			if err != nil {
				t.Errorf("Check(%s, %+v): got %v", c.to, c.d, err)
			}
			continue
		}
		var de *DetailsError
		if !errors.Is(err, ErrDetails) || !errors.As(err, &de) || !strings.Contains(de.Message(), c.want) ||
			!strings.HasPrefix(err.Error(), "transition details: ") {
			t.Errorf("Check(%s, %+v): got %v, want %q", c.to, c.d, err, c.want)
		}
	}
}

func TestNotice(t *testing.T) {
	const n = "HZ20261124-0007"
	card := "**** **** **** 1234"
	cases := []struct {
		from, to Status
		d        Details
		want     string
	}{
		{"", Submitted, Details{}, "您的互助金申请已提交，申请编号 HZ20261124-0007。我们会尽快审核，结果会通知您；发送「进度 HZ20261124-0007」可随时查看。"},
		{Submitted, Reviewing, Details{}, "您的互助金申请 HZ20261124-0007 已进入审核。"},
		{NeedMore, Reviewing, Details{}, "您补充的材料已收到，互助金申请 HZ20261124-0007 继续审核。"},
		{Reviewing, NeedMore, Details{Missing: "出院小结"}, "您的互助金申请 HZ20261124-0007 需要补充材料：出院小结。请发送「补充材料」，按提示拍照上传，全部发完后回复「好了」。"},
		{Reviewing, Approved, Details{}, "您的互助金申请 HZ20261124-0007 已审核通过，核定金额 3300.00 元，将发放到您尾号1234的银行卡。"},
		{PaymentFailed, Approved, Details{}, "您的银行卡信息已更正，互助金申请 HZ20261124-0007 将重新发放 3300.00 元。"},
		{Reviewing, Rejected, Details{Reason: "不在保障期内"}, "很遗憾，您的互助金申请 HZ20261124-0007 未通过审核。原因：不在保障期内。如有疑问，请发送「人工」联系工作人员。"},
		{Approved, Paid, Details{PaymentRef: "B001"}, "您的互助金 3300.00 元已发放（申请编号 HZ20261124-0007，银行流水号 B001），请注意查收。"},
		{Approved, PaymentFailed, Details{Reason: "户名不符"}, "您的互助金申请 HZ20261124-0007 发放失败：户名不符。请发送「进度 HZ20261124-0007」并按提示更正银行卡信息。"},
		{Submitted, Withdrawn, Details{}, "您已撤回互助金申请 HZ20261124-0007。如需重新申请，请发送「互助金」。"},
		{Submitted, "odd", Details{}, "您的互助金申请 HZ20261124-0007 状态已更新为「odd」。"},
	}
	for _, c := range cases {
		if got := Notice(n, c.from, c.to, Yuan(3300), card, c.d); got != c.want {
			t.Errorf("%s→%s:\ngot  %s\nwant %s", c.from, c.to, got, c.want)
		}
	}
	if got := Notice(n, Reviewing, Approved, 1, "12", Details{}); got != "您的互助金申请 HZ20261124-0007 已审核通过，核定金额 0.01 元，将发放到您的银行卡。" {
		t.Errorf("short card: %s", got)
	}
	if got := lastDigits("1234"); got != "尾号1234" {
		t.Errorf("lastDigits(1234): %q", got)
	}
}
