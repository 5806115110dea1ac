// Package search is the fuzzy-search pane: a text input, a kind filter and a
// ranked result list. Every keystroke runs the query in a command tagged with
// a sequence number, so typing never waits for results and stale results are
// dropped. Over a server (a Dgraph cluster) the local results show at once
// and the server's are merged after a debounce (server.go).
package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui/list"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

// Limit is the number of hits asked for per query; more are asked for
// (MaxLimit at most) as the cursor nears the last loaded hit.
const Limit = 100

// MaxLimit bounds the hits one query loads as the list is scrolled: a
// query with more matches says to narrow it. A Dgraph cluster ranks at most
// as many candidates (dgraphdb's maxCandidates).
const MaxLimit = 5000

// nextLimit is the limit of the load after one of limit hits: twice as
// many, up to MaxLimit. Each load ranks the query again from the top, so
// doubling keeps the work of scrolling to n hits proportional to n.
func nextLimit(limit int) int { return min(max(2*limit, Limit), MaxLimit) }

// Searcher runs fuzzy queries; tui.Backend satisfies it.
type Searcher interface {
	Search(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error)
}

// OpenMsg asks the root to open the chosen entity.
type OpenMsg struct{ Ref graph.Ref }

// ClosedMsg tells the root the user closed the search pane.
type ClosedMsg struct{}

// BookmarkMsg asks the root to bookmark the hits listed (Result().Hits)
// into a case.
type BookmarkMsg struct{}

// ResultsMsg carries the result of one query run. Limit is the limit it
// was asked with: above the limit of the results shown, for the same Seq,
// it is a load of more hits for the same query.
type ResultsMsg struct {
	Seq   int
	Limit int
	Res   graph.SearchResult
	Took  time.Duration
	Err   error
	// Server marks the server's answer to a keystroke, merged into the
	// local one (LocalFirst, server.go).
	Server bool
}

// KeyMap are the search pane bindings.
type KeyMap struct {
	Up, Down, Open, Close, NextKind, AllKinds key.Binding
	// Bookmark files the hits listed into a case: ctrl+b, since every
	// letter is part of the query (B too).
	Bookmark key.Binding
}

// DefaultKeys returns the search pane bindings.
func DefaultKeys() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑/ctrl+p", "previous result")),
		Down:     key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓/ctrl+n", "next result")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Close:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
		NextKind: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next kind")),
		AllKinds: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "all kinds (clear the filter)")),
		Bookmark: key.NewBinding(key.WithKeys("ctrl+b"), key.WithHelp("ctrl+b", "bookmark the hits listed")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding {
	// Short enough for 80 columns.
	down, bm := k.Down, k.Bookmark
	down.SetHelp(down.Help().Key, "next hit")
	bm.SetHelp(bm.Help().Key, "bookmark")
	return []key.Binding{down, k.Open, k.NextKind, k.Close, bm}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Open}, {k.NextKind, k.AllKinds, k.Bookmark, k.Close}}
}

// Filters are the kinds the filter cycles through; KindUnknown means all.
var Filters = append([]graph.Kind{graph.KindUnknown}, graph.Kinds...)

// Model is the search pane.
type Model struct {
	src      Searcher
	notReady error // the sentinel the searcher returns while loading
	ctx      context.Context
	// local is src when it asks a server (LocalFirst): each keystroke
	// then shows the local hits at once and merges the server's, asked
	// after debounce under a context the next keystroke cancels.
	local      LocalFirst
	serverName string
	debounce   time.Duration
	cancel     context.CancelFunc
	server     serverState
	serverTook time.Duration

	Keys  KeyMap
	input textinput.Model
	st    theme.Styles

	filter int // index into Filters
	seq    int // sequence number of the latest query sent
	ran    string
	res    graph.SearchResult
	took   time.Duration
	err    error
	busy   bool
	ready  bool // false while the searcher reported notReady
	// limit is the limit res was loaded with; more is set while a load of
	// more hits for the same query is on its way, done once a load gave
	// no hit not already listed (a Dgraph cluster ranks a bounded number
	// of candidates, whatever Total says).
	limit      int
	more, done bool
	moreErr    bool // the last load of more hits failed
	// kept: the search was opened again on the last query, which stays
	// (with its results) until a typed character replaces it.
	kept bool

	list list.Model // over res.Hits: selection, paging, the wheel
	w, h int
	hits *hitCache // res.Hits rendered, for the frames drawn until they change

	now func() time.Time // the clock that times queries
}

