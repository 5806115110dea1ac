package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/tui/pane"
)

// FlagHit is one red flag raised by one rule on one entity.
type FlagHit struct {
	Rule     string
	Score    float64
	Reason   string   // in words: "3 top-ups of 495–499k ₸ without IIN in 3 days"
	Evidence []string // transaction ids, in time order
	From, To time.Time
}

// FlagRule is one rule's contribution to an entity's risk.
type FlagRule struct {
	Rule  string
	Score float64
	Via   graph.Ref // zero for the entity's own hits; else the holder or card it came through
}

// FlagRow is one ranked entity of the Flags screen.
type FlagRow struct {
	Ref         graph.Ref
	Name        string
	Score       float64
	Rules       []FlagRule // strongest first
	Explanation string
	Hits        []FlagHit // the entity's own hits
}

// FlagList is one answer of Analytics.Flags.
type FlagList struct {
	Rows      []FlagRow
	Matching  int // flagged entities matching the rule filter, of which Rows are the first
	Flagged   int // all flagged entities
	Threshold float64
}

// ruleNames are the short names of the rules (docs DOMAIN §4).
var ruleNames = map[string]string{
	"R1": "fan-in→cash-out", "R2": "pass-through", "R3": "structuring", "R4": "multi-bank",
	"R5": "shared id", "R6": "ATM run", "R7": "new-card burst", "R8": "dormant", "R9": "night",
	"R10": "P2P crypto", "R11": "unlic.", "R12": "fan-out", "R13": "layering", "R14": "cycle",
	"R15": "repeat/list", "R16": "identical burst", "R17": "cycle (any amount)", "R18": "fan-in",
	"R19": "fan-out (one-off)", "R20": "gather-scatter", "R21": "scatter-gather", "R22": "transit",
}

// flagRules is the filter cycle of the Flags screen: all, then R1 … R22.
var flagRules = append([]string{""}, graph.RuleIDs...)

// flagsLimit bounds the rows the Flags screen asks for.
const flagsLimit = 500

type flagsView struct {
	rule     int // index into flagRules
	list     FlagList
	loaded   bool
	err      error
	sel, off int
}

func (v *flagsView) move(d int) {
	if n := len(v.list.Rows); n > 0 {
		v.sel = min(max(v.sel+d, 0), n-1)
	}
}

func (v *flagsView) selected() (FlagRow, bool) {
	if v.sel < len(v.list.Rows) {
		return v.list.Rows[v.sel], true
	}
	return FlagRow{}, false
}

type flagsLoadedMsg struct {
	seq  int
	rule string
	list FlagList
	err  error
}

// entityFlags are the flags of the entity on screen.
type entityFlags struct {
	ref    graph.Ref
	row    FlagRow
	ok     bool
	loaded bool
}

// evidence reports whether transaction id is evidence of a hit.
func (e entityFlags) evidence(id string) bool {
	for _, h := range e.row.Hits {
		for _, t := range h.Evidence {
			if t == id {
				return true
			}
		}
	}
	return false
}

type entityFlagsLoadedMsg struct {
	ref graph.Ref
	row FlagRow
	ok  bool
	err error
}

func (m *Model) loadFlags() tea.Cmd {
	v := &m.ana.flags
	rule := flagRules[v.rule]
	ctx, seq := m.startJob("ranking flags")
	b := m.b
	return func() tea.Msg {
		l, err := b.Flags(ctx, rule, flagsLimit)
		if err != nil {
			err = fmt.Errorf("flags: %w", err)
		}
		return flagsLoadedMsg{seq: seq, rule: rule, list: l, err: err}
	}
}

func (m *Model) applyFlags(msg flagsLoadedMsg) tea.Cmd {
	if !m.endJob(msg.seq) {
		return nil
	}
	v := &m.ana.flags
	if msg.rule != flagRules[v.rule] {
		return nil
	}
	if m.failedJob(msg.err) {
		v.err = msg.err
		return nil
	}
	v.list, v.loaded, v.err = msg.list, true, nil
	v.sel, v.off = 0, 0
	for _, r := range msg.list.Rows {
		m.noteName(r.Ref, r.Name)
	}
	return nil
}

