package identity

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/idcode"
)

// CodeKind is a kind of identifier that CheckCode validates.
type CodeKind string

// The kinds of identifier.
const (
	IDNumber CodeKind = "id"   // 公民身份号码, GB 11643
	USCC     CodeKind = "uscc" // 统一社会信用代码, GB 32100
	OrgCode  CodeKind = "org"  // 组织机构代码, GB 11714
)

// CodeCheck is the verdict on one identifier.
type CodeCheck struct {
	Valid  bool   `json:"valid" doc:"是否有效"`
	Reason string `json:"reason" doc:"无效的原因（中文）；有效时为空"`
}

// CheckCode validates value as an identifier of kind at time now. An
// invalid value is a verdict, not an error; an unknown kind is Invalid.
func CheckCode(kind CodeKind, value string, now time.Time) (CodeCheck, error) {
	var err error
	switch kind {
	case IDNumber:
		_, err = idcode.ParseIDNumber(value, now)
	case USCC:
		err = idcode.ValidateUSCC(value)
	case OrgCode:
		err = idcode.ValidateOrgCode(value)
	default:
		return CodeCheck{}, &errs.Error{Kind: errs.Invalid, Op: "identity.CheckCode", Msg: "证件类型应为 id、uscc 或 org",
			Fields: map[string]string{"kind": "证件类型应为 id、uscc 或 org"}}
	}
	if err != nil {
		if errs.KindOf(err) != errs.Invalid {
			return CodeCheck{}, err
		}
		return CodeCheck{Reason: errs.Message(err)}, nil
	}
	return CodeCheck{Valid: true}, nil
}

type codeCheckInput struct {
	Kind  string `query:"kind" required:"true" enum:"id,uscc,org" doc:"证件类型：id 公民身份号码，uscc 统一社会信用代码，org 组织机构代码"`
	Value string `query:"value" required:"true" maxLength:"64" doc:"待校验的号码"`
}

type codeCheckOutput struct{ Body CodeCheck }

// APIRoutes registers the identity API; now is the clock that birth dates
// are checked against.
func APIRoutes(api huma.API, now func() time.Time) {
	huma.Register(api, huma.Operation{OperationID: "check-code", Method: http.MethodGet, Path: "/api/v1/codes/check",
		Summary: "校验公民身份号码、统一社会信用代码或组织机构代码", Tags: []string{"统一身份认证"}, Errors: []int{422}},
		func(ctx context.Context, in *codeCheckInput) (*codeCheckOutput, error) {
			res, err := CheckCode(CodeKind(in.Kind), in.Value, now())
			if err != nil {
				return nil, err
			}
			return &codeCheckOutput{Body: res}, nil
		})
}
