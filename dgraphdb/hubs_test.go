package dgraphdb_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
)

// hubCounts counts the (entity, month) pairs with hub summaries and those
// with transactions.
func hubCounts(t *testing.T, dg *dgraphdb.DB) (hubs, pairs int) {
	t.Helper()
	hubs, pairs, err := dg.HubMonths(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return hubs, pairs
}

// sameAsGrouped checks that every entity's neighbours read with the hub
// summaries are those grouped from the transactions.
func sameAsGrouped(t *testing.T, dg *dgraphdb.DB, refs []graph.Ref, when string) {
	t.Helper()
	ctx := context.Background()
	for _, r := range refs {
		got, total, err := dg.Neighbors(ctx, r, 0)
		must(t, err)
		dgraphdb.SetHubsIgnored(true)
		want, wtotal, err := dg.Neighbors(ctx, r, 0)
		dgraphdb.SetHubsIgnored(false)
		must(t, err)
		if total != wtotal || !reflect.DeepEqual(got, want) {
			t.Errorf("%s, %s: with hub summaries %d %+v\n grouped %d %+v", when, r, total, got, wtotal, want)
		}
	}
}

// TestHubSummaries lowers the hub threshold to 10 transactions a month (the
// fixture's entities have about 10 a month, so about half of the pairs are
// hubs) and loads the contract's files through the client: every answer is
// the Badger folder's (compareContract). Then a transaction moves out of a
// hub's month, which drops below the threshold and loses its summaries,
// and back, which makes it a hub again; after each step every entity's
// neighbours are those grouped from its transactions.
func TestHubSummaries(t *testing.T) {
	old := dgraphdb.SetHubMin(10)
	defer dgraphdb.SetHubMin(old)
	dg := openFresh(t)
	step1, step2 := contractSteps(t)
	f := importBoth(t, dg, step1, step2)
	compareContract(t, f)
	hubs, pairs := hubCounts(t, dg)
	t.Logf("%d hub months of %d entity months", hubs, pairs)
	if hubs == 0 || hubs >= pairs {
		t.Fatalf("%d hub months of %d entity months: want some, not all", hubs, pairs)
	}
	refs := allRefs(t, f)
	sameAsGrouped(t, dg, refs, "after the import")

	// A transaction whose sender has at least 5 in its month: the
	// threshold becomes that count, and loading the transaction again
	// (unchanged) makes the sender's month a hub.
	ctx := context.Background()
	var tx graph.Txn
	var n int
	var month string
	var start time.Time
	for i := 1; i <= 400 && n < 5; i++ {
		id := fmt.Sprintf("M%d", i)
		if i%3 == 1 {
			id = fmt.Sprintf("M-%06d", i)
		}
		got, err := dg.Txn(ctx, id)
		must(t, err)
		tx = got
		month = dgraphdb.Month(tx.Time)
		start = time.Date(tx.Time.Year(), tx.Time.Month(), 1, 0, 0, 0, 0, time.UTC)
		p, err := dg.Transactions(ctx, tx.From, graph.TxQuery{From: start, To: start.AddDate(0, 1, 0)})
		must(t, err)
		n = p.Total
	}
	if n < 5 {
		t.Fatal("no sender with 5 transactions in a month")
	}
	dgraphdb.SetHubMin(n)
	load(t, dg, func(l *dgraphdb.Loader) { must(t, l.PutTxn(tx)) })
	if ok, err := dg.HasHub(ctx, tx.From, month); err != nil || !ok {
		t.Fatalf("%s with %d transactions in %s (the threshold) has no hub summaries (%v)", tx.From, n, month, err)
	}
	sameAsGrouped(t, dg, refs, "a hub at the threshold")

	moved := tx
	moved.Time = time.Date(2025, 12, 20, 10, 0, 0, 0, time.UTC)
	load(t, dg, func(l *dgraphdb.Loader) { must(t, l.PutTxn(moved)) })
	if ok, err := dg.HasHub(ctx, tx.From, month); err != nil || ok {
		t.Errorf("%s kept the hub summaries of %s with %d transactions left (%v)", tx.From, month, n-1, err)
	}
	sameAsGrouped(t, dg, refs, "moved out of the hub's month")

	load(t, dg, func(l *dgraphdb.Loader) { must(t, l.PutTxn(tx)) })
	if ok, err := dg.HasHub(ctx, tx.From, month); err != nil || !ok {
		t.Errorf("%s has no hub summaries of %s with %d transactions again (%v)", tx.From, month, n, err)
	}
	if ok, err := dg.HasHub(ctx, tx.From, "2025_12"); err != nil || ok {
		t.Errorf("%s has hub summaries of 2025_12 with no transaction (%v)", tx.From, err)
	}
	sameAsGrouped(t, dg, refs, "moved back")
}
