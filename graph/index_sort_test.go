package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortTxns orders transactions as a plain sort by compareTxns (time, id,
// endpoints and amount) does: with many equal times (date-only data), with
// repeated ids, and with times too far apart to pack (the fallback).
func TestSortTxnsOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name  string
		times func() int64
	}{
		{"seconds", func() int64 { return 1_700_000_000 + r.Int64N(1_000_000) }},
		{"date-only", func() int64 { return 1_700_000_000 + 86400*r.Int64N(5) }},
		{"before 1970", func() int64 { return -1_000_000 + r.Int64N(2_000_000) }},
		{"centuries apart", func() int64 { return []int64{-5_000_000_000, 0, 4_000_000_000}[r.IntN(3)] + r.Int64N(10) }},
		{"extremes", func() int64 { return []int64{-1 << 63, 1<<63 - 1, 0}[r.IntN(3)] }},
	} {
		b := NewIndexBuilder()
		const m = 5000
		for range m {
			b.addTxID(fmt.Sprintf("T%d", r.IntN(m/2)))
			b.txTime = append(b.txTime, tc.times())
			b.txFrom = append(b.txFrom, NodeID(r.IntN(5)))
			b.txTo = append(b.txTo, NodeID(r.IntN(5)))
			b.txAmount = append(b.txAmount, int64(r.IntN(3)))

		}
		perm := make([]uint32, m)
		for i := range perm {
			perm[i] = uint32(i)
		}
		want := slices.Clone(perm)
		key := func(x uint32) string {
			return fmt.Sprintf("%d|%s|%d|%d|%d", b.txTime[x], b.txID(x), b.txFrom[x], b.txTo[x], b.txAmount[x])
		}
		slices.SortFunc(want, b.compareTxns)
		b.sortTxns(perm)
		seen := make([]bool, m)
		for i := range perm {
			if seen[perm[i]] {
				t.Fatalf("%s: transaction %d twice", tc.name, perm[i])
			}
			seen[perm[i]] = true
			if key(perm[i]) != key(want[i]) {
				t.Fatalf("%s: position %d holds %s, want %s", tc.name, i, key(perm[i]), key(want[i]))
			}
		}
	}
}
