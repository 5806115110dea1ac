package graphview

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"casegraph/graph"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

// MaxNodes is the node budget of one drawing.
const MaxNodes = 60

// RequestMsg asks the root to expand Center with these options and hand the
// result to SetHood.
type RequestMsg struct {
	Center graph.Ref
	Opts   graph.HoodOptions
}

// RecenterMsg asks the root to re-centre the graph on Ref (a history step).
type RecenterMsg struct{ Ref graph.Ref }

// OpenMsg asks the root to open the entity view of Ref.
type OpenMsg struct{ Ref graph.Ref }

// ClosedMsg asks the root to return to the entity view.
type ClosedMsg struct{}

// KeyMap are the graph view bindings.
type KeyMap struct {
	Up, Down, Left, Right, Recenter, Open, More, Less, Filter, Close key.Binding
}

// DefaultKeys returns the graph view bindings.
func DefaultKeys() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "node above")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "node below")),
		Left:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "column left")),
		Right:    key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "column right")),
		Recenter: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "re-centre")),
		Open:     key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open entity")),
		More:     key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "more hops")),
		Less:     key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "fewer hops")),
		Filter:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "filter kinds")),
		Close:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to entity")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("up"), key.WithHelp("←↑↓→", "move")),
		k.Recenter, k.Open, key.NewBinding(key.WithKeys("+"), key.WithHelp("+/-", "hops")), k.Filter, k.Close,
	}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Left, k.Right}, {k.Recenter, k.Open, k.Close}, {k.More, k.Less, k.Filter}}
}

// Model is the graph view.
type Model struct {
	Keys KeyMap
	st   theme.Styles

	center graph.Ref
	hops   int
	kinds  []graph.Kind // kinds seen in the last unfiltered drawing
	// filter is 0 for all kinds, else 2k+1 for kinds[k] only and 2k+2 for
	// every kind but kinds[k].
	filter int
	// group, when set, draws a suspected group: its members and the links
	// between them (ShowGroup), named groupName; groupKey tells groups apart.
	group     []graph.Ref
	groupName string
	groupKey  string
	hood      graph.Hood
	loaded    bool
	loading   bool
	err       error

	lay      Layout
	sel      int
	xoff     int
	yoff     int
	w, h     int
	layoutOK bool
}

// New returns an empty graph view.
func New(st theme.Styles) Model {
	return Model{Keys: DefaultKeys(), st: st, hops: 2}
}

// SetStyles applies a theme.
func (m *Model) SetStyles(st theme.Styles) { m.st = st }

// SetSize sets the content size (inside the frame).
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.relayout()
}

// Hops is the current expansion depth.
func (m Model) Hops() int { return m.hops }

// Center is the entity the graph is centred on.
func (m Model) Center() graph.Ref { return m.center }

// Layout is the current drawing.
func (m Model) Layout() Layout { return m.lay }

// Loaded reports whether a drawing (or an error) has arrived.
func (m Model) Loaded() bool { return m.loaded || m.err != nil }

// Loading reports whether an expansion is running.
func (m Model) Loading() bool { return m.loading }

// FilterName names the active kind filter.
func (m Model) FilterName() string {
	k, only, ok := m.filterKind()
	switch {
	case !ok:
		return "all kinds"
	case only:
		return k.String() + " only"
	}
	return "no " + k.String()
}

// filterKind is the kind the filter keeps (only) or drops; ok is false when
// it keeps every kind.
func (m Model) filterKind() (k graph.Kind, only, ok bool) {
	if m.filter <= 0 || (m.filter-1)/2 >= len(m.kinds) {
		return 0, false, false
	}
	return m.kinds[(m.filter-1)/2], m.filter%2 == 1, true
}

// GroupKey names the group on screen; empty for an entity's neighbourhood.
func (m Model) GroupKey() string { return m.groupKey }

// Selected returns the selected node.
func (m Model) Selected() (Placed, bool) {
	if m.sel < 0 || m.sel >= len(m.lay.Nodes) {
		return Placed{}, false
	}
	return m.lay.Nodes[m.sel], true
}

// Show starts a drawing of center, returning the request for the root.
func (m *Model) Show(center graph.Ref) tea.Cmd {
	if m.group != nil {
		m.group, m.groupName, m.groupKey = nil, "", ""
		m.center = graph.Ref{} // a new drawing
	}
	if center != m.center {
		m.filter = 0
		m.kinds = nil
		m.loaded = false
		m.lay = Layout{}
	}
	m.err = nil
	m.center = center
	return m.request()
}

