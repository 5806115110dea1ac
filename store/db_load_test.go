package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

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
