package tui

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/tui/chart"
	"casegraph/tui/list"
	"casegraph/tui/pane"
)

// A range brushed on a group's or a case's timeline lists the entities
// active in it (most transactions first, each with its sparkline), and
// enter opens one with its transaction list filtered to the range; a band
// chosen on its histogram lists the entities with amounts in the band, and
// enter opens one with its list filtered to the band.

type rangeRow struct {
	ref    graph.Ref
	n      int   // transactions in the range or band
	series []int // over the whole timeline
}

type rangeScreen struct {
	m        *Model
	title    string
	from, to time.Time // the range, or
	band     txBand    // the band (set)
	rows     []rangeRow
	nav      list.Model
	keys     rangeKeys
}

type rangeKeys struct {
	List        list.KeyMap
	Open, Close key.Binding
}

// activeIn ranks the series' references by their rows in buckets lo…hi
// of in (the time series, or the histogram's); each row draws its time
// series.
func activeIn(in, series map[graph.Ref][]int, lo, hi int) []rangeRow {
	var rows []rangeRow
	for ref, s := range in {
		n := 0
		for i := lo; i <= hi && i < len(s); i++ {
			n += s[i]
		}
		if n > 0 {
			rows = append(rows, rangeRow{ref: ref, n: n, series: series[ref]})
		}
	}
	slices.SortFunc(rows, func(a, b rangeRow) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		if a.ref.Less(b.ref) {
			return -1
		}
		return 1
	})
	return rows
}

// openRange lists the entities of a set's timeline active in [from, to)
// (buckets lo…hi).
func (m *Model) openRange(title string, a graph.Activity, lo, hi int, from, to time.Time) {
	s := &rangeScreen{m: m, title: title, from: from, to: to, rows: activeIn(a.Series, a.Series, lo, hi)}
	m.pushActive(s, "open with the range's transactions")
}

// openBand lists the entities of a set's timeline with amounts in band
// (histogram buckets first…last).
func (m *Model) openBand(title string, a graph.Activity, first, last int, band txBand) {
	s := &rangeScreen{m: m, title: title, band: band, rows: activeIn(a.HistSeries, a.Series, first, last)}
	m.pushActive(s, "open with the band's transactions")
}

func (m *Model) pushActive(s *rangeScreen, open string) {
	s.nav = list.New(m.st)
	s.keys = rangeKeys{List: list.DefaultKeys(),
		Open:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", open)),
		Close: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the timeline"))}
	s.nav.Reset(len(s.rows), len(s.rows), func(i int) string {
		r := s.rows[i].ref
		return r.String() + " " + refLabel(r) + " " + m.titleOf(r)
	})
	m.push(s)
}

// what names the screen's range or band.
func (s *rangeScreen) what() string {
	if s.band.set() {
		return s.band.String()
	}
	return s.m.rangeText(s.from, s.to)
}

func (s *rangeScreen) isLayer() {}
func (s *rangeScreen) Title() string {
	if s.band.set() {
		return "active in band"
	}
	return "active in range"
}
func (s *rangeScreen) SetSize(w, h int) {
	s.nav.SetHeight(pane.ContentHeight(h))
	s.nav.SetWidth(pane.ContentWidth(w))
}
func (s *rangeScreen) ShortHelp() []key.Binding {
	return []key.Binding{s.keys.List.Down, s.keys.List.Filter, s.keys.Open, s.keys.Close}
}
func (s *rangeScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{s.keys.List.Bindings(), {s.keys.Open, s.keys.Close, s.m.keys.Help, s.m.keys.ForceQuit}}
}

func (s *rangeScreen) Update(msg tea.Msg) tea.Cmd {
	m := s.m
	if cmd, ok := s.nav.Update(msg); ok {
		return cmd
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(k, s.keys.Close):
		m.pop()
	case key.Matches(k, m.keys.Help):
		m.openHelp()
	case key.Matches(k, s.keys.Open):
		if i, ok := s.nav.Index(); ok && i < len(s.rows) {
			if s.band.set() {
				return tea.Batch(m.open(s.rows[i].ref, false), m.setTxBand(s.band))
			}
			return m.openInRange(s.rows[i].ref, s.from, s.to)
		}
	}
	return nil
}

// openInRange opens ref with its transaction list filtered to [from, to).
func (m *Model) openInRange(ref graph.Ref, from, to time.Time) tea.Cmd {
	open := m.open(ref, false)
	return tea.Batch(open, m.setTxRange(from, to))
}

func (s *rangeScreen) View() []string {
	m, st := s.m, s.m.st
	b := m.lay.Body
	cw := pane.ContentWidth(b.W)
	title := fmt.Sprintf("Active %s · %s · %d entities", s.what(), s.title, len(s.rows))
	if s.band.set() {
		title = fmt.Sprintf("With %s · %s · %d entities", s.what(), s.title, len(s.rows))
	}
	var body []string
	if len(s.rows) == 0 {
		if s.band.set() {
			body = []string{st.Muted.Render("no transactions in the band")}
		} else {
			body = []string{st.Muted.Render("no transactions in the range")}
		}
	} else {
		body = s.nav.Lines(func(i int, selected bool) string {
			r := s.rows[i]
			mark := " "
			nameSt := st.Kind(r.ref.Kind)
			if selected {
				mark = st.Accent.Render("▸")
				nameSt = nameSt.Inherit(st.Selected)
			}
			right := pane.Right(st.Muted.Render(fmt.Sprintf("%d tx", r.n)), 8) + "  " + st.Accent.Render(chart.Sparkline(r.series, sparkW))
			nameW := max(cw-2-9-ansi.StringWidth(right)-1, 8)
			name := m.titleOf(r.ref)
			if id := identOf(r.ref, m.titles[r.ref]); id != "" && id != name {
				name += " · " + id
			}
			return mark + " " + pane.Fit(st.Badge(r.ref.Kind).Render(r.ref.Kind.String()), 9) + pane.Fit(nameSt.Render(name), nameW) + " " + right
		})
	}
	in := "range"
	if s.band.set() {
		in = "band"
	}
	return pane.Box(st, title, s.nav.Footer()+" · enter lists its transactions in the "+in, body, b.W, b.H, true)
}
