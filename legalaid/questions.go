package legalaid

import "strings"

// questionCues are the words that make a message a question for legal aid, by the type of
// dispute they suggest. Earlier types win ("工伤赔偿" is a work injury, not a contract).
var questionCues = []struct {
	t     Type
	words []string
}{
	{WorkInjury, []string{"工伤", "伤残鉴定", "职业病"}},
	{WageArrears, []string{"拖欠工资", "欠工资", "欠薪", "不发工资", "工资不发", "不给工资", "工资不给", "工资没发",
		"没发工资", "讨薪", "要不到工资", "要不回工资", "工钱", "克扣工资", "扣工资", "拖欠", "结工资", "加班费"}},
	{LaborContract, []string{"辞退", "开除", "解雇", "裁员", "被炒", "解除劳动合同", "解除合同", "劳动合同", "不签合同",
		"没签合同", "没有签合同", "经济补偿", "赔偿金", "n+1", "试用期"}},
	{SocialInsurance, []string{"社保", "五险", "养老保险", "医疗保险", "失业保险", "不交保险", "没交保险", "不给交保险"}},
	{ArbitrationLitigation, []string{"劳动仲裁", "仲裁", "起诉", "打官司", "法院", "律师"}},
}

// Question reports whether text asks about a labour dispute legal aid can help with, and
// which type it suggests: "老板拖欠工资怎么办", "被辞退了不给补偿".
func Question(text string) (Type, bool) {
	t := fold(text)
	if t == "" {
		return "", false
	}
	for _, c := range questionCues {
		for _, w := range c.words {
			if strings.Contains(t, w) {
				return c.t, true
			}
		}
	}
	return "", false
}
