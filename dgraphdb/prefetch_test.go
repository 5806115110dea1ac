package dgraphdb_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
)

// TestPrefetchNeighbors loads the contract's files and checks, for every
// fixture entity, that Neighbors answers the same (all rows and the first
// 3, with totals) without a prefetch, from a prefetch, and as the Badger
// folder does; that a prefetch of up to dgraphdb.MaxPrefetch entities is
// at most two queries (their months unless the months cache holds them, then
// their summaries) and the answers from it none; that a prefetch fills the
// months cache; that an import through this process, an entry's age and the
// cache's size each send Neighbors back to the cluster.
func TestPrefetchNeighbors(t *testing.T) {
	// The queries of a read: the entities' months (the fixture's load lists
	// them), then the summaries of them all. The months are kept per entity
	// (the months cache, with the neighbour cache's age, size and import
	// rules), so a read of entities whose months a read within the age limit
	// learnt sends only the summaries' query (perCachedRead).
	const perRead, perCachedRead = 2, 1
	dg := openFresh(t)
	// The schema's month list is read once, not by a read whose queries are
	// counted (Refresh below reads it again).
	defer dgraphdb.SetMonthsTTL(dgraphdb.SetMonthsTTL(time.Hour))
	step1, step2 := contractSteps(t)
	f := importBoth(t, dg, step1, step2)
	ctx := context.Background()
	refs := allRefs(t, f)

	type answer struct {
		rows  []graph.Neighbor
		total int
	}
	read := func(r graph.Ref, limit int) answer {
		t.Helper()
		rows, total, err := dg.Neighbors(ctx, r, limit)
		if err != nil {
			t.Fatal(err)
		}
		return answer{rows, total}
	}
	want := map[graph.Ref][2]answer{}
	for _, r := range refs {
		a := [2]answer{read(r, 0)}
		// The second read of r within the age limit: its months are held.
		before := dg.Queries()
		a[1] = read(r, 3)
		if n := dg.Queries() - before; n != perCachedRead {
			t.Errorf("%s: a second read sent %d queries, want %d (no months query)", r, n, perCachedRead)
		}
		for i, limit := range []int{0, 3} {
			nb, tb, err := f.badger.Neighbors(ctx, r, limit)
			if err != nil {
				t.Fatal(err)
			}
			if tb != a[i].total || !reflect.DeepEqual(nb, a[i].rows) {
				t.Fatalf("%s limit %d without prefetch: %d %+v, badger %d %+v", r, limit, a[i].total, a[i].rows, tb, nb)
			}
		}
		want[r] = a
	}

	// Every entity, prefetched MaxPrefetch at a time: one query each (their
	// summaries in one multi-uid query; the reads above, within the age
	// limit, left their months in the months cache), then Neighbors answers
	// from the cache with none.
	prefetches := 0
	for lo := 0; lo < len(refs); lo += dgraphdb.MaxPrefetch {
		chunk := refs[lo:min(len(refs), lo+dgraphdb.MaxPrefetch)]
		before := dg.Queries()
		if err := dg.PrefetchNeighbors(ctx, chunk); err != nil {
			t.Fatal(err)
		}
		if n := dg.Queries() - before; n != perCachedRead {
			t.Errorf("prefetch of %d entities sent %d queries, want %d", len(chunk), n, perCachedRead)
		}
		prefetches++
		before = dg.Queries()
		for _, r := range chunk {
			for i, limit := range []int{0, 3} {
				if got := read(r, limit); !reflect.DeepEqual(got, want[r][i]) {
					t.Errorf("%s limit %d from the prefetch:\n %+v\n want %+v", r, limit, got, want[r][i])
				}
			}
		}
		if n := dg.Queries() - before; n != 0 {
			t.Errorf("Neighbors of %d prefetched entities sent %d queries, want 0", len(chunk), n)
		}
		// Prefetching them again sends nothing: they are held.
		before = dg.Queries()
		if err := dg.PrefetchNeighbors(ctx, chunk); err != nil || dg.Queries() != before {
			t.Errorf("a second prefetch of held entities sent %d queries (%v)", dg.Queries()-before, err)
		}
	}
	t.Logf("%d entities, %d prefetches", len(refs), prefetches)

	// More than the bound at once (lowered to 10 here: the fixture has
	// fewer than MaxPrefetch entities): the first 10 are read, two queries
	// (Refresh dropped both caches), and their months are kept: the 10th
	// entity's read and a read of the first ten's months send none, the
	// 11th entity's both queries.
	old := dgraphdb.SetMaxPrefetch(10)
	dg.Refresh()
	if _, err := dg.Months(ctx); err != nil {
		t.Fatal(err)
	}
	before := dg.Queries()
	if err := dg.PrefetchNeighbors(ctx, refs); err != nil {
		t.Fatal(err)
	}
	dgraphdb.SetMaxPrefetch(old)
	if n := dg.Queries() - before; n != perRead {
		t.Errorf("a prefetch after Refresh sent %d queries, want %d", n, perRead)
	}
	before = dg.Queries()
	if _, err := dg.EntityMonths(ctx, refs[:10]); err != nil {
		t.Fatal(err)
	}
	if n := dg.Queries() - before; n != 0 {
		t.Errorf("the months of 10 prefetched entities sent %d queries, want 0", n)
	}
	before = dg.Queries()
	read(refs[9], 0)
	read(refs[10], 0)
	if n := dg.Queries() - before; n != perRead {
		t.Errorf("after a prefetch of %d with a bound of 10: the 10th and 11th entity sent %d queries, want %d", len(refs), n, perRead)
	}

	// An import through this process: the prefetched rows are not used.
	card := graph.Ref{Kind: graph.KindCard, Key: "4400430000000015"}
	other := graph.Ref{Kind: graph.KindCard, Key: "4003039876543213"}
	if _, ok := want[card]; !ok {
		t.Fatalf("%s is not a fixture entity", card)
	}
	must(t, dg.PrefetchNeighbors(ctx, []graph.Ref{card}))
	load(t, dg, func(l *dgraphdb.Loader) {
		must(t, l.PutTxn(txn("PREFETCH-1", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), card, other, 12_345)))
	})
	after := read(card, 0)
	if reflect.DeepEqual(after, want[card][0]) {
		t.Errorf("%s: a transaction imported after the prefetch is not seen", card)
	}
	dg.Refresh()
	if fresh := read(card, 0); !reflect.DeepEqual(after, fresh) {
		t.Errorf("%s after the import:\n %+v\n uncached %+v", card, after, fresh)
	}

	// Age and size bounds, of both caches (the months of refs[0] left the
	// months cache with its summaries, and both aged alike).
	oldMax, oldTTL := dgraphdb.SetNeighborCache(2, 50*time.Millisecond)
	defer dgraphdb.SetNeighborCache(oldMax, oldTTL)
	dg.Refresh()
	if _, err := dg.Months(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, dg.PrefetchNeighbors(ctx, refs[:3])) // keeps refs[1] and refs[2]
	before = dg.Queries()
	read(refs[2], 0)
	read(refs[1], 0)
	if n := dg.Queries() - before; n != 0 {
		t.Errorf("the two most recent entries sent %d queries", n)
	}
	read(refs[0], 0)
	if n := dg.Queries() - before; n != perRead {
		t.Errorf("the entry past the cache's size sent %d queries, want %d", n, perRead)
	}
	time.Sleep(80 * time.Millisecond)
	before = dg.Queries()
	read(refs[1], 0)
	if n := dg.Queries() - before; n != perRead {
		t.Errorf("an entry older than its age limit sent %d queries, want %d", n, perRead)
	}
}
