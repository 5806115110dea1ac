package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/progress"

	"casegraph/graph"
	"casegraph/tui/pane"
)

// The Resolve screen's drawing: the proposals and merged links as tables,
// and the match under the cursor side by side.

// sharedFacts lists what the two sides of a match have in common: the birth
// date, identifiers, and the name tokens whose skeletons agree.
func sharedFacts(l, r MatchParty, names [2]string) []string {
	var out []string
	if l.BirthDate != "" && l.BirthDate == r.BirthDate {
		out = append(out, "born "+l.BirthDate)
	}
	for _, a := range l.IDs {
		for _, b := range r.IDs {
			if a == b {
				v := a.Value
				if a.Scheme == "pan" {
					v = graph.MaskPAN(v)
				}
				out = append(out, a.Scheme+" "+v)
			}
		}
	}
	ln, rn := names[0], names[1]
	if ln == "" {
		ln = l.Name
	}
	if rn == "" {
		rn = r.Name
	}
	if ln != "" && rn != "" {
		right := graph.SkeletonTokens(rn)
		var common []string
		for _, t := range graph.SkeletonTokens(ln) {
			if slices.Contains(right, t) && !slices.Contains(common, t) {
				common = append(common, t)
			}
		}
		if len(common) > 0 {
			out = append(out, "name "+strings.Join(common, " "))
		}
	}
	return out
}

// partyLabel names one side in a list: the name that matched, else its
// display name, else its formatted key.
func partyLabel(p MatchParty, matched string) string {
	switch {
	case matched != "":
		return matched
	case p.Name != "":
		return p.Name
	}
	return refLabel(p.Ref)
}

func (m *Model) renderResolve() []string {
	b := m.lay.Body
	rv := &m.rv
	if rv.busy && !rv.loaded {
		return m.renderResolveProgress(b)
	}
	listR, detR := splitBody(b, b.H*3/5)
	if rv.tab == tabMerged {
		return append(m.renderMergedList(listR), m.renderMergedDetail(detR)...)
	}
	return append(m.renderProposalList(listR), m.renderProposalDetail(detR)...)
}

func (m *Model) resolveTitle() string {
	rv := &m.rv
	props, merged := "proposals", "merged"
	if rv.loaded {
		props = fmt.Sprintf("proposals %d", len(rv.list.Rows))
	}
	if rv.mLoaded {
		merged = fmt.Sprintf("merged %d", len(rv.merged))
	}
	if rv.tab == tabProposals {
		props = "[" + props + "]"
	} else {
		merged = "[" + merged + "]"
	}
	return "Resolve · " + props + " · " + merged
}

func (m *Model) renderResolveProgress(r rect) []string {
	st, rv := m.st, &m.rv
	cw := pane.ContentWidth(r.W)
	line := st.Bold.Render(rv.prog.stage)
	frac := 0.0
	if rv.prog.total > 0 {
		frac = float64(rv.prog.done) / float64(rv.prog.total)
		line += st.Muted.Render(fmt.Sprintf("  %s of %s", fmtInt(rv.prog.done), fmtInt(rv.prog.total)))
	}
	bar := progress.New(progress.WithoutPercentage(), progress.WithFillCharacters('█', '░'),
		progress.WithColors(st.Accent.GetForeground()), progress.WithWidth(max(10, min(cw-2, 72))))
	body := []string{"", " " + line, "", " " + bar.ViewAs(frac), "",
		" " + st.Muted.Render("Entity resolution compares every person, organisation and exchange:"),
		" " + st.Muted.Render("shared identifiers, then names by skeleton and birth date. esc cancels.")}
	return pane.Box(st, m.resolveTitle(), "", body, r.W, r.H, true)
}

