package store

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"casegraph/graph"
)

// holderDataset is dataset with person 0 holding cards 0–4 (and a card
// nobody transacts with), so their money is on five instruments that also
// pay each other.
func holderDataset() (records, []graph.Ref) {
	r := dataset(12, 600)
	src := graph.Provenance{File: "seed.csv", Line: 9, Batch: 1}
	held := []graph.Ref{cardRef(0)}
	for i := 1; i < 5; i++ {
		r.links = append(r.links, graph.Link{From: personRef(0), To: cardRef(i), Type: graph.LinkHolds, Src: src})
		held = append(held, cardRef(i))
	}
	quiet := graph.Ref{Kind: graph.KindCard, Key: "4400430099999999"}
	r.ents = append(r.ents, graph.Entity{Ref: quiet, Src: src})
	r.links = append(r.links, graph.Link{From: personRef(0), To: quiet, Type: graph.LinkHolds, Src: src})
	return r, append(held, quiet)
}

// A holder's combined totals are the sum of its instruments' totals, and
// the merged listing pages through every row of every instrument once, in
// order, whatever the page size.
func TestHoldingsCombinedTotalsAndMergedPages(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	r, held := holderDataset()
	load(t, db, r)

	h, err := db.Holdings(ctx, personRef(0), 3)
	if err != nil {
		t.Fatal(err)
	}
	if h.Total != len(held) || len(h.Items) != 3 {
		t.Fatalf("holdings: total %d items %d, want %d and 3", h.Total, len(h.Items), len(held))
	}
	var sum graph.TxPage
	for _, ref := range held {
		p, err := db.Transactions(ctx, ref, graph.TxQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		sum.Total += p.Total
		sum.In += p.In
		sum.Out += p.Out
	}
	if sum.Total == 0 || h.Txns != sum.Total || h.In != sum.In || h.Out != sum.Out {
		t.Fatalf("combined totals %d/%d/%d, the instruments add up to %d/%d/%d", h.Txns, h.In, h.Out, sum.Total, sum.In, sum.Out)
	}
	for i := 1; i < len(h.Items); i++ {
		if h.Items[i].Txns > h.Items[i-1].Txns {
			t.Errorf("items not by transactions: %+v", h.Items)
		}
	}

	for _, sort := range []graph.TxSort{graph.SortTimeDesc, graph.SortTimeAsc, graph.SortAmountDesc, graph.SortAmountAsc} {
		all, err := db.TransactionsOf(ctx, held, graph.TxQuery{Sort: sort})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != sum.Total || all.In != sum.In || all.Out != sum.Out || len(all.Txns) != sum.Total {
			t.Fatalf("sort %d: merged %d rows, totals %d/%d/%d, want %d", sort, len(all.Txns), all.Total, all.In, all.Out, sum.Total)
		}
		seen := map[string]bool{}
		for i, tx := range all.Txns {
			if !slices.Contains(held, tx.Via) || (tx.From != tx.Via && tx.To != tx.Via) {
				t.Fatalf("row %s via %s is not that instrument's", tx.ID, tx.Via)
			}
			k := tx.ID + "|" + tx.Via.String() + "|" + fmt.Sprint(tx.From == tx.Via)
			if seen[k] {
				t.Fatalf("row %s listed twice", k)
			}
			seen[k] = true
			if i == 0 {
				continue
			}
			prev := all.Txns[i-1]
			switch sort {
			case graph.SortTimeDesc:
				if tx.Time.After(prev.Time) {
					t.Fatalf("time ↓ out of order at %d", i)
				}
			case graph.SortTimeAsc:
				if tx.Time.Before(prev.Time) {
					t.Fatalf("time ↑ out of order at %d", i)
				}
			case graph.SortAmountDesc:
				if tx.Amount > prev.Amount {
					t.Fatalf("amount ↓ out of order at %d", i)
				}
			case graph.SortAmountAsc:
				if tx.Amount < prev.Amount {
					t.Fatalf("amount ↑ out of order at %d", i)
				}
			}
		}
		// Pages of every size put together are the whole listing.
		for _, size := range []int{1, 7, 50} {
			var paged []graph.Txn
			for off := 0; ; off += size {
				p, err := db.TransactionsOf(ctx, held, graph.TxQuery{Sort: sort, Offset: off, Limit: size})
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, p.Txns...)
				if len(p.Txns) < size {
					break
				}
			}
			if len(paged) != len(all.Txns) {
				t.Fatalf("sort %d pages of %d: %d rows, want %d", sort, size, len(paged), len(all.Txns))
			}
			for i := range paged {
				if paged[i].ID != all.Txns[i].ID || paged[i].Via != all.Txns[i].Via {
					t.Fatalf("sort %d pages of %d: row %d is %s via %s, want %s via %s", sort, size, i,
						paged[i].ID, paged[i].Via, all.Txns[i].ID, all.Txns[i].Via)
				}
			}
		}
	}

	// Counterparties over everything held: the money rows add up to the
	// rows of the listing, each naming an instrument it came through.
	nbs, _, err := db.NeighborsOf(ctx, personRef(0), held, 0)
	if err != nil {
		t.Fatal(err)
	}
	count, holds := 0, 0
	for _, n := range nbs {
		if n.Relation == graph.LinkHolds.String() {
			holds++
			continue
		}
		count += n.Count
		if !slices.Contains(held, n.Via) || n.ViaCount < 1 {
			t.Errorf("money row %s %s names no instrument: via %s ×%d", n.Relation, n.Ref, n.Via, n.ViaCount)
		}
	}
	if holds != len(held) || count != sum.Total {
		t.Errorf("combined neighbours: %d holds rows and %d transactions, want %d and %d", holds, count, len(held), sum.Total)
	}
}

