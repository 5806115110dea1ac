package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

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
