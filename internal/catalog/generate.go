package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/sqldb"
)

// GenDept is a department that generated items are spread over: its id,
// its region and its credit code (which the implementation code needs).
type GenDept struct {
	ID, Region, USCC string
}

// Generated items take their basic-code main numbers from 10000 up, above
// the demo catalogue's (below 10000), so the two never collide.
const (
	genMainBase  = 10000
	genMainSpill = 90000 // used only when a department exhausts a kind's sub numbers
)

// genAudience is a 服务对象 prefix of a generated name.
type genAudience struct {
	prefix string
	aud    []Audience
	legal  bool // an organisation: enterprise themes apply
}

var genAudiences = []genAudience{
	{"个人", []Audience{Person}, false}, {"城乡居民", []Audience{Person}, false}, {"职工", []Audience{Person}, false},
	{"灵活就业人员", []Audience{Person}, false}, {"农牧民", []Audience{Person}, false}, {"退役军人", []Audience{Person}, false},
	{"残疾人", []Audience{Person}, false}, {"老年人", []Audience{Person}, false}, {"高校毕业生", []Audience{Person}, false},
	{"外籍人员", []Audience{Person}, false}, {"港澳台居民", []Audience{Person}, false},
	{"企业", []Audience{Legal}, true}, {"社会组织", []Audience{Legal}, true}, {"个体工商户", []Audience{Person, Legal}, true},
	{"事业单位", []Audience{Legal}, true}, {"农民专业合作社", []Audience{Legal}, true}, {"外商投资企业", []Audience{Legal}, true},
	{"民办非企业单位", []Audience{Legal}, true},
}

// Subject categories decide which actions make sense.
const (
	catLicence   = iota // 经营许可
	catInsurance        // 社会保险类
	catCert             // 证件
	catRegister         // 登记类
)

type genSubject struct {
	name, alias, theme, law, result string
	cat                             int
	who                             int // forAnyone, forPersons or forOrgs
}

// Who a subject serves, so that names stay plausible (no 企业护照申领).
const (
	forAnyone = iota
	forPersons
	forOrgs
)

// genAudiencesFor lists, per subject, the indexes of the audiences that fit.
var genAudiencesFor = func() [][]int {
	out := make([][]int, len(genSubjects))
	for si, s := range genSubjects {
		for ai, a := range genAudiences {
			if s.who == forAnyone || (s.who == forOrgs) == a.legal {
				out[si] = append(out[si], ai)
			}
		}
	}
	return out
}()

