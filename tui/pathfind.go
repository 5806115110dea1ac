package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/tui/list"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

// PathStep is one node of a path and the edge that led to it (none for
// the first).
type PathStep struct {
	Ref      graph.Ref
	Name     string
	Relation string // a link type or a channel name; empty for the first step
	Money    bool
	Forward  bool  // the edge points along the path (money sent, link owned)
	Amount   int64 // the first transaction of the pair, when Money
	Time     time.Time
	TxID     string
}

// PathRow is one path from A to B.
type PathRow struct {
	Steps []PathStep
}

// Hops returns the number of edges.
func (p PathRow) Hops() int { return max(len(p.Steps)-1, 0) }

// Path finder defaults: how many paths, and the hop cap it starts with.
const (
	pathsK       = 8
	pathsMaxHops = 4
)

type pathsView struct {
	a, b     graph.Ref
	maxHops  int
	rows     []PathRow
	loaded   bool
	err      error
	nav      list.Model // over rows
	hnav     list.Model // over the selected path's steps
	hopFocus bool
	// want is a bookmarked path being opened: once the paths load, it is
	// selected with its hops shown.
	want []graph.Ref
}

func newPathsView(st theme.Styles) pathsView {
	return pathsView{maxHops: pathsMaxHops, nav: list.New(st), hnav: list.New(st)}
}

func (v *pathsView) selected() (PathRow, bool) {
	if i, ok := v.nav.Index(); ok && i < len(v.rows) && len(v.rows[i].Steps) > 0 {
		return v.rows[i], true
	}
	return PathRow{}, false
}

// rank is the selected path's number, from 1.
func (v *pathsView) rank() int {
	i, _ := v.nav.Index()
	return i + 1
}

// step is the selected hop of the selected path.
func (v *pathsView) step() (PathStep, bool) {
	p, ok := v.selected()
	if !ok {
		return PathStep{}, false
	}
	if i, ok := v.hnav.Index(); ok && i < len(p.Steps) {
		return p.Steps[i], true
	}
	return PathStep{}, false
}

// stepText is what the filter matches in a hop.
func stepText(s PathStep) string {
	return s.Relation + " " + s.Ref.Kind.String() + " " + s.Name + " " + s.Ref.String() + " " + refLabel(s.Ref) + " " + s.TxID
}

// showHops lists the hops of the selected path.
func (v *pathsView) showHops() {
	p, _ := v.selected()
	v.hnav.Reset(len(p.Steps), len(p.Steps), func(i int) string { return stepText(p.Steps[i]) })
}

func (v *pathsView) focused() *list.Model {
	if v.hopFocus {
		return &v.hnav
	}
	return &v.nav
}

type pathsLoadedMsg struct {
	seq     int
	a, b    graph.Ref
	maxHops int
	rows    []PathRow
	err     error
}

// markPathEnd marks ref as end A, or as end B and opens the Path screen.
func (m *Model) markPathEnd(ref graph.Ref) tea.Cmd {
	v := &m.ana.paths
	switch {
	case v.a.IsZero() || !v.b.IsZero() && !m.pathsOnTop():
		v.a, v.b = ref, graph.Ref{}
		m.setStatus("path from "+m.titleOf(ref)+": press m on another entity", false)
		return nil
	case ref == v.a:
		m.setStatus("path from "+m.titleOf(ref)+" already marked: press m on another entity", false)
		return nil
	}

	v.b = ref
	return m.openAnalytics(anaPaths)
}

// openPathBookmark opens the Path screen on a bookmarked path: its two
// ends, the hops it allows, and the path itself selected with its hops.
func (m *Model) openPathBookmark(t graph.Target) tea.Cmd {
	v := &m.ana.paths
	v.a, v.b = t.Refs[0], t.Refs[len(t.Refs)-1]
	v.maxHops = min(max(pathsMaxHops, len(t.Refs)-1), graph.MaxPathHops)
	v.want = slices.Clone(t.Refs)
	return m.openAnalytics(anaPaths)
}

func (m *Model) loadPaths() tea.Cmd {
	v := &m.ana.paths
	if v.a.IsZero() || v.b.IsZero() {
		v.loaded, v.err = false, nil
		return nil
	}
	a, bRef, hops := v.a, v.b, v.maxHops
	ctx, seq := m.startJob(fmt.Sprintf("finding paths of up to %d hops", hops))
	b := m.b
	return func() tea.Msg {
		rows, err := b.Paths(ctx, a, bRef, pathsK, hops)
		if err != nil {
			err = fmt.Errorf("paths %s → %s: %w", a, bRef, err)
		}
		return pathsLoadedMsg{seq: seq, a: a, b: bRef, maxHops: hops, rows: rows, err: err}
	}
}

