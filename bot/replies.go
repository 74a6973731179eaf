package bot

import "errors"

// Every sentence the conversation core says on its own, in one place so that
// officers can review the wording. Capability texts live with their handlers.
const (
	msgSystemBusy    = "系统繁忙，请稍后再试。如需帮助，可回复“人工”联系工会工作人员。"
	msgSubmitFailed  = "系统暂时无法提交，您填写的信息都已保存。请稍后回复“确认”重新提交。"
	msgRetrySubmit   = "您填写的信息都已保存，回复“确认”提交，回复“取消”放弃。"
	msgConfirmHint   = "请核对以上信息：回复“确认”提交，回复“返回”修改上一项，回复“取消”放弃。"
	msgFormHint      = "（回复“返回”修改上一项，回复“取消”退出）"
	msgFirstStep     = "已经是第一步了。"
	msgEmptyAnswer   = "没有收到内容，请再回复一次。"
	msgTextPlease    = "这一步需要您回复文字。"
	msgCancelled     = "已取消「%s」，您填写的内容没有提交。回复“菜单”查看其他服务。"
	msgAlreadyInForm = "您正在办理「%s」。"
	msgSwitchedForm  = "已退出「%s」（未提交）。"
	msgResumeForm    = "——继续办理「%s」——\n"
	msgNotUnderstood = "抱歉，没有理解您的意思。回复“菜单”查看可以办理的服务，回复“人工”联系工会工作人员。"
	msgDegradedNote  = "（系统繁忙：正在办理的业务暂时无法继续，请稍后再试。）"
	msgFormLost      = "抱歉，您之前未完成的「%s」已失效（超时未完成或系统维护），填写的内容没有提交。请回复“%s”重新开始。"
)

// ReplyFor is the one mapping from an error to what the member reads: a
// UserError's own sentence, the "everything is kept, send 确认 again" note
// when a submission failed on our side, and otherwise the busy sentence.
func ReplyFor(err error) Reply {
	if msg, ok := UserMessage(err); ok {
		return Text(msg)
	}
	var kept *keptError
	if errors.As(err, &kept) {
		return Text(msgSubmitFailed)
	}
	return Text(msgSystemBusy)
}
