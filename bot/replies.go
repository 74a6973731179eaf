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

	// Forms (form.go, router.go, photos.go, drafts.go).
	msgSummaryHead     = "请核对："
	msgSummaryHint     = "回复“确认”提交；要改哪一项，回复“修改 3”这样的序号；回复“取消”放弃。"
	msgEditing         = "（修改第%d项）"
	msgEdited          = "已修改。\n"
	msgEditRange       = "没有这一项，请回复“修改”加 1 到 %d 之间的序号，例如：修改 2"
	msgEditLater       = "填完后会给您看全部内容，那时可以回复“修改 N”改任何一项。"
	msgEditHint        = "（回复“返回”不改了，回到核对页面）"
	msgNotGiven        = "无"
	msgOptionalHint    = "（没有可以回复“跳过”；回复“返回”修改上一项，回复“取消”退出）"
	msgCancelAsk       = "确定不办「%s」了吗？已填的内容不会提交。回复“是”放弃，回复“否”接着填。"
	msgResumeAsk       = "您有一份没填完的「%s」（%s）。回复“继续”接着填，回复“重新开始”从头填，回复“取消”不要了。"
	msgResumeAtStep    = "填到第%d步"
	msgResumeAtSummary = "已填完，还没提交"
	msgResumeChoose    = "请回复“继续”或“重新开始”。"
	msgGoOn            = "好的，接着填。"
	msgRestarted       = "好的，从头开始填。"
	msgPhotoHint       = "（一张一条消息，发完回复“好了”；回复“返回”修改上一项，回复“取消”退出）"
	msgPhotoCount      = "%d张"
	msgPhotoSoFar      = "已收到%d张（要全部重发请回复“重拍”）。"
	msgPhotoAck        = "已收到第%d张，继续发送或回复“好了”。"
	msgPhotoMore       = "继续发送或回复“好了”。"
	msgPhotoFull       = "已收到第%d张，这一项最多%d张，已收齐。"
	msgPhotoNone       = "还没有收到照片。请拍照发送，一张一条消息。"
	msgPhotoFewer      = "这一项至少需要%d张照片，已收到%d张，请继续发送。"
	msgPhotoPlease     = "这一步请发送照片，发完回复“好了”。"
	msgPhotoCleared    = "已清空这一项的照片，请重新发送。"
	msgPhotoExpired    = "这张照片没有收到（可能已过期），请重新拍照或从相册再发一次。"
	msgPhotoNotImage   = "收到的不是照片，请发送 JPG 或 PNG 格式的照片。"
	msgPhotoTooLarge   = "这张照片太大（超过10MB），请换一张或截图后再发。"
	msgPhotoFailed     = "这张照片没有保存成功，请再发一次。"
	msgPhotoNotNow     = "照片收到了，不过这一步还不需要照片，到拍照的步骤会提示您。"
	msgStrayPhoto      = "收到您的照片。现在没有需要照片的办理事项，照片为您保留一天。要补充材料请先回复“补充材料”，再按提示发送；其他问题请用文字说明。"
	msgStrayOffer      = "您之前单独发来%d张照片，回复“用刚才的照片”可以放进这一项。"
	msgStrayUsed       = "已放入%d张照片。"
	msgDraftReminder   = "您有一份没填完的「%s」，将在%s过期。回复“%s”接着填。"
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
