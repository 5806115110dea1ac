package store

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMemRunSortOrder sorts keys built to defeat a prefix cache (long shared
// prefixes, zero bytes, keys that are prefixes of others, duplicates) and
// checks the order is bytes.Compare's, then insertion order.
func TestMemRunSortOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shared := bytes.Repeat([]byte{'t', 3, 0, 20}, 6)
	for _, tc := range []struct {
		n int
		// lopsided: most keys share their first 16 bytes, so the cut at
		// the median prefix fails and the halves are merged
		lopsided bool
	}{{0, false}, {1, false}, {50, false}, {5000, false}, {40000, false}, {40000, true}} {
		n := tc.n
		var m memRun
		for range n {
			k := slices.Clone(shared[:rng.IntN(len(shared)+1)])
			if tc.lopsided && rng.IntN(10) > 0 {
				k = slices.Clone(shared)
			}
			for range rng.IntN(40) {
				k = append(k, []byte{0, 1, 'a', 0xFF}[rng.IntN(4)])
			}
			m.add(k, []byte{byte(len(m.ents))})
		}
		if n >= 1<<14 {
			if _, ok := cutAtMedianPfx(slices.Clone(m.ents)); ok == tc.lopsided {
				t.Fatalf("n=%d lopsided=%v: cut ok=%v", n, tc.lopsided, ok)
			}
		}
		want := slices.Clone(m.ents)
		slices.SortStableFunc(want, func(a, b memEnt) int { return bytes.Compare(m.key(a), m.key(b)) })
		m.sort()
		if len(m.ents) != len(want) {
			t.Fatalf("n=%d: %d entries after sorting, want %d", n, len(m.ents), len(want))
		}
		for i := range want {
			if m.ents[i].seq != want[i].seq {
				t.Fatalf("n=%d: entry %d is %q (seq %d), want %q (seq %d)", n, i,
					m.key(m.ents[i]), m.ents[i].seq, m.key(want[i]), want[i].seq)
			}
		}
		if !slices.IsSortedFunc(m.ents, func(a, b memEnt) int {
			if c := bytes.Compare(m.key(a), m.key(b)); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		}) {
			t.Fatalf("n=%d: not sorted", n)
		}
		for i, e := range m.ents {
			put := i+1 < len(m.ents) && bytes.Equal(m.key(e), m.key(m.ents[i+1]))
			if e.dup != put {
				t.Fatalf("n=%d: entry %d %q dup=%v, but the next key repeats it: %v", n, i, m.key(e), e.dup, put)
			}
		}
	}
}
