// Command yiwang is the integrated government service platform (一网通办):
// one binary serving the citizen portal, the staff console and the JSON API.
// Run `yiwang help` for its commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"yiwang/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
