package admin

// The bank's result file (CSV or XLSX: 申请编号, 结果 成功/失败, 流水号, 原因) marks approved
// claims paid or payment_failed, row by row, as finance.

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"unionbot/admin/auth"
	"unionbot/claims"
	"unionbot/storage"
	"unionbot/web"
)

// maxPaymentFile bounds the uploaded result file.
const maxPaymentFile = 5 << 20

// paymentRowError is one refused row of the result file.
type paymentRowError struct {
	Row    int    `json:"row"`
	Number string `json:"number"`
	Reason string `json:"reason"`
}

// paymentRow is what one row of the result file did: outcome paid, failed, unchanged or
// rejected (with the reason).
type paymentRow struct {
	Row        int    `json:"row"`
	Number     string `json:"number"`
	Outcome    string `json:"outcome"`
	PaymentRef string `json:"payment_ref,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// paymentReport is the answer of POST /api/v1/payments/results.
type paymentReport struct {
	Paid      int               `json:"paid"`
	Failed    int               `json:"failed"`
	Unchanged int               `json:"unchanged"` // already recorded so (the same file sent again)
	Rejected  []paymentRowError `json:"rejected"`
	Rows      []paymentRow      `json:"rows"`
}

// paymentColumns are the headers of the result file, Chinese first, with English aliases.
var paymentColumns = map[string][]string{
	"number": {"申请编号", "number"},
	"result": {"结果", "result"},
	"ref":    {"流水号", "payment_ref"},
	"reason": {"原因", "reason"},
}

func (s *Server) apiPaymentResults(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.RecordPayments, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := uploadedTable(w, r, "银行回盘文件")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	report, err := s.applyPayments(r, p, rows)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, report)
}

// uploadedTable reads the multipart field file (CSV or XLSX, at most maxPaymentFile) as rows;
// what names the file in the error ("银行回盘文件").
func uploadedTable(w http.ResponseWriter, r *http.Request, what string) ([][]string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPaymentFile+64<<10)
	file, _, err := r.FormFile("file")
	if err != nil {
		return nil, userErr(http.StatusBadRequest, "bad_file", "请选择要上传的"+what+"（CSV 或 XLSX，不超过 5 MB）。")
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxPaymentFile+1))
	if err != nil || len(data) > maxPaymentFile {
		return nil, userErr(http.StatusBadRequest, "bad_file", "文件无法读取或超过 5 MB。")
	}
	return readTable(data)
}

// readTable reads the first sheet of an XLSX file or a CSV file (UTF-8 with or without BOM,
// or GBK/GB18030 as Chinese banks write them).
func readTable(data []byte) ([][]string, error) {
	bad := userErr(http.StatusBadRequest, "bad_file", "文件不是可读取的 CSV 或 XLSX 表格。")
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return nil, bad
		}
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetName(0))
		if err != nil {
			return nil, bad
		}
		return rows, nil
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(data) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			return nil, bad
		}
		data = dec
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, bad
	}
	return rows, nil
}

// applyPayments finds the header among the first rows and applies every row after it.
func (s *Server) applyPayments(r *http.Request, p auth.Principal, rows [][]string) (paymentReport, error) {
	rep := paymentReport{Rejected: []paymentRowError{}, Rows: []paymentRow{}}
	header, col := headerOf(rows, paymentColumns, "number", "result")
	if header < 0 {
		return rep, userErr(http.StatusBadRequest, "bad_file", "文件缺少「申请编号」和「结果」列。")
	}
	cell := func(row []string, key string) string { return cellOf(row, col, key) }
	for i := header + 1; i < len(rows); i++ {
		row := rows[i]
		number, result := cell(row, "number"), cell(row, "result")
		if number == "" && result == "" {
			continue
		}
		line := i + 1
		reject := func(reason string) {
			rep.Rejected = append(rep.Rejected, paymentRowError{Row: line, Number: number, Reason: reason})
			rep.Rows = append(rep.Rows, paymentRow{Row: line, Number: number, Outcome: "rejected", Reason: reason})
		}
		var req storage.TransitionRequest
		switch result {
		case "成功":
			req = storage.TransitionRequest{To: claims.Paid, Role: claims.RoleFinance, Details: claims.Details{PaymentRef: cell(row, "ref")}}
		case "失败":
			req = storage.TransitionRequest{To: claims.PaymentFailed, Role: claims.RoleFinance, Details: claims.Details{Reason: cell(row, "reason")}}
		default:
			reject("结果应为「成功」或「失败」")
			continue
		}
		c, err := s.db.ClaimByNumber(r.Context(), number)
		if err == nil {
			err = auth.Authorize(p, auth.RecordPayments, c.UnitID)
		}
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, auth.ErrNotFound) {
			reject("未找到该申请，或它不在您的管辖范围内")
			continue
		}
		if err != nil {
			return rep, err
		}
		done := paymentRow{Row: line, Number: number, PaymentRef: req.Details.PaymentRef, Reason: req.Details.Reason}
		if c.Status == req.To && (req.To != claims.Paid || c.PaymentRef == req.Details.PaymentRef) {
			rep.Unchanged++
			done.Outcome = "unchanged"
			rep.Rows = append(rep.Rows, done)
			continue
		}
		if _, err := s.db.TransitionClaim(r.Context(), number, req, s.auditFor(r, p)); err != nil {
			var he *httpError
			if errors.As(claimErr(err), &he) {
				reject(strings.TrimSuffix(he.msg, "。"))
				continue
			}
			return rep, err
		}
		if req.To == claims.Paid {
			rep.Paid++
			done.Outcome = "paid"
		} else {
			rep.Failed++
			done.Outcome = "failed"
		}
		rep.Rows = append(rep.Rows, done)
	}
	return rep, nil
}

// maxPaymentList bounds one payment list (the claims approved and waiting for payment).
const maxPaymentList = 5000

// paymentItem is one claim to pay in the JSON payment list (card masked).
type paymentItem struct {
	Number         string     `json:"number"`
	MemberNo       string     `json:"member_no"`
	Name           string     `json:"name"`
	Unit           string     `json:"unit"`
	BankName       string     `json:"bank_name"`
	BankCardMasked string     `json:"bank_card_masked"`
	Amount         claims.Fen `json:"amount"`
}

// awaitingPayment is the approved claims within p's unit, newest first (at most
// maxPaymentList).
func (s *Server) awaitingPayment(ctx context.Context, p auth.Principal) ([]storage.Claim, error) {
	unit, _ := auth.UnitFilter(p, 0)
	var cs []storage.Claim
	var before int64
	for len(cs) < maxPaymentList {
		page, next, err := s.db.ListClaims(ctx, storage.ClaimFilter{Status: claims.Approved, UnitID: unit, Before: before, Limit: 500})
		if err != nil {
			return nil, err
		}
		cs = append(cs, page...)
		if next == 0 {
			break
		}
		before = next
	}
	return cs, nil
}

// apiPaymentList is the list of approved claims for the bank. As XLSX it reveals the card
// numbers (finance only, audited); as JSON they stay masked.
func (s *Server) apiPaymentList(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := auth.Authorize(p, auth.RecordPayments, auth.NoRecord); err != nil {
		s.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "xlsx" {
		s.fail(w, r, userErr(http.StatusBadRequest, "bad_format", "format 应为 json 或 xlsx。"))
		return
	}
	cs, err := s.awaitingPayment(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if format != "xlsx" {
		out := list[paymentItem]{Items: []paymentItem{}}
		for _, c := range cs {
			out.Items = append(out.Items, paymentItem{Number: c.Number, MemberNo: c.MemberNo, Name: c.MemberName, Unit: c.UnitName,
				BankName: c.BankName, BankCardMasked: c.BankCardMasked, Amount: c.ApprovedAmount})
		}
		web.JSON(w, http.StatusOK, out)
		return
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "发放清单"
	_ = f.SetSheetName("Sheet1", sheet)
	text, _ := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": card numbers stay text, not 6.22848E+18
	head := []any{"申请编号", "会员编号", "户名", "基层工会", "开户银行", "银行卡号", "金额（元）"}
	_ = f.SetSheetRow(sheet, "A1", &head)
	for i, c := range cs {
		card, err := s.db.ClaimBankCard(r.Context(), c.Number)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		row := []any{c.Number, c.MemberNo, c.MemberName, c.UnitName, c.BankName, card, yuan(c.ApprovedAmount)}
		cell := fmt.Sprintf("A%d", i+2)
		_ = f.SetCellStyle(sheet, fmt.Sprintf("F%d", i+2), fmt.Sprintf("F%d", i+2), text)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	_ = f.SetColWidth(sheet, "A", "F", 20)
	audit := s.auditFor(r, p)
	audit.Action, audit.Subject = "claims.payment_list", "claims"
	audit.Detail = fmt.Sprintf("导出发放清单 %d 条（含完整银行卡号）", len(cs))
	if err := s.db.AddAudit(r.Context(), audit); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="payments.xlsx"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if err := f.Write(w); err != nil {
		web.Logger(r.Context(), s.logger).ErrorContext(r.Context(), "write payment list", "err", err)
	}
}
