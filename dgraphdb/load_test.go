package dgraphdb_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
)

var (
	cardA = graph.Ref{Kind: graph.KindCard, Key: "4400430000000015"}
	cardB = graph.Ref{Kind: graph.KindCard, Key: "4400431234567894"}
	cardC = graph.Ref{Kind: graph.KindCard, Key: "4003039876543213"}
)

// load writes records through a fresh Loader and finishes it.
func load(t *testing.T, dg *dgraphdb.DB, fn func(l *dgraphdb.Loader)) {
	t.Helper()
	ctx := context.Background()
	l, err := dg.NewLoader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fn(l)
	if err := l.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func txn(id string, at time.Time, from, to graph.Ref, amount int64) graph.Txn {
	return graph.Txn{ID: id, Time: at, From: from, To: to, Amount: amount, Currency: "KZT", Channel: graph.ChannelTransfer}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMonthsSpreadOverGroups loads six months and reads zero's state: the
// month buckets are served by both groups, consecutive months by different
// ones, and each month's sent and recv by the same group.
func TestMonthsSpreadOverGroups(t *testing.T) {
	dg := openFresh(t)
	c := cluster(t)
	load(t, dg, func(l *dgraphdb.Loader) {
		for m := 1; m <= 6; m++ {
			at := time.Date(2026, time.Month(m), 10, 12, 0, 0, 0, time.UTC)
			must(t, l.PutTxn(txn(fmt.Sprintf("S%d", m), at, cardA, cardB, int64(m*100))))
		}
	})
	ctx := context.Background()
	st, err := c.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tablets := st.Tablets()
	groups := map[uint32]int{}
	var prev uint32
	for m := 1; m <= 6; m++ {
		month := fmt.Sprintf("2026_%02d", m)
		sent, ok1 := tablets["sent."+month]
		recv, ok2 := tablets["recv."+month]
		if !ok1 || !ok2 {
			t.Fatalf("zero serves no tablet for month %s: %v", month, keys(tablets))
		}
		if sent != recv {
			t.Errorf("month %s: sent on group %d, recv on group %d", month, sent, recv)
		}
		if m > 1 && sent == prev {
			t.Errorf("months %d and %d both on group %d", m-1, m, sent)
		}
		prev = sent
		groups[sent]++
	}
	if len(groups) != 2 {
		t.Errorf("month buckets on groups %v, want both groups", groups)
	}
	months, err := dg.Months(ctx)
	if err != nil || len(months) != 6 || months[0] != "2026_01" {
		t.Errorf("Months() = %v, %v", months, err)
	}
}

// TestTxAttributesSpreadOverGroups loads 240 transactions over six months
// and reads zero's state: each month's transaction attributes
// (tx.YYYY_MM.*) are served by the group of its sent and recv, so the months'
// attributes spread over both groups; the id buckets (tx.id.NN with their
// tx.month.NN) spread over both groups too; and no tx.* predicate holds
// every transaction.
func TestTxAttributesSpreadOverGroups(t *testing.T) {
	dg := openFresh(t)
	c := cluster(t)
	const perMonth = 40
	cards := []graph.Ref{cardA, cardB, cardC}
	load(t, dg, func(l *dgraphdb.Loader) {
		for m := 1; m <= 6; m++ {
			for i := 0; i < perMonth; i++ {
				at := time.Date(2026, time.Month(m), 1+i%28, i%24, 0, 0, 0, time.UTC)
				must(t, l.PutTxn(txn(fmt.Sprintf("A%d-%d", m, i), at, cards[i%3], cards[(i+1)%3], int64(100+i))))
			}
		}
	})
	ctx := context.Background()
	st, err := c.State(ctx)
	must(t, err)
	tablets := st.Tablets()
	attrGroups := map[uint32]int{}
	var prev uint32
	for m := 1; m <= 6; m++ {
		month := fmt.Sprintf("2026_%02d", m)
		sent := tablets["sent."+month]
		for _, f := range dgraphdb.TxFields() {
			p := "tx." + month + "." + f
			g, ok := tablets[p]
			if !ok {
				t.Fatalf("zero serves no tablet %s: %v", p, keys(tablets))
			}
			if g != sent {
				t.Errorf("%s on group %d, sent.%s on group %d", p, g, month, sent)
			}
			attrGroups[g]++
		}
		if m > 1 && tablets["tx."+month+".rec"] == prev {
			t.Errorf("the records of months %d and %d both on group %d", m-1, m, prev)
		}
		prev = tablets["tx."+month+".rec"]
	}
	if len(attrGroups) != 2 {
		t.Errorf("transaction attributes on groups %v, want both groups", attrGroups)
	}
	idGroups := map[uint32]int{}
	for b := 0; b < dgraphdb.TxIDBuckets; b++ {
		id, month := fmt.Sprintf("tx.id.%02d", b), fmt.Sprintf("tx.month.%02d", b)
		g, ok := tablets[id]
		if !ok || tablets[month] != g {
			t.Errorf("%s on group %d (%v), %s on group %d", id, g, ok, month, tablets[month])
		}
		idGroups[g]++
	}
	if len(idGroups) != 2 {
		t.Errorf("id buckets on groups %v, want both groups", idGroups)
	}
	const total = 6 * perMonth
	ids, recs := 0, 0
	for p := range tablets {
		if !strings.HasPrefix(p, "tx.") {
			continue
		}
		n, err := dg.CountHas(ctx, p)
		must(t, err)
		if n >= total {
			t.Errorf("%s holds %d of the %d transactions", p, n, total)
		}
		switch {
		case strings.HasPrefix(p, "tx.id."):
			ids += n
		case strings.HasSuffix(p, ".rec"):
			recs += n
		}
	}
	if ids != total || recs != total {
		t.Errorf("the id buckets hold %d ids and the months %d records, want %d each", ids, recs, total)
	}
}

func keys(m map[string]uint32) []string {
	var out []string
	for k := range m {
		if !strings.HasPrefix(k, "dgraph.") {
			out = append(out, k)
		}
	}
	return out
}

// TestLoaderIdempotentAndMoves loads the same records twice (nothing
// changes), then a corrected version of one transaction in another month and
// between other cards: it leaves its old month and endpoints.
func TestLoaderIdempotentAndMoves(t *testing.T) {
	dg := openFresh(t)
	ctx := context.Background()
	jan := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	records := func(l *dgraphdb.Loader) {
		must(t, l.PutEntity(graph.Entity{Ref: cardA, Name: "A", Props: map[string]string{"bank": "Kaspi"}}))
		must(t, l.PutEntity(graph.Entity{Ref: cardB, Stub: true}))
		must(t, l.PutLink(graph.Link{From: cardA, To: cardB, Type: graph.LinkCardOf, Role: "r"}))
		for i := 0; i < 5; i++ {
			must(t, l.PutTxn(txn(fmt.Sprintf("T%d", i), jan.Add(time.Duration(i)*time.Hour), cardA, cardB, 100)))
		}
	}
	load(t, dg, records)
	before, err := dg.Stats(ctx)
	must(t, err)
	nbBefore, _, err := dg.Neighbors(ctx, cardA, 0)
	must(t, err)
	load(t, dg, records)
	after, err := dg.Stats(ctx)
	must(t, err)
	nbAfter, _, err := dg.Neighbors(ctx, cardA, 0)
	must(t, err)
	if !reflect.DeepEqual(before, after) || !reflect.DeepEqual(nbBefore, nbAfter) {
		t.Errorf("a second load changed the data:\n %+v\n %+v\n %+v\n %+v", before, after, nbBefore, nbAfter)
	}
	if before.Txns != 5 || before.Entities[graph.KindCard] != 2 || before.Stubs != 1 || before.Links[graph.LinkCardOf] != 1 {
		t.Errorf("stats %+v", before)
	}

	// T0 corrected: March, from C to B.
	mar := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	load(t, dg, func(l *dgraphdb.Loader) { must(t, l.PutTxn(txn("T0", mar, cardC, cardB, 700))) })
	pa, err := dg.Transactions(ctx, cardA, graph.TxQuery{})
	must(t, err)
	pc, err := dg.Transactions(ctx, cardC, graph.TxQuery{})
	must(t, err)
	pb, err := dg.Transactions(ctx, cardB, graph.TxQuery{Sort: graph.SortTimeDesc, Limit: 1})
	must(t, err)
	if pa.Total != 4 || pa.Out != 400 || pc.Total != 1 || pc.Out != 700 || pb.Total != 5 || pb.In != 1100 ||
		len(pb.Txns) != 1 || pb.Txns[0].ID != "T0" || !pb.Txns[0].Time.Equal(mar) {
		t.Errorf("after the move: A %d/%d, C %d/%d, B %d/%d %v", pa.Total, pa.Out, pc.Total, pc.Out, pb.Total, pb.In, txIDs(pb))
	}
	got, err := dg.Txn(ctx, "T0")
	if err != nil || got.From != cardC || got.Amount != 700 {
		t.Errorf("Txn(T0) = %+v, %v", got, err)
	}
	// Its January attributes left with it; T1 moved to February and back
	// within one flush stays in January with nothing left in February.
	load(t, dg, func(l *dgraphdb.Loader) {
		must(t, l.PutTxn(txn("T1", time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), cardA, cardC, 100)))
		must(t, l.PutTxn(txn("T1", jan.Add(time.Hour), cardA, cardB, 100)))
	})
	for p, want := range map[string]int{"tx.2026_01.rec": 4, "tx.2026_01.time": 4, "tx.2026_03.rec": 1, "tx.2026_02.rec": 0, "sent.2026_02": 0} {
		if n, err := dg.CountHas(ctx, p); err != nil || n != want {
			t.Errorf("%d nodes have %s, want %d (%v)", n, p, want, err)
		}
	}
	if p, err := dg.Transactions(ctx, cardA, graph.TxQuery{}); err != nil || p.Total != 4 || p.Out != 400 {
		t.Errorf("A after T1 went and came back: %+v, %v", p, err)
	}
	// A full entity after its stub takes the stub's properties it lacks.
	load(t, dg, func(l *dgraphdb.Loader) {
		must(t, l.PutEntity(graph.Entity{Ref: cardC, Stub: true, Props: map[string]string{"list_status": "black"}}))
		must(t, l.PutEntity(graph.Entity{Ref: cardC, Name: "C"}))
		must(t, l.PutEntity(graph.Entity{Ref: cardA, Stub: true})) // never hides the full A
	})
	ec, err := dg.Entity(ctx, cardC)
	if err != nil || ec.Stub || ec.Props["list_status"] != "black" || ec.Name != "C" {
		t.Errorf("C = %+v, %v", ec, err)
	}
	ea, err := dg.Entity(ctx, cardA)
	if err != nil || ea.Stub || ea.Name != "A" {
		t.Errorf("A = %+v, %v", ea, err)
	}
}

// TestHostileKeys stores and finds keys and queries with quotes,
// backslashes, slashes, regexp metacharacters and newlines.
func TestHostileKeys(t *testing.T) {
	dg := openFresh(t)
	ctx := context.Background()
	odd := graph.Ref{Kind: graph.KindAccount, Key: "berka:\"x\\y/z(.*)\n{}"}
	load(t, dg, func(l *dgraphdb.Loader) {
		must(t, l.PutEntity(graph.Entity{Ref: odd, Name: "Quote \" slash / star .* brace } end"}))
		must(t, l.PutTxn(txn("id\"/\\\n", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), odd, cardA, 5)))
	})
	e, err := dg.Entity(ctx, odd)
	if err != nil || e.Ref != odd {
		t.Fatalf("Entity(%q) = %+v, %v", odd.Key, e, err)
	}
	for _, q := range []string{"slash / star .*", "\" slash", "brace }"} {
		res, err := dg.Search(ctx, q, graph.KindUnknown, 5)
		if err != nil || len(res.Hits) != 1 || res.Hits[0].Doc.Ref != odd {
			t.Errorf("Search(%q) = %+v, %v", q, res, err)
		}
	}
	if _, err := dg.Txn(ctx, "id\"/\\\n"); err != nil {
		t.Error(err)
	}
	p, err := dg.Transactions(ctx, odd, graph.TxQuery{})
	if err != nil || p.Total != 1 {
		t.Errorf("page %+v, %v", p, err)
	}
}

