package dgraphdb_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
)

// The months cache: each entity's months (cg.months), kept by entityMonths
// with the neighbour cache's rules (docs/DGRAPH.md, "Months of an entity").

// TestMonthsCacheImport: an entity's months are read once and then held,
// and a load through this process makes them stale: the page and the
// neighbours of an entity read before a load that adds a month to it show
// that month's transaction. The reads go through another handle than the
// load (a TUI's, while an import runs in the same process): the loading
// handle drops its own caches when it finishes (Refresh), the other sees
// the load by the import generation its flushes bump.
func TestMonthsCacheImport(t *testing.T) {
	loader := openFresh(t)
	ctx := context.Background()
	dg, err := dgraphdb.Open(ctx, cluster(t).URL())
	must(t, err)
	defer dg.Close()
	defer dgraphdb.SetMonthsTTL(dgraphdb.SetMonthsTTL(time.Hour)) // no schema read among the counted ones
	at := func(m time.Month) time.Time { return time.Date(2026, m, 3, 10, 0, 0, 0, time.UTC) }
	load(t, loader, func(l *dgraphdb.Loader) {
		must(t, l.PutTxn(txn("C1", at(2), cardA, cardB, 100)))
		must(t, l.PutTxn(txn("C2", at(3), cardB, cardC, 200)))
	})
	if ok, err := dg.MonthsRecorded(ctx); err != nil || !ok {
		t.Fatalf("the load did not mark the month lists: %v, %v", ok, err)
	}
	months := func(r graph.Ref) ([]string, int64) {
		t.Helper()
		before := dg.Queries()
		got, err := dg.EntityMonths(ctx, []graph.Ref{r})
		must(t, err)
		return got, dg.Queries() - before
	}

	p, err := dg.Transactions(ctx, cardA, graph.TxQuery{Sort: graph.SortTimeDesc})
	must(t, err)
	if p.Total != 1 || p.Txns[0].ID != "C1" {
		t.Fatalf("A's page before: %+v", p)
	}
	nb, _, err := dg.Neighbors(ctx, cardA, 0)
	must(t, err)
	if len(nb) != 1 || nb[0].Count != 1 {
		t.Fatalf("A's neighbours before: %+v", nb)
	}
	if got, n := months(cardA); !slices.Equal(got, []string{"2026_02"}) || n != 0 {
		t.Errorf("A's months after its page: %v with %d queries, want [2026_02] with 0 (held)", got, n)
	}

	// A new month for A, and a new counterparty.
	load(t, loader, func(l *dgraphdb.Loader) { must(t, l.PutTxn(txn("C3", at(5), cardC, cardA, 300))) })
	p, err = dg.Transactions(ctx, cardA, graph.TxQuery{Sort: graph.SortTimeDesc})
	must(t, err)
	if p.Total != 2 || len(p.Txns) != 2 || p.Txns[0].ID != "C3" {
		t.Errorf("A's page after a load in a new month: %+v", p)
	}
	nb, total, err := dg.Neighbors(ctx, cardA, 0)
	must(t, err)
	if total != 2 || !slices.ContainsFunc(nb, func(n graph.Neighbor) bool { return n.Ref == cardC && n.Count == 1 }) {
		t.Errorf("A's neighbours after a load in a new month: %d %+v", total, nb)
	}
	if got, n := months(cardA); !slices.Equal(got, []string{"2026_02", "2026_05"}) || n != 0 {
		t.Errorf("A's months after the load: %v with %d queries, want [2026_02 2026_05] with 0 (read again by the page)", got, n)
	}
	// The same as read without any cache.
	dg.Refresh()
	fresh, _, err := dg.Neighbors(ctx, cardA, 0)
	must(t, err)
	if !reflect.DeepEqual(nb, fresh) {
		t.Errorf("A's neighbours after the load:\n %+v\n uncached %+v", nb, fresh)
	}
}

// TestMonthsCacheBounded: the months cache keeps at most the neighbour
// cache's number of entities, the least recently used leaving first, each
// for at most its age limit; a read of several entities asks the cluster
// only for those it does not hold; without the month lists nothing is kept.
func TestMonthsCacheBounded(t *testing.T) {
	dg := openFresh(t)
	ctx := context.Background()
	defer dgraphdb.SetMonthsTTL(dgraphdb.SetMonthsTTL(time.Hour))
	at := func(m time.Month) time.Time { return time.Date(2026, m, 3, 10, 0, 0, 0, time.UTC) }
	load(t, dg, func(l *dgraphdb.Loader) {
		must(t, l.PutTxn(txn("B1", at(1), cardA, cardB, 100)))
		must(t, l.PutTxn(txn("B2", at(4), cardB, cardC, 200)))
		must(t, l.PutTxn(txn("B3", at(7), cardC, cardA, 300)))
	})
	oldMax, oldTTL := dgraphdb.SetNeighborCache(2, time.Hour)
	defer dgraphdb.SetNeighborCache(oldMax, oldTTL)
	dg.Refresh()
	if _, err := dg.Months(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[graph.Ref][]string{
		cardA: {"2026_01", "2026_07"},
		cardB: {"2026_01", "2026_04"},
		cardC: {"2026_04", "2026_07"},
	}
	check := func(what string, refs []graph.Ref, queries int64) {
		t.Helper()
		before := dg.Queries()
		got, err := dg.EntityMonths(ctx, refs)
		must(t, err)
		var exp []string
		for _, r := range refs {
			for _, m := range want[r] {
				if !slices.Contains(exp, m) {
					exp = append(exp, m)
				}
			}
		}
		slices.Sort(exp)
		if n := dg.Queries() - before; !slices.Equal(got, exp) || n != queries {
			t.Errorf("%s: months of %v = %v with %d queries, want %v with %d", what, refs, got, n, exp, queries)
		}
	}
	for _, r := range []graph.Ref{cardA, cardB, cardC} {
		check("first read", []graph.Ref{r}, 1)
	}
	check("the most recent", []graph.Ref{cardC}, 0)
	check("the second most recent", []graph.Ref{cardB}, 0)
	check("the entry past the size", []graph.Ref{cardA}, 1) // leaves C
	check("several, one not held", []graph.Ref{cardA, cardB, cardC}, 1)
	check("held again", []graph.Ref{cardC}, 0)

	dgraphdb.SetNeighborCache(2, 50*time.Millisecond)
	time.Sleep(80 * time.Millisecond)
	check("older than the age limit", []graph.Ref{cardC}, 1)

	// Without the lists (a cluster without the cg.monthsok mark, as
	// SetMonthListsIgnored makes it look) every month is named and nothing
	// is kept: an entity read then is read from its list once there is one.
	dgraphdb.SetNeighborCache(2, time.Hour)
	dg.Refresh()
	all, err := dg.Months(ctx)
	must(t, err)
	dgraphdb.SetMonthListsIgnored(true)
	before := dg.Queries()
	got, err := dg.EntityMonths(ctx, []graph.Ref{cardA})
	dgraphdb.SetMonthListsIgnored(false)
	must(t, err)
	if n := dg.Queries() - before; !slices.Equal(got, all) || n != 0 {
		t.Errorf("without the lists: %v with %d queries, want %v with 0", got, n, all)
	}
	check("with the lists again", []graph.Ref{cardA}, 1)
}