// BenchmarkTransactionsOf measures one page of 50 of a holder's merged
// listing (16 instruments, 20,000 transactions) at the start and deep in.
func BenchmarkTransactionsOf(b *testing.B) {
	ctx := context.Background()
	db := openTemp(b)
	r := dataset(16, 20_000)
	held := make([]graph.Ref, 16)
	for i := range held {
		held[i] = cardRef(i)
	}
	load(b, db, r)
	for _, off := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("offset%d", off), func(b *testing.B) {
			for b.Loop() {
				p, err := db.TransactionsOf(ctx, held, graph.TxQuery{Offset: off, Limit: 50})
				if err != nil || len(p.Txns) != 50 {
					b.Fatal(err, len(p.Txns))
				}
			}
		})
	}
}

// A range brushed on a holder's timeline keeps, in the merged listing, the
// rows in [From, To) of every instrument — the same rows and totals as
// each instrument's own ranged listing — in every sort.
func TestTransactionsOfRange(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	r, held := holderDataset()
	load(t, db, r)
	all, err := db.TransactionsOf(ctx, held, graph.TxQuery{Sort: graph.SortTimeAsc})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Txns) < 10 {
		t.Fatalf("only %d rows", len(all.Txns))
	}
	from, to := all.Txns[len(all.Txns)/4].Time, all.Txns[3*len(all.Txns)/4].Time
	var want graph.TxPage
	for _, ref := range held {
		p, err := db.Transactions(ctx, ref, graph.TxQuery{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		want.Total += p.Total
		want.In += p.In
		want.Out += p.Out
	}
	if want.Total == 0 || want.Total == len(all.Txns) {
		t.Fatalf("range holds %d of %d rows: not a test", want.Total, len(all.Txns))
	}
	for _, sort := range []graph.TxSort{graph.SortTimeDesc, graph.SortTimeAsc, graph.SortAmountDesc, graph.SortAmountAsc} {
		got, err := db.TransactionsOf(ctx, held, graph.TxQuery{Sort: sort, From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != want.Total || got.In != want.In || got.Out != want.Out || len(got.Txns) != want.Total {
			t.Fatalf("sort %d: %d rows, totals %d/%d/%d; want %d/%d/%d", sort, len(got.Txns), got.Total, got.In, got.Out,
				want.Total, want.In, want.Out)
		}
		for _, tx := range got.Txns {
			if tx.Time.Before(from) || !tx.Time.Before(to) {
				t.Fatalf("sort %d: row %s at %s outside [%s, %s)", sort, tx.ID, tx.Time, from, to)
			}
		}
	}
}
