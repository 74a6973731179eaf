package pii_test

import (
	"testing"

	"unionbot/pii"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"王五", "王五"},
		{"  王 五\t", "王五"},
		{"王\u3000五", "王五"},
		{"王\u00a0五\u200b", "王五"},
		{"阿依古丽•买买提", "阿依古丽·买买提"},
		{"阿依古丽・买买提", "阿依古丽·买买提"},
		{"阿依古丽．买买提", "阿依古丽·买买提"},
		{"阿依古丽.买买提", "阿依古丽·买买提"},
		{"阿依古丽‧买买提", "阿依古丽·买买提"},
		{"阿依古丽∙买买提", "阿依古丽·买买提"},
		{"阿依古丽･买买提", "阿依古丽·买买提"},
		{"阿依古丽 · 买买提", "阿依古丽·买买提"},
		{"ＡＹＧＵＬ Ｍａｍａｔ", "aygulmamat"},
		{"Aygul Mamat", "aygulmamat"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := pii.NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Idempotent: a normalised name normalises to itself.
	for _, tt := range tests {
		if got := pii.NormalizeName(tt.want); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, not idempotent", tt.want, got)
		}
	}
}
