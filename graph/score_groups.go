package graph

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// SuspectedGroup is a set of flagged subjects that evidently work together.
type SuspectedGroup struct {
	Persons     []NodeID // sorted
	Instruments []NodeID // cards, accounts, wallets of the members (all they hold); sorted
	Risk        float64  // the highest member risk
	Flagged     int      // members (persons and instruments) at or above the threshold
}

// maxSharedHolders bounds the identifiers that join holders into one group:
// an IP or phone shared by more people than this is infrastructure (a mobile
// carrier's NAT, a call centre), not a gang.
const maxSharedHolders = 200

// SuspectedGroups joins flagged subjects (persons, and instruments nobody
// is known to hold) into groups without reading any group or membership
// data (member_of and operates links are ignored, so the result can be
// scored against known groups). Evidence decides, weak links cannot chain
// (docs/DETECTION.md "Suspected groups"):
//
//   - money between the instruments of two flagged subjects joins them
//     when it is at least a fifth of what the payer paid and of what the
//     payee received (a chain's hop); money that is a fifth of one side's
//     flow only joins last and never merges two groups of three or more;
//   - a collector or funder (R23) joins the flagged subjects its evidence
//     names;
//   - a device, IP or phone joins the flagged subjects using it only when
//     they are at least half of everyone using it (at most 200): a gang's
//     phone is used by the gang, a family's or an office's device mostly by
//     people nobody flagged, and those never merge groups;
//   - same_as links (accepted entity resolution) join.
//
// Unflagged people never enter a group. A group needs two subjects; it lists
// every instrument its persons hold. Result: by risk, then size.
func SuspectedGroups(ctx context.Context, ix *Index, f Flags) ([]SuspectedGroup, error) {
	n := ix.Len()
	risk := make([]float64, n)
	flagged := make([]bool, n)
	for _, r := range f.Risks {
		risk[r.Node] = r.Score
		flagged[r.Node] = r.Score >= f.Threshold
	}
	holder := holders(ix)
	who := func(x NodeID) NodeID {
		if isInstrument(ix.Kind(x)) && holder[x] != NoNode {
			return holder[x]
		}
		return x
	}
	subjectFlagged := func(x NodeID) bool { s := who(x); return flagged[s] }
	uf := newUnionFind(n)
	check := func(id int) error {
		if id%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("suspected groups: %w", err)
			}
		}
		return nil
	}
	// Money between flagged subjects, when it is a real part of both sides'
	// flows (minDependence): a hop of a chain, a pass-through. One stray
	// payment between two gangs' cards does not make them one group; a
	// collector's many small inflows join through its R23 evidence below.
	// What each instrument received in all, summed once (a collector's
	// total is read for every flagged card that pays it).
	inSum := make([]int64, n)
	for id := 0; id < n; id++ {
		if x := NodeID(id); isInstrument(ix.Kind(x)) {
			for _, e := range ix.InTx(x) {
				inSum[x] += e.Amount
			}
		}
	}
	pair := map[NodeID]int64{}
	var payees []NodeID
	var oneSided [][2]NodeID
	for id := 0; id < n; id++ {
		if err := check(id); err != nil {
			return nil, err
		}
		x := NodeID(id)
		if !isInstrument(ix.Kind(x)) || !subjectFlagged(x) {
			continue
		}
		clear(pair)
		payees = payees[:0]
		var out int64
		for _, e := range ix.OutTx(x) {
			out += e.Amount
			if isInstrument(ix.Kind(e.Other)) && subjectFlagged(e.Other) && who(e.Other) != who(x) {
				if _, seen := pair[e.Other]; !seen {
					payees = append(payees, e.Other)
				}
				pair[e.Other] += e.Amount
			}
		}
		// In payee order, not map order: the one-sided joins below depend
		// on the order they are made in.
		slices.Sort(payees)
		for _, o := range payees {
			amt := pair[o]
			payer, payee := float64(amt) >= minDependence*float64(out), float64(amt) >= minDependence*float64(inSum[o])
			switch {
			case payer && payee:
				uf.union(who(x), who(o))
			case payer || payee:
				oneSided = append(oneSided, [2]NodeID{who(x), who(o)})
			}
		}
	}
	// Collectors and funders with the flagged subjects their R23 evidence
	// names (the money they collected from or paid to them).
	for _, h := range f.Hits {
		if h.Rule != "R23" || len(h.Evidence) == 0 || !isInstrument(ix.Kind(h.Node)) || !subjectFlagged(h.Node) {
			continue
		}
		for _, t := range h.Evidence {
			for _, c := range []NodeID{ix.TxFrom(t), ix.TxTo(t)} {
				if c != h.Node && isInstrument(ix.Kind(c)) && subjectFlagged(c) {
					uf.union(who(h.Node), who(c))
				}
			}
		}
	}
	// Identifiers used mostly by flagged subjects; accepted same_as links.
	var users, bad []NodeID
	for id := 0; id < n; id++ {
		if err := check(id); err != nil {
			return nil, err
		}
		x := NodeID(id)
		switch ix.Kind(x) {
		case KindDevice, KindIP, KindPhone, KindGroup: // groups: imported memberships
		default:
			for _, l := range ix.Links(x) {
				if l.Out && l.Type == LinkSameAs && subjectFlagged(x) && subjectFlagged(l.Other) {
					uf.union(who(x), who(l.Other))
				}
			}
			continue
		}
		users, bad = users[:0], bad[:0]
		for _, l := range ix.Links(x) {
			if l.Out {
				continue
			}
			if k := ix.Kind(l.Other); k == KindPerson || isInstrument(k) {
				s := who(l.Other)
				if flagged[s] {
					users = append(users, s)
				} else {
					bad = append(bad, s)
				}
			}
		}
		slices.Sort(users)
		users = slices.Compact(users)
		slices.Sort(bad)
		bad = slices.Compact(bad)
		if len(users) < 2 || len(users)+len(bad) > maxSharedHolders || len(users) < len(bad) {
			continue
		}
		for _, s := range users[1:] {
			uf.union(users[0], s)
		}
	}

	// Money that matters to one side only (a mule's takings to a collector,
	// or a stray payment between two gangs' cards) joins last, and never
	// merges two groups of three or more subjects each.
	for _, p := range oneSided {
		if a, b := uf.find(p[0]), uf.find(p[1]); a != b && (uf.size[a] < 3 || uf.size[b] < 3) {
			uf.union(a, b)
		}
	}

	// Collect the components of two or more flagged subjects.
	byRoot := map[NodeID]*SuspectedGroup{}
	subjects := map[NodeID]int{}
	var roots []NodeID
	for id := 0; id < n; id++ {
		x := NodeID(id)
		k := ix.Kind(x)
		if !flagged[x] || who(x) != x || (k != KindPerson && !isInstrument(k)) {
			continue
		}
		r := uf.find(x)
		g := byRoot[r]
		if g == nil {
			g = &SuspectedGroup{}
			byRoot[r] = g
			roots = append(roots, r)
		}
		subjects[r]++
		if k == KindPerson {
			g.Persons = append(g.Persons, x)
			for _, l := range ix.Links(x) {
				if l.Out && l.Type == LinkHolds && isInstrument(ix.Kind(l.Other)) && holder[l.Other] == x {
					g.Instruments = append(g.Instruments, l.Other)
				}
			}
		} else {
			g.Instruments = append(g.Instruments, x)
		}
	}
	var out []SuspectedGroup
	for _, r := range roots {
		g := byRoot[r]
		if subjects[r] < 2 {
			continue
		}
		slices.Sort(g.Instruments)
		g.Instruments = slices.Compact(g.Instruments)
		for _, x := range g.Persons {
			g.Risk = max(g.Risk, risk[x])
			if flagged[x] {
				g.Flagged++
			}
		}
		for _, x := range g.Instruments {
			g.Risk = max(g.Risk, risk[x])
			if flagged[x] {
				g.Flagged++
			}
		}
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b SuspectedGroup) int {
		if c := cmp.Compare(b.Risk, a.Risk); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b.Persons)+len(b.Instruments), len(a.Persons)+len(a.Instruments)); c != 0 {
			return c
		}
		return cmp.Compare(a.first(), b.first())
	})
	return out, nil
}

// first is the smallest member id, a stable tie-breaker.
func (g SuspectedGroup) first() NodeID {
	m := NoNode
	if len(g.Persons) > 0 {
		m = g.Persons[0]
	}
	if len(g.Instruments) > 0 {
		m = min(m, g.Instruments[0])
	}
	return m
}

// holders maps every instrument to the first person holding it (NoNode if
// none), the same choice ruleRun makes.
func holders(ix *Index) []NodeID {
	holder := make([]NodeID, ix.Len())
	for i := range holder {
		holder[i] = NoNode
	}
	for id := 0; id < ix.Len(); id++ {
		if ix.Kind(NodeID(id)) != KindPerson {
			continue
		}
		for _, l := range ix.Links(NodeID(id)) {
			if l.Out && l.Type == LinkHolds && holder[l.Other] == NoNode {
				holder[l.Other] = NodeID(id)
			}
		}
	}
	return holder
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