var genSubjects = []genSubject{
	{"食品经营", "食品证", "经营许可", "中华人民共和国食品安全法", "食品经营许可证", catLicence, forOrgs},
	{"道路运输经营", "运输证", "经营许可", "中华人民共和国道路运输条例", "道路运输经营许可证", catLicence, forOrgs},
	{"建设工程施工", "施工证", "经营许可", "中华人民共和国建筑法", "建筑工程施工许可证", catLicence, forOrgs},
	{"药品经营", "药证", "经营许可", "中华人民共和国药品管理法", "药品经营许可证", catLicence, forOrgs},
	{"排污", "排污证", "经营许可", "排污许可管理条例", "排污许可证", catLicence, forOrgs},
	{"取水", "取水证", "经营许可", "取水许可和水资源费征收管理条例", "取水许可证", catLicence, forOrgs},
	{"危险化学品经营", "危化证", "经营许可", "危险化学品安全管理条例", "危险化学品经营许可证", catLicence, forOrgs},
	{"旅行社业务经营", "旅行社", "经营许可", "旅行社条例", "旅行社业务经营许可证", catLicence, forOrgs},
	{"娱乐场所经营", "娱乐证", "经营许可", "娱乐场所管理条例", "娱乐经营许可证", catLicence, forOrgs},
	{"出版物经营", "出版证", "经营许可", "出版管理条例", "出版物经营许可证", catLicence, forOrgs},
	{"人力资源服务", "人力证", "经营许可", "人力资源市场暂行条例", "人力资源服务许可证", catLicence, forOrgs},
	{"劳务派遣经营", "派遣证", "经营许可", "中华人民共和国劳动合同法", "劳务派遣经营许可证", catLicence, forOrgs},
	{"民办学校办学", "办学证", "上学", "中华人民共和国民办教育促进法", "办学许可证", catLicence, forOrgs},
	{"公共场所卫生", "卫生证", "经营许可", "公共场所卫生管理条例", "公共场所卫生许可证", catLicence, forOrgs},
	{"放射诊疗", "放射证", "经营许可", "中华人民共和国职业病防治法", "放射诊疗许可证", catLicence, forOrgs},
	{"医疗机构执业", "执业证", "经营许可", "医疗机构管理条例", "医疗机构执业许可证", catLicence, forOrgs},
	{"兽药经营", "兽药证", "经营许可", "兽药管理条例", "兽药经营许可证", catLicence, forOrgs},
	{"林草种子生产经营", "种子证", "经营许可", "中华人民共和国种子法", "林草种子生产经营许可证", catLicence, forOrgs},
	{"草原征占用", "草原证", "经营许可", "中华人民共和国草原法", "草原征占用审核同意书", catLicence, forOrgs},
	{"特种设备使用", "特设证", "经营许可", "中华人民共和国特种设备安全法", "特种设备使用登记证", catLicence, forOrgs},
	{"社会保险", "社保", "社保", "中华人民共和国社会保险法", "社会保险登记信息", catInsurance, forAnyone},
	{"医疗保险", "医保", "医保", "中华人民共和国社会保险法", "医疗保险参保信息", catInsurance, forAnyone},
	{"养老保险", "养老", "退休", "中华人民共和国社会保险法", "养老保险参保信息", catInsurance, forAnyone},
	{"失业保险", "失业", "就业", "失业保险条例", "失业保险参保信息", catInsurance, forAnyone},
	{"工伤保险", "工伤", "社保", "工伤保险条例", "工伤保险参保信息", catInsurance, forAnyone},
	{"生育保险", "生育", "出生", "中华人民共和国社会保险法", "生育保险参保信息", catInsurance, forAnyone},
	{"住房公积金", "公积金", "住房", "住房公积金管理条例", "住房公积金账户信息", catInsurance, forAnyone},
	{"营业执照", "执照", "企业开办", "中华人民共和国市场主体登记管理条例", "营业执照", catCert, forOrgs},
	{"护照", "护照", "出行", "中华人民共和国护照法", "普通护照", catCert, forPersons},
	{"居民身份证", "身份证", "户籍", "中华人民共和国居民身份证法", "居民身份证", catCert, forPersons},
	{"机动车驾驶证", "驾照", "出行", "中华人民共和国道路交通安全法", "机动车驾驶证", catCert, forPersons},
	{"居住证", "居住证", "户籍", "居住证暂行条例", "居住证", catCert, forPersons},
	{"往来港澳通行证", "港澳证", "出行", "中华人民共和国出境入境管理法", "往来港澳通行证", catCert, forPersons},
	{"社会保障卡", "社保卡", "社保", "中华人民共和国社会保险法", "社会保障卡", catCert, forPersons},
	{"残疾人证", "残疾证", "社保", "中华人民共和国残疾人保障法", "残疾人证", catCert, forPersons},
	{"教师资格证", "教资", "就业", "教师资格条例", "教师资格证书", catCert, forPersons},
	{"户口", "户口", "户籍", "中华人民共和国户口登记条例", "居民户口簿", catRegister, forPersons},
	{"不动产", "房产", "住房", "不动产登记暂行条例", "不动产权证书", catRegister, forAnyone},
	{"婚姻", "婚姻", "婚姻", "婚姻登记条例", "婚姻登记证", catRegister, forPersons},
	{"机动车", "车辆", "出行", "中华人民共和国道路交通安全法", "机动车登记证书", catRegister, forAnyone},
	{"社会团体", "社团", "变更", "社会团体登记管理条例", "社会团体法人登记证书", catRegister, forOrgs},
	{"民办非企业单位", "民非", "变更", "民办非企业单位登记管理暂行条例", "民办非企业单位登记证书", catRegister, forOrgs},
	{"农民专业合作社", "合作社", "企业开办", "中华人民共和国农民专业合作社法", "营业执照", catRegister, forOrgs},
	{"动产抵押", "抵押", "变更", "中华人民共和国民法典", "动产抵押登记书", catRegister, forAnyone},
	{"商品房预售", "预售", "住房", "城市房地产开发经营管理条例", "商品房预售许可证", catRegister, forOrgs},
}

// genAction is what is done with a subject; it decides the item type.
type genAction struct {
	name, typ string
	steps     int // 0 on the spot, 1 four steps, 2 with 制证
	immediate bool
	theme     string // enterprise theme when the audience is an organisation
}

