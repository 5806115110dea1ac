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
	"casegraph/internal/safetext"
	"casegraph/tui/list"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

type entityFocus int

const (
	focusNeighbors entityFocus = iota
	focusTxns
)

var sortNames = map[graph.TxSort]string{
	graph.SortTimeDesc:   "time ↓",
	graph.SortTimeAsc:    "time ↑",
	graph.SortAmountDesc: "amount ↓",
	graph.SortAmountAsc:  "amount ↑",
}

// entityView is the state of the entity screen for one reference. Every
// loaded message names its reference, so late results for an entity no
// longer on screen are dropped.
type entityView struct {
	ref graph.Ref

	ent     graph.Entity
	entDone bool
	entErr  error

	nbrs     []graph.Neighbor
	nbrTotal int
	nbrDone  bool
	nbrErr   error
	nbrList  list.Model

	// tx holds every transaction loaded so far: the backend's pages of
	// txPageSize, appended as the cursor nears the last loaded row.
	tx     graph.TxPage
	txDone bool
	txErr  error
	txList list.Model
	sort   graph.TxSort
	txWant graph.TxQuery // the query whose result the pane waits for
	txBusy bool          // a next page is on its way
	// sparks are the neighbours' activity sparklines by counterparty
	// (sparks.go); nil until loaded.
	sparks map[graph.Ref][]int
	// from and to, when set, keep the transactions in [from, to): a range
	// brushed on the timeline; band keeps those of an amount band chosen on
	// its histogram.
	from, to time.Time
	band     txBand

	// A person's or organisation's page lists the money of what they hold
	// (hold), all of it merged or one instrument at a time (via, the
	// Instrument key).
	hold     graph.Holdings
	holdDone bool
	via      graph.Ref

	focus entityFocus
}

// holds reports whether entities of kind k hold instruments whose money
// their page lists.
func holds(k graph.Kind) bool { return k == graph.KindPerson || k == graph.KindOrganisation }

// holder reports whether the page lists the money of held instruments.
func (ev entityView) holder() bool { return holds(ev.ref.Kind) && ev.holdDone && ev.hold.Total > 0 }

func newEntityView(ref graph.Ref, st theme.Styles) entityView {
	ev := entityView{ref: ref, nbrList: list.New(st), txList: list.New(st)}
	ev.txWant = ev.query(0)
	return ev
}

// query asks for the page of transactions that starts at offset.
func (ev entityView) query(offset int) graph.TxQuery {
	return graph.TxQuery{Sort: ev.sort, Offset: offset, Limit: txPageSize, From: ev.from, To: ev.to, Via: ev.via,
		MinAmount: ev.band.lo, MaxAmount: ev.band.hi, Currency: ev.band.cur}
}

// filtered reports whether the list keeps a time range or an amount band.
func (ev entityView) filtered() bool { return !ev.from.IsZero() || !ev.to.IsZero() || ev.band.set() }

// filterTitle names the list's time range and amount band, "" without
// either: "range 2025-03-13…2025-03-15 · amounts 450k–500k ₸".
func (m *Model) filterTitle() string {
	ev := &m.ent
	var parts []string
	if !ev.from.IsZero() || !ev.to.IsZero() {
		parts = append(parts, "range "+m.rangeText(ev.from, ev.to))
	}
	if ev.band.set() {
		parts = append(parts, ev.band.String())
	}
	return strings.Join(parts, " · ")
}

func (ev entityView) failed() bool { return ev.entErr != nil || ev.nbrErr != nil || ev.txErr != nil }

func (ev *entityView) setStyles(st theme.Styles) {
	ev.nbrList.SetStyles(st)
	ev.txList.SetStyles(st)
}

// setSize gives the lists the rows their panes hold (the transactions pane
// spends a line on its column headings).
func (ev *entityView) setSize(l layout) {
	ev.nbrList.SetHeight(pane.ContentHeight(l.Neighbors.H))
	ev.nbrList.SetWidth(pane.ContentWidth(l.Neighbors.W))
	ev.txList.SetHeight(pane.ContentHeight(l.Txns.H) - 1)
	ev.txList.SetWidth(pane.ContentWidth(l.Txns.W))
}

// focused is the list that has the keys.
func (ev *entityView) focused() *list.Model {
	if ev.focus == focusNeighbors {
		return &ev.nbrList
	}
	return &ev.txList
}

// nbrText is what the filter matches in a neighbour row.
func (ev *entityView) nbrText(i int) string {
	n := ev.nbrs[i]
	return n.Relation + " " + n.Name + " " + n.Role + " " + n.Ref.String() + " " + refLabel(n.Ref)
}

