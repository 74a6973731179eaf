package admin

import (
	"testing"

	"unionbot/claims"
	"unionbot/storage"
)

// TestReportAmount: the amounts of the report's sentence, written as the source report
// writes them ("共发放互助金5.5万余元").
func TestReportAmount(t *testing.T) {
	for _, tc := range []struct {
		fen  claims.Fen
		want string
	}{
		{0, "0元"},
		{claims.Yuan(3000), "3,000元"},
		{300050, "3,000.50元"},
		{claims.Yuan(9999) + 99, "9,999.99元"},
		{claims.Yuan(10000), "1万元"},
		{claims.Yuan(50000), "5万元"},
		{claims.Yuan(55000), "5.5万元"},
		{claims.Yuan(55321), "5.5万余元"},
		{claims.Yuan(55000) + 1, "5.5万余元"},
		{claims.Yuan(601800), "60.1万余元"},
		{claims.Yuan(1200000), "120万元"},
	} {
		if got := reportAmount(tc.fen); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.fen, got, tc.want)
		}
	}
	y := storage.Yearly{Year: 2025, UnitsWithClaims: 40, Total: storage.UnitYear{Claims: 72, Claimants: 70, Paid: claims.Yuan(55321)}}
	if got := yearlySummary(y); got != "2025年度，40家单位的70名职工办理了互助金申领手续，共发放互助金5.5万余元。" {
		t.Errorf("summary: %q", got)
	}
	if got := yearlySummary(storage.Yearly{Year: 2027}); got != "2027年度还没有职工办理互助金申领手续。" {
		t.Errorf("empty year: %q", got)
	}
}
