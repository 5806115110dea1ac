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

// mixedGraph is a random graph of persons, cards and phones with holds and
// uses_phone links and transfers.
func mixedGraph(r *rand.Rand, n, links, txns int) *Index {
	b := NewIndexBuilder()
	for range links {
		p := iperson(r.IntN(n))
		if r.IntN(2) == 0 {
			b.AddLink(Link{From: p, To: icard(r.IntN(n)), Type: LinkHolds})
		} else {
			b.AddLink(Link{From: p, To: Ref{Kind: KindPhone, Key: fmt.Sprintf("+7701%07d", r.IntN(n/2+1))}, Type: LinkUsesPhone})
		}
	}
	for i := range txns {
		b.AddTxn(Txn{ID: fmt.Sprintf("t%d", i), Time: ixT0.Add(time.Duration(r.IntN(100)) * time.Hour),
			From: icard(r.IntN(n)), To: icard(r.IntN(n)), Amount: int64(1 + r.IntN(1000)), Channel: ChannelTransfer})
	}
	return b.Build()
}

// adjacency is the oracle's view: successors of each node under the options.
func adjacency(ix *Index, directed bool, kinds []Kind, rels RelSet) [][]NodeID {
	okKind := func(v NodeID) bool { return len(kinds) == 0 || slices.Contains(kinds, ix.Kind(v)) }
	adj := make([][]NodeID, ix.Len())
	add := func(a, b NodeID) {
		if a != b && !slices.Contains(adj[a], b) {
			adj[a] = append(adj[a], b)
		}
	}
	for i := range uint32(ix.TxCount()) {
		if !rels.HasChannel(ix.TxChannel(i)) {
			continue
		}
		a, b := ix.TxFrom(i), ix.TxTo(i)
		if okKind(b) {
			add(a, b)
		}
		if !directed && okKind(a) {
			add(b, a)
		}
	}
	for v := range NodeID(ix.Len()) {
		for _, l := range ix.Links(v) {
			if l.Out && rels.HasLink(l.Type) {
				if okKind(l.Other) {
					add(v, l.Other)
				}
				if !directed && okKind(v) {
					add(l.Other, v)
				}
			}
		}
	}
	return adj
}

// allSimplePaths enumerates every simple path from a to b of at most max hops.
func allSimplePaths(adj [][]NodeID, a, b NodeID, maxHops int) [][]NodeID {
	var out [][]NodeID
	path := []NodeID{a}
	var dfs func(v NodeID)
	dfs = func(v NodeID) {
		if v == b {
			out = append(out, slices.Clone(path))
			return
		}
		if len(path)-1 == maxHops {
			return
		}
		for _, u := range adj[v] {
			if !slices.Contains(path, u) {
				path = append(path, u)
				dfs(u)
				path = path[:len(path)-1]
			}
		}
	}
	dfs(a)
	return out
}

func pathNodes(p Path) []NodeID {
	var out []NodeID
	for _, s := range p {
		out = append(out, s.Node)
	}
	return out
}

func TestKShortestPathsMatchEnumeration(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for round := range 80 {
		n := 4 + r.IntN(8)
		ix := mixedGraph(r, n, r.IntN(3*n), r.IntN(3*n))
		if ix.Len() < 2 {
			continue
		}
		opt := PathOptions{MaxHops: 1 + r.IntN(5), Directed: r.IntN(2) == 0}
		if r.IntN(3) == 0 {
			opt.Relations = MoneyRelations
		}
		if r.IntN(4) == 0 {
			opt.Kinds = []Kind{KindCard, KindPhone}
		}
		a, b := NodeID(r.IntN(ix.Len())), NodeID(r.IntN(ix.Len()))
		if a == b {
			continue
		}
		all := allSimplePaths(adjacency(ix, opt.Directed, opt.Kinds, opt.Relations), a, b, opt.MaxHops)
		slices.SortFunc(all, func(x, y []NodeID) int {
			if len(x) != len(y) {
				return len(x) - len(y)
			}
			return slices.Compare(x, y)
		})
		k := 1 + r.IntN(6)
		got, err := KShortestPaths(context.Background(), ix, a, b, opt, k)
		if err != nil {
			t.Fatal(err)
		}
		want := all[:min(k, len(all))]
		var gotNodes [][]NodeID
		for _, p := range got {
			gotNodes = append(gotNodes, pathNodes(p))
			checkSteps(t, ix, p, opt)
		}
		if fmt.Sprint(gotNodes) != fmt.Sprint(want) {
			t.Fatalf("round %d %v→%v %+v k=%d:\n got %v\nwant %v", round, a, b, opt, k, gotNodes, want)
		}
		sp, ok, err := ShortestPath(context.Background(), ix, a, b, opt)
		if err != nil || ok != (len(all) > 0) || (ok && fmt.Sprint(pathNodes(sp)) != fmt.Sprint(all[0])) {
			t.Fatalf("round %d: shortest %v %v %v, want %v", round, pathNodes(sp), ok, err, all)
		}
	}
}

