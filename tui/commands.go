package tui

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"casegraph/backend"
	"casegraph/graph"
	"casegraph/tui/graphview"
)

// Page size of the transactions table and row budget of the neighbours pane.
const (
	txPageSize    = 50
	neighborLimit = 500
)

type statsLoadedMsg struct {
	stats graph.Stats
	err   error
}

type entityLoadedMsg struct {
	ref graph.Ref
	ent graph.Entity
	err error
}

type neighborsLoadedMsg struct {
	ref   graph.Ref
	via   graph.Ref // the held instrument a holder's rows were narrowed to
	rows  []graph.Neighbor
	total int
	err   error
}

type txnsLoadedMsg struct {
	ref  graph.Ref
	q    graph.TxQuery
	page graph.TxPage
	err  error
}

type hoodLoadedMsg struct {
	req  graphview.RequestMsg
	hood graph.Hood
	err  error
}

func loadStats(ctx context.Context, b Backend) tea.Cmd {
	return func() tea.Msg {
		s, err := b.Stats(ctx)
		if err != nil {
			err = fmt.Errorf("load stats: %w", err)
		}
		return statsLoadedMsg{stats: s, err: err}
	}
}

func loadEntity(ctx context.Context, b Backend, ref graph.Ref) tea.Cmd {
	return func() tea.Msg {
		e, err := b.Entity(ctx, ref)
		if err != nil {
			err = fmt.Errorf("load %s: %w", ref, err)
		}
		return entityLoadedMsg{ref: ref, ent: e, err: err}
	}
}

func loadNeighbors(ctx context.Context, b Backend, ref graph.Ref) tea.Cmd {
	return func() tea.Msg {
		rows, total, err := b.Neighbors(ctx, ref, neighborLimit)
		if err != nil {
			err = fmt.Errorf("load neighbours of %s: %w", ref, err)
		}
		return neighborsLoadedMsg{ref: ref, rows: rows, total: total, err: err}
	}
}

// holdingsLoadedMsg carries what a person or organisation holds.
type holdingsLoadedMsg struct {
	ref graph.Ref
	h   graph.Holdings
	err error
}

// loadHoldings asks what ref holds, for a person or an organisation.
func loadHoldings(ctx context.Context, b Backend, ref graph.Ref) tea.Cmd {
	return func() tea.Msg {
		h, err := b.Holdings(ctx, ref, graph.MaxMerged-1)
		if err != nil {
			err = fmt.Errorf("load holdings of %s: %w", ref, err)
		}
		return holdingsLoadedMsg{ref: ref, h: h, err: err}
	}
}

// loadHolderNeighbors is loadNeighbors of a person or organisation: their
// links and the counterparties of what they hold (or of the one instrument via).
func loadHolderNeighbors(ctx context.Context, b Backend, ref, via graph.Ref) tea.Cmd {
	return func() tea.Msg {
		rows, total, err := b.HolderNeighbors(ctx, ref, via, neighborLimit)
		if err != nil {
			err = fmt.Errorf("load neighbours of %s: %w", ref, err)
		}
		return neighborsLoadedMsg{ref: ref, via: via, rows: rows, total: total, err: err}
	}
}

func loadTxns(ctx context.Context, b Backend, ref graph.Ref, q graph.TxQuery) tea.Cmd {
	return func() tea.Msg {
		p, err := b.Transactions(ctx, ref, q)
		if err != nil {
			err = fmt.Errorf("load transactions of %s: %w", ref, err)
		}
		return txnsLoadedMsg{ref: ref, q: q, page: p, err: err}
	}
}

// expandHood runs graph.Expand over the backend's neighbour rows. On a
// backend that can (backend.Prefetcher: a Dgraph cluster) each hop's nodes
// are prefetched together, in batches of backend.MaxPrefetch, before the
// hop reads them one by one.
func expandHood(ctx context.Context, b Backend, req graphview.RequestMsg) tea.Cmd {
	return func() tea.Msg {
		nb := func(ctx context.Context, r graph.Ref) ([]graph.Neighbor, error) {
			rows, _, err := b.Neighbors(ctx, r, graph.HubDegree+1)
			return rows, err
		}
		opts := req.Opts
		if p, ok := b.(backend.Prefetcher); ok {
			opts.Prefetch = func(ctx context.Context, refs []graph.Ref) {
				for lo := 0; lo < len(refs); lo += backend.MaxPrefetch {
					// A failure only means nothing was warmed: nb reads them.
					_ = p.PrefetchNeighbors(ctx, refs[lo:min(len(refs), lo+backend.MaxPrefetch)])
				}
			}
		}
		h, err := graph.Expand(ctx, req.Center, opts, nb)
		if err != nil {
			err = fmt.Errorf("expand %s: %w", req.Center, err)
		} else {
			// Each node's risk from the current or kept analysis; without
			// one the drawing goes without marks.
			refs := make([]graph.Ref, len(h.Nodes))
			for i, n := range h.Nodes {
				refs[i] = n.Ref
			}
			if marks, merr := b.RiskMarks(ctx, refs); merr == nil {
				for i := range h.Nodes {
					h.Nodes[i].Risk = marks[h.Nodes[i].Ref]
				}
			}
		}
		return hoodLoadedMsg{req: req, hood: h, err: err}
	}
}
