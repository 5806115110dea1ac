package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"casegraph/tui/pane"
)

// Screen is one component on the root model's stack: home, search,
// entity, graph, flags, clusters, path, trace, cases, resolve, a dialog or
// the help. The top screen is the only one that receives input (keys,
// mouse, pastes, cursor blinks); the root asks it for the footer's keys,
// the help and the header's last crumb. A screen reaches the backend, the
// styles and the history through the root model it was built with, which
// belongs to one terminal (one SSH connection later), never to a global.
type Screen interface {
	help.KeyMap
	// Title names the screen in the header and the help: "flags".
	Title() string
	// SetSize gives the screen the body: w×h cells.
	SetSize(w, h int)
	// Update takes input; only the top screen gets it.
	Update(msg tea.Msg) tea.Cmd
	// View draws the body: exactly h lines of w cells.
	View() []string
}

// overlay is a screen drawn as a centred box over the screens below it
// (dialogs, the help) instead of replacing the body.
type overlay interface {
	Screen
	Box() string
}

// layer marks the screens that stack over the browsing screens (home,
// entity, graph) and name themselves in the breadcrumb.
type layer interface{ isLayer() }

// top is the screen that receives input.
func (m *Model) top() Screen { return m.stack[len(m.stack)-1] }

// push opens s over the current screen.
func (m *Model) push(s Screen) {
	s.SetSize(m.bodySize())
	m.stack = append(m.stack, s)
}

// pop closes the top screen; home, at the bottom, stays.
func (m *Model) pop() {
	if len(m.stack) > 1 {
		m.stack = m.stack[:len(m.stack)-1]
	}
}

// replaceTop puts s in place of the top screen (one analytics screen
// replaces another, so F and C never pile screens up).
func (m *Model) replaceTop(s Screen) {
	m.pop()
	m.push(s)
}

// base is the topmost screen that draws the body; overlays above it are
// drawn over it.
func (m *Model) base() int {
	i := len(m.stack) - 1
	for i > 0 {
		if _, ok := m.stack[i].(overlay); !ok {
			break
		}
		i--
	}
	return i
}

// find returns the topmost screen of type T on the stack.
func find[T Screen](m *Model) (T, bool) {
	for i := len(m.stack) - 1; i >= 0; i-- {
		if s, ok := m.stack[i].(T); ok {
			return s, true
		}
	}
	var zero T
	return zero, false
}

// bodySize is the size screens draw their body in.
func (m *Model) bodySize() (int, int) { return m.lay.Body.W, m.lay.Body.H }

// screenName names the screen that has input, for the help's title.
func (m *Model) screenName() string { return m.top().Title() }

// browse leaves every screen but home and shows the browsing screen of the
// current history entry (entity or graph), if any.
func (m *Model) browse(s Screen) {
	m.stack = m.stack[:1]
	if s != nil {
		m.push(s)
	}
}

// commonKey handles the keys every full screen shares: quit and help.
func (m *Model) commonKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit, true
	case key.Matches(msg, m.keys.Help):
		m.openHelp()
		return nil, true
	}
	return nil, false
}

// browseKey handles the global keys of the browsing screens (home, entity,
// graph): quit, help, search, history, and the keys that open the
// analytics, cases and resolve screens.
func (m *Model) browseKey(msg tea.KeyPressMsg) tea.Cmd {
	if cmd, ok := m.commonKey(msg); ok {
		return cmd
	}
	g, a := m.keys, m.ana.keys
	switch {
	case key.Matches(msg, g.Search, g.SearchAnywhere):
		return m.openSearch()
	case key.Matches(msg, g.Back):
		return m.back()
	case key.Matches(msg, g.Forward):
		return m.forward()
	case key.Matches(msg, g.Resolve):
		return m.openResolve()
	case key.Matches(msg, a.Flags):
		return m.openAnalytics(anaFlags)
	case key.Matches(msg, a.Clusters):
		return m.openAnalytics(anaClusters)
	case key.Matches(msg, m.cs.keys.Open):
		return m.openCases()
	}
	return nil
}

// homeScreen shows what the database holds.
type homeScreen struct{ m *Model }

func (s *homeScreen) Title() string    { return "home" }
func (s *homeScreen) SetSize(w, h int) {}
func (s *homeScreen) View() []string   { return s.m.renderHome() }
func (s *homeScreen) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		return s.m.browseKey(k)
	}
	return nil
}
func (s *homeScreen) ShortHelp() []key.Binding { return homeHelp(s.m.keys).ShortHelp() }
func (s *homeScreen) FullHelp() [][]key.Binding {
	return s.m.withAnalyticsKeys(withCaseKeys(homeHelp(s.m.keys), s.m.cs.keys, false), false, false).FullHelp()
}

// searchScreen is the search overlay: it takes every key.
type searchScreen struct{ m *Model }

func (s *searchScreen) isLayer()      {}
func (s *searchScreen) Title() string { return "search" }
func (s *searchScreen) SetSize(w, h int) {
	s.m.search.SetSize(pane.ContentWidth(w), pane.ContentHeight(h))
}
func (s *searchScreen) ShortHelp() []key.Binding  { return s.m.search.Keys.ShortHelp() }
func (s *searchScreen) FullHelp() [][]key.Binding { return s.m.search.Keys.FullHelp() }
func (s *searchScreen) View() []string {
	b := s.m.lay.Body
	return pane.Box(s.m.st, "Search", s.m.search.Footer(), s.m.search.Lines(), b.W, b.H, true)
}
func (s *searchScreen) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	s.m.search, cmd = s.m.search.Update(msg)
	return cmd
}