// txText is what the filter matches in a transaction row.
func (ev *entityView) txText(loc *time.Location, titleOf func(graph.Ref) string) func(int) string {
	return func(i int) string {
		t := ev.tx.Txns[i]
		_, cp := txDirection(ev.ref, t)
		return t.Time.In(loc).Format("2006-01-02 15:04") + " " + t.Channel.String() + " " + titleOf(cp) + " " + cp.Key + " " +
			t.ATM + " " + graph.FormatMoney(t.Amount, t.Currency) + " " + t.Device + " " + t.Reference + " " + t.ID + " " + t.Via.Key
	}
}

// maxTxIDWidth bounds the transaction id column and the footer's id: bank
// ids are short, a longer one is hostile input, not a name to show whole.
const maxTxIDWidth = 40

// apply takes a loaded message for this view; it returns the message's error.
func (ev *entityView) apply(msg tea.Msg) error {
	switch msg := msg.(type) {
	case entityLoadedMsg:
		if msg.ref != ev.ref {
			return nil
		}
		ev.ent, ev.entErr, ev.entDone = msg.ent, msg.err, true
		return msg.err
	case holdingsLoadedMsg:
		if msg.ref != ev.ref {
			return nil
		}
		ev.hold, ev.holdDone = msg.h, msg.err == nil
		return msg.err
	case neighborsLoadedMsg:
		if msg.ref != ev.ref || msg.via != ev.via {
			return nil
		}
		ev.nbrs, ev.nbrTotal, ev.nbrErr, ev.nbrDone = msg.rows, msg.total, msg.err, true
		ev.nbrList.Reset(len(msg.rows), msg.total, ev.nbrText)
		if len(msg.rows) == 0 && msg.err == nil {
			ev.focus = focusTxns
		}
		return msg.err
	case txnsLoadedMsg:
		if msg.ref != ev.ref || msg.q != ev.txWant {
			return nil
		}
		ev.txBusy = false
		if msg.err != nil {
			ev.txErr, ev.txDone = msg.err, true
			return msg.err
		}
		if msg.q.Offset == 0 {
			ev.tx, ev.txErr, ev.txDone = msg.page, nil, true
			ev.txList.Reset(len(msg.page.Txns), msg.page.Total, nil)
			return nil
		}
		// The next page: the rows go after the loaded ones, the totals
		// are the newest answer's.
		rows := append(ev.tx.Txns[:len(ev.tx.Txns):len(ev.tx.Txns)], msg.page.Txns...)
		ev.tx = msg.page
		ev.tx.Txns = rows
		ev.txList.SetTotal(msg.page.Total)
		return nil
	}
	return nil
}

// reloadTxns asks for the first page in the current sort.
func (m *Model) reloadTxns() tea.Cmd {
	m.ent.txWant = m.ent.query(0)
	m.ent.txDone, m.ent.txBusy = false, false
	return loadTxns(m.ctx, m.b, m.ent.ref, m.ent.txWant)
}

// moreTxns asks for the page after the loaded rows when the cursor nears
// them, so paging down never runs out of rows (and never skips any).
func (m *Model) moreTxns() tea.Cmd {
	ev := &m.ent
	if ev.txBusy || !ev.txDone || ev.txErr != nil || !ev.txList.NeedMore() {
		return nil
	}
	ev.txBusy = true
	ev.txWant = ev.query(len(ev.tx.Txns))
	return loadTxns(m.ctx, m.b, ev.ref, ev.txWant)
}

// nextInstrument narrows a holder's page to the next instrument they hold,
// and after the last back to all of them; the neighbours and transactions
// load again.
func (m *Model) nextInstrument() tea.Cmd {
	ev := &m.ent
	items := ev.hold.Items
	next := 0
	for i, it := range items {
		if it.Ref == ev.via {
			next = i + 1
		}
	}
	ev.via = graph.Ref{}
	what := "all " + fmtInt(ev.hold.Total) + " instruments"
	if next < len(items) {
		ev.via = items[next].Ref
		what = fmt.Sprintf("%s (%d of %d)", refLabel(ev.via), next+1, len(items))
	}
	m.setStatus("money of "+what, false)
	ev.nbrDone = false
	return tea.Batch(loadHolderNeighbors(m.ctx, m.b, ev.ref, ev.via), m.reloadTxns())
}

// entityScreen shows the entity of the current history entry: its
// properties, neighbours and transactions.
type entityScreen struct{ m *Model }

func (s *entityScreen) Title() string    { return "entity" }
func (s *entityScreen) SetSize(w, h int) { s.m.ent.setSize(s.m.lay) }
func (s *entityScreen) View() []string   { return s.m.renderEntity() }
func (s *entityScreen) ShortHelp() []key.Binding {
	return entityHelp(s.m.keys, s.m.ekeys).ShortHelp()
}
func (s *entityScreen) FullHelp() [][]key.Binding {
	m := s.m
	return m.withAnalyticsKeys(withCaseKeys(entityHelp(m.keys, m.ekeys), m.cs.keys, true), true, true).FullHelp()
}

