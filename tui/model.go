// Package tui is casegraph's terminal workbench: search, entity view,
// transactions and the link graph. It renders and dispatches only; every
// fact comes from a Backend through commands.
package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui/graphview"
	"casegraph/tui/pane"
	"casegraph/tui/search"
	"casegraph/tui/theme"
)

// Options configure the TUI.
type Options struct {
	Start *graph.Ref // open this entity first, optional
	// Remote is a TUI served over the network (casegraph serve): it never
	// runs a program on the machine it runs on (no $EDITOR for notes).
	Remote bool
	// ExportDir is the folder a case export's relative folder name goes
	// under (casegraph sets CASEGRAPH_HOME/exports unless told otherwise):
	// the TUI never writes into the directory it was started from. A
	// remote TUI leaves it empty: the server confines its exports itself.
	ExportDir string
}

// SearchReadyMsg tells the TUI the search index finished loading. cmd sends
// it with Program.Send.
type SearchReadyMsg struct {
	Docs int
	Took time.Duration
	Err  error
	// Server says the database answers search itself (a Dgraph cluster,
	// docs/DGRAPH.md): Docs are those of the local index whose hits show
	// before the cluster's (tui/search/server.go).
	Server bool
}

// histEntry is one step of browser-style history.
type histEntry struct {
	Ref   graph.Ref
	Graph bool
	// Group, with Graph, draws the suspected group Model.groups[Group]
	// (centred on Ref, its anchor) instead of Ref's neighbourhood.
	Group string
}

// groupDef is a suspected group drawn as a graph.
type groupDef struct {
	name    string
	members []graph.Ref
}

// Model is the root model; it owns the terminal.
type Model struct {
	b   Backend
	ctx context.Context
	loc *time.Location

	st    theme.Styles
	keys  globalKeys
	ekeys entityKeys
	tkeys timelineKeys // timeline.go
	help  help.Model
	w, h  int
	lay   layout
	// stack holds the screens, home at the bottom; the top one gets the
	// input (screens.go).
	stack []Screen

	stats       graph.Stats
	statsLoaded bool
	statsErr    error

	search search.Model

	hist   []histEntry
	pos    int
	titles map[graph.Ref]string
	groups map[string]groupDef // the groups history entries draw

	ent entityView
	gv  graphview.Model
	cs  casesState     // the Cases screen and the bookmark dialog (cases.go)
	ana analyticsState // Flags, Clusters, Path and Trace screens (flags_analysis.go)
	rv  resolveState   // the Resolve screen (resolve.go)

	status    string
	statusErr bool
	// statusKeep is the part of status shortened from the middle, not
	// cut off, when the line is too narrow (keepInStatus).
	statusKeep string
	start      *graph.Ref
	remote     bool   // Options.Remote
	exportDir  string // Options.ExportDir
}

// New builds the root model over b.
func New(b Backend, opts Options) *Model {
	ctx := context.Background()
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		loc = time.FixedZone("ALMT", 5*3600)
	}
	st := theme.New(true)
	m := &Model{
		b: b, ctx: ctx, loc: loc, st: st,
		keys:   defaultGlobalKeys(),
		ekeys:  defaultEntityKeys(),
		tkeys:  defaultTimelineKeys(),
		help:   help.New(),
		search: search.New(ctx, b, ErrSearchNotReady, st),
		gv:     graphview.New(st),
		titles: map[graph.Ref]string{},
		groups: map[string]groupDef{},
		pos:    -1,
		start:  opts.Start,
		remote: opts.Remote, exportDir: opts.ExportDir,
		cs:  newCasesState(st),
		ana: newAnalyticsState(st),
		rv:  newResolveState(st),
	}
	m.help.Styles = st.Help
	m.help.ShortSeparator = " · "
	m.stack = []Screen{&homeScreen{m: m}}
	m.ent = newEntityView(graph.Ref{}, st)
	return m
}

// Init requests the background colour and loads the database summary and
// the start entity.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor, loadStats(m.ctx, m.b), loadCases(m.ctx, m.b)}
	if m.start != nil {
		cmds = append(cmds, m.open(*m.start, false))
	}
	return tea.Batch(cmds...)
}

func (m *Model) setStatus(s string, isErr bool) { m.status, m.statusErr, m.statusKeep = s, isErr, "" }

// keepInStatus marks part of the status (a folder written) to shorten from
// the middle rather than lose when the status is too long for the line.
func (m *Model) keepInStatus(part string) { m.statusKeep = part }