var genActions = [][]genAction{
	catLicence: {
		{"许可", "XK", 2, false, "经营许可"}, {"许可变更", "XK", 2, false, "变更"}, {"许可延续", "XK", 2, false, "经营许可"},
		{"许可注销", "XK", 1, false, "注销"}, {"许可证补办", "GG", 2, false, "经营许可"}, {"备案", "BA", 0, true, "经营许可"},
		{"年检", "JC", 1, false, "经营许可"}, {"核准", "XK", 1, false, "经营许可"}, {"审批", "XK", 1, false, "经营许可"},
	},
	catInsurance: {
		{"参保登记", "GG", 0, true, "企业开办"}, {"信息变更", "GG", 0, true, "变更"}, {"关系转移接续", "GG", 1, false, ""},
		{"待遇申领", "JF", 1, false, ""}, {"缴费申报", "ZS", 0, true, ""}, {"权益记录查询", "GG", 0, true, ""},
		{"证明开具", "GG", 0, true, ""}, {"注销登记", "GG", 1, false, "注销"}, {"补缴审核", "QR", 1, false, ""},
	},
	catCert: {
		{"申领", "QR", 2, false, ""}, {"补领", "QR", 2, false, ""}, {"换领", "QR", 2, false, ""},
		{"变更", "QR", 2, false, "变更"}, {"注销", "QR", 1, false, "注销"}, {"核发", "XK", 2, false, "企业开办"},
		{"补办", "GG", 2, false, ""}, {"信息更正", "QR", 1, false, "变更"}, {"有效期延续", "QR", 2, false, ""},
	},
	catRegister: {
		{"登记", "QR", 2, false, "企业开办"}, {"变更登记", "QR", 2, false, "变更"}, {"注销登记", "QR", 1, false, "注销"},
		{"转移登记", "QR", 2, false, "变更"}, {"信息查询", "GG", 0, true, ""}, {"证明开具", "GG", 0, true, ""},
		{"更正登记", "QR", 1, false, "变更"}, {"备案", "BA", 0, true, ""}, {"年度报告", "QT", 0, true, ""},
	},
}

const genActionsPerCat = 9

var genQualifiers = []string{"", "", "", "", "（首次）", "（网上办理）", "（告知承诺制）", "（简易程序）", "（跨省通办）", "（容缺受理）"}

var genVisitReasons = []string{
	"须本人到场现场采集人像和指纹信息", "须现场核验原件并签署承诺书", "须现场勘验经营场所",
	"须现场签署询问笔录", "须现场领取实物证件", "法律规定须本人亲自到场办理",
}

var genMaterials = []string{
	"申请书", "承诺书", "授权委托书", "经营场所使用证明", "法定代表人身份证明", "章程", "验收报告", "平面布局图",
	"设备设施清单", "人员资质证明", "管理制度文本", "情况说明", "原证件", "检测报告", "合同或协议", "近期免冠照片",
}

