package claims

import "fmt"

// Notice is the message a member receives when their claim number reaches status to from
// from ("" for the submission): what happened and, when something is expected of them,
// what to do. amount is the approved amount, card the masked bank card (its last digits
// are shown), d the transition's details.
func Notice(number string, from, to Status, amount Fen, card string, d Details) string {
	switch to {
	case Submitted:
		return fmt.Sprintf("您的互助金申请已提交，申请编号 %s。我们会尽快审核，结果会通知您；发送「进度 %s」可随时查看。", number, number)
	case Reviewing:
		if from == NeedMore {
			return fmt.Sprintf("您补充的材料已收到，互助金申请 %s 继续审核。", number)
		}
		return fmt.Sprintf("您的互助金申请 %s 已进入审核。", number)
	case NeedMore:
		return fmt.Sprintf("您的互助金申请 %s 需要补充材料：%s。请发送「补充材料」，按提示拍照上传，全部发完后回复「好了」。", number, d.Missing)
	case Approved:
		if from == PaymentFailed {
			return fmt.Sprintf("您的银行卡信息已更正，互助金申请 %s 将重新发放 %s 元。", number, amount)
		}
		return fmt.Sprintf("您的互助金申请 %s 已审核通过，核定金额 %s 元，将发放到您%s的银行卡。", number, amount, lastDigits(card))
	case Rejected:
		return fmt.Sprintf("很遗憾，您的互助金申请 %s 未通过审核。原因：%s。如有疑问，请发送「人工」联系工作人员。", number, d.Reason)
	case Paid:
		return fmt.Sprintf("您的互助金 %s 元已发放（申请编号 %s，银行流水号 %s），请注意查收。", amount, number, d.PaymentRef)
	case PaymentFailed:
		return fmt.Sprintf("您的互助金申请 %s 发放失败：%s。请发送「进度 %s」并按提示更正银行卡信息。", number, d.Reason, number)
	case Withdrawn:
		return fmt.Sprintf("您已撤回互助金申请 %s。如需重新申请，请发送「互助金」。", number)
	}
	return fmt.Sprintf("您的互助金申请 %s 状态已更新为「%s」。", number, to.Label())
}

// lastDigits is "尾号1234" from a masked card ("**** **** **** 1234"), "" when it has fewer
// than four characters.
func lastDigits(masked string) string {
	r := []rune(masked)
	if len(r) < 4 {
		return ""
	}
	return "尾号" + string(r[len(r)-4:])
}
