// Package migrations embeds Yiwang's SQL migrations: shared files at the top,
// dialect-specific ones under sqlite/ and postgres/ (only where DDL differs).
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql sqlite postgres
var FS embed.FS
