package tui

import (
	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/internal/safetext"
)

// ChangedMsg tells the TUI that another user changed the database it shows
// (a team server sends it when another session bookmarks, writes a note,
// records a verdict or changes a case): the TUI reloads the cases and the
// verdict of the entity on screen, and names who did what in the status
// line.
type ChangedMsg struct {
	User   string
	What   string    // e.g. `bookmarked card 4400 43•• •••• 0007`
	CaseID string    // the case changed, if any
	Ref    graph.Ref // the entity changed (a verdict), if any
}

// updateTeam handles ChangedMsg; ok reports whether msg was one.
func (m *Model) updateTeam(msg tea.Msg) (tea.Cmd, bool) {
	if rv, ok := msg.(remoteVerdictMsg); ok {
		if rv.err == nil {
			m.applyVerdict(rv.ref, rv.v, rv.ok)
		}
		return nil, true
	}
	c, ok := msg.(ChangedMsg)
	if !ok {
		return nil, false
	}
	m.setStatus(safetext.Line(c.User+" "+c.What), false)
	cmds := []tea.Cmd{loadCases(m.ctx, m.b)}
	if !c.Ref.IsZero() {
		ctx, b, ref := m.ctx, m.b, c.Ref
		cmds = append(cmds, func() tea.Msg {
			v, ok, err := b.Verdict(ctx, ref)
			return remoteVerdictMsg{ref: ref, v: v, ok: ok, err: err}
		})
	}
	return tea.Batch(cmds...), true
}

// remoteVerdictMsg is a verdict another user recorded or withdrew, read
// again after their ChangedMsg.
type remoteVerdictMsg struct {
	ref graph.Ref
	v   graph.Verdict
	ok  bool
	err error
}
