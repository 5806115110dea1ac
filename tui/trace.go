package tui

import (
	"fmt"
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

// TraceQuery asks for a money-flow trace from an entity or, when TxID is
// set, from the money one transaction of that entity moved.
type TraceQuery struct {
	Ref          graph.Ref
	TxID         string
	Backward     bool          // follow the money back to where it came from
	Proportional bool          // haircut attribution instead of FIFO
	MaxHops      int           // 0: graph.DefaultTraceHops
	MaxDwell     time.Duration // 0: graph.DefaultDwell
}

// TraceNode is one hop of the trace tree: money that reached (forward) or
// left (backward) Ref through transaction TxID.
type TraceNode struct {
	Ref      graph.Ref
	Name     string
	TxID     string // empty at an entity root
	Channel  string
	Amount   int64 // traced money this hop carries, minor units
	Time     time.Time
	Dwell    time.Duration // time the money sat on the parent before this hop
	Depth    int
	Parent   int    // index in TraceTree.Nodes; -1 at the root
	Children []int  // in time order
	End      string // "", "cash", "exchange", "stayed", "unknown"
	Stayed   int64
	Lost     int64
}

// TraceEnd sums the money that ended one way.
type TraceEnd struct {
	End    string
	Hops   int
	Amount int64
}

// TraceTree is a money-flow trace; Nodes[0] is the root.
type TraceTree struct {
	Backward  bool
	Nodes     []TraceNode
	Ends      []TraceEnd
	Truncated bool // the node budget stopped the trace
}

type traceView struct {
	q       TraceQuery
	tree    TraceTree
	loaded  bool
	err     error
	open    map[int]bool
	visible []int      // tree nodes shown, depth first
	nav     list.Model // over visible
}

// traceSummaryH is the height of the "where the money went" pane.
const traceSummaryH = 5

func newTraceView(st theme.Styles) traceView {
	return traceView{open: map[int]bool{}, nav: list.New(st)}
}

// rebuild lists the nodes shown: the root and the children of every
// expanded node, depth first. The selected node stays selected.
func (v *traceView) rebuild() {
	selNode, had := v.selected()
	v.visible = v.visible[:0]
	defer func() {
		v.nav.SetRows(len(v.visible), func(r int) string {
			n := v.tree.Nodes[v.visible[r]]
			return n.Name + " " + n.Ref.String() + " " + refLabel(n.Ref) + " " + n.Channel + " " + n.End + " " + n.TxID
		})
		if had {
			for r, i := range v.visible {
				if i == selNode {
					v.nav.Select(r)
				}
			}
		}
	}()
	if len(v.tree.Nodes) == 0 {
		return
	}
	var walk func(i int)
	walk = func(i int) {
		v.visible = append(v.visible, i)
		if v.open[i] {
			for _, c := range v.tree.Nodes[i].Children {
				walk(c)
			}
		}
	}
	walk(0)
}

func (v *traceView) selected() (int, bool) {
	if r, ok := v.nav.Index(); ok && r < len(v.visible) {
		return v.visible[r], true
	}
	return 0, false
}

type traceLoadedMsg struct {
	seq  int
	q    TraceQuery
	tree TraceTree
	err  error
}

// openTrace shows the Trace screen for q, keeping the direction and
// attribution the user chose last.
func (m *Model) openTrace(q TraceQuery) tea.Cmd {
	v := &m.ana.trace
	q.Backward, q.Proportional, q.MaxHops = v.q.Backward, v.q.Proportional, v.q.MaxHops
	v.q = q
	return m.openAnalytics(anaTrace)
}

func (m *Model) loadTrace() tea.Cmd {
	v := &m.ana.trace
	q := v.q
	if q.Ref.IsZero() {
		return nil
	}
	dir := "forward"
	if q.Backward {
		dir = "backward"
	}
	ctx, seq := m.startJob("tracing money " + dir)
	b := m.b
	return func() tea.Msg {
		t, err := b.Trace(ctx, q)
		if err != nil {
			err = fmt.Errorf("trace %s: %w", q.Ref, err)
		}
		return traceLoadedMsg{seq: seq, q: q, tree: t, err: err}
	}
}

func (m *Model) applyTrace(msg traceLoadedMsg) tea.Cmd {
	if !m.endJob(msg.seq) {
		return nil
	}
	v := &m.ana.trace
	if msg.q != v.q {
		return nil
	}
	if m.failedJob(msg.err) {
		v.err = msg.err
		return nil
	}
	v.tree, v.loaded, v.err = msg.tree, true, nil
	v.open = map[int]bool{0: true}
	v.visible = v.visible[:0]
	v.nav.Reset(0, 0, nil)
	v.rebuild()
	for _, n := range msg.tree.Nodes {
		m.noteName(n.Ref, n.Name)
	}
	return nil
}

// traceUpdate takes the Trace screen's input; ok is false for keys it
// leaves to the screen's global keys.
func (m *Model) traceUpdate(msg tea.Msg) (tea.Cmd, bool) {
	v := &m.ana.trace
	if cmd, ok := v.nav.Update(msg); ok {
		return cmd, true
	}
	kp, isKey := msg.(tea.KeyPressMsg)
	if !isKey {
		return nil, false
	}
	return m.traceKey(kp)
}

func (m *Model) traceKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	v, k := &m.ana.trace, m.ana.keys
	switch {
	case key.Matches(msg, k.List.Export):
		return m.bookmarkListed("trace rows of "+m.titleOf(v.q.Ref), &v.nav, func(r int) []graph.Ref {
			return []graph.Ref{v.tree.Nodes[v.visible[r]].Ref}
		}), true
	case key.Matches(msg, k.Direction):
		v.q.Backward = !v.q.Backward
		return m.loadTrace(), true
	case key.Matches(msg, k.Proportional):
		v.q.Proportional = !v.q.Proportional
		return m.loadTrace(), true
	case key.Matches(msg, k.MoreHops):
		if h := v.hops(); h < 12 {
			v.q.MaxHops = h + 1
			return m.loadTrace(), true
		}
		return nil, true
	case key.Matches(msg, k.FewerHops):
		if h := v.hops(); h > 1 {
			v.q.MaxHops = h - 1
			return m.loadTrace(), true
		}
		return nil, true
	case key.Matches(msg, k.ExpandAll):
		all := true
		for i, n := range v.tree.Nodes {
			if len(n.Children) > 0 && !v.open[i] {
				all = false
			}
		}
		v.open = map[int]bool{0: true}
		if !all {
			for i := range v.tree.Nodes {
				v.open[i] = true
			}
		}
		v.rebuild()
		return nil, true
	}
	i, ok := v.selected()
	if !ok {
		return nil, false
	}
	n := v.tree.Nodes[i]
	switch {
	case key.Matches(msg, k.Toggle):
		if len(n.Children) > 0 {
			v.open[i] = !v.open[i]
			v.rebuild()
		}
	case key.Matches(msg, k.Open):
		return m.openEntityFromAna(n.Ref, false), true
	case key.Matches(msg, k.Bookmark):
		// The whole trace; one entity of it is bookmarked from its own
		// screen (enter, then b).
		t := m.traceTarget()
		return m.openBookmark(t, t.Label), true
	case key.Matches(msg, k.Mark):
		return m.markPathEnd(n.Ref), true
	default:
		return nil, false
	}
	return nil, true
}

