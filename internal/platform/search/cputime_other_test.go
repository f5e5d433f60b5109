//go:build !linux

package search_test

import "time"

// threadCPU is unavailable here; the CPU-time metrics then read 0.
func threadCPU() time.Duration { return 0 }
