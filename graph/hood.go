package graph

import (
	"context"
	"fmt"
	"sort"
)

// NeighborFunc lists the aggregated edges of one entity. The TUI passes a
// closure over its Backend; tests pass an in-memory graph.
type NeighborFunc func(ctx context.Context, ref Ref) ([]Neighbor, error)

// Hood is the neighbourhood of an entity: the nodes within a few hops and the
// edges between them that the expansion saw.
type Hood struct {
	Center    Ref
	Nodes     []HoodNode // breadth-first order: the center first, then hop 1, hop 2 …
	Edges     []HoodEdge // in discovery order; each (From, To, Relation) once
	Truncated bool       // MaxNodes was reached, so some neighbours are missing
	// Group is set for a group's drawing (HoodOptions.Members): its edges
	// run every way, not along the center's money flow.
	Group bool
}

// HoodNode is one entity of a neighbourhood.
type HoodNode struct {
	Ref  Ref
	Name string
	Hop  int // distance from the center in edges
	// Degree is the number of neighbour rows the node has, or -1 when it was
	// not expanded (last hop, cash, or not reached before MaxNodes).
	Degree int
	// Hub is set for nodes that are listed but not expanded through: the
	// cash endpoint and entities with more than HubDegree neighbours.
	Hub bool
	// Folded, when positive, makes the node no entity but that many
	// neighbours of one relation and direction of the node it hangs off,
	// folded into one ("+35 transfer recipients"); Ref is a key of its own.
	Folded int
	// Risk is the entity's risk from the current or kept analysis, set by
	// the caller after Expand.
	Risk RiskMark
}

// HoodEdge is one aggregated edge of a neighbourhood, oriented by money or
// link direction: From pays (or holds, or is a member of) To.
type HoodEdge struct {
	From, To Ref
	Relation string
	Count    int
	Amount   int64
}

// HoodOptions bound an expansion.
type HoodOptions struct {
	Hops     int // hops from the center; values below 1 mean 1
	MaxNodes int // node budget including the center; values below 1 mean DefaultHoodMaxNodes
	// Kinds keeps the nodes of these kinds, reached through any path, and
	// the nodes on the way to them; empty means all.
	Kinds []Kind
	// Exclude drops the nodes of these kinds: they are neither shown nor
	// walked through.
	Exclude []Kind
	// MinAmount drops monetary edges (relations that are channel names) whose
	// summed amount is below it. Non-monetary links are always kept.
	MinAmount int64
	// Members, when set, draws a group: only these entities (and the center)
	// are walked and shown, with every edge between them, out to Hops.
	Members []Ref
	// FoldAt folds a node's neighbours of one relation and direction into
	// one node when there are more than FoldAt of them, keeping the
	// heaviest FoldKeep: a payroll hub's forty recipients then take one
	// node of the budget, not forty. 0 means DefaultFoldAt; below 0 never.
	FoldAt int
	// Prefetch, when set, is given the nodes whose neighbours a hop is
	// about to read (from the second hop on: the first reads the center
	// alone), so that a reader over the network fetches them in one batch
	// (a Dgraph cluster's PrefetchNeighbors) instead of one query each. It
	// answers nothing: nb still reads every node.
	Prefetch func(ctx context.Context, refs []Ref)
}

// DefaultHoodMaxNodes is the node budget used when HoodOptions.MaxNodes is unset.
const DefaultHoodMaxNodes = 300

// HubDegree is the neighbour count above which an entity other than the
// center is listed but not expanded through: walking through a hub (a big
// exchange, a payroll account) would drown the view in unrelated entities.
const HubDegree = 200

// DefaultFoldAt and FoldKeep: more than DefaultFoldAt neighbours of one
// relation and direction are folded, all but the FoldKeep heaviest.
const (
	DefaultFoldAt = 10
	FoldKeep      = 6
)

// kindWalkFactor is how much further than MaxNodes a kind filter walks
// before keeping the nodes of its kinds and the paths to them.
const kindWalkFactor = 4

type hoodEdgeKey struct {
	from, to Ref
	relation string
}

// flow is how a node sits in the money flow of the center: it pays toward
// the center (upstream), is paid from it (downstream), or neither (the
// center, and nodes reached through identity links from it).
type flow int8

const (
	flowNone flow = iota
	flowUp
	flowDown
)

