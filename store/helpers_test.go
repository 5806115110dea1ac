package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"casegraph/graph"
)

func openTemp(t testing.TB) *DB {
	t.Helper()
	return openAt(t, t.TempDir())
}

func openAt(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// records is a small synthetic case: persons holding cards, cards topped up
// at ATMs, transferring to each other and trading on an exchange.
type records struct {
	ents  []graph.Entity
	links []graph.Link
	txns  []graph.Txn
}

var t0 = time.Date(2025, 3, 13, 10, 0, 0, 0, time.UTC)

func cardRef(i int) graph.Ref {
	return graph.Ref{Kind: graph.KindCard, Key: fmt.Sprintf("44004300%08d", i)}
}
func personRef(i int) graph.Ref {
	return graph.Ref{Kind: graph.KindPerson, Key: fmt.Sprintf("8503123%05d", i)}
}

var (
	exRef  = graph.Ref{Kind: graph.KindExchange, Key: "EX-0001"}
	atmRef = graph.Ref{Kind: graph.KindATM, Key: "ATM-ALA-0042"}
)

func dataset(cards, txns int) records {
	var r records
	src := graph.Provenance{File: "seed.csv", Line: 2, Batch: 1}
	r.ents = append(r.ents, graph.Entity{Ref: exRef, Name: "ТенгеОбмен24", Props: map[string]string{"domain": "tengeobmen24.kz"}, Src: src})
	r.ents = append(r.ents, graph.Entity{Ref: atmRef, Stub: true, Src: src})
	for i := range cards {
		p := personRef(i)
		r.ents = append(r.ents,
			graph.Entity{Ref: p, Name: fmt.Sprintf("Ахметов %d", i), Props: map[string]string{"birth_date": "1985-03-12"}, Src: src},
			graph.Entity{Ref: cardRef(i), Props: map[string]string{"bank": "Kaspi Bank", "holder_iin": p.Key}, Src: src})
		r.links = append(r.links, graph.Link{From: p, To: cardRef(i), Type: graph.LinkHolds, Src: src})
	}
	for i := range txns {
		from, to, ch := cardRef(i%cards), cardRef((i*7+1)%cards), graph.ChannelTransfer
		switch i % 5 {
		case 0:
			from, ch = atmRef, graph.ChannelTopup
		case 1:
			to, ch = exRef, graph.ChannelTrade
		}
		r.txns = append(r.txns, graph.Txn{
			ID: fmt.Sprintf("T%07d", i), Time: t0.Add(time.Duration(i) * time.Minute),
			From: from, To: to, Amount: int64(1000 + (i*7919)%100000), Currency: "KZT", Channel: ch,
			Device: "DEV-9F3A", IINProvided: graph.TriNo, Reference: "buy USDT",
			Props: map[string]string{"city": "Алматы"}, Src: graph.Provenance{File: "tx.csv", Line: i + 2, Batch: 1},
		})
	}
	return r
}

func load(t testing.TB, db *DB, r records) *Loader {
	t.Helper()
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	put(t, l, r)
	if err := l.Finish(context.Background(), nil); err != nil {
		t.Fatalf("finish: %v", err)
	}
	return l
}

func put(t testing.TB, l *Loader, r records) {
	t.Helper()
	id := l.BeginBatch("seed.csv", fmt.Sprintf("sha-%d", len(r.txns)+len(r.ents)), "mixed")
	for _, e := range r.ents {
		if err := l.PutEntity(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range r.links {
		if err := l.PutLink(k); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range r.txns {
		if err := l.PutTxn(x); err != nil {
			t.Fatal(err)
		}
	}
	n := len(r.ents) + len(r.links) + len(r.txns)
	if err := l.EndBatch(graph.Batch{ID: id, File: "seed.csv", SHA256: fmt.Sprintf("sha-%d", len(r.txns)+len(r.ents)), Format: "mixed", Read: n, Imported: n}); err != nil {
		t.Fatal(err)
	}
}