func (m *Model) applyPaths(msg pathsLoadedMsg) tea.Cmd {
	if !m.endJob(msg.seq) {
		return nil
	}
	v := &m.ana.paths
	if msg.a != v.a || msg.b != v.b || msg.maxHops != v.maxHops {
		return nil
	}
	if m.failedJob(msg.err) {
		v.err = msg.err
		return nil
	}
	v.rows, v.loaded, v.err = msg.rows, true, nil
	v.hopFocus = false
	v.nav.Reset(len(v.rows), len(v.rows), func(i int) string {
		var sb strings.Builder
		for _, s := range v.rows[i].Steps {
			sb.WriteString(stepText(s) + " ")
		}
		return sb.String()
	})
	if want := v.want; want != nil {
		v.want = nil
		i := slices.IndexFunc(v.rows, func(p PathRow) bool {
			return slices.EqualFunc(p.Steps, want, func(s PathStep, r graph.Ref) bool { return s.Ref == r })
		})
		if i >= 0 {
			v.nav.Select(i)
			v.hopFocus = true
			m.setStatus(fmt.Sprintf("the bookmarked path: %d hops, path %d of %d", len(want)-1, i+1, len(v.rows)), false)
		} else {
			m.setStatus(fmt.Sprintf("the bookmarked path (%d hops) is no longer among the %d shortest: the data changed", len(want)-1, len(v.rows)), true)
		}
	}
	v.showHops()
	for _, p := range msg.rows {
		for _, s := range p.Steps {
			m.noteName(s.Ref, s.Name)
		}
	}
	return nil
}

// pathsUpdate takes the Path screen's input; ok is false for keys it
// leaves to the screen's global keys.
func (m *Model) pathsUpdate(msg tea.Msg) (tea.Cmd, bool) {
	v := &m.ana.paths
	before, _ := v.nav.Index()
	if cmd, ok := v.focused().Update(msg); ok {
		if after, _ := v.nav.Index(); after != before {
			v.showHops()
		}
		return cmd, true
	}
	kp, isKey := msg.(tea.KeyPressMsg)
	if !isKey {
		return nil, false
	}
	cmd, ok := m.pathsKey(kp)
	return cmd, ok
}

func (m *Model) pathsKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	v, k := &m.ana.paths, m.ana.keys
	switch {
	case key.Matches(msg, k.List.Export) && !v.hopFocus:
		return m.bookmarkListed(fmt.Sprintf("paths %s → %s", m.titleOf(v.a), m.titleOf(v.b)), &v.nav, func(i int) []graph.Ref {
			refs := make([]graph.Ref, len(v.rows[i].Steps))
			for j, s := range v.rows[i].Steps {
				refs[j] = s.Ref
			}
			return refs
		}), true
	case key.Matches(msg, k.Focus):
		v.hopFocus = !v.hopFocus && len(v.rows) > 0
	case key.Matches(msg, k.Swap):
		v.a, v.b = v.b, v.a
		return m.loadPaths(), true
	case key.Matches(msg, k.MoreHops):
		if v.maxHops < graph.MaxPathHops {
			v.maxHops++
			return m.loadPaths(), true
		}
	case key.Matches(msg, k.FewerHops):
		if v.maxHops > 1 {
			v.maxHops--
			return m.loadPaths(), true
		}
	case key.Matches(msg, k.Open):
		if _, ok := v.selected(); !ok {
			return nil, true
		}
		if !v.hopFocus {
			v.hopFocus = true
			return nil, true
		}
		if s, ok := v.step(); ok {
			return m.openEntityFromAna(s.Ref, false), true
		}
	case key.Matches(msg, k.Bookmark):
		p, ok := v.selected()
		s, onStep := v.step()
		switch {
		case onStep && v.hopFocus:
			return m.bookmarkRef(s.Ref), true
		case ok:
			t := m.pathTarget(p)
			return m.openBookmark(t, t.Label), true
		}
	case key.Matches(msg, k.Trace):
		if s, ok := v.step(); ok && v.hopFocus {
			return m.openTrace(TraceQuery{Ref: s.Ref, TxID: s.TxID}), true
		}
	case key.Matches(msg, k.Mark):
		if s, ok := v.step(); ok && v.hopFocus {
			return m.markPathEnd(s.Ref), true
		}
	default:
		return nil, false
	}
	return nil, true
}

// pathsOnTop reports whether the Path screen has the input.
func (m *Model) pathsOnTop() bool {
	s, ok := m.top().(*anaScreen)
	return ok && s.view == anaPaths
}

// pathTarget is the bookmark target of a path: its steps in order, the
// search that found it as the query, and a label such as
// "path Ахметов Ж. → ТенгеОбмен24 · 3 hops".
func (m *Model) pathTarget(p PathRow) graph.Target {
	v := &m.ana.paths
	refs := make([]graph.Ref, len(p.Steps))
	for i, s := range p.Steps {
		refs[i] = s.Ref
	}
	first, last := p.Steps[0], p.Steps[len(p.Steps)-1]
	return graph.Target{Kind: graph.TargetPath, Refs: refs,
		Query: fmt.Sprintf("path %s → %s ≤ %d hops #%d", v.a, v.b, v.maxHops, v.rank()),
		Label: fmt.Sprintf("path %s → %s · %d hops", labelName(first.Ref, m.stepName(first)), labelName(last.Ref, m.stepName(last)), p.Hops())}
}

