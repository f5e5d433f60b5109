package catalog

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"yiwang/internal/platform/errs"
)

// checkParsed is what every parse of arbitrary input must satisfy: no
// panic (the fuzzer reports those), failures are *errs.Error of kind
// Invalid, and every row error names a real row and a known column.
func checkParsed(t *testing.T, sheet *Sheet, err error) {
	t.Helper()
	if err != nil {
		if e, ok := errors.AsType[*errs.Error](err); !ok || e.Kind != errs.Invalid || e.Msg == "" {
			t.Fatalf("error %v (%T) is not an Invalid *errs.Error with a message", err, err)
		}
		return
	}
	headers := Headers()
	for _, r := range sheet.Rows {
		if r.Row < 2 {
			t.Fatalf("row number %d", r.Row)
		}
		for _, e := range r.Errors {
			if e.Row != r.Row || e.Reason == "" || (e.Column != "" && !strings.Contains(strings.Join(headers, "\n")+"\n", e.Column+"\n")) {
				t.Fatalf("bad row error %+v in row %d", e, r.Row)
			}
		}
		if len(r.Errors) == 0 {
			// A clean row is a checked item: checking it again finds nothing
			// but the department, which the importer resolves.
			it := r.Item
			if err := it.Check(DefaultTypes); err != nil {
				if e, ok := errors.AsType[*errs.Error](err); !ok || len(e.Fields) != 1 || e.Fields["dept_id"] == "" {
					t.Fatalf("row %d parsed clean but Check says %v", r.Row, err)
				}
			}
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	items := demoItems(f)
	f.Add(exportCSV(f, items[:3]))
	f.Add(exportCSV(f, nil))
	f.Add([]byte(strings.Join(Headers(), ",") + "\n1,2,3\n"))
	f.Add([]byte("\xEF\xBB\xBF基本编码,事项名称\n\"a\nb\",c\n"))
	f.Add([]byte("\xb8\xf6\xc8\xcb,\xb7\xa8\xc8\xcb\n")) // GBK 个人,法人
	f.Add([]byte{0xFF, 0xFE, 0, 0})
	f.Add([]byte("\"unterminated"))
	formula := cloneItem(items[0])
	formula.Name, formula.Keywords = "'=出生医学证明", []string{"=1+1", "@SUM(A1)"}
	f.Add(exportCSV(f, []Item{formula}))
	f.Add(csvOf([]string{"基本编码", "事项名称"}, map[string]string{"基本编码": "'-1", "事项名称": "''=x"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		sheet, err := ParseCSV(bytes.NewReader(data), DefaultTypes)
		checkParsed(t, sheet, err)
	})
}

func FuzzParseXLSX(f *testing.F) {
	items := demoItems(f)
	f.Add(exportXLSX(f, items[:2]))
	f.Add(exportXLSX(f, nil))
	f.Add(xlsxWith(f, "Sheet1", [][]string{{"姓名"}, {"张三"}}))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sheet, err := ParseXLSX(bytes.NewReader(data), DefaultTypes)
		checkParsed(t, sheet, err)
	})
}

// FuzzRoundTripText puts arbitrary text at the start of cells (item name,
// conditions, FAQ, the first legal basis), exports it as CSV and .xlsx and
// imports it back: every CSV cell is defused, and the text comes back as
// the item's own Check leaves it (trimmed). Text neither format can carry
// is skipped: invalid UTF-8, carriage returns (CSV writes line ends as
// CRLF), control characters XML does not allow, over-long cells.
func FuzzRoundTripText(f *testing.F) {
	for _, s := range []string{"=1+1", "'=1", "''-1", "'", "'0471", "@", "-", "+86 471", "\t=x", "=a\n=b", "出生医学证明", `a｜b\n\\`, "_x0041_", ""} {
		f.Add(s)
	}
	base := demoItems(f)[0]
	f.Fuzz(func(t *testing.T, s string) {
		if c := defuse(s); undefuse(c) != s || (c != "" && strings.ContainsAny(c[:1], formulaStarts)) {
			t.Fatalf("defuse(%q) = %q, undefuse gives %q", s, c, undefuse(c))
		}
		if c := xlsxCell(s); undefuse(c) != s {
			t.Fatalf("xlsxCell(%q) = %q, undefuse gives %q", s, c, undefuse(c))
		}
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 1000 || strings.ContainsFunc(s, func(r rune) bool {
			return r == '\r' || r == 0xFFFE || r == 0xFFFF || unicode.IsControl(r) && r != '\t' && r != '\n'
		}) {
			return
		}
		it := cloneItem(base)
		it.Name, it.Conditions, it.Contact.FAQ, it.LegalBasis[0].Name = s, s, s, s
		want := withoutDept([]Item{it})[0]
		_ = want.Check(DefaultTypes) // trims as the import's Check does
		csvData := exportCSV(t, []Item{it})
		checkDefused(t, csvData)
		for _, tc := range []struct {
			format string
			data   []byte
		}{{"csv", csvData}, {"xlsx", exportXLSX(t, []Item{it})}} {
			sheet, err := Parse("items."+tc.format, tc.data, DefaultTypes)
			if err != nil {
				t.Fatalf("%s: %v", tc.format, err)
			}
			if len(sheet.Rows) != 1 {
				t.Fatalf("%s: rows = %+v", tc.format, sheet.Rows)
			}
			if diff := cmp.Diff(want, sheet.Rows[0].Item, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: text %q mismatch (-want +got):\n%s\nrow errors: %v", tc.format, s, diff, sheet.Rows[0].Errors)
			}
		}
	})
}
