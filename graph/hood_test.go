package graph

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// memGraph is a tiny undirected-storage, directed-meaning graph for tests.
type memGraph struct {
	rows  map[Ref][]Neighbor
	calls []Ref
}

func newMemGraph() *memGraph { return &memGraph{rows: make(map[Ref][]Neighbor)} }

// add records that from relates to to (from pays to, or from holds to).
func (g *memGraph) add(from, to Ref, rel string, count int, amount int64) {
	g.rows[from] = append(g.rows[from], Neighbor{Ref: to, Name: "n-" + to.Key, Relation: rel, Dir: DirOut, Count: count, Amount: amount})
	g.rows[to] = append(g.rows[to], Neighbor{Ref: from, Name: "n-" + from.Key, Relation: rel, Dir: DirIn, Count: count, Amount: amount})
}

func (g *memGraph) neighbors(_ context.Context, r Ref) ([]Neighbor, error) {
	g.calls = append(g.calls, r)
	return g.rows[r], nil
}

func card(k string) Ref   { return Ref{Kind: KindCard, Key: k} }
func person(k string) Ref { return Ref{Kind: KindPerson, Key: k} }

// smallGraph: a person holding two cards, a third card paying both, both
// cashing out, and a card only reachable through cash.
func smallGraph() (g *memGraph, p, c1, c2, c3 Ref) {
	g = newMemGraph()
	p = person("p1")
	c1, c2, c3 = card("c1"), card("c2"), card("c3")
	g.add(p, c1, "holds", 1, 0)
	g.add(p, c2, "holds", 1, 0)
	g.add(c3, c1, "transfer", 2, 500)
	g.add(c3, c2, "transfer", 5, 900)
	g.add(c1, CashRef, "cash_out", 1, 400)
	g.add(c2, CashRef, "cash_out", 1, 800)
	g.add(CashRef, card("c9"), "topup", 1, 100) // only reachable through cash
	return g, p, c1, c2, c3
}