// loadEntityFlags asks for the flags of ref once the analysis is ready.
func (m *Model) loadEntityFlags(ref graph.Ref) tea.Cmd {
	m.ana.ent = entityFlags{ref: ref}
	if !m.ana.ready || ref.IsZero() {
		return nil
	}
	ctx, b := m.ctx, m.b
	return func() tea.Msg {
		row, ok, err := b.EntityFlags(ctx, ref)
		if err != nil {
			err = fmt.Errorf("flags of %s: %w", ref, err)
		}
		return entityFlagsLoadedMsg{ref: ref, row: row, ok: ok, err: err}
	}
}

func (m *Model) flagsKey(msg tea.KeyPressMsg) tea.Cmd {
	v, k := &m.ana.flags, m.ana.keys
	switch {
	case navKey(msg, k.navKeys, v.move):
	case key.Matches(msg, k.NextRule):
		v.rule = (v.rule + 1) % len(flagRules)
		return m.loadFlags()
	case key.Matches(msg, k.PrevRule):
		v.rule = (v.rule + len(flagRules) - 1) % len(flagRules)
		return m.loadFlags()
	}
	row, ok := v.selected()
	if !ok {
		return nil
	}
	switch {
	case key.Matches(msg, k.Open):
		return m.openEntityFromAna(row.Ref, false)
	case key.Matches(msg, k.Bookmark):
		return m.bookmarkRef(row.Ref)
	case key.Matches(msg, k.Trace):
		return m.openTrace(TraceQuery{Ref: row.Ref})
	case key.Matches(msg, k.Mark):
		return m.markPathEnd(row.Ref)
	}
	return nil
}

// ruleTag is "⚑ R3 structuring".
func ruleTag(rule string) string {
	if n := ruleNames[rule]; n != "" {
		return "⚑ " + rule + " " + n
	}
	return "⚑ " + rule
}

func (m *Model) renderFlags(b rect) []string {
	st, v := m.st, &m.ana.flags
	listR, detR := splitBody(b, b.H*3/5)
	rule := flagRules[v.rule]
	title := "Flags"
	if rule != "" {
		title += " · " + ruleTag(rule)
	} else {
		title += " · all rules"
	}
	if v.loaded {
		title += fmt.Sprintf(" · %s entities at risk ≥ %.2f", fmtInt(v.list.Flagged), v.list.Threshold)
	}
	cw, ch := pane.ContentWidth(listR.W), pane.ContentHeight(listR.H)
	var body []string
	footer := ""
	none := "no flagged entity"
	if rule != "" {
		none += " with a hit of " + rule
	}
	if line, ok := m.anaNotice(v.err, v.loaded, len(v.list.Rows) == 0, "loading…", none); ok {
		body = append(body, line)
	} else {
		const rankW, scoreW, kindW = 4, 4, 8
		nameW := min(max(cw/4, 16), 34)
		rulesW := min(max(cw/6, 10), 24)
		reasonW := max(cw-rankW-scoreW-kindW-nameW-rulesW-5, 0)
		widths := []int{-rankW, scoreW, kindW, nameW, rulesW, reasonW}
		body = append(body, st.Muted.Render(fitCols([]string{"#", "risk", "kind", "entity", "rules", "why"}, widths)))
		rows := ch - 1
		v.off = pane.Window(v.sel, v.off, len(v.list.Rows), rows)
		for i := v.off; i < len(v.list.Rows) && i < v.off+rows; i++ {
			r := v.list.Rows[i]
			name := r.Name
			if name == "" {
				name = refLabel(r.Ref)
			}
			nameSt := st.Kind(r.Ref.Kind)
			if i == v.sel {
				nameSt = nameSt.Inherit(st.Selected)
			}
			ids := make([]string, 0, len(r.Rules))
			for _, rs := range r.Rules {
				ids = append(ids, rs.Rule)
			}
			scoreSt := st.Warn
			if r.Score >= 0.8 {
				scoreSt = st.Err
			}
			rank := fmt.Sprint(i + 1)
			if i == v.sel {
				rank = st.Accent.Render("▸") + rank
			}
			body = append(body, fitCols([]string{rank, scoreSt.Render(fmt.Sprintf("%.2f", r.Score)),
				st.Badge(r.Ref.Kind).Render(r.Ref.Kind.String()), nameSt.Render(name),
				st.Muted.Render(strings.Join(ids, " ")), st.Text.Render(r.Explanation)}, widths))
		}
		footer = fmt.Sprintf("%d–%d of %s", v.off+1, min(v.off+rows, len(v.list.Rows)), fmtInt(v.list.Matching))
		if v.list.Matching > len(v.list.Rows) {
			footer += fmt.Sprintf(" · first %d shown", len(v.list.Rows))
		}
	}
	out := pane.Box(st, title, footer, body, listR.W, listR.H, true)
	return append(out, m.renderFlagDetail(detR)...)
}

