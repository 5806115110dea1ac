package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui/pane"
)

// The entity screen's two list panes: the neighbours grouped by relation and
// the transactions (entity.go has the view's state, keys and properties).

// renderNeighbors draws the neighbours pane.
func (m *Model) renderNeighbors(r rect) []string {
	st, ev := m.st, &m.ent
	focused := ev.focus == focusNeighbors
	title := "Neighbours"
	if ev.nbrDone && ev.nbrErr == nil {
		title = fmt.Sprintf("Neighbours %s", fmtInt(ev.nbrTotal))
	}
	cw := pane.ContentWidth(r.W)
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
		// A sparkline of the money with each counterparty when the pane
		// keeps room for the names.
		spark := cw >= 60 && ev.sparks != nil
		l := &ev.nbrList
		prev := -1
		body = l.Lines(func(i int, selected bool) string {
			n := ev.nbrs[i]
			rel := ""
			if prev < 0 || ev.nbrs[prev].Relation != n.Relation {
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
			isID := name == "" && n.Role == ""
			if name == "" {
				name = refLabel(n.Ref)
			}
			if n.Role != "" {
				name += " · " + safetext.Line(n.Role)
			}
			switch {
			case n.ViaCount > 1:
				name += " · via " + fmt.Sprint(n.ViaCount)
			case !n.Via.IsZero() && n.Via != ev.ref:
				name += " · via " + shortRef(n.Via)
			}
			prev = i
			nameSt := st.Kind(n.Ref.Kind)
			if selected {
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
			if spark {
				line := strings.Repeat(" ", sparkW)
				if s, ok := ev.sparks[n.Ref]; ok && n.Amount != 0 {
					line = m.sparkline(s)
				}
				right = line + " " + right
			}
			nameW := cw - relW - 2 - ansi.StringWidth(right) - 1
			mark := " "
			if selected {
				mark = st.Accent.Render("▸")
			}
			return pane.Fit(st.Muted.Render(rel), relW-1) + mark + arrow + " " + fitTitle(nameSt.Render(name), isID, max(nameW, 4)) + " " + right
		})
		footer = l.Footer()
		if ev.nbrTotal > len(ev.nbrs) {
			footer += fmt.Sprintf(" · first %d shown", len(ev.nbrs))
		}
	}
	return pane.Box(st, title, footer, body, r.W, r.H, focused)
}

func (m *Model) renderTxns(r rect) []string {
	st, ev := m.st, &m.ent
	focused := ev.focus == focusTxns
	cw := pane.ContentWidth(r.W)
	title := "Transactions"
	if ev.txDone && ev.txErr == nil {
		title = fmt.Sprintf("Transactions %s · in %s · out %s · sort %s", fmtInt(ev.tx.Total),
			graph.FormatMoney(ev.tx.In, "KZT"), graph.FormatMoney(ev.tx.Out, "KZT"), sortNames[ev.sort])
		switch {
		case ev.holder() && ev.via.IsZero():
			title = fmt.Sprintf("Transactions of %s instruments · ", fmtInt(ev.hold.Total)) + strings.TrimPrefix(title, "Transactions ")
		case ev.holder():
			title = "Transactions of " + refLabel(ev.via) + " · " + strings.TrimPrefix(title, "Transactions ")
		}
		if ev.tx.Truncated {
			title += " · totals partial"
		}
		if f := m.filterTitle(); f != "" {
			title = f + " · " + title
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
	case len(ev.tx.Txns) == 0 && ev.holder() && !ev.via.IsZero():
		body = append(body, st.Muted.Render("no transactions on "+refLabel(ev.via)+" — i: the next instrument"))
	case len(ev.tx.Txns) == 0 && ev.holder():
		body = append(body, st.Muted.Render(fmt.Sprintf("no transactions on the %s instruments they hold", fmtInt(ev.hold.Total))))
	case len(ev.tx.Txns) == 0 && holds(ev.ref.Kind) && ev.holdDone:
		body = append(body, st.Muted.Render("no transactions, and holds no card, account or wallet"))
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
		// The transaction id is what a bank request names: a column only
		// where it fits whole and leaves the reference some room (a cut id
		// names nothing); else the footer names the selected row's.
		idW := 0
		for _, t := range ev.tx.Txns {
			idW = max(idW, ansi.StringWidth(safetext.Line(t.ID)))
		}
		if idW > 0 && idW <= maxTxIDWidth && tailW >= idW+1+8 {
			tailW -= idW + 1
		} else {
			idW = 0
		}
		// A holder's merged list names the instrument of each row where an
		// instrument's own list names the device.
		combined := ev.holder() && ev.via.IsZero()
		if tailW >= 22 || combined {
			devW = 10
			tailW -= devW + 1
		}
		hdr := pane.Fit("time (Almaty)", timeW) + " " + pane.Fit("channel", chanW) + "   " + pane.Fit("counterparty", cpW) + " " +
			pane.Right("amount", amtW) + " "
		if idW > 0 {
			hdr += " " + pane.Fit("tx id", idW)
		}
		switch {
		case combined:
			hdr += " " + pane.Fit("via", devW)
		case devW > 0:
			hdr += " " + pane.Fit("device", devW)
		}
		hdr += " reference"
		body = append(body, st.Muted.Render(pane.Fit(hdr, cw)))
		body = append(body, ev.txList.Lines(func(i int, selected bool) string {
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
			if selected {
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
				fitTitle(cpSt.Render(cpName), !m.named(cp), cpW) + " " +
				pane.Right(st.Money.Render(graph.FormatMoney(t.Amount, t.Currency)), amtW) + " "
			if idW > 0 {
				line += " " + pane.Fit(st.Muted.Render(safetext.Line(t.ID)), idW)
			}
			switch {
			case combined:
				line += " " + pane.Fit(st.Kind(t.Via.Kind).Render(shortRef(t.Via)), devW)
			case devW > 0:
				line += " " + pane.FitMiddle(st.Muted.Render(safetext.Line(t.Device)), devW)
			}
			return line + " " + st.Muted.Render(ref)
		})...)
		filterFirst(&ev.txList, body)
		footer = ev.txList.Footer()
		// Without room for the id column the selected row's id is in the
		// footer: a bank request needs it at any width.
		if i, ok := ev.txList.Index(); idW == 0 && ok && i < len(ev.tx.Txns) {
			footer = "tx " + ansi.Truncate(safetext.Line(ev.tx.Txns[i].ID), maxTxIDWidth, "…") + " · " + footer
		}
		if n := len(ev.tx.Txns); n < ev.tx.Total {
			footer += " · " + fmtInt(n) + " loaded"
		}
		if ev.tx.Omitted > 0 {
			footer += fmt.Sprintf(" · +%s more instruments not merged (i: one at a time)", fmtInt(ev.tx.Omitted))
		}
		if !ev.txDone || ev.txBusy {
			footer = "loading… · " + footer
		}
	}
	return pane.Box(st, title, footer, body, r.W, r.H, focused)
}
