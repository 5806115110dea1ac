package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui/pane"
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
	nbrSel   int
	nbrOff   int

	tx     graph.TxPage
	txDone bool
	txErr  error
	txSel  int
	txOff  int
	page   int
	sort   graph.TxSort
	txWant graph.TxQuery // the query whose result the pane waits for

	focus entityFocus
}

func newEntityView(ref graph.Ref) entityView {
	ev := entityView{ref: ref}
	ev.txWant = ev.query()
	return ev
}

func (ev entityView) query() graph.TxQuery {
	return graph.TxQuery{Sort: ev.sort, Offset: ev.page * txPageSize, Limit: txPageSize}
}

func (ev entityView) failed() bool { return ev.entErr != nil || ev.nbrErr != nil || ev.txErr != nil }

func (ev entityView) pages() int {
	return max(1, (ev.tx.Total+txPageSize-1)/txPageSize)
}

// apply takes a loaded message for this view; it returns the message's error.
func (ev *entityView) apply(msg tea.Msg) error {
	switch msg := msg.(type) {
	case entityLoadedMsg:
		if msg.ref != ev.ref {
			return nil
		}
		ev.ent, ev.entErr, ev.entDone = msg.ent, msg.err, true
		return msg.err
	case neighborsLoadedMsg:
		if msg.ref != ev.ref {
			return nil
		}
		ev.nbrs, ev.nbrTotal, ev.nbrErr, ev.nbrDone = msg.rows, msg.total, msg.err, true
		ev.nbrSel, ev.nbrOff = 0, 0
		if len(msg.rows) == 0 && msg.err == nil {
			ev.focus = focusTxns
		}
		return msg.err
	case txnsLoadedMsg:
		if msg.ref != ev.ref || msg.q != ev.txWant {
			return nil
		}
		ev.tx, ev.txErr, ev.txDone = msg.page, msg.err, true
		ev.txSel, ev.txOff = 0, 0
		return msg.err
	}
	return nil
}

func (ev *entityView) move(d int) {
	switch ev.focus {
	case focusNeighbors:
		if n := len(ev.nbrs); n > 0 {
			ev.nbrSel = min(max(ev.nbrSel+d, 0), n-1)
		}
	case focusTxns:
		if n := len(ev.tx.Txns); n > 0 {
			ev.txSel = min(max(ev.txSel+d, 0), n-1)
		}
	}
}

// reloadTxns asks for the current page and sort.
func (m *Model) reloadTxns() tea.Cmd {
	m.ent.txWant = m.ent.query()
	m.ent.txDone = false
	return loadTxns(m.ctx, m.b, m.ent.ref, m.ent.txWant)
}

// entityKey handles keys of the entity screen; ok is false for keys it
// leaves to the global bindings.
func (m *Model) entityKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k, ev := m.ekeys, &m.ent
	switch {
	case navKey(msg, k.navKeys, ev.move):
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
		ev.page = 0
		return m.reloadTxns(), true
	case key.Matches(msg, k.PageDown):
		if ev.page+1 < ev.pages() {
			ev.page++
			return m.reloadTxns(), true
		}
	case key.Matches(msg, k.PageUp):
		if ev.page > 0 {
			ev.page--
			return m.reloadTxns(), true
		}
	case key.Matches(msg, k.Open):
		if ref, ok := m.selectedRef(); ok {
			return m.open(ref, false), true
		}
	default:
		return nil, false
	}
	return nil, true
}

// selectedRef is the neighbour, or the counterparty of the transaction,
// under the cursor of the focused pane.
func (m *Model) selectedRef() (graph.Ref, bool) {
	ev := m.ent
	switch ev.focus {
	case focusNeighbors:
		if ev.nbrSel < len(ev.nbrs) {
			return ev.nbrs[ev.nbrSel].Ref, true
		}
	case focusTxns:
		if ev.txSel < len(ev.tx.Txns) {
			_, cp := txDirection(ev.ref, ev.tx.Txns[ev.txSel])
			return cp, true
		}
	}
	return graph.Ref{}, false
}

