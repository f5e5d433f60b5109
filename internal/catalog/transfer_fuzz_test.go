package catalog

import (
	"bytes"
	"errors"
	"strings"
	"testing"

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