// Expand walks breadth first from center, hop by hop, and returns the
// entities and edges it found. Neighbours are visited heaviest edge first
// (amount, then count, then reference), so the result is deterministic and,
// when MaxNodes cuts it short, keeps the strongest links. The cash endpoint
// and hubs (more than HubDegree neighbours) are listed but never expanded,
// unless they are the center itself.
//
// The walk follows the money's direction: from a node that pays toward the
// center only the money paid into it is followed further upstream, from one
// paid from the center only the money it pays on (identity links are
// followed both ways), so the senders' side never mixes in the senders'
// other payees. A group (Members) is walked every way.
func Expand(ctx context.Context, center Ref, opt HoodOptions, nb NeighborFunc) (Hood, error) {
	hops := max(opt.Hops, 1)
	maxNodes := opt.MaxNodes
	if maxNodes < 1 {
		maxNodes = DefaultHoodMaxNodes
	}
	walkNodes := maxNodes
	if len(opt.Kinds) > 0 {
		walkNodes = maxNodes * kindWalkFactor
	}
	foldAt := opt.FoldAt
	if foldAt == 0 {
		foldAt = DefaultFoldAt
	}
	excluded := make(map[Kind]bool, len(opt.Exclude))
	for _, k := range opt.Exclude {
		excluded[k] = true
	}
	var members map[Ref]bool
	if len(opt.Members) > 0 {
		members = make(map[Ref]bool, len(opt.Members))
		for _, r := range opt.Members {
			members[r] = true
		}
		foldAt = -1
		var err error
		if center, nb, err = groupCenter(ctx, center, opt.Members, excluded, nb); err != nil {
			return Hood{}, err
		}
	}

	h := Hood{Center: center, Group: members != nil}
	index := map[Ref]int{center: 0}
	h.Nodes = append(h.Nodes, HoodNode{Ref: center, Hop: 0, Degree: -1, Hub: center.Kind == KindCash})
	parent := []int{-1}
	role := []flow{flowNone}
	seenEdge := make(map[hoodEdgeKey]int)
	addEdge := func(e HoodEdge) {
		k := hoodEdgeKey{e.From, e.To, e.Relation}
		if _, dup := seenEdge[k]; dup {
			return
		}
		seenEdge[k] = len(h.Edges)
		h.Edges = append(h.Edges, e)
	}

	frontier := []int{0}
	for hop := 1; hop <= hops && len(frontier) > 0; hop++ {
		if opt.Prefetch != nil && hop > 1 {
			refs := make([]Ref, 0, len(frontier))
			for _, ni := range frontier {
				if r := h.Nodes[ni].Ref; r.Kind != KindCash {
					refs = append(refs, r)
				}
			}
			opt.Prefetch(ctx, refs)
		}
		var next []int
		for _, ni := range frontier {
			if err := ctx.Err(); err != nil {
				return Hood{}, fmt.Errorf("expand %s: %w", center, err)
			}
			ref := h.Nodes[ni].Ref
			if ni != 0 && ref.Kind == KindCash {
				continue
			}
			rows, err := nb(ctx, ref)
			if err != nil {
				return Hood{}, fmt.Errorf("expand %s: neighbours of %s: %w", center, ref, err)
			}
			h.Nodes[ni].Degree = len(rows)
			if ni != 0 && len(rows) > HubDegree {
				h.Nodes[ni].Hub = true
				continue
			}
			var keep []Neighbor
			for _, r := range sortedNeighbors(rows) {
				money := isMonetary(r.Relation)
				switch {
				case r.Ref == center:
				case excluded[r.Ref.Kind]:
					continue
				case members != nil && !members[r.Ref]:
					continue
				case members == nil && money && role[ni] == flowUp && r.Dir == DirOut:
					continue // what an upstream node pays elsewhere
				case members == nil && money && role[ni] == flowDown && r.Dir == DirIn:
					continue // what a downstream node receives from elsewhere
				}
				if opt.MinAmount > 0 && r.Amount < opt.MinAmount && money {
					continue
				}
				keep = append(keep, r)
			}
			folded := foldGroups(keep, foldAt, index)
			for _, r := range keep {
				e := HoodEdge{From: ref, To: r.Ref, Relation: r.Relation, Count: r.Count, Amount: r.Amount}
				if r.Dir == DirIn {
					e.From, e.To = r.Ref, ref
				}
				oi, ok := index[r.Ref]
				if !ok {
					g := foldKey{r.Relation, r.Dir}
					if f, fold := folded[g]; fold && f.skip[r.Ref] {
						f.add(r)
						continue
					}
					if len(h.Nodes) >= walkNodes {
						h.Truncated = true
						continue
					}
					oi = len(h.Nodes)
					index[r.Ref] = oi
					h.Nodes = append(h.Nodes, HoodNode{Ref: r.Ref, Name: r.Name, Hop: hop, Degree: -1,
						Hub: r.Ref.Kind == KindCash})
					parent = append(parent, ni)
					role = append(role, childFlow(role[ni], r, isMonetary(r.Relation)))
					next = append(next, oi)
				} else if h.Nodes[oi].Name == "" {
					h.Nodes[oi].Name = r.Name
				}
				addEdge(e)
			}
			// The folded neighbours, one node per relation and direction.
			for _, g := range sortedFoldKeys(folded) {
				f := folded[g]
				if f.n == 0 {
					continue
				}
				if len(h.Nodes) >= walkNodes {
					h.Truncated = true
					continue
				}
				fr := Ref{Kind: f.kind, Key: fmt.Sprintf("+%d %s %s of %s", f.n, g.relation, dirWord(g), ref)}
				index[fr] = len(h.Nodes)
				h.Nodes = append(h.Nodes, HoodNode{Ref: fr, Name: fmt.Sprintf("+%d %s %s", f.n, g.relation, dirWord(g)),
					Hop: hop, Degree: -1, Folded: f.n})
				parent = append(parent, ni)
				role = append(role, role[ni])
				e := HoodEdge{From: ref, To: fr, Relation: g.relation, Count: f.count, Amount: f.amount}
				if g.dir == DirIn {
					e.From, e.To = fr, ref
				}
				addEdge(e)
			}
		}
		frontier = next
	}
	if len(opt.Kinds) > 0 {
		h = keepKinds(h, parent, opt.Kinds, maxNodes)
	}
	return h, nil
}