func TestParseURL(t *testing.T) {
	for in, want := range map[string][]string{
		"dgraph://127.0.0.1:9080":            {"127.0.0.1:9080"},
		"dgraph://a:9080,b:9081/":            {"a:9080", "b:9081"},
		"dgraph://[::1]:9080,127.0.0.1:9180": {"[::1]:9080", "127.0.0.1:9180"},
	} {
		got, err := dgraphdb.ParseURL(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseURL(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"dgraph://", "dgraph://host", "dgraph://a:1,", "dgraph://u@a:1", "dgraph://a:1?x=y", "http://a:1", "dgraph:a:1"} {
		if _, err := dgraphdb.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}

// TestMonthsSeenByAnotherReader: a reader opened before an import (a TUI
// left open) sees the months the import added once its list is stale.
func TestMonthsSeenByAnotherReader(t *testing.T) {
	dg := openFresh(t)
	ctx := context.Background()
	reader, err := dgraphdb.Open(ctx, cluster(t).URL())
	must(t, err)
	defer reader.Close()
	old := dgraphdb.SetMonthsTTL(50 * time.Millisecond)
	defer dgraphdb.SetMonthsTTL(old)
	if p, err := reader.Transactions(ctx, cardA, graph.TxQuery{}); err != nil || p.Total != 0 {
		t.Fatalf("before: %+v, %v", p, err)
	}
	load(t, dg, func(l *dgraphdb.Loader) {
		must(t, l.PutTxn(txn("N1", time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), cardA, cardB, 9)))
	})
	time.Sleep(100 * time.Millisecond)
	if p, err := reader.Transactions(ctx, cardA, graph.TxQuery{}); err != nil || p.Total != 1 {
		t.Errorf("after: %+v, %v", p, err)
	}
}

// TestEntityMonths: a load lists each entity's months (cg.months) and marks
// the cluster as listing them all; a page or a neighbour summary then names
// only the entity's months, and answers as when it names every month.
func TestEntityMonths(t *testing.T) {
	dg := openFresh(t)
	ctx := context.Background()
	at := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, time.UTC) }
	load(t, dg, func(l *dgraphdb.Loader) {
		must(t, l.PutEntity(graph.Entity{Ref: cardA, Name: "A"}))
		must(t, l.PutTxn(txn("M1", at(1, 3), cardA, cardB, 100)))
		must(t, l.PutTxn(txn("M2", at(1, 9), cardA, cardB, 200)))
		must(t, l.PutTxn(txn("M3", at(4, 1), cardB, cardC, 300)))
		must(t, l.PutTxn(txn("M4", at(6, 1), cardC, cardB, 400)))
	})
	if ok, err := dg.MonthsRecorded(ctx); err != nil || !ok {
		t.Fatalf("a fresh cluster's first load did not mark its month lists: %v, %v", ok, err)
	}
	// A later load adds months to the lists it touches.
	load(t, dg, func(l *dgraphdb.Loader) { must(t, l.PutTxn(txn("M5", at(8, 1), cardA, cardC, 500))) })
	for _, c := range []struct {
		refs []graph.Ref
		want []string
	}{
		{[]graph.Ref{cardA}, []string{"2026_01", "2026_08"}},
		{[]graph.Ref{cardB}, []string{"2026_01", "2026_04", "2026_06"}},
		{[]graph.Ref{cardA, cardC}, []string{"2026_01", "2026_04", "2026_06", "2026_08"}},
		{[]graph.Ref{{Kind: graph.KindCard, Key: "4400439999999999"}}, nil},
	} {
		got, err := dg.EntityMonths(ctx, c.refs)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("months of %v = %v, %v; want %v", c.refs, got, err, c.want)
		}
	}
	if ok, err := dg.MonthsRecorded(ctx); err != nil || !ok {
		t.Errorf("a later load dropped the mark: %v, %v", ok, err)
	}
	read := func() (pages []graph.TxPage, nbs [][]graph.Neighbor) {
		for _, r := range []graph.Ref{cardA, cardB, cardC} {
			for _, q := range []graph.TxQuery{{Sort: graph.SortTimeDesc, Limit: 2}, {Sort: graph.SortAmountAsc, Offset: 1, Limit: 2}} {
				p, err := dg.Transactions(ctx, r, q)
				must(t, err)
				pages = append(pages, p)
			}
			dg.Refresh() // no neighbour from the cache
			nb, _, err := dg.Neighbors(ctx, r, 0)
			must(t, err)
			nbs = append(nbs, nb)
		}
		return pages, nbs
	}
	pages, nbs := read()
	dgraphdb.SetMonthListsIgnored(true)
	defer dgraphdb.SetMonthListsIgnored(false)
	allPages, allNbs := read()
	if !reflect.DeepEqual(pages, allPages) || !reflect.DeepEqual(nbs, allNbs) {
		t.Errorf("reading the entities' months answers otherwise than reading every month:\n %+v\n %+v\n %+v\n %+v", pages, allPages, nbs, allNbs)
	}
	if pages[2].Total != 4 || len(pages[2].Txns) != 2 || pages[2].Txns[0].ID != "M4" || len(nbs[1]) != 3 {
		t.Errorf("B's page %+v, neighbours %+v", pages[2], nbs[1])
	}
}
