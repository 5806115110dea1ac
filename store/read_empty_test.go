package store

import (
	"fmt"
	"testing"
	"time"

	"casegraph/graph"
)

// TestTransactionsWithoutAny: the time-ordered pages of an entity without
// transactions are empty, also in a database that holds no transactions at
// all (a reverse iterator then has no item: reading it panicked), and the
// newest rows of one account are its own when the next account's keys
// begin where its prefix ends.
func TestTransactionsWithoutAny(t *testing.T) {
	dir := t.TempDir()
	db := openAt(t, dir)
	load(t, db, records{ents: []graph.Entity{{Ref: personRef(1), Name: "Ахметов Ерлан"}}})
	// Reopened, the database is tables only, none of them near a [t] key.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, dir)
	for _, s := range []graph.TxSort{graph.SortTimeDesc, graph.SortTimeAsc, graph.SortAmountDesc} {
		p, err := db.Transactions(ctx, personRef(1), graph.TxQuery{Sort: s, Limit: 10})
		if err != nil || len(p.Txns) != 0 || p.Total != 0 {
			t.Fatalf("sort %d: %+v, %v", s, p, err)
		}
	}
	a := graph.Ref{Kind: graph.KindAccount, Key: "ACC1"}
	b := graph.Ref{Kind: graph.KindAccount, Key: "ACC2"} // [t][b] begins at prefixEnd([t][a])
	var txns []graph.Txn
	for i := range 6 {
		from, to := a, b
		if i%2 == 1 {
			from, to = b, graph.Ref{Kind: graph.KindAccount, Key: "ACC3"}
		}
		txns = append(txns, graph.Txn{ID: fmt.Sprintf("T%d", i), Time: t0.Add(time.Duration(i) * time.Hour),
			From: from, To: to, Amount: 100, Currency: "KZT", Channel: graph.ChannelTransfer})
	}
	db2 := openTemp(t)
	load(t, db2, records{txns: txns})
	p, err := db2.Transactions(ctx, a, graph.TxQuery{Sort: graph.SortTimeDesc, Limit: 10})
	if err != nil || len(p.Txns) != 3 || p.Txns[0].ID != "T4" {
		t.Fatalf("account a, newest first: %+v, %v", p.Txns, err)
	}
}
