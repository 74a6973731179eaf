package parse

import (
	"strconv"
	"strings"
)

// MaxFen bounds an amount (one hundred million 元): anything larger is a
// typing slip, and the bound keeps every sum of amounts far from overflow.
const MaxFen int64 = 100_000_000 * 100

// Reasons for amounts a member gets.
const (
	msgMoneyFormat   = "金额格式不对，请只回复数字，例如：3500 或 3500.50"
	msgMoneyDecimals = "金额最多到分（小数点后两位），例如：3500.50"
	msgMoneyTooLarge = "金额太大了，请再核对一下"
	msgMoneyNegative = "金额不能是负数，请再核对一下"
)

// Money reads an amount of money and returns it in fen (分): 3500, 3,500.50,
// 3500元, 3500.5元, ¥3500, 3500块, 1.2万, 三千五百元, 三千五, 一万二千元五角.
// On failure the error is an *Error whose message can be shown as is.
func Money(s string) (int64, error) {
	s = clean(s)
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "负") {
		return 0, fail(msgMoneyNegative)
	}
	s = strings.TrimLeft(s, "¥￥")
	s = strings.TrimPrefix(s, "rmb")
	s = strings.TrimPrefix(s, "人民币")
	s = strings.TrimSuffix(s, "rmb")
	s = strings.TrimSuffix(s, "整")
	s = strings.TrimSuffix(s, "钱")
	if s == "" {
		return 0, fail(msgMoneyFormat)
	}
	// Arabic numerals, maybe with thousands separators, a decimal point, a
	// unit (元, 块) and 万.
	ascii := strings.NewReplacer(",", "", "，", "", "、", "").Replace(s)
	ascii = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(ascii, "元"), "块"), "圆")
	wan := false
	if rest, ok := strings.CutSuffix(ascii, "万"); ok {
		ascii, wan = rest, true
	}
	if fen, ok, err := decimalFen(ascii, wan); ok || err != nil {
		return fen, err
	}
	// Chinese numerals: 三千五百元五角六分, 三千五, 一万二.
	return cnMoney(s)
}

// decimalFen reads "3500", "3500.5" or "1.2" (× 10,000 when wan). ok is
// false when s is not written in digits at all.
func decimalFen(s string, wan bool) (int64, bool, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && hasDot {
		whole = "0"
	}
	w, ok := digits(whole)
	if !ok {
		return 0, false, nil
	}
	if hasDot {
		if _, ok := digits(frac); !ok {
			return 0, true, fail(msgMoneyFormat)
		}
	}
	scale := int64(100)
	maxFrac := 2
	if wan {
		scale, maxFrac = 1_000_000, 6
	}
	if len(frac) > maxFrac {
		return 0, true, fail(msgMoneyDecimals)
	}
	if w > MaxFen/scale {
		return 0, true, fail(msgMoneyTooLarge)
	}
	fen := w * scale
	if frac != "" {
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", maxFrac-len(frac)), 10, 64)
		fen += f
	}
	if fen > MaxFen {
		return 0, true, fail(msgMoneyTooLarge)
	}
	return fen, true, nil
}

// cnMoney reads an amount in Chinese numerals: the 元 part, then optional
// 角 (毛) and 分.
func cnMoney(s string) (int64, error) {
	yuanPart, rest := s, ""
	if strings.ContainsAny(s, "角毛分") && !strings.ContainsAny(s, "元块圆") {
		yuanPart, rest = "", s // "五毛"
	}
	for _, sep := range []string{"元", "块", "圆"} {
		if i := strings.Index(s, sep); i >= 0 {
			yuanPart, rest = s[:i], s[i+len(sep):]
			break
		}
	}
	var fen int64
	if yuanPart != "" {
		n, ok := cnInt(yuanPart)
		if !ok {
			return 0, fail(msgMoneyFormat)
		}
		if n > MaxFen/100 {
			return 0, fail(msgMoneyTooLarge)
		}
		fen = n * 100
	}
	if rest != "" {
		jiao, fenPart := rest, ""
		for _, sep := range []string{"角", "毛"} {
			if i := strings.Index(rest, sep); i >= 0 {
				jiao, fenPart = rest[:i], rest[i+len(sep):]
				break
			}
		}
		if jiao == rest { // no 角: "三千五百元五" = 5 角, or "…零五分"
			jiao = ""
			fenPart = rest
		}
		if jiao != "" {
			n, ok := cnInt(strings.TrimPrefix(jiao, "零"))
			if !ok || n > 9 {
				return 0, fail(msgMoneyFormat)
			}
			fen += n * 10
		}
		if fenPart = strings.TrimPrefix(strings.TrimSuffix(fenPart, "分"), "零"); fenPart != "" {
			n, ok := cnInt(fenPart)
			if !ok || n > 9 {
				return 0, fail(msgMoneyFormat)
			}
			if jiao == "" && !strings.HasSuffix(rest, "分") {
				n *= 10 // "三千五百元五" is 5 角
			}
			fen += n
		}
	} else if yuanPart == "" {
		return 0, fail(msgMoneyFormat)
	}
	if fen > MaxFen { // 一亿元 and some 角: over the bound like 100000000.50
		return 0, fail(msgMoneyTooLarge)
	}
	return fen, nil
}

// FormatMoney writes fen the way people read an amount: 1,380.00 元.
func FormatMoney(fen int64) string { return FormatFen(fen) + " 元" }

// FormatFen writes fen as 1,380.00 (no unit).
func FormatFen(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	whole := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	b.WriteByte('.')
	c := fen % 100
	b.WriteByte(byte('0' + c/10))
	b.WriteByte(byte('0' + c%10))
	return b.String()
}

// Yes/no words. A bare number is not an answer: "1" might be meant for
// something else.
var (
	yesWords = []string{"是", "是的", "是啊", "对", "对的", "对啊", "好", "好的", "好啊", "好吧", "行", "行的", "可以",
		"嗯", "嗯嗯", "恩", "确认", "确定", "同意", "要", "需要", "有", "继续", "ok", "okay", "yes", "y", "没问题", "没错"}
	noWords = []string{"否", "不", "不是", "不对", "不好", "不行", "不可以", "不用", "不用了", "不要", "不要了",
		"不需要", "不同意", "没有", "没", "无", "算了", "no", "n", "不了", "不确认", "不继续"}
)

// YesNo reads a yes or a no (是/否/好的/对/确认/不用了/不/没有…). ok is false
// when the text is neither.
func YesNo(s string) (yes bool, ok bool) {
	s = clean(s)
	s = strings.TrimRight(s, "?？!！。.~")
	for _, w := range yesWords {
		if s == w {
			return true, true
		}
	}
	for _, w := range noWords {
		if s == w {
			return false, true
		}
	}
	return false, false
}

// MsgYesNo is the reason to give when YesNo could not read an answer.
const MsgYesNo = "请回复“是”或“否”"
