package workbench

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/tui"
)

// A person's money is that of the cards they hold: the combined totals are
// the sum of the cards' totals, the merged listing pages through every row
// in time order, one card at a time narrows it, the counterparties name
// the card they came through.
func TestHolderMoney(t *testing.T) {
	wb := analyticsBackend(t)
	ctx := context.Background()
	h, err := wb.Holdings(ctx, dropper1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.Total != 3 || len(h.Items) != 3 {
		t.Fatalf("holdings %+v", h)
	}
	var sum graph.TxPage
	for _, it := range h.Items {
		p, err := wb.Transactions(ctx, it.Ref, graph.TxQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != it.Txns {
			t.Errorf("%s: %d transactions listed, %d on its page", it.Ref, it.Txns, p.Total)
		}
		sum.Total, sum.In, sum.Out = sum.Total+p.Total, sum.In+p.In, sum.Out+p.Out
	}
	all, err := wb.Transactions(ctx, dropper1, graph.TxQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total == 0 || all.Total != sum.Total || all.In != sum.In || all.Out != sum.Out || h.Txns != sum.Total || len(all.Txns) != sum.Total {
		t.Fatalf("person %d/%d/%d (%d rows, holdings %d), cards %d/%d/%d", all.Total, all.In, all.Out, len(all.Txns), h.Txns, sum.Total, sum.In, sum.Out)
	}
	var paged []graph.Txn
	for off := 0; off < all.Total+3; off += 4 {
		p, err := wb.Transactions(ctx, dropper1, graph.TxQuery{Offset: off, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, p.Txns...)
	}
	if len(paged) != len(all.Txns) {
		t.Fatalf("paged %d rows, want %d", len(paged), len(all.Txns))
	}
	for i := range paged {
		if paged[i].ID != all.Txns[i].ID || paged[i].Via != all.Txns[i].Via {
			t.Fatalf("page row %d: %s via %s, want %s via %s", i, paged[i].ID, paged[i].Via, all.Txns[i].ID, all.Txns[i].Via)
		}
		if i > 0 && paged[i].Time.After(paged[i-1].Time) {
			t.Fatalf("row %d out of time order", i)
		}
	}
	one, err := wb.Transactions(ctx, dropper1, graph.TxQuery{Via: h.Items[0].Ref})
	if err != nil || one.Total != h.Items[0].Txns {
		t.Fatalf("one card: %d rows, want %d (%v)", one.Total, h.Items[0].Txns, err)
	}
	for _, tx := range one.Txns {
		if tx.Via != h.Items[0].Ref {
			t.Fatalf("the narrowed listing holds a row of %s", tx.Via)
		}
	}
	if _, err := wb.Transactions(ctx, dropper1, graph.TxQuery{Via: victim}); err == nil {
		t.Error("narrowing to a card the person does not hold is not an error")
	}
	nbs, _, err := wb.HolderNeighbors(ctx, dropper1, graph.Ref{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	money := 0
	for _, n := range nbs {
		if n.Via.IsZero() {
			continue
		}
		money += n.Count
	}
	if money != sum.Total {
		t.Errorf("counterparty rows count %d transactions, the cards %d", money, sum.Total)
	}
	// A card is not a holder: its listing is its own.
	card, err := wb.Transactions(ctx, chainA, graph.TxQuery{})
	if err != nil || len(card.Txns) == 0 || !card.Txns[0].Via.IsZero() {
		t.Errorf("a card's listing: %v %+v", err, card.Txns)
	}
}

// A trace from a person starts from all the cards they hold: its root is
// the person and carries what the cards sent, one child per card.
func TestTraceFromPerson(t *testing.T) {
	wb := analyticsBackend(t)
	ctx := context.Background()
	if err := wb.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, back := range []bool{false, true} {
		tr, err := wb.Trace(ctx, tui.TraceQuery{Ref: dropper1, Backward: back})
		if err != nil {
			t.Fatal(err)
		}
		root := tr.Nodes[0]
		if root.Ref != dropper1 || root.Amount <= 0 || len(root.Children) == 0 {
			t.Fatalf("backward %v: root %+v", back, root)
		}
		var cards int64
		for _, c := range root.Children {
			n := tr.Nodes[c]
			if n.Ref.Kind != graph.KindCard || n.TxID != "" {
				t.Errorf("backward %v: first level %s %q is not a held card", back, n.Ref, n.TxID)
			}
			cards += n.Amount
		}
		if cards != root.Amount {
			t.Errorf("backward %v: cards carry %d, the person %d", back, cards, root.Amount)
		}
	}
}

// In the TUI, a person's page lists the money of their cards and t traces
// from all of them, at 80×24 and 160×45.
func TestTUIPersonMoneyAndTrace(t *testing.T) {
	dir := importTestdata(t, "rules")
	for _, size := range [][2]int{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			wb := openWB(t, dir, true)
			all, err := wb.Transactions(context.Background(), dropper1, graph.TxQuery{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			start := dropper1
			d := newTUI(t, wb, tui.Options{Start: &start}, size[0], size[1])
			d.requires("3 instruments", fmt.Sprintf("%d tx · in", all.Total), "Transactions of 3 instruments", fmt.Sprintf("of %d", all.Total))
			if strings.Contains(d.screen(), "no transactions") {
				t.Fatalf("the person has no money:\n%s", d.screen())
			}
			d.keys("i")
			d.requires("Transactions of 4400 43")
			d.keys("t")
			d.requires("Where the money went", "▾ Дроппер 1", "▾ 4400 43", "traced 950,000 ₸")
		})
	}
}

// A path from a person starts from what they hold: the first step is the
// holds link to one of their cards, then the money.
func TestPathFromPerson(t *testing.T) {
	wb := analyticsBackend(t)
	ctx := context.Background()
	if err := wb.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	h, err := wb.Holdings(ctx, dropper1, 0)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := wb.Paths(ctx, dropper1, chainB, 3, 4)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no path from the person to %s: %v", chainB, err)
	}
	steps := paths[0].Steps
	held := false
	for _, it := range h.Items {
		held = held || len(steps) > 1 && steps[1].Ref == it.Ref
	}
	if steps[0].Ref != dropper1 || !held || steps[1].Relation != graph.LinkHolds.String() || !steps[len(steps)-1].Money {
		t.Errorf("path %+v: want the person, a held card over holds, then money", steps)
	}
}