// New returns a search pane over src. notReady is the error src returns while
// its index is still loading.
func New(ctx context.Context, src Searcher, notReady error, st theme.Styles) Model {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = "name, IIN, card digits, IBAN, phone, wallet, domain…"
	// ctrl+b bookmarks the hits (left moves the cursor back).
	in.KeyMap.CharacterBackward = key.NewBinding(key.WithKeys("left"))
	m := Model{src: src, notReady: notReady, ctx: ctx, Keys: DefaultKeys(), input: in, st: st, ready: true, now: time.Now,
		debounce: Debounce}
	if l, ok := src.(LocalFirst); ok && l.SearchServer() != "" {
		m.local, m.serverName = l, l.SearchServer()
	}
	m.list = list.New(st)
	m.hits = newHitCache()
	// The query line is the filter: typed letters (j, k, G, /) go to it.
	m.list.Keys.Up, m.list.Keys.Down = m.Keys.Up, m.Keys.Down
	m.list.Keys.Top.SetEnabled(false)
	m.list.Keys.Bottom.SetEnabled(false)
	m.list.Keys.Filter.SetEnabled(false)
	m.SetStyles(st)
	return m
}

// SetClock replaces the clock that times queries (tests use a fixed one).
func (m *Model) SetClock(now func() time.Time) { m.now = now }

// SetDebounce replaces Debounce, the wait before the server is asked.
func (m *Model) SetDebounce(d time.Duration) { m.debounce = d }

// SetStyles applies a theme.
func (m *Model) SetStyles(st theme.Styles) {
	m.st = st
	m.hits = newHitCache()
	m.input.SetStyles(st.Input())
	m.list.SetStyles(st)
}

// SetSize sets the size of the content area (inside the frame).
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.hits = newHitCache()
	m.setPrompt()
	m.list.SetHeight(h - headLines)
}

// headLines are the lines above the hits: the query, the kinds, a gap.
const headLines = 3

// setPrompt shows the kind filter in the prompt ("/ [person] "): a
// filter left from an earlier search is never silent.
func (m *Model) setPrompt() {
	m.input.Prompt = "/ "
	if k := m.Kind(); k != graph.KindUnknown {
		m.input.Prompt = "/ [" + k.String() + "] "
	}
	m.input.SetWidth(max(1, m.w-lipgloss.Width(m.input.Prompt)-1))
}

// Focus focuses the text input. Opened again on an earlier query, the
// pane keeps it and its results; the first typed character replaces it
// (an arrow or backspace edits it instead).
func (m *Model) Focus() tea.Cmd {
	m.kept = strings.TrimSpace(m.input.Value()) != ""
	return m.input.Focus()
}

// Blur unfocuses the text input.
func (m *Model) Blur() { m.input.Blur() }

// Query is the current text of the input.
func (m Model) Query() string { return m.input.Value() }

// Kind is the active kind filter (KindUnknown for all).
func (m Model) Kind() graph.Kind { return Filters[m.filter] }

// Result is the latest applied result.
func (m Model) Result() graph.SearchResult { return m.res }

// Selected returns the selected hit, if any.
func (m Model) Selected() (graph.SearchHit, bool) {
	i, ok := m.list.Index()
	if !ok || i >= len(m.res.Hits) {
		return graph.SearchHit{}, false
	}
	return m.res.Hits[i], true
}

// Loading reports whether the searcher is still loading its index.
func (m Model) Loading() bool { return !m.ready }

// Seq is the sequence number of the latest query sent.
func (m Model) Seq() int { return m.seq }

// SetReady marks the index as loaded and re-runs the current query.
func (m *Model) SetReady() tea.Cmd {
	m.ready = true
	return m.run()
}

