package workbench

import (
	"context"
	"testing"

	"casegraph/graph"
)

// A person's activity is that of the cards they hold, each counted once,
// and it reconciles with the cards' transaction totals.
func TestActivityOfAPersonIsTheirInstruments(t *testing.T) {
	b := analyticsBackend(t)
	ctx := context.Background()
	holder := graph.Ref{Kind: graph.KindPerson, Key: "990101300102"}
	cards := []graph.Ref{
		{Kind: graph.KindCard, Key: "440043100000007"},
		{Kind: graph.KindCard, Key: "440043100001005"},
		{Kind: graph.KindCard, Key: "440043100002003"},
	}
	var in, out int64
	n := 0
	for _, c := range cards {
		p, err := b.Transactions(ctx, c, graph.TxQuery{Sort: graph.SortTimeAsc})
		if err != nil {
			t.Fatal(err)
		}
		in, out, n = in+p.In, out+p.Out, n+p.Total
	}
	if n == 0 {
		t.Fatal("the holder's cards have no transactions in testdata/rules")
	}
	a, err := b.Activity(ctx, graph.ActivityQuery{Refs: []graph.Ref{holder, cards[0]}, Cols: 30})
	if err != nil {
		t.Fatal(err)
	}
	if a.In != in || a.Out != out || a.InCount+a.OutCount != n {
		t.Fatalf("person activity in %d out %d rows %d; cards in %d out %d rows %d", a.In, a.Out, a.InCount+a.OutCount, in, out, n)
	}
	if a.Thresholds["KZT"] != 500_000_00 {
		t.Fatalf("thresholds %v", a.Thresholds)
	}
}