// traceTarget is the bookmark target of the trace on screen: every entity
// the money reached, in the order visited (the start first), the request
// with its options as the query, and a label such as
// "trace forward from card 4400 43•• •••• 7894 · 9 entities".
func (m *Model) traceTarget() graph.Target {
	v := &m.ana.trace
	var refs []graph.Ref
	seen := map[graph.Ref]bool{}
	for _, n := range v.tree.Nodes {
		if !seen[n.Ref] {
			seen[n.Ref] = true
			refs = append(refs, n.Ref)
		}
	}
	q := v.q
	dir, attr := "forward", "fifo"
	if q.Backward {
		dir = "backward"
	}
	if q.Proportional {
		attr = "proportional"
	}
	query := fmt.Sprintf("trace %s %s from %s", dir, attr, q.Ref)
	if q.TxID != "" {
		query += " tx " + q.TxID
	}
	query += fmt.Sprintf(" ≤ %d hops", v.hops())
	if q.MaxDwell > 0 {
		query += " dwell " + q.MaxDwell.String()
	}
	return graph.Target{Kind: graph.TargetTrace, Refs: refs, Query: query,
		Label: fmt.Sprintf("trace %s from %s · %d entities", dir, labelName(q.Ref, m.titleOf(q.Ref)), len(refs))}
}

func (v *traceView) hops() int {
	if v.q.MaxHops > 0 {
		return v.q.MaxHops
	}
	return graph.DefaultTraceHops
}

// fmtDwell renders a dwell compactly: "45m", "3h10m", "2d4h".
func fmtDwell(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, mm := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if mm == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, mm)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	return fmt.Sprintf("%dd%dh", days, h)
}

