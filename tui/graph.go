package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"casegraph/tui/pane"
)

// graphScreen draws the neighbourhood of the current history entry
// (graphview); it takes every key but the global and analytics ones.
type graphScreen struct{ m *Model }

func (s *graphScreen) Title() string            { return "graph" }
func (s *graphScreen) SetSize(w, h int)         {}
func (s *graphScreen) ShortHelp() []key.Binding { return s.m.gv.Keys.ShortHelp() }
func (s *graphScreen) FullHelp() [][]key.Binding {
	return s.m.withAnalyticsKeys(s.m.gv.Keys, true, false).FullHelp()
}

func (s *graphScreen) View() []string {
	m := s.m
	b := m.lay.Body
	title := m.gv.Title()
	if cur, ok := m.current(); ok && cur.Group == "" {
		title = "Graph of " + m.refBadge(cur.Ref) + " · " + strings.TrimPrefix(title, "Graph · ")
	}
	if m.gv.Loading() {
		title += " · expanding…"
	}
	return pane.Box(m.st, title, m.gv.Footer(), m.gv.Lines(), b.W, b.H, true)
}

func (s *graphScreen) Update(msg tea.Msg) tea.Cmd {
	m := s.m
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		var cmd tea.Cmd
		m.gv, cmd = m.gv.Update(msg)
		return cmd
	}
	g, a := m.keys, m.ana.keys
	if key.Matches(k, g.Help, g.Quit, g.Search, g.SearchAnywhere, g.Resolve, a.Flags, a.Clusters, m.cs.keys.Open) {
		return m.browseKey(k)
	}
	if ref, ok := m.focusedRef(); ok {
		if cmd, ok := m.entityActionKey(k, ref, false); ok {
			return cmd
		}
	}
	var cmd tea.Cmd
	m.gv, cmd = m.gv.Update(k)
	return cmd
}