// Generate returns n varied, valid items for benchmarks, spread at random
// over depts (only those in regions when regions is not empty, and only
// those with a credit code). An item's region is its department's and its
// level follows from the region. The result depends only on the arguments:
// the same seed gives the same items. Names are unique within the result
// (a repeated name gets （第N类）), and so is each department's basic
// code, so implementation codes never collide — with each other, and with
// the demo catalogue, whose main numbers lie below 10000. It returns nil
// when no department qualifies.
func Generate(n int, seed int64, regions []string, depts []GenDept) []Item {
	in := map[string]bool{}
	for _, r := range regions {
		in[r] = true
	}
	type place struct {
		GenDept
		level int
	}
	var pool []place
	for _, d := range depts {
		if d.ID == "" || d.USCC == "" || len(regions) > 0 && !in[d.Region] {
			continue
		}
		norm, lv, _, err := org.ParseRegionCode(d.Region)
		if err != nil {
			continue
		}
		d.Region = norm
		pool = append(pool, place{d, map[org.Level]int{org.Province: 2, org.City: 3, org.County: 4, org.Township: 5}[lv]})
	}
	if len(pool) == 0 || n <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	names := make(map[string]int, n)
	codes := make(map[string]bool, n)
	out := make([]Item, 0, n)
	for range n {
		d := pool[rng.IntN(len(pool))]
		si := rng.IntN(len(genSubjects))
		subj := genSubjects[si]
		fits := genAudiencesFor[si]
		ai := fits[rng.IntN(len(fits))]
		aud := genAudiences[ai]
		acti := rng.IntN(genActionsPerCat)
		act := genActions[subj.cat][acti]
		qi := rng.IntN(len(genQualifiers))
		qual := genQualifiers[qi]

		base := aud.prefix + subj.name + act.name + qual
		name := base
		if c := names[base]; c > 0 {
			name = fmt.Sprintf("%s（第%d类）", base, c+1)
		}
		names[base]++

		// The same kind (audience, subject, action) shares the main number in
		// every department; the qualifier and repeats take the sub number.
		kind := (ai*len(genSubjects)+si)*genActionsPerCat + acti
		basic := ""
		for k := 0; k < 100 && basic == ""; k++ {
			if c := BasicCode(d.Region, act.typ, genMainBase+kind, qi+10*k); !codes[d.ID+c] {
				basic = c
			}
		}
		for m := 0; basic == ""; m++ {
			if c := BasicCode(d.Region, act.typ, genMainSpill+m/1000, m%1000); !codes[d.ID+c] {
				basic = c
			}
		}
		codes[d.ID+basic] = true

		it := Item{
			BasicCode: basic, Name: name, Type: act.typ, Level: d.level, Region: d.Region,
			DeptID: d.ID, DeptUSCC: d.USCC, Audiences: append([]Audience(nil), aud.aud...),
			Conditions: "符合" + subj.name + act.name + "条件的" + aud.prefix,
			Contact:    Contact{Location: "政务服务中心综合受理窗口", Hours: "周一至周五 9:00-17:00（法定节假日除外）", Phone: "12345", Complaint: "12345"},
		}
		it.Code = ImplementationCode(it.DeptUSCC, it.Level, it.BasicCode)
		if act.typ != "GG" || rng.IntN(10) < 6 {
			it.LegalBasis = []LegalBasis{{Name: subj.law, Article: fmt.Sprintf("第%d条", 1+rng.IntN(60))}}
			if act.typ == "XK" && rng.IntN(3) == 0 {
				it.LegalBasis = append(it.LegalBasis, LegalBasis{Name: "中华人民共和国行政许可法", Issuer: npcsc})
			}
		}

		// Time limits.
		if act.immediate || rng.IntN(5) == 0 {
			it.Kind = Immediate
			if rng.IntN(2) == 0 {
				it.LegalLimit = TimeLimit{Days: 20, Unit: Workday}
			}
		} else {
			it.Kind = Promised
			legal := []int{0, 20, 20, 20, 20, 30, 45, 60}[rng.IntN(8)]
			if legal > 0 {
				it.LegalLimit = TimeLimit{Days: legal, Unit: Workday}
			}
			it.PromisedLimit = TimeLimit{Days: 1 + rng.IntN(15), Unit: Workday}
			if rng.IntN(20) == 0 {
				it.Special = []Special{{Name: pick([]string{"专家评审", "现场核查", "检验检测", "听证"}), Limit: TimeLimit{Days: 5 + rng.IntN(20), Unit: Workday}}}
			}
		}

		// Materials: an identity document, then 1–4 others.
		if aud.legal {
			it.Materials = append(it.Materials, Material{Name: "营业执照或法人登记证书", Type: 1, Source: 20, Necessity: 1, Form: 3, Originals: 1})
		} else {
			it.Materials = append(it.Materials, Material{Name: "申请人居民身份证", Type: 1, Source: 20, Necessity: 1, Form: 3, Originals: 1})
		}
		for j, k := 0, 1+rng.IntN(4); j < k; j++ {
			it.Materials = append(it.Materials, Material{
				Name: subj.name + pick(genMaterials), Type: 2 + rng.IntN(2), Source: []int{10, 10, 20, 99}[rng.IntN(4)],
				Necessity: 1 + rng.IntN(3), Form: 1 + rng.IntN(3), Originals: rng.IntN(2), Copies: rng.IntN(3),
			})
		}
		switch act.steps {
		case 0:
			it.Steps = []Step{{Name: "受理"}, {Name: "办结"}}
		case 1:
			it.Steps = []Step{{Name: "受理"}, {Name: "审查"}, {Name: "决定"}, {Name: "送达"}}
		default:
			it.Steps = []Step{{Name: "受理"}, {Name: "审查"}, {Name: "决定"}, {Name: "制证"}, {Name: "送达"}}
		}
		rtype := "证照"
		if act.steps != 2 {
			rtype = pick([]string{"证明文件", "批文", "其他"})
		}
		it.Results = []Result{{Type: rtype, Name: subj.result}}
		if rng.IntN(16) == 0 {
			it.Fee = Fee{Charged: true, Basis: "按国家和自治区价格主管部门、财政部门核定的标准收取", Items: subj.result + "工本费",
				Standard: fmt.Sprintf("%d元/件", []int{5, 10, 20, 40, 80}[rng.IntN(5)]), OnlinePay: pick([]string{"yes", "no"})}
		}

		// Online depth, visits and channels (consistent by construction).
		switch lv := []int{4, 4, 4, 4, 4, 3, 3, 3, 2, 1}[rng.IntN(10)]; lv {
		case 4:
			it.Depth = Depth{Codes: []int{1, 2, 3, 4, 5, 6, 7}, Level: 4}
			it.Channels = []Channel{Online, Mobile, Window}
		case 3:
			it.Depth = Depth{Codes: []int{1, 2, 3, 4}, Level: 3}
			it.Channels = []Channel{Online, Window}
			if rng.IntN(2) == 0 {
				it.Visits, it.VisitReason = 1, pick(genVisitReasons)
			}
		default:
			it.Depth = Depth{Codes: []int{1, 2}[:lv], Level: lv}
			if rng.IntN(2) == 0 {
				it.Channels = []Channel{Window, Mail}
			} else {
				it.Channels = []Channel{Appointment, Window}
				it.Visits, it.VisitReason = 1+rng.IntN(2), pick(genVisitReasons)
			}
		}
		it.Scope = []string{"province", "province", "province", "city", "city", "county", "national", "cross_province", "none"}[rng.IntN(9)]
		if qual == "（跨省通办）" {
			it.Scope = "cross_province"
		}
		if (it.Scope == "national" || it.Scope == "cross_province") && rng.IntN(2) == 0 {
			it.CrossProvince = pick(CrossProvinceModes)
		}
		it.OneWindow = rng.IntN(10) < 7
		it.Themes = []string{subj.theme}
		if aud.legal && act.theme != "" && act.theme != subj.theme {
			it.Themes = append(it.Themes, act.theme)
		}
		it.Keywords = []string{subj.name, act.name, subj.name + act.name}
		it.Aliases = []string{subj.alias}
		out = append(out, it)
	}
	return out
}