// txDirection returns the direction of t seen from ref and its counterparty.
func txDirection(ref graph.Ref, t graph.Txn) (graph.Direction, graph.Ref) {
	if t.To == ref {
		return graph.DirIn, t.From
	}
	if t.From == ref {
		return graph.DirOut, t.To
	}
	// A person's listing holds transactions of their instruments.
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
		for _, p := range e.SortedProps() {
			kv = append(kv, [2]string{safetext.Line(p[0]), safetext.Line(p[1])})
		}
		kw := 0
		for _, p := range kv {
			kw = max(kw, ansi.StringWidth(p[0]))
		}
		kw = min(kw, 14)
		for _, p := range kv {
			body = append(body, pane.Fit(st.Muted.Render(p[0]), kw)+"  "+st.Text.Render(formatProp(p[0], p[1])))
		}
		body = slices.Insert(body, ids, append(m.verdictPropLines(kw), m.flagPropLines(kw)...)...)
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

func (m *Model) renderNeighbors(r rect) []string {
	st, ev := m.st, m.ent
	focused := ev.focus == focusNeighbors
	title := "Neighbours"
	if ev.nbrDone && ev.nbrErr == nil {
		title = fmt.Sprintf("Neighbours %s", fmtInt(ev.nbrTotal))
	}
	cw, ch := pane.ContentWidth(r.W), pane.ContentHeight(r.H)
	var body []string
	footer := ""
	switch {
	case ev.nbrErr != nil:
		body = append(body, st.Err.Render(ev.nbrErr.Error()))
	case !ev.nbrDone:
		body = append(body, st.Muted.Render("loading…"))
	case len(ev.nbrs) == 0:
		body = append(body, st.Muted.Render("no links or transactions"))
	default:
		groups := map[string]int{}
		for _, n := range ev.nbrs {
			groups[n.Relation]++
		}
		relW := 0
		for rel := range groups {
			relW = max(relW, ansi.StringWidth(rel)+3)
		}
		relW = min(relW, 15)
		// Narrow panes show compact amounts so names keep their room.
		money := func(a int64) string { return graph.FormatMoney(a, "KZT") }
		if cw < 60 {
			money = graph.FormatShortMoney
		}
		amtW := 0
		for _, n := range ev.nbrs {
			if n.Amount != 0 {
				amtW = max(amtW, ansi.StringWidth(money(n.Amount)))
			}
		}
		ev.nbrOff = pane.Window(ev.nbrSel, ev.nbrOff, len(ev.nbrs), ch)
		m.ent.nbrOff = ev.nbrOff
		for i := ev.nbrOff; i < len(ev.nbrs) && i < ev.nbrOff+ch; i++ {
			n := ev.nbrs[i]
			rel := ""
			if i == 0 || ev.nbrs[i-1].Relation != n.Relation || i == ev.nbrOff {
				rel = n.Relation
				if c := groups[n.Relation]; c > 1 {
					rel += " " + fmt.Sprint(c)
				}
			}
			arrow := st.Out.Render(n.Dir.Arrow())
			if n.Dir == graph.DirIn {
				arrow = st.In.Render(n.Dir.Arrow())
			}
			name := safetext.Line(n.Name)
			if name == "" {
				name = refLabel(n.Ref)
			}
			if n.Role != "" {
				name += " · " + safetext.Line(n.Role)
			}
			nameSt := st.Kind(n.Ref.Kind)
			if i == ev.nbrSel {
				if focused {
					nameSt = nameSt.Inherit(st.Selected)
				} else {
					nameSt = nameSt.Inherit(st.SelectedBlur)
				}
			}
			right := ""
			if n.Count > 1 {
				right = st.Muted.Render(fmt.Sprintf("×%d", n.Count))
			}
			if amtW > 0 {
				amt := ""
				if n.Amount != 0 {
					amt = money(n.Amount)
				}
				right += " " + pane.Right(st.Money.Render(amt), amtW)
			}
			nameW := cw - relW - 2 - ansi.StringWidth(right) - 1
			mark := " "
			if i == ev.nbrSel {
				mark = st.Accent.Render("▸")
			}
			line := pane.Fit(st.Muted.Render(rel), relW-1) + mark + arrow + " " + pane.Fit(nameSt.Render(name), max(nameW, 4)) + " " + right
			body = append(body, line)
		}
		footer = fmt.Sprintf("%d–%d of %s", ev.nbrOff+1, min(ev.nbrOff+ch, len(ev.nbrs)), fmtInt(ev.nbrTotal))
		if ev.nbrTotal > len(ev.nbrs) {
			footer += fmt.Sprintf(" · first %d shown", len(ev.nbrs))
		}
	}
	return pane.Box(st, title, footer, body, r.W, r.H, focused)
}

func (m *Model) renderTxns(r rect) []string {
	st, ev := m.st, m.ent
	focused := ev.focus == focusTxns
	cw, ch := pane.ContentWidth(r.W), pane.ContentHeight(r.H)
	title := "Transactions"
	if ev.txDone && ev.txErr == nil {
		title = fmt.Sprintf("Transactions %s · in %s · out %s · sort %s", fmtInt(ev.tx.Total),
			graph.FormatMoney(ev.tx.In, "KZT"), graph.FormatMoney(ev.tx.Out, "KZT"), sortNames[ev.sort])
		if ev.tx.Truncated {
			title += " · totals partial"
		}
	} else if !ev.txDone {
		title = "Transactions · sort " + sortNames[ev.sort] + " · loading…"
	}
	var body []string
	footer := ""
	switch {
	case ev.txErr != nil:
		body = append(body, st.Err.Render(ev.txErr.Error()))
	case !ev.txDone && len(ev.tx.Txns) == 0:
		body = append(body, st.Muted.Render("loading…"))
	case len(ev.tx.Txns) == 0 && ev.ref.Kind == graph.KindPerson:
		// Money moves between instruments: a person's is on the cards and
		// accounts they hold.
		body = append(body, st.Muted.Render("no transactions of the person itself — open a card or account they hold (neighbours, enter) to see its transactions"))
	case len(ev.tx.Txns) == 0:
		body = append(body, st.Muted.Render("no transactions"))
	default:
		const timeW, chanW = 16, 9
		amtW := 0
		for _, t := range ev.tx.Txns {
			amtW = max(amtW, ansi.StringWidth(graph.FormatMoney(t.Amount, t.Currency)))
		}
		rest := cw - timeW - chanW - amtW - 4 - 2
		cpW := min(max(rest/2, 14), 28)
		devW := 0
		tailW := rest - cpW - 1
		if tailW >= 22 {
			devW = 10
			tailW -= devW + 1
		}
		hdr := pane.Fit("time (Almaty)", timeW) + " " + pane.Fit("channel", chanW) + "   " + pane.Fit("counterparty", cpW) + " " +
			pane.Right("amount", amtW) + " "
		if devW > 0 {
			hdr += " " + pane.Fit("device", devW)
		}
		hdr += " reference"
		body = append(body, st.Muted.Render(pane.Fit(hdr, cw)))
		rows := ch - 1
		ev.txOff = pane.Window(ev.txSel, ev.txOff, len(ev.tx.Txns), rows)
		m.ent.txOff = ev.txOff
		for i := ev.txOff; i < len(ev.tx.Txns) && i < ev.txOff+rows; i++ {
			t := ev.tx.Txns[i]
			dir, cp := txDirection(ev.ref, t)
			arrow := st.Out.Render(dir.Arrow())
			if dir == graph.DirIn {
				arrow = st.In.Render(dir.Arrow())
			}
			cpName := m.titleOf(cp)
			if t.ATM != "" && cp.Kind != graph.KindATM {
				cpName += " · " + t.ATM
			}
			cpSt := st.Kind(cp.Kind)
			mark := " "
			if i == ev.txSel {
				mark = st.Accent.Render("▸")
				if focused {
					cpSt = cpSt.Inherit(st.Selected)
				} else {
					cpSt = cpSt.Inherit(st.SelectedBlur)
				}
			}
			var flags []string
			if t.IINProvided == graph.TriNo {
				flags = append(flags, "no IIN")
			}
			if t.AppConfirmed == graph.TriNo {
				flags = append(flags, "not confirmed")
			}
			ref := safetext.Line(t.Reference)
			if len(flags) > 0 {
				ref = strings.TrimSpace(strings.Join(flags, " · ") + "  " + ref)
			}
			line := st.Muted.Render(t.Time.In(m.loc).Format("2006-01-02 15:04")) + m.evidenceMark(t.ID) +
				pane.Fit(t.Channel.String(), chanW) + mark + arrow + " " +
				pane.Fit(cpSt.Render(cpName), cpW) + " " +
				pane.Right(st.Money.Render(graph.FormatMoney(t.Amount, t.Currency)), amtW) + " "
			if devW > 0 {
				line += " " + pane.Fit(st.Muted.Render(t.Device), devW)
			}
			line += " " + st.Muted.Render(ref)
			body = append(body, line)
		}
		first := ev.page*txPageSize + 1
		footer = fmt.Sprintf("%s–%s of %s · page %d/%d", fmtInt(first), fmtInt(first+len(ev.tx.Txns)-1), fmtInt(ev.tx.Total), ev.page+1, ev.pages())
		if !ev.txDone {
			footer = "loading… · " + footer
		}
	}
	return pane.Box(st, title, footer, body, r.W, r.H, focused)
}
