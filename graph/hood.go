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
	Hops     int    // hops from the center; values below 1 mean 1
	MaxNodes int    // node budget including the center; values below 1 mean DefaultHoodMaxNodes
	Kinds    []Kind // kinds a neighbour must have to be included; empty means all
	// MinAmount drops monetary edges (relations that are channel names) whose
	// summed amount is below it. Non-monetary links are always kept.
	MinAmount int64
}

// DefaultHoodMaxNodes is the node budget used when HoodOptions.MaxNodes is unset.
const DefaultHoodMaxNodes = 300

// HubDegree is the neighbour count above which an entity other than the
// center is listed but not expanded through: walking through a hub (a big
// exchange, a payroll account) would drown the view in unrelated entities.
const HubDegree = 200

type hoodEdgeKey struct {
	from, to Ref
	relation string
}

// Expand walks breadth first from center, hop by hop, and returns the
// entities and edges it found. Neighbours are visited heaviest edge first
// (amount, then count, then reference), so the result is deterministic and,
// when MaxNodes cuts it short, keeps the strongest links. The cash endpoint
// and hubs (more than HubDegree neighbours) are listed but never expanded,
// unless they are the center itself.
func Expand(ctx context.Context, center Ref, opt HoodOptions, nb NeighborFunc) (Hood, error) {
	hops := max(opt.Hops, 1)
	maxNodes := opt.MaxNodes
	if maxNodes < 1 {
		maxNodes = DefaultHoodMaxNodes
	}
	var allowed map[Kind]bool
	if len(opt.Kinds) > 0 {
		allowed = make(map[Kind]bool, len(opt.Kinds))
		for _, k := range opt.Kinds {
			allowed[k] = true
		}
	}

	h := Hood{Center: center}
	index := map[Ref]int{center: 0}
	h.Nodes = append(h.Nodes, HoodNode{Ref: center, Hop: 0, Degree: -1, Hub: center.Kind == KindCash})
	seenEdge := make(map[hoodEdgeKey]int)

	frontier := []int{0}
	for hop := 1; hop <= hops && len(frontier) > 0; hop++ {
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
			rows = sortedNeighbors(rows)
			for _, r := range rows {
				if allowed != nil && !allowed[r.Ref.Kind] && r.Ref != center {
					continue
				}
				if opt.MinAmount > 0 && r.Amount < opt.MinAmount && isMonetary(r.Relation) {
					continue
				}
				oi, ok := index[r.Ref]
				if !ok {
					if len(h.Nodes) >= maxNodes {
						h.Truncated = true
						continue
					}
					oi = len(h.Nodes)
					index[r.Ref] = oi
					h.Nodes = append(h.Nodes, HoodNode{Ref: r.Ref, Name: r.Name, Hop: hop, Degree: -1,
						Hub: r.Ref.Kind == KindCash})
					next = append(next, oi)
				} else if h.Nodes[oi].Name == "" {
					h.Nodes[oi].Name = r.Name
				}
				e := HoodEdge{From: ref, To: r.Ref, Relation: r.Relation, Count: r.Count, Amount: r.Amount}
				if r.Dir == DirIn {
					e.From, e.To = r.Ref, ref
				}
				k := hoodEdgeKey{e.From, e.To, e.Relation}
				if _, dup := seenEdge[k]; dup {
					continue
				}
				seenEdge[k] = len(h.Edges)
				h.Edges = append(h.Edges, e)
			}
		}
		frontier = next
	}
	return h, nil
}

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
