package handlers

import "unionbot/bot"

// registerSoon registers the capabilities not open in chat yet (人工 is handoff.go).
func registerSoon(r *bot.Router) {
}

// Notes for capabilities that are not open in chat yet. Each says what the
// member can do meanwhile, so nobody leaves with nothing.
const (
	msgLegalAidSoon = `法律援助线上申请即将开通。

遇到欠薪、工伤、劳动合同等问题，现在可以：
· 拨打职工服务热线 12351 咨询
· 到县总工会法律援助窗口申请

请提前准备：
· 身份证
· 劳动合同、工资条、考勤记录等用工证明
· 与单位沟通的记录（聊天、录音、书面通知）
· 工伤的，带上医疗和工伤认定材料

提醒：劳动仲裁一般要在知道权益受侵害之日起1年内申请，请不要拖延。
农民工讨薪、工伤赔偿申请法律援助，不需要经济困难证明。`
)
