package identity_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"yiwang/internal/identity"
	"yiwang/internal/platform/idcode"
	"yiwang/internal/platform/password"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// BenchmarkLogin measures password sign-ins end to end through the
// service (lookup, argon2id verify at the citizen cost, session, history,
// audit) with every core busy, on each engine. Sign-ins per second per
// core = 1e9 / (ns/op × GOMAXPROCS).
//
//	go test -run '^$' -bench Login -benchtime 200x ./internal/identity/
func BenchmarkLogin(b *testing.B) {
	for _, eng := range sqldbtest.Engines(b) {
		// Set up once per engine: b.Run calls its function more than once.
		svc := identity.NewService(eng.DB, password.NewHasher(password.Citizen, runtime.GOMAXPROCS(0)), &inbox{}, identity.Settings{})
		const n = 50
		names := make([]string, n)
		for i := range n {
			in := identity.NewAccount{Kind: identity.Person, Name: "测试用户", Phone: fmt.Sprintf("1380000%04d", i), Password: pw}
			body := fmt.Sprintf("150102199001%02d%03d", i%28+1, i)
			c, _ := idcode.IDCheckChar(body)
			in.IDNumber = body + string(c)
			if _, err := svc.CreateAccount(b.Context(), in); err != nil {
				b.Fatal(err)
			}
			names[i] = in.IDNumber
		}
		b.Run(eng.Name, func(b *testing.B) {
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					name := names[next.Add(1)%n]
					if _, _, err := svc.Login(b.Context(), name, pw, "10.0.0.1", "bench"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/float64(runtime.GOMAXPROCS(0)), "logins/s/core")
		})
	}
}
