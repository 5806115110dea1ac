// Package list is the one list component of the TUI: the selection, the
// scroll window, paging by the rows that fit, home and end, the mouse wheel
// and a filter line over the loaded rows. Rows are the owner's data: the
// list knows how many there are and, for the filter, the text of each; the
// owner draws the rows the list says are on screen.
//
// Paging never loses a row: pgdn moves the window by exactly the rows that
// fit, and a list whose rows come from the backend a page at a time (Total
// greater than the rows loaded) asks for more through NeedMore before the
// cursor runs out of loaded rows.
package list

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"casegraph/tui/theme"
)

// WheelStep is how many rows one notch of the mouse wheel moves.
const WheelStep = 3

// KeyMap are the list bindings. Filter starts the filter line; while it is
// being typed, printable keys go to it and enter or esc end it.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom, Filter key.Binding
	// Export files what is listed (the filter's matches) into a case; the
	// owner does it, with Listed, since only it knows what a row is.
	Export key.Binding
}

// DefaultKeys returns the list bindings.
func DefaultKeys() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "first row")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last row")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Export:   key.NewBinding(key.WithKeys("B"), key.WithHelp("B", "bookmark what is listed")),
	}
}

// Bindings lists the keys for a help column.
func (k KeyMap) Bindings() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Filter}
}

// Matcher returns the rows (indices below n, in list order) that match q.
type Matcher func(q string, n int) []int

// Model is one list's state. The zero value is not usable: call New.
type Model struct {
	Keys KeyMap
	// Hint, when set, keeps the filter line on screen: it shows the hint
	// until a filter is typed.
	Hint string

	n     int   // rows loaded
	total int   // rows that exist, at least n
	vis   []int // the rows the filter lets through; nil when not filtered
	cur   int   // cursor, an index into the listed rows
	off   int   // first listed row on screen
	h     int   // rows that fit

	text  func(i int) string
	match Matcher

	input     textinput.Model
	filtering bool // the filter line has the keys
}

// New returns an empty list drawn with st.
func New(st theme.Styles) Model {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = "filter the rows listed…"
	m := Model{Keys: DefaultKeys(), input: in, h: 1}
	m.SetStyles(st)
	return m
}

// SetStyles restyles the filter line.
func (m *Model) SetStyles(st theme.Styles) {
	m.input.SetStyles(st.Input())
}

// SetHeight sets the lines the list may use, the filter line included
// when it shows.
func (m *Model) SetHeight(h int) {
	m.h = max(h, 1)
	m.clamp()
}

// SetWidth sets the width of the filter line.
func (m *Model) SetWidth(w int) { m.input.SetWidth(max(w-4, 4)) }

// SetMatcher replaces the filter's matching (by default a fuzzy match on
// the rows' text: every word of the query, in any case).
func (m *Model) SetMatcher(f Matcher) { m.match = f }

// SetRows replaces the rows: n loaded, text gives each row's filter text.
// The cursor stays where it was (clamped), the filter stays applied.
func (m *Model) SetRows(n int, text func(i int) string) {
	m.n, m.text = max(n, 0), text
	m.total = max(m.total, m.n)
	m.refilter()
}

// Reset replaces the rows and moves the cursor to the first one; total is
// how many exist (at least n; more are fetched when NeedMore says so).
func (m *Model) Reset(n, total int, text func(i int) string) {
	m.n, m.total, m.text = max(n, 0), max(total, n), text
	m.cur, m.off = 0, 0
	m.refilter()
}

// SetTotal says how many rows exist, loaded or not.
func (m *Model) SetTotal(total int) { m.total = max(total, m.n) }

// Loaded is the number of rows loaded; Total the number that exist.
func (m Model) Loaded() int { return m.n }

// Total is the number of rows that exist, loaded or not.
func (m Model) Total() int { return m.total }

// Len is the number of rows listed (the filter's matches, or every loaded
// row).
func (m Model) Len() int {
	if m.vis != nil {
		return len(m.vis)
	}
	return m.n
}

// row turns a listed position into a row index.
func (m Model) row(p int) int {
	if m.vis != nil {
		return m.vis[p]
	}
	return p
}

// Index is the selected row; ok is false when nothing is listed.
func (m Model) Index() (int, bool) {
	if m.cur < 0 || m.cur >= m.Len() {
		return 0, false
	}
	return m.row(m.cur), true
}

// Cursor is the position of the selection among the listed rows.
func (m Model) Cursor() int { return m.cur }

// Select puts the cursor on row i when it is listed.
func (m *Model) Select(i int) {
	for p := range m.Len() {
		if m.row(p) == i {
			m.cur = p
			m.clamp()
			return
		}
	}
}

// Listed is every row the list shows, in order: what "export what is
// listed" writes.
func (m Model) Listed() []int {
	out := make([]int, m.Len())
	for p := range out {
		out[p] = m.row(p)
	}
	return out
}

// ShowFilter reports whether the filter line is drawn above the rows.
func (m Model) ShowFilter() bool { return m.filtering || m.input.Value() != "" || m.Hint != "" }

// Filtering reports whether the filter line has the keys.
func (m Model) Filtering() bool { return m.filtering }

// Query is the filter text.
func (m Model) Query() string { return strings.TrimSpace(m.input.Value()) }

// Rows is the number of rows that fit.
func (m Model) Rows() int {
	if m.ShowFilter() {
		return max(m.h-1, 1)
	}
	return m.h
}

// Offset is the position of the first row on screen.
func (m Model) Offset() int { return m.off }

// Visible is the rows on screen, top to bottom.
func (m Model) Visible() []int {
	end := min(m.off+m.Rows(), m.Len())
	out := make([]int, 0, max(end-m.off, 0))
	for p := m.off; p < end; p++ {
		out = append(out, m.row(p))
	}
	return out
}

