package workbench

import (
	"runtime/debug"
	"testing"
)

// TestLimitWorkMemory: heavy work runs under the soft memory limit and GC
// target unless GOMEMLIMIT or GOGC say otherwise; overlapping work shares
// them, and the previous settings come back when the last piece ends.
func TestLimitWorkMemory(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	prevGC := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prevGC)
	prevLimit := debug.SetMemoryLimit(-1)
	settings := func() (int64, int) {
		gc := debug.SetGCPercent(-1)
		debug.SetGCPercent(gc)
		return debug.SetMemoryLimit(-1), gc
	}

	first := limitWorkMemory()
	if limit, gc := settings(); limit != workMemoryLimit || gc != workGCPercent {
		t.Errorf("during work: limit %d, GC %d; want %d, %d", limit, gc, workMemoryLimit, workGCPercent)
	}
	second := limitWorkMemory() // a keep in the background while an import starts
	first()
	first() // a second call changes nothing
	if limit, gc := settings(); limit != workMemoryLimit || gc != workGCPercent {
		t.Errorf("the first piece ended, the second runs: limit %d, GC %d", limit, gc)
	}
	second()
	if limit, gc := settings(); limit != prevLimit || gc != 100 {
		t.Errorf("after the work: limit %d, GC %d; want %d, 100 back", limit, gc, prevLimit)
	}

	t.Setenv("GOGC", "200")
	t.Setenv("GOMEMLIMIT", "4GiB")
	done := limitWorkMemory()
	if limit, gc := settings(); limit != prevLimit || gc != 100 {
		t.Errorf("GOGC and GOMEMLIMIT set: limit %d, GC %d changed", limit, gc)
	}
	done()
}
