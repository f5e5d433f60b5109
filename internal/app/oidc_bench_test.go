package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"yiwang/internal/platform/sqldb/sqldbtest"
)

// The OIDC provider's throughput through the real router and middleware
// over loopback HTTP, per engine:
//
//	go test ./internal/app/ -run '^$' -bench 'OIDC' -benchtime 5s
//	YIWANG_TEST_PG='postgres://…' go test ./internal/app/ -run '^$' -bench 'OIDC' -benchtime 5s
//
// token: refresh_token grants (each rotates the refresh token: one audited
// write transaction); userinfo: bearer-token lookups (reads only); signin:
// the whole code flow of a signed-in, consented person (authorize, login
// step, callback, code exchange).

func BenchmarkOIDCToken(b *testing.B) {
	for _, eng := range sqldbtest.Engines(b) {
		e := newOIDCEnv(b, eng)
		b.Run(eng.Name, func(b *testing.B) {
			a := e.relyingParty(b, "system-a", oidcSecretA, "profile", "offline_access")
			br := e.browser(b, true)
			var mu sync.Mutex
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock() // each goroutine gets its own refresh token family
				tokens, _ := br.signIn(a, "allow")
				mu.Unlock()
				refresh := tokens.RefreshToken
				hc := e.Server.Client()
				for pb.Next() {
					req, _ := http.NewRequest("POST", e.Server.URL+"/oidc/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth("system-a", oidcSecretA)
					res, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					var out struct {
						RefreshToken string `json:"refresh_token"`
					}
					err = json.NewDecoder(res.Body).Decode(&out)
					res.Body.Close()
					if err != nil || res.StatusCode != 200 || out.RefreshToken == "" {
						b.Errorf("refresh: %d %v", res.StatusCode, err)
						return
					}
					refresh = out.RefreshToken
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

func BenchmarkOIDCUserinfo(b *testing.B) {
	for _, eng := range sqldbtest.Engines(b) {
		e := newOIDCEnv(b, eng)
		b.Run(eng.Name, func(b *testing.B) {
			a := e.relyingParty(b, "system-a", oidcSecretA, "profile", "phone", "id_number")
			tokens, _ := e.browser(b, true).signIn(a, "allow")
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				hc := e.Server.Client()
				for pb.Next() {
					req, _ := http.NewRequest("GET", e.Server.URL+"/oidc/userinfo", nil)
					req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
					res, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Errorf("userinfo: %d", res.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

func BenchmarkOIDCSignIn(b *testing.B) {
	for _, eng := range sqldbtest.Engines(b) {
		e := newOIDCEnv(b, eng)
		b.Run(eng.Name, func(b *testing.B) {
			a := e.relyingParty(b, "system-a", oidcSecretA, "profile")
			br := e.browser(b, true)
			br.signIn(a, "allow")
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				q, _ := br.authorize(rp.AuthURL("s", a, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), "allow")
				if _, err := rp.CodeExchange[*oidc.IDTokenClaims](b.Context(), q.Get("code"), a, rp.WithCodeVerifier(verifier)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signins/s")
		})
	}
}