// NeedMore reports whether the owner should load the next rows: more exist
// and the cursor is within a screenful of the last loaded one. A filtered
// list never asks: the filter works on what is loaded.
func (m Model) NeedMore() bool {
	return m.vis == nil && m.n < m.total && m.cur+2*m.Rows() >= m.n
}

// Move moves the cursor by d rows, keeping it on screen.
func (m *Model) Move(d int) {
	m.cur += d
	m.clamp()
}

// Page moves the cursor and the window by d screenfuls, so the rows seen
// are contiguous: no row is skipped between two pages.
func (m *Model) Page(d int) {
	step := d * m.Rows()
	m.cur += step
	m.off += step
	m.clamp()
}

// clamp keeps the cursor on a listed row and on screen.
func (m *Model) clamp() {
	n, h := m.Len(), m.Rows()
	m.cur = min(max(m.cur, 0), max(n-1, 0))
	m.off = min(max(m.off, 0), max(n-h, 0))
	if m.cur < m.off {
		m.off = m.cur
	}
	if m.cur >= m.off+h {
		m.off = m.cur - h + 1
	}
}

// refilter recomputes the listed rows, keeping the selected row when it
// still matches.
func (m *Model) refilter() {
	sel, had := m.Index()
	q := m.Query()
	switch {
	case q == "":
		m.vis = nil
	case m.match != nil:
		m.vis = append([]int{}, m.match(q, m.n)...)
	default:
		m.vis = termsMatch(q, m.n, m.text)
	}
	if had {
		m.cur = 0
		m.Select(sel)
	}
	m.clamp()
}

// termsMatch keeps the rows whose text holds every word of q, in any case,
// in list order: "r3 kaspi" keeps the rows that mention both.
func termsMatch(q string, n int, text func(int) string) []int {
	out := []int{}
	if text == nil {
		return out
	}
	terms := strings.Fields(strings.ToLower(q))
	for i := range n {
		t := strings.ToLower(text(i))
		ok := true
		for _, w := range terms {
			if !strings.Contains(t, w) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, i)
		}
	}
	return out
}

// Update handles the list's keys and the mouse wheel; handled is false for
// messages the list leaves to its owner. While the filter line is typed
// it takes every key but the arrows and paging keys.
func (m *Model) Update(msg tea.Msg) (cmd tea.Cmd, handled bool) {
	switch msg := msg.(type) {
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			m.Move(-WheelStep)
		case tea.MouseWheelDown:
			m.Move(WheelStep)
		default:
			return nil, false
		}
		return nil, true
	case tea.KeyPressMsg:
		k := m.Keys
		if m.filtering {
			switch msg.String() {
			case "esc":
				m.filtering = false
				m.input.Blur()
				m.input.SetValue("")
				m.refilter()
				return nil, true
			case "enter":
				m.filtering = false
				m.input.Blur()
				return nil, true
			case "up", "down", "pgup", "pgdown":
			default:
				m.input, cmd = m.input.Update(msg)
				m.refilter()
				return cmd, true
			}
		}
		switch {
		case key.Matches(msg, k.Up):
			m.Move(-1)
		case key.Matches(msg, k.Down):
			m.Move(1)
		case key.Matches(msg, k.PageUp):
			m.Page(-1)
		case key.Matches(msg, k.PageDown):
			m.Page(1)
		case key.Matches(msg, k.Top):
			m.cur = 0
			m.clamp()
		case key.Matches(msg, k.Bottom):
			m.cur = m.Len() - 1
			m.clamp()
		case key.Matches(msg, k.Filter) && m.n > 0:
			// An empty list has nothing to filter (and its owner draws a
			// notice, not the filter line).
			m.filtering = true
			return m.input.Focus(), true
		case msg.String() == "esc" && m.input.Value() != "":
			// esc first clears the filter, then the owner may close.
			m.input.SetValue("")
			m.refilter()
		default:
			return nil, false
		}
		return nil, true
	}
	if m.filtering {
		m.input, cmd = m.input.Update(msg)
		return cmd, false
	}
	return nil, false
}

// ClearFilter drops the filter.
func (m *Model) ClearFilter() {
	m.filtering = false
	m.input.Blur()
	m.input.SetValue("")
	m.refilter()
}

// FilterView is the filter line: the input while typed, else the query and
// how many rows match.
func (m Model) FilterView() string {
	if !m.filtering && m.input.Value() == "" {
		return m.Hint
	}
	return m.input.View()
}

// Footer says which rows are on screen: "22–42 of 130", with the filter's
// matches ("3 of 50 loaded match") when filtered.
func (m Model) Footer() string {
	n := m.Len()
	if n == 0 {
		if m.vis != nil {
			return fmt.Sprintf("none of %d loaded match", m.n)
		}
		return ""
	}
	first, last := m.off+1, min(m.off+m.Rows(), n)
	if m.vis != nil {
		return fmt.Sprintf("%d–%d of %d matching · %d loaded", first, last, n, m.n)
	}
	return fmt.Sprintf("%s–%s of %s", group(first), group(last), group(m.total))
}

// group writes n with thousands separators.
func group(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Lines draws the list: the filter line when it shows, then the rows on
// screen, each drawn by render (selected is true for the cursor's row).
func (m Model) Lines(render func(i int, selected bool) string) []string {
	var out []string
	if m.ShowFilter() {
		out = append(out, m.FilterView())
	}
	sel, ok := m.Index()
	for _, i := range m.Visible() {
		out = append(out, render(i, ok && i == sel))
	}
	return out
}