// groupCenter reads the neighbour rows of every member once and returns
// the member to draw a group from: center when it reaches as many members
// through members as any, else the first member (in the given order) that
// does; and a NeighborFunc answering from the rows read.
func groupCenter(ctx context.Context, center Ref, members []Ref, excluded map[Kind]bool, nb NeighborFunc) (Ref, NeighborFunc, error) {
	in := make(map[Ref]int, len(members))
	for i, r := range members {
		in[r] = i
	}
	rows := make(map[Ref][]Neighbor, len(members))
	for _, r := range members {
		got, err := nb(ctx, r)
		if err != nil {
			return center, nil, fmt.Errorf("expand group: neighbours of %s: %w", r, err)
		}
		rows[r] = got
	}
	// Union-find over the links between members.
	root := make([]int, len(members))
	for i := range root {
		root[i] = i
	}
	find := func(x int) int {
		for root[x] != x {
			root[x] = root[root[x]]
			x = root[x]
		}
		return x
	}
	for i, r := range members {
		if excluded[r.Kind] {
			continue
		}
		for _, n := range rows[r] {
			if j, ok := in[n.Ref]; ok && !excluded[n.Ref.Kind] {
				if a, b := find(i), find(j); a != b {
					root[max(a, b)] = min(a, b)
				}
			}
		}
	}
	size := make([]int, len(members))
	for i := range members {
		size[find(i)]++
	}
	best := -1
	if i, ok := in[center]; ok {
		best = i
	}
	for i := range members {
		if best < 0 || size[find(i)] > size[find(best)] {
			best = i
		}
	}
	cached := func(ctx context.Context, r Ref) ([]Neighbor, error) {
		if got, ok := rows[r]; ok {
			return got, nil
		}
		return nb(ctx, r)
	}
	if best < 0 {
		return center, cached, nil
	}
	return members[best], cached, nil
}

// childFlow is the flow of a node reached from a node of flow p through r.
func childFlow(p flow, r Neighbor, money bool) flow {
	switch {
	case p != flowNone:
		return p
	case !money:
		return flowNone
	case r.Dir == DirIn:
		return flowUp // it pays the center's side
	}
	return flowDown
}

type foldKey struct {
	relation string
	dir      Direction
}

