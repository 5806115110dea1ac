package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/tui/list"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

// The analytics screens (Flags, Clusters, Path finder, Trace) share one
// piece of state on the root model: the background analysis (graph load and
// rules run) with its progress, the one long-running query at a time that
// esc cancels, and each screen's last result (kept when the screen closes,
// so F shows the last ranking at once). Which of them is open is the stack's
// business: an anaScreen on it.

// anaView names one analytics screen.
type anaView int

const (
	anaFlags anaView = iota + 1
	anaClusters
	anaPaths
	anaTrace
)

func (v anaView) String() string {
	switch v {
	case anaFlags:
		return "flags"
	case anaClusters:
		return "clusters"
	case anaPaths:
		return "path"
	case anaTrace:
		return "trace"
	}
	return ""
}

// analyticsState is the root model's state for the analytics screens.
type analyticsState struct {
	ready bool // Analyze has finished once

	// The running job (the analysis or one screen's query), if any.
	bgJob
	jobName string

	flags    flagsView
	clusters clustersView
	paths    pathsView
	trace    traceView
	ent      entityFlags
	verdict  entityVerdict // the verdict on the entity on screen (verdict.go)

	keys  anaKeys
	vkeys verdictKeys
}

// anaKeys are the keys of the analytics screens and the ones that open them.
type anaKeys struct {
	List                                         list.KeyMap
	Flags, Clusters, Mark, Trace                 key.Binding
	Focus, Open, Close                           key.Binding
	NextRule, PrevRule, Bookmark, Order, Graph   key.Binding
	Toggle, ExpandAll, Direction, Proportional   key.Binding
	MoreHops, FewerHops, Swap, Retry, CancelWork key.Binding
}

func defaultAnaKeys() anaKeys {
	return anaKeys{
		Flags:        key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "flags")),
		Clusters:     key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "clusters")),
		Mark:         key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mark path end")),
		Trace:        key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "trace money")),
		List:         list.DefaultKeys(),
		Focus:        key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "switch pane")),
		Open:         key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open entity")),
		Close:        key.NewBinding(key.WithKeys("esc", "left", "backspace"), key.WithHelp("esc", "close")),
		NextRule:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "next rule")),
		PrevRule:     key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "previous rule")),
		Bookmark:     key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "bookmark")),
		Order:        key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "turnover/risk")),
		Graph:        key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "open as graph")),
		Toggle:       key.NewBinding(key.WithKeys("space", "l"), key.WithHelp("space", "expand/collapse")),
		ExpandAll:    key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "expand all")),
		Direction:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "forward/backward")),
		Proportional: key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "FIFO/proportional")),
		MoreHops:     key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "more hops")),
		FewerHops:    key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "fewer hops")),
		Swap:         key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "swap A and B")),
		Retry:        key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "run again")),
		CancelWork:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

func newAnalyticsState(st theme.Styles) analyticsState {
	return analyticsState{keys: defaultAnaKeys(), vkeys: defaultVerdictKeys(),
		flags: flagsView{nav: list.New(st)}, clusters: newClustersView(st), trace: newTraceView(st), paths: newPathsView(st)}
}

func (a *analyticsState) setStyles(st theme.Styles) {
	for _, l := range []*list.Model{&a.flags.nav, &a.clusters.nav, &a.clusters.mnav, &a.paths.nav, &a.paths.hnav, &a.trace.nav} {
		l.SetStyles(st)
	}
}

// analyzeProgressMsg carries a progress report; ch tells which run it is.
type analyzeProgressMsg struct {
	ch chan progressUpdate
	p  progressUpdate
}

// analyzedMsg reports the end of an analysis run; keep, when not nil,
// keeps it in the database (DeferredKeeper).
type analyzedMsg struct {
	seq  int
	err  error
	keep func(context.Context) error
}

// keepingStatus ends the status while a deferred keep runs.
const keepingStatus = " · keeping it in the database"

