package faq

import (
	"sort"
	"strings"
	"unicode"
)

// Normalize turns a member's message into the canonical form the matcher
// indexes: full-width ASCII becomes half-width, letters are lower-cased,
// common traditional characters become simplified, frequent typos and
// homophones are corrected, domain synonyms collapse to one word (for
// example 工会费 → 会费, 拖欠工资 → 欠薪), polite fillers and sentence
// particles are dropped, and punctuation, emoji and spaces are removed.
// The result may be empty (e.g. for "你好！").
func Normalize(s string) string {
	return phrasePass.Replace(synonymPass.Replace(baseNormalize(s)))
}

// baseNormalize does the character-level work and the first, typo-fixing
// replacement pass. A second pass (synonymPass) sees its output, so a typo
// fix can feed a synonym (公会费 → 工会费 → 会费).
func baseNormalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	rs := []rune(s)
	for i, r := range rs {
		r = foldRune(r)
		switch {
		case isWordRune(r), r == '%' || r == '+':
			b.WriteRune(r)
		case r == '.':
			// keep a decimal point between digits (0.5%), drop it elsewhere
			if i > 0 && i+1 < len(rs) && isDigit(foldRune(rs[i-1])) && isDigit(foldRune(rs[i+1])) {
				b.WriteByte('.')
			}
		}
		// everything else (punctuation, symbols, emoji, spaces) is dropped
	}
	return firstPass.Replace(b.String())
}

// foldRune maps full-width ASCII to half-width, traditional to simplified
// (for common characters) and upper to lower case.
func foldRune(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		r -= 0xFEE0
	case r == 0x3000: // ideographic space
		r = ' '
	}
	if t, ok := tradToSimp[r]; ok {
		r = t
	}
	return unicode.ToLower(r)
}

