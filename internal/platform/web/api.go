package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"yiwang/internal/platform/errs"
)

func init() {
	// huma builds every error through these two functions; replacing them
	// once makes API errors use the same kinds and Problem body as pages,
	// and makes the OpenAPI document describe that body.
	huma.NewError = func(status int, msg string, causes ...error) huma.StatusError {
		return problemFor(status, msg, causes)
	}
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, causes ...error) huma.StatusError {
		p := problemFor(status, msg, causes)
		if ctx != nil {
			p.Instance = ctx.URL().Path
			p.RequestID = RequestID(ctx.Context())
		}
		return p
	}
}

// problemFor turns what huma reports into a Problem: an *errs.Error among
// the causes decides the status and message; huma's own validation failures
// become Invalid with one message per field.
func problemFor(status int, msg string, causes []error) *Problem {
	for _, c := range causes {
		if _, ok := errors.AsType[*errs.Error](c); ok {
			p, _ := ProblemOf(c)
			return p
		}
	}
	p := &Problem{Type: "about:blank", Status: status, Title: http.StatusText(status)}
	switch {
	case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
		p.Code, p.Detail = errs.Invalid.Code(), "请求参数无效"
		for _, c := range causes {
			if d, ok := errors.AsType[*huma.ErrorDetail](c); ok {
				if p.Fields == nil {
					p.Fields = map[string]string{}
				}
				loc := d.Location
				if loc == "" {
					loc = "request"
				}
				p.Fields[loc] = d.Message
			}
		}
	case status == http.StatusNotFound:
		p.Code, p.Detail = errs.NotFound.Code(), "资源不存在"
	case status == http.StatusNotAcceptable || status == http.StatusUnsupportedMediaType:
		p.Code, p.Detail = errs.Invalid.Code(), "不支持的内容类型"
	case status == http.StatusRequestEntityTooLarge:
		p.Code, p.Detail = errs.Invalid.Code(), "请求内容过大"
	case status >= 500 || status == 0:
		p.Code, p.Detail = errs.Internal.Code(), "系统繁忙，请稍后再试"
		if status == 0 {
			p.Status = http.StatusInternalServerError
		}
	default:
		p.Code, p.Detail = strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_"), msg
	}
	return p
}

// NewAPI puts the versioned JSON API on mux. The OpenAPI 3.1 document is
// served at /api/openapi.json (and .yaml); the docs page is Yiwang's own,
// since huma's default loads scripts from a CDN.
func NewAPI(mux *http.ServeMux, version string) huma.API {
	cfg := huma.DefaultConfig("一网 Yiwang 一体化政务服务平台 API", version)
	cfg.Info.Description = "一体化政务服务平台开放接口。错误以 RFC 9457 application/problem+json 返回，code 字段为机器可读的错误类别。"
	cfg.OpenAPIPath = "/api/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = "/api/schemas"
	cfg.CreateHooks = nil // no $schema links added to response bodies
	return humago.New(mux, cfg)
}