// keptMsg reports the end of a deferred keep.
type keptMsg struct{ err error }

// runAnalyze runs Backend.Analyze (AnalyzeDeferred when the backend keeps
// its analyses: the keep then runs after the analysis is on screen),
// forwarding progress to ch without ever blocking the analysis: a report
// the TUI has not read yet is replaced.
func runAnalyze(ctx context.Context, b Backend, seq int, ch chan progressUpdate) tea.Cmd {
	return func() tea.Msg {
		var keep func(context.Context) error
		var err error
		if dk, ok := b.(DeferredKeeper); ok {
			keep, err = dk.AnalyzeDeferred(ctx, progressTo(ch))
		} else {
			err = b.Analyze(ctx, progressTo(ch))
		}
		close(ch)
		if err != nil {
			err = fmt.Errorf("analyse: %w", err)
		}
		return analyzedMsg{seq: seq, err: err, keep: keep}
	}
}

// runKeep keeps the analysis shown (analyzedMsg.keep). It is not the
// job's: esc on a later job does not stop it, quitting does.
func (m *Model) runKeep(keep func(context.Context) error) tea.Cmd {
	ctx := m.ctx
	return func() tea.Msg { return keptMsg{err: keep(ctx)} }
}

// waitProgress reads the next progress report; nil once the run ended.
func waitProgress(ch chan progressUpdate) tea.Cmd {
	return waitFor(ch, func(ch chan progressUpdate, p progressUpdate) tea.Msg { return analyzeProgressMsg{ch: ch, p: p} })
}

// startJob cancels any running job and starts a new one; the returned
// context is cancelled by esc.
func (m *Model) startJob(name string) (context.Context, int) {
	m.ana.jobName = name
	return m.ana.start(m.ctx)
}

// endJob marks job seq finished; false when a newer job replaced it (the
// result no longer applies).
func (m *Model) endJob(seq int) bool { return m.ana.end(seq) }

// cancelJob stops the running job at the user's request.
func (m *Model) cancelJob() {
	a := &m.ana
	a.abandon()
	m.setStatus(a.jobName+" cancelled", false)
	if !a.ready {
		m.closeAnalytics() // nothing to show without the analysis
	}
}

// anaOpen is the open analytics screen, if any.
func (m *Model) anaOpen() (anaView, bool) {
	if s, ok := find[*anaScreen](m); ok {
		return s.view, true
	}
	return 0, false
}

// closeAnalytics takes the analytics screen off the stack.
func (m *Model) closeAnalytics() {
	for i := len(m.stack) - 1; i > 0; i-- {
		if _, ok := m.stack[i].(*anaScreen); ok {
			m.stack = m.stack[:i]
			return
		}
	}
}

// ensureAnalysis runs then after the analysis, starting it when needed.
// On a backend whose analyses run on a neighbourhood (ScopedAnalytics: a
// Dgraph cluster) it is that of the entity on screen or the current case,
// and a new one runs the analysis again.
func (m *Model) ensureAnalysis(then func() tea.Cmd) tea.Cmd {
	if sa, ok := m.b.(ScopedAnalytics); ok {
		seeds, label := m.analysisFocus()
		scoped, changed := sa.FocusAnalysis(seeds, label)
		if scoped && len(seeds) == 0 {
			m.setStatus("open an entity or make a case current: on a Dgraph cluster the analyses run on its neighbourhood", true)
			m.closeAnalytics()
			return nil
		}
		if changed {
			m.ana.ready = false
		}
	}
	if m.ana.ready {
		return then()
	}
	ctx, seq := m.startJob("analysis")
	ch := m.ana.reportTo("starting")
	return tea.Batch(runAnalyze(ctx, m.b, seq, ch), waitProgress(ch))
}

