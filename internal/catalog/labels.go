package catalog

// Labels in zh-CN for the coded elements, for pages and exports.
var (
	MaterialTypes     = map[int]string{1: "证件证书证明", 2: "申请表格文书", 3: "其他"}
	MaterialSources   = map[int]string{10: "申请人自备", 20: "政府部门核发", 99: "其他"}
	MaterialNecessity = map[int]string{1: "必要", 2: "非必要", 3: "容缺后补"}
	MaterialForms     = map[int]string{1: "纸质", 2: "电子化", 3: "纸质+电子"}
	AudienceLabels    = map[Audience]string{Person: "自然人", Legal: "法人"}
	UnitLabels        = map[Unit]string{Workday: "个工作日", Natural: "个自然日"}
	KindLabels        = map[Kind]string{Immediate: "即办件", Promised: "承诺件"}
	ChannelLabels     = map[Channel]string{Window: "窗口办理", Online: "网上办理", Mail: "快递申请", Mobile: "移动端办理", Appointment: "预约办理"}
	ScopeLabels       = map[string]string{"national": "全国通办", "cross_province": "跨省通办", "province": "全区通办", "city": "全市通办", "county": "全县通办", "none": "不通办"}
	StatusLabels      = map[string]string{StatusDraft: "草稿", StatusPublished: "已发布", StatusSuspended: "暂停办理", StatusRevoked: "已撤销",
		VersionSubmitted: "待审核", VersionSuperseded: "历史版本"}
	AssuranceLevels = map[int]string{0: "不限", 1: "一级及以上（手机号验证）", 2: "二级及以上（身份信息比对）", 3: "三级及以上（人脸识别）", 4: "四级（窗口现场核验）"}
	DepthLevels     = map[int]string{1: "Ⅰ级", 2: "Ⅱ级", 3: "Ⅲ级", 4: "Ⅳ级（全程网办）"}
)
