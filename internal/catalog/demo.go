package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"yiwang/internal/org"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
)

// The demo catalogue: the common items of a citizen's life events and an
// enterprise's lifecycle, implemented by the demo province's departments
// (org.SeedDemo) at the levels where they are usually handled.
//
// Legal bases name real laws and regulations. Article texts are short
// paraphrases marked （条文大意）, not quotations; document numbers and
// dates are given only where they are well known, otherwise left empty.
// Credit codes, and therefore implementation codes, are demo values.

// demoCountiesPerCapital is how many counties of the first city (the
// capital: 呼和浩特市 → 新城区, 回民区, 玉泉区, 赛罕区) get county copies.
const demoCountiesPerCapital = 4

// demoKind is one kind of item: its elements, its basic-code numbers (the
// same in every region, so the basic code is shared and the implementation
// code differs by department), and the department that implements it at
// the province, city and county level ("" where it is not implemented).
// Conditions and other texts may say {地} for "本自治区/本市/本区" and
// {名} for the region's name.
type demoKind struct {
	main, sub int
	depts     [3]string // level 2, 3, 4
	item      Item
}

// demoPlace is a region that gets items.
type demoPlace struct {
	level      int
	code, name string
	here       string // 本自治区, 本市, 本盟, 本区 …
}

// SeedDemo publishes the demo catalogue for province through the real
// lifecycle: each item is created and submitted by the system and approved
// by a second system principal (authors cannot approve their own
// versions). depts is org.DemoResult.DeptIDs ("150100/公安局" → id); kinds
// whose department is missing there are skipped. It expects none of these
// items to exist yet and returns how many it published; fewer than 100 is
// an error (the departments were probably not seeded).
func (s *Service) SeedDemo(ctx context.Context, province string, depts map[string]string) (int, error) {
	const op = "catalog.SeedDemo"
	grants := []authz.Grant{{Role: authz.PlatformAdmin, Region: province}}
	author := &authz.Principal{UserID: "system", Name: "系统", Grants: grants}
	reviewer := &authz.Principal{UserID: "system-review", Name: "系统（审核）", Grants: grants}
	authorCtx := audit.WithActor(ctx, audit.System)
	reviewCtx := audit.WithActor(ctx, audit.Actor{ID: reviewer.UserID, Name: reviewer.Name})

	places, err := s.demoPlaces(ctx, province)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n := 0
	for _, pl := range places {
		for _, k := range demoKinds() {
			short := k.depts[pl.level-2]
			if short == "" {
				continue
			}
			deptID, ok := depts[pl.code+"/"+short]
			if !ok {
				continue
			}
			it := k.place(province, pl, deptID)
			r, err := s.Create(authorCtx, author, it)
			if err != nil {
				return n, fmt.Errorf("%s: create %s (%s): %w", op, it.Name, pl.name, err)
			}
			if err := s.Submit(authorCtx, author, r.ID, r.Version); err != nil {
				return n, fmt.Errorf("%s: submit %s (%s): %w", op, it.Name, pl.name, err)
			}
			// Submit bumped the row's version by one.
			if err := s.Review(reviewCtx, reviewer, r.ID, true, "演示数据，审核通过", r.Version+1); err != nil {
				return n, fmt.Errorf("%s: approve %s (%s): %w", op, it.Name, pl.name, err)
			}
			n++
		}
	}
	if n < 100 {
		return n, fmt.Errorf("%s: only %d items published; are the demo departments of %s seeded?", op, n, province)
	}
	return n, nil
}

// demoPlaces lists the province, its cities, and the first counties of
// its first city.
func (s *Service) demoPlaces(ctx context.Context, province string) ([]demoPlace, error) {
	prov, err := s.org.Region(ctx, province)
	if err != nil {
		return nil, err
	}
	here := "本省"
	if strings.HasSuffix(prov.Name, "自治区") {
		here = "本自治区"
	}
	places := []demoPlace{{level: 2, code: prov.Code, name: prov.Name, here: here}}
	cities, err := s.org.Children(ctx, prov.Code, false)
	if err != nil {
		return nil, err
	}
	for _, c := range cities {
		here := "本市"
		if strings.HasSuffix(c.Name, "盟") {
			here = "本盟"
		}
		places = append(places, demoPlace{level: 3, code: c.Code, name: c.Name, here: here})
	}
	if len(cities) == 0 {
		return places, nil
	}
	counties, err := s.org.Children(ctx, cities[0].Code, false)
	if err != nil {
		return nil, err
	}
	for _, k := range counties {
		if len(places) == 1+len(cities)+demoCountiesPerCapital {
			break
		}
		if k.Name == "市辖区" || k.Level != org.County {
			continue
		}
		name := []rune(k.Name)
		places = append(places, demoPlace{level: 4, code: k.Code, name: k.Name, here: "本" + string(name[len(name)-1:])}) // 本区, 本旗, 本县
	}
	return places, nil
}

// place makes the kind's item for one region and department.
func (k demoKind) place(province string, pl demoPlace, deptID string) Item {
	it := cloneItem(k.item)
	it.BasicCode = BasicCode(province, it.Type, k.main, k.sub)
	it.Level, it.Region, it.DeptID = pl.level, pl.code, deptID
	r := strings.NewReplacer("{地}", pl.here, "{名}", pl.name)
	it.Conditions = r.Replace(it.Conditions)
	it.VisitReason = r.Replace(it.VisitReason)
	for i := range it.Steps {
		it.Steps[i].Description = r.Replace(it.Steps[i].Description)
	}
	hall := pl.name + "政务服务中心"
	it.Contact = Contact{
		Location:  hall + "综合受理窗口",
		Hours:     "周一至周五 上午9:00-12:00，下午13:30-17:00（法定节假日除外）",
		Phone:     "12345",
		Complaint: "12345",
		FAQ:       r.Replace(it.Contact.FAQ),
	}
	return it
}

// cloneItem copies it deeply enough that Check's in-place normalisation of
// one copy cannot reach another.
func cloneItem(it Item) Item {
	it.Audiences = slices.Clone(it.Audiences)
	it.LegalBasis = slices.Clone(it.LegalBasis)
	it.Special = slices.Clone(it.Special)
	it.Materials = slices.Clone(it.Materials)
	it.Form = slices.Clone(it.Form) // 办件表单
	for i := range it.Form {
		it.Form[i].Options = slices.Clone(it.Form[i].Options)
	}
	it.Steps = slices.Clone(it.Steps)
	it.Results = slices.Clone(it.Results)
	it.Depth.Codes = slices.Clone(it.Depth.Codes)
	it.Channels = slices.Clone(it.Channels)
	it.Themes = slices.Clone(it.Themes)
	it.Keywords = slices.Clone(it.Keywords)
	it.Aliases = slices.Clone(it.Aliases)
	return it
}

// Material helpers: numeric codes as in Material (类型 1 证件证书证明,
// 2 申请表格文书, 3 其他; 来源 10 申请人自备, 20 政府部门核发; 必要性 1 必要,
// 2 非必要, 3 容缺后补; 形式 1 纸质, 2 电子化, 3 纸质+电子).

// cert is a certificate issued by a government body, shown in original.
func cert(name string) Material {
	return Material{Name: name, Type: 1, Source: 20, Necessity: 1, Form: 3, Originals: 1, Notes: "可通过电子证照共享核验的，免于提交"}
}

// optionalCert is a certificate that may be supplied later (容缺后补).
func optionalCert(name string) Material {
	return Material{Name: name, Type: 1, Source: 20, Necessity: 3, Form: 3, Copies: 1}
}

// form is an application form filled in online or at the window.
func form(name string) Material {
	return Material{Name: name, Type: 2, Source: 10, Necessity: 1, Form: 2, Originals: 1, Paper: "A4", Notes: "网上申请时在线填写，窗口申请时现场填写并签字"}
}

// own is another document the applicant brings.
func own(name string, necessity int) Material {
	return Material{Name: name, Type: 3, Source: 10, Necessity: necessity, Form: 3, Originals: 1}
}

func photo() Material {
	return Material{Name: "近期免冠彩色证件照片", Type: 3, Source: 10, Necessity: 1, Form: 1, Originals: 2, Notes: "白色背景，可在受理现场免费拍摄"}
}

