package claims

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Fen is an amount of money in fen (分, 1/100 yuan). Money is never a float here: the API
// writes it as a decimal string in yuan ("5000.00", DESIGN §11), which MarshalJSON does.
type Fen int64

// Yuan is n whole yuan in fen.
func Yuan(n int64) Fen { return Fen(n * 100) }

// String is the amount in yuan with two decimals: "5000.00", "-0.50".
func (f Fen) String() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// ErrMoney is the error of ParseYuan for anything but a plain decimal amount.
var ErrMoney = errors.New("not an amount in yuan")

// maxYuanDigits bounds the integer part, far above any claim and far below int64's range.
const maxYuanDigits = 12

// ParseYuan reads a decimal amount in yuan as the API writes it: "5000", "5000.5",
// "5000.00", optionally signed with "-". At most two decimals; nothing else (no grouping
// commas, no 元: the chat's lenient money parser is another matter).
func ParseYuan(s string) (Fen, error) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(body, ".")
	if whole == "" || len(whole) > maxYuanDigits || !digits(whole) || (dot && (frac == "" || len(frac) > 2 || !digits(frac))) {
		return 0, fmt.Errorf("%w: %q", ErrMoney, s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	for len(frac) < 2 {
		frac += "0"
	}
	c, _ := strconv.ParseInt(frac, 10, 64)
	v := w*100 + c
	if neg {
		v = -v
	}
	return Fen(v), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// MarshalJSON writes the amount as a decimal string in yuan.
func (f Fen) MarshalJSON() ([]byte, error) { return json.Marshal(f.String()) }

// UnmarshalJSON reads a decimal string in yuan ("5000.00"); a bare JSON number is refused,
// so that no float ever carries money.
func (f *Fen) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: amounts are decimal strings such as \"5000.00\"", ErrMoney)
	}
	v, err := ParseYuan(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}
