package graph

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// Component is one connected component: an "operation" when computed over
// identity links.
type Component struct {
	Nodes []NodeID // ascending
}

// Components returns the connected components over the links in rels
// (IdentityRelations when zero) that have at least two nodes, largest first,
// then by smallest node.
func Components(ctx context.Context, ix *Index, rels RelSet) ([]Component, error) {
	if rels == 0 {
		rels = IdentityRelations
	}
	n := ix.Len()
	parent := make([]NodeID, n)
	for i := range parent {
		parent[i] = NodeID(i)
	}
	find := func(x NodeID) NodeID {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for v := range NodeID(n) {
		if v%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("components: %w", err)
			}
		}
		for _, l := range ix.Links(v) {
			if !l.Out || !rels.HasLink(l.Type) {
				continue
			}
			a, b := find(v), find(l.Other)
			if a != b {
				// The smaller id becomes the root, so labels do not depend on link order.
				if a < b {
					parent[b] = a
				} else {
					parent[a] = b
				}
			}
		}
	}
	size := make([]int32, n)
	for v := range NodeID(n) {
		size[find(v)]++
	}
	var out []Component
	index := make(map[NodeID]int)
	for v := range NodeID(n) {
		r := find(v)
		if size[r] < 2 {
			continue
		}
		i, ok := index[r]
		if !ok {
			i = len(out)
			index[r] = i
			out = append(out, Component{Nodes: make([]NodeID, 0, size[r])})
		}
		out[i].Nodes = append(out[i].Nodes, v)
	}
	slices.SortStableFunc(out, func(a, b Component) int {
		if c := cmp.Compare(len(b.Nodes), len(a.Nodes)); c != 0 {
			return c
		}
		return cmp.Compare(a.Nodes[0], b.Nodes[0])
	})
	return out, nil
}

// CommunityOptions tune community detection over money.
type CommunityOptions struct {
	Channels     RelSet  // channels whose transactions weigh; zero means all
	Resolution   float64 // modularity resolution; 0 means 1
	ExcludeKinds []Kind  // nodes left out of the money graph; nil means the cash endpoint only
	// MaxDegree, when positive, leaves out nodes with more counterparties
	// than this: a big exchange would otherwise glue unrelated groups.
	MaxDegree int
	MinSize   int // smallest community returned; below 2 means 2
}

// Community is one suspected group: instruments that move money mostly
// among themselves, and the persons holding them.
type Community struct {
	Instruments []NodeID // nodes of the money graph, ascending
	Members     []NodeID // persons holding those instruments, ascending
	Turnover    int64    // sum of the transactions inside the community (minor units, currencies not converted)
	TxCount     int
	First, Last int64 // unix seconds of the first and last transaction inside
}

// wgraph is an undirected weighted graph in CSR form; a self loop's weight
// is stored once and counts twice in degrees, as in modularity.
type wgraph struct {
	off []int32
	to  []int32
	w   []float64
}

func (g *wgraph) n() int { return len(g.off) - 1 }

