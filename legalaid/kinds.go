package legalaid

// Type is the kind of dispute (案由).
type Type string

// The types. Crisis is an urgent message kept to protect someone, not a request.
const (
	WageArrears           Type = "wage_arrears"
	LaborContract         Type = "labor_contract"
	WorkInjury            Type = "work_injury"
	SocialInsurance       Type = "social_insurance"
	ArbitrationLitigation Type = "arbitration_litigation"
	OtherType             Type = "other"
	Crisis                Type = "crisis"
)

// Types lists the types a requester chooses from, in the order of the question.
var Types = []Type{WageArrears, LaborContract, WorkInjury, SocialInsurance, ArbitrationLitigation, OtherType}

var typeLabels = map[Type]string{
	WageArrears:           "拖欠工资",
	LaborContract:         "劳动合同",
	WorkInjury:            "工伤认定与赔偿",
	SocialInsurance:       "社会保险",
	ArbitrationLitigation: "劳动仲裁与诉讼",
	OtherType:             "其他",
	Crisis:                "紧急求助",
}

// Valid reports whether t is one of the types (crisis included).
func (t Type) Valid() bool { _, ok := typeLabels[t]; return ok }

// Label is the type in Chinese.
func (t Type) Label() string { return label(typeLabels, t) }

// TypeOf is the type with Chinese label l among the choosable ones.
func TypeOf(l string) (Type, bool) { return byLabel(Types, typeLabels, l) }

// Stage is where the dispute stands (法律状态).
type Stage string

// The stages.
const (
	NotStarted  Stage = "not_started"
	Arbitrating Stage = "arbitration"
	Litigating  Stage = "litigation"
	Mediating   Stage = "mediation"
	NoResponse  Stage = "no_response"
)

// Stages lists the stages in the order of the question.
var Stages = []Stage{NotStarted, Arbitrating, Litigating, Mediating, NoResponse}

var stageLabels = map[Stage]string{
	NotStarted:  "未进入程序",
	Arbitrating: "仲裁中",
	Litigating:  "诉讼中",
	Mediating:   "调解中",
	NoResponse:  "投诉无答复",
}

// Valid reports whether s is one of the stages.
func (s Stage) Valid() bool { _, ok := stageLabels[s]; return ok }

// Label is the stage in Chinese.
func (s Stage) Label() string { return label(stageLabels, s) }

// StageOf is the stage with Chinese label l.
func StageOf(l string) (Stage, bool) { return byLabel(Stages, stageLabels, l) }

// Outcome is how a closed case ended.
type Outcome string

// The outcomes.
const (
	Mediated    Outcome = "mediated"
	Arbitration Outcome = "arbitration"
	Litigation  Outcome = "litigation"
	Advised     Outcome = "advised"
	Declined    Outcome = "declined"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{Mediated, Arbitration, Litigation, Advised, Declined}

var outcomeLabels = map[Outcome]string{
	Mediated:    "调解成功",
	Arbitration: "仲裁",
	Litigation:  "诉讼",
	Advised:     "已咨询",
	Declined:    "不予受理",
}

// Valid reports whether o is one of the outcomes.
func (o Outcome) Valid() bool { _, ok := outcomeLabels[o]; return ok }

// Label is the outcome in Chinese.
func (o Outcome) Label() string { return label(outcomeLabels, o) }

func byLabel[K ~string](all []K, labels map[K]string, l string) (K, bool) {
	for _, k := range all {
		if labels[k] == l {
			return k, true
		}
	}
	var zero K
	return zero, false
}
