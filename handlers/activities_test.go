package handlers_test

import (
	"fmt"
	"testing"
	"time"

	"unionbot/notices"
	"unionbot/storage"
)

// publishActivity creates and publishes an activity for audience aud.
func (f *fixture) publishActivity(title string, aud notices.Audience, act notices.Activity) storage.Notice {
	f.t.Helper()
	if act.StartsAt.IsZero() {
		act.StartsAt = f.clock.Now().Add(72 * time.Hour)
	}
	if act.Place == "" {
		act.Place = "县职工之家"
	}
	by := storage.AuditEntry{Actor: "officer:pub"}
	n, err := f.db.CreateNotice(f.t.Context(), storage.NoticeInput{Title: title, Body: title + "，欢迎参加。", Audience: aud, Activity: &act}, by)
	if err != nil {
		f.t.Fatal(err)
	}
	if n, err = f.db.PublishNotice(f.t.Context(), n.ID, storage.PublishOptions{}, by); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestActivitiesInChat(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		f.bind("oZhang", zhang)
		f.bind("oLi", li)
		open := f.publishActivity("职工羽毛球赛", notices.Audience{Kind: "all"}, notices.Activity{Capacity: 1, Waitlist: true})
		only := f.publishActivity("送清凉", notices.Audience{Kind: "units", Units: []string{zhang.unit}},
			notices.Activity{MembersOnly: true, Capacity: 50})
		on, oo := open.Activity.Number, only.Activity.Number

		// A bound member of the unit sees both, with their own numbers.
		got := f.say("oZhang", "活动")
		mustContain(t, got, fmt.Sprintf("【%d】职工羽毛球赛", on), fmt.Sprintf("【%d】送清凉", oo), "剩余名额 1/1", "报名 编号")
		// Li is of another unit: the unit's activity is not listed, and refused.
		got = f.say("oLi", "活动")
		mustContain(t, got, "职工羽毛球赛")
		mustNotContain(t, got, "送清凉")
		mustContain(t, f.say("oLi", fmt.Sprintf("报名 %d", oo)), "不在这次的报名范围内")

		mustContain(t, f.say("oZhang", fmt.Sprintf("活动 %d", oo)), "送清凉", "地点：县职工之家", "限工会会员报名", fmt.Sprintf("报名 %d", oo))
		mustContain(t, f.say("oZhang", fmt.Sprintf("报名%d", oo)), "报名成功", "取消报名")
		mustContain(t, f.say("oZhang", fmt.Sprintf("报名 %d", oo)), "已经报名")

		// Members only: an unbound follower is asked to bind first.
		mustContain(t, f.say("oStranger", fmt.Sprintf("报名 %d", oo)), "只限工会会员", "绑定")

		// An open activity: a non-member gives name and phone once.
		mustContain(t, f.say("oStranger", fmt.Sprintf("报名 %d", on)), "姓名")
		mustContain(t, f.say("oStranger", "王小二"), "手机号")
		mustContain(t, f.say("oStranger", "13812345678"), "王小二", "138****5678", "确认")
		mustContain(t, f.say("oStranger", "确认"), "报名成功")

		// Full: Zhang goes on the waiting list, and gets the place when the guest cancels.
		mustContain(t, f.say("oZhang", fmt.Sprintf("报名 %d", on)), "候补", "第1位")
		mustContain(t, f.say("oZhang", "我的活动"), "候补第1位", "已报名", "送清凉")
		mustContain(t, f.say("oStranger", fmt.Sprintf("取消报名 %d", on)), "已取消", "名额已让出")
		mustContain(t, f.say("oZhang", "我的活动"), fmt.Sprintf("【%d】职工羽毛球赛", on))
		mustNotContain(t, f.say("oZhang", "我的活动"), "候补")
		mustContain(t, f.say("oStranger", fmt.Sprintf("取消报名 %d", on)), "没有报名")

		// The guest is not asked again for another open activity.
		third := f.publishActivity("法律知识竞赛", notices.Audience{Kind: "all"}, notices.Activity{})
		mustContain(t, f.say("oStranger", fmt.Sprintf("报名 %d", third.Activity.Number)), "报名成功")

		mustContain(t, f.say("oZhang", "报名 999"), "没有找到编号为 999 的活动")
		mustContain(t, f.say("oZhang", "报名"), "活动编号")
	})
}

func TestNoticeOptOutInChat(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		f.bind("oZhang", zhang)
		mustContain(t, f.say("oZhang", "退订"), "已为您退订", "仍会照常发送")
		p, err := f.db.PreviewAudience(t.Context(), notices.Audience{Kind: "bound"}, 0, "")
		if err != nil || p.OptedOut != 1 || p.Size != 0 {
			t.Fatalf("after 退订: %+v %v", p, err)
		}
		// A message about the member's own matters still goes out.
		if _, err := f.db.EnqueueMessage(t.Context(), storage.OutboxMessage{Key: "claim:1:approved", Kind: "claim_status",
			OpenID: "oZhang", Service: true, Content: storage.OutboxContent{Text: "您的互助金申请已通过"}}); err != nil {
			t.Fatal(err)
		}
		mustContain(t, f.say("oZhang", "订阅"), "已为您恢复")
		p, _ = f.db.PreviewAudience(t.Context(), notices.Audience{Kind: "bound"}, 0, "")
		if p.Size != 1 {
			t.Errorf("after 订阅: %+v", p)
		}
	})
}
