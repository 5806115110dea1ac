package tui

import (
	"context"

	"casegraph/graph"
)

// Activity buckets the fake's transactions with the real bucketing
// (graph.Activity.Add), as the store does over its rows.
func (f *fakeBackend) Activity(_ context.Context, q graph.ActivityQuery) (graph.Activity, error) {
	in := map[graph.Ref]bool{}
	for _, r := range q.Refs {
		in[r] = true
	}
	from, to := q.From, q.To
	var first, last graph.Txn
	n := 0
	for _, t := range f.txns {
		if in[t.From] || in[t.To] {
			if n == 0 || t.Time.Before(first.Time) {
				first = t
			}
			if n == 0 || t.Time.After(last.Time) {
				last = t
			}
			n++
		}
	}
	if from.IsZero() {
		from = first.Time
	}
	if to.IsZero() {
		to = last.Time.Add(1)
	}
	th := q.Thresholds
	if th == nil {
		th = graph.DefaultRuleConfig().ReportingThresholdMap()
	}
	a := graph.NewActivity(from, to, q.Cols, q.Loc)
	a.Thresholds = th
	if q.HistSeries {
		a.HistSeries = map[graph.Ref][]int{}
	}
	add := func(t graph.Txn, dir graph.Direction, owner, other graph.Ref) {
		key := owner
		if q.Series == graph.SeriesByCounterparty {
			key = other
		}
		if a.Add(t.Time, dir, t.Amount, graph.ThresholdOf(th, t.Currency), key, q.Series != graph.SeriesNone) {
			a.CountCurrency(t.Currency, 1)
		}
	}
	for _, r := range q.Refs {
		for _, t := range f.txns {
			if t.From == r {
				add(t, graph.DirOut, r, t.To)
			}
			if t.To == r {
				add(t, graph.DirIn, r, t.From)
			}
		}
	}
	return a, nil
}
