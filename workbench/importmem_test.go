package workbench

import (
	"runtime/debug"
	"testing"
)

// TestLimitImportMemory: an import runs under the soft memory limit and GC
// target unless GOMEMLIMIT or GOGC say otherwise, and both are restored.
func TestLimitImportMemory(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	prevGC := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prevGC)
	prevLimit := debug.SetMemoryLimit(-1)

	restore := LimitImportMemory()
	if got := debug.SetMemoryLimit(-1); got != importMemoryLimit {
		t.Errorf("memory limit %d during the import, want %d", got, importMemoryLimit)
	}
	if got := debug.SetGCPercent(importGCPercent); got != importGCPercent {
		t.Errorf("GC percent %d during the import, want %d", got, importGCPercent)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != prevLimit {
		t.Errorf("memory limit %d after the import, want %d back", got, prevLimit)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d after the import, want 100 back", got)
	}

	t.Setenv("GOGC", "200")
	restore = LimitImportMemory()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: GC percent changed to %d", got)
	}
	restore()
}

// TestLimitAnalysisMemory: an analysis runs at its GC target unless GOGC
// says otherwise, and the previous target comes back.
func TestLimitAnalysisMemory(t *testing.T) {
	t.Setenv("GOGC", "")
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	restore := limitAnalysisMemory()
	if got := debug.SetGCPercent(analysisGCPercent); got != analysisGCPercent {
		t.Errorf("GC percent %d during the analysis, want %d", got, analysisGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d after the analysis, want 100 back", got)
	}
	t.Setenv("GOGC", "200")
	restore = limitAnalysisMemory()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: GC percent changed to %d", got)
	}
	restore()
}
