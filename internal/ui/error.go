package ui

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed pages/*.html
var pagesFS embed.FS

var shared = func() *Pages {
	p, err := NewPagesDir(pagesFS, "pages", nil)
	if err != nil {
		panic(err) // caught by TestTemplatesParse and by any start-up
	}
	return p
}()

// ErrorPage is the data of the zh-CN error page.
type ErrorPage struct {
	Base
	Status  int
	Heading string
	Detail  string
	Fields  map[string]string
}

// RenderError writes the error page for status with the message people see.
func RenderError(w http.ResponseWriter, r *http.Request, status int, detail string, fields map[string]string) error {
	b := NewBase(r, http.StatusText(status))
	if strings.HasPrefix(r.URL.Path, "/console") {
		b = ConsoleBase(r, "出错了")
	}
	heading := map[int]string{
		http.StatusBadRequest:            "请求有误",
		http.StatusUnauthorized:          "请先登录",
		http.StatusForbidden:             "没有权限",
		http.StatusNotFound:              "页面不存在",
		http.StatusMethodNotAllowed:      "不支持的请求方式",
		http.StatusConflict:              "操作冲突",
		http.StatusRequestEntityTooLarge: "提交的内容过大",
		http.StatusUnprocessableEntity:   "填写的内容有误",
		http.StatusTooManyRequests:       "操作过于频繁",
		http.StatusInternalServerError:   "系统繁忙",
		http.StatusServiceUnavailable:    "服务暂不可用",
	}[status]
	if heading == "" {
		heading = "出错了"
	}
	b.Title = heading
	return shared.Render(w, status, "error.html", ErrorPage{Base: b, Status: status, Heading: heading, Detail: detail, Fields: fields})
}

// RenderShared renders one of the shared pages (error, API docs).
func RenderShared(w http.ResponseWriter, status int, name string, data any) error {
	return shared.Render(w, status, name, data)
}