func (m *Model) openSearch() tea.Cmd {
	m.push(&searchScreen{m: m})
	return m.search.Focus()
}

// closeSearch pops the search overlay.
func (m *Model) closeSearch() {
	m.search.Blur()
	if _, ok := m.top().(*searchScreen); ok {
		m.pop()
	}
}

// helpScreen lists every key of the screen below it in a box that scrolls
// (a bubbles viewport) when it is taller than the window.
type helpScreen struct {
	m     *Model
	of    Screen
	vp    viewport.Model
	w, h  int
	keys  helpKeys
	lines int
}

type helpKeys struct {
	Scroll, Close key.Binding
}

func (m *Model) openHelp() {
	s := &helpScreen{m: m, of: m.top(), keys: helpKeys{
		Scroll: key.NewBinding(key.WithKeys("up", "down", "pgup", "pgdown", "home", "end"), key.WithHelp("↑/↓/pgdn", "scroll")),
		Close:  key.NewBinding(key.WithKeys("esc", "?", "q"), key.WithHelp("esc/?", "close help")),
	}}
	m.push(s)
}

func (s *helpScreen) Title() string             { return "help" }
func (s *helpScreen) View() []string            { return s.m.stack[s.m.base()].View() }
func (s *helpScreen) ShortHelp() []key.Binding  { return []key.Binding{s.keys.Scroll, s.keys.Close} }
func (s *helpScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }

func (s *helpScreen) SetSize(w, h int) {
	s.w, s.h = s.m.w, s.m.h
	// The frame takes 6 columns (border and padding) and the box keeps a
	// column of the screen visible on each side, so wrap the text to fit.
	inner := max(10, s.w-8)
	st := s.m.st
	hm := s.m.help
	body := packColumns(hm, s.of.FullHelp(), inner)
	hint := st.Muted.Width(min(inner, 60)).Render("esc or ? closes · ↑/↓ pgup/pgdn scroll · keys go to: ctrl+c, the open dialog, this help, the screen on top, then its global keys")
	content := st.TitleFocus.Render("Keys — "+s.of.Title()) + "\n\n" + body + "\n\n" + hint
	lines := lipgloss.Height(content)
	// Border and padding take 4 lines, the scroll position one more when
	// the text does not fit.
	vh := lines
	if lines > s.h-4 {
		vh = max(1, s.h-5)
	}
	s.vp = viewport.New(viewport.WithWidth(min(lipgloss.Width(content), inner)), viewport.WithHeight(vh))
	s.vp.SetContent(content)
	s.vp.KeyMap.Left.SetEnabled(false)
	s.vp.KeyMap.Right.SetEnabled(false)
	s.lines = lines
}

func (s *helpScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, s.keys.Close):
			s.m.pop()
			return nil
		case msg.String() == "home":
			s.vp.GotoTop()
		case msg.String() == "end":
			s.vp.GotoBottom()
		default:
			var cmd tea.Cmd
			s.vp, cmd = s.vp.Update(msg)
			return cmd
		}
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		s.vp, cmd = s.vp.Update(msg)
		return cmd
	}
	return nil
}

// Box draws the help, with a scroll position when it does not fit.
func (s *helpScreen) Box() string {
	st := s.m.st
	content := s.vp.View()
	if s.lines > s.vp.Height() {
		content += "\n" + st.Muted.Render(pane.Right(scrollPos(s.vp.YOffset(), s.vp.Height(), s.lines), s.vp.Width()))
	}
	return lipgloss.NewStyle().
		Border(lipgloss.RoundedBorder()).
		BorderForeground(st.BorderFocus.GetForeground()).
		Padding(1, 2).
		Render(content)
}

// packColumns lays the help's key columns side by side, as many as fit in
// w cells, and starts a new row of columns for the rest: no key is cut off
// at the right edge (the box scrolls when that makes it tall).
func packColumns(hm help.Model, groups [][]key.Binding, w int) string {
	const gap = "   "
	var rows, row []string
	used := 0
	for _, g := range groups {
		col := hm.FullHelpView([][]key.Binding{g})
		cw := lipgloss.Width(col)
		if len(row) > 0 && used+len(gap)+cw > w {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		if len(row) > 0 {
			row = append(row, gap)
			used += len(gap)
		}
		row = append(row, lipgloss.NewStyle().MaxWidth(w).Render(col))
		used += min(cw, w)
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(rows, "\n\n")
}

// scrollPos says which lines of a scrolled text show: "lines 1–18 of 40".
func scrollPos(off, h, n int) string {
	return "lines " + fmtInt(off+1) + "–" + fmtInt(min(off+h, n)) + " of " + fmtInt(n)
}

// overlayBox draws box centred over screen.
func (m *Model) overlayBox(screen, box string) string {
	bw, bh := lipgloss.Width(box), lipgloss.Height(box)
	if bw > m.w || bh > m.h {
		box = lipgloss.NewStyle().MaxWidth(m.w).MaxHeight(m.h).Render(box)
		bw, bh = lipgloss.Width(box), lipgloss.Height(box)
	}
	base := lipgloss.NewLayer(screen)
	top := lipgloss.NewLayer(box).X(max(0, (m.w-bw)/2)).Y(max(0, (m.h-bh)/2)).Z(1)
	return lipgloss.NewCompositor(base, top).Render()
}