// run sends the current query as a new sequence number: to the searcher,
// or over a server to the local search at once and to the server after the
// debounce (server.go). The previous keystroke's server query is cancelled.
func (m *Model) run() tea.Cmd {
	m.seq++
	m.stopServer()
	q := strings.TrimSpace(m.input.Value())
	if q == "" {
		m.res, m.err, m.busy, m.ran = graph.SearchResult{}, nil, false, ""
		m.hits = newHitCache()
		m.list.Reset(0, 0, nil)
		return nil
	}
	m.busy, m.more, m.moreErr = true, false, false
	if m.local == nil {
		return runQuery(m.ctx, m.src.Search, m.now, m.seq, q, m.Kind(), Limit, false)
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	m.server.waiting = true
	return tea.Batch(runQuery(m.ctx, m.local.SearchLocal, m.now, m.seq, q, m.Kind(), Limit, false),
		serverQuery(ctx, m.src, m.serverName, m.now, m.debounce, m.seq, q, m.Kind(), Limit))
}

func runQuery(ctx context.Context, search searchFunc, now func() time.Time, seq int, q string, kind graph.Kind, limit int, server bool) tea.Cmd {
	return func() tea.Msg {
		start := now()
		res, err := search(ctx, q, kind, limit)
		if err != nil {
			err = fmt.Errorf("search %q: %w", q, err)
		}
		return ResultsMsg{Seq: seq, Limit: limit, Res: res, Took: now().Sub(start), Err: err, Server: server}
	}
}

// canLoadMore reports whether the query has matches beyond the loaded
// hits that a larger limit would load.
func (m Model) canLoadMore() bool {
	return !m.busy && !m.server.waiting && !m.done && m.err == nil && m.ready && m.ran != "" &&
		len(m.res.Hits) < m.res.Total && m.limit < MaxLimit
}

// loadMore asks for more hits of the shown query when the cursor nears the
// last loaded one: the query again with a larger limit, in the background.
// A newer query (a typed key, another kind) obsoletes it by its Seq.
func (m *Model) loadMore() tea.Cmd {
	if m.more || !m.canLoadMore() || !m.list.NeedMore() {
		return nil
	}
	m.more = true
	return runQuery(m.ctx, m.src.Search, m.now, m.seq, m.ran, m.Kind(), nextLimit(m.limit), m.local != nil)
}

// appendMore adds the hits of a load with a larger limit that are not
// listed yet, after the listed ones, in the order of that load. The listed
// hits keep their places, and so the cursor its row: the index's ranking
// re-ranks a candidate pool that grows with the limit, so the first hits of
// a larger limit are not always those of a smaller one, in order.
func (m *Model) appendMore(res graph.SearchResult, limit int) {
	listed := make(map[graph.Ref]bool, len(m.res.Hits))
	for _, h := range m.res.Hits {
		listed[h.Doc.Ref] = true
	}
	hits := m.res.Hits[:len(m.res.Hits):len(m.res.Hits)]
	for _, h := range res.Hits {
		if !listed[h.Doc.Ref] {
			listed[h.Doc.Ref] = true
			hits = append(hits, h)
		}
	}
	if len(hits) == len(m.res.Hits) {
		m.done = true // the backend has no more to give
	}
	m.res.Hits, m.limit = hits, limit
	m.res.Total = max(res.Total, len(hits))
	m.hits = newHitCache() // the risk column may appear with the new hits
	m.list.SetRows(len(hits), nil)
	m.list.SetTotal(m.res.Total)
}

// Update handles keys and results.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case ResultsMsg:
		if msg.Seq != m.seq {
			return m, nil // stale: a newer query is on its way
		}
		if msg.Server && m.server.waiting {
			m.applyServer(msg)
			return m, m.loadMore()
		}
		if m.local != nil && !msg.Server && !m.busy && m.server.in {
			// The local answer after the server's: merged into it (a
			// failure leaves the server's hits; the root shows it).
			if msg.Err == nil {
				m.took = msg.Took
				n := m.merge(msg.Res)
				m.server.added -= len(msg.Res.Hits) - n // those were the server's too
			}
			return m, m.loadMore()
		}
		if m.more && !m.busy && msg.Limit > m.limit {
			// More hits of the query shown.
			m.more = false
			if msg.Err != nil {
				// The hits listed stay; the root shows the error.
				m.done, m.moreErr = true, true
				return m, nil
			}
			m.appendMore(msg.Res, msg.Limit)
			return m, m.loadMore()
		}
		m.busy = false
		if msg.Err != nil {
			if m.notReady != nil && errors.Is(msg.Err, m.notReady) {
				m.ready = false
				m.err = nil
				return m, nil
			}
			m.err = msg.Err
			return m, nil
		}
		m.show(msg)
		return m, m.loadMore()

	case tea.MouseWheelMsg:
		m.list.Update(msg)
		return m, m.loadMore()

	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.Keys.Close):
			return m, func() tea.Msg { return ClosedMsg{} }
		case key.Matches(msg, m.Keys.Bookmark):
			return m, func() tea.Msg { return BookmarkMsg{} }
		case key.Matches(msg, m.Keys.Open):
			if h, ok := m.Selected(); ok {
				ref := h.Doc.Ref
				return m, func() tea.Msg { return OpenMsg{Ref: ref} }
			}
			return m, nil
		case key.Matches(msg, m.list.Keys.Up, m.list.Keys.Down, m.list.Keys.PageUp, m.list.Keys.PageDown):
			m.list.Update(msg)
			return m, m.loadMore()
		case key.Matches(msg, m.Keys.NextKind):
			m.filter = (m.filter + 1) % len(Filters)
			m.setPrompt()
			return m, m.run()
		case key.Matches(msg, m.Keys.AllKinds):
			m.filter = 0
			m.setPrompt()
			return m, m.run()
		}
		if m.kept {
			// Every other key goes to the query ("?" too: it is text
			// here, as every printable key is).
			m.kept = false
			if msg.Text != "" {
				m.input.SetValue("")
			}
		}
		before := m.input.Value()
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		if m.input.Value() != before {
			return m, tea.Batch(cmd, m.run())
		}
		return m, cmd
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

