package roster

import (
	"fmt"
	"strings"
	"testing"

	"unionbot/storage"
)

// Names binding would refuse are row errors: a member imported under one could never bind
// (binding compares what the member types, after pii.NormalizeName, against the roster).
func TestNamesThatCannotBindAreRejected(t *testing.T) {
	cases := []struct {
		name   string
		ok     bool
		reason string
	}{
		{"张三", true, ""},
		{"阿依古丽·买买提", true, ""},
		{"阿依古丽•买买提", true, ""}, // a dot look-alike: normalised
		{"ZHANG San", true, ""},
		{"欧阳 修远", true, ""},
		{"张三😀", false, "表情"},
		{"张三✓", false, "符号"},
		{"王_五", false, "符号"},
		{"李4", false, "数字"},
		{"·张三", false, "间隔号"},
		{"张", false, "2到20个字"},
		{"怎么绑定", false, "提问"},
		{"查一下我的保障", false, "一句话"},
		{"你好", false, "一句话"},
	}
	var b strings.Builder
	b.WriteString("会员编号,姓名,身份证号,所属工会\n")
	for i, tc := range cases {
		fmt.Fprintf(&b, "A%03d,%s,%s,城关电力公司工会\n", i, tc.name, testID(t, i))
	}
	rep, err := dryRun(t, []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	byRow := map[int]RowError{}
	for _, e := range rep.Errors {
		byRow[e.Row] = e
	}
	for i, tc := range cases {
		e, rejected := byRow[i+2] // row 1 is the header
		switch {
		case tc.ok && rejected:
			t.Errorf("%q: rejected (%s), want accepted", tc.name, e.Reason)
		case !tc.ok && !rejected:
			t.Errorf("%q: accepted, want a row error", tc.name)
		case !tc.ok && (e.Column != "姓名" || !strings.Contains(e.Reason, tc.reason)):
			t.Errorf("%q: got column %q reason %q, want 姓名 and a reason saying %q", tc.name, e.Column, e.Reason, tc.reason)
		}
		if tc.ok {
			if _, why := storage.BindableName(tc.name); why != storage.NameOK {
				t.Errorf("%q accepted by the import but not bindable (%d)", tc.name, why)
			}
		}
	}
}

// testID returns a valid ID number, distinct for each i.
func testID(t *testing.T, i int) string {
	t.Helper()
	d17 := fmt.Sprintf("11010519900101%03d", i)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for j, w := range weights {
		sum += int(d17[j]-'0') * w
	}
	return d17 + string("10X98765432"[sum%11])
}