// ShowGroup starts a drawing of a group: its members, walked from anchor
// through members only, every link between them; key tells it from other
// groups, name titles it.
func (m *Model) ShowGroup(key, name string, anchor graph.Ref, members []graph.Ref) tea.Cmd {
	if key != m.groupKey || anchor != m.center {
		m.filter = 0
		m.kinds = nil
		m.loaded = false
		m.lay = Layout{}
	}
	m.group, m.groupName, m.groupKey = members, name, key
	m.err = nil
	m.center = anchor
	return m.request()
}

// groupHops is the depth a group is walked to: every member of a group
// joined through members is reached within as many hops as it has members.
const groupHops = 8

func (m Model) currentOpts() graph.HoodOptions {
	opts := graph.HoodOptions{Hops: m.hops, MaxNodes: MaxNodes}
	if m.group != nil {
		opts.Hops = min(groupHops, max(len(m.group)-1, 1))
		opts.MaxNodes = max(MaxNodes, min(len(m.group)+1, graph.DefaultHoodMaxNodes))
		opts.Members = m.group
	}
	if k, only, ok := m.filterKind(); ok {
		if only {
			opts.Kinds = []graph.Kind{k}
		} else {
			opts.Exclude = []graph.Kind{k}
		}
	}
	return opts
}

// drawHops is the depth the drawing lays out.
func (m Model) drawHops() int {
	if m.group != nil {
		return m.currentOpts().Hops
	}
	return m.hops
}

func (m *Model) request() tea.Cmd {
	m.loading = true
	req := RequestMsg{Center: m.center, Opts: m.currentOpts()}
	return func() tea.Msg { return req }
}

// SetHood hands the result of req to the view. Results of a request that no
// longer matches the view (another centre, depth or filter) are ignored.
func (m *Model) SetHood(req RequestMsg, h graph.Hood, err error) {
	cur := m.currentOpts()
	if req.Center != m.center || req.Opts.Hops != cur.Hops || fmt.Sprint(req.Opts.Kinds) != fmt.Sprint(cur.Kinds) ||
		fmt.Sprint(req.Opts.Exclude) != fmt.Sprint(cur.Exclude) || fmt.Sprint(req.Opts.Members) != fmt.Sprint(cur.Members) {
		return
	}
	opts := req.Opts
	m.loading = false
	m.err = err
	if err != nil {
		return
	}
	m.hood, m.loaded = h, true
	if len(opts.Kinds) == 0 && len(opts.Exclude) == 0 {
		seen := map[graph.Kind]bool{}
		m.kinds = m.kinds[:0]
		for _, n := range h.Nodes[min(1, len(h.Nodes)):] {
			if n.Folded == 0 {
				seen[n.Ref.Kind] = true
			}
		}
		for _, k := range graph.Kinds {
			if seen[k] {
				m.kinds = append(m.kinds, k)
			}
		}
	}
	m.sel, m.xoff, m.yoff = 0, 0, 0
	m.relayout()
}

func (m *Model) relayout() {
	if !m.loaded {
		return
	}
	gap := 2
	leaves := 0
	for _, n := range m.hood.Nodes {
		if n.Hop == m.drawHops() {
			leaves++
		}
	}
	if leaves*2 > m.h-1 {
		gap = 1
	}
	m.lay = Build(m.hood, m.drawHops(), m.w, gap)
	if m.sel >= len(m.lay.Nodes) {
		m.sel = 0
	}
	m.scrollToSel()
}

// Update handles keys and mouse wheel.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.Keys.Close):
			return m, func() tea.Msg { return ClosedMsg{} }
		case key.Matches(msg, m.Keys.Up):
			m.moveVert(-1)
		case key.Matches(msg, m.Keys.Down):
			m.moveVert(1)
		case key.Matches(msg, m.Keys.Left):
			m.moveCol(-1)
		case key.Matches(msg, m.Keys.Right):
			m.moveCol(1)
		case key.Matches(msg, m.Keys.More, m.Keys.Less) && m.group != nil:
			// A group is drawn whole: its depth is its own.
		case key.Matches(msg, m.Keys.More):
			if m.hops < 3 {
				m.hops++
				return m, m.request()
			}
		case key.Matches(msg, m.Keys.Less):
			if m.hops > 1 {
				m.hops--
				return m, m.request()
			}
		case key.Matches(msg, m.Keys.Filter):
			if len(m.kinds) > 0 {
				m.filter = (m.filter + 1) % (2*len(m.kinds) + 1)
				return m, m.request()
			}
		case key.Matches(msg, m.Keys.Recenter):
			if p, ok := m.Selected(); ok && (m.sel != 0 || m.group != nil) && p.Node.Folded == 0 {
				ref := p.Node.Ref
				return m, func() tea.Msg { return RecenterMsg{Ref: ref} }
			}
		case key.Matches(msg, m.Keys.Open):
			if p, ok := m.Selected(); ok && p.Node.Folded == 0 {
				ref := p.Node.Ref
				return m, func() tea.Msg { return OpenMsg{Ref: ref} }
			}
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			m.yoff = max(0, m.yoff-3)
		case tea.MouseWheelDown:
			m.yoff = max(0, min(m.yoff+3, m.lay.H-m.gridH()))
		}
	}
	return m, nil
}

