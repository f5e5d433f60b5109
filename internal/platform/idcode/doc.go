// Package idcode validates and builds Chinese identifier codes:
//
//   - 公民身份号码 (resident identity number), GB 11643-1999: ParseIDNumber, IDCheckChar;
//   - 统一社会信用代码 (unified social credit code), GB 32100-2015: ValidateUSCC, USCCCheckChar, NewUSCC;
//   - 组织机构代码 (organisation code), GB 11714-1997: ValidateOrgCode, OrgCheckChar.
//
// Every validation failure is an *errs.Error of Kind errs.Invalid whose Msg
// is a zh-CN reason fit to show to a person. Input is taken as typed: callers
// trim surrounding spaces themselves. No function panics on any input.
package idcode