// show replaces the hits shown with an answer to the current query.
func (m *Model) show(msg ResultsMsg) {
	m.busy, m.ready, m.err = false, true, nil
	m.res, m.ran = msg.Res, msg.Res.Query
	if msg.Server {
		m.serverTook = msg.Took
	} else {
		m.took = msg.Took
	}
	m.limit, m.done = max(msg.Limit, len(msg.Res.Hits)), false
	m.hits = newHitCache()
	m.list.Reset(len(m.res.Hits), m.res.Total, nil)
}

// Move moves the selection by d results.
func (m *Model) Move(d int) { m.list.Move(d) }

// Footer is the status shown in the frame: "N of M matches · X ms".
func (m Model) Footer() string {
	switch {
	case !m.ready:
		return "search index loading…"
	case m.err != nil:
		return "search failed"
	case m.ran == "" && !m.busy:
		return ""
	}
	f := fmt.Sprintf("%s of %s matches · %s", group(len(m.res.Hits)), group(m.res.Total), fmtDur(m.took)) + m.serverFooter()
	switch {
	case m.busy:
		f = "searching… · " + f
	case m.more:
		f += " · loading more…"
	case m.moreErr:
		f += " · loading more failed"
	case m.canLoadMore():
		f += " · more load as you scroll"
	case len(m.res.Hits) < m.res.Total:
		f += " · narrow the query for the rest"
	}
	return f
}