// moveVert selects the nearest node above (d<0) or below in the same column.
func (m *Model) moveVert(d int) {
	cur, ok := m.Selected()
	if !ok {
		return
	}
	best, bestDist := -1, 0
	for i, p := range m.lay.Nodes {
		if p.Col != cur.Col || i == m.sel {
			continue
		}
		dist := (p.Row - cur.Row) * d
		if dist > 0 && (best < 0 || dist < bestDist) {
			best, bestDist = i, dist
		}
	}
	if best >= 0 {
		m.sel = best
		m.scrollToSel()
	}
}

// moveCol selects the node in the next column left or right closest in row.
func (m *Model) moveCol(d int) {
	cur, ok := m.Selected()
	if !ok {
		return
	}
	for col := cur.Col + d; col >= -m.hops && col <= m.hops; col += d {
		best, bestDist := -1, 0
		for i, p := range m.lay.Nodes {
			if p.Col != col {
				continue
			}
			dist := p.Row - cur.Row
			if dist < 0 {
				dist = -dist
			}
			if best < 0 || dist < bestDist {
				best, bestDist = i, dist
			}
		}
		if best >= 0 {
			m.sel = best
			m.scrollToSel()
			return
		}
	}
}

// gridH is the number of rows left for the drawing (one goes to the info line).
func (m Model) gridH() int { return max(1, m.h-2) }

func (m *Model) scrollToSel() {
	p, ok := m.Selected()
	if !ok {
		return
	}
	gh := m.gridH()
	if m.lay.H <= gh {
		m.yoff = 0
	} else {
		if p.Row < m.yoff {
			m.yoff = p.Row
		}
		if p.Row >= m.yoff+gh {
			m.yoff = p.Row - gh + 1
		}
		if m.sel == 0 && m.yoff == 0 {
			m.yoff = max(0, min(p.Row-gh/2, m.lay.H-gh))
		}
	}
	if m.lay.W <= m.w {
		m.xoff = 0
		return
	}
	if p.X < m.xoff {
		m.xoff = max(0, p.X-2)
	}
	if p.X+p.W > m.xoff+m.w {
		m.xoff = min(p.X+p.W-m.w+2, m.lay.W-m.w)
	}
	if m.sel == 0 {
		m.xoff = max(0, min(p.X+p.W/2-m.w/2, m.lay.W-m.w))
	}
}

// Title is the frame title: centre, depth and filter.
func (m Model) Title() string {
	if m.group != nil {
		return fmt.Sprintf("%s · %d members · %s", m.groupName, len(m.group), m.FilterName())
	}
	return fmt.Sprintf("Graph · %d hop%s · %s", m.hops, plural(m.hops), m.FilterName())
}

// Footer is the frame footer: counts and scroll position.
func (m Model) Footer() string {
	if !m.loaded {
		return ""
	}
	f := fmt.Sprintf("%d nodes · %d edges", len(m.lay.Nodes), len(m.hood.Edges))
	if m.lay.Hidden > 0 {
		f += fmt.Sprintf(" · %d cross links not drawn", m.lay.Hidden)
	}
	if m.hood.Truncated {
		f += fmt.Sprintf(" · cut at %d nodes", m.currentOpts().MaxNodes)
	}
	if m.group != nil {
		if n := len(m.group) - m.membersDrawn(); n > 0 {
			f += fmt.Sprintf(" · %d member%s not linked to the rest", n, plural(n))
		}
	}
	if m.lay.Unplaced > 0 {
		f += fmt.Sprintf(" · %d against the flow not drawn", m.lay.Unplaced)
	}
	if m.lay.W > m.w || m.lay.H > m.gridH() {
		f += " · scrolls"
	}
	return f
}

