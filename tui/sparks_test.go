package tui

import (
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/tui/chart"
)

// Each neighbour row with money carries a sparkline of the transactions
// with that counterparty, one cell per period of the entity's span.
func TestNeighborSparklines(t *testing.T) {
	m, f := newModel(t, 160, 45, Options{Start: &refCard})
	series, ok := m.ent.sparks[refExchange]
	if !ok {
		t.Fatalf("no series for the exchange: %v", m.ent.sparks)
	}
	// The same buckets, counted here from the fake's rows.
	a, _ := f.Activity(m.ctx, graph.ActivityQuery{Refs: []graph.Ref{refCard}, Cols: sparkW, Loc: m.loc})
	want := make([]int, len(a.Buckets))
	for _, x := range f.txns {
		if x.From == refCard && x.To == refExchange {
			want[a.BucketOf(x.Time)]++
		}
	}
	if len(series) != len(want) {
		t.Fatalf("series %v, want %v", series, want)
	}
	for i := range want {
		if series[i] != want[i] {
			t.Fatalf("series %v, want %v", series, want)
		}
	}
	line := ""
	for _, l := range strings.Split(screenText(m), "\n") {
		if strings.Contains(l, "trade") && strings.Contains(l, "ТенгеОбмен24") && strings.Contains(l, "×32") {
			line = l
		}
	}
	if !strings.Contains(line, chart.Sparkline(want, sparkW)) {
		t.Fatalf("trade row %q lacks its sparkline %q", line, chart.Sparkline(want, sparkW))
	}
}

// The flag list asks for the sparklines of the rows on screen only, and
// draws each row's.
func TestFlagSparklines(t *testing.T) {
	m, f := newModel(t, 160, 45, Options{Start: &refCard})
	press(t, m, "F")
	v := &m.ana.flags
	if len(v.list.Rows) == 0 {
		t.Fatal("no flags")
	}
	for _, r := range v.list.Rows {
		s, ok := v.sparks[r.Ref]
		if !ok || s == nil {
			t.Fatalf("row %s has no sparkline: %v", r.Ref, v.sparks)
		}
	}
	card := v.sparks[refCard]
	a, _ := f.Activity(m.ctx, graph.ActivityQuery{Refs: []graph.Ref{refCard}, Cols: sparkW, Loc: m.loc})
	n := 0
	for _, c := range card {
		n += c
	}
	if n != a.InCount+a.OutCount {
		t.Fatalf("card sparkline counts %d rows, want %d", n, a.InCount+a.OutCount)
	}
	requireContains(t, m, "activity", chart.Sparkline(card, sparkW))

	// A list showing one row asks for that row's sparkline only, and for
	// the next one when the cursor scrolls to it.
	v.sparks = nil
	v.nav.SetHeight(1)
	cmd := m.flagSparks()
	if len(v.sparks) != 1 || len(v.nav.Visible()) != 1 {
		t.Fatalf("asked for %d sparklines with %d rows on screen", len(v.sparks), len(v.nav.Visible()))
	}
	run(t, m, cmd())
	press(t, m, "down")
	if len(v.sparks) != 2 || v.sparks[v.list.Rows[1].Ref] == nil {
		t.Fatalf("scrolling to row 2 asked for %d sparklines: %v", len(v.sparks), v.sparks)
	}
}
