package store

import (
	"testing"
	"time"

	"casegraph/graph"
)

// Activity over an entity's whole span reconciles with its transaction
// totals, bucket by bucket with the rows a ranged page lists.
func TestActivityReconcilesWithTransactions(t *testing.T) {
	db := openTemp(t)
	r := dataset(7, 3000)
	load(t, db, r)
	c := cardRef(3)
	page, err := db.Transactions(ctx, c, graph.TxQuery{Sort: graph.SortTimeAsc})
	if err != nil {
		t.Fatal(err)
	}
	almaty := time.FixedZone("ALMT", 5*3600)
	a, err := db.Activity(ctx, graph.ActivityQuery{Refs: []graph.Ref{c}, Cols: 20, Loc: almaty,
		Thresholds: map[string]int64{"KZT": 50_000}, Series: graph.SeriesByCounterparty})
	if err != nil {
		t.Fatal(err)
	}
	if a.In != page.In || a.Out != page.Out || a.InCount+a.OutCount != page.Total {
		t.Fatalf("activity in %d out %d rows %d; transactions in %d out %d rows %d",
			a.In, a.Out, a.InCount+a.OutCount, page.In, page.Out, page.Total)
	}
	if !a.First.Equal(page.Txns[0].Time) || !a.Last.Equal(page.Txns[len(page.Txns)-1].Time) {
		t.Errorf("span %v…%v, rows %v…%v", a.First, a.Last, page.Txns[0].Time, page.Txns[len(page.Txns)-1].Time)
	}
	if len(a.Buckets) > 20 {
		t.Errorf("%d buckets for 20 cells", len(a.Buckets))
	}
	if a.Hist.Total() != page.Total {
		t.Errorf("histogram holds %d amounts of %d", a.Hist.Total(), page.Total)
	}
	series := 0
	for _, s := range a.Series {
		for _, n := range s {
			series += n
		}
	}
	if series != page.Total {
		t.Errorf("counterparty series hold %d rows of %d", series, page.Total)
	}
	// Each bucket's range, asked as a transaction page, lists its rows and
	// sums to its figures.
	for i, b := range a.Buckets {
		from, to := a.BucketRange(i, i)
		p, err := db.Transactions(ctx, c, graph.TxQuery{Sort: graph.SortAmountDesc, From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != b.InCount+b.OutCount || p.In != b.In || p.Out != b.Out || len(p.Txns) != p.Total {
			t.Errorf("bucket %d: page %d rows (%d listed) in %d out %d; bucket %d in %d out %d",
				i, p.Total, len(p.Txns), p.In, p.Out, b.InCount+b.OutCount, b.In, b.Out)
		}
		for _, x := range p.Txns {
			if x.Time.Before(from) || !x.Time.Before(to) {
				t.Errorf("bucket %d [%v, %v) lists a row at %v", i, from, to, x.Time)
			}
		}
	}
}

// A ranged page keeps the rows in [From, To) in either time order, with
// offsets counted inside the range.
func TestTransactionsRange(t *testing.T) {
	db := openTemp(t)
	load(t, db, dataset(3, 600))
	c := cardRef(1)
	all, err := db.Transactions(ctx, c, graph.TxQuery{Sort: graph.SortTimeAsc})
	if err != nil {
		t.Fatal(err)
	}
	from, to := all.Txns[10].Time, all.Txns[50].Time
	var want []string
	for _, x := range all.Txns {
		if !x.Time.Before(from) && x.Time.Before(to) {
			want = append(want, x.ID)
		}
	}
	for _, sort := range []graph.TxSort{graph.SortTimeAsc, graph.SortTimeDesc} {
		var got []string
		for off := 0; ; off += 7 {
			p, err := db.Transactions(ctx, c, graph.TxQuery{Sort: sort, Offset: off, Limit: 7, From: from, To: to})
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != len(want) {
				t.Fatalf("sort %d: total %d, want %d", sort, p.Total, len(want))
			}
			if len(p.Txns) == 0 {
				break
			}
			for _, x := range p.Txns {
				got = append(got, x.ID)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("sort %d: paged %d rows, want %d", sort, len(got), len(want))
		}
		for i := range got {
			j := i
			if sort == graph.SortTimeDesc {
				j = len(want) - 1 - i
			}
			if got[i] != want[j] {
				t.Fatalf("sort %d row %d: %s, want %s", sort, i, got[i], want[j])
			}
		}
	}
}

func TestActivityEmpty(t *testing.T) {
	db := openTemp(t)
	a, err := db.Activity(ctx, graph.ActivityQuery{Refs: []graph.Ref{cardRef(9)}, Cols: 10})
	if err != nil {
		t.Fatal(err)
	}
	if a.InCount+a.OutCount != 0 || len(a.Buckets) != 1 {
		t.Errorf("empty activity: %+v", a)
	}
}

// BenchmarkActivityHub buckets a 50k-transaction card: the timeline
// (one series), and the sparklines by counterparty (1,000 of them).
func BenchmarkActivityHub(b *testing.B) {
	db, hub := hubDB(b)
	th := map[string]int64{"KZT": 500_000_00}
	for _, s := range []struct {
		name   string
		cols   int
		series graph.SeriesBy
	}{{"timeline-200", 200, graph.SeriesNone}, {"sparklines-12", 12, graph.SeriesByCounterparty}} {
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				a, err := db.Activity(ctx, graph.ActivityQuery{Refs: []graph.Ref{hub}, Cols: s.cols, Thresholds: th, Series: s.series})
				if err != nil || a.InCount+a.OutCount != 50_000 {
					b.Fatalf("activity: %d rows, %v", a.InCount+a.OutCount, err)
				}
			}
		})
	}
}