func (m *Model) renderProposalList(r rect) []string {
	st, rv := m.st, &m.rv
	cw := pane.ContentWidth(r.W)
	var body []string
	footer := ""
	switch {
	case rv.busy:
		body = append(body, st.Muted.Render(fmt.Sprintf("resolving… %s · esc cancels", rv.prog.stage)))
	case rv.err != nil:
		body = append(body, st.Err.Render(rv.err.Error()), st.Muted.Render("ctrl+r resolves again"))
	case !rv.loaded:
		body = append(body, st.Muted.Render("not resolved yet · ctrl+r resolves"))
	case len(rv.list.Rows) == 0 && rv.list.Linked+rv.list.Rejected == 0:
		body = append(body, st.Muted.Render("no proposed matches: no two records share an identifier, or a name skeleton and birth date"))
	case len(rv.list.Rows) == 0:
		body = append(body, st.Muted.Render("nothing to decide: every match is linked or rejected"))
	default:
		const rankW, scoreW, methodW = 3, 4, 12
		nameW := min(max((cw-rankW-scoreW-methodW-5)/3, 12), 30)
		sharedW := max(cw-rankW-scoreW-methodW-2*nameW-5, 0)
		widths := []int{-rankW, scoreW, methodW, nameW, nameW, sharedW}
		body = append(body, st.Muted.Render(fitCols([]string{"#", "scr", "method", "left", "right", "shared"}, widths)))
		body = append(body, rv.pnav.Lines(func(i int, selected bool) string {
			p := rv.list.Rows[i]
			ls, rs := st.Kind(p.Left.Ref.Kind), st.Kind(p.Right.Ref.Kind)
			rank := fmt.Sprint(i + 1)
			if selected {
				ls, rs = ls.Inherit(st.Selected), rs.Inherit(st.Selected)
				rank = st.Accent.Render("▸") + rank
			}
			scoreSt := st.Warn
			if p.Match.Deterministic {
				scoreSt = st.OK
			}
			method := p.Match.Method
			if rv.pending[pairOf(p.Match.A, p.Match.B)] {
				method = "writing…"
			}
			return fitCols([]string{rank, scoreSt.Render(fmt.Sprintf("%.2f", p.Match.Score)), st.Muted.Render(method),
				ls.Render(partyLabel(p.Left, p.Match.Names[0])), rs.Render(partyLabel(p.Right, p.Match.Names[1])),
				st.Text.Render(strings.Join(sharedFacts(p.Left, p.Right, p.Match.Names), " · "))}, widths)
		})...)
		filterFirst(&rv.pnav, body)
		footer = rv.pnav.Footer()
	}
	if rv.loaded && !rv.busy {
		extra := fmt.Sprintf("%d linked · %d rejected", rv.list.Linked, rv.list.Rejected)
		if rv.list.Skipped > 0 {
			extra += fmt.Sprintf(" · %d blocks too large", rv.list.Skipped)
		}
		if footer != "" {
			footer += " · "
		}
		footer += extra
	}
	return pane.Box(st, m.resolveTitle(), footer, body, r.W, r.H, true)
}

// partyLines describes one side of a match in w cells per line.
func (m *Model) partyLines(p MatchParty, w int) []string {
	st := m.st
	name := p.Name
	if name == "" {
		name = refLabel(p.Ref)
	}
	lines := []string{st.Badge(p.Ref.Kind).Render(strings.ToUpper(p.Ref.Kind.String())) + " " + st.Kind(p.Ref.Kind).Bold(true).Render(name)}
	field := func(label, v string) {
		if v != "" {
			lines = append(lines, pane.Fit(st.Muted.Render(label), 6)+st.Text.Render(v))
		}
	}
	field("ref", p.Ref.String())
	field("born", p.BirthDate)
	field("aka", strings.Join(p.Aliases, "; "))
	for _, id := range p.IDs {
		v := id.Value
		if id.Scheme == "pan" {
			v = graph.MaskPAN(v)
		}
		field(id.Scheme, v)
	}
	for i := range lines {
		lines[i] = pane.Fit(lines[i], w)
	}
	return lines
}

// sideBySide lays two columns of lines next to each other.
func (m *Model) sideBySide(l, r MatchParty, cw int) []string {
	colW := max((cw-3)/2, 1)
	left, right := m.partyLines(l, colW), m.partyLines(r, colW)
	sep := m.st.Muted.Render(" │ ")
	var out []string
	for i := range max(len(left), len(right)) {
		a, b := strings.Repeat(" ", colW), ""
		if i < len(left) {
			a = left[i]
		}
		if i < len(right) {
			b = right[i]
		}
		out = append(out, a+sep+b)
	}
	return out
}