// openAnalytics shows view v and loads what it shows. It replaces an
// analytics screen on top, so F and C switch instead of piling up.
func (m *Model) openAnalytics(v anaView) tea.Cmd {
	s := &anaScreen{m: m, view: v}
	if _, ok := m.top().(*anaScreen); ok {
		m.replaceTop(s)
	} else {
		m.push(s)
	}
	return m.ensureAnalysis(m.loadAnaView)
}

// loadAnaView (re)loads the data of the open analytics screen.
func (m *Model) loadAnaView() tea.Cmd {
	v, _ := m.anaOpen()
	switch v {
	case anaFlags:
		return m.loadFlags()
	case anaClusters:
		return m.loadClusters()
	case anaPaths:
		return m.loadPaths()
	case anaTrace:
		return m.loadTrace()
	}
	return nil
}

// updateAnalytics handles the analytics messages; ok reports whether msg
// was one.
func (m *Model) updateAnalytics(msg tea.Msg) (tea.Cmd, bool) {
	a := &m.ana
	switch msg := msg.(type) {
	case analyzeProgressMsg:
		if !a.current(msg.ch) {
			return nil, true
		}
		a.prog = msg.p
		return waitProgress(msg.ch), true
	case analyzedMsg:
		if !m.endJob(msg.seq) {
			return nil, true
		}
		if msg.err != nil {
			if errors.Is(msg.err, context.Canceled) {
				m.setStatus("analysis cancelled", false)
			} else {
				m.setStatus(msg.err.Error(), true)
			}
			m.closeAnalytics()
			return nil, true
		}
		a.ready = true
		status := "analysis ready"
		if sa, ok := m.b.(ScopedAnalytics); ok {
			if s := sa.AnalysisScope(); s != "" {
				status += ": " + s + " (risks written back to the cluster)"
			}
		}
		cmds := []tea.Cmd{m.loadAnaView(), m.loadEntityFlags(m.ent.ref)}
		if msg.keep != nil {
			status += keepingStatus
			cmds = append(cmds, m.runKeep(msg.keep))
		}
		m.setStatus(status, false)
		return tea.Batch(cmds...), true
	case keptMsg:
		switch {
		case msg.err != nil && !errors.Is(msg.err, context.Canceled):
			m.setStatus("the analysis ran but was not kept in the database: "+msg.err.Error(), true)
		case msg.err == nil && strings.HasSuffix(m.status, keepingStatus):
			// Nothing else has been said since: say it is done.
			m.setStatus(strings.TrimSuffix(m.status, keepingStatus)+" · kept in the database", false)
		}
		return nil, true
	case flagsLoadedMsg:
		return m.applyFlags(msg), true
	case flagsMoreMsg:
		return m.applyMoreFlags(msg), true
	case sparksLoadedMsg:
		m.applySparks(msg)
		return nil, true
	case verdictLoadedMsg, verdictSetMsg:
		return m.updateVerdict(msg)
	case entityFlagsLoadedMsg:
		if msg.ref == m.ent.ref {
			m.ana.ent = entityFlags{ref: msg.ref, row: msg.row, ok: msg.ok, loaded: msg.err == nil}
			if msg.err != nil && !errors.Is(msg.err, ErrNotAnalyzed) {
				m.setStatus(msg.err.Error(), true)
			}
		}
		return nil, true
	case clustersLoadedMsg:
		return m.applyClusters(msg), true
	case pathsLoadedMsg:
		return m.applyPaths(msg), true
	case traceLoadedMsg:
		return m.applyTrace(msg), true
	}
	return nil, false
}

// failedJob turns a job error into the status line; false when there was none.
// anaNotice is the line an analytics list shows in place of its rows: the
// progress of the running job, the last job's error, pending before the
// first result, or none when the result is empty. ok is false when there
// are rows to draw.
func (m *Model) anaNotice(err error, loaded, empty bool, pending, none string) (line string, ok bool) {
	switch {
	case m.ana.busy:
		return m.busyLine(), true
	case err != nil:
		return m.st.Err.Render(err.Error()), true
	case !loaded:
		return m.st.Muted.Render(pending), true
	case empty:
		return m.st.Muted.Render(none), true
	}
	return "", false
}

