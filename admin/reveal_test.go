package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"unionbot/admin/auth"
	"unionbot/storage"
)

// 显示完整身份证号 on the member page: an admin gives a reason and sees the number once, with
// the audit row; a reviewer never sees the button and is refused by URL; another unit's
// admin gets 404; the page shows the number masked again afterwards.
func TestRevealIDNumber(t *testing.T) {
	const fullID, masked = "11010119900307123X", "1101**********123X"
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db, store := be.open(t)
			e := newEnv(t, db, store)
			e.officer("adm", []auth.Role{auth.RoleAdmin}, 0)
			e.officer("admb", []auth.Role{auth.RoleAdmin}, e.unitB.ID)
			e.officer("rev", []auth.Role{auth.RoleReviewer, auth.RoleFinance, auth.RoleLegal, auth.RolePublisher, auth.RoleViewer}, 0)
			m, err := db.MemberByNo(t.Context(), "A1")
			if err != nil {
				t.Fatal(err)
			}
			reveals := func() int {
				t.Helper()
				es, err := db.AuditEntries(t.Context(), fmt.Sprintf("member:%d", m.ID), 50)
				if err != nil {
					t.Fatal(err)
				}
				return countRevealRows(es)
			}
			const path = "/admin/members/A1/reveal-id"

			rev := e.browser()
			rev.mustLogin("rev")
			if _, _, body := rev.get("/admin/members/A1"); !strings.Contains(body, masked) || strings.Contains(body, "reveal-id") || strings.Contains(body, "显示完整身份证号") {
				t.Fatalf("reviewer's member page offers the reveal:\n%s", body)
			}
			if code, _, body := rev.post(path, url.Values{"reason": {"想看看"}}); code != http.StatusForbidden || strings.Contains(body, fullID) {
				t.Fatalf("reviewer reveal by URL: %d", code)
			}

			admb := e.browser()
			admb.mustLogin("admb")
			if code, _, body := admb.post(path, url.Values{"reason": {"核对"}}); code != http.StatusNotFound || strings.Contains(body, fullID) {
				t.Fatalf("another unit's admin: %d", code)
			}

			adm := e.browser()
			adm.mustLogin("adm")
			if _, _, body := adm.get("/admin/members/A1"); !strings.Contains(body, `id="reveal-id"`) || strings.Contains(body, fullID) {
				t.Fatalf("admin's member page: no button, or the number in clear:\n%s", body)
			}
			if code, _, body := adm.post(path, url.Values{"reason": {"  "}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "请填写查看原因") || strings.Contains(body, fullID) {
				t.Fatalf("reveal without a reason: %d\n%s", code, body)
			}
			if n := reveals(); n != 0 {
				t.Fatalf("%d reveal rows before any reveal", n)
			}
			code, _, body := adm.post(path, url.Values{"reason": {"会员到窗口办理，核对纸质申请表"}})
			if code != http.StatusOK || !strings.Contains(body, `<span id="full-id">`+fullID+`</span>`) || !strings.Contains(body, "只显示这一次") {
				t.Fatalf("reveal: %d\n%s", code, body)
			}
			if n := reveals(); n != 1 {
				t.Fatalf("%d reveal rows after one reveal", n)
			}
			es, _ := db.AuditEntries(t.Context(), fmt.Sprintf("member:%d", m.ID), 50)
			for _, a := range es {
				if a.Action == "member.id.reveal" && (a.Actor != "officer:adm" || a.RequestID == "" || a.ClientAddr == "" ||
					!strings.Contains(a.Detail, "核对纸质申请表") || strings.Contains(a.Detail, fullID)) {
					t.Errorf("audit row: %+v", a)
				}
			}
			if _, _, body := adm.get("/admin/members/A1"); strings.Contains(body, fullID) || !strings.Contains(body, "查看完整身份证号") {
				t.Fatalf("the page after the reveal: number still shown, or the history lacks the reveal:\n%s", body)
			}
		})
	}
}

func countRevealRows(es []storage.AuditEntry) int {
	n := 0
	for _, a := range es {
		if a.Action == "member.id.reveal" {
			n++
		}
	}
	return n
}