func (m *Model) renderProposalDetail(r rect) []string {
	st, rv := m.st, &m.rv
	p, ok := rv.proposal()
	if !ok || rv.busy {
		return pane.Box(st, "Match", "", nil, r.W, r.H, false)
	}
	cw := pane.ContentWidth(r.W)
	kind := "name proposal"
	if p.Match.Deterministic {
		kind = "shared identifier"
	}
	body := []string{st.Muted.Render(fmt.Sprintf("%s · score %.2f · method %s", kind, p.Match.Score, p.Match.Method))}
	if f := sharedFacts(p.Left, p.Right, p.Match.Names); len(f) > 0 {
		body = append(body, st.Muted.Render("shared ")+st.Text.Render(strings.Join(f, " · ")))
	}
	body = append(body, m.sideBySide(p.Left, p.Right, cw)...)
	return pane.Box(st, "Match · left │ right", "a accept · x reject · enter/o open", clipLines(st.Muted.Render, body, pane.ContentHeight(r.H)), r.W, r.H, false)
}

func (m *Model) renderMergedList(r rect) []string {
	st, rv := m.st, &m.rv
	cw := pane.ContentWidth(r.W)
	var body []string
	footer := ""
	switch {
	case rv.mErr != nil:
		body = append(body, st.Err.Render(rv.mErr.Error()))
	case !rv.mLoaded:
		body = append(body, st.Muted.Render("loading…"))
	case len(rv.merged) == 0:
		body = append(body, st.Muted.Render("no same_as links yet · accept a proposal with a"))
	default:
		const rankW, scoreW, methodW, decW = 3, 4, 12, 8
		nameW := max((cw-rankW-scoreW-methodW-decW-5)/2, 0)
		widths := []int{-rankW, scoreW, methodW, decW, nameW, nameW}
		body = append(body, st.Muted.Render(fitCols([]string{"#", "scr", "method", "decision", "left", "right"}, widths)))
		body = append(body, rv.mnav.Lines(func(i int, selected bool) string {
			l := rv.merged[i]
			ls, rs := st.Kind(l.Left.Ref.Kind), st.Kind(l.Right.Ref.Kind)
			rank := fmt.Sprint(i + 1)
			if selected {
				ls, rs = ls.Inherit(st.Selected), rs.Inherit(st.Selected)
				rank = st.Accent.Render("▸") + rank
			}
			dec := l.Decision
			if dec == "" {
				dec = "imported"
			}
			if rv.pending[pairOf(l.Link.From, l.Link.To)] {
				dec = "reverting…"
			}
			return fitCols([]string{rank, st.OK.Render(fmt.Sprintf("%.2f", l.Score)), st.Muted.Render(l.Method),
				st.Muted.Render(dec), ls.Render(partyLabel(l.Left, "")), rs.Render(partyLabel(l.Right, ""))}, widths)
		})...)
		filterFirst(&rv.mnav, body)
		footer = rv.mnav.Footer()
	}
	return pane.Box(st, m.resolveTitle(), footer, body, r.W, r.H, true)
}

func (m *Model) renderMergedDetail(r rect) []string {
	st, rv := m.st, &m.rv
	l, ok := rv.mergedLink()
	if !ok {
		return pane.Box(st, "same_as link", "", nil, r.W, r.H, false)
	}
	cw := pane.ContentWidth(r.W)
	body := []string{st.Muted.Render("role ") + st.Text.Render(l.Link.Role) + st.Muted.Render(" · "+l.Link.Src.String())}
	if f := sharedFacts(l.Left, l.Right, [2]string{}); len(f) > 0 {
		body = append(body, st.Muted.Render("shared ")+st.Text.Render(strings.Join(f, " · ")))
	}
	body = append(body, m.sideBySide(l.Left, l.Right, cw)...)
	return pane.Box(st, "same_as link · from │ to", "u revert · enter/o open", clipLines(st.Muted.Render, body, pane.ContentHeight(r.H)), r.W, r.H, false)
}

// clipLines cuts body to h lines, the last saying how many were left out.
func clipLines(muted func(...string) string, body []string, h int) []string {
	if h <= 0 || len(body) <= h {
		return body
	}
	return append(body[:h-1:h-1], muted(fmt.Sprintf("… %d more", len(body)-h+1)))
}
