package identity

import (
	"context"
	"fmt"

	"yiwang/internal/platform/idcode"
	"yiwang/internal/platform/password"
)

// DemoAccount is a demo account holder and its generated password.
type DemoAccount struct {
	Username, Password, Name string
	Kind                     Kind
	Note                     string
}

// SeedDemo creates the demo's account holders: a parent in 呼和浩特 (the
// citizen journey), and an enterprise that has authorised that parent as
// its 经办人. Passwords are generated and returned once.
func (s *Service) SeedDemo(ctx context.Context) ([]DemoAccount, error) {
	body := "15010219900307123" // 呼和浩特市新城区, born 1990-03-07
	check, err := idcode.IDCheckChar(body)
	if err != nil {
		return nil, err
	}
	ubody := "91150102MA0YW0001" // a company registered in 新城区
	ucheck, err := idcode.USCCCheckChar(ubody)
	if err != nil {
		return nil, err
	}
	person := NewAccount{Kind: Person, Name: "王小明", IDNumber: body + string(check), Phone: "13800471234", Password: password.Demo()}
	firm := NewAccount{Kind: Legal, Name: "呼和浩特青城乳业有限公司", USCC: ubody + string(ucheck), LegalRep: "赵青", Phone: "13800470001", Password: password.Demo()}
	p, err := s.CreateAccount(ctx, person)
	if err != nil {
		return nil, fmt.Errorf("identity.SeedDemo: %w", err)
	}
	f, err := s.CreateAccount(ctx, firm)
	if err != nil {
		return nil, fmt.Errorf("identity.SeedDemo: %w", err)
	}
	if _, err := s.AddAgent(ctx, f, p.IDNumber, p.Name); err != nil {
		return nil, fmt.Errorf("identity.SeedDemo: %w", err)
	}
	return []DemoAccount{
		{Username: person.IDNumber, Password: person.Password, Name: person.Name, Kind: Person, Note: "手机 " + person.Phone + "，青城乳业的经办人"},
		{Username: firm.USCC, Password: firm.Password, Name: firm.Name, Kind: Legal, Note: "法定代表人 " + firm.LegalRep},
	}, nil
}
