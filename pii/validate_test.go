package pii

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// idEndingInX finds a valid number whose check character is X.
func idEndingInX(t *testing.T) string {
	t.Helper()
	for seq := range 1000 {
		id := withCheck(fmt.Sprintf("44030619851120%03d", seq))
		if id[17] == 'X' {
			return id
		}
	}
	t.Fatal("no X check character in 1000 sequence numbers")
	return ""
}

func TestWithCheckKnownVector(t *testing.T) {
	// The example number printed in GB 11643-1999.
	if got := withCheck("11010519491231002"); got != "11010519491231002X" {
		t.Fatalf("test helper withCheck = %s, want 11010519491231002X", got)
	}
}

func TestValidateIDNumber(t *testing.T) {
	valid := withCheck("11010119900307123")
	x := idEndingInX(t)
	tomorrow := time.Now().In(chinaTime).AddDate(0, 0, 1).Format("20060102")
	today := time.Now().In(chinaTime).Format("20060102")
	tests := []struct {
		name string
		in   string
		want string // "" = valid; otherwise the exact message
	}{
		{"valid", valid, ""},
		{"standard's example", "11010519491231002X", ""},
		{"ends in X", x, ""},
		{"lower-case x", strings.ToLower(x), ""},
		{"full-width digits", toFullWidth(valid), ""},
		{"surrounding and inner spaces", "  " + valid[:6] + " " + valid[6:14] + " " + valid[14:] + " ", ""},
		{"born today", withCheck("110101" + today + "001"), ""},
		{"born 1900-01-01", withCheck("11010119000101001"), ""},
		{"leap day", withCheck("11010120000229001"), ""},
		{"empty", "  ", "请输入身份证号"},
		{"too short", valid[:17], "身份证号应为18位，您输入的是17位"},
		{"too long", valid + "1", "身份证号应为18位，您输入的是19位"},
		{"15-digit old form", "110101900307123", "身份证号应为18位，您输入的是15位"},
		{"letter inside", valid[:5] + "A" + valid[6:], "身份证号前17位应为数字，最后一位为数字或X"},
		{"letter at the end", valid[:17] + "Y", "身份证号前17位应为数字，最后一位为数字或X"},
		{"chinese character", valid[:17] + "号", "身份证号前17位应为数字，最后一位为数字或X"},
		{"wrong check digit", wrongCheck(valid[:17]), "身份证号校验位不正确，请核对后重新输入"},
		{"X where a digit belongs", wrongCheck("11010119900307123"), "身份证号校验位不正确，请核对后重新输入"},
		{"month 13", withCheck("11010119901307123"), "身份证号中的出生日期不正确"},
		{"day 00", withCheck("11010119900300123"), "身份证号中的出生日期不正确"},
		{"february 30", withCheck("11010119900230123"), "身份证号中的出生日期不正确"},
		{"not a leap year", withCheck("11010119000229001"), "身份证号中的出生日期不正确"},
		{"before 1900", withCheck("11010118991231001"), "身份证号中的出生日期不正确"},
		{"born tomorrow", withCheck("110101" + tomorrow + "001"), "身份证号中的出生日期不正确"},
		{"far future", withCheck("11010130000101001"), "身份证号中的出生日期不正确"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateIDNumber(tc.in)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("ValidateIDNumber(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '!' && r <= '~' {
			return r + 0xFEE0
		}
		return r
	}, s)
}

func TestNormalizeIDNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "11010519491231002X"},
		{" 11010519491231002x\n", "11010519491231002X"},
		{"１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"},
		{"１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"},
		{"110105 19491231 002X", "11010519491231002X"},
		{"110105-19491231-002X", "11010519491231002X"},
		{"110105\u300019491231002X", "11010519491231002X"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizeIDNumber(tc.in); got != tc.want {
			t.Errorf("NormalizeIDNumber(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"13812345678", "13812345678"},
		{" 138 1234 5678 ", "13812345678"},
		{"138-1234-5678", "13812345678"},
		{"+86 138 1234 5678", "13812345678"},
		{"+8613812345678", "13812345678"},
		{"8613812345678", "13812345678"},
		{"008613812345678", "13812345678"},
		{"(+86)138-1234-5678", "13812345678"},
		{"１３８１２３４５６７８", "13812345678"},
		{"86123", "86123"}, // too short to carry a country code
		{"010-12345678", "01012345678"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizePhone(tc.in); got != tc.want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidatePhone(t *testing.T) {
	const bad = "手机号格式不正确，请输入11位中国大陆手机号码"
	tests := []struct{ in, want string }{
		{"13812345678", ""},
		{"19912345678", ""},
		{"+86 166-1234-5678", ""},
		{"１５９１２３４５６７８", ""},
		{"", "请输入手机号"},
		{" - ", "请输入手机号"},
		{"12812345678", bad},      // second digit 2
		{"10812345678", bad},      // second digit 0
		{"1381234567", bad},       // 10 digits
		{"138123456789", bad},     // 12 digits
		{"23812345678", bad},      // does not start with 1
		{"1381234567a", bad},      // letter
		{"010-12345678", bad},     // landline
		{"+1 415 555 0100", bad},  // foreign
		{"8612812345678", bad},    // country code then an invalid number
		{"138１234５67８", ""},       // mixed widths
		{"13８12345678\u3000", ""}, // ideographic space
	}
	for _, tc := range tests {
		err := ValidatePhone(tc.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ValidatePhone(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
