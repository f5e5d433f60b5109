package app_test

import (
	"testing"

	"yiwang/internal/app/apptest"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// TestProgressLookupIsLimited: a known number must not let anyone try
// names until one fits; lookups are limited per address.
func TestProgressLookupIsLimited(t *testing.T) {
	e := apptest.New(t, sqldbtest.SQLite(t))
	c := e.Client()
	status := 0
	for i := range 31 {
		res := c.Get(t, "/progress?number=15010000000000000000000000000000202603020001&name=%E5%BC%A0"+string(rune('a'+i%26)))
		status = res.Status
		if i < 30 && status != 404 {
			t.Fatalf("lookup %d: %d, want 404", i+1, status)
		}
	}
	if status != 429 {
		t.Fatalf("31st lookup in a minute: %d, want 429", status)
	}
}
