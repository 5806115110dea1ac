package store

import (
	"context"
	"errors"
	"maps"
	"testing"

	"casegraph/graph"
)

func TestScanAll(t *testing.T) {
	db := openTemp(t)
	r := dataset(20, 300)
	// A stub of an entity that also has a full record: the scan reports the full one only.
	r.ents = append(r.ents, graph.Entity{Ref: cardRef(3), Stub: true, Src: graph.Provenance{File: "x.csv", Line: 9, Batch: 1}})
	// A self-transfer is stored under one owner twice, and must be reported once.
	self := r.txns[5]
	self.ID, self.From, self.To = "SELF", cardRef(1), cardRef(1)
	r.txns = append(r.txns, self)
	load(t, db, r)

	ents := map[graph.Ref]graph.Entity{}
	var links []graph.Link
	txns := map[string]graph.Txn{}
	err := db.ScanAll(context.Background(),
		func(e graph.Entity) error {
			if _, dup := ents[e.Ref]; dup {
				t.Errorf("entity %s reported twice", e.Ref)
			}
			ents[e.Ref] = e
			return nil
		},
		func(l graph.Link) error { links = append(links, l); return nil },
		func(x graph.Txn) error {
			if _, dup := txns[x.ID]; dup {
				t.Errorf("transaction %s reported twice", x.ID)
			}
			txns[x.ID] = x
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.ents {
		got, ok := ents[e.Ref]
		if !ok {
			t.Fatalf("entity %s missing", e.Ref)
		}
		if !e.Stub && (got.Stub || got.Name != e.Name || !maps.Equal(got.Props, e.Props)) {
			t.Errorf("entity %s = %+v, want the full record %+v", e.Ref, got, e)
		}
	}
	if c := ents[cardRef(3)]; c.Stub {
		t.Errorf("card 3 reported as its stub")
	}
	// Transactions create stubs for references without a record: every
	// endpoint must be among the entities.
	for _, x := range r.txns {
		got, ok := txns[x.ID]
		if !ok {
			t.Fatalf("transaction %s missing", x.ID)
		}
		if got.From != x.From || got.To != x.To || got.Amount != x.Amount || !got.Time.Equal(x.Time) ||
			got.Channel != x.Channel || got.Device != x.Device || got.Reference != x.Reference || got.IINProvided != x.IINProvided {
			t.Errorf("transaction %s = %+v, want %+v", x.ID, got, x)
		}
		for _, ref := range []graph.Ref{x.From, x.To} {
			if _, ok := ents[ref]; !ok {
				t.Errorf("endpoint %s of %s has no entity", ref, x.ID)
			}
		}
	}
	if len(txns) != len(r.txns) {
		t.Errorf("%d transactions, want %d", len(txns), len(r.txns))
	}
	want := map[[2]graph.Ref]bool{}
	for _, l := range r.links {
		want[[2]graph.Ref{l.From, l.To}] = true
	}
	got := map[[2]graph.Ref]bool{}
	for _, l := range links {
		if l.Type == graph.LinkHolds {
			got[[2]graph.Ref{l.From, l.To}] = true
		}
	}
	for p := range want {
		if !got[p] {
			t.Errorf("link %s → %s missing", p[0], p[1])
		}
	}

	// The index built from the store agrees with the scan.
	ix, err := graph.BuildIndex(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	// The transactions' device is a node of the index, though the store holds no entity for it.
	if ix.TxCount() != len(r.txns) || ix.Len() != len(ents)+1 {
		t.Errorf("index: %d txns, %d nodes; want %d, %d", ix.TxCount(), ix.Len(), len(r.txns), len(ents)+1)
	}
	if d, ok := ix.Lookup(graph.Ref{Kind: graph.KindDevice, Key: "DEV-9F3A"}); !ok || !ix.Stub(d) {
		t.Errorf("device node: ok=%v", ok)
	}
	c1, ok := ix.Lookup(cardRef(1))
	if !ok || ix.Prop(c1, graph.PropBank) != "Kaspi Bank" || ix.Stub(c1) {
		t.Errorf("card 1 in index: ok=%v bank=%q", ok, ix.Prop(c1, graph.PropBank))
	}
	if i, ok := ix.LookupTx("T0000001"); !ok || !ix.TxFlags(i).Has(graph.TxP2PText|graph.TxIINMissing) {
		t.Errorf("T0000001 flags wrong")
	}
}

func TestScanAllStops(t *testing.T) {
	db := openTemp(t)
	load(t, db, dataset(5, 50))
	boom := errors.New("boom")
	n := 0
	err := db.ScanAll(context.Background(), nil, nil, func(graph.Txn) error {
		if n++; n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 3 {
		t.Errorf("err = %v after %d, want boom after 3", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.ScanAll(ctx, func(graph.Entity) error { return nil }, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
}