// isWordRune reports letters (Han included) and digits.
func isWordRune(r rune) bool {
	if r < 0x80 {
		return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// newReplacer builds a strings.Replacer that prefers the longest key at each
// position: strings.Replacer picks the first matching key in argument order,
// so keys are sorted longest first.
func newReplacer(pairs [][2]string) *strings.Replacer {
	sorted := make([][2]string, len(pairs))
	copy(sorted, pairs)
	sort.SliceStable(sorted, func(i, j int) bool {
		return len([]rune(sorted[i][0])) > len([]rune(sorted[j][0]))
	})
	args := make([]string, 0, 2*len(sorted))
	for _, p := range sorted {
		args = append(args, p[0], p[1])
	}
	return strings.NewReplacer(args...)
}

// pairsFrom flattens canonical → variants groups into replacement pairs. Each
// canonical word also maps to itself, so that a variant hiding inside it is
// not replaced (without 农民工 → 农民工, "农民工" would become "农农民工"
// through the variant 民工).
func pairsFrom(groups map[string][]string) [][2]string {
	var out [][2]string
	for to, froms := range groups {
		if to != "" {
			out = append(out, [2]string{to, to})
		}
		for _, f := range froms {
			out = append(out, [2]string{f, to})
		}
	}
	return out
}

var (
	firstPass   = newReplacer(append(pairsFrom(typoFixes), pairsFrom(baseWords)...))
	synonymPass = newReplacer(append(pairsFrom(synonyms), pairsFrom(fillers)...))
	phrasePass  = newReplacer(pairsFrom(phrases))
)

// typoFixes maps common misspellings and homophones members type with a
// pinyin keyboard to the intended word.
var typoFixes = map[string][]string{
	"工会":   {"公会", "工汇", "功会"},
	"互助":   {"互主", "护助", "互住"},
	"互助金":  {"互助经", "互助今", "互助斤"},
	"会费":   {"会废", "汇费", "会非"},
	"工伤":   {"公伤", "工商认定"},
	"帮扶":   {"帮付", "帮夫"},
	"法律援助": {"法律缓助", "法律原助", "法律援主", "法律远助"},
	"拖欠":   {"拖久", "脱欠"},
	"工资":   {"工姿", "公资"},
	"绑定":   {"帮定", "绑订"},
	"会员":   {"会圆", "汇员"},
	"产假":   {"产价"},
	"加班费":  {"加班废"},
	"劳动合同": {"劳动和同", "劳动合通"},
	"退订":   {"推订", "退定"},
}

// baseWords are plain word-level synonyms applied in the first pass so the
// phrase synonyms of the second pass only need the canonical word.
var baseWords = map[string][]string{
	"工资":  {"工钱", "薪水", "薪资", "薪酬", "劳动报酬", "工资款"},
	"单位":  {"用人单位", "老板", "公司", "厂子", "厂里", "工厂", "企业", "包工头", "老板娘"},
	"怎么":  {"咋个", "咋样", "咋", "如何", "怎样", "怎么样", "怎么着"},
	"什么":  {"什么样", "啥子", "啥", "哪些", "神马"},
	"能":   {"能不能", "可不可以", "可以", "行不行", "能否", "可否", "能够", "是否能"},
	"有":   {"有没有", "有无", "是否有"},
	"是":   {"是不是"},
	"多久":  {"多长时间", "多少时间", "什么时候", "啥时候", "何时", "几时"},
	"农民工": {"民工", "打工的", "务工人员", "进城务工"},
	"外卖":  {"骑手", "外卖员", "送外卖", "跑外卖", "外卖小哥"},
	"网约车": {"滴滴", "跑滴滴", "开滴滴", "网约车司机", "跑网约车"},
	"快递":  {"快递员", "快递小哥", "送快递"},
	"子女":  {"孩子", "小孩", "儿子", "女儿", "小孩子"},
	"生育":  {"生孩子", "生小孩", "生娃", "分娩", "生宝宝"},
	"家属":  {"家人", "家里人", "老公", "老婆", "爱人", "丈夫", "妻子", "媳妇", "我妈", "我爸", "父母", "亲属"},
	"材料":  {"资料", "证明材料", "手续材料"},
	"身份证": {"身份证号码", "身份证号"},
	"手机号": {"手机号码"},
	"会员卡": {"会员证", "会员服务卡", "工会卡", "工会会员卡", "服务卡"},
}

// synonyms collapse domain phrases to one canonical word (the key).
var synonyms = map[string][]string{
	"会费": {"工会费", "会员费", "工会会费", "党费工会费"},
	"入会": {"加入工会", "入工会", "进工会", "参加工会", "成为会员", "成为工会会员", "当会员", "当了会员", "入个会"},
	// protect 参加工会 in 参加工会组织的活动 from becoming 入会
	"参加工会组织": {},
	"参加工会活动": {},
	"好处":     {"有什么好处", "有什么用处", "用处", "实惠", "有什么用", "得到什么", "得到点什么"},
	"做什么":    {"干什么", "干嘛", "干吗"},
	"互助":     {"互助金", "互助保障", "医疗互助", "互助补助", "职工互助", "互助保险", "医疗互助保障", "职工医疗互助"},
	"欠薪": {"拖欠工资", "欠工资", "工资不发", "不发工资", "不给工资", "没发工资", "工资没发", "讨薪", "讨要工资", "要工资", "拖工资", "欠我工资", "工资拖欠", "讨工资", "工资要不回",
		"不给我们发工资", "不给我发工资", "不给发工资", "拖着不发", "没拿到工资", "拿不到工资", "工资拿不到", "发不出工资", "工资发不出"},
	"多少钱":   {"几十块", "几百块", "几块钱", "多少块", "几个钱"},
	"是什么":   {"是个什么", "是什么意思", "指的是什么"},
	"法律援助":  {"打官司", "请律师", "找律师", "免费律师", "法援"},
	"热线":    {"热线电话", "电话", "服务热线"},
	"困难帮扶":  {"困难补助", "帮困", "困难救助", "帮扶救助", "救助"},
	"报销":    {"理赔", "赔付"},
	"进度":    {"到哪一步", "到哪步", "办到哪"},
	"退订":    {"取消订阅", "不想收", "关闭推送", "别再推送", "不要推送", "别推送"},
	"人工":    {"人工客服", "真人", "工作人员", "客服", "人工服务"},
	"解除绑定":  {"解绑", "取消绑定"},
	"绑定":    {"关联"},
	"绑定失败":  {"绑不上", "绑定不了", "绑定不上", "绑定不成功", "绑定没成功"},
	"查不到":   {"找不到", "没找到", "搜不到", "查无此人"},
	"个人信息":  {"个人资料", "隐私", "个人隐私"},
	"辞退":    {"开除", "解雇", "炒鱿鱼", "辞掉", "不用来了", "让我走人", "裁员"},
	"补偿":    {"赔偿", "赔钱", "赔偿金", "经济补偿金"},
	"加班费":   {"加班工资", "加班钱"},
	"受伤":    {"弄伤", "摔伤", "砸伤", "伤了", "工作受伤"},
	"门诊":    {"看门诊", "买药", "开药", "拿药"},
	"观察期":   {"等待期", "等待时间"},
	"最高":    {"封顶", "最多"},
	"到账":    {"打到卡上", "打卡上", "拿到钱", "发钱"},
	"审核":    {"审批", "审查"},
	"期限":    {"截止", "时限", "过期"},
	"高温":    {"夏天", "夏季", "天热", "天气热", "防暑"},
	"春节":    {"过年", "元旦"},
	"换工作":   {"跳槽", "换单位", "调动工作", "换了工作", "换了单位", "新单位"},
	"会籍":    {"会员关系", "工会关系"},
	"优惠":    {"打折", "折扣"},
	"商户":    {"商家", "店家", "店铺"},
	"驿站":    {"爱心驿站", "工会驿站", "歇脚", "休息点"},
	"上大学":   {"考上大学", "考大学", "读大学", "大学录取"},
	"代办":    {"帮他", "帮她", "替他", "替她", "替我", "代为", "代替"},
	"工资协商":  {"工资集体协商", "谈工资", "涨工资"},
	"活动":    {"比赛", "竞赛"},
	"签劳动合同": {"签合同", "签订劳动合同", "签订合同"},
	"就业":    {"找工作", "介绍工作", "招聘会", "招聘"},
	"培训":    {"学技术", "学手艺", "技能培训", "职业培训"},
}

// phrases run last, on canonical words: they join verb + object forms that
// mean the same action.
var phrases = map[string][]string{
	"参加互助": {"办互助", "买互助", "加入互助", "入互助", "参保", "交互助"},
}

// fillers are polite or empty phrases that carry no meaning for matching.
var fillers = map[string][]string{
	"": {
		"请问一下", "请问", "你好", "您好", "我想问一下", "想问一下", "我想问问", "问一下", "问问",
		"麻烦你", "麻烦", "谢谢你", "谢谢", "打扰了", "打扰一下", "请教一下", "请教", "我想咨询一下", "咨询一下",
		"到底", "究竟", "吗", "呢", "啊", "呀", "吧", "啦", "哦", "嘛", "哈", "呗", "嗯",
	},
}

// tradToSimp maps traditional characters that are common in union questions
// to their simplified forms. It is not a full converter: members in the
// county write simplified, this only rescues the occasional traditional IME.
var tradToSimp = func() map[rune]rune {
	const trad = "會費資險請問麼門診補勞動務員號機醫療報銷辦給錢幫難證單權熱線電話關係轉離職約簽協親屬發溫涼節傷業進訂閱綁為這個們沒時間長還嗎聯繫體優戶與傳過後來對說樣讓幾處條國學歲婦兒農駕車齡殘疾險級區縣鄉鎮義務應當網絡雙倍類這裡麼認際舊開選擇標準數額歷擔實現領獎頭負責願遞產書圖寫愛驛"
	const simp = "会费资险请问么门诊补劳动务员号机医疗报销办给钱帮难证单权热线电话关系转离职约签协亲属发温凉节伤业进订阅绑为这个们没时间长还吗联系体优户与传过后来对说样让几处条国学岁妇儿农驾车龄残疾险级区县乡镇义务应当网络双倍类这里么认际旧开选择标准数额历担实现领奖头负责愿递产书图写爱驿"
	t, s := []rune(trad), []rune(simp)
	if len(t) != len(s) {
		panic("faq: tradToSimp tables differ in length")
	}
	m := make(map[rune]rune, len(t))
	for i := range t {
		if t[i] != s[i] {
			m[t[i]] = s[i]
		}
	}
	return m
}()
