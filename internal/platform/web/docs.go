package web

import (
	"net/http"
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"yiwang/internal/ui"
)

// DocOp is one API operation on the docs page.
type DocOp struct {
	Method, Path, Summary, Tag, ID string
	Params                         []DocParam
	Errors                         []string
}

// DocParam is one parameter of an operation.
type DocParam struct{ Name, In, Desc string }

type docsPage struct {
	ui.Base
	Title, Version, Description string
	Ops                         []DocOp
}

// DocsPage renders the API reference from the OpenAPI document itself, so
// it never drifts from what the server does; no script from a CDN needed.
func DocsPage(api huma.API) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		doc := api.OpenAPI()
		page := docsPage{Base: ui.NewBase(r, "开放接口文档"), Title: doc.Info.Title, Version: doc.Info.Version, Description: doc.Info.Description}
		for path, item := range doc.Paths {
			for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
				if op == nil {
					continue
				}
				d := DocOp{Method: method, Path: path, Summary: op.Summary, ID: op.OperationID}
				if len(op.Tags) > 0 {
					d.Tag = op.Tags[0]
				}
				for _, p := range op.Parameters {
					d.Params = append(d.Params, DocParam{Name: p.Name, In: p.In, Desc: p.Description})
				}
				for code := range op.Responses {
					if !strings.HasPrefix(code, "2") {
						d.Errors = append(d.Errors, code)
					}
				}
				sort.Strings(d.Errors)
				page.Ops = append(page.Ops, d)
			}
		}
		sort.Slice(page.Ops, func(i, j int) bool {
			if page.Ops[i].Tag != page.Ops[j].Tag {
				return page.Ops[i].Tag < page.Ops[j].Tag
			}
			return page.Ops[i].Path+page.Ops[i].Method < page.Ops[j].Path+page.Ops[j].Method
		})
		return ui.RenderShared(w, http.StatusOK, "apidocs.html", page)
	}
}