// midTrunc shortens s to w cells by cutting its middle: the end of a path
// (the folder's own name) and its start both stay.
func midTrunc(s string, w int) string {
	if ansi.StringWidth(s) <= w || w < 3 {
		return s
	}
	r := []rune(s)
	tail := (w - 1) * 2 / 3
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		// A path: its last element whole, with its separator, when it fits.
		if base := []rune(s[i:]); len(base) > tail && len(base) <= w-2 {
			tail = len(base)
		}
	}
	head := w - 1 - tail
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

func (m *Model) applyTheme(st theme.Styles) {
	m.st = st
	m.help.Styles = st.Help
	m.search.SetStyles(st)
	m.gv.SetStyles(st)
	m.ent.setStyles(st)
	m.ana.setStyles(st)
	m.rv.setStyles(st)
	m.cs.list.SetStyles(st)
}

func (m *Model) resize(w, h int) {
	m.w, m.h = w, h
	m.lay = computeLayout(w, h)
	b := m.lay.Body
	m.search.SetSize(pane.ContentWidth(b.W), pane.ContentHeight(b.H))
	m.gv.SetSize(pane.ContentWidth(b.W), pane.ContentHeight(b.H))
	m.help.SetWidth(w - 2)
	m.ent.setSize(m.lay)
	m.sizeAnalytics()
	m.rv.setSize(m.lay)
	m.cs.setSize(m.lay)
	for _, s := range m.stack {
		s.SetSize(b.W, b.H)
	}
}

// current is the history entry on screen, if any.
func (m *Model) current() (histEntry, bool) {
	if m.pos < 0 || m.pos >= len(m.hist) {
		return histEntry{}, false
	}
	return m.hist[m.pos], true
}

// open pushes ref onto the history (dropping forward entries) and shows it.
func (m *Model) open(ref graph.Ref, asGraph bool) tea.Cmd {
	if cur, ok := m.current(); ok && cur.Ref == ref && cur.Graph == asGraph {
		return m.show()
	}
	m.hist = append(m.hist[:m.pos+1], histEntry{Ref: ref, Graph: asGraph})
	m.pos = len(m.hist) - 1
	return m.show()
}

// show displays the current history entry, loading what it needs.
func (m *Model) show() tea.Cmd {
	cur, ok := m.current()
	if !ok {
		m.browse(nil)
		return nil
	}
	var cmds []tea.Cmd
	if m.ent.ref != cur.Ref || m.ent.failed() {
		m.ent = newEntityView(cur.Ref, m.st)
		m.ent.setSize(m.lay)
		q := m.ent.txWant
		nbrs := loadNeighbors(m.ctx, m.b, cur.Ref)
		if holds(cur.Ref.Kind) {
			nbrs = tea.Batch(loadHolderNeighbors(m.ctx, m.b, cur.Ref, graph.Ref{}), loadHoldings(m.ctx, m.b, cur.Ref))
		}
		cmds = append(cmds, loadEntity(m.ctx, m.b, cur.Ref), nbrs, loadTxns(m.ctx, m.b, cur.Ref, q),
			m.loadEntityFlags(cur.Ref), m.loadVerdict(cur.Ref), m.loadNeighborSparks(cur.Ref))
	}
	switch g, ok := m.groups[cur.Group]; {
	case cur.Graph && ok:
		m.browse(&graphScreen{m: m})
		if m.gv.GroupKey() != cur.Group || m.gv.Center() != cur.Ref || !m.gv.Loaded() {
			cmds = append(cmds, m.gv.ShowGroup(cur.Group, g.name, cur.Ref, g.members))
		}
	case cur.Graph:
		m.browse(&graphScreen{m: m})
		if m.gv.Center() != cur.Ref || m.gv.GroupKey() != "" || !m.gv.Loaded() {
			cmds = append(cmds, m.gv.Show(cur.Ref))
		}
	default:
		m.browse(&entityScreen{m: m})
	}
	return tea.Batch(cmds...)
}

func (m *Model) back() tea.Cmd {
	if m.pos <= 0 {
		if m.pos == 0 {
			m.pos = -1
			m.browse(nil)
		}
		return nil
	}
	m.pos--
	return m.show()
}

func (m *Model) forward() tea.Cmd {
	if m.pos+1 >= len(m.hist) {
		return nil
	}
	m.pos++
	return m.show()
}