// fold gathers the neighbours of one relation and direction folded into
// one node.
type fold struct {
	skip     map[Ref]bool // the neighbours folded
	n, count int
	amount   int64
	kind     Kind
	kinds    int
}

func (f *fold) add(r Neighbor) {
	f.n++
	f.count += r.Count
	f.amount = AddSat(f.amount, r.Amount)
	if f.kinds == 0 || f.kind == r.Ref.Kind {
		f.kind, f.kinds = r.Ref.Kind, 1
	} else {
		f.kind, f.kinds = KindUnknown, 2
	}
}

// foldGroups picks, for every relation and direction with more than foldAt
// new neighbours in rows (heaviest first), all but the FoldKeep heaviest
// to fold. Neighbours already in the hood are never folded.
func foldGroups(rows []Neighbor, foldAt int, index map[Ref]int) map[foldKey]*fold {
	if foldAt < 0 {
		return nil
	}
	var out map[foldKey]*fold
	counts := map[foldKey]int{}
	for _, r := range rows {
		if _, ok := index[r.Ref]; !ok {
			counts[foldKey{r.Relation, r.Dir}]++
		}
	}
	seen := map[foldKey]int{}
	for _, r := range rows {
		g := foldKey{r.Relation, r.Dir}
		if _, ok := index[r.Ref]; ok || counts[g] <= foldAt {
			continue
		}
		if seen[g]++; seen[g] <= FoldKeep {
			continue
		}
		if out == nil {
			out = map[foldKey]*fold{}
		}
		f := out[g]
		if f == nil {
			f = &fold{skip: map[Ref]bool{}}
			out[g] = f
		}
		f.skip[r.Ref] = true
	}
	return out
}

func sortedFoldKeys(m map[foldKey]*fold) []foldKey {
	keys := make([]foldKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].relation != keys[j].relation {
			return keys[i].relation < keys[j].relation
		}
		return keys[i].dir < keys[j].dir
	})
	return keys
}

// dirWord names the far ends of a folded relation: "recipients" of money
// paid, "senders" of money received, else "links".
func dirWord(g foldKey) string {
	switch {
	case !isMonetary(g.relation):
		return "links"
	case g.dir == DirIn:
		return "senders"
	}
	return "recipients"
}

// keepKinds keeps the center, the nodes of kinds and the nodes on their
// way to the center (parent chains of the walk), at most maxNodes in walk
// order, and the edges between kept nodes.
func keepKinds(h Hood, parent []int, kinds []Kind, maxNodes int) Hood {
	want := make(map[Kind]bool, len(kinds))
	for _, k := range kinds {
		want[k] = true
	}
	keep := make([]bool, len(h.Nodes))
	keep[0] = true
	for i, n := range h.Nodes {
		if !want[n.Ref.Kind] || n.Folded > 0 {
			continue
		}
		for j := i; j >= 0 && !keep[j]; j = parent[j] {
			keep[j] = true
		}
	}
	out := Hood{Center: h.Center, Truncated: h.Truncated, Group: h.Group}
	kept := map[Ref]bool{}
	for i, n := range h.Nodes {
		if !keep[i] {
			continue
		}
		if len(out.Nodes) >= maxNodes {
			out.Truncated = true
			break
		}
		out.Nodes = append(out.Nodes, n)
		kept[n.Ref] = true
	}
	for _, e := range h.Edges {
		if kept[e.From] && kept[e.To] {
			out.Edges = append(out.Edges, e)
		}
	}
	return out
}

// IsMoneyRelation reports whether a neighbour relation is a transaction
// channel (money) rather than an identity link.
func IsMoneyRelation(relation string) bool { return isMonetary(relation) }

// sortedNeighbors returns a copy of rows ordered heaviest first: amount, then
// count descending, then reference, relation and direction.
func sortedNeighbors(rows []Neighbor) []Neighbor {
	out := make([]Neighbor, len(rows))
	copy(out, rows)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Amount != b.Amount {
			return a.Amount > b.Amount
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Ref != b.Ref {
			return a.Ref.Less(b.Ref)
		}
		if a.Relation != b.Relation {
			return a.Relation < b.Relation
		}
		return a.Dir < b.Dir
	})
	return out
}

// isMonetary reports whether a relation name is a transaction channel.
func isMonetary(relation string) bool {
	for c := ChannelTransfer; c < channelCount; c++ {
		if relation == channelNames[c] {
			return true
		}
	}
	return false
}
