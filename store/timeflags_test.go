package store

import (
	"context"
	"testing"

	"casegraph/graph"
)

// TestTxnDateOnlyRoundTrip: the date-only flag survives the store (Txn, the
// lean scan) and a value written without the flag byte (every value before
// it existed) decodes as a transaction with a clock time.
func TestTxnDateOnlyRoundTrip(t *testing.T) {
	tx := graph.Txn{ID: "D1", Time: t0, From: cardRef(1), To: cardRef(2), Amount: 700, Currency: "CZK",
		Channel: graph.ChannelTransfer, DateOnly: true, Src: graph.Provenance{File: "trans.asc", Line: 2, Batch: 4}}
	v := encodeTxnValue(tx, tx.To)
	key := txnKey(tx.From, tx.Time, tx.ID, graph.DirOut)
	got, err := decodeTxn(key, v)
	if err != nil || !got.DateOnly || got.Currency != "CZK" || got.Src.Batch != 4 {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	tx.DateOnly = false
	old := encodeTxnValue(tx, tx.To)
	if len(old) != len(v)-1 {
		t.Fatalf("a value with a clock time is %d bytes, the date-only one %d: want one flag byte more", len(old), len(v))
	}
	if got, err := decodeTxn(key, old); err != nil || got.DateOnly {
		t.Fatalf("old-form value decoded as %+v, %v", got, err)
	}

	db := openTemp(t)
	r := dataset(3, 0)
	tx.DateOnly = true
	r.txns = []graph.Txn{tx}
	load(t, db, r)
	if back, err := db.Txn(context.Background(), "D1"); err != nil || !back.DateOnly {
		t.Fatalf("Txn(D1) = %+v, %v", back, err)
	}
	var seen graph.ScanTxn
	err = db.ScanLean(context.Background(), nil, nil, func(s *graph.ScanTxn) error {
		seen = *s
		seen.Currency = append([]byte(nil), s.Currency...)
		return nil
	})
	if err != nil || !seen.DateOnly || string(seen.Currency) != "CZK" || seen.Batch != 4 {
		t.Fatalf("lean scan: date-only %v currency %q batch %d, %v", seen.DateOnly, seen.Currency, seen.Batch, err)
	}
}