func TestExpandSmall(t *testing.T) {
	g, p, c1, c2, c3 := smallGraph()

	h, err := Expand(context.Background(), c3, HoodOptions{Hops: 3}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range h.Nodes {
		got = append(got, fmt.Sprintf("%s@%d", n.Ref, n.Hop))
	}
	// c2 first: the heavier edge. Cash is listed at hop 2 but never expanded, so c9 is absent.
	want := []string{"card:c3@0", "card:c2@1", "card:c1@1", "cash@2", "iin:p1@2"}
	if !slices.Equal(got, want) {
		t.Fatalf("nodes = %v, want %v", got, want)
	}
	if slices.Contains(g.calls, CashRef) {
		t.Errorf("cash was expanded: calls %v", g.calls)
	}
	wantEdges := []HoodEdge{
		{From: c3, To: c2, Relation: "transfer", Count: 5, Amount: 900},
		{From: c3, To: c1, Relation: "transfer", Count: 2, Amount: 500},
		{From: c2, To: CashRef, Relation: "cash_out", Count: 1, Amount: 800},
		{From: p, To: c2, Relation: "holds", Count: 1},
		{From: c1, To: CashRef, Relation: "cash_out", Count: 1, Amount: 400},
		{From: p, To: c1, Relation: "holds", Count: 1},
	}
	if !slices.Equal(h.Edges, wantEdges) {
		t.Fatalf("edges =\n%v\nwant\n%v", h.Edges, wantEdges)
	}
	if h.Truncated {
		t.Error("unexpected truncation")
	}
	if h.Nodes[1].Name != "n-c2" {
		t.Errorf("name = %q", h.Nodes[1].Name)
	}

	// MinAmount drops light money edges but keeps links.
	h, err = Expand(context.Background(), c1, HoodOptions{Hops: 1, MinAmount: 450}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	var refs []Ref
	for _, n := range h.Nodes {
		refs = append(refs, n.Ref)
	}
	if !slices.Equal(refs, []Ref{c1, c3, p}) {
		t.Errorf("min amount nodes = %v", refs)
	}

	// Kinds filter.
	h, err = Expand(context.Background(), c1, HoodOptions{Hops: 2, Kinds: []Kind{KindPerson}}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	refs = refs[:0]
	for _, n := range h.Nodes {
		refs = append(refs, n.Ref)
	}
	if !slices.Equal(refs, []Ref{c1, p}) {
		t.Errorf("kind filter nodes = %v", refs)
	}

	// Truncation keeps the heaviest neighbours.
	h, err = Expand(context.Background(), c3, HoodOptions{Hops: 3, MaxNodes: 2}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Truncated || len(h.Nodes) != 2 || h.Nodes[1].Ref != c2 || len(h.Edges) != 1 {
		t.Errorf("truncated hood = %+v", h)
	}
}

func TestExpandHub(t *testing.T) {
	g := newMemGraph()
	hub := Ref{Kind: KindExchange, Key: "binance"}
	c := card("c0")
	g.add(c, hub, "transfer", 1, 10)
	for i := range HubDegree + 1 {
		g.add(card(fmt.Sprintf("x%03d", i)), hub, "transfer", 1, 1)
	}
	h, err := Expand(context.Background(), c, HoodOptions{Hops: 2}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Nodes) != 2 || !h.Nodes[1].Hub || h.Nodes[1].Degree != HubDegree+2 {
		t.Fatalf("hub not stopped: %d nodes, %+v", len(h.Nodes), h.Nodes[1])
	}
	// As the center a hub is expanded: every neighbour without folding,
	// else the heaviest few and one node for the rest.
	h, err = Expand(context.Background(), hub, HoodOptions{Hops: 1, MaxNodes: 1000, FoldAt: -1}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Nodes) != HubDegree+3 {
		t.Fatalf("hub center: %d nodes", len(h.Nodes))
	}
	h, err = Expand(context.Background(), hub, HoodOptions{Hops: 1, MaxNodes: 1000}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	last := h.Nodes[len(h.Nodes)-1]
	if len(h.Nodes) != FoldKeep+2 || h.Nodes[1].Ref != c || last.Folded != HubDegree+2-FoldKeep || last.Name != fmt.Sprintf("+%d transfer senders", HubDegree+2-FoldKeep) {
		t.Fatalf("hub center folded: %d nodes, first %v, last %+v", len(h.Nodes), h.Nodes[1].Ref, last)
	}
}

func TestExpandErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := Expand(context.Background(), card("a"), HoodOptions{}, func(context.Context, Ref) ([]Neighbor, error) {
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Expand(ctx, card("a"), HoodOptions{}, newMemGraph().neighbors)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// bruteHood computes by plain BFS what Expand must return without a node
// budget or folding: hop distances and the set of edges seen from expanded
// nodes, walking money only along its flow (upstream nodes' receipts,
// downstream nodes' payments).
func bruteHood(g *memGraph, center Ref, hops int) (map[Ref]int, map[HoodEdge]bool) {
	dist := map[Ref]int{center: 0}
	role := map[Ref]flow{center: flowNone}
	edges := map[HoodEdge]bool{}
	queue := []Ref{center}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if dist[u] >= hops || (u != center && u.Kind == KindCash) || (u != center && len(g.rows[u]) > HubDegree) {
			continue
		}
		for _, r := range sortedNeighbors(g.rows[u]) {
			money := isMonetary(r.Relation)
			if r.Ref != center && money && ((role[u] == flowUp && r.Dir == DirOut) || (role[u] == flowDown && r.Dir == DirIn)) {
				continue
			}
			if _, ok := dist[r.Ref]; !ok {
				dist[r.Ref] = dist[u] + 1
				queue = append(queue, r.Ref)
				switch {
				case role[u] != flowNone:
					role[r.Ref] = role[u]
				case !money:
					role[r.Ref] = flowNone
				case r.Dir == DirIn:
					role[r.Ref] = flowUp
				default:
					role[r.Ref] = flowDown
				}
			}
			e := HoodEdge{From: u, To: r.Ref, Relation: r.Relation, Count: r.Count, Amount: r.Amount}
			if r.Dir == DirIn {
				e.From, e.To = r.Ref, u
			}
			edges[e] = true
		}
	}
	return dist, edges
}

func TestExpandMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []Kind{KindPerson, KindCard, KindAccount, KindCash}
	for iter := range 300 {
		g := newMemGraph()
		n := 2 + rng.IntN(25)
		refs := make([]Ref, n)
		for i := range refs {
			k := kinds[rng.IntN(len(kinds))]
			refs[i] = Ref{Kind: k, Key: fmt.Sprint(i)}
			if k == KindCash {
				refs[i] = CashRef
			}
		}
		type pair struct{ a, b Ref }
		used := map[pair]bool{}
		for range rng.IntN(3 * n) {
			a, b := refs[rng.IntN(n)], refs[rng.IntN(n)]
			if a == b || used[pair{a, b}] || used[pair{b, a}] {
				continue
			}
			used[pair{a, b}] = true
			g.add(a, b, "transfer", 1+rng.IntN(3), int64(rng.IntN(5)*100))
		}
		center := refs[rng.IntN(n)]
		hops := 1 + rng.IntN(3)
		opt := HoodOptions{Hops: hops, MaxNodes: 1000, FoldAt: -1}
		dist, edges := bruteHood(g, center, hops)

		h, err := Expand(context.Background(), center, opt, g.neighbors)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Nodes) != len(dist) || h.Truncated {
			t.Fatalf("iter %d: %d nodes (truncated %v), brute force %d", iter, len(h.Nodes), h.Truncated, len(dist))
		}
		for _, nd := range h.Nodes {
			if d, ok := dist[nd.Ref]; !ok || d != nd.Hop {
				t.Fatalf("iter %d: node %s hop %d, brute force %d (%v)", iter, nd.Ref, nd.Hop, d, ok)
			}
		}
		if len(h.Edges) != len(edges) {
			t.Fatalf("iter %d: %d edges, brute force %d", iter, len(h.Edges), len(edges))
		}
		for _, e := range h.Edges {
			if !edges[e] {
				t.Fatalf("iter %d: unexpected edge %+v", iter, e)
			}
		}

		// A node budget keeps a BFS prefix with correct hops and no dangling edges.
		budget := 1 + rng.IntN(len(dist))
		opt.MaxNodes = budget
		ht, err := Expand(context.Background(), center, opt, g.neighbors)
		if err != nil {
			t.Fatal(err)
		}
		if len(ht.Nodes) != budget || ht.Truncated != (budget < len(dist)) {
			t.Fatalf("iter %d: budget %d gave %d nodes, truncated %v (full %d)", iter, budget, len(ht.Nodes), ht.Truncated, len(dist))
		}
		in := map[Ref]bool{}
		for i, nd := range ht.Nodes {
			if nd.Hop != dist[nd.Ref] || nd.Ref != h.Nodes[i].Ref {
				t.Fatalf("iter %d: budget node %d = %+v, full %+v", iter, i, nd, h.Nodes[i])
			}
			in[nd.Ref] = true
		}
		for _, e := range ht.Edges {
			if !in[e.From] || !in[e.To] || !edges[e] {
				t.Fatalf("iter %d: dangling or wrong edge %+v", iter, e)
			}
		}
	}
}

// TestExpandPrefetch: from the second hop on, Prefetch is given the nodes
// the hop reads, once, before nb reads them (never the center, never
// cash); every node nb reads after the first was named by an earlier call.
func TestExpandPrefetch(t *testing.T) {
	g, p, c1, c2, c3 := smallGraph()
	var calls [][]Ref
	named := map[Ref]bool{}
	var unnamed []Ref
	nb := func(ctx context.Context, r Ref) ([]Neighbor, error) {
		if r != c3 && !named[r] {
			unnamed = append(unnamed, r)
		}
		return g.neighbors(ctx, r)
	}
	opt := HoodOptions{Hops: 3, Prefetch: func(_ context.Context, refs []Ref) {
		calls = append(calls, slices.Clone(refs))
		for _, r := range refs {
			named[r] = true
		}
	}}
	if _, err := Expand(context.Background(), c3, opt, nb); err != nil {
		t.Fatal(err)
	}
	want := [][]Ref{{c2, c1}, {p}} // hop 2 reads c3's neighbours, hop 3 the person (cash is not read)
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("prefetches %v, want %v", calls, want)
	}
	if len(unnamed) > 0 {
		t.Errorf("read without a prefetch first: %v", unnamed)
	}
	if _, err := Expand(context.Background(), c3, HoodOptions{Hops: 1, Prefetch: opt.Prefetch}, nb); err != nil || len(calls) != 2 {
		t.Errorf("one hop reads the center alone and prefetches nothing: %d calls, %v", len(calls), err)
	}
}