// Communities detects groups in the money graph with Louvain (modularity,
// weights = summed amounts, direction ignored), then splits any community
// that is not connected, which Louvain can produce. Nodes are visited in id
// order and ties go to the smallest community, so the result is deterministic.
func Communities(ctx context.Context, ix *Index, opt CommunityOptions) ([]Community, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("communities: %w", err)
	}
	gamma := opt.Resolution
	if gamma <= 0 {
		gamma = 1
	}
	minSize := max(opt.MinSize, 2)
	excluded := make([]bool, kindCount)
	if opt.ExcludeKinds == nil {
		excluded[KindCash] = true
	}
	for _, k := range opt.ExcludeKinds {
		if k < kindCount {
			excluded[k] = true
		}
	}
	// Local numbering: nodes with at least one weighing transaction, in id order.
	n := ix.Len()
	local := make([]int32, n)
	var nodes []NodeID
	keep := func(v NodeID) bool {
		return !excluded[ix.kinds[v]] && (opt.MaxDegree <= 0 || degree(ix, v) <= opt.MaxDegree)
	}
	for v := range NodeID(n) {
		local[v] = -1
		if !keep(v) {
			continue
		}
		for _, e := range ix.OutTx(v) {
			if e.Other != v && opt.Channels.HasChannel(e.Channel) && keep(e.Other) {
				local[v] = 0
				break
			}
		}
		if local[v] < 0 {
			for _, e := range ix.InTx(v) {
				if e.Other != v && opt.Channels.HasChannel(e.Channel) && keep(e.Other) {
					local[v] = 0
					break
				}
			}
		}
		if local[v] == 0 {
			local[v] = int32(len(nodes))
			nodes = append(nodes, v)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("communities: %w", err)
	}
	// Base graph: per node, the summed amounts to each counterparty.
	base := &wgraph{off: make([]int32, len(nodes)+1)}
	acc := map[int32]float64{}
	var nbrs []int32
	for i, v := range nodes {
		clear(acc)
		nbrs = nbrs[:0]
		add := func(e TxEdge) {
			if e.Other == v || !opt.Channels.HasChannel(e.Channel) || local[e.Other] < 0 {
				return
			}
			j := local[e.Other]
			if _, ok := acc[j]; !ok {
				nbrs = append(nbrs, j)
			}
			acc[j] += float64(max(e.Amount, 1))
		}
		for _, e := range ix.OutTx(v) {
			add(e)
		}
		for _, e := range ix.InTx(v) {
			add(e)
		}
		slices.Sort(nbrs)
		for _, j := range nbrs {
			base.to = append(base.to, j)
			base.w = append(base.w, acc[j])
		}
		base.off[i+1] = int32(len(base.to))
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("communities: %w", err)
			}
		}
	}
	// Louvain levels.
	label := make([]int32, len(nodes)) // base node → community
	for i := range label {
		label[i] = int32(i)
	}
	g := base
	for level := 0; level < 32; level++ {
		comm, moved, err := louvainLevel(ctx, g, gamma)
		if err != nil {
			return nil, fmt.Errorf("communities: %w", err)
		}
		if !moved {
			break
		}
		for i := range label {
			label[i] = comm[label[i]]
		}
		g = aggregate(g, comm)
	}
	label = splitDisconnected(base, label)
	return describeCommunities(ix, nodes, label, local, opt, minSize), nil
}

// louvainLevel moves nodes between communities while modularity improves and
// returns dense community labels (numbered by first node) and whether any
// node moved.
func louvainLevel(ctx context.Context, g *wgraph, gamma float64) ([]int32, bool, error) {
	n := g.n()
	comm := make([]int32, n)
	k := make([]float64, n)
	tot := make([]float64, n)
	var m2 float64
	for i := range n {
		comm[i] = int32(i)
		for p := g.off[i]; p < g.off[i+1]; p++ {
			w := g.w[p]
			if g.to[p] == int32(i) {
				w *= 2
			}
			k[i] += w
		}
		tot[i] = k[i]
		m2 += k[i]
	}
	if m2 == 0 {
		return comm, false, nil
	}
	wc := make([]float64, n)
	var touched []int32
	movedAny := false
	for pass := 0; pass < 64; pass++ {
		moves := 0
		for i := range n {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, false, err
				}
			}
			ci := comm[i]
			touched = touched[:0]
			for p := g.off[i]; p < g.off[i+1]; p++ {
				j := g.to[p]
				if j == int32(i) {
					continue
				}
				c := comm[j]
				if wc[c] == 0 {
					touched = append(touched, c)
				}
				wc[c] += g.w[p]
			}
			tot[ci] -= k[i]
			best, bestGain := ci, wc[ci]-gamma*tot[ci]*k[i]/m2
			slices.Sort(touched)
			for _, c := range touched {
				gain := wc[c] - gamma*tot[c]*k[i]/m2
				if gain > bestGain+1e-12*math.Abs(bestGain)+1e-9 {
					best, bestGain = c, gain
				}
			}
			for _, c := range touched {
				wc[c] = 0
			}
			tot[best] += k[i]
			if best != ci {
				comm[i] = best
				moves++
				movedAny = true
			}
		}
		if moves == 0 {
			break
		}
	}
	// Renumber densely in order of first node.
	re := make([]int32, n)
	for i := range re {
		re[i] = -1
	}
	next := int32(0)
	for i := range n {
		if re[comm[i]] < 0 {
			re[comm[i]] = next
			next++
		}
		comm[i] = re[comm[i]]
	}
	return comm, movedAny && int(next) < n, nil
}

