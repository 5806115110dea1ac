package workbench

import (
	"os"
	"runtime/debug"
	"sync"
)

// The heavy work of the workbench — an import, an analysis (the index
// build, the rules, keeping the risks) — runs with the Go collector told to
// collect earlier than its default, so that the process's own memory stays
// inside issue 14's budget of 1.5 GiB. The settings are the process's, so
// work that overlaps (a deferred keep running while an import starts) shares
// one: the first to start sets it, the last to end restores what was there.

// workMemoryLimit is the Go heap's soft limit during heavy work. A bulk
// import's live heap reaches ~0.8 GiB while it writes (Badger's table
// builders), and by default the GC lets the heap grow to twice the live
// size before collecting; the limit makes it collect earlier instead, so
// peak RSS stays inside PERF-LIMITS T3 (1.5 GiB) for any input size.
const workMemoryLimit = 1280 << 20

// workGCPercent is the GC target during heavy work. At the default (100)
// the heap grew to the soft limit during the bulk write, and the runtime
// then spent ~7 % of the import handing freed pages back to the OS and
// faulting them in again; collecting at 1.5× the live heap keeps it below
// the limit: a 1M-row statement import used ~8 % less CPU. An analysis's
// live heap is the mapped index's heap part plus the rules' state; at the
// default target the heap grew to twice that before each collection: at 50
// the peak of the process's own memory on the large demo fell from 2.8 to
// 2.0 GiB when the index was built on the heap (docs/PERFORMANCE.md).
const workGCPercent = 50

var work struct {
	sync.Mutex
	running int
	restore func()
}

// limitWorkMemory sets workMemoryLimit unless GOMEMLIMIT is set and
// workGCPercent unless GOGC is, while any heavy work runs, and returns the
// function that ends this piece of work (call it once).
func limitWorkMemory() (done func()) {
	work.Lock()
	defer work.Unlock()
	if work.running == 0 {
		restoreLimit, restoreGC := func() {}, func() {}
		if os.Getenv("GOMEMLIMIT") == "" {
			prev := debug.SetMemoryLimit(workMemoryLimit)
			restoreLimit = func() { debug.SetMemoryLimit(prev) }
		}
		if os.Getenv("GOGC") == "" {
			prev := debug.SetGCPercent(workGCPercent)
			restoreGC = func() { debug.SetGCPercent(prev) }
		}
		work.restore = func() { restoreGC(); restoreLimit() }
	}
	work.running++
	return sync.OnceFunc(func() {
		work.Lock()
		defer work.Unlock()
		if work.running--; work.running == 0 {
			work.restore()
		}
	})
}
