package catalog

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The console's item editor posts every element under the same key that
// Item.Check names it by ("materials[2].name", "fee.basis"), so an error
// lands on its own field. Repeated elements are rows numbered from 0; a
// row marked for deletion (".remove") or left entirely blank is dropped.

// maxRows bounds every repeated element of a submitted form, so a forged
// index such as materials[999999999] costs nothing.
const maxRows = 100

// ItemForm is an item being edited: its elements as posted, the rows that
// could not even be read as numbers, and the row the editor asked to add.
type ItemForm struct {
	Item   Item
	Errors map[string]string
	Add    string // "materials", "legal_basis", … : show one more empty row
}

// ParseItemForm reads an item from a submitted editor form. Numbers that do
// not parse are reported on their field and read as -1, so Check cannot
// mistake them for a valid value; nothing here panics on any input.
func ParseItemForm(v url.Values) ItemForm {
	f := ItemForm{Errors: map[string]string{}, Add: v.Get("add")}
	it := &f.Item
	num := func(key, label string) int {
		s := strings.TrimSpace(v.Get(key))
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < -1_000_000 || n > 1_000_000 {
			f.Errors[key] = label + "应为整数"
			return -1
		}
		return n
	}
	limit := func(key, label string) TimeLimit {
		return TimeLimit{Days: num(key+".days", label), Unit: Unit(v.Get(key + ".unit")), Note: v.Get(key + ".note")}
	}
	it.BasicCode, it.Name, it.Type = v.Get("basic_code"), v.Get("name"), v.Get("type")
	it.Level = num("level", "行使层级")
	it.Region, it.DeptID = v.Get("region"), v.Get("dept_id")
	for _, a := range v["audiences"] {
		it.Audiences = append(it.Audiences, Audience(a))
	}
	it.Conditions = v.Get("conditions")
	it.LegalLimit = limit("legal_limit", "法定办结时限")
	it.PromisedLimit = limit("promised_limit", "承诺办结时限")
	it.Kind = Kind(v.Get("kind"))
	for _, i := range rows(v, "legal_basis") {
		k := fmt.Sprintf("legal_basis[%d].", i)
		it.LegalBasis = append(it.LegalBasis, LegalBasis{Name: v.Get(k + "name"), DocNo: v.Get(k + "doc_no"), Article: v.Get(k + "article"),
			Content: v.Get(k + "content"), Issuer: v.Get(k + "issuer"), Effective: v.Get(k + "effective_date")})
	}
	for _, i := range rows(v, "special") {
		k := fmt.Sprintf("special[%d].", i)
		it.Special = append(it.Special, Special{Name: v.Get(k + "name"), Limit: limit(k+"limit", "特别程序时限")})
	}
	for _, i := range rows(v, "materials") {
		k := fmt.Sprintf("materials[%d].", i)
		it.Materials = append(it.Materials, Material{Name: v.Get(k + "name"), Type: num(k+"type", "材料类型"), Source: num(k+"source", "来源渠道"),
			Necessity: num(k+"necessity", "是否必要"), Form: num(k+"form", "提交形式"), Originals: num(k+"originals", "原件份数"),
			Copies: num(k+"copies", "复印件份数"), Paper: v.Get(k + "paper"), Notes: v.Get(k + "notes")})
	}
	for _, i := range rows(v, "form") { // 办件表单: formfields.go
		k := fmt.Sprintf("form[%d].", i)
		it.Form = append(it.Form, FormField{Key: v.Get(k + "key"), Label: v.Get(k + "label"), Type: v.Get(k + "type"),
			Required: v.Get(k+"required") == "yes", Options: lines(v.Get(k + "options")), Max: num(k+"max", "上限"), Hint: v.Get(k + "hint")})
	}
	for _, i := range rows(v, "steps") {
		k := fmt.Sprintf("steps[%d].", i)
		it.Steps = append(it.Steps, Step{Name: v.Get(k + "name"), Group: v.Get(k + "group"), Description: v.Get(k + "description"),
			DeptID: v.Get(k + "dept_id"), Role: v.Get(k + "role")})
	}
	for _, i := range rows(v, "results") {
		k := fmt.Sprintf("results[%d].", i)
		it.Results = append(it.Results, Result{Type: v.Get(k + "type"), Name: v.Get(k + "name"), Validity: v.Get(k + "validity")})
	}
	it.Fee = Fee{Charged: v.Get("fee.charged") == "yes", Basis: v.Get("fee.basis"), Items: v.Get("fee.items"),
		Standard: v.Get("fee.standard"), OnlinePay: v.Get("fee.online_pay")}
	for _, s := range v["depth.codes"] {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = -1
		}
		it.Depth.Codes = append(it.Depth.Codes, n)
	}
	it.Depth.Level = num("depth.level", "网上办理深度等级")
	it.Visits = num("visits", "到办事现场次数")
	it.VisitReason = v.Get("visit_reason")
	for _, c := range v["channels"] {
		it.Channels = append(it.Channels, Channel(c))
	}
	it.Scope, it.CrossProvince = v.Get("scope"), v.Get("cross_province")
	it.OneWindow = v.Get("one_window") == "yes"
	it.MinAssurance = num("min_assurance", "实名等级要求")
	it.Contact = Contact{Location: v.Get("contact.location"), Hours: v.Get("contact.hours"), Phone: v.Get("contact.phone"),
		Complaint: v.Get("contact.complaint_phone"), FAQ: v.Get("contact.faq")}
	it.Themes, it.Keywords, it.Aliases = SplitList(v.Get("themes")), SplitList(v.Get("keywords")), SplitList(v.Get("aliases"))
	return f
}

// rows returns the row numbers of the repeated element prefix present in v,
// in order, without the rows marked for removal or left blank (every text
// field empty; numbers and choices alone do not keep a row).
func rows(v url.Values, prefix string) []int {
	var out []int
	blank := map[int]bool{}
	for key, vals := range v {
		rest, ok := strings.CutPrefix(key, prefix+"[")
		if !ok {
			continue
		}
		n, field, ok := strings.Cut(rest, "].")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 || i >= maxRows {
			continue
		}
		if _, seen := blank[i]; !seen {
			blank[i] = true
			out = append(out, i)
		}
		if textField(field) && strings.TrimSpace(strings.Join(vals, "")) != "" {
			blank[i] = false
		}
	}
	for _, i := range out {
		if v.Get(fmt.Sprintf("%s[%d].remove", prefix, i)) != "" {
			blank[i] = true
		}
	}
	out = slices.DeleteFunc(out, func(i int) bool { return blank[i] })
	slices.Sort(out)
	return out
}

// textField reports whether a row field is free text (not a number or a
// choice with a default).
func textField(field string) bool {
	switch field {
	case "type", "source", "necessity", "form", "originals", "copies", "limit.days", "limit.unit", "remove",
		"required", "max": // the last two: 办件表单 rows
		return false
	}
	return true
}

// SplitList reads a list typed into one box: entries separated by new
// lines, commas or 、 (full-width or not).
func SplitList(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == '\n' || r == '\r' || r == ',' || r == '，' || r == '、' || r == ';' || r == '；'
	})
	var out []string
	for _, f := range fields {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