func (m *Model) renderTrace(b rect) []string {
	st, v := m.st, &m.ana.trace
	sumH := traceSummaryH
	treeR := rect{b.X, b.Y, b.W, b.H - sumH}
	sumR := rect{b.X, b.Y + b.H - sumH, b.W, sumH}
	dir, arrow := "forward", "→"
	if v.q.Backward {
		dir, arrow = "backward", "←"
	}
	attr := "FIFO"
	if v.q.Proportional {
		attr = "proportional"
	}
	title := "Trace " + dir + " · " + m.refBadge(v.q.Ref)
	if v.q.TxID != "" {
		title += " · transaction " + v.q.TxID
	}
	title += fmt.Sprintf(" · %s · ≤ %d hops", attr, v.hops())
	cw := pane.ContentWidth(treeR.W)
	var body []string
	footer := ""
	if line, ok := m.anaNotice(v.err, v.loaded, len(v.tree.Nodes) == 0, "loading…", "no money to trace"); ok {
		body = append(body, line)
	} else {
		// The amount and end columns take what their rows need; the money
		// column, which names where the money went, gets the rest.
		const timeW, dwellW = 16, 7
		amtW, endW := len("amount"), len("end")
		for _, i := range v.visible {
			n := v.tree.Nodes[i]
			amtW = max(amtW, ansi.StringWidth(graph.FormatMoney(n.Amount, "KZT")))
			endW = max(endW, ansi.StringWidth(traceEnd(n)))
		}
		treeW := max(cw-amtW-timeW-dwellW-endW-4, 12)
		widths := []int{treeW, -amtW, timeW, -dwellW, endW}
		body = append(body, st.Muted.Render(fitCols([]string{"money " + arrow, "amount", "time (Almaty)", "dwell", "end"}, widths)))
		body = append(body, v.nav.Lines(func(r int, selected bool) string {
			i := v.visible[r]
			n := v.tree.Nodes[i]
			glyph := "·"
			if len(n.Children) > 0 {
				glyph = "▸"
				if v.open[i] {
					glyph = "▾"
				}
			}
			name := n.Name
			if name == "" {
				name = refLabel(n.Ref)
			}
			nameSt := st.Kind(n.Ref.Kind)
			if selected {
				nameSt = nameSt.Inherit(st.Selected)
			}
			left := strings.Repeat("  ", n.Depth) + st.Accent.Render(glyph) + " "
			if n.Channel != "" {
				left += st.Muted.Render(n.Channel) + " "
			}
			left += fitTitle(nameSt.Render(name), n.Name == "", max(treeW-ansi.StringWidth(left), 1))
			when := ""
			if !n.Time.IsZero() {
				when = n.Time.In(m.loc).Format("2006-01-02 15:04")
			}
			end := traceEnd(n)
			endSt := st.Muted
			if n.End == "cash" || n.End == "exchange" {
				endSt = st.Warn
			}
			return fitCols([]string{left, st.Money.Render(graph.FormatMoney(n.Amount, "KZT")), st.Muted.Render(when),
				st.Muted.Render(fmtDwell(n.Dwell)), endSt.Render(end)}, widths)
		})...)
		filterFirst(&v.nav, body)
		footer = v.nav.Footer() + fmt.Sprintf(" shown · %d hops in the tree", len(v.tree.Nodes))
		if v.tree.Truncated {
			footer += " · budget reached"
		}
	}
	out := pane.Box(st, title, footer, body, treeR.W, treeR.H, true)
	return append(out, m.renderTraceSummary(sumR)...)
}

func (m *Model) renderTraceSummary(r rect) []string {
	st, v := m.st, &m.ana.trace
	if !v.loaded || m.ana.busy || len(v.tree.Nodes) == 0 {
		return pane.Box(st, "Where the money went", "", nil, r.W, r.H, false)
	}
	title := "Where the money went"
	if v.tree.Backward {
		title = "Where the money came from"
	}
	root := v.tree.Nodes[0]
	var parts []string
	for _, e := range v.tree.Ends {
		if e.Amount == 0 && e.Hops == 0 {
			continue
		}
		pct := 0.0
		if root.Amount > 0 {
			pct = 100 * float64(e.Amount) / float64(root.Amount)
		}
		name := e.End
		if name == "unknown" {
			name = "not followed"
		}
		parts = append(parts, fmt.Sprintf("%s %s (%.0f%%, %d)", name, graph.FormatShortMoney(e.Amount), pct, e.Hops))
	}
	cw := pane.ContentWidth(r.W)
	body := []string{
		st.Text.Render("traced " + graph.FormatMoney(root.Amount, "KZT")),
		ansi.Truncate(st.Warn.Render(strings.Join(parts, " · ")), cw, "…"),
		st.Muted.Render("space expands a hop · e all · d direction · p attribution · +/- hops"),
	}
	return pane.Box(st, title, "", body, r.W, r.H, false)
}

// traceEnd says where a hop's money ended: stayed, not followed, or a
// terminal (■ cash, ■ exchange); "" while it moves on.
func traceEnd(n TraceNode) string {
	switch n.End {
	case "stayed":
		if n.Stayed != n.Amount {
			return "stayed " + graph.FormatShortMoney(n.Stayed)
		}
		return "stayed"
	case "unknown":
		if n.Lost != n.Amount && n.Lost > 0 {
			return "not followed " + graph.FormatShortMoney(n.Lost)
		}
		return "not followed"
	case "":
		return ""
	}
	return "■ " + n.End
}
