package pii

import "testing"

func TestMasks(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"id", MaskIDNumber, "110101199003071234", "1101**********1234"},
		{"id with X", MaskIDNumber, "11010519491231002X", "1101**********002X"},
		{"id lower x normalized", MaskIDNumber, " 11010519491231002x", "1101**********002X"},
		{"id old 15 digits", MaskIDNumber, "110101900307123", "1101*******7123"},
		{"id short", MaskIDNumber, "123456", "****56"},
		{"id 8 chars", MaskIDNumber, "12345678", "******78"},
		{"id 9 chars", MaskIDNumber, "123456789", "1234*6789"},
		{"id 2 chars", MaskIDNumber, "12", "**"},
		{"id empty", MaskIDNumber, "", ""},

		{"phone", MaskPhone, "13812345678", "138****5678"},
		{"phone formatted", MaskPhone, "+86 138-1234-5678", "138****5678"},
		{"phone full-width", MaskPhone, "１３８１２３４５６７８", "138****5678"},
		{"phone landline", MaskPhone, "010-12345678", "010****5678"},
		{"phone short", MaskPhone, "12345", "***45"},
		{"phone empty", MaskPhone, "", ""},

		{"name two", MaskName, "张三", "张*"},
		{"name four", MaskName, "欧阳娜娜", "欧***"},
		{"name three", MaskName, "李小明", "李**"},
		{"name one", MaskName, "王", "*"},
		{"name spaces trimmed", MaskName, " 张三 ", "张*"},
		{"name latin", MaskName, "Anna", "A***"},
		{"name with middle dot", MaskName, "买买提·艾力", "买*****"},
		{"name empty", MaskName, "", ""},

		{"card 16", MaskBankCard, "6222021234567890", "**** **** **** 7890"},
		{"card 19 spaced", MaskBankCard, "6222 0212 3456 7890 123", "**** **** **** 0123"},
		{"card dashed", MaskBankCard, "6222-0212-3456-7890", "**** **** **** 7890"},
		{"card full-width", MaskBankCard, "６２２２０２１２３４５６７８９０", "**** **** **** 7890"},
		{"card short", MaskBankCard, "12345", "***45"},
		{"card empty", MaskBankCard, "", ""},

		{"member no", MaskMemberNo, "GH2024000123", "GH*******123"},
		{"member no 6", MaskMemberNo, "A12345", "A1*345"},
		{"member no 5", MaskMemberNo, "12345", "***45"},
		{"member no 3", MaskMemberNo, "123", "*23"},
		{"member no 1", MaskMemberNo, "7", "*"},
		{"member no chinese", MaskMemberNo, "工会二〇二四零零一", "工会****零零一"},
		{"member no empty", MaskMemberNo, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.fn(tc.in); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
