package graph

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

func hoodRefs(h Hood) []Ref {
	var refs []Ref
	for _, n := range h.Nodes {
		refs = append(refs, n.Ref)
	}
	return refs
}

// A payroll hub's forty recipients take one node of the budget, so three
// hops reach what lies three hops away on another branch.
func TestExpandFoldsHubLeaves(t *testing.T) {
	g := newMemGraph()
	c, hub, a, b, d := card("c"), Ref{Kind: KindAccount, Key: "payroll"}, card("a"), card("b"), card("d")
	g.add(c, hub, "transfer", 1, 90_000)
	for i := range 40 {
		g.add(hub, card(fmt.Sprintf("salary%02d", i)), "transfer", 1, int64(1000+i))
	}
	g.add(c, a, "transfer", 1, 500)
	g.add(a, b, "transfer", 1, 400)
	g.add(b, d, "transfer", 1, 300)
	h, err := Expand(context.Background(), c, HoodOptions{Hops: 3, MaxNodes: 20}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	refs := hoodRefs(h)
	if !slices.Contains(refs, d) || !slices.Contains(refs, b) {
		t.Fatalf("3 hops do not reach d: %v", refs)
	}
	var folded HoodNode
	for _, n := range h.Nodes {
		if n.Folded > 0 {
			folded = n
		}
	}
	if folded.Folded != 40-FoldKeep || folded.Name != fmt.Sprintf("+%d transfer recipients", 40-FoldKeep) || folded.Hop != 2 {
		t.Fatalf("folded node %+v", folded)
	}
	var sum int64
	for i := FoldKeep; i < 40; i++ {
		sum += int64(1000 + 39 - i)
	}
	for _, e := range h.Edges {
		if e.To == folded.Ref && (e.From != hub || e.Amount != sum || e.Count != 40-FoldKeep) {
			t.Fatalf("folded edge %+v, want from the hub, %d in %d", e, sum, 40-FoldKeep)
		}
	}
}

// A kind filter keeps that kind's nodes reached through any path, with the
// nodes on the way; an exclusion drops a kind and what lies only behind it.
func TestExpandKindFilterAndExclusion(t *testing.T) {
	g := newMemGraph()
	c, x, y := card("c"), card("x"), card("y")
	ex := Ref{Kind: KindExchange, Key: "tengeobmen"}
	p, q := person("p"), card("q")
	g.add(c, x, "transfer", 1, 900)
	g.add(x, ex, "trade", 1, 800)
	g.add(c, y, "transfer", 1, 100)
	g.add(p, c, "holds", 1, 0)
	g.add(p, q, "holds", 1, 0)
	h, err := Expand(context.Background(), c, HoodOptions{Hops: 2, Kinds: []Kind{KindExchange}}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hoodRefs(h), []Ref{c, x, ex}; !slices.Equal(got, want) {
		t.Fatalf("exchange filter: %v, want %v", got, want)
	}
	for _, e := range h.Edges {
		if e.From == y || e.To == y || e.From == p || e.To == p {
			t.Fatalf("edge to a dropped node: %+v", e)
		}
	}
	h, err = Expand(context.Background(), c, HoodOptions{Hops: 2, Exclude: []Kind{KindPerson}}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	if refs := hoodRefs(h); slices.Contains(refs, p) || slices.Contains(refs, q) || !slices.Contains(refs, ex) {
		t.Fatalf("excluding persons: %v", refs)
	}
}

// The senders' side holds who paid the senders, never whom else they
// paid; the payees' side the reverse.
func TestExpandFollowsTheFlow(t *testing.T) {
	g := newMemGraph()
	c, a, x, y, z, w := card("c"), card("a"), card("x"), card("y"), card("z"), card("w")
	g.add(a, c, "transfer", 1, 900) // a pays the center
	g.add(a, x, "transfer", 1, 800) // a's other payee
	g.add(y, a, "transfer", 1, 700) // who paid a
	g.add(c, z, "transfer", 1, 600) // the center pays z
	g.add(z, w, "transfer", 1, 500) // z pays on
	g.add(x, z, "transfer", 1, 50)  // z's other sender
	h, err := Expand(context.Background(), c, HoodOptions{Hops: 2, FoldAt: -1}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	refs := hoodRefs(h)
	if !slices.Contains(refs, y) || !slices.Contains(refs, w) || slices.Contains(refs, x) {
		t.Fatalf("nodes %v: want y (paid a) and w (paid by z), not x (a's and z's counter-flow)", refs)
	}
}

// A group draws its members and every edge between them, and nothing
// outside it.
func TestExpandGroup(t *testing.T) {
	g := newMemGraph()
	m1, m2, m3, m4 := person("m1"), card("m2"), card("m3"), card("m4")
	out := card("outsider")
	g.add(m1, m2, "holds", 1, 0)
	g.add(m2, m3, "transfer", 1, 500)
	g.add(m3, m4, "transfer", 1, 400)
	g.add(m4, m2, "transfer", 1, 300)
	g.add(m2, out, "transfer", 1, 99_000)
	g.add(out, m4, "transfer", 1, 99_000)
	members := []Ref{m1, m2, m3, m4}
	h, err := Expand(context.Background(), m1, HoodOptions{Hops: len(members), Members: members}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	refs := hoodRefs(h)
	slices.SortFunc(refs, func(a, b Ref) int {
		if a.Less(b) {
			return -1
		}
		return 1
	})
	want := slices.Clone(members)
	slices.SortFunc(want, func(a, b Ref) int {
		if a.Less(b) {
			return -1
		}
		return 1
	})
	if !slices.Equal(refs, want) {
		t.Fatalf("group nodes %v, want %v", refs, want)
	}
	if len(h.Edges) != 4 {
		t.Fatalf("group edges %v, want the 4 between members", h.Edges)
	}
}

// A group is drawn from the member that reaches most of the others, so an
// anchor with no link inside the group does not hide them.
func TestExpandGroupCenter(t *testing.T) {
	g := newMemGraph()
	lone, a, b, c := person("lone"), card("a"), card("b"), card("c")
	g.add(a, b, "transfer", 1, 10)
	g.add(b, c, "transfer", 1, 10)
	members := []Ref{lone, a, b, c}
	h, err := Expand(context.Background(), lone, HoodOptions{Hops: 3, Members: members}, g.neighbors)
	if err != nil {
		t.Fatal(err)
	}
	if h.Center != a || len(h.Nodes) != 3 || !h.Group {
		t.Fatalf("group from %v: %v", h.Center, hoodRefs(h))
	}
}
