package tui

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"casegraph/graph"
	"casegraph/tui/pane"
)

// renderHome shows the database at a glance: entities, links, transactions
// per channel and the import batches.
func (m *Model) renderHome() []string {
	st := m.st
	l := m.lay
	left, right := l.Props, l.Neighbors
	bottom := l.Txns
	if !m.statsLoaded {
		return pane.Box(st, "Database · "+m.b.Name(), "", []string{st.Muted.Render("loading database summary…")}, l.Body.W, l.Body.H, false)
	}
	if m.statsErr != nil {
		return pane.Box(st, "Database · "+m.b.Name(), "", []string{st.Err.Render(m.statsErr.Error()),
			"", st.Muted.Render("press / to search anyway")}, l.Body.W, l.Body.H, false)
	}
	s := m.stats

	// Entities per kind, in display order, two columns when wide enough.
	total := 0
	for _, n := range s.Entities {
		total += n
	}
	var ents []string
	numW := len(fmtInt(total))
	for _, k := range graph.Kinds {
		n := s.Entities[k]
		if n == 0 {
			continue
		}
		ents = append(ents, pane.Fit(st.Kind(k).Render(k.String()), 10)+pane.Right(fmtInt(n), numW))
	}
	if s.Stubs > 0 {
		ents = append(ents, pane.Fit(st.Warn.Render("stubs"), 10)+pane.Right(fmtInt(s.Stubs), numW)+st.Muted.Render("  referenced, not imported"))
	}
	ents = append(ents, pane.Fit(st.Bold.Render("total"), 10)+st.Bold.Render(pane.Right(fmtInt(total), numW)))

	// Links per relation.
	var links []string
	type kv struct {
		t graph.LinkType
		n int
	}
	var lk []kv
	linkTotal := 0
	for t, n := range s.Links {
		lk = append(lk, kv{t, n})
		linkTotal += n
	}
	sort.Slice(lk, func(i, j int) bool {
		if lk[i].n != lk[j].n {
			return lk[i].n > lk[j].n
		}
		return lk[i].t < lk[j].t
	})
	lw := len(fmtInt(linkTotal))
	for _, x := range lk {
		links = append(links, pane.Fit(st.Muted.Render(x.t.String()), 12)+pane.Right(fmtInt(x.n), lw))
	}
	leftBody := ents
	linksLeft := pane.ContentWidth(left.W) >= 2*28
	if len(links) > 0 && linksLeft {
		leftBody = pane.Join(padLines(ents, max(len(ents), len(links)), 28), padLines(links, max(len(ents), len(links)), 0))
	}

	// Transactions per channel.
	var tx []string
	tw := len(fmtInt(s.Txns))
	chans := []graph.Channel{graph.ChannelTransfer, graph.ChannelTopup, graph.ChannelCashOut, graph.ChannelTrade, graph.ChannelUnknown}
	for _, c := range chans {
		n := s.TxnsByChan[c]
		if n == 0 {
			continue
		}
		bar := ""
		if s.Txns > 0 {
			bar = strings.Repeat("▇", max(1, n*16/s.Txns))
		}
		tx = append(tx, pane.Fit(c.String(), 10)+pane.Right(fmtInt(n), tw)+"  "+st.Accent.Render(bar))
	}
	tx = append(tx, pane.Fit(st.Bold.Render("total"), 10)+st.Bold.Render(pane.Right(fmtInt(s.Txns), tw)))
	if len(links) > 0 && !linksLeft {
		tx = append(append(tx, ""), links...)
	}
	tx = append(tx, "", st.Accent.Render("press / to search")+st.Muted.Render(" — names, IIN, card digits, IBAN, phone"),
		st.Accent.Render("F")+st.Muted.Render(" red flags · ")+st.Accent.Render("C")+st.Muted.Render(" suspected groups · ")+
			st.Accent.Render("c")+st.Muted.Render(" cases · ")+st.Accent.Render("R")+st.Muted.Render(" resolve · ")+
			st.Accent.Render("?")+st.Muted.Render(" all keys"))

	// The upper band grows to show every count; batches get the rest.
	band := min(max(len(leftBody), len(tx))+2, l.Body.H-5)
	band = max(band, left.H)
	left.H, right.H = band, band
	bottom = rect{bottom.X, l.Body.Y + band, bottom.W, l.Body.H - band}
	leftBox := pane.Box(st, "Entities & links", fmt.Sprintf("%s entities · %s links", fmtInt(total), fmtInt(linkTotal)), leftBody, left.W, left.H, false)
	rightBox := pane.Box(st, "Transactions", "", tx, right.W, right.H, false)

	// Import batches, newest first.
	var rows []string
	bw := pane.ContentWidth(bottom.W)
	skipW := 0 // room for "  +N skipped" when a profile import skipped rows
	for _, b := range s.Batches {
		if b.Skipped > 0 {
			skipW = max(skipW, len(fmtInt(b.Skipped))+11)
		}
	}
	fileW := max(16, bw-6-14-3*10-4-skipW)
	rows = append(rows, st.Muted.Render(pane.Fit("#", 5)+" "+pane.Fit("file", fileW)+" "+pane.Fit("format", 13)+
		pane.Right("read", 10)+pane.Right("imported", 10)+pane.Right("rejected", 10)))
	batches := append([]graph.Batch(nil), s.Batches...)
	sort.Slice(batches, func(i, j int) bool { return batches[i].ID > batches[j].ID })
	for _, b := range batches {
		rej := pane.Right(fmtInt(b.Rejected), 10)
		if b.Rejected > 0 {
			rej = st.Warn.Render(rej)
		}
		row := pane.Fit(fmt.Sprintf("#%d", b.ID), 5) + " " + pane.Fit(filepath.Base(b.File), fileW) + " " +
			pane.Fit(st.Muted.Render(b.Format), 13) + pane.Right(fmtInt(b.Read), 10) + pane.Right(fmtInt(b.Imported), 10) + rej
		if b.Skipped > 0 {
			// Metadata and total rows a profile skipped: read = imported + rejected + skipped.
			row += st.Muted.Render("  +" + fmtInt(b.Skipped) + " skipped")
		}
		rows = append(rows, row)
	}
	if len(batches) == 0 {
		rows = append(rows, st.Muted.Render("no imports yet — run casegraph import <files>"))
	}
	botBox := pane.Box(st, "Import batches", fmt.Sprintf("%d batches", len(batches)), rows, bottom.W, bottom.H, false)
	return append(pane.Join(leftBox, rightBox), botBox...)
}

// padLines returns exactly n lines, each fitted to w cells (w == 0: as is).
func padLines(lines []string, n, w int) []string {
	out := make([]string, n)
	for i := range out {
		if i < len(lines) {
			out[i] = lines[i]
		}
		if w > 0 {
			out[i] = pane.Fit(out[i], w)
		}
	}
	return out
}