// Update dispatches messages. Results of commands go to the state they
// belong to; input (keys, the mouse, pastes) goes to the screen on top of
// the stack and nowhere else: ctrl+c first, then the top screen, which
// hands the keys it does not take to its global bindings.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if cmd, ok := m.updateCases(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.updateAnalytics(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.updateResolve(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.updateTeam(msg); ok {
		return m, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		if s, ok := find[*timelineScreen](m); ok {
			return m, s.request() // other widths call for other buckets
		}
		return m, nil
	case activityLoadedMsg:
		if s, ok := find[*timelineScreen](m); ok {
			s.apply(msg)
		}
		return m, nil
	case tea.BackgroundColorMsg:
		m.applyTheme(theme.New(msg.IsDark()))
		return m, nil
	case tea.KeyPressMsg:
		if key.Matches(msg, m.keys.ForceQuit) {
			return m, tea.Quit
		}
		if m.lay.TooSmall {
			if key.Matches(msg, m.keys.Quit) {
				return m, tea.Quit
			}
			return m, nil
		}
		return m, m.top().Update(msg)
	case tea.MouseMsg:
		if m.lay.TooSmall {
			return m, nil
		}
		return m, m.top().Update(msg)

	case SearchReadyMsg:
		if msg.Err != nil {
			m.setStatus("search index failed: "+msg.Err.Error(), true)
			return m, nil
		}
		if msg.Server {
			m.setStatus(fmt.Sprintf("search served by %s · its hits after %s, those of the %s entities at hand at once",
				m.b.Name(), search.Debounce, fmtInt(msg.Docs)), false)
		} else {
			m.setStatus(fmt.Sprintf("search index ready · %s documents in %s", fmtInt(msg.Docs), msg.Took.Round(time.Millisecond)), false)
		}
		return m, m.search.SetReady()
	case search.ResultsMsg:
		var cmd tea.Cmd
		m.search, cmd = m.search.Update(msg)
		if msg.Seq == m.search.Seq() {
			for _, h := range msg.Res.Hits {
				m.titles[h.Doc.Ref] = h.Doc.Label
			}
			if msg.Err != nil && !errors.Is(msg.Err, ErrSearchNotReady) {
				m.setStatus(msg.Err.Error(), true)
			}
		}
		return m, cmd
	case search.OpenMsg:
		m.closeSearch()
		return m, m.open(msg.Ref, false)
	case search.ClosedMsg:
		m.closeSearch()
		return m, nil
	case search.BookmarkMsg:
		return m, m.bookmarkSearch()

	case graphview.RequestMsg:
		return m, expandHood(m.ctx, m.b, msg)
	case hoodLoadedMsg:
		if msg.err != nil && msg.req.Center == m.gv.Center() {
			m.setStatus(msg.err.Error(), true)
		}
		for _, n := range msg.hood.Nodes {
			m.noteName(n.Ref, n.Name)
		}
		m.gv.SetHood(msg.req, msg.hood, msg.err)
		return m, nil
	case graphview.RecenterMsg:
		return m, m.open(msg.Ref, true)
	case graphview.OpenMsg:
		return m, m.open(msg.Ref, false)
	case graphview.ClosedMsg:
		if cur, ok := m.current(); ok {
			if cur.Group != "" {
				// esc on a group goes back to where it was opened from.
				return m, m.back()
			}
			if m.pos > 0 && m.hist[m.pos-1] == (histEntry{Ref: cur.Ref}) {
				// esc on a graph opened from its entity goes back to it,
				// so the breadcrumb does not name the entity twice.
				return m, m.back()
			}
			m.hist[m.pos].Graph = false
			m.titles[cur.Ref] = m.titleOf(cur.Ref)
		}
		return m, m.show()

	case statsLoadedMsg:
		m.stats, m.statsErr, m.statsLoaded = msg.stats, msg.err, true
		if msg.err != nil {
			m.setStatus(msg.err.Error(), true)
		}
		return m, nil
	case entityLoadedMsg, neighborsLoadedMsg, txnsLoadedMsg, holdingsLoadedMsg:
		if err := m.ent.apply(msg); err != nil {
			m.setStatus(err.Error(), true)
		}
		m.ent.txList.SetRows(len(m.ent.tx.Txns), m.ent.txText(m.loc, m.titleOf))
		if e, ok := msg.(entityLoadedMsg); ok && e.err == nil {
			m.titles[e.ref] = graph.Title(e.ent)
		}
		if n, ok := msg.(neighborsLoadedMsg); ok && n.err == nil {
			for _, r := range n.rows {
				m.noteName(r.Ref, r.Name)
			}
			if n.ref == m.ent.ref && n.via == m.ent.via {
				return m, prefetchNeighbors(m.ctx, m.b, n.ref, n.rows)
			}
		}
		return m, nil
	}
	// Cursor blinks, pastes and the like belong to the screen on top.
	return m, m.top().Update(msg)
}