// Step sequences.
var (
	stepAccept  = Step{Name: "受理", Group: "申请与受理", Description: "网上或窗口收件；材料齐全、符合法定形式的当场受理，材料不全的一次性告知需要补正的全部内容"}
	stepReview  = Step{Name: "审查", Group: "审查与决定", Description: "对申请材料进行审查，必要时核实有关情况"}
	stepDecide  = Step{Name: "决定", Group: "审查与决定", Description: "作出准予或不予办理的决定；不予办理的书面说明理由并告知救济途径"}
	stepMake    = Step{Name: "制证", Group: "颁证与送达", Description: "制作证件或结果文书"}
	stepDeliver = Step{Name: "送达", Group: "颁证与送达", Description: "窗口领取、免费邮寄或推送电子证照"}
	stepsFull   = []Step{stepAccept, stepReview, stepDecide, stepDeliver}
	stepsCert   = []Step{stepAccept, stepReview, stepDecide, stepMake, stepDeliver}
	stepsOnSpot = []Step{{Name: "受理", Group: "申请与受理", Description: "核验身份和材料"}, {Name: "办结", Group: "审查与决定", Description: "当场审核并办结，出具结果"}}
)

// Depth presets: 全程网办 (Ⅳ) and 网上预审 (Ⅲ).
func fullOnline() Depth { return Depth{Codes: []int{1, 2, 3, 4, 5, 6, 7}, Level: 4} }
func preReview() Depth  { return Depth{Codes: []int{1, 2, 3}, Level: 3} }
func appointOnly() Depth {
	return Depth{Codes: []int{1, 2}, Level: 2}
}

var (
	onlineChannels = []Channel{Online, Mobile, Window}
	visitChannels  = []Channel{Appointment, Window, Online}
)

// Legal bases used by several kinds.
func law(name, docNo, issuer, effective, article, content string) LegalBasis {
	return LegalBasis{Name: name, DocNo: docNo, Issuer: issuer, Effective: effective, Article: article, Content: content}
}

const npcsc = "全国人民代表大会常务委员会"

var (
	lawSocialInsurance = func(content string) LegalBasis {
		return law("中华人民共和国社会保险法", "主席令第三十五号", npcsc, "2011-07-01", "", "（条文大意）"+content)
	}
	lawMarketReg = func(content string) LegalBasis {
		return law("中华人民共和国市场主体登记管理条例", "国务院令第746号", "国务院", "2022-03-01", "", "（条文大意）"+content)
	}
	lawOneThing = law("国务院关于进一步优化政务服务提升行政效能推动“高效办成一件事”的指导意见", "国发〔2024〕3号", "国务院", "", "",
		"（文件大意）围绕企业和个人全生命周期，推动关联性强、办理量大的事项集成办理，实现一次告知、一表申请、一套材料、一次办成。")
	lawRealEstate = law("不动产登记暂行条例", "国务院令第656号", "国务院", "2015-03-01", "第二十条",
		"（条文大意）不动产登记机构应当自受理登记申请之日起30个工作日内办结不动产登记手续，法律另有规定的除外。")
)

// Themes (主题) of life events and the enterprise lifecycle.
const (
	thBirth    = "出生"
	thSchool   = "上学"
	thJob      = "就业"
	thMarriage = "婚姻"
	thHousing  = "住房"
	thRetire   = "退休"
	thSocial   = "社保"
	thMedical  = "医保"
	thHukou    = "户籍"
	thTravel   = "出行"
	thOpen     = "企业开办"
	thChange   = "变更"
	thClose    = "注销"
	thLicence  = "经营许可"
)