// genBatch is the most items SeedGenerated writes per transaction.
const genBatch = 1000

// SeedGenerated stores already generated items directly as published
// version 1, bypassing the editing lifecycle, for benchmarks and load
// tests. Items are written in implementation-code order, up to 1,000 per
// transaction, with multi-row INSERTs into catalog_items and
// catalog_item_versions and one audit entry per transaction
// ("catalog.items.generate" with the count). Each item is still checked;
// its department must exist, be active and cover its region, and it must
// carry a credit code (which is not compared with the department's: org's
// DeptRef has none). The department name and implementation code are filled
// in. No outbox events are written: the search index picks the items up on
// its next rebuild. It returns how many items were stored; an invalid item
// or a failing transaction stops the run, keeping the transactions already
// committed.
func (s *Service) SeedGenerated(ctx context.Context, items []Item) (int, error) {
	const op = "catalog.SeedGenerated"
	types, err := s.Types(ctx)
	if err != nil {
		return 0, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, it := range items {
		if !seen[it.DeptID] {
			seen[it.DeptID] = true
			ids = append(ids, it.DeptID)
		}
	}
	refs := map[string]org.DeptRef{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		got, err := s.org.DepartmentRefs(ctx, chunk)
		if err != nil {
			return 0, err
		}
		for k, v := range got {
			refs[k] = v
		}
	}
	// Writing in implementation-code order (credit code first) keeps each
	// transaction's index changes on few pages: in input order, 1,000 items
	// spread over many departments dirty about a page each in the code and
	// department indexes, which made writes several times slower.
	order := make([]int, len(items))
	keys := make([]string, len(items))
	for i, it := range items {
		order[i] = i
		keys[i] = ImplementationCode(it.DeptUSCC, it.Level, it.BasicCode)
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	keys = nil
	stored := 0
	for start := 0; start < len(order); start += genBatch {
		batch := order[start:min(start+genBatch, len(order))]
		rows := make([]genRow, len(batch))
		for j, i := range batch {
			it := items[i]
			if err := it.Check(types); err != nil {
				return stored, fmt.Errorf("%s: item %d (%s): %w", op, i, it.Name, err)
			}
			ref, ok := refs[it.DeptID]
			switch {
			case !ok:
				return stored, fmt.Errorf("%s: item %d (%s): department %s not found", op, i, it.Name, it.DeptID)
			case !ref.Active:
				return stored, fmt.Errorf("%s: item %d (%s): department %s is inactive", op, i, it.Name, it.DeptID)
			case !authz.RegionWithin(it.Region, ref.Region):
				return stored, fmt.Errorf("%s: item %d (%s): region %s outside its department's %s", op, i, it.Name, it.Region, ref.Region)
			case it.DeptUSCC == "":
				return stored, fmt.Errorf("%s: item %d (%s): no credit code for the implementation code", op, i, it.Name)
			}
			it.DeptName = ref.Name
			it.Code = ImplementationCode(it.DeptUSCC, it.Level, it.BasicCode)
			data, err := json.Marshal(it)
			if err != nil {
				return stored, err
			}
			rows[j] = genRow{id: sqldb.NewID(), it: it, path: ref.Path, data: string(data)}
		}
		if err := s.insertGenerated(ctx, rows); err != nil {
			return stored, fmt.Errorf("%s: %d items from %s: %w", op, len(rows), rows[0].it.Code, err)
		}
		stored += len(rows)
	}
	return stored, nil
}

type genRow struct {
	id   string
	it   Item
	path string
	data string
}

// genRowsPerStmt bounds the rows of one INSERT. SQLite looks numbered
// parameters up by name, at a cost that grows with the square of their
// number in a statement, so it gets short statements; PostgreSQL gains from
// fewer round trips.
func genRowsPerStmt(d sqldb.Dialect) int {
	if d == sqldb.SQLite {
		return 50
	}
	return 250
}

// insertGenerated writes one batch in one transaction.
func (s *Service) insertGenerated(ctx context.Context, rows []genRow) error {
	now, per := s.now(), genRowsPerStmt(s.db.Dialect)
	const (
		itemCols = `INSERT INTO catalog_items (id, code, basic_code, name, type_code, level, region_code, dept_id, dept_path,
			status, draft_version, published_version, created_at, updated_at) VALUES `
		itemTuple    = "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $1, 0, 1, $2, $2)"
		versionCols  = `INSERT INTO catalog_item_versions (item_id, version_no, status, data, note, author_id, author_name, reviewer_id, created_at, updated_at, published_at) VALUES `
		versionTuple = "($%d, 1, $1, $%d, $2, $3, $4, $5, $6, $6, $6)"
	)
	region := ""
	for i, r := range rows {
		if p := r.it.Region[:2] + "0000"; i == 0 {
			region = p
		} else if p != region {
			region = ""
		}
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		for start := 0; start < len(rows); start += per {
			chunk := rows[start:min(start+per, len(rows))]
			args := make([]any, 0, 2+9*len(chunk))
			args = append(args, StatusPublished, now)
			for _, r := range chunk {
				args = append(args, r.id, r.it.Code, r.it.BasicCode, r.it.Name, r.it.Type, r.it.Level, r.it.Region, r.it.DeptID, r.path)
			}
			if _, err := tx.ExecContext(ctx, itemCols+insertValues(len(chunk), 2, 9, itemTuple), args...); err != nil {
				return err
			}
			args = make([]any, 0, 6+2*len(chunk))
			args = append(args, VersionPublished, "批量生成", "system", "系统", "system", now)
			for _, r := range chunk {
				args = append(args, r.id, r.data)
			}
			if _, err := tx.ExecContext(ctx, versionCols+insertValues(len(chunk), 6, 2, versionTuple), args...); err != nil {
				return err
			}
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "catalog.items.generate", TargetType: "catalog_item", TargetID: rows[0].id, Region: region,
			Detail: map[string]any{"count": len(rows), "first": rows[0].it.Code, "last": rows[len(rows)-1].it.Code}})
	})
}

// insertValues repeats the row tuple n times, numbering each row's own
// placeholders after the shared ones: tuple has per %d verbs.
func insertValues(n, shared, per int, tuple string) string {
	var b strings.Builder
	b.Grow(n * (len(tuple) + 8*per))
	nums := make([]any, per)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		for j := range nums {
			nums[j] = shared + i*per + j + 1
		}
		fmt.Fprintf(&b, tuple, nums...)
	}
	return b.String()
}