// Update takes the entity screen's keys: the focused list first (so / and
// the arrows filter and move it), then the screen's own keys, then the
// global ones.
func (s *entityScreen) Update(msg tea.Msg) tea.Cmd {
	m, ev := s.m, &s.m.ent
	if cmd, ok := ev.focused().Update(msg); ok {
		return tea.Batch(cmd, m.moreTxns())
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if cmd, ok := m.entityKey(k); ok {
		return cmd
	}
	return m.browseKey(k)
}

// entityKey handles keys of the entity screen; ok is false for keys it
// leaves to the global bindings.
func (m *Model) entityKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k, ev := m.ekeys, &m.ent
	switch {
	case key.Matches(msg, k.List.Export) && ev.focus == focusNeighbors:
		return m.bookmarkListed("neighbours of "+m.titleOf(ev.ref), &ev.nbrList, func(i int) []graph.Ref {
			return []graph.Ref{ev.nbrs[i].Ref}
		}), true
	case key.Matches(msg, k.List.Export):
		return m.bookmarkListed("counterparties of "+m.titleOf(ev.ref), &ev.txList, func(i int) []graph.Ref {
			_, cp := txDirection(ev.ref, ev.tx.Txns[i])
			return []graph.Ref{cp}
		}), true
	case key.Matches(msg, k.Focus):
		if ev.focus == focusNeighbors {
			ev.focus = focusTxns
		} else {
			ev.focus = focusNeighbors
		}
	case key.Matches(msg, k.Graph):
		return m.open(ev.ref, true), true
	case key.Matches(msg, k.Sort):
		ev.sort = (ev.sort + 1) % 4
		return m.reloadTxns(), true
	case key.Matches(msg, k.Timeline):
		return m.openTimeline(timelineSource{title: m.titleOf(ev.ref), refs: []graph.Ref{ev.ref}, entity: true}), true
	case key.Matches(msg, k.AllDates) && ev.filtered():
		ev.from, ev.to, ev.band = time.Time{}, time.Time{}, txBand{}
		m.setStatus("transactions: every date and amount", false)
		return m.reloadTxns(), true
	case key.Matches(msg, k.Band):
		return m.openBandDialog(), true
	case key.Matches(msg, k.Instrument) && ev.holder():
		return m.nextInstrument(), true
	case key.Matches(msg, k.Open):
		if ref, ok := m.selectedRef(); ok {
			return m.open(ref, false), true
		}
	default:
		if ref, ok := m.focusedRef(); ok {
			return m.entityActionKey(msg, ref, true)
		}
		return nil, false
	}
	return nil, true
}

// selectedRef is the neighbour, or the counterparty of the transaction,
// under the cursor of the focused pane.
func (m *Model) selectedRef() (graph.Ref, bool) {
	ev := &m.ent
	switch ev.focus {
	case focusNeighbors:
		if i, ok := ev.nbrList.Index(); ok && i < len(ev.nbrs) {
			return ev.nbrs[i].Ref, true
		}
	case focusTxns:
		if i, ok := ev.txList.Index(); ok && i < len(ev.tx.Txns) {
			_, cp := txDirection(ev.ref, ev.tx.Txns[i])
			return cp, true
		}
	}
	return graph.Ref{}, false
}

// txDirection returns the direction of t seen from ref and its counterparty.
func txDirection(ref graph.Ref, t graph.Txn) (graph.Direction, graph.Ref) {
	if !t.Via.IsZero() {
		ref = t.Via // a holder's row: seen from the instrument it is on
	}
	if t.To == ref {
		return graph.DirIn, t.From
	}
	if t.From == ref {
		return graph.DirOut, t.To
	}
	return graph.DirOut, t.To
}

func (m *Model) renderEntity() []string {
	l := m.lay
	props := m.renderProps(l.Props)
	nbrs := m.renderNeighbors(l.Neighbors)
	txns := m.renderTxns(l.Txns)
	return append(pane.Join(props, nbrs), txns...)
}

