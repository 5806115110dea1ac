package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"casegraph/backend"
	"casegraph/graph"
)

// PrefetchLimit bounds the neighbours of an entity page whose summaries
// are prefetched: the first rows, those on screen and a few pages more.
const PrefetchLimit = 100

// prefetchNeighbors warms the neighbour summaries of the first
// PrefetchLimit neighbours listed on ref's page when b can
// (backend.Prefetcher: a Dgraph cluster, in one multi-uid query), so that
// opening one of them does not wait on the network. It runs beside the
// page and answers nothing: a failure only means nothing was warmed.
func prefetchNeighbors(ctx context.Context, b Backend, ref graph.Ref, rows []graph.Neighbor) tea.Cmd {
	p, ok := b.(backend.Prefetcher)
	if !ok {
		return nil
	}
	seen := map[graph.Ref]bool{ref: true}
	var refs []graph.Ref
	for _, r := range rows {
		if !seen[r.Ref] && len(refs) < PrefetchLimit {
			seen[r.Ref] = true
			refs = append(refs, r.Ref)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	return func() tea.Msg {
		_ = p.PrefetchNeighbors(ctx, refs)
		return nil
	}
}
