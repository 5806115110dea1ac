package search

import (
	"context"
	"fmt"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
)

// Search over a server (docs/DGRAPH.md, "Search on a cluster").
//
// On a Dgraph cluster every query is a round trip of up to a second. The
// pane then runs two searches per keystroke: the local one (SearchLocal,
// over what this machine holds) at once, and the server's (Search) after
// Debounce, in a command whose context the next keystroke cancels, so that
// a fast typist's intermediate prefixes never reach the cluster and a query
// in flight is abandoned. Both answers carry the keystroke's sequence number;
// an answer of an older keystroke is dropped whenever it arrives. The second
// answer to arrive is merged into the first (mergeHits).

// Debounce is how long the pane waits after a keystroke before asking the
// server: a little longer than the 120–180 ms between the keys of a fast
// typist, so the server is asked when typing pauses.
const Debounce = 200 * time.Millisecond

// LocalFirst is a Searcher whose Search asks a server over the network (a
// workbench on a Dgraph cluster). The pane shows SearchLocal's hits at once
// and merges Search's after Debounce.
type LocalFirst interface {
	Searcher
	// SearchLocal answers from what this machine holds, within a
	// keystroke; it never waits on the network.
	SearchLocal(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error)
	// SearchServer names what Search asks ("cluster"); "" when Search is
	// local already (a folder: one index, no debounce).
	SearchServer() string
}

// serverState is what became of the server's answer to the latest query.
type serverState struct {
	waiting bool  // asked (or about to be), not answered yet
	in      bool  // answered and merged
	added   int   // hits the answer added to the local ones
	err     error // the answer was an error; the local hits stay
}

// searchFunc is Searcher.Search or LocalFirst.SearchLocal.
type searchFunc func(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error)

// serverQuery asks the server after wait unless ctx is cancelled first (a
// newer keystroke); a query cancelled in flight answers nothing.
func serverQuery(ctx context.Context, src Searcher, name string, now func() time.Time, wait time.Duration,
	seq int, q string, kind graph.Kind, limit int) tea.Cmd {
	return func() tea.Msg {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		start := now()
		res, err := src.Search(ctx, q, kind, limit)
		if ctx.Err() != nil {
			return nil // a newer keystroke obsoleted it
		}
		if err != nil {
			err = fmt.Errorf("%s search %q: %w", name, q, err)
		}
		return ResultsMsg{Seq: seq, Limit: limit, Res: res, Took: now().Sub(start), Err: err, Server: true}
	}
}

// stopServer cancels the wait for, or the query of, the server's answer to
// the previous keystroke.
func (m *Model) stopServer() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.server = serverState{}
}

// applyServer takes the server's answer to the query shown: merged into the
// local hits when they are in, shown as it is when they are not (or the
// local search failed); an error leaves the local hits on screen.
func (m *Model) applyServer(msg ResultsMsg) {
	m.server.waiting = false
	m.cancel = nil
	if msg.Err != nil {
		m.server.err = msg.Err
		return
	}
	m.server.in = true
	if m.busy || m.err != nil {
		m.show(msg)
		m.server.added = len(msg.Res.Hits)
		return
	}
	m.server.added = m.merge(msg.Res)
	m.limit, m.done = max(msg.Limit, m.limit), false
	m.serverTook = msg.Took
}

// merge merges res, another answer to the query shown, into the hits shown
// (mergeHits) and returns how many hits it added.
func (m *Model) merge(res graph.SearchResult) int {
	pin := 0
	if i, ok := m.list.Index(); ok && i > 0 {
		pin = i + 1
	}
	hits, added := mergeHits(m.res.Hits, res.Hits, pin)
	m.res.Hits = hits
	m.res.Total = max(m.res.Total, res.Total, len(hits))
	m.hits = newHitCache()
	m.list.SetRows(len(hits), nil)
	m.list.SetTotal(m.res.Total)
	return added
}

// mergeHits is the union of shown and more, two answers to the same query,
// one hit per entity: the first pin hits shown (the rows the cursor moved
// through, so the selected row stays under the cursor) keep their places,
// and the rest of the union follows ranked by graph.CompareHits, the
// ranking both answers were ranked by, so the hits shown keep their order
// among themselves and those of more are placed among them by rank. An
// entity in both is more's hit (the newer answer), at its rank. added
// counts the entities of more that were not shown.
func mergeHits(shown, more []graph.SearchHit, pin int) (hits []graph.SearchHit, added int) {
	pin = min(pin, len(shown))
	at := make(map[graph.Ref]int, len(shown)+len(more))
	hits = make([]graph.SearchHit, 0, len(shown)+len(more))
	for _, h := range shown {
		if _, dup := at[h.Doc.Ref]; !dup {
			at[h.Doc.Ref] = len(hits)
			hits = append(hits, h)
		}
	}
	for _, h := range more {
		i, ok := at[h.Doc.Ref]
		switch {
		case !ok:
			at[h.Doc.Ref] = len(hits)
			hits = append(hits, h)
			added++
		case i >= pin:
			hits[i] = h
		}
	}
	slices.SortStableFunc(hits[min(pin, len(hits)):], graph.CompareHits)
	return hits, added
}

// serverFooter says what became of the server's answer: "cluster…" while
// it is awaited, "+312 from cluster" once merged, "cluster failed" (the
// root shows why) with the local hits still listed.
func (m Model) serverFooter() string {
	switch s := m.server; {
	case m.local == nil || m.ran == "" && !m.busy:
		return ""
	case s.waiting:
		return " · " + m.serverName + "…"
	case s.err != nil:
		return " · " + m.serverName + " failed"
	case s.in:
		return fmt.Sprintf(" · +%s from %s in %s", group(s.added), m.serverName, fmtDur(m.serverTook))
	}
	return ""
}
