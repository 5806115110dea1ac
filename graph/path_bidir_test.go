package graph

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestShortestPathMatchesFullSearch compares the bidirectional shortest
// path with the full-distance depth-first search on larger random graphs,
// step by step (the edge of every step included), under every option,
// degree bounds too, which the enumeration oracle does not model.
func TestShortestPathMatchesFullSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	found := 0
	for round := range 600 {
		n := 10 + r.IntN(60)
		ix := mixedGraph(r, n, n+r.IntN(2*n), n+r.IntN(3*n))
		opt := PathOptions{MaxHops: 1 + r.IntN(MaxPathHops), Directed: r.IntN(3) == 0}
		if r.IntN(3) == 0 {
			opt.Relations = MoneyRelations
		}
		if r.IntN(4) == 0 {
			opt.Relations |= RelLink(LinkHolds)
		}
		if r.IntN(4) == 0 {
			opt.Kinds = []Kind{KindCard, KindPhone}
		}
		if r.IntN(3) == 0 {
			opt.MaxDegree = 3 + r.IntN(8)
		}
		a, b := NodeID(r.IntN(ix.Len())), NodeID(r.IntN(ix.Len()))
		got, ok, err := ShortestPath(context.Background(), ix, a, b, opt)
		if err != nil {
			t.Fatal(err)
		}
		p := newPather(context.Background(), ix, opt)
		p.start = a
		var want []Path
		if a == b {
			want = []Path{{{Node: a}}}
		} else if want, err = p.kShortest(a, b, 1); err != nil {
			t.Fatal(err)
		}
		if ok != (len(want) == 1) || (ok && !slices.Equal(got, want[0])) {
			t.Fatalf("round %d %d→%d %+v:\n got %v %v\nwant %v", round, a, b, opt, ok, got, want)
		}
		if ok {
			found++
			checkSteps(t, ix, got, opt)
		}
	}
	if found < 80 {
		t.Fatalf("only %d of 600 rounds found a path: the test is too weak", found)
	}
}

// TestMeetLength checks the bidirectional length against plain BFS over the
// oracle's adjacency.
func TestMeetLength(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	for round := range 200 {
		n := 5 + r.IntN(30)
		ix := mixedGraph(r, n, r.IntN(2*n), r.IntN(2*n))
		opt := PathOptions{MaxHops: 1 + r.IntN(MaxPathHops), Directed: r.IntN(2) == 0}
		a, b := NodeID(r.IntN(ix.Len())), NodeID(r.IntN(ix.Len()))
		if a == b {
			continue
		}
		adj := adjacency(ix, opt.Directed, nil, 0)
		dist := map[NodeID]int{a: 0}
		frontier := []NodeID{a}
		for d := 1; d <= opt.MaxHops && len(frontier) > 0; d++ {
			var next []NodeID
			for _, v := range frontier {
				for _, u := range adj[v] {
					if _, ok := dist[u]; !ok {
						dist[u] = d
						next = append(next, u)
					}
				}
			}
			frontier = next
		}
		want, ok := dist[b]
		if !ok {
			want = -1
		}
		p := newPather(context.Background(), ix, opt)
		p.start = a
		if got := p.meet(a, b).length; got != want {
			t.Fatalf("round %d %d→%d %s: length %d, want %d", round, a, b, fmt.Sprint(opt), got, want)
		}
	}
}
