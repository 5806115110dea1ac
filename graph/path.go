package graph

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// RelSet is a set of relations: link types and transaction channels. The
// zero set means every relation.
type RelSet uint32

const relChannelShift = 16

// RelLink is the set holding one link type.
func RelLink(t LinkType) RelSet { return 1 << t }

// RelChannel is the set holding one transaction channel.
func RelChannel(c Channel) RelSet { return 1 << (relChannelShift + c) }

// HasLink reports whether the set allows link type t.
func (s RelSet) HasLink(t LinkType) bool { return s == 0 || s&RelLink(t) != 0 }

// HasChannel reports whether the set allows channel c.
func (s RelSet) HasChannel(c Channel) bool { return s == 0 || s&RelChannel(c) != 0 }

// IdentityRelations are the links that say two nodes belong to the same
// operation: holding, shared phone, device, IP or address, resolution, card of.
var IdentityRelations = RelLink(LinkHolds) | RelLink(LinkUsesPhone) | RelLink(LinkUsesDevice) |
	RelLink(LinkUsesIP) | RelLink(LinkResidesAt) | RelLink(LinkSameAs) | RelLink(LinkCardOf)

// MoneyRelations are every transaction channel.
var MoneyRelations = RelChannel(ChannelTransfer) | RelChannel(ChannelTopup) | RelChannel(ChannelCashOut) |
	RelChannel(ChannelTrade) | RelChannel(ChannelUnknown)

// hop is one edge as a walk sees it: to the other node, over a link or a transaction.
type hop struct {
	to      NodeID
	link    LinkType // when !isTx
	isTx    bool
	forward bool // along the edge's direction (money sent, link owned)
	e       TxEdge
}

// edgeFilter decides which edges a walk may take.
type edgeFilter struct {
	kinds     []bool // by Kind; nil means all
	rels      RelSet
	from, to  int64
	minAmount int64
	directed  bool
}

func newEdgeFilter(kinds []Kind, rels RelSet, from, to time.Time, minAmount int64, directed bool) edgeFilter {
	f := edgeFilter{rels: rels, from: math.MinInt64, to: math.MaxInt64, minAmount: minAmount, directed: directed}
	if len(kinds) > 0 {
		f.kinds = make([]bool, kindCount)
		for _, k := range kinds {
			if k < kindCount {
				f.kinds[k] = true
			}
		}
	}
	if !from.IsZero() {
		f.from = from.Unix()
	}
	if !to.IsZero() {
		f.to = to.Unix()
	}
	return f
}

func (f *edgeFilter) kindOK(ix *Index, v NodeID) bool { return f.kinds == nil || f.kinds[ix.kinds[v]] }

func (f *edgeFilter) txOK(e TxEdge) bool {
	return f.rels.HasChannel(e.Channel) && e.Time >= f.from && e.Time <= f.to && e.Amount >= f.minAmount
}

// eachHop calls fn for every edge of v the filter allows, in a fixed order:
// sent money, received money (unless directed), then links. fn returns false to stop.
func (f *edgeFilter) eachHop(ix *Index, v NodeID, fn func(hop) bool) {
	for _, e := range ix.OutTx(v) {
		if f.txOK(e) && f.kindOK(ix, e.Other) && !fn(hop{to: e.Other, isTx: true, forward: true, e: e}) {
			return
		}
	}
	if !f.directed {
		for _, e := range ix.InTx(v) {
			if f.txOK(e) && f.kindOK(ix, e.Other) && !fn(hop{to: e.Other, isTx: true, e: e}) {
				return
			}
		}
	}
	for _, l := range ix.Links(v) {
		if (l.Out || !f.directed) && f.rels.HasLink(l.Type) && f.kindOK(ix, l.Other) &&
			!fn(hop{to: l.Other, link: l.Type, forward: l.Out}) {
			return
		}
	}
}

// HoodFilter bounds a neighbourhood.
type HoodFilter struct {
	Hops      int    // values below 1 mean 1
	Kinds     []Kind // kinds a neighbour must have; empty means all (the center always counts)
	Relations RelSet // edges walked; zero means all
	From, To  time.Time
	MinAmount int64 // transactions below it are not walked
	MaxNodes  int   // node budget including the center; below 1 means DefaultHoodMaxNodes
}

// SubgraphNode is one node of a neighbourhood.
type SubgraphNode struct {
	Node NodeID
	Hop  int
}

// SubgraphEdge aggregates the walked edges between two nodes of one
// relation: transactions From sent To on one channel, or a link From owns.
type SubgraphEdge struct {
	From, To    NodeID
	Link        LinkType // when !Money
	Channel     Channel  // when Money
	Money       bool
	Count       int
	Amount      int64
	First, Last int64 // unix seconds of the first and last transaction
}