func (m *Model) failedJob(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		m.setStatus("cancelled", false)
	} else {
		m.setStatus(err.Error(), true)
	}
	return true
}

// anaScreen is one analytics screen: Flags, Clusters, Path or Trace.
type anaScreen struct {
	m    *Model
	view anaView
}

func (s *anaScreen) isLayer()                  {}
func (s *anaScreen) Title() string             { return s.view.String() }
func (s *anaScreen) SetSize(w, h int)          { s.m.sizeAnalytics() }
func (s *anaScreen) ShortHelp() []key.Binding  { return s.m.analyticsHelp(s.view).ShortHelp() }
func (s *anaScreen) FullHelp() [][]key.Binding { return s.m.analyticsHelp(s.view).FullHelp() }
func (s *anaScreen) View() []string            { return s.m.renderAnalytics(s.view) }

// Update takes the keys and the wheel of an analytics screen: esc cancels
// the running job, then the screen's lists and keys, then its global keys.
func (s *anaScreen) Update(msg tea.Msg) tea.Cmd {
	m, a, k := s.m, &s.m.ana, s.m.ana.keys
	msgKey, isKey := msg.(tea.KeyPressMsg)
	if isKey && a.busy && key.Matches(msgKey, k.CancelWork) {
		m.cancelJob()
		return nil
	}
	var cmd tea.Cmd
	handled := false
	switch s.view {
	case anaFlags:
		cmd, handled = m.flagsUpdate(msg)
	case anaClusters:
		cmd, handled = m.clustersUpdate(msg)
	case anaPaths:
		cmd, handled = m.pathsUpdate(msg)
	case anaTrace:
		cmd, handled = m.traceUpdate(msg)
	}
	if handled || !isKey {
		return cmd
	}
	if cmd, ok := m.commonKey(msgKey); ok {
		return cmd
	}
	g := m.keys
	switch {
	case key.Matches(msgKey, g.SearchAnywhere):
		return m.openSearch()
	case key.Matches(msgKey, k.Close):
		m.pop()
	case key.Matches(msgKey, k.Flags) && s.view != anaFlags:
		return m.openAnalytics(anaFlags)
	case key.Matches(msgKey, k.Clusters) && s.view != anaClusters:
		return m.openAnalytics(anaClusters)
	case key.Matches(msgKey, k.Retry):
		return m.ensureAnalysis(m.loadAnaView)
	case key.Matches(msgKey, m.cs.keys.Open):
		return m.openCases()
	}
	return nil
}

// entityActionKey handles the keys that act on the entity on screen or the
// selected node of the graph: m marks a path end, t traces, and on the
// entity screen b bookmarks and y, n, u, N judge. ok is false for others.
func (m *Model) entityActionKey(msg tea.KeyPressMsg, ref graph.Ref, entity bool) (tea.Cmd, bool) {
	k := m.ana.keys
	switch {
	case key.Matches(msg, k.Mark):
		return m.markPathEnd(ref), true
	case key.Matches(msg, k.Trace):
		q := TraceQuery{Ref: ref}
		if i, ok := m.ent.txList.Index(); entity && m.ent.focus == focusTxns && ok && i < len(m.ent.tx.Txns) {
			q.TxID = m.ent.tx.Txns[i].ID
		}
		return m.openTrace(q), true
	case !entity:
		return nil, false
	case key.Matches(msg, m.cs.keys.Bookmark):
		return m.bookmarkRef(ref), true
	}
	return m.verdictKey(msg, ref)
}

// focusedRef is the entity the m and t keys act on: the entity on screen,
// or the selected node of the graph.
func (m *Model) focusedRef() (graph.Ref, bool) {
	if _, ok := find[*graphScreen](m); ok {
		if p, ok := m.gv.Selected(); ok {
			return p.Node.Ref, true
		}
	}
	cur, ok := m.current()
	return cur.Ref, ok
}

