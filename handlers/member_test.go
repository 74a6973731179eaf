package handlers_test

import (
	"strings"
	"testing"
	"time"

	"unionbot/pii"
)

func TestMyInfo(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-info"
		got := f.say(me, "我的信息")
		mustContain(t, got, "还没有绑定", "绑定")
		mustNotContain(t, got, zhang.unit)

		f.bind(me, zhang)
		for _, kw := range []string{"我的信息", "会员信息", "我的会员信息"} {
			got = f.say(me, kw)
			mustContain(t, got, pii.MaskName(zhang.name), pii.MaskMemberNo(zhang.no), zhang.unit,
				"2015年3月12日", "在册")
			mustNotContain(t, got, zhang.name, zhang.no, zhang.last6(t))
		}

		// Unknown join date.
		f.bind("oid-info-ayi", ayi)
		mustContain(t, f.say("oid-info-ayi", "我的信息"), "入会日期：未登记", pii.MaskName(ayi.name))
	})
}

func TestMutualAid(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-aid"
		mustContain(t, f.say(me, "互助保障"), "还没有绑定", "绑定")

		f.bind(me, zhang)
		// 2026-05-03 in Shanghai: the 2026 cover is running.
		got := f.say(me, "互助保障")
		mustContain(t, got,
			"2025年度：2025年1月1日至2025年12月31日",
			"2026年度：2026年1月1日至2026年12月31日（保障中）",
			"今天（2026年5月3日）在保障期内",
			"互助金申领记录：暂无",
			pii.MaskName(zhang.name))
		mustNotContain(t, got, zhang.name)
		if strings.Count(got, "（保障中）") != 1 {
			t.Errorf("want exactly one running year:\n%s", got)
		}

		// 2027-01-01 00:30 in Shanghai is still 2026-12-31 in UTC: today is
		// taken in Shanghai, so the cover has ended.
		f.clock.Set(time.Date(2027, 1, 1, 0, 30, 0, 0, shanghai))
		got = f.say(me, "参保查询")
		mustContain(t, got, "今天（2027年1月1日）不在保障期内", "续保")
		mustNotContain(t, got, "（保障中）")
		// And the last day is covered.
		f.clock.Set(time.Date(2026, 12, 31, 23, 59, 0, 0, shanghai))
		mustContain(t, f.say(me, "我的互助保障"), "（保障中）", "今天（2026年12月31日）在保障期内")

		// Enrolled, but not yet started.
		f.clock.Set(time.Date(2025, 12, 20, 9, 0, 0, 0, shanghai))
		f.bind("oid-aid-ayi", ayi)
		mustContain(t, f.say("oid-aid-ayi", "互助保障查询"), "（未开始）", "还未到保障开始日期")
	})
}

func TestMutualAidNotEnrolled(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.seedRoster()
		const me = "oid-aid-none"
		f.bind(me, li)
		got := f.say(me, "互助保障")
		mustContain(t, got, "暂未查到", pii.MaskName(li.name), "联系所在基层工会", li.unit)
		mustNotContain(t, got, li.name, "保障中")
	})
}

func TestSoonCapabilities(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		cases := []struct {
			keyword string
			wants   []string
		}{
			{"互助金", []string{"先绑定会员身份", "「绑定」"}}, // eligibility before any question
			{"法律援助", []string{"法律援助工作人员", "不是会员也可以申请", "回复“同意”"}},
			{"进度", []string{"没有办理中的申请", "「互助金」", "「法律援助」"}},
			{"活动", []string{"近期没有可以报名的活动"}},
			{"退订", []string{"已为您退订", "仍会照常发送", "订阅"}},
			{"订阅", []string{"已为您恢复", "退订"}},
			{"人工", []string{"9:00-17:00", "12351"}},
		}
		for _, c := range cases {
			got := f.say("oid-soon", c.keyword)
			mustContain(t, got, c.wants...)
			for _, line := range strings.Split(got, "\n") {
				if n := len([]rune(line)); n > 40 {
					t.Errorf("%s: line of %d characters is long for a phone: %q", c.keyword, n, line)
				}
			}
		}
	})
}

func TestMenu(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		want := []string{"测试县总工会", "绑定", "我的信息", "互助保障", "互助金", "法律援助", "进度", "活动",
			"常见问题", "人工", "退订", "订阅", "即将开通"}
		for _, kw := range []string{"菜单", "帮助", "服务", "功能", "help", "HELP", " 菜单！"} {
			mustContain(t, f.say("oid-menu", kw), want...)
		}
		// The coming-soon marks sit on the capabilities not built yet.
		got := f.say("oid-menu", "菜单")
		for _, line := range strings.Split(got, "\n") {
			soon := strings.Contains(line, "即将开通")
			for kw, built := range map[string]bool{"绑定：": true, "我的信息：": true, "互助保障：": true,
				"互助金：": false, "法律援助：": false, "进度：": false, "活动：": true, "人工：": true} {
				if strings.Contains(line, kw) && soon == built {
					t.Errorf("menu line %q: coming-soon mark is %v, want %v", line, soon, !built)
				}
			}
		}
	})
}
