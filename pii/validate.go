package pii

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors are sentences a member can read in the chat as is.

// NormalizeIDNumber trims an ID number, turns full-width characters into
// ASCII, removes inner spaces and dashes, and upper-cases the check letter x.
// Store and hash the normalized form.
func NormalizeIDNumber(s string) string {
	return strings.ToUpper(stripSeparators(strings.TrimSpace(HalfWidth(s))))
}

// idWeights are the GB 11643-1999 weights, 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum mod 11 to the check character.
const idCheckChars = "10X98765432"

// chinaTime is UTC+8 without a tzdata dependency; China has no DST.
var chinaTime = time.FixedZone("CST", 8*60*60)

// ValidateIDNumber checks a resident ID number (居民身份证号码) after
// NormalizeIDNumber: 18 characters, 17 digits then a digit or X, a real birth
// date from 1900 up to today, and the GB 11643 check character.
func ValidateIDNumber(s string) error {
	return validateIDNumber(NormalizeIDNumber(s), time.Now())
}

func validateIDNumber(s string, now time.Time) error {
	if s == "" {
		return errors.New("请输入身份证号")
	}
	if n := utf8.RuneCountInString(s); n != 18 {
		return fmt.Errorf("身份证号应为18位，您输入的是%d位", n)
	}
	sum := 0
	for i := range 17 {
		c := s[i]
		if c < '0' || c > '9' {
			return errors.New("身份证号前17位应为数字，最后一位为数字或X")
		}
		sum += int(c-'0') * idWeights[i]
	}
	if last := s[17]; (last < '0' || last > '9') && last != 'X' {
		return errors.New("身份证号前17位应为数字，最后一位为数字或X")
	}
	birth, err := time.ParseInLocation("20060102", s[6:14], chinaTime)
	if err != nil || birth.Year() < 1900 || birth.After(now.In(chinaTime)) {
		return errors.New("身份证号中的出生日期不正确")
	}
	if idCheckChars[sum%11] != s[17] {
		return errors.New("身份证号校验位不正确，请核对后重新输入")
	}
	return nil
}

// NormalizePhone reduces a phone number to its digits: full-width digits
// become ASCII; spaces, dashes, dots and brackets go; a leading +86, 0086 or
// 86 country code is dropped from what would otherwise be too long for a
// mainland mobile number.
func NormalizePhone(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '(' || r == ')' {
			return -1
		}
		return r
	}, stripSeparators(strings.TrimSpace(HalfWidth(s))))
	for _, cc := range []string{"+86", "0086", "86"} {
		if rest, ok := strings.CutPrefix(s, cc); ok && len(rest) == 11 {
			return rest
		}
	}
	return s
}

// ValidatePhone checks a mainland China mobile number (1[3-9] and 9 more
// digits) after NormalizePhone.
func ValidatePhone(s string) error {
	p := NormalizePhone(s)
	if p == "" {
		return errors.New("请输入手机号")
	}
	if !isMobile(p) {
		return errors.New("手机号格式不正确，请输入11位中国大陆手机号码")
	}
	return nil
}

func isMobile(p string) bool {
	if len(p) != 11 || p[0] != '1' || p[1] < '3' || p[1] > '9' {
		return false
	}
	for i := 2; i < 11; i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}
