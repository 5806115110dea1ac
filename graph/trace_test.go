package graph

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"
)

// flowGraph is a random money graph: cards pay each other, some pay ATMs
// and an exchange (which never pay on). Small amounts and a narrow time
// range make ties and partial lots common.
func flowGraph(r *rand.Rand, cards, txns int) *Index {
	b := NewIndexBuilder()
	sinks := []Ref{{Kind: KindATM, Key: "ATM1"}, {Kind: KindATM, Key: "ATM2"}, {Kind: KindExchange, Key: "ex.kz"}}
	for i := range txns {
		from := icard(r.IntN(cards))
		to := icard(r.IntN(cards))
		ch := ChannelTransfer
		if r.IntN(6) == 0 {
			to = sinks[r.IntN(len(sinks))]
			ch = ChannelCashOut
			if to.Kind == KindExchange {
				ch = ChannelTrade
			}
		}
		if from == to {
			continue
		}
		b.AddTxn(Txn{ID: fmt.Sprintf("t%04d", i), Time: ixT0.Add(time.Duration(r.IntN(txns)) * time.Hour),
			From: from, To: to, Amount: int64(1 + r.IntN(20)), Channel: ch})
	}
	return b.Build()
}

type unit struct {
	tainted bool
	depth   int
	arrived int64
	origin  uint32 // the transaction on which the unit first appeared
}

// ledgerOracle replays every transaction unit by unit with FIFO queues,
// tainting the units of root and following them: it returns what ended at
// sinks, what stayed, and what was lost at the hop limit, by node. It also
// returns the origin transactions of root's units.
func ledgerOracle(ix *Index, root uint32, maxHops int, dwell int64) (sink, stayed, lost map[NodeID]int64, origins map[uint32]int64) {
	sink, stayed, lost, origins = map[NodeID]int64{}, map[NodeID]int64{}, map[NodeID]int64{}, map[uint32]int64{}
	queues := make([][]unit, ix.Len())
	isSink := func(v NodeID) bool { k := ix.Kind(v); return k == KindATM || k == KindExchange || k == KindCash }
	for i := range uint32(ix.TxCount()) {
		from, to, amt, at := ix.TxFrom(i), ix.TxTo(i), ix.TxAmount(i), ix.TxTime(i)
		var moving []unit
		q := queues[from]
		for range amt {
			var u unit
			if len(q) > 0 {
				u, q = q[0], q[1:]
			} else {
				u = unit{origin: i}
			}
			if u.tainted && at-u.arrived > dwell {
				stayed[from]++
				u.tainted = false
			}
			moving = append(moving, u)
		}
		queues[from] = q
		if i == root {
			origins = map[uint32]int64{}
			for j := range moving {
				origins[moving[j].origin]++
				moving[j] = unit{tainted: true, depth: 0}
			}
		}
		for _, u := range moving {
			u.arrived = at
			if u.tainted {
				if i != root {
					u.depth++
				}
				switch {
				case isSink(to):
					sink[to]++
					u.tainted = false
				case u.depth >= maxHops:
					lost[to]++
					u.tainted = false
				}
			}
			queues[to] = append(queues[to], u)
		}
	}
	for v, q := range queues {
		for _, u := range q {
			if u.tainted && !isSink(NodeID(v)) {
				stayed[NodeID(v)]++
			}
		}
	}
	return sink, stayed, lost, origins
}

func traceTotals(tr FlowTrace) (sink, stayed, lost map[NodeID]int64, lostByTx map[uint32]int64) {
	sink, stayed, lost, lostByTx = map[NodeID]int64{}, map[NodeID]int64{}, map[NodeID]int64{}, map[uint32]int64{}
	for _, h := range tr.Hops {
		if h.End == EndCash || h.End == EndExchange {
			sink[h.Node] += h.Amount
		}
		if h.Stayed > 0 {
			stayed[h.Node] += h.Stayed
		}
		if h.Lost > 0 {
			lost[h.Node] += h.Lost
			lostByTx[h.Tx] += h.Lost
		}
	}
	return
}

