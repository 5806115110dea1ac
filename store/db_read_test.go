package store

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

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
