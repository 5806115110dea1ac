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
	c, ok := msg.(ChangedMsg)
	if !ok {
		return nil, false
	}
	m.setStatus(safetext.Line(c.User+" "+c.What), false)
	cmds := []tea.Cmd{loadCases(m.ctx, m.b)}
	if cur, ok := m.current(); ok && !c.Ref.IsZero() && cur.Ref == c.Ref {
		cmds = append(cmds, m.loadVerdict(c.Ref))
	}
	return tea.Batch(cmds...), true
}
