package workbench

import (
	"os"
	"runtime/debug"
)

// importMemoryLimit is the Go heap's soft limit during an import. A bulk
// import's live heap reaches ~0.8 GiB while it writes (Badger's table
// builders), and by default the GC lets the heap grow to twice the live
// size before collecting; the limit makes it collect earlier instead, so
// peak RSS stays inside PERF-LIMITS T3 (1.5 GiB) for any input size.
const importMemoryLimit = 1280 << 20

// importGCPercent is the GC target during an import. At the default (100)
// the heap grew to the soft limit during the bulk write, and the runtime
// then spent ~7 % of the import handing freed pages back to the OS and
// faulting them in again; collecting at 1.5× the live heap keeps it below
// the limit: a 1M-row statement import used ~8 % less CPU.
const importGCPercent = 50

// LimitImportMemory sets importMemoryLimit unless GOMEMLIMIT is set and
// importGCPercent unless GOGC is, and returns the function that restores
// the previous settings.
func LimitImportMemory() (restore func()) {
	restoreLimit, restoreGC := func() {}, func() {}
	if os.Getenv("GOMEMLIMIT") == "" {
		prev := debug.SetMemoryLimit(importMemoryLimit)
		restoreLimit = func() { debug.SetMemoryLimit(prev) }
	}
	if os.Getenv("GOGC") == "" {
		prev := debug.SetGCPercent(importGCPercent)
		restoreGC = func() { debug.SetGCPercent(prev) }
	}
	return func() { restoreGC(); restoreLimit() }
}

// analysisGCPercent is the GC target while an analysis loads the graph index
// (LoadIndex) and runs the rules (RunRules). Its live heap is the index (~1.2 GiB on the large
// demo, mostly pointer-free columns that cost the collector little to mark)
// plus short-lived per-node work; at the default target the heap grew to
// twice the index before each collection. At 50 the peak of the process's
// own memory on the large demo fell from 2.8 to 2.0 GiB with the same
// results (docs/PERFORMANCE.md, issue 14).
const analysisGCPercent = 50

// limitAnalysisMemory sets analysisGCPercent unless GOGC is set, and
// returns the function that restores the previous setting.
func limitAnalysisMemory() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(analysisGCPercent)
	return func() { debug.SetGCPercent(prev) }
}
