package graph

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestRuleScratchIsPerNode: a worker reuses one ruleState (its scratch
// slices, ofChannel's among them) for every node; the hits are the same as
// with a fresh state per node, on a world where the rules that use the
// scratch (R1, R6, R12) fire several times next to ones that do not.
func TestRuleScratchIsPerNode(t *testing.T) {
	r := newRB()
	for k := 0; k < 6; k++ {
		base := 1000 * (k + 1)
		at := time.Duration(k) * 3 * day
		// R1: a fan-in cashed out (every other one: not enough cash out).
		x := r.card(base, base, "Kaspi Bank", "")
		for i := 0; i < 12; i++ {
			r.tx(r.card(base+100+i, base+100+i, "Halyk", ""), x, at+time.Duration(i)*40*time.Minute, 60000, ChannelTransfer)
		}
		r.tx(x, rATM(k), at+14*hr, 400000-int64(k%2)*350000, ChannelCashOut)
		r.tx(x, rATM(k), at+14*hr+5*time.Minute, 300000-int64(k%2)*250000, ChannelCashOut)
		// R6: cards of several holders at one ATM, close together or not.
		gap := 20 * time.Minute
		if k%3 == 2 {
			gap = 2 * hr
		}
		for i := 1; i <= 3; i++ {
			r.tx(r.card(base+200+i, base+200+i, "Kaspi Bank", ""), rATM(10+k), at+time.Duration(i)*gap, 100000, ChannelCashOut)
		}
		// R12: one card paying many recipients similar amounts.
		y := r.card(base+300, base+300, "Kaspi Bank", "")
		for i := 0; i < 10; i++ {
			a := int64(100000 + 1000*i)
			if k%2 == 1 {
				a = int64(10000 + 40000*i)
			}
			r.tx(y, r.card(base+400+i, base+400+i, "Halyk", ""), at+time.Duration(i)*20*time.Minute, a, ChannelTransfer,
				withDevice(fmt.Sprintf("D%d", i%3)))
		}
	}
	ix := r.b.Build()
	rr := newRuleRun(ix, DefaultRuleConfig())
	shared := rr.newState()
	var fresh []Hit
	for id := range ix.Len() {
		rr.node(shared, NodeID(id))
		st := rr.newState()
		rr.node(st, NodeID(id))
		fresh = append(fresh, st.hits...)
	}
	reused := shared.hits
	slices.SortFunc(reused, compareRuleHits)
	slices.SortFunc(fresh, compareRuleHits)
	if !reflect.DeepEqual(reused, fresh) {
		t.Fatalf("a reused state gave %d hits, a fresh one per node %d", len(reused), len(fresh))
	}
	fired := map[string]int{}
	for _, h := range fresh {
		fired[h.Rule]++
	}
	for _, rule := range []string{"R1", "R6", "R12"} {
		if fired[rule] < 2 {
			t.Errorf("%s fired %d times: the world does not exercise it", rule, fired[rule])
		}
	}
}