// View renders the whole terminal.
func (m *Model) View() tea.View {
	// The last line of defence: names and notes are escaped where they
	// enter the layout (noteName, refLabel, the entity and case panes);
	// whatever got past that reaches the terminal with only its colour
	// sequences intact.
	v := tea.NewView(safetext.Styled(m.render()))
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	title := "casegraph — " + m.b.Name()
	if cur, ok := m.current(); ok && m.browsing() {
		title += " — " + m.titleOf(cur.Ref)
	}
	// The title is sent inside an OSC sequence: a BEL or ESC in a name
	// would end it and start another (OSC 52 writes the clipboard).
	v.WindowTitle = safetext.Line(title)
	return v
}

func (m *Model) render() string {
	if m.w == 0 || m.h == 0 {
		return ""
	}
	if m.lay.TooSmall {
		return m.renderTooSmall()
	}
	lines := make([]string, 0, m.h)
	base := m.base()
	lines = append(lines, m.renderHeader())
	lines = append(lines, m.stack[base].View()...)
	lines = append(lines, pane.Fit(" "+m.help.ShortHelpView(m.top().ShortHelp()), m.w))
	lines = append(lines, m.renderStatus())
	screen := strings.Join(lines, "\n")
	for _, s := range m.stack[base+1:] {
		if o, ok := s.(overlay); ok {
			screen = m.overlayBox(screen, o.Box())
		}
	}
	return screen
}

func (m *Model) renderTooSmall() string {
	msg := fmt.Sprintf("terminal too small: need %d×%d, have %d×%d", MinWidth, MinHeight, m.w, m.h)
	lines := make([]string, m.h)
	for i := range lines {
		lines[i] = strings.Repeat(" ", m.w)
	}
	words := []string{m.st.Err.Render(msg), m.st.Muted.Render("enlarge the window · q quit")}
	for i, s := range words {
		y := m.h/2 - 1 + i
		if y >= 0 && y < m.h {
			lines[y] = pane.Center(ansi.Truncate(s, m.w, "…"), m.w)
		}
	}
	return strings.Join(lines, "\n")
}

func (m *Model) refBadge(r graph.Ref) string {
	return m.st.Badge(r.Kind).Render(strings.ToUpper(r.Kind.String())) + " " + m.st.Bold.Render(m.titleOf(r))
}

// titleOf names a reference for breadcrumbs and lists: a known name, else a
// formatted identifier with card numbers masked.
func (m *Model) titleOf(r graph.Ref) string {
	if t, ok := m.titles[r]; ok && t != "" && t != graph.RefTitle(r) {
		return t
	}
	return refLabel(r)
}

// noteName remembers name as the title of ref; an empty name leaves the
// title as it was.
func (m *Model) noteName(ref graph.Ref, name string) {
	if name != "" {
		m.titles[ref] = safetext.Line(name)
	}
}

// named reports whether a name is known for r: titleOf is then a name,
// not an identifier.
func (m *Model) named(r graph.Ref) bool {
	t, ok := m.titles[r]
	return ok && t != "" && t != graph.RefTitle(r)
}

// fitTitle cuts a title to exactly w cells: a name at its end (pane.Fit),
// an identifier (id) from the middle so that it keeps its distinguishing
// end (pane.FitMiddle): a masked PAN its last four digits, an IBAN its
// account digits, a device id its tail.
func fitTitle(s string, id bool, w int) string {
	if id {
		return pane.FitMiddle(s, w)
	}
	return pane.Fit(s, w)
}

// refLabel formats a reference with card numbers masked.
func refLabel(r graph.Ref) string {
	if r.Kind == graph.KindCard {
		return safetext.Line(graph.MaskPAN(r.Key))
	}
	return safetext.Line(graph.RefTitle(r))
}

// crumb is the short breadcrumb form: "Ахметов Ж.", "card 4400 43•• •••• 7894".
func (m *Model) crumb(e histEntry) string {
	r := e.Ref
	t, named := m.titles[r]
	var s string
	switch {
	case r.Kind == graph.KindPerson && named && t != graph.RefTitle(r):
		s = shortName(t)
	case named && t != graph.RefTitle(r):
		s = t
	case r.Kind == graph.KindPerson:
		s = refLabel(r)
	default:
		s = r.Kind.String() + " " + refLabel(r)
	}
	s = ansi.Truncate(s, 28, "…")
	if e.Graph {
		s += " (graph)"
	}
	return s
}

