package store

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"casegraph/graph"
)

// bandDataset is holderDataset with every 9th transaction in USD and one
// negative amount (a reversal), so a band with a currency has rows to
// leave out on both counts.
func bandDataset() (records, []graph.Ref) {
	r, held := holderDataset()
	for i := range r.txns {
		if i%9 == 4 {
			r.txns[i].Currency = "USD"
		}
	}
	r.txns[3].Amount = -r.txns[3].Amount
	return r, held
}

// bandOracle lists, from the records themselves, the rows of owners that q
// keeps (range, band, currency) as "id|owner|dir" with their totals.
func bandOracle(r records, owners []graph.Ref, q graph.TxQuery) (map[string]bool, graph.TxPage) {
	rows := map[string]bool{}
	var p graph.TxPage
	for _, o := range owners {
		for _, x := range r.txns {
			if (!q.From.IsZero() && x.Time.Before(q.From)) || (!q.To.IsZero() && !x.Time.Before(q.To)) ||
				!q.Keeps(x.Amount, x.Currency) {
				continue
			}
			if x.From == o {
				rows[x.ID+"|"+o.String()+"|out"] = true
				p.Total++
				p.Out += x.Amount
			}
			if x.To == o {
				rows[x.ID+"|"+o.String()+"|in"] = true
				p.Total++
				p.In += x.Amount
			}
		}
	}
	return rows, p
}

// rowKey is bandOracle's key of a listed row seen from owner.
func rowKey(x graph.Txn, owner graph.Ref) string {
	if x.From == owner {
		return x.ID + "|" + owner.String() + "|out"
	}
	return x.ID + "|" + owner.String() + "|in"
}

// An amount band keeps, in an instrument's listing and in a holder's merged
// one, exactly the rows with MinAmount <= amount < MaxAmount (and of the
// band's currency when it names one), alone or within a time range, in
// every sort and at every page size; the totals are over those rows.
func TestTransactionsAmountBand(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	r, held := bandDataset()
	load(t, db, r)
	from, to := t0.Add(100*time.Minute), t0.Add(450*time.Minute)
	queries := map[string]graph.TxQuery{
		"band":              {MinAmount: 30_000, MaxAmount: 60_000},
		"band+range":        {MinAmount: 30_000, MaxAmount: 60_000, From: from, To: to},
		"band KZT+range":    {MinAmount: 30_000, MaxAmount: 60_000, Currency: "KZT", From: from, To: to},
		"from 90k only":     {MinAmount: 90_000},
		"under 20k":         {MaxAmount: 20_000},
		"USD only":          {Currency: "USD"},
		"empty band":        {MinAmount: 60_000, MaxAmount: 60_000},
		"band out of range": {MinAmount: 200_000, MaxAmount: 300_000},
	}
	sorts := []graph.TxSort{graph.SortTimeDesc, graph.SortTimeAsc, graph.SortAmountDesc, graph.SortAmountAsc}
	for name, q := range queries {
		// One instrument's listing, then the holder's merged listing.
		for _, owners := range [][]graph.Ref{held[:1], held} {
			want, wantTotals := bandOracle(r, owners, q)
			if len(owners) > 1 && name != "empty band" && name != "band out of range" {
				all, _ := bandOracle(r, owners, graph.TxQuery{From: q.From, To: q.To})
				if len(want) == 0 || len(want) == len(all) {
					t.Fatalf("%s keeps %d of %d rows: not a test", name, len(want), len(all))
				}
			}
			list := func(q graph.TxQuery) (graph.TxPage, error) {
				if len(owners) == 1 {
					return db.Transactions(ctx, owners[0], q)
				}
				return db.TransactionsOf(ctx, owners, q)
			}
			for _, s := range sorts {
				q := q
				q.Sort = s
				whole, err := list(q)
				if err != nil {
					t.Fatal(err)
				}
				if whole.Total != wantTotals.Total || whole.In != wantTotals.In || whole.Out != wantTotals.Out {
					t.Errorf("%s, %d owners, sort %d: totals %d/%d/%d, want %d/%d/%d", name, len(owners), s,
						whole.Total, whole.In, whole.Out, wantTotals.Total, wantTotals.In, wantTotals.Out)
				}
				got := map[string]bool{}
				for i, x := range whole.Txns {
					owner := owners[0]
					if len(owners) > 1 {
						owner = x.Via
					}
					k := rowKey(x, owner)
					if !want[k] || got[k] {
						t.Fatalf("%s, %d owners, sort %d: row %s not in the band or listed twice", name, len(owners), s, k)
					}
					got[k] = true
					if i == 0 {
						continue
					}
					prev := whole.Txns[i-1]
					if (s == graph.SortTimeDesc && x.Time.After(prev.Time)) || (s == graph.SortTimeAsc && x.Time.Before(prev.Time)) ||
						(s == graph.SortAmountDesc && x.Amount > prev.Amount) || (s == graph.SortAmountAsc && x.Amount < prev.Amount) {
						t.Fatalf("%s, %d owners, sort %d: out of order at %d", name, len(owners), s, i)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%s, %d owners, sort %d: %d rows, want %d", name, len(owners), s, len(got), len(want))
				}
				// Pages put together are the whole listing: the offset
				// counts rows in the band only.
				for _, size := range []int{1, 7} {
					var paged []graph.Txn
					for off := 0; ; off += size {
						q.Offset, q.Limit = off, size
						p, err := list(q)
						if err != nil {
							t.Fatal(err)
						}
						if p.Total != wantTotals.Total {
							t.Fatalf("%s page at %d: total %d, want %d", name, off, p.Total, wantTotals.Total)
						}
						paged = append(paged, p.Txns...)
						if len(p.Txns) < size {
							break
						}
					}
					ids := func(xs []graph.Txn) []string {
						var out []string
						for _, x := range xs {
							out = append(out, x.ID+"|"+x.Via.String())
						}
						return out
					}
					if !slices.Equal(ids(paged), ids(whole.Txns)) {
						t.Fatalf("%s, %d owners, sort %d, pages of %d:\n %v\nwant\n %v", name, len(owners), s, size,
							ids(paged), ids(whole.Txns))
					}
				}
			}
		}
	}
}

// A band with a currency keeps the rows stored without one as KZT.
func TestTransactionsBandCurrencyDefaultsToKZT(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	r := dataset(2, 20)
	for i := range r.txns {
		r.txns[i].Currency = ""
	}
	load(t, db, r)
	for _, c := range []struct {
		cur  string
		want bool
	}{{"KZT", true}, {"USD", false}} {
		p, err := db.Transactions(ctx, cardRef(0), graph.TxQuery{Currency: c.cur})
		if err != nil {
			t.Fatal(err)
		}
		if (p.Total > 0) != c.want || len(p.Txns) != p.Total {
			t.Errorf("currency %s: %d rows of %d, want some: %v", c.cur, len(p.Txns), p.Total, c.want)
		}
	}
}

// An activity counts its rows per currency, so the histogram can be
// labelled (and a band read) in the currency most rows are in.
func TestActivityCountsCurrencies(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	r, held := bandDataset()
	load(t, db, r)
	want := map[string]int{}
	for _, x := range r.txns {
		for _, o := range held {
			if x.From == o {
				want[x.Currency]++
			}
			if x.To == o {
				want[x.Currency]++
			}
		}
	}
	a, err := db.Activity(ctx, graph.ActivityQuery{Refs: held, Cols: 30})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 2 || !maps.Equal(a.Currencies, want) || a.MainCurrency() != "KZT" {
		t.Fatalf("currencies %v (main %s), want %v", a.Currencies, a.MainCurrency(), want)
	}
}
