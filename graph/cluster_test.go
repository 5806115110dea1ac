package graph

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestComponentsMatchLabelling(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for round := range 40 {
		n := 5 + r.IntN(30)
		ix := mixedGraph(r, n, r.IntN(2*n), r.IntN(2*n))
		comps, err := Components(context.Background(), ix, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Oracle: flood fill over identity links only.
		adj := adjacency(ix, false, nil, IdentityRelations&^MoneyRelations)
		label := make([]int, ix.Len())
		for i := range label {
			label[i] = -1
		}
		var want [][]NodeID
		for s := range NodeID(ix.Len()) {
			if label[s] >= 0 {
				continue
			}
			label[s] = len(want)
			comp := []NodeID{s}
			for i := 0; i < len(comp); i++ {
				for _, u := range adj[comp[i]] {
					if label[u] < 0 {
						label[u] = label[s]
						comp = append(comp, u)
					}
				}
			}
			if len(comp) > 1 {
				slices.Sort(comp)
				want = append(want, comp)
			}
		}
		slices.SortStableFunc(want, func(a, b []NodeID) int {
			if len(a) != len(b) {
				return len(b) - len(a)
			}
			return int(a[0]) - int(b[0])
		})
		var got [][]NodeID
		for _, c := range comps {
			got = append(got, c.Nodes)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d:\n got %v\nwant %v", round, got, want)
		}
	}
}

// plantedGroups builds g groups of size cards each, with dense money inside
// a group and a few weak transfers between groups, each card held by a person.
func plantedGroups(r *rand.Rand, g, size int) *Index {
	b := NewIndexBuilder()
	c := func(grp, i int) Ref { return icard(grp*1000 + i) }
	id := 0
	for grp := range g {
		for i := range size {
			b.AddLink(Link{From: iperson(grp*1000 + i), To: c(grp, i), Type: LinkHolds})
			for range 4 {
				j := r.IntN(size)
				if j == i {
					continue
				}
				b.AddTxn(Txn{ID: fmt.Sprint(id), Time: ixT0.Add(time.Duration(id) * time.Minute), From: c(grp, i), To: c(grp, j),
					Amount: 100_000 + int64(r.IntN(1000)), Channel: ChannelTransfer})
				id++
			}
		}
		if grp > 0 {
			b.AddTxn(Txn{ID: fmt.Sprint(id), Time: ixT0, From: c(grp, 0), To: c(grp-1, 1), Amount: 10, Channel: ChannelTransfer})
			id++
		}
	}
	// Cash withdrawals from every card: the cash node must not glue groups.
	for grp := range g {
		for i := range size {
			b.AddTxn(Txn{ID: fmt.Sprint(id), Time: ixT0, From: c(grp, i), To: CashRef, Amount: 500_000, Channel: ChannelCashOut})
			id++
		}
	}
	return b.Build()
}

func TestCommunitiesFindPlantedGroups(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	ix := plantedGroups(r, 6, 8)
	cs, err := Communities(context.Background(), ix, CommunityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 6 {
		t.Fatalf("%d communities, want 6: %+v", len(cs), cs)
	}
	for i, c := range cs {
		grp := ix.Ref(c.Instruments[0]).Key[12:13]
		for _, v := range c.Instruments {
			if ix.Ref(v).Key[12:13] != grp {
				t.Errorf("community %d mixes groups: %v", i, c.Instruments)
			}
		}
		if len(c.Instruments) != 8 || len(c.Members) != 8 || c.Turnover <= 0 || c.TxCount == 0 || c.First > c.Last {
			t.Errorf("community %d: %d instruments, %d members, turnover %d", i, len(c.Instruments), len(c.Members), c.Turnover)
		}
		if i > 0 && cs[i-1].Turnover < c.Turnover {
			t.Error("not sorted by turnover")
		}
	}
	again, _ := Communities(context.Background(), ix, CommunityOptions{})
	if fmt.Sprint(again) != fmt.Sprint(cs) {
		t.Error("two runs differ")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Communities(ctx, ix, CommunityOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
}

func TestCommunitiesAreConnected(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	for round := range 30 {
		n := 5 + r.IntN(40)
		ix := mixedGraph(r, n, 0, r.IntN(4*n))
		cs, err := Communities(context.Background(), ix, CommunityOptions{Resolution: 0.5 + r.Float64()})
		if err != nil {
			t.Fatal(err)
		}
		adj := adjacency(ix, false, nil, MoneyRelations)
		seen := map[NodeID]bool{}
		for _, c := range cs {
			in := map[NodeID]bool{}
			for _, v := range c.Instruments {
				if seen[v] {
					t.Fatalf("round %d: node %d in two communities", round, v)
				}
				seen[v], in[v] = true, true
			}
			reached := map[NodeID]bool{c.Instruments[0]: true}
			stack := []NodeID{c.Instruments[0]}
			for len(stack) > 0 {
				v := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				for _, u := range adj[v] {
					if in[u] && !reached[u] {
						reached[u] = true
						stack = append(stack, u)
					}
				}
			}
			if len(reached) != len(c.Instruments) {
				t.Fatalf("round %d: community %v is not connected", round, c.Instruments)
			}
		}
	}
}