// openEntityFromAna leaves the analytics screen for an entity.
func (m *Model) openEntityFromAna(ref graph.Ref, asGraph bool) tea.Cmd {
	return m.open(ref, asGraph)
}

// analyticsHelp is the key map of the open analytics screen.
func (m *Model) analyticsHelp(view anaView) help.KeyMap {
	k, g := m.ana.keys, m.keys
	nav := append(k.List.Bindings(), k.Focus)
	global := []key.Binding{k.Flags, k.Clusters, m.cs.keys.Open, k.Retry, k.CancelWork, k.Close, g.SearchAnywhere, g.Help, g.Quit, g.ForceQuit}
	var short, own []key.Binding
	switch view {
	case anaFlags:
		own = append([]key.Binding{k.Open, k.NextRule, k.PrevRule, k.Bookmark, k.List.Export, k.Trace, k.Mark}, m.ana.vkeys.list()...)
		short = []key.Binding{k.Open, k.NextRule, k.Bookmark, k.Trace, k.Clusters, k.Close}
	case anaClusters:
		own = []key.Binding{k.Open, k.Graph, m.tkeys.Open, k.Order, k.Bookmark, k.List.Export}
		short = []key.Binding{k.Open, k.Graph, k.Order, k.Focus, k.Flags, k.Close}
	case anaPaths:
		own = []key.Binding{k.Open, k.Swap, k.MoreHops, k.FewerHops, k.Bookmark, k.List.Export}
		short = []key.Binding{k.Open, k.Focus, k.Swap, k.MoreHops, k.FewerHops, k.Close}
	case anaTrace:
		own = []key.Binding{k.Open, k.Toggle, k.ExpandAll, k.Direction, k.Proportional, k.MoreHops, k.FewerHops, k.Bookmark, k.List.Export}
		short = []key.Binding{k.Toggle, k.Open, k.Direction, k.Proportional, k.ExpandAll, k.Close}
	}
	if m.ana.busy {
		short = []key.Binding{k.CancelWork, g.Quit}
	}
	return keyHelp{short: short, full: [][]key.Binding{nav, own, global}}
}

// withAnalyticsKeys adds the keys that open the analytics screens to the
// help of the home, entity and graph screens.
func (m *Model) withAnalyticsKeys(h help.KeyMap, entity, verdicts bool) keyHelp {
	k := m.ana.keys
	col := []key.Binding{k.Flags, k.Clusters}
	if entity {
		col = append(col, k.Mark, k.Trace)
	}
	if verdicts {
		col = append(col, m.ana.vkeys.list()...)
	}
	// The short help stays as it is: the full help (?) lists these.
	return keyHelp{short: h.ShortHelp(), full: append(h.FullHelp()[:len(h.FullHelp()):len(h.FullHelp())], col)}
}

// renderAnalytics draws analytics screen view, or the analysis progress.
func (m *Model) renderAnalytics(view anaView) []string {
	a := &m.ana
	b := m.lay.Body
	if !a.ready {
		return m.renderProgress("Analysis", b)
	}
	switch view {
	case anaFlags:
		return m.renderFlags(b)
	case anaClusters:
		return m.renderClusters(b)
	case anaPaths:
		return m.renderPaths(b)
	case anaTrace:
		return m.renderTrace(b)
	}
	return nil
}