func TestTraceFIFOMatchesLedger(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 60 {
		ix := flowGraph(r, 3+r.IntN(6), 10+r.IntN(60))
		if ix.TxCount() == 0 {
			continue
		}
		root := uint32(r.IntN(ix.TxCount()))
		maxHops := 1 + r.IntN(8)
		dwell := int64(1+r.IntN(40)) * 3600
		tr, err := Trace(context.Background(), ix, StartAtTx(root),
			TraceOptions{Forward: true, MaxHops: maxHops, MaxDwell: time.Duration(dwell) * time.Second, MaxNodes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		wantSink, wantStayed, wantLost, origins := ledgerOracle(ix, root, maxHops, dwell)
		gotSink, gotStayed, gotLost, _ := traceTotals(tr)
		if !maps.Equal(gotSink, wantSink) || !maps.Equal(gotStayed, wantStayed) || !maps.Equal(gotLost, wantLost) {
			t.Fatalf("round %d root %d hops %d dwell %dh:\nsink   %v want %v\nstayed %v want %v\nlost   %v want %v",
				round, root, maxHops, dwell/3600, gotSink, wantSink, gotStayed, wantStayed, gotLost, wantLost)
		}
		var ends int64
		for _, e := range tr.ByEnd {
			ends += e.Amount
		}
		if ends != tr.Hops[0].Amount {
			t.Fatalf("round %d: ends sum to %d, root carries %d", round, ends, tr.Hops[0].Amount)
		}
		// Backward, with no limits, every unit of the root is explained by
		// the transaction on which it left an opening balance.
		back, err := Trace(context.Background(), ix, StartAtTx(root),
			TraceOptions{MaxHops: 1000, MaxDwell: 1e5 * time.Hour, MaxNodes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, gotOrigins := traceTotals(back)
		if !maps.Equal(gotOrigins, origins) {
			t.Fatalf("round %d root %d: backward origins %v, want %v", round, root, gotOrigins, origins)
		}
		checkTimeRespecting(t, ix, tr, true)
		checkTimeRespecting(t, ix, back, false)
	}
}

func checkTimeRespecting(t *testing.T, ix *Index, tr FlowTrace, forward bool) {
	t.Helper()
	for i, h := range tr.Hops {
		if h.Parent < 0 || !tr.Hops[h.Parent].HasTx {
			continue
		}
		p := tr.Hops[h.Parent]
		later := h.Time > p.Time || (h.Time == p.Time && h.Tx > p.Tx)
		if !forward {
			later = p.Time > h.Time || (p.Time == h.Time && p.Tx > h.Tx)
		}
		if !later {
			t.Fatalf("hop %d (tx %d at %d) does not respect time after tx %d at %d", i, h.Tx, h.Time, p.Tx, p.Time)
		}
	}
}

func TestTraceProportional(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for round := range 40 {
		ix := flowGraph(r, 3+r.IntN(6), 10+r.IntN(60))
		if ix.TxCount() == 0 {
			continue
		}
		root := uint32(r.IntN(ix.TxCount()))
		for _, fwd := range []bool{true, false} {
			tr, err := Trace(context.Background(), ix, StartAtTx(root), TraceOptions{Forward: fwd, Proportional: true, MaxHops: 4})
			if err != nil {
				t.Fatal(err)
			}
			var ends int64
			for _, e := range tr.ByEnd {
				ends += e.Amount
			}
			// Rounding each share to a whole unit may gain or lose up to one per hop.
			if d := ends - tr.Hops[0].Amount; d > int64(len(tr.Hops)) || -d > int64(len(tr.Hops)) {
				t.Fatalf("round %d fwd %v: ends %d, root %d, %d hops", round, fwd, ends, tr.Hops[0].Amount, len(tr.Hops))
			}
			checkTimeRespecting(t, ix, tr, fwd)
		}
	}
}

// A dropper card gets a clean 100 and then a tainted 50, and cashes out 120
// and 30: FIFO gives the second withdrawal 20 of taint plus... the first 120
// takes the clean 100 and 20 tainted, the 30 takes the remaining 30 tainted.
// Proportional gives the first 120 a third tainted (40) and the rest (10) to the second.
func TestTraceFIFOAndHaircutByHand(t *testing.T) {
	b := NewIndexBuilder()
	victim, clean, drop := icard(1), icard(2), icard(3)
	atm := Ref{Kind: KindATM, Key: "A"}
	at := func(h int) time.Time { return ixT0.Add(time.Duration(h) * time.Hour) }
	b.AddTxn(Txn{ID: "a", Time: at(1), From: clean, To: drop, Amount: 100, Channel: ChannelTransfer})
	b.AddTxn(Txn{ID: "b", Time: at(2), From: victim, To: drop, Amount: 50, Channel: ChannelTransfer})
	b.AddTxn(Txn{ID: "c", Time: at(3), From: drop, To: atm, Amount: 120, Channel: ChannelCashOut})
	b.AddTxn(Txn{ID: "d", Time: at(4), From: drop, To: atm, Amount: 30, Channel: ChannelCashOut})
	ix := b.Build()
	root, _ := ix.LookupTx("b")
	for _, c := range []struct {
		prop bool
		want []int64
	}{{false, []int64{20, 30}}, {true, []int64{40, 10}}} {
		tr, err := Trace(context.Background(), ix, StartAtTx(root), TraceOptions{Forward: true, Proportional: c.prop})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, ch := range tr.Hops[0].Children {
			got = append(got, tr.Hops[ch].Amount)
			if tr.Hops[ch].End != EndCash {
				t.Errorf("child ends %v, want cash", tr.Hops[ch].End)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("proportional=%v: children %v, want %v", c.prop, got, c.want)
		}
		if tr.ByEnd[EndCash].Amount != 50 || tr.ByDepth[1].Hops != 2 {
			t.Errorf("proportional=%v: cash %d, depth-1 hops %d", c.prop, tr.ByEnd[EndCash].Amount, tr.ByDepth[1].Hops)
		}
	}
	// A dwell of 1h lets only the first withdrawal (1h after) through; the
	// second happens 2h after the taint arrived.
	tr, _ := Trace(context.Background(), ix, StartAtTx(root), TraceOptions{Forward: true, MaxDwell: time.Hour})
	if tr.ByEnd[EndCash].Amount != 20 || tr.ByEnd[EndStayed].Amount != 30 {
		t.Errorf("dwell 1h: cash %d stayed %d, want 20 and 30", tr.ByEnd[EndCash].Amount, tr.ByEnd[EndStayed].Amount)
	}
	// Backward from the first withdrawal: 100 from the clean card, 20 from the victim.
	c, _ := ix.LookupTx("c")
	back, _ := Trace(context.Background(), ix, StartAtTx(c), TraceOptions{})
	got := map[NodeID]int64{}
	for _, ch := range back.Hops[0].Children {
		got[back.Hops[ch].Node] += back.Hops[ch].Amount
	}
	vc, _ := ix.Lookup(victim)
	cc, _ := ix.Lookup(clean)
	if got[vc] != 20 || got[cc] != 100 {
		t.Errorf("backward sources %v", got)
	}
	// From a node: everything the drop card sent.
	dn, _ := ix.Lookup(drop)
	tr, _ = Trace(context.Background(), ix, StartAtNode(dn), TraceOptions{Forward: true})
	if tr.Hops[0].Amount != 150 || tr.ByEnd[EndCash].Amount != 150 {
		t.Errorf("node start: root %d cash %d", tr.Hops[0].Amount, tr.ByEnd[EndCash].Amount)
	}
}

func TestTraceDeterministicAndCancellable(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ix := flowGraph(r, 30, 3000)
	opt := TraceOptions{Forward: true, MaxHops: 6}
	a, err := Trace(context.Background(), ix, StartAtNode(0), opt)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Trace(context.Background(), ix, StartAtNode(0), opt)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("two runs differ")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Trace(ctx, ix, StartAtNode(0), opt); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
	if _, err := Trace(context.Background(), ix, StartAtTx(1<<30), opt); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want not found", err)
	}
}

// A trace from a holder starts from all their instruments: the root is the
// holder, one child per instrument that moved money, each carrying what a
// trace from that instrument alone carries; money between the holder's own
// instruments is not followed.
func TestTraceFromHolder(t *testing.T) {
	person := Ref{Kind: KindPerson, Key: "850312300002"}
	b := NewIndexBuilder()
	b.AddEntity(Entity{Ref: person, Name: "Ахметов"})
	for i := range 3 {
		b.AddLink(Link{From: person, To: icard(i), Type: LinkHolds})
	}
	atm := Ref{Kind: KindATM, Key: "ATM1"}
	add := func(id string, h int, from, to Ref, amt int64, ch Channel) {
		b.AddTxn(Txn{ID: id, Time: ixT0.Add(time.Duration(h) * time.Hour), From: from, To: to, Amount: amt, Channel: ch})
	}
	add("in0", 0, icard(7), icard(0), 1000, ChannelTransfer)
	add("in1", 0, icard(8), icard(1), 500, ChannelTransfer)
	add("own", 1, icard(0), icard(1), 300, ChannelTransfer) // between the holder's own cards
	add("out0", 2, icard(0), icard(9), 700, ChannelTransfer)
	add("cash", 3, icard(9), atm, 700, ChannelCashOut)
	add("out1", 2, icard(1), atm, 400, ChannelCashOut)
	ix := b.Build()
	p, _ := ix.Lookup(person)
	var held []NodeID
	for i := range 3 {
		n, _ := ix.Lookup(icard(i))
		held = append(held, n)
	}
	ctx := context.Background()
	tr, err := Trace(ctx, ix, StartAtHolder(p, held), TraceOptions{Forward: true})
	if err != nil {
		t.Fatal(err)
	}
	root := tr.Hops[0]
	if root.Node != p || root.Amount != 1100 || len(root.Children) != 2 {
		t.Fatalf("root %+v: want the person with 1,100 sent by 2 cards (the 300 between own cards not followed)", root)
	}
	for _, c := range root.Children {
		h := tr.Hops[c]
		alone, err := Trace(ctx, ix, StartAtNode(h.Node), TraceOptions{Forward: true})
		if err != nil {
			t.Fatal(err)
		}
		own := int64(0)
		for _, e := range ix.OutTx(h.Node) {
			if e.Other == held[0] || e.Other == held[1] || e.Other == held[2] {
				own += e.Amount
			}
		}
		if h.Depth != 1 || h.HasTx || h.Amount != alone.Hops[0].Amount-own {
			t.Errorf("instrument hop %s: depth %d amount %d, alone it sends %d of which %d to own cards", ix.Ref(h.Node), h.Depth, h.Amount, alone.Hops[0].Amount, own)
		}
	}
	var ends int64
	for _, e := range tr.ByEnd {
		ends += e.Amount
	}
	if ends != root.Amount || tr.ByEnd[EndCash].Amount != 1100 {
		t.Errorf("ends %+v add up to %d, want the root's %d all in cash", tr.ByEnd, ends, root.Amount)
	}
	// Backward: where the holder's money came from.
	back, err := Trace(ctx, ix, StartAtHolder(p, held), TraceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Hops[0].Amount != 1500 {
		t.Errorf("backward root %d, want 1,500 received from outside", back.Hops[0].Amount)
	}
}
