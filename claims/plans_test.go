package claims

import (
	"slices"
	"testing"
)

func TestPlans(t *testing.T) {
	names := map[Plan]string{Hospital: "住院", OutpatientSpecial: "门诊特殊病种", CriticalIllness: "重大疾病", Accident: "意外伤害"}
	if len(Plans) != 4 {
		t.Fatalf("plans: %v", Plans)
	}
	for _, p := range Plans {
		if !p.Valid() || p.Name() != names[p] {
			t.Errorf("%s: valid %v name %q", p, p.Valid(), p.Name())
		}
		for _, s := range []string{string(p), names[p]} {
			if got, ok := PlanByName(s); !ok || got != p {
				t.Errorf("PlanByName(%q): %q %v", s, got, ok)
			}
		}
	}
	if Plan("x").Valid() || Plan("x").Name() != "x" {
		t.Error("unknown plan valid or named")
	}
	if _, ok := PlanByName("生育"); ok {
		t.Error("PlanByName(生育): found")
	}
}

func TestRequiredDocs(t *testing.T) {
	cases := map[Plan][]DocKind{
		Hospital:          {DocInvoice, DocSettlement, DocDischargeSummary, DocIDCard, DocBankCard},
		OutpatientSpecial: {DocInvoice, DocInsuranceStatement, DocRecordCover, DocIDCard, DocBankCard},
		CriticalIllness:   {DocInvoice, DocDischargeSummary, DocPathology, DocIDCard, DocBankCard},
		Accident:          {DocInvoice, DocAccidentProof, DocIDCard, DocBankCard},
		"bogus":           nil,
	}
	for p, want := range cases {
		got := RequiredDocs(p)
		if !slices.Equal(got, want) {
			t.Errorf("RequiredDocs(%s): got %v, want %v", p, got, want)
		}
		if got != nil {
			got[0] = "clobbered" // a caller's change must not reach the table
		}
	}
	if RequiredDocs(Hospital)[0] != DocInvoice {
		t.Error("RequiredDocs returned the table itself")
	}
	for _, k := range RequiredDocs(Hospital) {
		if !k.Valid() || k.Name() == string(k) {
			t.Errorf("%s: valid %v name %q", k, k.Valid(), k.Name())
		}
	}
	if DocPathology.Name() != "病理报告或诊断证明" || DocKind("x").Valid() || DocKind("x").Name() != "x" {
		t.Error("doc names")
	}
	if !DocOther.Valid() {
		t.Error("other is a kind")
	}
}

func TestMissingDocs(t *testing.T) {
	got := MissingDocs(Accident, []DocKind{DocBankCard, DocInvoice, DocOther})
	if want := []DocKind{DocAccidentProof, DocIDCard}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := MissingDocs(Accident, RequiredDocs(Accident)); got != nil {
		t.Errorf("all present: got %v", got)
	}
}
