package main

import (
	"os"
	"runtime/debug"
)

// importMemoryLimit is the Go heap's soft limit during an import. A bulk
// import's live heap stays near 0.5 GiB, but by default the GC lets the heap
// grow to twice the live size before collecting; the limit makes it collect
// earlier instead, so peak RSS stays inside PERF-LIMITS T3 (1.5 GiB) for any
// input size, at a few percent of CPU.
const importMemoryLimit = 1 << 30

// limitImportMemory sets importMemoryLimit unless GOMEMLIMIT is set, and
// returns the function that restores the previous limit.
func limitImportMemory() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(importMemoryLimit)
	return func() { debug.SetMemoryLimit(prev) }
}
