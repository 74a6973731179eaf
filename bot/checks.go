package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"unionbot/parse"
)

// Ready-made step checks and renderings for what forms ask most: dates,
// amounts, yes/no and a numbered choice. They keep values in one plain form
// (dates 2026-11-03, amounts integer fen such as "350000", yes/no 是/否) and
// show them the way people read them (2026年11月3日, 3,500.00 元).

type clockKey struct{}

func withClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// WithClock makes now the clock of the checks run with ctx outside a routed message (the
// console checking a claim entered on a member's behalf with the chat form's steps).
func WithClock(ctx context.Context, now func() time.Time) context.Context { return withClock(ctx, now) }

// Now is the router's clock as seen by checks and handlers (injected in
// tests), or time.Now outside a routed message.
func Now(ctx context.Context) time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok && now != nil {
		return now()
	}
	return time.Now()
}

// DateRule constrains a date step.
type DateRule struct {
	// NotFuture refuses a date after today.
	NotFuture bool
	// NotBefore names the key of an earlier date answer this one may not
	// precede (discharge after admission), and how to call it.
	NotBefore, NotBeforeLabel string
	// Earliest refuses dates before it (a cover period), with Why as the
	// reason when set.
	Earliest time.Time
	Why      string
}

// CheckDate reads a date (parse.Date) and keeps it as 2026-11-03.
func CheckDate(rule DateRule) func(ctx context.Context, s *Session, v string) (string, error) {
	return func(ctx context.Context, s *Session, v string) (string, error) {
		today := Now(ctx)
		d, err := parse.Date(v, today)
		if err != nil {
			return "", Userf(err.Error())
		}
		t := today.In(parse.China)
		todayDate := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		if rule.NotFuture && d.After(todayDate) {
			return "", Userf(fmt.Sprintf("%s还没到，请再看一下日期", parse.FormatDate(d)))
		}
		if rule.NotBefore != "" {
			if prev, ok := parse.ParseISODate(s.Data[rule.NotBefore]); ok && d.Before(prev) {
				return "", Userf(fmt.Sprintf("不能早于%s（%s），请再看一下日期", rule.NotBeforeLabel, parse.FormatShortDate(prev)))
			}
		}
		if !rule.Earliest.IsZero() && d.Before(rule.Earliest) {
			why := rule.Why
			if why == "" {
				why = fmt.Sprintf("日期不能早于%s", parse.FormatDate(rule.Earliest))
			}
			return "", Userf(why)
		}
		return parse.ISODate(d), nil
	}
}

// ShowDate renders a kept date as 2026年11月3日.
func ShowDate(v string) string {
	if d, ok := parse.ParseISODate(v); ok {
		return parse.FormatDate(d)
	}
	return v
}

// MoneyRule constrains an amount step.
type MoneyRule struct {
	// Positive refuses 0.
	Positive bool
	// NotAbove names the key of an earlier amount this one may not exceed
	// (out-of-pocket ≤ total), and how to call it.
	NotAbove, NotAboveLabel string
}

// CheckMoney reads an amount (parse.Money) and keeps it as integer fen.
func CheckMoney(rule MoneyRule) func(ctx context.Context, s *Session, v string) (string, error) {
	return func(ctx context.Context, s *Session, v string) (string, error) {
		fen, err := parse.Money(v)
		if err != nil {
			return "", Userf(err.Error())
		}
		if rule.Positive && fen == 0 {
			return "", Userf("金额不能是0，请再核对一下")
		}
		if rule.NotAbove != "" {
			if limit, err := strconv.ParseInt(s.Data[rule.NotAbove], 10, 64); err == nil && fen > limit {
				return "", Userf(fmt.Sprintf("不能多于%s（%s），请再核对一下", rule.NotAboveLabel, parse.FormatMoney(limit)))
			}
		}
		return strconv.FormatInt(fen, 10), nil
	}
}

// ShowMoney renders kept fen as 3,500.00 元.
func ShowMoney(v string) string {
	if fen, err := strconv.ParseInt(v, 10, 64); err == nil {
		return parse.FormatMoney(fen)
	}
	return v
}

// Fen reads an amount a CheckMoney step kept.
func Fen(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// CheckYesNo reads a yes or a no and keeps 是 or 否.
func CheckYesNo(ctx context.Context, s *Session, v string) (string, error) {
	yes, ok := parse.YesNo(v)
	if !ok {
		return "", Userf(parse.MsgYesNo)
	}
	if yes {
		return "是", nil
	}
	return "否", nil
}

// CheckChoice accepts the number of an option (1-based) or its text, and
// keeps the option's text.
func CheckChoice(options ...string) func(ctx context.Context, s *Session, v string) (string, error) {
	return func(ctx context.Context, s *Session, v string) (string, error) {
		v = NormalizeCommand(v)
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(options) {
			return options[n-1], nil
		}
		for _, o := range options {
			if v == NormalizeCommand(o) {
				return o, nil
			}
		}
		return "", Userf(fmt.Sprintf("请回复 1 到 %d 之间的序号", len(options)))
	}
}

// Choices writes a numbered list of options for a prompt.
func Choices(options ...string) string {
	var b strings.Builder
	for i, o := range options {
		fmt.Fprintf(&b, "\n%d. %s", i+1, o)
	}
	return b.String()
}