// checkSteps verifies that every step is a real edge of the allowed kind.
func checkSteps(t *testing.T, ix *Index, p Path, opt PathOptions) {
	t.Helper()
	for i := 1; i < len(p); i++ {
		prev, s := p[i-1].Node, p[i]
		if s.Money {
			from, to := ix.TxFrom(s.Tx), ix.TxTo(s.Tx)
			if !((from == prev && to == s.Node && s.Forward) || (!opt.Directed && from == s.Node && to == prev && !s.Forward)) {
				t.Fatalf("step %d: tx %d does not join %d and %d", i, s.Tx, prev, s.Node)
			}
			if ix.TxAmount(s.Tx) != s.Amount || ix.TxTime(s.Tx) != s.Time {
				t.Fatalf("step %d: amount or time wrong", i)
			}
			continue
		}
		found := false
		for _, l := range ix.Links(prev) {
			if l.Other == s.Node && l.Type == s.Link && l.Out == s.Forward {
				found = true
			}
		}
		if !found {
			t.Fatalf("step %d: no %s link between %d and %d", i, s.Link, prev, s.Node)
		}
	}
}

func TestNeighbourhoodMatchesBFS(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for round := range 60 {
		n := 4 + r.IntN(15)
		ix := mixedGraph(r, n, r.IntN(3*n), r.IntN(4*n))
		if ix.Len() == 0 {
			continue
		}
		f := HoodFilter{Hops: 1 + r.IntN(4), MaxNodes: 1 << 20}
		if r.IntN(3) == 0 {
			f.Kinds = []Kind{KindCard, KindPerson}
		}
		if r.IntN(3) == 0 {
			f.Relations = RelLink(LinkHolds) | RelChannel(ChannelTransfer)
		}
		c := NodeID(r.IntN(ix.Len()))
		g, err := Neighbourhood(context.Background(), ix, c, f)
		if err != nil {
			t.Fatal(err)
		}
		adj := adjacency(ix, false, f.Kinds, f.Relations)
		hopOf := map[NodeID]int{c: 0}
		frontier := []NodeID{c}
		for d := 1; d <= f.Hops; d++ {
			var next []NodeID
			for _, v := range frontier {
				for _, u := range adj[v] {
					if _, ok := hopOf[u]; !ok {
						hopOf[u] = d
						next = append(next, u)
					}
				}
			}
			frontier = next
		}
		if len(g.Nodes) != len(hopOf) {
			t.Fatalf("round %d: %d nodes, want %d", round, len(g.Nodes), len(hopOf))
		}
		for i, sn := range g.Nodes {
			if hopOf[sn.Node] != sn.Hop || (i > 0 && (g.Nodes[i-1].Hop > sn.Hop)) {
				t.Fatalf("round %d: node %d at hop %d, want %d", round, sn.Node, sn.Hop, hopOf[sn.Node])
			}
		}
		// Money edges between members add up to the transactions between them.
		var want, got int64
		for i := range uint32(ix.TxCount()) {
			_, okA := hopOf[ix.TxFrom(i)]
			_, okB := hopOf[ix.TxTo(i)]
			if okA && okB && f.Relations.HasChannel(ix.TxChannel(i)) {
				want += ix.TxAmount(i)
			}
		}
		for _, e := range g.Edges {
			if e.Money {
				got += e.Amount
			}
		}
		if got != want {
			t.Fatalf("round %d: edge amounts %d, want %d", round, got, want)
		}
	}
}

func TestNeighbourhoodBudgetAndTime(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	ix := mixedGraph(r, 200, 400, 2000)
	g, err := Neighbourhood(context.Background(), ix, 0, HoodFilter{Hops: 3, MaxNodes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 10 || !g.Truncated {
		t.Errorf("%d nodes, truncated %v; want 10, true", len(g.Nodes), g.Truncated)
	}
	c, _ := ix.Lookup(icard(1))
	from, to := ixT0.Add(10*time.Hour), ixT0.Add(20*time.Hour)
	g, _ = Neighbourhood(context.Background(), ix, c, HoodFilter{Hops: 2, From: from, To: to, MinAmount: 500, Relations: MoneyRelations, MaxNodes: 1 << 20})
	for _, e := range g.Edges {
		if e.First < from.Unix() || e.Last > to.Unix() || e.Amount < 500 {
			t.Errorf("edge %+v outside the filter", e)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big := mixedGraph(r, 3000, 3000, 30000)
	if _, err := Neighbourhood(ctx, big, 0, HoodFilter{Hops: 6, MaxNodes: 1 << 20}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
	if _, err := KShortestPaths(ctx, big, 0, 1, PathOptions{}, 3); !errors.Is(err, context.Canceled) {
		t.Errorf("paths err = %v, want canceled", err)
	}
}
