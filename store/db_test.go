package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

var ctx = context.Background()

func mustEntity(t *testing.T, db *DB, r graph.Ref) graph.Entity {
	t.Helper()
	e, err := db.Entity(ctx, r)
	if err != nil {
		t.Fatalf("entity %v: %v", r, err)
	}
	return e
}

func TestRoundTripAndReopen(t *testing.T) {
	dir := t.TempDir()
	db := openAt(t, dir)
	if empty, err := db.Empty(); err != nil || !empty {
		t.Fatalf("fresh db: empty=%v err=%v", empty, err)
	}
	r := dataset(4, 20)
	l := load(t, db, r)
	if !l.Bulk() {
		t.Fatal("loader on a fresh db is not bulk")
	}
	if _, err := os.Stat(filepath.Join(dir, tmpDirName)); !os.IsNotExist(err) {
		t.Errorf("import temp dir left behind: %v", err)
	}
	check := func(db *DB) {
		t.Helper()
		for _, e := range r.ents {
			if got := mustEntity(t, db, e.Ref); !reflect.DeepEqual(got, e) {
				t.Errorf("entity %v: got %+v want %+v", e.Ref, got, e)
			}
		}
		for _, x := range r.txns {
			got, err := db.Txn(ctx, x.ID)
			if err != nil || !reflect.DeepEqual(got, x) {
				t.Errorf("txn %s: got %+v, %v; want %+v", x.ID, got, err, x)
			}
		}
		if _, err := db.Entity(ctx, cardRef(999)); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown entity: %v, want ErrNotFound", err)
		}
		if _, err := db.Txn(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown txn: %v, want ErrNotFound", err)
		}
		s, err := db.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[graph.Kind]int{graph.KindPerson: 4, graph.KindCard: 4, graph.KindExchange: 1, graph.KindATM: 1}
		if !reflect.DeepEqual(s.Entities, want) || s.Stubs != 1 || s.Txns != 20 || s.Links[graph.LinkHolds] != 4 {
			t.Errorf("stats: %+v", s)
		}
		if s.TxnsByChan[graph.ChannelTopup] != 4 || s.TxnsByChan[graph.ChannelTrade] != 4 || s.TxnsByChan[graph.ChannelTransfer] != 12 {
			t.Errorf("stats by channel: %v", s.TxnsByChan)
		}
		if len(s.Batches) != 1 || s.Batches[0].ID != 1 || s.Batches[0].File != "seed.csv" {
			t.Errorf("stats batches: %+v", s.Batches)
		}
		b, ok, err := db.ImportedFile("sha-30")
		if err != nil || !ok || b.ID != 1 || b.Format != "mixed" || b.At.IsZero() {
			t.Errorf("imported file: %+v %v %v", b, ok, err)
		}
		if _, ok, err := db.ImportedFile("other"); ok || err != nil {
			t.Errorf("unknown file found: %v %v", ok, err)
		}
		if db.SearchDocCount() != len(r.ents) {
			t.Errorf("search doc count %d, want %d", db.SearchDocCount(), len(r.ents))
		}
	}
	check(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	check(db2)
	l2, err := db2.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Abort()
	if l2.Bulk() {
		t.Error("loader on a non-empty db is bulk")
	}
	if id := l2.BeginBatch("b.csv", "sha-b", "transactions"); id != 2 {
		t.Errorf("next batch id %d, want 2", id)
	}
}