// demoKinds returns the demo item kinds, in display order.
func demoKinds() []demoKind {
	person := []Audience{Person}
	legal := []Audience{Legal}
	workday := func(d int) TimeLimit { return TimeLimit{Days: d, Unit: Workday} }
	natural := func(d int) TimeLimit { return TimeLimit{Days: d, Unit: Natural} }
	free := Fee{}
	return withDemoForms([]demoKind{
		// 出生
		{main: 101, sub: 1, depts: [3]string{"", "卫生健康委员会", "卫生健康委员会"}, item: Item{
			Name: "出生医学证明首次签发", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{law("中华人民共和国母婴保健法", "", npcsc, "1995-06-01", "第二十三条",
				"（条文大意）医疗保健机构和从事家庭接生的人员按照国务院卫生行政部门的规定，出具统一制发的新生儿出生医学证明。")},
			Conditions: "在{地}依法取得助产技术服务资质的医疗保健机构内出生的新生儿；由新生儿父母或其监护人申请",
			LegalLimit: workday(20), PromisedLimit: workday(3), Kind: Promised,
			Materials: []Material{
				cert("新生儿父母双方居民身份证"),
				form("出生医学证明首次签发登记表"),
				optionalCert("结婚证"),
				{Name: "新生儿住院分娩记录（助产机构出具）", Type: 1, Source: 99, Necessity: 1, Form: 2, Notes: "由助产机构系统推送，无需申请人提交"},
			},
			Steps: stepsCert, Results: []Result{{Type: "证照", Name: "出生医学证明", Validity: "长期"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "province", OneWindow: true,
			Themes: []string{thBirth}, Keywords: []string{"出生", "出生证明", "新生儿", "出生医学证明"}, Aliases: []string{"出生证", "出生证明"},
			Contact: Contact{FAQ: "出生医学证明是新生儿申报户口、参加医保的依据；新生儿姓名确定后再申请，以免换发"},
		}},
		{main: 101, sub: 2, depts: [3]string{"", "卫生健康委员会", "卫生健康委员会"}, item: Item{
			Name: "出生医学证明补发", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{law("中华人民共和国母婴保健法", "", npcsc, "1995-06-01", "第二十三条",
				"（条文大意）医疗保健机构和从事家庭接生的人员按照国务院卫生行政部门的规定，出具统一制发的新生儿出生医学证明。")},
			Conditions: "在{地}出生、已签发出生医学证明但遗失的，由新生儿父母或监护人申请补发",
			LegalLimit: workday(20), PromisedLimit: workday(10), Kind: Promised,
			Materials: []Material{
				cert("新生儿父母双方居民身份证"),
				form("出生医学证明补发申请表"),
				own("新生儿户口簿或遗失情况说明", 1),
			},
			Steps: stepsCert, Results: []Result{{Type: "证照", Name: "出生医学证明（补发）", Validity: "长期"}},
			Fee: free, Depth: preReview(), Visits: 1, VisitReason: "须由签发机构现场核验亲子关系材料原件",
			Channels: visitChannels, Scope: "province",
			Themes: []string{thBirth}, Keywords: []string{"出生证明补办", "出生证遗失"}, Aliases: []string{"出生证", "补出生证"},
		}},
		{main: 102, sub: 0, depts: [3]string{"", "卫生健康委员会", "卫生健康委员会"}, item: Item{
			Name: "生育登记", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{law("中华人民共和国人口与计划生育法", "", npcsc, "2002-09-01", "",
				"（条文大意）国家提倡适龄婚育、优生优育，为育龄群众提供生育服务。")},
			Conditions: "夫妻双方或一方户籍在{地}，或在{地}居住的育龄夫妻",
			Kind:       Immediate,
			Materials: []Material{
				cert("夫妻双方居民身份证"),
				form("生育登记表"),
				optionalCert("结婚证"),
			},
			Steps: stepsOnSpot, Results: []Result{{Type: "证明文件", Name: "生育登记服务凭证（电子）"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "province", OneWindow: true,
			Themes: []string{thBirth, thMarriage}, Keywords: []string{"生育", "生育服务证", "孕前登记", "出生"}, Aliases: []string{"准生证", "生育证"},
		}},
		{main: 103, sub: 0, depts: [3]string{"", "公安局", "公安局"}, item: Item{
			Name: "新生儿入户（出生登记）", Type: "QR", Audiences: person,
			LegalBasis: []LegalBasis{law("中华人民共和国户口登记条例", "", npcsc, "1958-01-09", "第七条",
				"（条文大意）婴儿出生后一个月以内，由户主、亲属、抚养人或者邻居向婴儿常住地户口登记机关申报出生登记。")},
			Conditions: "在{地}出生，父母一方户籍在{地}，随父或随母申报常住户口",
			LegalLimit: workday(20), PromisedLimit: workday(1), Kind: Promised,
			Materials: []Material{
				cert("出生医学证明"),
				cert("父母双方居民身份证"),
				cert("随迁方居民户口簿"),
				optionalCert("结婚证"),
				form("出生登记申报表"),
			},
			Steps: stepsFull, Results: []Result{{Type: "证照", Name: "居民户口簿（新生儿页）", Validity: "长期"}},
			Fee: free, Depth: fullOnline(), Channels: append(slices.Clone(onlineChannels), Mail), Scope: "province", OneWindow: true,
			Themes: []string{thBirth, thHukou}, Keywords: []string{"出生", "上户口", "报户口", "出生登记", "新生儿落户"}, Aliases: []string{"户口", "落户", "上户"},
			Contact: Contact{FAQ: "新生儿应在出生后一个月内申报出生登记；可通过“出生一件事”与出生医学证明、医保参保一并办理"},
		}},
		{main: 104, sub: 0, depts: [3]string{"", "医疗保障局", "医疗保障局"}, item: Item{
			Name: "新生儿参加城乡居民基本医疗保险", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{lawSocialInsurance("城镇居民基本医疗保险实行个人缴费和政府补贴相结合；享受最低生活保障的人、丧失劳动能力的残疾人、低收入家庭六十周岁以上的老年人和未成年人等所需个人缴费部分，由政府给予补贴。")},
			Conditions: "在{地}出生并办理户籍登记，或父母一方在{地}参加基本医疗保险的新生儿",
			Kind:       Immediate,
			Materials: []Material{
				cert("新生儿出生医学证明"),
				cert("新生儿居民户口簿或公民身份号码"),
				form("城乡居民基本医疗保险参保登记表"),
			},
			Steps: stepsOnSpot, Results: []Result{{Type: "其他", Name: "参保登记信息（可在线查询）"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "province", OneWindow: true,
			Themes: []string{thBirth, thMedical}, Keywords: []string{"新生儿医保", "城乡居民医保", "参保登记", "出生"}, Aliases: []string{"医保", "居民医保"},
			Contact: Contact{FAQ: "出生后90日内参保并缴费的，自出生之日起享受待遇（以{名}现行政策为准）"},
		}},
		{main: 105, sub: 0, depts: [3]string{"医疗保障局", "医疗保障局", "医疗保障局"}, item: Item{
			Name: "生育医疗费用报销", Type: "JF", Audiences: person,
			LegalBasis: []LegalBasis{lawSocialInsurance("用人单位已经缴纳生育保险费的，其职工享受生育保险待遇；生育保险待遇包括生育医疗费用和生育津贴。")},
			Conditions: "在{地}参加职工基本医疗保险（生育保险）的职工，因生育发生的医疗费用未经直接结算的",
			LegalLimit: workday(20), PromisedLimit: workday(10), Kind: Promised,
			Materials: []Material{
				cert("参保人居民身份证或社会保障卡"),
				own("医疗费用票据", 1),
				own("费用明细清单及出院记录", 1),
				optionalCert("出生医学证明"),
			},
			Steps: stepsFull, Results: []Result{{Type: "其他", Name: "生育医疗费用支付到账"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "province",
			Themes: []string{thBirth, thMedical}, Keywords: []string{"生育保险", "生育报销", "生育津贴"}, Aliases: []string{"生育险"},
		}},
		{main: 106, sub: 0, depts: [3]string{"", "政务服务与数据管理局", "政务服务局"}, item: Item{
			Name: "出生一件事联办", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{lawOneThing},
			Conditions: "在{地}出生的新生儿，父母一方户籍在{地}；一次申请可同时办理出生医学证明、预防接种证、出生登记、社会保障卡申领、城乡居民医保参保登记等事项",
			LegalLimit: workday(20), PromisedLimit: workday(5), Kind: Promised,
			Materials: []Material{
				cert("父母双方居民身份证"),
				optionalCert("结婚证"),
				form("出生一件事联办申请表"),
				{Name: "新生儿住院分娩记录（助产机构出具）", Type: 1, Source: 99, Necessity: 1, Form: 2, Notes: "由助产机构系统推送，无需申请人提交"},
				{Name: "新生儿近期彩色照片（制社会保障卡用）", Type: 3, Source: 10, Necessity: 2, Form: 2},
			},
			Steps: []Step{
				{Name: "受理", Group: "申请与受理", Description: "一表申请、一次提交，政务服务中心统一受理后分送各部门"},
				{Name: "联办", Group: "审查与决定", Description: "卫生健康、公安、人力资源社会保障、医疗保障等部门并联审核"},
				{Name: "送达", Group: "颁证与送达", Description: "各项结果统一寄送或推送电子证照"},
			},
			Results: []Result{
				{Type: "证照", Name: "出生医学证明", Validity: "长期"},
				{Type: "证照", Name: "居民户口簿（新生儿页）", Validity: "长期"},
				{Type: "证照", Name: "社会保障卡"},
				{Type: "其他", Name: "城乡居民基本医疗保险参保登记"},
			},
			Fee: free, Depth: fullOnline(), Channels: []Channel{Online, Mobile, Window, Mail}, Scope: "province", OneWindow: true,
			Themes: []string{thBirth, thHukou, thMedical, thSocial}, Keywords: []string{"出生", "新生儿", "出生一件事", "高效办成一件事", "联办"},
			Aliases: []string{"出生证", "户口", "医保", "社保卡", "出生联办"},
		}},
		// 上学
		{main: 201, sub: 0, depts: [3]string{"", "教育局", "教育局"}, item: Item{
			Name: "义务教育阶段入学登记", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{law("中华人民共和国义务教育法", "", npcsc, "2006-09-01", "第十二条",
				"（条文大意）适龄儿童、少年免试入学；地方各级人民政府应当保障适龄儿童、少年在户籍所在地学校就近入学。")},
			Conditions: "年满六周岁、户籍或居住在{地}的适龄儿童，以及小学毕业升入初中的学生",
			LegalLimit: workday(20), PromisedLimit: workday(15), Kind: Promised,
			Materials: []Material{
				cert("儿童及法定监护人居民身份证"),
				cert("居民户口簿"),
				optionalCert("不动产权证书或房屋租赁登记备案证明"),
				optionalCert("居住证"),
				form("义务教育入学登记表"),
			},
			Steps: stepsFull, Results: []Result{{Type: "其他", Name: "入学学校分配结果通知"}},
			Fee: free, Depth: fullOnline(), Channels: []Channel{Online, Mobile}, Scope: "city",
			Themes: []string{thSchool}, Keywords: []string{"入学", "小学报名", "初中入学", "招生", "学位"}, Aliases: []string{"上学", "入学", "报名"},
		}},
		// 就业
		{main: 301, sub: 0, depts: [3]string{"", "人力资源和社会保障局", "人力资源和社会保障局"}, item: Item{
			Name: "就业登记", Type: "GG", Audiences: []Audience{Person, Legal},
			LegalBasis: []LegalBasis{law("中华人民共和国就业促进法", "", npcsc, "2008-01-01", "",
				"（条文大意）县级以上人民政府建立健全公共就业服务体系，免费提供就业登记等服务。")},
			Conditions: "在{地}就业的劳动者，由用人单位或本人办理",
			Kind:       Immediate,
			Materials: []Material{
				cert("劳动者居民身份证"),
				own("劳动合同或其他用工证明", 1),
				form("就业登记表"),
			},
			Steps: stepsOnSpot, Results: []Result{{Type: "其他", Name: "就业登记信息"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "province", OneWindow: true,
			Themes: []string{thJob}, Keywords: []string{"就业", "入职登记", "用工登记"}, Aliases: []string{"就业", "入职"},
		}},
		{main: 302, sub: 0, depts: [3]string{"", "人力资源和社会保障局", "人力资源和社会保障局"}, item: Item{
			Name: "失业登记", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{law("中华人民共和国就业促进法", "", npcsc, "2008-01-01", "",
				"（条文大意）县级以上人民政府建立失业预防、调节和控制机制，公共就业服务机构免费办理就业和失业登记。")},
			Conditions: "法定劳动年龄内、有劳动能力和就业要求、处于无业状态的{地}常住人员",
			Kind:       Immediate,
			Materials: []Material{
				cert("居民身份证或社会保障卡"),
				optionalCert("解除或终止劳动关系证明"),
			},
			Steps: stepsOnSpot, Results: []Result{{Type: "其他", Name: "失业登记信息"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "province",
			Themes: []string{thJob}, Keywords: []string{"失业", "失业登记", "求职登记"}, Aliases: []string{"失业"},
		}},
		{main: 303, sub: 0, depts: [3]string{"", "人力资源和社会保障局", "人力资源和社会保障局"}, item: Item{
			Name: "失业保险金申领", Type: "JF", Audiences: person,
			LegalBasis: []LegalBasis{
				lawSocialInsurance("失业人员符合条件的，从失业保险基金中领取失业保险金。"),
				law("失业保险条例", "国务院令第258号", "国务院", "1999-01-22", "", "（条文大意）具备规定条件的失业人员，可以领取失业保险金。"),
			},
			Conditions: "失业前用人单位和本人已按规定参加失业保险、缴费满一年，非因本人意愿中断就业，已办理失业登记并有求职要求",
			LegalLimit: workday(20), PromisedLimit: workday(5), Kind: Promised,
			Materials: []Material{
				cert("居民身份证或社会保障卡"),
				form("失业保险金申领登记表"),
				optionalCert("解除或终止劳动关系证明"),
			},
			Steps: stepsFull, Results: []Result{{Type: "其他", Name: "失业保险金按月发放到社会保障卡"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "cross_province", CrossProvince: "全程网办", OneWindow: true,
			Themes: []string{thJob, thSocial}, Keywords: []string{"失业金", "失业保险", "失业补助"}, Aliases: []string{"失业金", "领失业金"},
		}},
		// 婚姻
		{main: 401, sub: 0, depts: [3]string{"", "民政局", "民政局"}, item: Item{
			Name: "内地居民结婚登记", Type: "QR", Audiences: person,
			LegalBasis: []LegalBasis{
				law("中华人民共和国民法典", "主席令第四十五号", "全国人民代表大会", "2021-01-01", "第一千零四十九条",
					"（条文大意）要求结婚的男女双方应当亲自到婚姻登记机关申请结婚登记；符合规定的予以登记，发给结婚证。"),
				law("婚姻登记条例", "", "国务院", "", "", "（条文大意）内地居民结婚，男女双方应当共同到婚姻登记机关办理结婚登记。"),
			},
			Conditions: "男女双方完全自愿，达到法定婚龄（男不早于二十二周岁、女不早于二十周岁），双方均无配偶，且没有禁止结婚的亲属关系",
			Kind:       Immediate,
			Materials: []Material{
				cert("双方居民身份证"),
				cert("双方居民户口簿"),
				{Name: "双方近期半身免冠合影照片", Type: 3, Source: 10, Necessity: 1, Form: 1, Originals: 3, Notes: "2寸红底，可在登记处现场拍摄"},
				form("申请结婚登记声明书"),
			},
			Steps: []Step{
				{Name: "受理", Group: "申请与受理", Description: "双方共同到场，核验身份证件"},
				{Name: "审查", Group: "审查与决定", Description: "询问双方结婚意愿，双方签署声明书"},
				{Name: "颁证", Group: "颁证与送达", Description: "当场登记并颁发结婚证"},
			},
			Results: []Result{{Type: "证照", Name: "结婚证", Validity: "长期"}},
			Fee:     free, Depth: appointOnly(), Visits: 1, VisitReason: "法律规定结婚双方须亲自到婚姻登记机关当场签字、拍照并领取结婚证",
			Channels: []Channel{Appointment, Window}, Scope: "province",
			Themes: []string{thMarriage}, Keywords: []string{"结婚", "领证", "结婚登记", "婚姻登记预约"}, Aliases: []string{"结婚", "领证", "结婚证"},
		}},
		{main: 402, sub: 0, depts: [3]string{"", "民政局", "民政局"}, item: Item{
			Name: "内地居民离婚登记", Type: "QR", Audiences: person,
			LegalBasis: []LegalBasis{
				law("中华人民共和国民法典", "主席令第四十五号", "全国人民代表大会", "2021-01-01", "第一千零七十六条、第一千零七十七条",
					"（条文大意）夫妻双方自愿离婚的，应当签订书面离婚协议，并亲自到婚姻登记机关申请离婚登记；自婚姻登记机关收到离婚登记申请之日起三十日内，任何一方不愿意离婚的，可以撤回申请。"),
				law("婚姻登记条例", "", "国务院", "", "", "（条文大意）内地居民自愿离婚的，男女双方应当共同到婚姻登记机关办理离婚登记。"),
			},
			Conditions: "男女双方自愿离婚，对子女抚养、财产及债务处理等事项协商一致，且在{地}办理过结婚登记或一方户籍在{地}",
			Kind:       Immediate,
			Special:    []Special{{Name: "离婚冷静期", Limit: natural(30)}},
			Materials: []Material{
				cert("双方居民身份证"),
				cert("双方居民户口簿"),
				cert("结婚证"),
				own("双方共同签署的离婚协议书", 1),
				{Name: "双方近期半身免冠照片", Type: 3, Source: 10, Necessity: 1, Form: 1, Originals: 2},
			},
			Steps: []Step{
				{Name: "申请", Group: "申请与受理", Description: "双方共同到场提交离婚登记申请，领取《离婚登记申请受理回执单》"},
				{Name: "冷静期", Group: "审查与决定", Description: "三十日冷静期内任何一方可撤回申请；期满后三十日内双方共同到场申请发证"},
				{Name: "审查", Group: "审查与决定", Description: "询问双方离婚意愿，审查离婚协议"},
				{Name: "颁证", Group: "颁证与送达", Description: "予以登记并颁发离婚证"},
			},
			Results: []Result{{Type: "证照", Name: "离婚证", Validity: "长期"}},
			Fee:     free, Depth: appointOnly(), Visits: 2, VisitReason: "法律规定双方须亲自到场申请，冷静期满后须再次共同到场领取离婚证",
			Channels: []Channel{Appointment, Window}, Scope: "province",
			Themes: []string{thMarriage}, Keywords: []string{"离婚", "协议离婚", "离婚冷静期"}, Aliases: []string{"离婚", "离婚证"},
		}},
		// 住房
		{main: 501, sub: 0, depts: [3]string{"", "住房和城乡建设局", ""}, item: Item{
			Name: "住房公积金提取（购买自住住房）", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{law("住房公积金管理条例", "国务院令第262号", "国务院", "1999-04-03", "",
				"（条文大意）职工购买、建造、翻建、大修自住住房的，可以提取职工住房公积金账户内的存储余额。")},
			Conditions: "在{名}缴存住房公积金的职工，购买自住住房且未使用公积金提取过该套住房",
			LegalLimit: natural(3), PromisedLimit: natural(1), Kind: Promised,
			Materials: []Material{
				cert("职工居民身份证"),
				cert("不动产权证书或商品房买卖合同（网签备案）"),
				own("购房发票或完税凭证", 3),
				own("本人银行借记卡", 1),
			},
			Steps: stepsFull, Results: []Result{{Type: "其他", Name: "提取资金划入本人银行账户"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "city",
			Themes: []string{thHousing}, Keywords: []string{"公积金提取", "购房提取", "住房公积金"}, Aliases: []string{"公积金", "提公积金"},
			Contact: Contact{FAQ: "住房公积金业务由住房公积金管理中心经办；演示数据由住房和城乡建设部门承载"},
		}},
		{main: 502, sub: 0, depts: [3]string{"", "自然资源局", "自然资源局"}, item: Item{
			Name: "不动产转移登记（存量房买卖）", Type: "QR", Audiences: []Audience{Person, Legal},
			LegalBasis: []LegalBasis{
				lawRealEstate,
				law("中华人民共和国民法典", "主席令第四十五号", "全国人民代表大会", "2021-01-01", "",
					"（条文大意）不动产物权的设立、变更、转让和消灭，经依法登记，发生效力。"),
			},
			Conditions: "{地}范围内已登记的不动产因买卖发生权利转移，买卖双方共同申请",
			LegalLimit: workday(30), PromisedLimit: workday(3), Kind: Promised,
			Materials: []Material{
				cert("买卖双方居民身份证或营业执照"),
				cert("不动产权证书"),
				own("存量房买卖合同", 1),
				cert("契税完税凭证"),
				form("不动产登记申请书"),
			},
			Steps: stepsCert, Results: []Result{{Type: "证照", Name: "不动产权证书", Validity: "长期"}},
			Fee: Fee{Charged: true, Basis: "国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知（发改价格规〔2016〕2559号）",
				Items: "不动产登记费（含第一本证书工本费）", Standard: "住宅类每件80元，非住宅类每件550元；每增加一本证书加收工本费10元", OnlinePay: "yes"},
			Depth: preReview(), Visits: 1, VisitReason: "须买卖双方到场核验身份、现场签署询问笔录",
			Channels: visitChannels, Scope: "city", OneWindow: true,
			Themes: []string{thHousing}, Keywords: []string{"过户", "二手房过户", "房产证", "不动产权证"}, Aliases: []string{"过户", "房产证", "房本"},
		}},
		{main: 503, sub: 0, depts: [3]string{"", "自然资源局", "自然资源局"}, item: Item{
			Name: "不动产登记资料查询", Type: "GG", Audiences: []Audience{Person, Legal},
			LegalBasis: []LegalBasis{law("不动产登记暂行条例", "国务院令第656号", "国务院", "2015-03-01", "",
				"（条文大意）权利人、利害关系人可以依法查询、复制不动产登记资料，登记机构应当提供。")},
			Conditions: "不动产权利人、利害关系人依法查询{地}的不动产登记资料",
			Kind:       Immediate,
			Materials:  []Material{cert("查询人居民身份证"), form("不动产登记资料查询申请表")},
			Steps:      stepsOnSpot, Results: []Result{{Type: "证明文件", Name: "不动产登记信息查询结果"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "city",
			Themes: []string{thHousing}, Keywords: []string{"房产查询", "无房证明", "不动产查询"}, Aliases: []string{"查房产", "无房证明"},
		}},
		// 退休与养老
		{main: 601, sub: 0, depts: [3]string{"人力资源和社会保障厅", "人力资源和社会保障局", "人力资源和社会保障局"}, item: Item{
			Name: "职工基本养老保险待遇申领", Type: "JF", Audiences: person,
			LegalBasis: []LegalBasis{lawSocialInsurance("参加基本养老保险的个人，达到法定退休年龄时累计缴费满规定年限的，按月领取基本养老金。")},
			Conditions: "在{地}参加职工基本养老保险，达到法定退休年龄且累计缴费满规定年限的人员",
			LegalLimit: workday(20), PromisedLimit: workday(10), Kind: Promised,
			Materials: []Material{
				cert("居民身份证或社会保障卡"),
				form("职工基本养老保险待遇申领表"),
				optionalCert("人事档案（由单位或档案管理机构提供）"),
			},
			Steps: stepsFull, Results: []Result{{Type: "其他", Name: "基本养老金核定通知，按月发放"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "province", OneWindow: true,
			Themes: []string{thRetire, thSocial}, Keywords: []string{"退休", "养老金", "退休申请", "养老待遇"}, Aliases: []string{"退休", "养老金", "社保"},
		}},
		{main: 602, sub: 0, depts: [3]string{"", "人力资源和社会保障局", "人力资源和社会保障局"}, item: Item{
			Name: "城乡居民基本养老保险待遇申领", Type: "JF", Audiences: person,
			LegalBasis: []LegalBasis{
				lawSocialInsurance("国家建立和完善城乡居民社会养老保险制度。"),
				law("国务院关于建立统一的城乡居民基本养老保险制度的意见", "国发〔2014〕8号", "国务院", "", "",
					"（文件大意）参加城乡居民养老保险的个人，年满60周岁、累计缴费满15年，且未领取国家规定的基本养老保障待遇的，可以按月领取城乡居民养老保险待遇。"),
			},
			Conditions: "在{地}参加城乡居民基本养老保险，年满60周岁且符合缴费年限要求、未领取其他基本养老保障待遇的人员",
			LegalLimit: workday(20), PromisedLimit: workday(10), Kind: Promised,
			Materials: []Material{cert("居民身份证或社会保障卡"), cert("居民户口簿"), form("城乡居民基本养老保险待遇申领表")},
			Steps:     stepsFull, Results: []Result{{Type: "其他", Name: "城乡居民养老保险待遇核定，按月发放"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "province",
			Themes: []string{thRetire, thSocial}, Keywords: []string{"居民养老金", "农村养老金", "领养老金"}, Aliases: []string{"养老金", "社保"},
		}},
		{main: 603, sub: 0, depts: [3]string{"", "人力资源和社会保障局", "人力资源和社会保障局"}, item: Item{
			Name: "城乡居民基本养老保险参保登记", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{lawSocialInsurance("国家建立和完善城乡居民社会养老保险制度。")},
			Conditions: "年满16周岁（不含在校学生），非国家机关和事业单位工作人员及不属于职工基本养老保险覆盖范围的{地}户籍居民",
			Kind:       Immediate,
			Materials:  []Material{cert("居民身份证"), cert("居民户口簿"), form("城乡居民基本养老保险参保登记表")},
			Steps:      stepsOnSpot, Results: []Result{{Type: "其他", Name: "参保登记信息"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "province",
			Themes: []string{thSocial}, Keywords: []string{"居民养老保险", "参保", "农保"}, Aliases: []string{"社保", "参保"},
		}},
		{main: 604, sub: 0, depts: [3]string{"", "人力资源和社会保障局", ""}, item: Item{
			Name: "职工基本养老保险关系转移接续", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{
				lawSocialInsurance("个人跨统筹地区就业的，其基本养老保险关系随本人转移，缴费年限累计计算。"),
				law("城镇企业职工基本养老保险关系转移接续暂行办法", "国办发〔2009〕66号", "国务院办公厅", "2010-01-01", "",
					"（文件大意）参保人员跨省流动就业的，由原参保所在地社会保险经办机构开具参保缴费凭证，其基本养老保险关系随同转移。"),
			},
			Conditions: "跨统筹地区流动就业、转入{名}参保的职工",
			LegalLimit: workday(45), PromisedLimit: workday(15), Kind: Promised,
			Materials: []Material{cert("居民身份证或社会保障卡"), form("基本养老保险关系转移接续申请表")},
			Steps:     stepsFull, Results: []Result{{Type: "其他", Name: "养老保险关系转入及缴费年限合并"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "cross_province", CrossProvince: "全程网办",
			Themes: []string{thSocial, thJob}, Keywords: []string{"社保转移", "养老保险转移", "社保转入"}, Aliases: []string{"社保", "转社保"},
		}},
		// 社保卡与医保
		{main: 701, sub: 0, depts: [3]string{"人力资源和社会保障厅", "人力资源和社会保障局", "人力资源和社会保障局"}, item: Item{
			Name: "社会保障卡申领", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{lawSocialInsurance("国家建立全国统一的个人社会保障号码，个人社会保障号码为公民身份号码。")},
			Conditions: "在{地}参加社会保险或户籍在{地}、尚未领取社会保障卡的人员",
			LegalLimit: workday(20), PromisedLimit: workday(10), Kind: Promised,
			Materials: []Material{cert("居民身份证"), {Name: "近期免冠彩色证件照片（电子）", Type: 3, Source: 10, Necessity: 1, Form: 2}, form("社会保障卡申领登记表")},
			Steps:     stepsCert, Results: []Result{{Type: "证照", Name: "社会保障卡（含电子社会保障卡）", Validity: "10年"}},
			Fee: free, Depth: fullOnline(), Channels: []Channel{Online, Mobile, Window, Mail}, Scope: "cross_province", CrossProvince: "全程网办", OneWindow: true,
			Themes: []string{thSocial, thMedical, thBirth}, Keywords: []string{"社保卡", "社会保障卡", "办卡", "电子社保卡"}, Aliases: []string{"社保卡", "社保"},
		}},
		{main: 702, sub: 0, depts: [3]string{"医疗保障局", "医疗保障局", "医疗保障局"}, item: Item{
			Name: "基本医疗保险关系转移接续", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{lawSocialInsurance("个人跨统筹地区就业的，其基本医疗保险关系随本人转移，缴费年限累计计算。")},
			Conditions: "跨统筹地区流动就业并转入{地}参加基本医疗保险的人员",
			LegalLimit: workday(45), PromisedLimit: workday(10), Kind: Promised,
			Materials: []Material{cert("居民身份证或社会保障卡"), form("基本医疗保障参保（合）凭证及转移接续申请表")},
			Steps:     stepsFull, Results: []Result{{Type: "其他", Name: "医保关系转入及缴费年限合并"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "cross_province", CrossProvince: "全程网办",
			Themes: []string{thMedical}, Keywords: []string{"医保转移", "医保关系转移", "医保转入"}, Aliases: []string{"医保", "转医保"},
		}},
		{main: 703, sub: 0, depts: [3]string{"医疗保障局", "医疗保障局", "医疗保障局"}, item: Item{
			Name: "基本医疗保险跨省异地就医登记备案", Type: "GG", Audiences: person,
			LegalBasis: []LegalBasis{lawSocialInsurance("参保人员医疗费用中应当由基本医疗保险基金支付的部分，由社会保险经办机构与医疗机构、药品经营单位直接结算。")},
			Conditions: "在{地}参加基本医疗保险，因异地长期居住、工作或转诊转院需在省外就医的参保人员",
			Kind:       Immediate,
			Materials:  []Material{cert("居民身份证或社会保障卡"), form("跨省异地就医登记备案表（承诺制）")},
			Steps:      stepsOnSpot, Results: []Result{{Type: "其他", Name: "异地就医备案信息"}},
			Fee: free, Depth: fullOnline(), Channels: []Channel{Online, Mobile, Window}, Scope: "cross_province", CrossProvince: "全程网办",
			Themes: []string{thMedical, thTravel}, Keywords: []string{"异地就医", "异地备案", "跨省就医", "直接结算"}, Aliases: []string{"医保", "异地医保"},
		}},
		// 户籍与证件
		{main: 801, sub: 0, depts: [3]string{"", "公安局", "公安局"}, item: Item{
			Name: "居民身份证换领", Type: "QR", Audiences: person,
			LegalBasis: []LegalBasis{law("中华人民共和国居民身份证法", "", npcsc, "2004-01-01", "",
				"（条文大意）居民身份证有效期满、公民姓名变更或者证件严重损坏不能辨认的，公民应当换领新证；申领、换领、补领居民身份证应当登记指纹信息。")},
			Conditions: "户籍在{地}、居民身份证有效期满或即将期满（期满前三个月内）、登记项目变更或证件损坏的公民",
			LegalLimit: natural(60), PromisedLimit: workday(15), Kind: Promised,
			Materials: []Material{cert("原居民身份证"), cert("居民户口簿")},
			Steps:     stepsCert, Results: []Result{{Type: "证照", Name: "中华人民共和国居民身份证"}},
			Fee: Fee{Charged: true, Basis: "《中华人民共和国居民身份证法》；工本费标准由国务院价格主管部门会同财政部门核定",
				Items: "居民身份证工本费", Standard: "有效期满换领20元/证；丢失补领、损坏换领40元/证", OnlinePay: "yes"},
			Depth: preReview(), Visits: 1, VisitReason: "须本人到场现场采集人像和指纹信息",
			Channels: visitChannels, Scope: "national", OneWindow: true,
			Themes: []string{thHukou}, Keywords: []string{"身份证到期", "换身份证", "身份证异地办理"}, Aliases: []string{"身份证", "换证"},
			Contact: Contact{FAQ: "换领可在户籍地或全国任一受理点办理；制证完成后可选择邮寄送达"},
		}},
		{main: 802, sub: 0, depts: [3]string{"", "公安局", "公安局"}, item: Item{
			Name: "居住证申领", Type: "QR", Audiences: person,
			LegalBasis: []LegalBasis{law("居住证暂行条例", "国务院令第663号", "国务院", "2016-01-01", "",
				"（条文大意）公民离开常住户口所在地，到其他城市居住半年以上，符合有合法稳定就业、合法稳定住所、连续就读条件之一的，可以申领居住证。")},
			Conditions: "非{名}户籍、在{地}居住半年以上，且有合法稳定就业、合法稳定住所或连续就读之一的公民",
			LegalLimit: natural(15), PromisedLimit: natural(7), Kind: Promised,
			Materials: []Material{cert("居民身份证"), own("居住地住址、就业或就读证明材料", 1), photo()},
			Steps:     stepsCert, Results: []Result{{Type: "证照", Name: "居住证", Validity: "逐年签注"}},
			Fee: free, Depth: fullOnline(), Channels: onlineChannels, Scope: "city",
			Themes: []string{thHukou, thHousing}, Keywords: []string{"居住证", "暂住证", "流动人口"}, Aliases: []string{"居住证", "暂住证"},
		}},
		// 出行
		{main: 901, sub: 0, depts: [3]string{"", "公安局", ""}, item: Item{
			Name: "普通护照签发", Type: "XK", Audiences: person,
			LegalBasis: []LegalBasis{law("中华人民共和国护照法", "主席令第五十号", npcsc, "2007-01-01", "第六条",
				"（条文大意）公安机关出入境管理机构应当自收到申请材料之日起十五日内签发普通护照；对偏远地区或者交通不便的地区或者因特殊情况，不能按期签发的，经护照签发机关负责人批准，签发时间可以延长至三十日。")},
			Conditions: "中国内地居民因私出国（境），可在全国任一出入境管理机构申请",
			LegalLimit: natural(15), PromisedLimit: workday(7), Kind: Promised,
			Materials: []Material{cert("居民身份证"), form("中国公民出入境证件申请表"), optionalCert("原护照（换发时提交）")},
			Steps:     stepsCert, Results: []Result{{Type: "证照", Name: "中华人民共和国普通护照", Validity: "未满16周岁5年，16周岁以上10年"}},
			Fee: Fee{Charged: true, Basis: "国家发展改革委 财政部关于降低部分行政事业性收费标准的通知",
				Items: "普通护照工本费", Standard: "120元/本", OnlinePay: "yes"},
			Depth: preReview(), Visits: 1, VisitReason: "须本人到场现场采集人像和指纹信息",
			Channels: visitChannels, Scope: "national", OneWindow: true,
			Themes: []string{thTravel}, Keywords: []string{"办护照", "出国", "护照换发", "因私出国"}, Aliases: []string{"护照"},
		}},
		{main: 902, sub: 0, depts: [3]string{"", "公安局", ""}, item: Item{
			Name: "机动车驾驶证有效期满换证", Type: "XK", Audiences: person,
			LegalBasis: []LegalBasis{
				law("中华人民共和国道路交通安全法", "", npcsc, "2004-05-01", "", "（条文大意）驾驶机动车，应当依法取得机动车驾驶证。"),
				law("机动车驾驶证申领和使用规定", "公安部令第162号", "公安部", "2022-04-01", "",
					"（条文大意）机动车驾驶人应当于机动车驾驶证有效期满前九十日内，向机动车驾驶证核发地或者核发地以外的车辆管理所申请换证。"),
			},
			Conditions: "机动车驾驶证有效期满前九十日内，身体条件符合驾驶许可条件的驾驶人",
			Kind:       Immediate,
			Materials:  []Material{cert("居民身份证"), cert("机动车驾驶证"), own("机动车驾驶人身体条件证明", 1)},
			Steps:      stepsOnSpot, Results: []Result{{Type: "证照", Name: "中华人民共和国机动车驾驶证（含电子驾驶证）"}},
			Fee: Fee{Charged: true, Basis: "按国家价格主管部门、财政部门核定的机动车驾驶证工本费标准收取",
				Items: "机动车驾驶证工本费", Standard: "10元/证", OnlinePay: "yes"},
			Depth: fullOnline(), Channels: []Channel{Online, Mobile, Window, Mail}, Scope: "national",
			Themes: []string{thTravel}, Keywords: []string{"驾照到期", "换驾照", "驾驶证换证", "交管12123"}, Aliases: []string{"驾照", "驾驶证"},
		}},
		// 企业开办、变更、注销
		{main: 1001, sub: 1, depts: [3]string{"市场监督管理局登记注册局", "市场监督管理局", "市场监督管理局"}, item: Item{
			Name: "企业设立登记", Type: "XK", Audiences: legal,
			LegalBasis: []LegalBasis{
				lawMarketReg("申请人申请市场主体设立登记，材料齐全、符合法定形式的，登记机关予以确认并当场登记；不能当场登记的，应当在3个工作日内予以登记。"),
				law("中华人民共和国公司法", "", npcsc, "2024-07-01", "", "（条文大意）设立公司，应当依法向公司登记机关申请设立登记。"),
			},
			Conditions: "拟在{地}设立有限责任公司、股份有限公司、合伙企业、个人独资企业等企业，名称、住所、经营范围等符合规定",
			LegalLimit: workday(3), PromisedLimit: workday(1), Kind: Promised,
			Materials: []Material{
				form("企业设立登记申请书"),
				own("公司章程或合伙协议", 1),
				cert("股东、法定代表人等主体资格证明或居民身份证"),
				own("住所使用相关文件（可承诺制）", 3),
			},
			Steps: stepsCert, Results: []Result{{Type: "证照", Name: "营业执照（含电子营业执照）", Validity: "长期"}},
			Fee: free, Depth: fullOnline(), Channels: []Channel{Online, Mobile, Window, Mail}, Scope: "province", OneWindow: true,
			Themes: []string{thOpen}, Keywords: []string{"开公司", "注册公司", "营业执照", "企业开办"}, Aliases: []string{"执照", "开公司", "注册"},
		}},
		{main: 1001, sub: 2, depts: [3]string{"市场监督管理局登记注册局", "市场监督管理局", "市场监督管理局"}, item: Item{
			Name: "企业变更登记", Type: "XK", Audiences: legal,
			LegalBasis: []LegalBasis{lawMarketReg("市场主体变更登记事项，应当自作出变更决议、决定或者法定变更事项发生之日起30日内向登记机关申请变更登记。")},
			Conditions: "在{地}登记的企业，名称、住所、法定代表人、经营范围、注册资本、股东等登记事项发生变更",
			LegalLimit: workday(3), PromisedLimit: workday(1), Kind: Promised,
			Materials: []Material{form("企业变更登记申请书"), own("变更决议或决定", 1), cert("营业执照"), own("修改后的章程或章程修正案", 2)},
			Steps:     stepsCert, Results: []Result{{Type: "证照", Name: "营业执照（变更后）", Validity: "长期"}, {Type: "证明文件", Name: "登记通知书"}},
			Fee: free, Depth: fullOnline(), Channels: []Channel{Online, Mobile, Window, Mail}, Scope: "province", OneWindow: true,
			Themes: []string{thChange}, Keywords: []string{"企业变更", "法人变更", "地址变更", "经营范围变更"}, Aliases: []string{"变更", "执照变更"},
		}},
		{main: 1001, sub: 3, depts: [3]string{"市场监督管理局登记注册局", "市场监督管理局", "市场监督管理局"}, item: Item{
			Name: "企业注销登记", Type: "XK", Audiences: legal,
			LegalBasis: []LegalBasis{lawMarketReg("市场主体未发生债权债务或者已将债权债务清偿完结，且全体投资人书面承诺的，可以按照简易程序办理注销登记，公示期为20日。")},
			Conditions: "在{地}登记的企业已依法清算完毕，或符合简易注销条件（未发生或已清偿债权债务、全体投资人书面承诺）",
			LegalLimit: workday(3), PromisedLimit: workday(1), Kind: Promised,
			Special:   []Special{{Name: "简易注销公示", Limit: natural(20)}},
			Materials: []Material{form("企业注销登记申请书"), own("清算报告或全体投资人承诺书", 1), cert("营业执照")},
			Steps:     stepsFull, Results: []Result{{Type: "证明文件", Name: "准予注销登记通知书"}},
			Fee: free, Depth: fullOnline(), Channels: []Channel{Online, Mobile, Window, Mail}, Scope: "province", OneWindow: true,
			Themes: []string{thClose}, Keywords: []string{"公司注销", "简易注销", "企业注销"}, Aliases: []string{"注销", "关公司"},
		}},
		{main: 1002, sub: 0, depts: [3]string{"", "市场监督管理局", "市场监督管理局"}, item: Item{
			Name: "个体工商户设立登记", Type: "XK", Audiences: person,
			LegalBasis: []LegalBasis{
				lawMarketReg("个体工商户设立登记，材料齐全、符合法定形式的，登记机关当场予以登记。"),
				law("促进个体工商户发展条例", "国务院令第755号", "国务院", "2022-11-01", "", "（条文大意）有经营能力的公民经依法登记，从事工商业经营的，为个体工商户。"),
			},
			Conditions: "有经营能力的公民在{地}从事工商业经营，经营场所和经营范围符合规定",
			Kind:       Immediate,
			Materials:  []Material{form("个体工商户设立登记申请书"), cert("经营者居民身份证"), own("经营场所使用相关文件（可承诺制）", 3)},
			Steps:      stepsOnSpot, Results: []Result{{Type: "证照", Name: "营业执照（个体工商户）", Validity: "长期"}},
			Fee: free, Depth: fullOnline(), Channels: []Channel{Online, Mobile, Window, Mail}, Scope: "province", OneWindow: true,
			Themes: []string{thOpen}, Keywords: []string{"个体户", "开店", "个体营业执照"}, Aliases: []string{"个体户", "执照"},
		}},
		{main: 1003, sub: 0, depts: [3]string{"", "市场监督管理局", "市场监督管理局"}, item: Item{
			Name: "食品经营许可（新办）", Type: "XK", Audiences: []Audience{Person, Legal},
			LegalBasis: []LegalBasis{
				law("中华人民共和国食品安全法", "", npcsc, "2015-10-01", "", "（条文大意）国家对食品生产经营实行许可制度；从事食品销售和餐饮服务，应当依法取得许可。"),
				law("食品经营许可和备案管理办法", "国家市场监督管理总局令第78号", "国家市场监督管理总局", "2023-12-01", "",
					"（条文大意）县级以上地方市场监督管理部门应当自受理申请之日起10个工作日内作出是否准予行政许可的决定。"),
			},
			Conditions: "已取得营业执照、在{地}从事食品销售或餐饮服务，具有与经营的食品品种、数量相适应的经营场所、设施设备和食品安全管理制度",
			LegalLimit: workday(10), PromisedLimit: workday(5), Kind: Promised,
			Materials: []Material{
				form("食品经营许可申请书"),
				cert("营业执照"),
				own("与食品经营相适应的主要设备设施布局、操作流程等文件", 1),
				own("食品安全自查、从业人员健康管理等食品安全管理制度", 1),
			},
			Steps:   []Step{stepAccept, {Name: "现场核查", Group: "审查与决定", Description: "必要时对经营场所进行现场核查"}, stepDecide, stepMake, stepDeliver},
			Results: []Result{{Type: "证照", Name: "食品经营许可证", Validity: "5年"}},
			Fee:     free, Depth: preReview(), Visits: 0, Channels: []Channel{Online, Window, Mail}, Scope: "province", OneWindow: true,
			Themes: []string{thLicence, thOpen}, Keywords: []string{"餐饮许可", "食品许可证", "开饭店", "开餐馆"}, Aliases: []string{"食品证", "餐饮证"},
		}},
	})
}

// ---- 办件表单 (demo online application forms) ----

// withDemoForms gives each kind its demo form: a realistic one for the
// common items in demoForms, and a minimal one (申请事由) for every other
// item that may be applied for online, so the online journey works for
// all of them. The applicant's own name and ID number come from the
// signed-in account, so forms ask only for what the account cannot tell.
func withDemoForms(kinds []demoKind) []demoKind {
	forms := demoForms()
	for i := range kinds {
		it := &kinds[i].item
		if f, ok := forms[it.Name]; ok {
			it.Form = f
		} else if it.OnlineApplication() {
			it.Form = []FormField{reasonField()}
		}
	}
	return kinds
}

func reasonField() FormField {
	return FormField{Key: "reason", Label: "申请事由", Type: FieldText, Required: true, Max: 200, Hint: "简要说明申请的原因和需求"}
}

// ff makes a form field; opts are a choice field's options.
func ff(typ, key, label string, required bool, opts ...string) FormField {
	return FormField{Key: key, Label: label, Type: typ, Required: required, Options: opts}
}

// withHint and withMax return f with a hint or a limit.
func withHint(f FormField, hint string) FormField { f.Hint = hint; return f }
func withMax(f FormField, max int) FormField      { f.Max = max; return f }

// demoForms are the forms of the common items, by item name.
func demoForms() map[string][]FormField {
	childName := withMax(ff(FieldText, "child_name", "新生儿姓名", true), 20)
	birthDate := ff(FieldDate, "birth_date", "出生日期", true)
	gender := ff(FieldChoice, "gender", "性别", true, "男", "女")
	motherID := ff(FieldIDNumber, "mother_id_number", "母亲身份证号", true)
	fatherID := ff(FieldIDNumber, "father_id_number", "父亲身份证号", true)
	hukou := withHint(ff(FieldRegion, "hukou_region", "户籍地", true), "6位行政区划代码，如呼和浩特市新城区为150102")
	address := withMax(ff(FieldAddress, "address", "联系地址", true), 200)
	delivery := ff(FieldChoice, "delivery", "结果领取方式", true, "窗口领取", "免费邮寄")
	mailAddress := withHint(withMax(ff(FieldAddress, "mail_address", "邮寄地址", false), 200), "选择免费邮寄时填写")
	bank := withHint(withMax(ff(FieldText, "bank_account", "本人银行账号", true), 30), "须为申请人本人名下的借记卡")
	uscc := ff(FieldUSCC, "uscc", "统一社会信用代码", true)
	return map[string][]FormField{
		"出生医学证明首次签发": {childName, birthDate, gender, motherID, fatherID, hukou, address,
			withHint(ff(FieldAttachment, "birth_record", "出生证明附件", false), "助产机构出具的分娩记录，PDF或图片")},
		"出生医学证明补发": {childName, birthDate, gender,
			ff(FieldChoice, "loss_reason", "补发原因", true, "遗失", "严重损毁"),
			withHint(ff(FieldIDNumber, "child_id_number", "新生儿身份证号", false), "已落户的填写"), address},
		"生育登记": {
			withMax(ff(FieldText, "spouse_name", "配偶姓名", true), 20),
			ff(FieldIDNumber, "spouse_id_number", "配偶身份证号", true),
			ff(FieldDate, "marriage_date", "结婚登记日期", false),
			ff(FieldChoice, "child_order", "本次登记生育子女", true, "第一个子女", "第二个子女", "第三个及以上子女"),
			hukou, address},
		"新生儿入户（出生登记）": {childName, gender, birthDate,
			withMax(ff(FieldText, "birth_cert_no", "出生医学证明编号", true), 20),
			ff(FieldChoice, "follow", "随父或随母落户", true, "随父", "随母"),
			ff(FieldIDNumber, "householder_id_number", "户主身份证号", true), hukou, address,
			withHint(ff(FieldAttachment, "birth_cert", "出生医学证明附件", false), "已有电子证照的无需上传")},
		"新生儿参加城乡居民基本医疗保险": {childName,
			ff(FieldIDNumber, "child_id_number", "新生儿身份证号", true),
			withHint(ff(FieldRegion, "insured_region", "参保地", true), "6位行政区划代码"),
			ff(FieldChoice, "relation", "申请人与新生儿关系", true, "父亲", "母亲", "其他监护人")},
		"生育医疗费用报销": {
			ff(FieldDate, "delivery_date", "分娩日期", true),
			withMax(ff(FieldText, "hospital", "分娩医院", true), 50),
			withHint(withMax(ff(FieldNumber, "amount", "医疗费用总额（元）", true), 1_000_000), "按票据金额取整填写"),
			bank,
			ff(FieldAttachment, "bills", "医疗费用票据", true)},
		"出生一件事联办": {childName, gender, birthDate, motherID, fatherID,
			ff(FieldChoice, "follow", "随父或随母落户", true, "随父", "随母"), hukou, address,
			withHint(ff(FieldAttachment, "child_photo", "新生儿照片（制社会保障卡用）", false), "近期彩色正面照片，JPG或PNG")},
		"义务教育阶段入学登记": {
			withMax(ff(FieldText, "child_name", "儿童姓名", true), 20),
			ff(FieldIDNumber, "child_id_number", "儿童身份证号", true),
			ff(FieldChoice, "grade", "报名年级", true, "小学一年级", "初中一年级"),
			hukou,
			ff(FieldChoice, "housing", "住房类型", true, "自有住房", "租赁住房", "其他"), address},
		"就业登记": {
			withMax(ff(FieldText, "employer_name", "用人单位名称", true), 100),
			withHint(ff(FieldUSCC, "employer_uscc", "用人单位统一社会信用代码", true), "18位，见营业执照"),
			ff(FieldDate, "start_date", "入职日期", true),
			withMax(ff(FieldText, "job", "工作岗位", false), 50),
			ff(FieldChoice, "contract", "劳动合同类型", true, "固定期限", "无固定期限", "以完成一定工作任务为期限", "未签订")},
		"失业登记": {
			withMax(ff(FieldText, "last_employer", "原工作单位", false), 100),
			ff(FieldDate, "leave_date", "离职日期", false),
			withMax(ff(FieldText, "job_wanted", "求职意向", false), 100), address},
		"失业保险金申领": {
			withMax(ff(FieldText, "last_employer", "原工作单位", true), 100),
			ff(FieldDate, "leave_date", "离职日期", true),
			ff(FieldChoice, "leave_reason", "离职原因", true, "劳动合同期满终止", "用人单位解除劳动合同", "其他非本人意愿中断就业"),
			bank},
		"住房公积金提取（购买自住住房）": {
			withMax(ff(FieldAddress, "house_address", "所购住房地址", true), 200),
			ff(FieldDate, "purchase_date", "购房合同签订日期", true),
			withMax(ff(FieldNumber, "amount", "申请提取金额（元）", true), 10_000_000),
			bank},
		"不动产转移登记（存量房买卖）": {
			withMax(ff(FieldText, "cert_no", "不动产权证书号", true), 50),
			withMax(ff(FieldAddress, "property_address", "不动产坐落", true), 200),
			ff(FieldIDNumber, "seller_id_number", "出卖人身份证号", true),
			ff(FieldIDNumber, "buyer_id_number", "买受人身份证号", true),
			withMax(ff(FieldNumber, "price", "成交价格（元）", true), 999_999_999)},
		"不动产登记资料查询": {
			ff(FieldChoice, "purpose", "查询目的", true, "查询本人名下不动产", "开具无房证明", "利害关系人查询"),
			withHint(ff(FieldRegion, "query_region", "查询范围", true), "6位行政区划代码")},
		"社会保障卡申领": {
			withHint(ff(FieldRegion, "insured_region", "参保地", true), "6位行政区划代码"),
			ff(FieldAttachment, "photo", "证件照片", true), delivery, mailAddress},
		"居住证申领": {
			withMax(ff(FieldAddress, "residence_address", "居住地址", true), 200),
			ff(FieldDate, "since", "来本地居住日期", true),
			ff(FieldChoice, "basis", "申领依据", true, "合法稳定就业", "合法稳定住所", "连续就读")},
		"居民身份证换领": {
			ff(FieldChoice, "renew_reason", "换领原因", true, "有效期满", "登记项目变更", "证件损坏"), delivery, mailAddress},
		"普通护照签发": {
			ff(FieldChoice, "purpose", "出境事由", true, "旅游", "探亲访友", "商务", "留学", "其他"), delivery, mailAddress},
		"机动车驾驶证有效期满换证": {delivery, mailAddress},
		"基本医疗保险跨省异地就医登记备案": {
			withHint(ff(FieldRegion, "destination", "就医地", true), "6位行政区划代码，填到地级市，如北京市东城区为110101"),
			ff(FieldChoice, "filing_type", "备案类型", true, "异地长期居住", "常驻异地工作", "异地转诊就医", "临时外出就医"),
			ff(FieldDate, "start_date", "备案开始日期", true)},
		"企业设立登记": {
			withMax(ff(FieldText, "company_name", "企业名称", true), 100),
			ff(FieldChoice, "company_type", "企业类型", true, "有限责任公司", "股份有限公司", "合伙企业", "个人独资企业"),
			withMax(ff(FieldNumber, "capital", "注册资本（万元）", true), 10_000_000),
			withMax(ff(FieldAddress, "company_address", "住所", true), 200),
			ff(FieldIDNumber, "legal_rep_id_number", "法定代表人身份证号", true),
			withMax(ff(FieldText, "scope", "经营范围", true), 2000)},
		"企业变更登记": {uscc,
			ff(FieldChoice, "change_item", "变更事项", true, "名称", "住所", "法定代表人", "经营范围", "注册资本", "股东", "其他"),
			withMax(ff(FieldText, "change_detail", "变更内容", true), 1000)},
		"企业注销登记": {uscc,
			ff(FieldChoice, "mode", "注销方式", true, "简易注销", "一般注销"),
			withMax(ff(FieldText, "reason", "注销原因", true), 200)},
		"个体工商户设立登记": {
			withMax(ff(FieldText, "shop_name", "个体工商户名称", false), 60),
			withMax(ff(FieldAddress, "shop_address", "经营场所", true), 200),
			withMax(ff(FieldText, "scope", "经营范围", true), 1000)},
		"食品经营许可（新办）": {uscc,
			ff(FieldChoice, "category", "经营项目", true, "食品销售", "餐饮服务", "食品销售和餐饮服务"),
			withMax(ff(FieldAddress, "premises", "经营场所", true), 200),
			withMax(ff(FieldNumber, "area", "经营场所面积（平方米）", true), 100_000)},
	}
}