// group writes n with thousands separators: 1,234.
func group(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

// View renders the content lines (without frame) at the size set by SetSize.
func (m Model) View() string {
	return strings.Join(m.Lines(), "\n")
}

// Lines renders the content as exactly h lines.
func (m Model) Lines() []string {
	st := m.st
	lines := make([]string, 0, m.h)
	in := m.input.View()
	if m.kept {
		in = pane.Fit(in, max(m.w-lipgloss.Width(keptHint), 1)) + st.Muted.Render(keptHint)
	}
	lines = append(lines, in)
	lines = append(lines, m.filterLine())
	lines = append(lines, "")

	switch {
	case !m.ready:
		lines = append(lines, st.Warn.Render("search index loading… the query runs again when it is ready"))
	case m.err != nil:
		lines = append(lines, st.Err.Render(m.err.Error()))
	case strings.TrimSpace(m.input.Value()) == "":
		lines = append(lines, st.Muted.Render("Type a name, IIN, card digits or last 4, IBAN, phone, wallet or domain."),
			st.Muted.Render("Latin and Cyrillic both match; tab narrows to one kind."))
	case len(m.res.Hits) == 0 && !m.busy && m.server.waiting:
		lines = append(lines, st.Muted.Render(fmt.Sprintf("no local matches for %q — asking the %s…", m.ran, m.serverName)))
	case len(m.res.Hits) == 0 && !m.busy && m.Kind() != graph.KindUnknown:
		lines = append(lines, st.Muted.Render(fmt.Sprintf("no matches for %q among %s — shift+tab clears the filter",
			m.ran, plural(m.Kind().String()))))
	case len(m.res.Hits) == 0 && !m.busy:
		lines = append(lines, st.Muted.Render(fmt.Sprintf("no matches for %q", m.ran)))
	default:
		// The risk column shows once an analysis gave any hit a risk.
		rw := 0
		for _, h := range m.res.Hits {
			if h.Risk.Known {
				rw = riskW
				break
			}
		}
		lines = append(lines, m.list.Lines(func(i int, selected bool) string {
			return m.hits.line(i, selected, func() string { return m.hitLine(m.res.Hits[i], selected, rw) })
		})...)
	}
	for len(lines) < m.h {
		lines = append(lines, "")
	}
	return lines[:max(m.h, 0)]
}

// keptHint follows a query kept from the last search.
const keptHint = " · typing replaces it"

// plural names a kind in the plural: persons, addresses.
func plural(kind string) string {
	if strings.HasSuffix(kind, "s") {
		return kind + "es"
	}
	return kind + "s"
}

func (m Model) filterLine() string {
	parts := make([]string, 0, len(Filters))
	for i, k := range Filters {
		name := "all"
		if k != graph.KindUnknown {
			name = k.String()
		}
		if i == m.filter {
			parts = append(parts, m.st.Accent.Render("["+name+"]"))
		} else {
			parts = append(parts, m.st.Muted.Render(name))
		}
	}
	// Keep the active filter visible on narrow terminals: drop leading
	// entries until it fits, then trailing ones.
	start, end := 0, len(parts)
	render := func() string {
		line := strings.Join(parts[start:end], " ")
		if start > 0 {
			line = m.st.Muted.Render("… ") + line
		}
		if end < len(parts) {
			line += m.st.Muted.Render(" …")
		}
		return line
	}
	line := render()
	for lipgloss.Width(line) > m.w && start < m.filter {
		start++
		line = render()
	}
	for lipgloss.Width(line) > m.w && end > m.filter+1 {
		end--
		line = render()
	}
	return line
}

// hitCache keeps the hit lines of the results on screen as rendered. A
// frame is drawn after every message — a key, the cursor's blink, another
// user's change on a team server — and styling the visible hits again for
// each was most of a server's work per keystroke (docs/PERFORMANCE.md,
// team server). New results, a new size or new styles start a new cache.
type hitCache struct{ lines map[int]string } // by hit index × 2 + selected

func newHitCache() *hitCache { return &hitCache{lines: map[int]string{}} }

func (c *hitCache) line(i int, selected bool, render func() string) string {
	if c == nil {
		return render()
	}
	k := 2 * i
	if selected {
		k++
	}
	if l, ok := c.lines[k]; ok {
		return l
	}
	l := render()
	c.lines[k] = l
	return l
}

func (m Model) hitLine(h graph.SearchHit, selected bool, rw int) string {
	st := m.st
	const badgeW = 9
	w := m.w - 2
	labelW := min(max(w*45/100-rw, 16), 44)
	mark := "  "
	if selected {
		mark = st.Accent.Render("▸ ")
	}
	badge := pane.Fit(st.Badge(h.Doc.Ref.Kind).Render(strings.ToUpper(h.Doc.Ref.Kind.String())), badgeW)

	base, match := st.Text, st.Match
	if selected {
		base, match = st.Selected, st.Match.Inherit(st.Selected)
	}
	label := lipgloss.StyleRunes(h.Doc.Label, h.Matched, match, base)
	if len(h.Matched) == 0 || !safetext.Safe(h.Doc.Label) {
		// Escaping changes the rune positions the match highlights.
		label = base.Render(safetext.Line(h.Doc.Label))
	}
	label = pane.Fit(label, labelW)
	risk := ""
	if rw > 0 {
		risk = pane.Fit(m.riskCell(h.Risk), rw)
	}

	var rest []string
	if len(h.Matched) == 0 && h.Term != "" {
		rest = append(rest, st.Accent.Render("matched: ")+st.Match.Render(safetext.Line(h.Term)))
	}
	if h.Doc.Facts != "" {
		rest = append(rest, st.Muted.Render(safetext.Line(h.Doc.Facts)))
	}
	if h.Doc.Stub && !strings.Contains(h.Doc.Facts, "stub") {
		rest = append(rest, st.Warn.Render("stub"))
	}
	line := mark + badge + risk + label + " " + strings.Join(rest, st.Muted.Render(" · "))
	return pane.Fit(line, m.w)
}

// riskW is the width of the risk column of a hit: "⚑ 0.92 ".
const riskW = 7

// riskCell is a hit's risk from the current or kept analysis: ⚑ and the
// score when flagged, the score alone below the threshold, nothing when no
// analysis gave the entity a risk; "~" before the score when the data
// changed since the analysis (press F to refresh).
func (m Model) riskCell(r graph.RiskMark) string {
	if !r.Known {
		return ""
	}
	sep := " "
	if r.Stale {
		sep = "~"
	}
	score := fmt.Sprintf("%.2f", r.Score)
	switch {
	case r.Flagged && !r.Stale:
		return m.st.Warn.Render("⚑" + sep + score)
	case r.Flagged:
		return m.st.Muted.Render("⚑" + sep + score)
	}
	return m.st.Muted.Render(" " + sep + score)
}
