package catalog

import (
	"net/url"
	"reflect"
	"testing"
)

func TestParseItemFormRows(t *testing.T) {
	for _, tc := range []struct {
		name string
		form url.Values
		want []string // material names in order
	}{
		{"in row order, not map order", url.Values{"materials[10].name": {"丙"}, "materials[2].name": {"乙"}, "materials[0].name": {"甲"}}, []string{"甲", "乙", "丙"}},
		{"blank rows dropped even with choices", url.Values{"materials[0].name": {" "}, "materials[0].type": {"2"}, "materials[1].name": {"甲"}}, []string{"甲"}},
		{"a row with notes but no name is kept for Check to name", url.Values{"materials[0].notes": {"说明"}}, []string{""}},
		{"removed rows dropped", url.Values{"materials[0].name": {"甲"}, "materials[0].remove": {"1"}, "materials[1].name": {"乙"}}, []string{"乙"}},
		{"forged and huge indexes ignored", url.Values{"materials[999999999].name": {"甲"}, "materials[-1].name": {"乙"}, "materials[x].name": {"丙"}, "materials[1]name": {"丁"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ParseItemForm(tc.form)
			var got []string
			for _, m := range f.Item.Materials {
				got = append(got, m.Name)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("materials %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseItemFormNumbers(t *testing.T) {
	f := ParseItemForm(url.Values{"level": {"三"}, "visits": {" 2 "}, "legal_limit.days": {"99999999999"}, "depth.codes": {"1", "x"},
		"materials[0].name": {"甲"}, "materials[0].copies": {"1.5"}})
	want := map[string]string{"level": "行使层级应为整数", "legal_limit.days": "法定办结时限应为整数", "materials[0].copies": "复印件份数应为整数"}
	if !reflect.DeepEqual(f.Errors, want) {
		t.Errorf("errors %v, want %v", f.Errors, want)
	}
	if f.Item.Visits != 2 || f.Item.Level != -1 || f.Item.Materials[0].Copies != -1 || !reflect.DeepEqual(f.Item.Depth.Codes, []int{1, -1}) {
		t.Errorf("item %+v", f.Item)
	}
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"出生\n生育":        {"出生", "生育"},
		"出生、生育，上户口; 落户": {"出生", "生育", "上户口", "落户"},
		" \r\n ,":       nil,
	} {
		if got := SplitList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseItemForm: any posted form is read without panic, and the item
// read is then checked without panic.
func FuzzParseItemForm(f *testing.F) {
	f.Add("name=%E5%87%BA%E7%94%9F&materials%5B0%5D.name=a&materials%5B0%5D.copies=x&depth.codes=9&visits=-1")
	f.Add("materials%5B99%5D.name=a&special%5B0%5D.limit.days=1e9&legal_basis%5B0%5D.remove=1")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		form := ParseItemForm(v)
		if len(form.Item.Materials) > maxRows || len(form.Item.Steps) > maxRows {
			t.Fatalf("more than %d rows", maxRows)
		}
		_ = form.Item.Check(DefaultTypes)
	})
}

func TestParseItemFormSteps(t *testing.T) {
	f := ParseItemForm(url.Values{"steps[0].name": {"审查"}, "steps[1].name": {"决定"}, "steps[1].dept_id": {"d1"}, "steps[1].role": {StepApprover}})
	want := []Step{{Name: "审查"}, {Name: "决定", DeptID: "d1", Role: StepApprover}}
	if !reflect.DeepEqual(f.Item.Steps, want) {
		t.Errorf("steps %+v, want %+v", f.Item.Steps, want)
	}
}

func TestRoutedSteps(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  []bool
	}{
		{[]string{"收件", "受理", "审查", "决定", "制证", "送达"}, []bool{false, false, true, true, false, false}},
		{[]string{"受理", "办结"}, []bool{false, true}},
		{[]string{"接件", "初审", "复审", "决定"}, []bool{false, true, true, true}},
		{nil, []bool{}},
	} {
		var steps []Step
		for _, n := range tc.names {
			steps = append(steps, Step{Name: n})
		}
		if got := RoutedSteps(steps); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("RoutedSteps(%v) = %v, want %v", tc.names, got, tc.want)
		}
	}
}