// shortName turns "Ахметов Жанболат Серікұлы" into "Ахметов Ж.".
func shortName(full string) string {
	f := strings.Fields(full)
	if len(f) < 2 {
		return full
	}
	first := []rune(f[1])
	return f[0] + " " + string(first[0]) + "."
}

func (m *Model) renderHeader() string {
	st := m.st
	right := st.Help.ShortKey.Render("?") + " " + st.Muted.Render("help") + "  " +
		st.Help.ShortKey.Render("q") + " " + st.Muted.Render("quit")
	sep := st.Muted.Render(" › ")
	parts := []string{st.Accent.Render("casegraph")}
	browsing := m.browsing()
	var layers []string
	for _, s := range m.stack {
		if _, ok := s.(layer); ok {
			layers = append(layers, s.Title())
		}
	}
	if !browsing && len(layers) == 0 {
		parts = append(parts, st.Text.Render("home"))
	}
	for i := 0; i <= m.pos && i < len(m.hist); i++ {
		c := m.crumb(m.hist[i])
		if e := m.hist[i]; e.Graph && i > 0 && m.hist[i-1].Ref == e.Ref {
			c = "graph"
		}
		if i == m.pos && browsing {
			c = st.Bold.Render(c)
		} else {
			c = st.Muted.Render(c)
		}
		parts = append(parts, c)
	}
	for _, l := range layers {
		parts = append(parts, st.Text.Render(l))
	}
	if n := len(m.hist) - m.pos - 1; n > 0 {
		parts = append(parts, st.Muted.Render(fmt.Sprintf("(%d forward)", n)))
	}
	// Keep the newest crumbs: drop the oldest after "casegraph" until it fits.
	avail := m.w - ansi.StringWidth(right) - 3
	left := strings.Join(parts, sep)
	for len(parts) > 2 && ansi.StringWidth(" "+left) > avail {
		parts = append(parts[:1:1], parts[2:]...)
		parts[0] = st.Accent.Render("casegraph") + sep + st.Muted.Render("…")
		left = strings.Join(parts, sep)
	}
	return pane.Spread(" "+left, right+" ", m.w)
}

func (m *Model) renderStatus() string {
	st := m.st
	left := " " + m.b.Name()
	if m.statsLoaded && m.statsErr == nil {
		ents := 0
		for _, n := range m.stats.Entities {
			ents += n
		}
		left += " · " + fmtInt(ents) + " entities · " + fmtInt(m.stats.Txns) + " tx"
	}
	msg := m.status
	msgSt := st.Status
	switch {
	case m.statusErr:
		msgSt = st.Status.Foreground(st.Err.GetForeground()).Bold(true)
	case m.search.Loading():
		msg = "search index loading…"
		msgSt = st.Status.Foreground(st.Warn.GetForeground())
	}
	line := st.StatusKey.Render(left)
	room := m.w - ansi.StringWidth(left) - 3
	if i := strings.Index(msg, m.statusKeep); m.statusKeep != "" && i >= 0 && ansi.StringWidth(msg) > room {
		// The kept part gets what room is left after what precedes it
		// (one cell for the "…" that then ends the line).
		prefix, rest := msg[:i], msg[i+len(m.statusKeep):]
		avail := room - ansi.StringWidth(prefix)
		if rest != "" {
			avail--
		}
		if avail >= 16 && ansi.StringWidth(m.statusKeep) > avail {
			msg = prefix + midTrunc(m.statusKeep, avail) + rest
		}
	}
	if msg != "" && room > 4 {
		line += st.Status.Render(" │ ") + msgSt.Render(ansi.Truncate(msg, room, "…"))
	}
	pad := m.w - ansi.StringWidth(line)
	if pad > 0 {
		line += st.Status.Render(strings.Repeat(" ", pad))
	}
	return ansi.Truncate(line, m.w, "")
}

// browsing reports whether an entity or a graph of the history is the
// browsing screen (above home, below any layer).
func (m *Model) browsing() bool {
	if len(m.stack) < 2 {
		return false
	}
	switch m.stack[1].(type) {
	case *entityScreen, *graphScreen:
		return true
	}
	return false
}

// fmtInt groups thousands: 1024311 → "1,024,311".
func fmtInt(n int) string {
	return graph.FormatAmount(int64(n) * 100)
}
