// Package fuzzbudget gives the importers' fuzz targets explicit size and
// time budgets (docs/SECURITY.md, "Hostile input files"): an input larger
// than MaxInput is skipped (the size bounds are tested by the hostile
// corpus instead), and one input must be handled within a time linear in its
// size, so that a fuzzer finding a quadratic path fails instead of timing
// out silently.
package fuzzbudget

import (
	"testing"
	"time"
)

// MaxInput is the largest fuzz input a target reads.
const MaxInput = 1 << 20

// Base and PerByte make the time budget of one input: Base + size×PerByte
// (3 s for a 1 MiB input), generous for two shared cores under -race.
const (
	Base    = time.Second
	PerByte = 2 * time.Microsecond
)

// Start checks the size of one input and returns the function the target
// defers to check its time.
func Start(t testing.TB, size int) func() {
	t.Helper()
	if size > MaxInput {
		t.Skipf("input of %d bytes is beyond the fuzz budget of %d", size, MaxInput)
	}
	start := time.Now()
	budget := Base + time.Duration(size)*PerByte
	return func() {
		if took := time.Since(start); took > budget {
			t.Fatalf("input of %d bytes took %v, beyond its budget of %v: not linear", size, took, budget)
		}
	}
}

// Within runs fn and fails the test when it is still running after budget:
// a hostile input that once took minutes (a quadratic path) is held to a
// bound far above its linear time.
func Within(t testing.TB, budget time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	start := time.Now()
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(budget):
		t.Fatalf("still running after %v: not linear", budget)
	}
	t.Logf("took %v", time.Since(start))
}