// renderFlagDetail lists the hits of the selected entity with their reasons.
func (m *Model) renderFlagDetail(r rect) []string {
	st, v := m.st, &m.ana.flags
	row, ok := v.selected()
	if !ok || !v.loaded || m.ana.busy {
		return pane.Box(st, "Evidence", "", nil, r.W, r.H, false)
	}
	title := "Evidence · " + m.st.Badge(row.Ref.Kind).Render(strings.ToUpper(row.Ref.Kind.String())) + " " + st.Bold.Render(m.titleOf(row.Ref))
	var body []string
	for _, h := range row.Hits {
		when := ""
		if !h.From.IsZero() {
			when = " · " + h.From.In(m.loc).Format("2006-01-02")
			if d := h.To.In(m.loc).Format("2006-01-02"); d != h.From.In(m.loc).Format("2006-01-02") {
				when += "…" + d
			}
		}
		body = append(body, st.Warn.Render(ruleTag(h.Rule))+st.Muted.Render(fmt.Sprintf(" %.2f", h.Score))+" "+st.Text.Render(h.Reason)+
			st.Muted.Render(fmt.Sprintf(" · %d transactions%s", len(h.Evidence), when)))
	}
	for _, rs := range row.Rules {
		if rs.Via.IsZero() {
			continue
		}
		body = append(body, st.Muted.Render(fmt.Sprintf("%s %.2f via %s %s", ruleTag(rs.Rule), rs.Score, rs.Via.Kind, m.titleOf(rs.Via))))
	}
	if len(body) == 0 {
		body = append(body, st.Muted.Render(row.Explanation))
	}
	footer := "enter opens the entity with the evidence marked ⚑"
	if ch := pane.ContentHeight(r.H); len(body) > ch && ch > 0 {
		body = append(body[:ch-1], st.Muted.Render(fmt.Sprintf("… %d more", len(body)-ch+1)))
	}
	return pane.Box(st, title, footer, body, r.W, r.H, false)
}

// flagPropLines are the "flags" lines of the entity's properties pane.
func (m *Model) flagPropLines(kw int) []string {
	ef := m.ana.ent
	if !ef.loaded || !ef.ok || ef.ref != m.ent.ref {
		return nil
	}
	st := m.st
	tags := make([]string, 0, len(ef.row.Rules))
	for _, rs := range ef.row.Rules {
		tags = append(tags, ruleTag(rs.Rule))
	}
	return []string{
		pane.Fit(st.Muted.Render("flags"), kw) + "  " + st.Warn.Render(strings.Join(tags, " · ")),
		pane.Fit(st.Muted.Render("risk"), kw) + "  " + st.Warn.Render(fmt.Sprintf("%.2f", ef.row.Score)) + " " +
			st.Muted.Render(ansi.Truncate(ef.row.Explanation, 200, "…")),
	}
}

// evidenceMark is the one-cell marker before a transaction row: ⚑ when it
// is evidence of one of the entity's hits.
func (m *Model) evidenceMark(txID string) string {
	ef := m.ana.ent
	if ef.loaded && ef.ok && ef.ref == m.ent.ref && ef.evidence(txID) {
		return m.st.Warn.Render("⚑")
	}
	return " "
}