func (m *Model) renderProps(r rect) []string {
	st, ev := m.st, m.ent
	title := m.st.Badge(ev.ref.Kind).Render(strings.ToUpper(ev.ref.Kind.String())) + " " + st.Bold.Render(fullIdent(ev.ref))
	var body []string
	switch {
	case ev.entErr != nil:
		body = append(body, st.Err.Render(ev.entErr.Error()))
	case !ev.entDone:
		body = append(body, st.Muted.Render("loading…"))
	default:
		e := ev.ent
		var kv [][2]string
		if e.Name != "" {
			kv = append(kv, [2]string{"name", safetext.Line(e.Name)})
		}
		switch e.Ref.Kind {
		case graph.KindPerson:
			kv = append(kv, [2]string{"IIN", graph.FormatIIN(e.Ref.Key)})
		case graph.KindCard:
			kv = append(kv, [2]string{"PAN", graph.FormatPAN(e.Ref.Key)})
		case graph.KindAccount:
			kv = append(kv, [2]string{"IBAN", graph.FormatIBAN(e.Ref.Key)})
		default:
			if e.Name != "" {
				kv = append(kv, [2]string{"id", safetext.Line(e.Ref.Key)})
			}
		}
		ids := len(kv) // the flags go after the identifiers, where they stay visible
		if ev.holder() {
			// What they hold and its money, first among the properties (the
			// transactions pane's title carries the totals too).
			h := ev.hold
			kv = append(kv, [2]string{"holds", fmtInt(h.Total) + " instruments · i: one at a time"},
				[2]string{"money", fmt.Sprintf("%s tx · in %s · out %s", fmtInt(h.Txns), graph.FormatShortMoney(h.In), graph.FormatShortMoney(h.Out))})
		}
		for _, p := range e.SortedProps() {
			kv = append(kv, [2]string{safetext.Line(p[0]), safetext.Line(p[1])})
		}
		kw := 0
		for _, p := range kv {
			kw = max(kw, ansi.StringWidth(p[0]))
		}
		kw = min(kw, 14)
		vw := pane.ContentWidth(r.W) - kw - 2
		for i, p := range kv {
			v := formatProp(p[0], p[1])
			if ansi.StringWidth(v) > vw && (i < ids || isIDProp(p[0])) {
				v = strings.TrimRight(pane.FitMiddle(v, vw), " ")
			}
			body = append(body, pane.Fit(st.Muted.Render(p[0]), kw)+"  "+st.Text.Render(v))
		}
		verdict := m.verdictPropLines(kw)
		room := pane.ContentHeight(r.H) - ids - len(verdict) - 1 // the source line stays
		body = slices.Insert(body, ids, append(verdict, m.flagPropLines(kw, room)...)...)
		body = append(body, pane.Fit(st.Muted.Render("source"), kw)+"  "+st.Muted.Render(e.Src.String()))
		if e.Stub {
			body = append(body, st.Warn.Render("stub — referenced but not imported"))
		}
		if ch := pane.ContentHeight(r.H); len(body) > ch && ch > 0 {
			more := len(body) - ch + 1
			body = append(body[:ch-1], st.Muted.Render(fmt.Sprintf("… %d more", more)))
		}
	}
	return pane.Box(st, title, "", body, r.W, r.H, false)
}

// shortRef names a held instrument in ten cells: its kind and the end of
// its key, the part that tells two apart ("card ·7894").
func shortRef(r graph.Ref) string {
	k := r.Key
	if i := strings.IndexByte(k, '~'); i >= 0 {
		k = k[:i]
	}
	if n := len([]rune(k)); n > 4 {
		k = string([]rune(k)[n-4:])
	}
	switch r.Kind {
	case graph.KindAccount:
		return "acct ·" + k
	case graph.KindWallet:
		return "wal ·" + k
	case graph.KindPerson, graph.KindOrganisation:
		return "own"
	}
	return r.Kind.String() + " ·" + k
}

// fullIdent is the heading form of a reference: the whole PAN, IBAN or IIN.
func fullIdent(r graph.Ref) string {
	switch r.Kind {
	case graph.KindPerson:
		return "IIN " + graph.FormatIIN(r.Key)
	case graph.KindCard:
		return graph.FormatPAN(r.Key)
	}
	return graph.RefTitle(r)
}

// formatProp formats well-known identifier properties.
// isIDProp reports whether a property holds an identifier, which is cut
// from the middle when it does not fit (fitTitle).
func isIDProp(k string) bool {
	k = strings.ToLower(k)
	for _, suf := range []string{"iin", "bin", "iban", "pan", "card", "device", "device_id", "phone", "ip", "wallet", "id"} {
		if k == suf || strings.HasSuffix(k, "_"+suf) {
			return true
		}
	}
	return false
}

func formatProp(k, v string) string {
	switch {
	case strings.HasSuffix(k, "iin") || strings.HasSuffix(k, "bin"):
		return graph.FormatIIN(v)
	case strings.HasSuffix(k, "iban"):
		return graph.FormatIBAN(v)
	case k == "pan" || strings.HasSuffix(k, "_pan") || strings.HasSuffix(k, "card"):
		return graph.MaskPAN(v)
	}
	return v
}