// Subgraph is a neighbourhood: its nodes by hop then id, and the allowed
// edges between them, by From, To, then relation.
type Subgraph struct {
	Center    NodeID
	Nodes     []SubgraphNode
	Edges     []SubgraphEdge
	Truncated bool
}

// Neighbourhood returns the nodes within f.Hops of center over the edges
// the filter allows (in either direction), and the allowed edges among them.
func Neighbourhood(ctx context.Context, ix *Index, center NodeID, f HoodFilter) (Subgraph, error) {
	if int(center) >= ix.Len() {
		return Subgraph{}, fmt.Errorf("neighbourhood of node %d: %w", center, ErrNotFound)
	}
	if err := ctx.Err(); err != nil {
		return Subgraph{}, fmt.Errorf("neighbourhood of %s: %w", ix.Ref(center), err)
	}
	hops := max(f.Hops, 1)
	maxNodes := f.MaxNodes
	if maxNodes < 1 {
		maxNodes = DefaultHoodMaxNodes
	}
	ef := newEdgeFilter(f.Kinds, f.Relations, f.From, f.To, f.MinAmount, false)
	hopOf := map[NodeID]int{center: 0}
	g := Subgraph{Center: center, Nodes: []SubgraphNode{{Node: center}}}
	frontier := []NodeID{center}
	steps := 0
	var err error
	for d := 1; d <= hops && len(frontier) > 0 && err == nil; d++ {
		var next []NodeID
		for _, v := range frontier {
			ef.eachHop(ix, v, func(h hop) bool {
				if steps++; steps%4096 == 0 {
					if err = ctx.Err(); err != nil {
						return false
					}
				}
				if _, ok := hopOf[h.to]; ok {
					return true
				}
				if len(g.Nodes) >= maxNodes {
					g.Truncated = true
					return false
				}
				hopOf[h.to] = d
				g.Nodes = append(g.Nodes, SubgraphNode{Node: h.to, Hop: d})
				next = append(next, h.to)
				return true
			})
			if err != nil || g.Truncated {
				break
			}
		}
		slices.Sort(next)
		frontier = next
		if g.Truncated {
			break
		}
	}
	if err != nil {
		return Subgraph{}, fmt.Errorf("neighbourhood of %s: %w", ix.Ref(center), err)
	}
	slices.SortFunc(g.Nodes, func(a, b SubgraphNode) int {
		if c := cmp.Compare(a.Hop, b.Hop); c != 0 {
			return c
		}
		return cmp.Compare(a.Node, b.Node)
	})
	// Induced edges, each seen from its source.
	ef.directed = true
	type ekey struct {
		from, to NodeID
		money    bool
		rel      uint8
	}
	agg := map[ekey]int{}
	for _, n := range g.Nodes {
		ef.eachHop(ix, n.Node, func(h hop) bool {
			if steps++; steps%4096 == 0 {
				if err = ctx.Err(); err != nil {
					return false
				}
			}
			if _, ok := hopOf[h.to]; !ok {
				return true
			}
			k := ekey{from: n.Node, to: h.to, money: h.isTx, rel: uint8(h.link)}
			if h.isTx {
				k.rel = uint8(h.e.Channel)
			}
			i, ok := agg[k]
			if !ok {
				i = len(g.Edges)
				agg[k] = i
				se := SubgraphEdge{From: k.from, To: k.to, Money: h.isTx, First: math.MaxInt64, Last: math.MinInt64}
				if h.isTx {
					se.Channel = h.e.Channel
				} else {
					se.Link = h.link
				}
				g.Edges = append(g.Edges, se)
			}
			se := &g.Edges[i]
			se.Count++
			if h.isTx {
				se.Amount = AddSat(se.Amount, h.e.Amount)
				se.First, se.Last = min(se.First, h.e.Time), max(se.Last, h.e.Time)
			}
			return true
		})
		if err != nil {
			return Subgraph{}, fmt.Errorf("neighbourhood of %s: %w", ix.Ref(center), err)
		}
	}
	for i := range g.Edges {
		if !g.Edges[i].Money {
			g.Edges[i].First, g.Edges[i].Last = 0, 0
		}
	}
	slices.SortFunc(g.Edges, func(a, b SubgraphEdge) int {
		if c := cmp.Compare(a.From, b.From); c != 0 {
			return c
		}
		if c := cmp.Compare(a.To, b.To); c != 0 {
			return c
		}
		if a.Money != b.Money {
			if a.Money {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(a.Link, b.Link); c != 0 {
			return c
		}
		return cmp.Compare(a.Channel, b.Channel)
	})
	return g, nil
}

// PathOptions bound a path search.
type PathOptions struct {
	MaxHops   int    // 1..MaxPathHops; other values mean MaxPathHops
	Kinds     []Kind // kinds the inner nodes and the target may have; empty means all
	Relations RelSet // zero means all
	Directed  bool   // follow money from sender to receiver and links from owner only
	// MaxDegree, when positive, keeps walks from passing through nodes with
	// more edges than this (big exchanges, payroll accounts); they may still
	// be the endpoints.
	MaxDegree int
}

// MaxPathHops is the longest path searched.
const MaxPathHops = 6

// Step is one node of a path and the edge that led to it (none for the first).
type Step struct {
	Node    NodeID
	Link    LinkType // relation when !Money
	Money   bool
	Tx      uint32 // the first allowed transaction of the pair, when Money
	Amount  int64
	Time    int64
	Forward bool // the edge points along the path (money sent, link owned)
}

// Path is a walk from the first step's node to the last one's.
type Path []Step

// Hops returns the number of edges.
func (p Path) Hops() int { return max(len(p)-1, 0) }

func (o PathOptions) norm() PathOptions {
	if o.MaxHops < 1 || o.MaxHops > MaxPathHops {
		o.MaxHops = MaxPathHops
	}
	return o
}

func degree(ix *Index, v NodeID) int {
	return int(ix.outOff[v+1]-ix.outOff[v]) + int(ix.inOff[v+1]-ix.inOff[v]) + int(ix.linkOff[v+1]-ix.linkOff[v])
}

// pather holds the state of one path search.
type pather struct {
	ctx   context.Context
	ix    *Index
	opt   PathOptions
	fwd   edgeFilter
	rev   edgeFilter // the filter walked from the target side
	start NodeID
	steps int
	err   error
}

func newPather(ctx context.Context, ix *Index, opt PathOptions) *pather {
	opt = opt.norm()
	return &pather{ctx: ctx, ix: ix, opt: opt,
		fwd: newEdgeFilter(opt.Kinds, opt.Relations, time.Time{}, time.Time{}, math.MinInt64, opt.Directed),
		rev: newEdgeFilter(nil, opt.Relations, time.Time{}, time.Time{}, math.MinInt64, opt.Directed)}
}

func (p *pather) tick() bool {
	if p.steps++; p.steps%4096 == 0 && p.err == nil {
		p.err = p.ctx.Err()
	}
	return p.err == nil
}

func (p *pather) passable(v NodeID) bool {
	return p.opt.MaxDegree <= 0 || degree(p.ix, v) <= p.opt.MaxDegree
}

// eachIn calls fn for every allowed edge arriving at v along the path
// direction (its predecessors), for walks from the target backwards.
func (p *pather) eachIn(v NodeID, fn func(hop) bool) {
	if !p.opt.Directed {
		p.rev.eachHop(p.ix, v, fn)
		return
	}
	f := &p.rev
	for _, e := range p.ix.InTx(v) {
		if f.txOK(e) && f.kindOK(p.ix, e.Other) && !fn(hop{to: e.Other, isTx: true, forward: true, e: e}) {
			return
		}
	}
	for _, l := range p.ix.Links(v) {
		if !l.Out && f.rels.HasLink(l.Type) && f.kindOK(p.ix, l.Other) && !fn(hop{to: l.Other, link: l.Type, forward: true}) {
			return
		}
	}
}

// distTo returns the hop distance of every node to b (walking predecessor
// edges), up to limit; unreached nodes get -1.
func (p *pather) distTo(b NodeID, limit int) []int8 {
	dist := make([]int8, p.ix.Len())
	for i := range dist {
		dist[i] = -1
	}
	dist[b] = 0
	frontier := []NodeID{b}
	for d := 1; d <= limit && len(frontier) > 0; d++ {
		var next []NodeID
		for _, v := range frontier {
			if d > 1 && !p.passable(v) {
				continue
			}
			p.eachIn(v, func(h hop) bool {
				if !p.tick() {
					return false
				}
				if dist[h.to] < 0 && (h.to == p.start || p.fwd.kindOK(p.ix, h.to)) {
					dist[h.to] = int8(d)
					next = append(next, h.to)
				}
				return true
			})
			if p.err != nil {
				return nil
			}
		}
		frontier = next
	}
	return dist
}

// ShortestPath returns a path with the fewest hops from a to b, or false
// when none is within opt.MaxHops. Among equally short paths it returns the
// one whose node ids are smallest, step by step.
func ShortestPath(ctx context.Context, ix *Index, a, b NodeID, opt PathOptions) (Path, bool, error) {
	paths, err := KShortestPaths(ctx, ix, a, b, opt, 1)
	if err != nil || len(paths) == 0 {
		return nil, false, err
	}
	return paths[0], true, nil
}

// KShortestPaths returns up to k simple paths from a to b with the fewest
// hops, shortest first; paths of equal length come in order of their node
// ids. Paths differ in their nodes: parallel edges between the same pair
// are one step (the first allowed transaction, or the link).
func KShortestPaths(ctx context.Context, ix *Index, a, b NodeID, opt PathOptions, k int) ([]Path, error) {
	if int(a) >= ix.Len() || int(b) >= ix.Len() {
		return nil, fmt.Errorf("paths %d → %d: %w", a, b, ErrNotFound)
	}
	if k < 1 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("paths %s → %s: %w", ix.Ref(a), ix.Ref(b), err)
	}
	p := newPather(ctx, ix, opt)
	p.start = a
	if a == b {
		return []Path{{{Node: a}}}, nil
	}
	// A bidirectional search finds the shortest length, or that there is no
	// path, without walking the whole ball around b; for one path it also
	// bounds the walk that picks it.
	m := p.meet(a, b)
	if p.err != nil {
		return nil, fmt.Errorf("paths %s → %s: %w", ix.Ref(a), ix.Ref(b), p.err)
	}
	if m.length < 0 {
		return nil, nil
	}
	if k == 1 {
		path := p.firstShortest(a, b, m)
		if p.err != nil {
			return nil, fmt.Errorf("paths %s → %s: %w", ix.Ref(a), ix.Ref(b), p.err)
		}
		if path != nil {
			return []Path{path}, nil
		}
		// Not reached: the meeting proves a path of that length exists.
	}
	return p.kShortest(a, b, k)
}

// kShortest enumerates up to k simple paths from a to b by length, then
// node ids, with a depth-first search pruned by the distance to b.
func (p *pather) kShortest(a, b NodeID, k int) ([]Path, error) {
	ix := p.ix
	dist := p.distTo(b, p.opt.MaxHops)
	if p.err != nil {
		return nil, fmt.Errorf("paths %s → %s: %w", ix.Ref(a), ix.Ref(b), p.err)
	}
	if dist[a] < 0 {
		return nil, nil
	}
	var out []Path
	onPath := map[NodeID]bool{a: true}
	cur := Path{{Node: a}}
	// Depth-first search in node order, one length at a time: the distance
	// to b prunes every branch that cannot arrive within the length.
	var dfs func(v NodeID, left int)
	dfs = func(v NodeID, left int) {
		if len(out) >= k || p.err != nil {
			return
		}
		if v != a && !p.passable(v) {
			return
		}
		for _, s := range p.successors(v) {
			if !p.tick() {
				return
			}
			d := dist[s.Node]
			if d < 0 || int(d) > left-1 || onPath[s.Node] {
				continue
			}
			if s.Node == b {
				if left == 1 {
					out = append(out, slices.Clone(append(cur, s)))
					if len(out) >= k {
						return
					}
				}
				continue
			}
			if left == 1 {
				continue
			}
			onPath[s.Node] = true
			cur = append(cur, s)
			dfs(s.Node, left-1)
			cur = cur[:len(cur)-1]
			delete(onPath, s.Node)
			if len(out) >= k || p.err != nil {
				return
			}
		}
	}
	for length := int(dist[a]); length <= p.opt.MaxHops && len(out) < k; length++ {
		dfs(a, length)
		if p.err != nil {
			return nil, fmt.Errorf("paths %s → %s: %w", ix.Ref(a), ix.Ref(b), p.err)
		}
	}
	return out, nil
}

// successors lists v's allowed neighbours once each, by node id, with the
// first allowed edge to each (transactions before links).
func (p *pather) successors(v NodeID) []Step {
	var steps []Step
	seen := map[NodeID]bool{}
	p.fwd.eachHop(p.ix, v, func(h hop) bool {
		if seen[h.to] || h.to == v {
			return true
		}
		seen[h.to] = true
		s := Step{Node: h.to, Forward: h.forward}
		if h.isTx {
			s.Money, s.Tx, s.Amount, s.Time = true, h.e.Tx, h.e.Amount, h.e.Time
		} else {
			s.Link = h.link
		}
		steps = append(steps, s)
		return true
	})
	slices.SortFunc(steps, func(x, y Step) int { return cmp.Compare(x.Node, y.Node) })
	return steps
}