// renderProgress draws a pane with the running job's progress bar.
func (m *Model) renderProgress(title string, r rect) []string {
	st, a := m.st, &m.ana
	cw := pane.ContentWidth(r.W)
	var body []string
	body = append(body, "")
	if a.busy {
		stage := a.prog.stage
		if stage == "" {
			stage = a.jobName
		}
		line := st.Bold.Render(stage)
		frac := 0.0
		if a.prog.total > 0 {
			frac = float64(a.prog.done) / float64(a.prog.total)
			line += st.Muted.Render(fmt.Sprintf("  %s of %s", fmtInt(a.prog.done), fmtInt(a.prog.total)))
		}
		body = append(body, " "+line, "")
		bar := progress.New(progress.WithoutPercentage(), progress.WithFillCharacters('█', '░'),
			progress.WithColors(st.Accent.GetForeground()), progress.WithWidth(max(10, min(cw-2, 72))))
		body = append(body, " "+bar.ViewAs(frac), "")
		body = append(body, " "+st.Muted.Render("The flags, clusters, path and trace screens need the whole graph in memory"))
		body = append(body, " "+st.Muted.Render("and the red-flag rules run once. esc cancels."))
	} else {
		body = append(body, " "+st.Muted.Render("analysis not run · ctrl+r runs it · esc closes"))
	}
	return pane.Box(st, title, "", body, r.W, r.H, true)
}

// busyLine is the line a screen shows while its own query runs.
func (m *Model) busyLine() string {
	return m.st.Muted.Render(m.ana.jobName + "… · esc cancels")
}

// sizeAnalytics gives the analytics lists the rows their panes hold (a
// line of column headings comes off the ranked tables and the trace).
func (m *Model) sizeAnalytics() {
	b, a := m.lay.Body, &m.ana
	set := func(l *list.Model, r rect, headings int) {
		l.SetHeight(pane.ContentHeight(r.H) - headings)
		l.SetWidth(pane.ContentWidth(r.W))
	}
	listR, _ := splitBody(b, b.H*3/5)
	set(&a.flags.nav, listR, 1)
	listR, memR := splitBody(b, b.H*11/20)
	set(&a.clusters.nav, listR, 1)
	set(&a.clusters.mnav, memR, 0)
	listR, hopR := splitBody(b, b.H*2/5)
	set(&a.paths.nav, listR, 0)
	set(&a.paths.hnav, hopR, 0)
	set(&a.trace.nav, rect{b.X, b.Y, b.W, b.H - traceSummaryH}, 1)
}

// splitBody divides the body into an upper list and a lower detail pane.
func splitBody(b rect, upper int) (rect, rect) {
	top := min(max(upper, 5), b.H-4)
	return rect{b.X, b.Y, b.W, top}, rect{b.X, b.Y + top, b.W, b.H - top}
}

// filterFirst puts a list's filter line above the table's column headings
// (body[0]) instead of under them.
func filterFirst(l *list.Model, body []string) {
	if l.ShowFilter() && len(body) > 1 {
		body[0], body[1] = body[1], body[0]
	}
}

// fitCols joins cells, cutting each to its width.
func fitCols(cells []string, widths []int) string {
	var sb strings.Builder
	for i, c := range cells {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if widths[i] < 0 {
			sb.WriteString(pane.Right(c, -widths[i]))
		} else {
			sb.WriteString(pane.Fit(c, widths[i]))
		}
	}
	return sb.String()
}

// analysisFocus is the neighbourhood a scoped analysis runs on: the current
// case's bookmarked entities on the Cases screen, else the entity on
// screen, else the current case's.
func (m *Model) analysisFocus() ([]graph.Ref, string) {
	caseFocus := func() ([]graph.Ref, string) {
		for _, c := range m.cs.cases {
			if c.ID != m.cs.current {
				continue
			}
			var refs []graph.Ref
			for _, b := range c.Bookmarks {
				for _, r := range b.Target.Refs {
					if !slices.Contains(refs, r) {
						refs = append(refs, r)
					}
				}
			}
			return refs, "case " + c.Name
		}
		return nil, ""
	}
	if _, ok := m.top().(*casesScreen); ok {
		if refs, label := caseFocus(); len(refs) > 0 {
			return refs, label
		}
	}
	if !m.ent.ref.IsZero() {
		return []graph.Ref{m.ent.ref}, m.ent.ref.String()
	}
	return caseFocus()
}