// labelName shortens a person's name for a bookmark label ("Ахметов Ж.");
// other names and identifiers stay whole.
func labelName(r graph.Ref, name string) string {
	if r.Kind == graph.KindPerson {
		return shortName(name)
	}
	return name
}

// stepName names a path step.
func (m *Model) stepName(s PathStep) string {
	if s.Name != "" {
		return s.Name
	}
	return refLabel(s.Ref)
}

func (m *Model) renderPaths(b rect) []string {
	st, v := m.st, &m.ana.paths
	listR, hopR := splitBody(b, b.H*2/5)
	title := "Paths · A " + m.refBadge(v.a) + " → B " + m.refBadge(v.b) + fmt.Sprintf(" · ≤ %d hops", v.maxHops)
	var body []string
	footer := ""
	none := fmt.Sprintf("no path within %d hops · + searches further", v.maxHops)
	if line, ok := m.anaNotice(v.err, v.loaded, len(v.rows) == 0, "mark two entities with m", none); ok {
		body = append(body, line)
	} else {
		body = v.nav.Lines(func(i int, selected bool) string {
			p := v.rows[i]
			names := make([]string, len(p.Steps))
			for j, s := range p.Steps {
				names[j] = m.stepName(s)
			}
			line := strings.Join(names, " → ")
			lineSt := st.Text
			mark := "  "
			if selected {
				mark = st.Accent.Render("▸ ")
				if v.hopFocus {
					lineSt = lineSt.Inherit(st.SelectedBlur)
				} else {
					lineSt = lineSt.Inherit(st.Selected)
				}
			}
			return mark + st.Muted.Render(fmt.Sprintf("%d hops  ", p.Hops())) + lineSt.Render(line)
		})
		footer = fmt.Sprintf("%d paths", len(v.rows))
		if q := v.nav.Query(); q != "" {
			footer = fmt.Sprintf("%d of %d paths match %q", v.nav.Len(), len(v.rows), q)
		}
	}
	out := pane.Box(st, title, footer, body, listR.W, listR.H, !v.hopFocus)
	return append(out, m.renderPathHops(hopR)...)
}

func (m *Model) renderPathHops(r rect) []string {
	st, v := m.st, &m.ana.paths
	p, ok := v.selected()
	if !ok || !v.loaded || m.ana.busy {
		return pane.Box(st, "Hops", "", nil, r.W, r.H, v.hopFocus)
	}
	cw := pane.ContentWidth(r.W)
	relW := 11
	amtW := 0
	for _, s := range p.Steps {
		if s.Money {
			amtW = max(amtW, ansi.StringWidth(graph.FormatMoney(s.Amount, "KZT")))
		}
	}
	body := v.hnav.Lines(func(i int, selected bool) string {
		s := p.Steps[i]
		mark := "  "
		nameSt := st.Kind(s.Ref.Kind)
		if v.hopFocus && selected {
			mark = st.Accent.Render("▸ ")
			nameSt = nameSt.Inherit(st.Selected)
		}
		edge := ""
		if i > 0 {
			arrow := "→"
			if !s.Forward {
				arrow = "←"
			}
			edge = s.Relation + " " + arrow
		}
		right := ""
		if s.Money {
			right = pane.Right(st.Money.Render(graph.FormatMoney(s.Amount, "KZT")), amtW) + "  " + st.Muted.Render(s.Time.In(m.loc).Format("2006-01-02 15:04"))
		}
		nameW := max(cw-2-relW-1-ansi.StringWidth(right)-1, 10)
		// The identifier keeps its room: the name is cut before it is.
		id := identOf(s.Ref, s.Name)
		idW := 0
		if id != "" && nameW-9-ansi.StringWidth(id)-2 >= 6 {
			idW = ansi.StringWidth(id) + 2
		}
		name := pane.Fit(st.Badge(s.Ref.Kind).Render(s.Ref.Kind.String()), 9) + pane.Fit(nameSt.Render(m.stepName(s)), nameW-9-idW)
		if idW > 0 {
			name += "  " + st.Muted.Render(id)
		}
		return mark + pane.Fit(st.Muted.Render(edge), relW) + " " + pane.Fit(name, nameW) + " " + right
	})
	footer := "tab to the hops · enter opens · t traces · b bookmarks the path or hop"
	return pane.Box(st, fmt.Sprintf("Hops of path %d", v.rank()), footer, body, r.W, r.H, v.hopFocus)
}
