package claims

// Plan is a mutual-aid cover (保障项目) a claim is made under; the codes are the API's
// (DESIGN §11).
type Plan string

// The plans.
const (
	Hospital          Plan = "hospital"
	OutpatientSpecial Plan = "outpatient_special"
	CriticalIllness   Plan = "critical_illness"
	Accident          Plan = "accident"
)

// Plans lists every plan in the order the chat offers them.
var Plans = []Plan{Hospital, OutpatientSpecial, CriticalIllness, Accident}

var planNames = map[Plan]string{
	Hospital:          "住院",
	OutpatientSpecial: "门诊特殊病种",
	CriticalIllness:   "重大疾病",
	Accident:          "意外伤害",
}

// Valid reports whether p is one of the plans.
func (p Plan) Valid() bool { _, ok := planNames[p]; return ok }

// Name is the plan in Chinese; the code itself when unknown.
func (p Plan) Name() string {
	if n, ok := planNames[p]; ok {
		return n
	}
	return string(p)
}

// PlanByName finds a plan by its Chinese name or its code.
func PlanByName(s string) (Plan, bool) {
	for _, p := range Plans {
		if s == string(p) || s == planNames[p] {
			return p, true
		}
	}
	return "", false
}

// DocKind is a kind of supporting document a member photographs.
type DocKind string

// The document kinds (DOMAIN §3.1, photos by plan).
const (
	DocIDCard             DocKind = "id_card"
	DocBankCard           DocKind = "bank_card"
	DocInvoice            DocKind = "invoice"
	DocSettlement         DocKind = "settlement"
	DocDischargeSummary   DocKind = "discharge_summary"
	DocInsuranceStatement DocKind = "insurance_statement"
	DocRecordCover        DocKind = "record_cover"
	DocPathology          DocKind = "pathology"
	DocAccidentProof      DocKind = "accident_proof"
	DocOther              DocKind = "other"
)

var docNames = map[DocKind]string{
	DocIDCard:             "身份证（正反面）",
	DocBankCard:           "银行卡",
	DocInvoice:            "医疗费发票",
	DocSettlement:         "住院费用结算单",
	DocDischargeSummary:   "出院记录或出院小结",
	DocInsuranceStatement: "医保个人费用查询单",
	DocRecordCover:        "门诊病历本封面",
	DocPathology:          "病理报告或诊断证明",
	DocAccidentProof:      "事故证明",
	DocOther:              "其他材料",
}

// Valid reports whether k is one of the document kinds.
func (k DocKind) Valid() bool { _, ok := docNames[k]; return ok }

// Name is the document kind in Chinese; the code itself when unknown.
func (k DocKind) Name() string {
	if n, ok := docNames[k]; ok {
		return n
	}
	return string(k)
}

// identity documents every plan asks for: who the member is and where the money goes.
var identity = []DocKind{DocIDCard, DocBankCard}

var planDocs = map[Plan][]DocKind{
	Hospital:          {DocInvoice, DocSettlement, DocDischargeSummary},
	OutpatientSpecial: {DocInvoice, DocInsuranceStatement, DocRecordCover},
	CriticalIllness:   {DocInvoice, DocDischargeSummary, DocPathology},
	Accident:          {DocInvoice, DocAccidentProof},
}

// RequiredDocs lists the document kinds a claim under p must carry, in the order the chat
// asks for them: the plan's own, then the ID card and the bank card. Nil for an unknown
// plan.
func RequiredDocs(p Plan) []DocKind {
	own, ok := planDocs[p]
	if !ok {
		return nil
	}
	return append(append([]DocKind(nil), own...), identity...)
}

// MissingDocs lists the kinds RequiredDocs(p) names that have is missing, in that order.
func MissingDocs(p Plan, have []DocKind) []DocKind {
	var out []DocKind
	for _, k := range RequiredDocs(p) {
		found := false
		for _, h := range have {
			if h == k {
				found = true
				break
			}
		}
		if !found {
			out = append(out, k)
		}
	}
	return out
}
