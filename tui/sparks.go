package tui

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/tui/chart"
)

// Sparklines: one cell per period of an entity's activity, beside each
// neighbour (its transactions with that counterparty over the entity's
// span) and each flagged entity (its own transactions). Both come from
// Backend.Activity: the neighbours' from one pass over the entity's rows
// (series by counterparty), the flag list's for the rows on screen only
// (series by reference), asked again as the list scrolls to rows without.

// sparkW is the cells of a sparkline: one per period.
const sparkW = 12

type sparkOwner uint8

const (
	sparkNeighbors sparkOwner = iota + 1
	sparkFlags
)

type sparksLoadedMsg struct {
	owner sparkOwner
	ref   graph.Ref // the entity whose neighbours the series are of
	refs  []graph.Ref
	act   graph.Activity
	err   error
}

func loadSparks(ctx context.Context, b Backend, owner sparkOwner, ref graph.Ref, q graph.ActivityQuery) tea.Cmd {
	return func() tea.Msg {
		a, err := b.Activity(ctx, q)
		if err != nil {
			err = fmt.Errorf("load activity for sparklines: %w", err)
		}
		return sparksLoadedMsg{owner: owner, ref: ref, refs: q.Refs, act: a, err: err}
	}
}

// loadNeighborSparks asks for ref's activity by counterparty.
func (m *Model) loadNeighborSparks(ref graph.Ref) tea.Cmd {
	q := graph.ActivityQuery{Refs: []graph.Ref{ref}, Cols: sparkW, Loc: m.loc, Series: graph.SeriesByCounterparty}
	return loadSparks(m.ctx, m.b, sparkNeighbors, ref, q)
}

// flagSparks asks for the sparklines of the flag rows on screen that have
// none yet.
func (m *Model) flagSparks() tea.Cmd {
	v := &m.ana.flags
	if !v.loaded {
		return nil
	}
	if v.sparks == nil {
		v.sparks = map[graph.Ref][]int{}
	}
	var refs []graph.Ref
	for _, i := range v.nav.Visible() {
		if i >= len(v.list.Rows) {
			continue
		}
		r := v.list.Rows[i].Ref
		if _, asked := v.sparks[r]; !asked {
			v.sparks[r] = nil // asked: not asked again while on its way
			refs = append(refs, r)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	q := graph.ActivityQuery{Refs: refs, Cols: sparkW, Loc: m.loc, Series: graph.SeriesByRef}
	return loadSparks(m.ctx, m.b, sparkFlags, graph.Ref{}, q)
}

// applySparks files loaded series where they are drawn.
func (m *Model) applySparks(msg sparksLoadedMsg) {
	if msg.err != nil {
		m.setStatus(msg.err.Error(), true)
		return
	}
	switch msg.owner {
	case sparkNeighbors:
		if msg.ref == m.ent.ref {
			m.ent.sparks = msg.act.Series
		}
	case sparkFlags:
		v := &m.ana.flags
		if v.sparks == nil {
			return
		}
		for _, r := range msg.refs {
			if s, ok := msg.act.Series[r]; ok {
				v.sparks[r] = s
			} else if _, asked := v.sparks[r]; asked {
				v.sparks[r] = []int{} // no transactions: a blank line, not asked again
			}
		}
	}
}

// sparkline draws series (nil: not loaded) in sparkW cells.
func (m *Model) sparkline(series []int) string {
	if series == nil {
		return m.st.Muted.Render(chart.Sparkline(nil, sparkW))
	}
	return m.st.Accent.Render(chart.Sparkline(series, sparkW))
}
