package store

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"casegraph/graph"
)

// maxAmount is the largest amount an import accepts
// (importers.MaxAmountMinor: 10^15 minor units).
const maxAmount = 1_000_000_000_000_000

// TestTurnoverSaturates: 10,000 transactions each of the largest amount an
// import accepts, into one card and out of one card, sum beyond the int64
// range; the totals, the neighbour sums and a second import's totals show
// the bound, never a wrapped negative turnover (the "-0.02 ₸"). Run
// in bulk (several merge parts) and incrementally.
func TestTurnoverSaturates(t *testing.T) {
	sink, source := cardRef(1), cardRef(2)
	var r records
	src := graph.Provenance{File: "max.csv", Line: 2, Batch: 1}
	for i := range 20000 {
		from := cardRef(10 + i%3)
		to := sink
		if i%2 == 1 {
			from, to = source, cardRef(10+i%3)
		}
		r.txns = append(r.txns, graph.Txn{ID: fmt.Sprintf("M%05d", i), Time: t0.Add(time.Duration(i) * time.Second),
			From: from, To: to, Amount: maxAmount, Currency: "KZT", Channel: graph.ChannelTransfer, Src: src})
	}
	check := func(name string, db *DB) {
		t.Helper()
		ctx := context.Background()
		in, err := db.Transactions(ctx, sink, graph.TxQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		out, err := db.Transactions(ctx, source, graph.TxQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if in.In != math.MaxInt64 || out.Out != math.MaxInt64 {
			t.Errorf("%s: turnover in %d, out %d; want both saturated at %d", name, in.In, out.Out, int64(math.MaxInt64))
		}
		nb, _, err := db.Neighbors(ctx, sink, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nb {
			if n.Amount < 0 {
				t.Errorf("%s: neighbour %s sum wrapped to %d", name, n.Ref, n.Amount)
			}
		}
	}
	db := openTemp(t)
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	l.parts = 3
	put(t, l, r)
	if err := l.Finish(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	check("bulk", db)
	// A second import into the same cards adds to saturated totals.
	var more records
	for i := range 10 {
		more.txns = append(more.txns, graph.Txn{ID: fmt.Sprintf("N%05d", i), Time: t0.Add(time.Duration(40000+i) * time.Second),
			From: cardRef(10), To: sink, Amount: maxAmount, Currency: "KZT", Channel: graph.ChannelTransfer,
			Src: graph.Provenance{File: "more.csv", Line: i + 2, Batch: 2}})
	}
	load(t, db, more)
	check("incremental", db)
}
