package graph

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// SuspectedGroup is a set of flagged entities that evidently work together.
type SuspectedGroup struct {
	Persons     []NodeID // sorted
	Instruments []NodeID // cards, accounts, wallets; sorted
	Risk        float64  // the highest member risk
	Flagged     int      // members (persons and instruments) at or above the threshold
}

// maxSharedHolders bounds the identifiers that join holders into one group:
// an IP or phone shared by more people than this is infrastructure (a mobile
// carrier's NAT, a call centre), not a gang.
const maxSharedHolders = 200

// SuspectedGroups joins flagged entities into groups without reading any
// group or membership data (member_of and operates links are ignored, so the
// result can be scored against known groups). Flagged instruments join their
// holders; holders join when they share a device, IP or phone (up to 200
// holders per identifier); flagged instruments that pay each other join; an
// unflagged instrument joins a group when it trades with at least two of
// that group's flagged instruments (an organiser's collection card). Groups
// with fewer than two persons are dropped. Result: by risk, then size.
func SuspectedGroups(ctx context.Context, ix *Index, f Flags) ([]SuspectedGroup, error) {
	n := ix.Len()
	risk := make([]float64, n)
	flagged := make([]bool, n)
	for _, r := range f.Risks {
		risk[r.Node] = r.Score
		flagged[r.Node] = r.Score >= f.Threshold
	}
	holder := make([]NodeID, n)
	for i := range holder {
		holder[i] = NoNode
	}
	for id := 0; id < n; id++ {
		if ix.Kind(NodeID(id)) != KindPerson {
			continue
		}
		for _, l := range ix.Links(NodeID(id)) {
			if l.Out && l.Type == LinkHolds && holder[l.Other] == NoNode {
				holder[l.Other] = NodeID(id)
			}
		}
	}
	who := func(x NodeID) NodeID {
		if h := holder[x]; h != NoNode {
			return h
		}
		return x
	}
	uf := newUnionFind(n)
	// Flagged people and instruments with their holders.
	for id := 0; id < n; id++ {
		if id%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("suspected groups: %w", err)
			}
		}
		x := NodeID(id)
		if flagged[x] && isInstrument(ix.Kind(x)) && holder[x] != NoNode {
			uf.union(x, holder[x])
		}
	}
	// Shared identifiers touching a flagged holder.
	var hs []NodeID
	for id := 0; id < n; id++ {
		x := NodeID(id)
		if k := ix.Kind(x); k != KindDevice && k != KindIP && k != KindPhone {
			continue
		}
		hs = hs[:0]
		for _, l := range ix.Links(x) {
			if l.Out {
				continue
			}
			if k := ix.Kind(l.Other); k == KindPerson || isInstrument(k) {
				hs = append(hs, who(l.Other))
			}
		}
		slices.Sort(hs)
		hs = slices.Compact(hs)
		if len(hs) < 2 || len(hs) > maxSharedHolders {
			continue
		}
		touches := false
		for _, h := range hs {
			if flagged[h] {
				touches = true
				break
			}
		}
		if !touches {
			continue
		}
		for _, h := range hs[1:] {
			uf.union(hs[0], h)
		}
		for _, l := range ix.Links(x) {
			if !l.Out && isInstrument(ix.Kind(l.Other)) {
				uf.union(hs[0], l.Other)
			}
		}
	}
	// Money between flagged instruments.
	for id := 0; id < n; id++ {
		x := NodeID(id)
		if !flagged[x] || !isInstrument(ix.Kind(x)) {
			continue
		}
		for _, e := range ix.OutTx(x) {
			if flagged[e.Other] && isInstrument(ix.Kind(e.Other)) {
				uf.union(x, e.Other)
			}
		}
	}
	// Collection and funding cards: unflagged instruments trading with two or
	// more flagged instruments of one group. Roots are read before any of
	// these joins so the order of nodes cannot chain groups together.
	type join struct{ a, b NodeID }
	var joins []join
	seen := map[NodeID]map[NodeID]bool{}
	for id := 0; id < n; id++ {
		x := NodeID(id)
		if flagged[x] || !isInstrument(ix.Kind(x)) {
			continue
		}
		clear(seen)
		for _, es := range [][]TxEdge{ix.OutTx(x), ix.InTx(x)} {
			for _, e := range es {
				if !flagged[e.Other] || !isInstrument(ix.Kind(e.Other)) {
					continue
				}
				r := uf.find(e.Other)
				if seen[r] == nil {
					seen[r] = map[NodeID]bool{}
				}
				seen[r][e.Other] = true
			}
		}
		best, bestN := NoNode, 1
		for r, cards := range seen {
			if len(cards) > bestN || len(cards) == bestN && best != NoNode && r < best {
				best, bestN = r, len(cards)
			}
		}
		if best != NoNode {
			joins = append(joins, join{x, best})
			if holder[x] != NoNode {
				joins = append(joins, join{holder[x], best})
			}
		}
	}
	for _, j := range joins {
		uf.union(j.a, j.b)
	}

	// Collect components that hold a flagged entity.
	byRoot := map[NodeID]*SuspectedGroup{}
	var roots []NodeID
	for id := 0; id < n; id++ {
		x := NodeID(id)
		k := ix.Kind(x)
		if k != KindPerson && !isInstrument(k) {
			continue
		}
		r := uf.find(x)
		if uf.size[r] < 2 {
			continue
		}
		g := byRoot[r]
		if g == nil {
			g = &SuspectedGroup{}
			byRoot[r] = g
			roots = append(roots, r)
		}
		if k == KindPerson {
			g.Persons = append(g.Persons, x)
		} else {
			g.Instruments = append(g.Instruments, x)
		}
		g.Risk = max(g.Risk, risk[x])
		if flagged[x] {
			g.Flagged++
		}
	}
	var out []SuspectedGroup
	for _, r := range roots {
		g := byRoot[r]
		if g.Flagged == 0 || len(g.Persons) < 2 {
			continue
		}
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b SuspectedGroup) int {
		if c := cmp.Compare(b.Risk, a.Risk); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b.Persons), len(a.Persons)); c != 0 {
			return c
		}
		return cmp.Compare(a.Persons[0], b.Persons[0])
	})
	return out, nil
}

// unionFind is a disjoint-set forest with union by size.
type unionFind struct {
	parent []NodeID
	size   []int32
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]NodeID, n), size: make([]int32, n)}
	for i := range u.parent {
		u.parent[i] = NodeID(i)
		u.size[i] = 1
	}
	return u
}

func (u *unionFind) find(x NodeID) NodeID {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

func (u *unionFind) union(a, b NodeID) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if u.size[ra] < u.size[rb] || u.size[ra] == u.size[rb] && rb < ra {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	u.size[ra] += u.size[rb]
}