func TestStubNeverHidesFull(t *testing.T) {
	full := graph.Entity{Ref: cardRef(1), Name: "Kaspi Gold", Props: map[string]string{"bank": "Kaspi"}, Src: graph.Provenance{File: "cards.csv", Line: 2, Batch: 1}}
	stub := graph.Entity{Ref: cardRef(1), Stub: true, Src: graph.Provenance{File: "tx.csv", Line: 9, Batch: 1}}
	orders := map[string][][]graph.Entity{
		"stub then full, one loader":  {{stub, full}},
		"full then stub, one loader":  {{full, stub}},
		"stub then full, two loaders": {{stub}, {full}},
		"full then stub, two loaders": {{full}, {stub}},
		"full, stub, stub again":      {{full, stub}, {stub}},
	}
	for name, loads := range orders {
		t.Run(name, func(t *testing.T) {
			db := openTemp(t)
			for _, ents := range loads {
				load(t, db, records{ents: ents})
			}
			if got := mustEntity(t, db, full.Ref); !reflect.DeepEqual(got, full) {
				t.Errorf("got %+v, want the full entity", got)
			}
			s, _ := db.Stats(ctx)
			if s.Entities[graph.KindCard] != 1 || s.Stubs != 0 {
				t.Errorf("stats counted %d cards, %d stubs; want 1, 0", s.Entities[graph.KindCard], s.Stubs)
			}
			var docs []graph.SearchDoc
			if err := db.SearchDocs(ctx, func(d graph.SearchDoc) error { docs = append(docs, d); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 || docs[0].Stub || !reflect.DeepEqual(docs[0], graph.DocFor(full)) {
				t.Errorf("search docs %+v", docs)
			}
		})
	}
	t.Run("stub only", func(t *testing.T) {
		db := openTemp(t)
		load(t, db, records{ents: []graph.Entity{stub}})
		if got := mustEntity(t, db, stub.Ref); !got.Stub {
			t.Errorf("got %+v, want the stub", got)
		}
		if s, _ := db.Stats(ctx); s.Stubs != 1 || s.Entities[graph.KindCard] != 1 {
			t.Errorf("stats %+v", s)
		}
	})
	t.Run("later full replaces earlier full", func(t *testing.T) {
		db := openTemp(t)
		newer := full
		newer.Name = "renamed"
		load(t, db, records{ents: []graph.Entity{full}})
		load(t, db, records{ents: []graph.Entity{newer}})
		if got := mustEntity(t, db, full.Ref); got.Name != "renamed" {
			t.Errorf("name %q, want renamed", got.Name)
		}
	})
}

func allPages(t *testing.T, db *DB, ref graph.Ref) []graph.TxPage {
	t.Helper()
	var pages []graph.TxPage
	for s := graph.SortTimeDesc; s <= graph.SortAmountAsc; s++ {
		p, err := db.Transactions(ctx, ref, graph.TxQuery{Sort: s, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	return pages
}

func TestImportTwiceConverges(t *testing.T) {
	r := dataset(6, 300)
	a, b := openTemp(t), openTemp(t)
	load(t, a, r)
	load(t, b, r)
	l := load(t, b, r) // second import into b is incremental
	if l.Bulk() {
		t.Fatal("second import is bulk")
	}
	sa, _ := a.Stats(ctx)
	sb, _ := b.Stats(ctx)
	sa.Batches, sb.Batches = nil, nil
	if !reflect.DeepEqual(sa, sb) {
		t.Errorf("stats differ:\n once  %+v\n twice %+v", sa, sb)
	}
	for _, ref := range []graph.Ref{cardRef(0), cardRef(3), exRef, atmRef} {
		if pa, pb := allPages(t, a, ref), allPages(t, b, ref); !reflect.DeepEqual(pa, pb) {
			t.Errorf("%v: pages differ after importing twice", ref)
		}
		na, ta, _ := a.Neighbors(ctx, ref, 0)
		nb, tb, _ := b.Neighbors(ctx, ref, 0)
		if ta != tb || !reflect.DeepEqual(na, nb) {
			t.Errorf("%v: neighbours differ after importing twice", ref)
		}
	}
	if a.SearchDocCount() != b.SearchDocCount() {
		t.Errorf("search docs %d vs %d", a.SearchDocCount(), b.SearchDocCount())
	}
}

func TestBulkSpillMergesRuns(t *testing.T) {
	r := dataset(20, 3000)
	// Repeat some records with changed values: the last put must win.
	changed := r.ents[2]
	changed.Name = "last wins"
	r.ents = append(r.ents, changed)
	ref := records{ents: r.ents, links: r.links, txns: r.txns}

	spilled := openTemp(t)
	l, err := spilled.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	l.spillBytes = 32 << 10
	put(t, l, ref)
	if len(l.runs) < 3 {
		t.Fatalf("only %d runs spilled", len(l.runs))
	}
	var stages []string
	if err := l.Finish(ctx, func(stage string, done, total int64) { stages = append(stages, stage) }); err != nil {
		t.Fatal(err)
	}
	if len(stages) == 0 {
		t.Error("no progress reported")
	}
	inMem := openTemp(t)
	load(t, inMem, ref)

	if got := mustEntity(t, spilled, changed.Ref); got.Name != "last wins" {
		t.Errorf("duplicate across runs: name %q, want the last put", got.Name)
	}
	s1, _ := spilled.Stats(ctx)
	s2, _ := inMem.Stats(ctx)
	for i := range s1.Batches {
		s1.Batches[i].At, s2.Batches[i].At = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(s1, s2) {
		t.Errorf("stats differ:\n spilled %+v\n memory  %+v", s1, s2)
	}
	if s1.Txns != 3000 {
		t.Errorf("txns %d, want 3000", s1.Txns)
	}
	for i := range 20 {
		if pa, pb := allPages(t, spilled, cardRef(i)), allPages(t, inMem, cardRef(i)); !reflect.DeepEqual(pa, pb) {
			t.Fatalf("card %d: pages differ between spilled and in-memory import", i)
		}
	}
}

func TestTransactionsPagingAndTotals(t *testing.T) {
	db := openTemp(t)
	c, o := cardRef(1), cardRef(2)
	var r records
	var in, out int64
	for i := range 120 {
		x := graph.Txn{ID: "T" + string(rune('A'+i%26)) + strings.Repeat("x", i/26), Time: t0.Add(time.Duration(i) * time.Hour),
			From: c, To: o, Amount: int64((i*37)%120+1) * 100, Channel: graph.ChannelTransfer}
		if i%3 == 0 {
			x.From, x.To = o, c
			in += x.Amount
		} else {
			out += x.Amount
		}
		r.txns = append(r.txns, x)
	}
	// A self-transfer shows twice for its owner: once out, once in.
	r.txns = append(r.txns, graph.Txn{ID: "SELF", Time: t0.Add(-time.Hour), From: c, To: c, Amount: 5})
	in, out = in+5, out+5
	load(t, db, r)

	first, err := db.Transactions(ctx, c, graph.TxQuery{Sort: graph.SortTimeDesc, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if first.Total != 122 || first.In != in || first.Out != out || first.Truncated {
		t.Errorf("totals: %d in %d out %d trunc %v; want 122 in %d out %d", first.Total, first.In, first.Out, first.Truncated, in, out)
	}
	var seen []graph.Txn
	for off := 0; ; off += 50 {
		p, err := db.Transactions(ctx, c, graph.TxQuery{Sort: graph.SortTimeDesc, Offset: off, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Txns) == 0 {
			break
		}
		seen = append(seen, p.Txns...)
	}
	if len(seen) != 122 {
		t.Fatalf("paged %d rows, want 122", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Time.After(seen[i-1].Time) {
			t.Fatalf("row %d newer than row %d", i, i-1)
		}
	}
	if seen[0].ID != r.txns[119].ID || seen[120].ID != "SELF" || seen[121].ID != "SELF" {
		t.Errorf("first/last rows %s %s %s", seen[0].ID, seen[120].ID, seen[121].ID)
	}
	asc, _ := db.Transactions(ctx, c, graph.TxQuery{Sort: graph.SortTimeAsc, Offset: 2, Limit: 3})
	if len(asc.Txns) != 3 || asc.Txns[0].ID != r.txns[0].ID || asc.Txns[2].ID != r.txns[2].ID {
		t.Errorf("ascending page: %v", ids(asc.Txns))
	}
	for _, s := range []graph.TxSort{graph.SortAmountDesc, graph.SortAmountAsc} {
		p, _ := db.Transactions(ctx, c, graph.TxQuery{Sort: s, Limit: 200})
		if len(p.Txns) != 122 {
			t.Fatalf("sort %d: %d rows", s, len(p.Txns))
		}
		for i := 1; i < len(p.Txns); i++ {
			a, b := p.Txns[i-1].Amount, p.Txns[i].Amount
			if (s == graph.SortAmountDesc && a < b) || (s == graph.SortAmountAsc && a > b) {
				t.Fatalf("sort %d: row %d out of order (%d, %d)", s, i, a, b)
			}
		}
		top, _ := db.Transactions(ctx, c, graph.TxQuery{Sort: s, Offset: 10, Limit: 5})
		if !reflect.DeepEqual(ids(top.Txns), ids(p.Txns[10:15])) {
			t.Errorf("sort %d: offset page %v, want %v", s, ids(top.Txns), ids(p.Txns[10:15]))
		}
	}
	end, _ := db.Transactions(ctx, c, graph.TxQuery{Offset: 500, Limit: 50})
	if len(end.Txns) != 0 || end.Total != 122 {
		t.Errorf("page past the end: %d rows, total %d", len(end.Txns), end.Total)
	}
	none, err := db.Transactions(ctx, cardRef(77), graph.TxQuery{Limit: 50})
	if err != nil || none.Total != 0 || len(none.Txns) != 0 {
		t.Errorf("entity without transactions: %+v %v", none, err)
	}
}

func ids(ts []graph.Txn) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestNeighborsAggregation(t *testing.T) {
	db := openTemp(t)
	a, b, p := cardRef(1), cardRef(2), personRef(1)
	r := records{
		ents: []graph.Entity{
			{Ref: p, Name: "Ахметов Жанболат"},
			{Ref: b, Name: "Card B"},
			{Ref: atmRef, Stub: true},
		},
		links: []graph.Link{{From: p, To: a, Type: graph.LinkHolds}, {From: a, To: b, Type: graph.LinkSameAs}},
		txns: []graph.Txn{
			{ID: "1", Time: t0, From: a, To: b, Amount: 100, Channel: graph.ChannelTransfer},
			{ID: "2", Time: t0.Add(2 * time.Hour), From: a, To: b, Amount: 200, Channel: graph.ChannelTransfer},
			{ID: "3", Time: t0.Add(time.Hour), From: a, To: b, Amount: 300, Channel: graph.ChannelTransfer},
			{ID: "4", Time: t0, From: b, To: a, Amount: 50, Channel: graph.ChannelTransfer},
			{ID: "5", Time: t0, From: a, To: atmRef, Amount: 1000, Channel: graph.ChannelCashOut},
			{ID: "6", Time: t0, From: a, To: exRef, Amount: 7, Channel: graph.ChannelTrade},
			{ID: "7", Time: t0, From: a, To: cardRef(3), Amount: 9, Channel: graph.ChannelTransfer},
		},
	}
	load(t, db, r)
	got, total, err := db.Neighbors(ctx, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ref   graph.Ref
		rel   string
		dir   graph.Direction
		count int
		amt   int64
		name  string
	}
	want := []row{
		{p, "holds", graph.DirIn, 1, 0, "Ахметов Жанболат"},
		{b, "same_as", graph.DirOut, 1, 0, "Card B"},
		{b, "transfer", graph.DirOut, 3, 600, "Card B"},
		{b, "transfer", graph.DirIn, 1, 50, "Card B"},
		{cardRef(3), "transfer", graph.DirOut, 1, 9, ""},
		{atmRef, "cash_out", graph.DirOut, 1, 1000, ""},
		{exRef, "trade", graph.DirOut, 1, 7, ""},
	}
	if total != len(want) || len(got) != len(want) {
		t.Fatalf("got %d rows (total %d), want %d: %+v", len(got), total, len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Ref != w.ref || g.Relation != w.rel || g.Dir != w.dir || g.Count != w.count || g.Amount != w.amt || g.Name != w.name {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}
	if !got[2].FirstSeen.Equal(t0) || !got[2].LastSeen.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("first/last seen %v %v", got[2].FirstSeen, got[2].LastSeen)
	}
	// Without persisted rows (no totals key) Neighbors aggregates the
	// transactions itself and must give the same answer.
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete(txnAggKey(a)) }); err != nil {
		t.Fatal(err)
	}
	scanned, stotal, err := db.Neighbors(ctx, a, 0)
	if err != nil || stotal != total || !reflect.DeepEqual(scanned, got) {
		t.Errorf("scanned neighbours differ from persisted rows:\n%+v\n%+v", scanned, got)
	}
	lim, total, _ := db.Neighbors(ctx, a, 3)
	if len(lim) != 3 || total != len(want) || !reflect.DeepEqual(lim, got[:3]) {
		t.Errorf("limited: %d rows, total %d", len(lim), total)
	}
	none, total, err := db.Neighbors(ctx, cardRef(99), 10)
	if err != nil || len(none) != 0 || total != 0 {
		t.Errorf("unknown ref: %v %d %v", none, total, err)
	}
}

func TestIncrementalCorrectedTxnMoves(t *testing.T) {
	db := openTemp(t)
	x := graph.Txn{ID: "T1", Time: t0, From: cardRef(1), To: cardRef(2), Amount: 100}
	load(t, db, records{txns: []graph.Txn{x}})
	y := x
	y.Time, y.To, y.Amount = t0.Add(time.Hour), cardRef(3), 300
	load(t, db, records{txns: []graph.Txn{y}})
	if got, err := db.Txn(ctx, "T1"); err != nil || !reflect.DeepEqual(got, y) {
		t.Errorf("txn: %+v %v", got, err)
	}
	for ref, want := range map[graph.Ref]int{cardRef(1): 1, cardRef(2): 0, cardRef(3): 1} {
		p, _ := db.Transactions(ctx, ref, graph.TxQuery{Limit: 10})
		if p.Total != want || len(p.Txns) != want {
			t.Errorf("%v: total %d rows %d, want %d", ref, p.Total, len(p.Txns), want)
		}
	}
	if p, _ := db.Transactions(ctx, cardRef(1), graph.TxQuery{Limit: 10}); p.Out != 300 {
		t.Errorf("out %d, want 300", p.Out)
	}
	if s, _ := db.Stats(ctx); s.Txns != 1 {
		t.Errorf("txns %d, want 1", s.Txns)
	}
	if n, total, _ := db.Neighbors(ctx, cardRef(2), 0); total != 0 {
		t.Errorf("old counterparty still has neighbours: %+v", n)
	}
	if n, _, _ := db.Neighbors(ctx, cardRef(1), 0); len(n) != 1 || n[0].Ref != cardRef(3) || n[0].Amount != 300 || !n[0].LastSeen.Equal(y.Time) {
		t.Errorf("sender neighbours after move: %+v", n)
	}
}

func TestAbortAndCancel(t *testing.T) {
	t.Run("bulk abort leaves the db empty", func(t *testing.T) {
		dir := t.TempDir()
		db := openAt(t, dir)
		l, _ := db.NewLoader()
		l.spillBytes = 4 << 10
		put(t, l, dataset(5, 200))
		if err := l.Abort(); err != nil {
			t.Fatal(err)
		}
		if empty, _ := db.Empty(); !empty {
			t.Error("db not empty after abort")
		}
		if _, err := os.Stat(filepath.Join(dir, tmpDirName)); !os.IsNotExist(err) {
			t.Errorf("temp runs left: %v", err)
		}
	})
	t.Run("cancelled bulk finish leaves the db empty", func(t *testing.T) {
		db := openTemp(t)
		l, _ := db.NewLoader()
		put(t, l, dataset(50, 20_000))
		c, cancel := context.WithCancel(ctx)
		cancel()
		if err := l.Finish(c, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("finish: %v, want context.Canceled", err)
		}
		if empty, _ := db.Empty(); !empty {
			t.Error("db not empty after cancelled finish")
		}
		load(t, db, dataset(2, 3)) // and it is usable again
	})
	t.Run("incremental abort keeps committed rows consistent", func(t *testing.T) {
		db := openTemp(t)
		load(t, db, dataset(2, 2))
		l, _ := db.NewLoader()
		put(t, l, dataset(3, 3000))
		if err := l.Abort(); err != nil {
			t.Fatal(err)
		}
		s, _ := db.Stats(ctx)
		var n int
		if err := db.bdb.View(func(txn *badger.Txn) error {
			return scan(ctx, txn, []byte{pfxTxnID}, false, func(_, _ []byte) error { n++; return nil })
		}); err != nil {
			t.Fatal(err)
		}
		if s.Txns != n {
			t.Errorf("stats say %d txns, db holds %d", s.Txns, n)
		}
		if err := l.PutEntity(graph.Entity{Ref: cardRef(1)}); err == nil {
			t.Error("put after abort succeeded")
		}
	})
}

func TestPutRejectsBadRecords(t *testing.T) {
	db := openTemp(t)
	l, _ := db.NewLoader()
	defer l.Abort()
	if err := l.PutEntity(graph.Entity{Ref: graph.Ref{Kind: graph.KindCard}}); err == nil {
		t.Error("entity without key accepted")
	}
	if err := l.PutTxn(graph.Txn{From: cardRef(1), To: cardRef(2)}); err == nil {
		t.Error("transaction without id accepted")
	}
	if err := l.PutLink(graph.Link{From: cardRef(1), Type: graph.LinkHolds}); err == nil {
		t.Error("link without target accepted")
	}
	if err := l.EndBatch(graph.Batch{ID: 9}); err == nil {
		t.Error("batch never begun accepted")
	}
	id := l.BeginBatch("cards.csv", "abc", "cards")
	if err := l.EndBatch(graph.Batch{ID: id, Read: 3, Imported: 2, Rejected: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.EndBatch(graph.Batch{ID: id}); err == nil {
		t.Error("batch ended twice")
	}
	if err := l.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	b, ok, err := db.ImportedFile("abc")
	if err != nil || !ok || b.File != "cards.csv" || b.Format != "cards" || b.Read != 3 || b.Rejected != 1 {
		t.Errorf("batch from BeginBatch: %+v %v %v", b, ok, err)
	}
}

func TestSearchDocsSnapshot(t *testing.T) {
	db := openTemp(t)
	r := dataset(30, 10)
	load(t, db, r)
	want := map[graph.Ref]graph.SearchDoc{}
	for _, e := range r.ents {
		want[e.Ref] = graph.DocFor(e)
	}
	got := map[graph.Ref]graph.SearchDoc{}
	if err := db.SearchDocs(ctx, func(d graph.SearchDoc) error { got[d.Ref] = d; return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("docs differ: got %d, want %d", len(got), len(want))
	}
	stop := errors.New("stop")
	n := 0
	if err := db.SearchDocs(ctx, func(graph.SearchDoc) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("callback error: %v after %d docs", err, n)
	}
}

func TestLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir)
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second open: %v, want ErrLocked naming %s", err, dir)
	}
}

func TestEncryption(t *testing.T) {
	dir := t.TempDir()
	key := []byte("0123456789abcdef0123456789abcdef")
	db, err := Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	load(t, db, dataset(2, 5))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wrong := []byte("fedcba9876543210fedcba9876543210")
	if _, err := Open(dir, Options{EncryptionKey: wrong}); !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), dir) {
		t.Errorf("wrong key: %v, want ErrBadKey naming the dir", err)
	}
	_, err = Open(dir, Options{})
	if !errors.Is(err, ErrKeyRequired) || !errors.Is(err, ErrBadKey) {
		t.Errorf("missing key: %v, want ErrKeyRequired and ErrBadKey", err)
	}
	if _, err := Open(dir, Options{EncryptionKey: []byte("short")}); !errors.Is(err, ErrBadKey) {
		t.Errorf("short key: %v, want ErrBadKey", err)
	}
	db, err = Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatalf("right key: %v", err)
	}
	defer db.Close()
	if e := mustEntity(t, db, personRef(1)); e.Name != "Ахметов 1" {
		t.Errorf("entity after reopen: %+v", e)
	}
	plain := t.TempDir()
	pdb := openAt(t, plain)
	load(t, pdb, dataset(1, 1))
	pdb.Close()
	if _, err := Open(plain, Options{EncryptionKey: key}); !errors.Is(err, ErrBadKey) {
		t.Errorf("key for an unencrypted db: %v, want ErrBadKey", err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	db, _ := Open(dir, Options{})
	load(t, db, dataset(2, 4))
	db.Close()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.NewLoader(); err == nil {
		t.Error("loader on a read-only db")
	}
	if s, err := ro.Stats(ctx); err != nil || s.Txns != 4 {
		t.Errorf("read-only stats %+v %v", s, err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	raw := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7}
	if k, err := LoadKeyFile(write("raw24", raw)); err != nil || !reflect.DeepEqual(k, raw) {
		t.Errorf("raw: %x %v", k, err)
	}
	if k, err := LoadKeyFile(write("hex", []byte("000102030405060708090a0b0c0d0e0f\n"))); err != nil || !reflect.DeepEqual(k, raw[:16]) {
		t.Errorf("hex: %x %v", k, err)
	}
	for name, b := range map[string][]byte{"short": []byte("abc\n"), "hex10": []byte("00010203040506070809"), "empty": nil} {
		if _, err := LoadKeyFile(write(name, b)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
	if _, err := LoadKeyFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

// TestLoadKeyFileRefusesShared: a key file its group or others may read is
// refused with a message that names the file and the fix; 0600 and 0400 load.
func TestLoadKeyFileRefusesShared(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix mode bits")
	}
	dir := t.TempDir()
	key := []byte("000102030405060708090a0b0c0d0e0f\n")
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o666, 0o444} {
		p := filepath.Join(dir, fmt.Sprintf("key%04o", mode))
		if err := os.WriteFile(p, key, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKeyFile(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: %v, want a refusal naming the file and chmod 600", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		p := filepath.Join(dir, fmt.Sprintf("ok%04o", mode))
		if err := os.WriteFile(p, key, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFile(p); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}

// recordHandler collects log records. Badger logs from several goroutines.
type recordHandler struct {
	mu   *sync.Mutex
	msgs *[]string
}

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.msgs = append(*h.msgs, r.Level.String()+" "+r.Message)
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

func TestBadgerLogsGoToSlog(t *testing.T) {
	var msgs []string
	db, err := Open(t.TempDir(), Options{Logger: slog.New(recordHandler{new(sync.Mutex), &msgs})})
	if err != nil {
		t.Fatal(err)
	}
	load(t, db, dataset(2, 2))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 {
		t.Fatal("no Badger log lines reached the slog handler")
	}
	for _, m := range msgs {
		if strings.HasSuffix(m, "\n") {
			t.Errorf("log line keeps its newline: %q", m)
		}
	}
}

// sink mirrors importers.Sink (store must not import importers).
type sink interface {
	PutEntity(e graph.Entity) error
	PutLink(l graph.Link) error
	PutTxn(t graph.Txn) error
}

var _ sink = (*Loader)(nil)

func TestIncrementalTotalsFullScan(t *testing.T) {
	r := dataset(8, 400)
	once, split := openTemp(t), openTemp(t)
	load(t, once, r)
	load(t, split, records{ents: r.ents, links: r.links, txns: r.txns[:150]})
	l, err := split.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	l.fullScanOver = 0 // recompute every entity's totals in one scan
	put(t, l, records{txns: r.txns[150:]})
	if err := l.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if a, b := allPages(t, once, cardRef(i)), allPages(t, split, cardRef(i)); !reflect.DeepEqual(a, b) {
			t.Errorf("card %d: pages differ", i)
		}
		na, _, _ := once.Neighbors(ctx, cardRef(i), 0)
		nb, _, _ := split.Neighbors(ctx, cardRef(i), 0)
		if !reflect.DeepEqual(na, nb) {
			t.Errorf("card %d: neighbours differ:\n%+v\n%+v", i, na, nb)
		}
	}
	s1, _ := once.Stats(ctx)
	s2, _ := split.Stats(ctx)
	if s1.Txns != s2.Txns || !reflect.DeepEqual(s1.Entities, s2.Entities) || !reflect.DeepEqual(s1.TxnsByChan, s2.TxnsByChan) {
		t.Errorf("stats differ: %+v vs %+v", s1, s2)
	}
}

func TestIncrementalCancelledFinishThenAbort(t *testing.T) {
	db := openTemp(t)
	load(t, db, dataset(2, 2))
	l, _ := db.NewLoader()
	put(t, l, records{txns: dataset(4, 50).txns})
	c, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Finish(c, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("finish: %v, want context.Canceled", err)
	}
	if err := l.Abort(); err != nil {
		t.Fatal(err)
	}
	s, _ := db.Stats(ctx)
	if s.Txns != 50 {
		t.Errorf("stats say %d txns after abort, want the 50 committed", s.Txns)
	}
	if p, _ := db.Transactions(ctx, atmRef, graph.TxQuery{Limit: 100}); p.Total != 10 {
		t.Errorf("ATM total %d, want 10", p.Total)
	}
}

// TestReceiverRowsReadWholeTransactions: both owners' pages (in time and in
// amount order) and Txn give every field, in bulk and incremental imports
// alike.
func TestReceiverRowsReadWholeTransactions(t *testing.T) {
	tx := graph.Txn{ID: "T-77", Time: time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC), From: cardRef(1), To: exRef,
		Amount: 49_990_000, Currency: "KZT", Channel: graph.ChannelTrade, Device: "DEV-1", IP: "10.0.0.7",
		IINProvided: graph.TriNo, AppConfirmed: graph.TriYes, Reference: "покупка USDT",
		Props: map[string]string{"order": "554433"}, Src: graph.Provenance{File: "tx.csv", Line: 9, Batch: 1}}
	for _, form := range []string{"bulk", "incremental"} {
		bulk := form == "bulk"
		db := openTemp(t)
		if !bulk {
			load(t, db, records{ents: []graph.Entity{{Ref: personRef(1), Name: "first"}}})
		}
		load(t, db, records{txns: []graph.Txn{tx}})
		check := func(what string, got graph.Txn) {
			t.Helper()
			got.Src.Batch, got.Time = tx.Src.Batch, got.Time.UTC()
			if !reflect.DeepEqual(got, tx) {
				t.Errorf("%s, %s:\n got  %+v\n want %+v", form, what, got, tx)
			}
		}
		for s := graph.SortTimeDesc; s <= graph.SortAmountAsc; s++ {
			for _, owner := range []graph.Ref{tx.From, tx.To} {
				p, err := db.Transactions(ctx, owner, graph.TxQuery{Sort: s, Limit: 5})
				if err != nil || len(p.Txns) != 1 {
					t.Fatalf("%s, %v page of %v: %d rows, %v", form, s, owner, len(p.Txns), err)
				}
				check(fmt.Sprintf("%v page of %v", s, owner), p.Txns[0])
			}
		}
		got, err := db.Txn(ctx, tx.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("Txn", got)
	}
}

// TestTxnIDRowForms reads both forms of the id row: the short one written
// now and the older one holding the sender's row key.
func TestTxnIDRowForms(t *testing.T) {
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	want := txnKey(cardRef(3), at, "T-9", graph.DirOut)
	for name, v := range map[string][]byte{
		"short": encodeTxnID(graph.ChannelCashOut, cardRef(3), at),
		"older": append([]byte{byte(graph.ChannelCashOut)}, want...),
	} {
		ch, key, err := decodeTxnID("T-9", v)
		if err != nil || ch != graph.ChannelCashOut || !bytes.Equal(key, want) {
			t.Errorf("%s: channel %v key %x err %v, want %x", name, ch, key, err, want)
		}
	}
	if short := encodeTxnID(graph.ChannelCashOut, cardRef(3), at); len(short) >= 1+len(want) {
		t.Errorf("short form %d bytes, the older one %d", len(short), 1+len(want))
	}
}

// TestOpenRefusesFoldersThatAreNotDatabases: an evidence folder of CSVs is
// refused and nothing is written into it; read-only opens of a missing or
// empty folder say "not a casegraph database", not Badger's words; a new or
// empty folder still becomes a database.
func TestOpenRefusesFoldersThatAreNotDatabases(t *testing.T) {
	evidence := t.TempDir()
	if err := os.WriteFile(filepath.Join(evidence, "cards.csv"), []byte("pan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		if _, err := Open(evidence, Options{ReadOnly: ro}); !errors.Is(err, ErrNotDatabase) || !strings.Contains(err.Error(), "cards.csv") {
			t.Fatalf("read-only %v: err = %v, want ErrNotDatabase naming cards.csv", ro, err)
		}
	}
	ents, _ := os.ReadDir(evidence)
	if len(ents) != 1 {
		t.Fatalf("the evidence folder holds %d files after the refusals, want only cards.csv", len(ents))
	}
	empty := t.TempDir()
	if _, err := Open(empty, Options{ReadOnly: true}); !errors.Is(err, ErrNotDatabase) {
		t.Fatalf("read-only open of an empty folder: %v", err)
	}
	if _, err := Open(filepath.Join(empty, "missing"), Options{ReadOnly: true}); !errors.Is(err, ErrNotDatabase) {
		t.Fatalf("read-only open of a missing folder: %v", err)
	}
	db, err := Open(filepath.Join(empty, "new"), Options{})
	if err != nil {
		t.Fatalf("a new folder must become a database: %v", err)
	}
	db.Close()
	db, err = Open(filepath.Join(empty, "new"), Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("reopening the new database read-only: %v", err)
	}
	db.Close()
}

// TestOpenAfterKillDuringMemtableCreation: a kill between Badger creating a
// memtable file and sizing it leaves a zero-byte .mem file; the database
// still opens, with everything it held.
func TestOpenAfterKillDuringMemtableCreation(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "00042.mem"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("open with an empty memtable file left by a kill: %v", err)
	}
	db.Close()
}