// aggregate collapses each community of g into one node.
func aggregate(g *wgraph, comm []int32) *wgraph {
	nc := 0
	for _, c := range comm {
		nc = max(nc, int(c)+1)
	}
	members := make([][]int32, nc)
	for i, c := range comm {
		members[c] = append(members[c], int32(i))
	}
	out := &wgraph{off: make([]int32, nc+1)}
	acc := make([]float64, nc)
	var nbrs []int32
	for c := range nc {
		nbrs = nbrs[:0]
		self := 0.0
		for _, i := range members[c] {
			for p := g.off[i]; p < g.off[i+1]; p++ {
				d := comm[g.to[p]]
				if d == int32(c) {
					// Each internal edge is seen from both ends; a self loop once.
					if g.to[p] == i {
						self += g.w[p]
					} else {
						self += g.w[p] / 2
					}
					continue
				}
				if acc[d] == 0 {
					nbrs = append(nbrs, d)
				}
				acc[d] += g.w[p]
			}
		}
		slices.Sort(nbrs)
		if self > 0 {
			out.to = append(out.to, int32(c))
			out.w = append(out.w, self)
		}
		for _, d := range nbrs {
			out.to = append(out.to, d)
			out.w = append(out.w, acc[d])
			acc[d] = 0
		}
		out.off[c+1] = int32(len(out.to))
	}
	return out
}

// splitDisconnected relabels so that every community is connected in g.
func splitDisconnected(g *wgraph, label []int32) []int32 {
	n := g.n()
	out := make([]int32, n)
	for i := range out {
		out[i] = -1
	}
	next := int32(0)
	var stack []int32
	for s := range n {
		if out[s] >= 0 {
			continue
		}
		out[s] = next
		stack = append(stack[:0], int32(s))
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for p := g.off[v]; p < g.off[v+1]; p++ {
				u := g.to[p]
				if out[u] < 0 && label[u] == label[v] {
					out[u] = next
					stack = append(stack, u)
				}
			}
		}
		next++
	}
	return out
}

func describeCommunities(ix *Index, nodes []NodeID, label []int32, local []int32, opt CommunityOptions, minSize int) []Community {
	nc := 0
	for _, c := range label {
		nc = max(nc, int(c)+1)
	}
	cs := make([]Community, nc)
	for i, v := range nodes {
		cs[label[i]].Instruments = append(cs[label[i]].Instruments, v)
	}
	var out []Community
	for _, c := range cs {
		if len(c.Instruments) < minSize {
			continue
		}
		c.First, c.Last = math.MaxInt64, math.MinInt64
		var persons []NodeID
		for _, v := range c.Instruments {
			lv := label[local[v]]
			for _, e := range ix.OutTx(v) {
				if e.Other == v || !opt.Channels.HasChannel(e.Channel) || local[e.Other] < 0 || label[local[e.Other]] != lv {
					continue
				}
				c.Turnover = AddSat(c.Turnover, e.Amount)
				c.TxCount++
				c.First, c.Last = min(c.First, e.Time), max(c.Last, e.Time)
			}
			for _, l := range ix.Links(v) {
				if !l.Out && l.Type == LinkHolds && ix.kinds[l.Other] == KindPerson {
					persons = append(persons, l.Other)
				}
			}
		}
		if c.TxCount == 0 {
			c.First, c.Last = 0, 0
		}
		slices.Sort(persons)
		c.Members = slices.Compact(persons)
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b Community) int {
		if c := cmp.Compare(b.Turnover, a.Turnover); c != 0 {
			return c
		}
		return cmp.Compare(a.Instruments[0], b.Instruments[0])
	})
	return out
}