// membersDrawn counts the group's members in the drawing.
func (m Model) membersDrawn() int {
	in := make(map[graph.Ref]bool, len(m.group))
	for _, r := range m.group {
		in[r] = true
	}
	n := 0
	for _, p := range m.lay.Nodes {
		if in[p.Node.Ref] {
			n++
		}
	}
	return n
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Lines renders exactly h content lines of width w.
func (m Model) Lines() []string {
	st := m.st
	out := make([]string, 0, m.h)
	switch {
	case m.err != nil:
		out = append(out, st.Err.Render("expand failed: "+m.err.Error()))
	case !m.loaded:
		out = append(out, st.Muted.Render("expanding the neighbourhood…"))
	default:
		gh := m.gridH()
		for range max(0, (gh-m.lay.H)/2) {
			out = append(out, "")
		}
		for y := m.yoff; y < m.lay.H && y < m.yoff+gh; y++ {
			out = append(out, m.renderRow(y))
		}
		for len(out) < gh {
			out = append(out, "")
		}
		out = append(out, "", m.infoLine())
	}
	for len(out) < m.h {
		out = append(out, "")
	}
	return out[:max(0, m.h)]
}

func (m Model) infoLine() string {
	st := m.st
	p, ok := m.Selected()
	if !ok {
		return ""
	}
	n := p.Node
	parts := []string{
		st.Badge(n.Ref.Kind).Render(strings.ToUpper(n.Ref.Kind.String())) + " " + st.Bold.Render(titleOf(n)),
	}
	if id := identOf(n); id != "" {
		parts = append(parts, st.Muted.Render(id))
	}
	if m.sel == 0 {
		parts = append(parts, st.Muted.Render("centre"))
	} else {
		parts = append(parts, st.Muted.Render(fmt.Sprintf("hop %d", n.Hop)))
		for _, e := range p.Edges {
			arrow := "→"
			if e.To != n.Ref {
				arrow = "←"
			}
			s := e.Relation + " " + arrow
			if e.Count > 1 {
				s += fmt.Sprintf(" ×%d", e.Count)
			}
			if e.Amount != 0 {
				s += " " + graph.FormatMoney(e.Amount, "KZT")
			}
			parts = append(parts, s)
		}
	}
	if n.Hub {
		parts = append(parts, st.Warn.Render("◆ hub: not expanded"))
	}
	return strings.Join(parts, st.Muted.Render(" · "))
}

// identOf is the identifier of a named node, which tells namesakes apart:
// the IIN of a person, the masked PAN of a card, the IBAN of an account.
func identOf(n graph.HoodNode) string {
	if n.Name == "" || n.Folded > 0 {
		return ""
	}
	if n.Ref.Kind == graph.KindCard {
		return graph.MaskPAN(n.Ref.Key)
	}
	return graph.RefTitle(n.Ref)
}

func titleOf(n graph.HoodNode) string {
	if n.Name != "" {
		return n.Name
	}
	if n.Ref.Kind == graph.KindCard {
		return graph.MaskPAN(n.Ref.Key)
	}
	return graph.RefTitle(n.Ref)
}

// renderRow styles one grid row inside the horizontal window.
func (m Model) renderRow(y int) string {
	st := m.st
	row := m.lay.Grid[y]
	end := min(len(row), m.xoff+m.w)
	var b strings.Builder
	var run strings.Builder
	var runStyle lipgloss.Style
	flush := func() {
		if run.Len() > 0 {
			b.WriteString(runStyle.Render(run.String()))
			run.Reset()
		}
	}
	prevKey := ""
	for x := m.xoff; x < end; x++ {
		c := row[x]
		var s lipgloss.Style
		k := ""
		switch c.cls {
		case clsLine:
			s, k = st.Border, "l"
		case clsLabel:
			s, k = st.Muted, "b"
		case clsArrow:
			s, k = st.Muted, "a"
		case clsNode, clsCenter:
			node := m.lay.Nodes[c.node]
			s = st.Kind(node.Node.Ref.Kind)
			if c.cls == clsCenter {
				s = s.Bold(true)
			}
			if c.node == m.sel {
				s = s.Reverse(true).Bold(true)
			}
			k = fmt.Sprintf("n%d", c.node)
		default:
			s, k = lipgloss.NewStyle(), "_"
		}
		if k != prevKey {
			flush()
			runStyle, prevKey = s, k
		}
		run.WriteRune(c.R)
	}
	flush()
	return pane.Fit(b.String(), m.w)
}
