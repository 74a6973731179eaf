package roster

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// CanonicalHeader returns the canonical roster header row (docs/CONTRACTS.md §3).
func CanonicalHeader() []string {
	h := make([]string, numFields)
	for f, names := range fieldNames {
		h[f] = names[0]
	}
	return h
}

var (
	genSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
	genGiven    = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅春海波宇浩鹏辉晨欣怡佳俊文斌雪琳颖婷凯峰")
	genPlaces   = []string{"城关", "东城", "西城", "南湖", "北塘", "江北", "河西", "新华", "人民", "解放", "新区", "和平", "朝阳",
		"长江", "黄河", "青山", "绿水", "金桥", "银湖", "开发区", "高新", "临港", "滨江", "西湖", "东湖", "桃园", "梅林", "松岭", "柳岸", "石桥", "龙泉"}
	genTrades = []string{"电力", "建设", "物流", "食品"}
	// County-level administrative division codes (the first 6 digits of an ID number).
	genRegions = []string{"110101", "110105", "120101", "130102", "140105", "210102", "310104", "310115", "320102", "320506",
		"330106", "340104", "350203", "370102", "410105", "420106", "430104", "440106", "440305", "500103", "510107", "610113"}
	genMobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
		"156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199"}
)

// GenUnits is the number of distinct units Generate spreads members over
// (len(genPlaces) * len(genTrades)).
const GenUnits = 124

// genUnit returns the i-th generated unit name, e.g. "城关电力公司工会".
func genUnit(i int) string {
	return genPlaces[i/len(genTrades)%len(genPlaces)] + genTrades[i%len(genTrades)] + "公司工会"
}

// idCheckDigit computes the ISO 7064 MOD 11-2 check character of an 18-digit
// resident ID number from its first 17 digits.
func idCheckDigit(first17 string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// genRow is one generated member.
type genRow struct {
	memberNo, name, idNumber, phone, unit string
	joined                                time.Time
	dateStyle                             int // how the CSV spells the date
	years, status                         string
}

// generator yields realistic, valid and mutually distinct roster rows.
type generator struct {
	rng  *rand.Rand
	seen map[string]struct{}
	i    int
}

func newGenerator(seed int64) *generator {
	return &generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x726f73746572)), seen: make(map[string]struct{})}
}

func (g *generator) next() genRow {
	g.i++
	r := g.rng
	var row genRow
	row.memberNo = fmt.Sprintf("GH%08d", g.i)
	name := []rune{genSurnames[r.IntN(len(genSurnames))], genGiven[r.IntN(len(genGiven))]}
	if r.IntN(3) > 0 {
		name = append(name, genGiven[r.IntN(len(genGiven))])
	}
	row.name = string(name)
	for {
		birth := time.Date(1965, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(40*365))
		first17 := genRegions[r.IntN(len(genRegions))] + birth.Format("20060102") + fmt.Sprintf("%03d", r.IntN(1000))
		if _, dup := g.seen[first17]; dup {
			continue
		}
		g.seen[first17] = struct{}{}
		row.idNumber = first17 + string(idCheckDigit(first17))
		break
	}
	if r.IntN(10) > 0 {
		row.phone = genMobilePrefixes[r.IntN(len(genMobilePrefixes))] + fmt.Sprintf("%08d", r.IntN(100000000))
	}
	row.unit = genUnit(r.IntN(GenUnits))
	row.joined = time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(30*365))
	row.dateStyle = r.IntN(10)
	switch n := r.IntN(10); {
	case n < 6:
		row.years = "2025;2026"
	case n < 8:
		row.years = "2026"
	}
	switch n := r.IntN(20); {
	case n == 0:
		row.status = "转出"
	case n == 1:
		row.status = "退会"
	default:
		row.status = "在册"
	}
	return row
}

func (row genRow) csvDate() string {
	switch row.dateStyle {
	case 0:
		return row.joined.Format("2006/1/2")
	case 1:
		return fmt.Sprintf("%d年%d月%d日", row.joined.Year(), row.joined.Month(), row.joined.Day())
	case 2:
		return row.joined.Format("20060102")
	default:
		return row.joined.Format("2006-01-02")
	}
}

// Generate writes an n-row valid roster CSV (UTF-8 with BOM, canonical headers) of
// realistic members: distinct member numbers and checksummed ID numbers, mobile
// phones, about 124 units, join dates in several accepted spellings, mutual-aid
// years such as "2025;2026". The same seed gives the same file.
func Generate(w io.Writer, n int, seed int64) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return fmt.Errorf("generate roster: %w", err)
	}
	cw := csv.NewWriter(bw)
	header := CanonicalHeader()
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("generate roster: %w", err)
	}
	g := newGenerator(seed)
	rec := make([]string, len(header))
	for range n {
		row := g.next()
		rec[0], rec[1], rec[2], rec[3] = row.memberNo, row.name, row.idNumber, row.phone
		rec[4], rec[5], rec[6], rec[7] = row.unit, row.csvDate(), row.years, row.status
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("generate roster: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("generate roster: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("generate roster: %w", err)
	}
	return nil
}

// GenerateXLSX writes the same members as Generate(w, n, seed) to an XLSX file at
// path, with join dates as real Excel date cells.
func GenerateXLSX(path string, n int, seed int64) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("generate roster xlsx: %w", cerr)
		}
	}()
	sheet := f.GetSheetName(0)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("generate roster xlsx: %w", err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return fmt.Errorf("generate roster xlsx: %w", err)
	}
	header := CanonicalHeader()
	vals := make([]any, len(header))
	for i, h := range header {
		vals[i] = h
	}
	if err := sw.SetRow("A1", vals); err != nil {
		return fmt.Errorf("generate roster xlsx: %w", err)
	}
	g := newGenerator(seed)
	for i := range n {
		row := g.next()
		vals := []any{row.memberNo, row.name, row.idNumber, row.phone, row.unit,
			excelize.Cell{StyleID: dateStyle, Value: row.joined}, row.years, row.status}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), vals); err != nil {
			return fmt.Errorf("generate roster xlsx: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("generate roster xlsx: %w", err)
	}
	if err := f.SaveAs(path); err != nil {
		return fmt.Errorf("generate roster xlsx: %w", err)
	}
	return nil
}
