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
	"casegraph/tui/list"
	"casegraph/tui/pane"
)

// FlagHit is one red flag raised by one rule on one entity.
type FlagHit struct {
	Rule     string
	Score    float64
	Reason   string   // in words: "3 top-ups of 495–499k ₸ without IIN in 3 days"
	Evidence []string // transaction ids, in time order
	// EvidenceTotal counts all the hit's transactions when Evidence names
	// only the first of them (a kept analysis keeps graph.MaxKeptEvidence).
	EvidenceTotal int
	From, To      time.Time
	On            graph.Ref // the held instrument the hit is on, in a holder's row; zero for its own
}

// Transactions is how many transactions the hit names.
func (h FlagHit) Transactions() int { return max(h.EvidenceTotal, len(h.Evidence)) }

// KeptInfo says a flag row comes from the analysis kept in the database
// rather than one run in this session: when it ran, and whether the data
// changed since.
type KeptInfo struct {
	At        time.Time
	Stale     bool
	Threshold float64
}

// FlagRule is one rule's contribution to an entity's risk.
type FlagRule struct {
	Rule  string
	Score float64
	Via   graph.Ref // zero for the entity's own hits; else the holder or card it came through
	// Context marks a weak signal that raises a typology's risk but never
	// flags alone (docs/DETECTION.md "How signals combine").
	Context bool
}

// ruleIDs lists the typology rules, then the context rules in brackets:
// "R3 R13 (R4 R5)".
func ruleIDs(rs []FlagRule) []string {
	var typ, ctx []string
	for _, r := range rs {
		if r.Context {
			ctx = append(ctx, r.Rule)
		} else {
			typ = append(typ, r.Rule)
		}
	}
	if len(ctx) > 0 {
		typ = append(typ, "("+strings.Join(ctx, " ")+")")
	}
	return typ
}

// FlagRow is one ranked entity of the Flags screen.
type FlagRow struct {
	Ref         graph.Ref
	Name        string
	Score       float64
	Rules       []FlagRule // strongest first
	Explanation string
	// Typologies counts the distinct typology rules behind Score: what
	// tells apart the top of the list, where risks all read 1.00.
	Typologies int
	Hits       []FlagHit // the entity's own hits
	// Verdict is the analyst's verdict on the entity, if any (it never
	// changes the score or the hits).
	Verdict     graph.VerdictKind
	VerdictNote string
	// Flagged says Score is at or above the flag threshold.
	Flagged bool
	// Kept is set when the row comes from the analysis kept in the
	// database (no analysis has run in this session).
	Kept *KeptInfo
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
	"R23": "collector",
}

// flagRules is the filter cycle of the Flags screen: all, then R1 … R23.
var flagRules = append([]string{""}, graph.RuleIDs...)

// flagsLimit is the rows the Flags screen asks for first; more load (the
// ranking asked again with twice the limit, up to flagsMaxLimit) as the
// cursor nears the last loaded row.
const flagsLimit = 500

// flagsMaxLimit bounds the rows one ranking loads as it is scrolled; r
// narrows it to one rule.
const flagsMaxLimit = 20000

type flagsView struct {
	rule   int // index into flagRules
	list   FlagList
	loaded bool
	err    error
	nav    list.Model // over list.Rows
	// gen counts the loads of the ranking: a load of more rows is for the
	// ranking of its gen. limit is the limit the rows were loaded with;
	// more is set while a load of more rows is on its way; done once one
	// failed or gave no new row.
	gen        int
	limit      int
	more, done bool
	// sparks are the rows' activity sparklines (sparks.go): a nil series
	// is on its way.
	sparks map[graph.Ref][]int
}

func (v *flagsView) selected() (FlagRow, bool) {
	if i, ok := v.nav.Index(); ok && i < len(v.list.Rows) {
		return v.list.Rows[i], true
	}
	return FlagRow{}, false
}

// rowText is what the filter matches in a ranked row: the name, the
// reference, the rules by number and name, the verdict and the reason.
func (v *flagsView) rowText(i int) string {
	r := v.list.Rows[i]
	var rules []string
	for _, rs := range r.Rules {
		rules = append(rules, rs.Rule, ruleNames[rs.Rule])
	}
	return r.Name + " " + r.Ref.String() + " " + refLabel(r.Ref) + " " + strings.Join(rules, " ") + " " + string(r.Verdict) + " " + r.Explanation
}

type flagsLoadedMsg struct {
	seq  int
	rule string
	list FlagList
	err  error
}

// flagsMoreMsg is a load of more rows of ranking gen: the ranking again,
// with a larger limit.
type flagsMoreMsg struct {
	gen   int
	limit int
	list  FlagList
	err   error
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
	v.gen++
	v.more = false
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
	v.limit, v.more, v.done = flagsLimit, false, false
	v.nav.Reset(len(msg.list.Rows), msg.list.Matching, v.rowText)
	for _, r := range msg.list.Rows {
		m.noteName(r.Ref, r.Name)
	}
	return tea.Batch(m.flagSparks(), m.moreFlags())
}

// canLoadMoreFlags reports whether the ranking has rows beyond the loaded
// ones that a larger limit would load.
func (v *flagsView) canLoadMore() bool {
	return v.loaded && v.err == nil && !v.done && len(v.list.Rows) < v.list.Matching && v.limit < flagsMaxLimit
}

// moreFlags asks for more rows of the ranking when the cursor nears the
// last loaded one, in the background: the list stays as it is meanwhile.
func (m *Model) moreFlags() tea.Cmd {
	v := &m.ana.flags
	if v.more || m.ana.busy || !v.canLoadMore() || !v.nav.NeedMore() {
		return nil
	}
	v.more = true
	ctx, b, gen, rule, limit := m.ctx, m.b, v.gen, flagRules[v.rule], min(2*v.limit, flagsMaxLimit)
	return func() tea.Msg {
		l, err := b.Flags(ctx, rule, limit)
		if err != nil {
			err = fmt.Errorf("more flags: %w", err)
		}
		return flagsMoreMsg{gen: gen, limit: limit, list: l, err: err}
	}
}

// applyMoreFlags adds the rows of a larger ranking that are not listed yet
// after the listed ones, which keep their places (and the verdicts given
// since they loaded), as the cursor its row.
func (m *Model) applyMoreFlags(msg flagsMoreMsg) tea.Cmd {
	v := &m.ana.flags
	if msg.gen != v.gen || !v.more {
		return nil // a newer ranking replaced the one it was for
	}
	v.more = false
	if msg.err != nil {
		v.done = true
		m.setStatus(msg.err.Error(), true)
		return nil
	}
	listed := make(map[graph.Ref]bool, len(v.list.Rows))
	for _, r := range v.list.Rows {
		listed[r.Ref] = true
	}
	rows := v.list.Rows[:len(v.list.Rows):len(v.list.Rows)]
	for _, r := range msg.list.Rows {
		if !listed[r.Ref] {
			listed[r.Ref] = true
			rows = append(rows, r)
			m.noteName(r.Ref, r.Name)
		}
	}
	if len(rows) == len(v.list.Rows) {
		v.done = true
	}
	v.list.Rows, v.limit = rows, msg.limit
	v.list.Matching = max(msg.list.Matching, len(rows))
	v.list.Flagged = max(msg.list.Flagged, v.list.Matching)
	v.nav.SetRows(len(rows), v.rowText)
	v.nav.SetTotal(v.list.Matching)
	return tea.Batch(m.flagSparks(), m.moreFlags())
}

// loadEntityFlags asks for the flags of ref: the analysis of this session
// once it is ready, before that the one kept in the database, if any.
func (m *Model) loadEntityFlags(ref graph.Ref) tea.Cmd {
	m.ana.ent = entityFlags{ref: ref}
	if ref.IsZero() {
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

// flagsUpdate takes the Flags screen's input; ok is false for keys it
// leaves to the screen's global keys.
func (m *Model) flagsUpdate(msg tea.Msg) (tea.Cmd, bool) {
	v, k := &m.ana.flags, m.ana.keys
	if cmd, ok := v.nav.Update(msg); ok {
		return tea.Batch(cmd, m.flagSparks(), m.moreFlags()), true
	}
	kp, isKey := msg.(tea.KeyPressMsg)
	if !isKey {
		return nil, false
	}
	switch {
	case key.Matches(kp, k.List.Export):
		what := "flags · all rules"
		if r := flagRules[v.rule]; r != "" {
			what = "flags · " + r
		}
		return m.bookmarkListed(what, &v.nav, func(i int) []graph.Ref { return []graph.Ref{v.list.Rows[i].Ref} }), true
	case key.Matches(kp, k.NextRule):
		v.rule = (v.rule + 1) % len(flagRules)
		return m.loadFlags(), true
	case key.Matches(kp, k.PrevRule):
		v.rule = (v.rule + len(flagRules) - 1) % len(flagRules)
		return m.loadFlags(), true
	}
	row, ok := v.selected()
	if !ok {
		return nil, false
	}
	switch {
	case key.Matches(kp, k.Open):
		return m.openEntityFromAna(row.Ref, false), true
	case key.Matches(kp, k.Bookmark):
		return m.bookmarkRef(row.Ref), true
	case key.Matches(kp, k.Trace):
		return m.openTrace(TraceQuery{Ref: row.Ref}), true
	case key.Matches(kp, k.Mark):
		return m.markPathEnd(row.Ref), true
	}
	return m.verdictKey(kp, row.Ref)
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
		title += fmt.Sprintf(" · %s subjects at risk ≥ %.2f", fmtInt(v.list.Flagged), v.list.Threshold)
	}
	cw := pane.ContentWidth(listR.W)
	var body []string
	footer := ""
	none := "no flagged entity"
	if rule != "" {
		none += " with a hit of " + rule
	}
	if line, ok := m.anaNotice(v.err, v.loaded, len(v.list.Rows) == 0, "loading…", none); ok {
		body = append(body, line)
	} else {
		const scoreW, typW, kindW = 4, 3, 8
		// The rank and the cursor's ▸ before it: "▸1168" past row 999.
		rankW := max(4, len(fmt.Sprint(len(v.list.Rows)))+1)
		nameW := min(max(cw/4, 16), 34)
		// The rules column is as wide as the rule ids it lists (up to a
		// fifth of the line, whole ids and "+N" for the rest); why, free
		// text, gets the rest.
		rulesW := len("rules")
		for _, r := range v.list.Rows {
			rulesW = max(rulesW, ansi.StringWidth(strings.Join(ruleIDs(r.Rules), " ")))
		}
		rulesW = min(rulesW, max(cw/5, 10))
		// The activity column (a sparkline per row) when the reason keeps
		// room to be read.
		actW := 0
		if cw-rankW-scoreW-typW-kindW-nameW-rulesW-6-(sparkW+1) >= 20 {
			actW = sparkW
		}
		reasonW := max(cw-rankW-scoreW-typW-kindW-nameW-rulesW-6-actW-min(actW, 1), 0)
		widths := []int{-rankW, scoreW, -typW, kindW, nameW, rulesW, reasonW}
		heads := []string{"#", "risk", "typ", "kind", "entity", "rules", "why"}
		if actW > 0 {
			widths = slices.Insert(widths, 5, actW)
			heads = slices.Insert(heads, 5, "activity")
		}
		body = append(body, st.Muted.Render(fitCols(heads, widths)))
		body = append(body, v.nav.Lines(func(i int, selected bool) string {
			r := v.list.Rows[i]
			name := r.Name
			if name == "" {
				name = refLabel(r.Ref)
			}
			mark := m.verdictMark(r.Verdict)
			name = fitTitle(name, r.Name == "", max(nameW-ansi.StringWidth(mark), 1))
			nameSt := st.Kind(r.Ref.Kind)
			if selected {
				nameSt = nameSt.Inherit(st.Selected)
			}
			ids := ruleIDs(r.Rules)
			scoreSt := st.Warn
			if r.Score >= 0.8 {
				scoreSt = st.Err
			}
			rank := fmt.Sprint(i + 1)
			if selected {
				rank = st.Accent.Render("▸") + rank
			}
			typ := ""
			if r.Typologies > 0 {
				typ = fmt.Sprint(r.Typologies)
			}
			cells := []string{rank, scoreSt.Render(fmt.Sprintf("%.2f", r.Score)), st.Muted.Render(typ),
				st.Badge(r.Ref.Kind).Render(r.Ref.Kind.String()), mark + nameSt.Render(name),
				st.Muted.Render(fitIDs(ids, rulesW)), st.Text.Render(r.Explanation)}
			if actW > 0 {
				cells = slices.Insert(cells, 5, m.sparkline(v.sparks[r.Ref]))
			}
			return fitCols(cells, widths)
		})...)
		filterFirst(&v.nav, body)
		footer = v.nav.Footer()
		if n := len(v.list.Rows); v.list.Matching > n && v.nav.Query() == "" {
			footer += fmt.Sprintf(" · %s loaded", fmtInt(n))
			switch {
			case v.more:
				footer += " · loading more…"
			case v.canLoadMore():
				footer += " · more load as you scroll"
			case rule == "":
				footer += " · r narrows to one rule"
			}
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
	// Each hit says why in full: on a narrow window its reason wraps under
	// itself (a hanging indent after the rule and score) as long as every
	// hit still fits; otherwise each keeps one line, cut at the edge.
	var body, wrapped []string
	cw := pane.ContentWidth(r.W)
	for _, h := range row.Hits {
		when := ""
		if !h.From.IsZero() {
			when = " · " + h.From.In(m.loc).Format("2006-01-02")
			if d := h.To.In(m.loc).Format("2006-01-02"); d != h.From.In(m.loc).Format("2006-01-02") {
				when += "…" + d
			}
		}
		head := st.Warn.Render(ruleTag(h.Rule)) + st.Muted.Render(fmt.Sprintf(" %.2f", h.Score)) + " "
		tail := fmt.Sprintf(" · %d transactions%s", len(h.Evidence), when)
		body = append(body, head+st.Text.Render(h.Reason)+st.Muted.Render(tail))
		hw := ansi.StringWidth(head)
		if cw-hw < 16 {
			wrapped = append(wrapped, body[len(body)-1])
			continue
		}
		for i, l := range strings.Split(ansi.Wrap(h.Reason+tail, cw-hw, " "), "\n") {
			l = strings.TrimRight(l, " ")
			if i == 0 {
				wrapped = append(wrapped, head+st.Text.Render(l))
			} else {
				wrapped = append(wrapped, strings.Repeat(" ", hw)+st.Text.Render(l))
			}
		}
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
	room := pane.ContentHeight(r.H)
	if row.Verdict != "" {
		room--
	}
	if extra := len(wrapped) - len(row.Hits); extra > 0 && len(body)+extra <= room {
		body = append(wrapped, body[len(row.Hits):]...)
	}
	if row.Verdict != "" {
		body = append([]string{st.Muted.Render("verdict ") + m.verdictText(row.Verdict, row.VerdictNote)}, body...)
	}
	footer := "enter opens the entity with the evidence marked ⚑"
	if ch := pane.ContentHeight(r.H); len(body) > ch && ch > 0 {
		body = append(body[:ch-1], st.Muted.Render(fmt.Sprintf("… %d more", len(body)-ch+1)))
	}
	return pane.Box(st, title, footer, body, r.W, r.H, false)
}

// flagPropLines are the risk lines of the entity's properties pane: the
// risk, the rules, where the risk comes from (the analysis of this session,
// or the one kept in the database and whether the data changed since) and
// as many hits as room allows, with the key that lists them all.
func (m *Model) flagPropLines(kw, room int) []string {
	ef := m.ana.ent
	if !ef.loaded || !ef.ok || ef.ref != m.ent.ref {
		return nil
	}
	st, row := m.st, ef.row
	label := func(s string) string { return pane.Fit(st.Muted.Render(s), kw) + "  " }
	scoreSt := st.Warn
	if row.Score >= 0.8 {
		scoreSt = st.Err
	}
	risk := scoreSt.Render(fmt.Sprintf("%.2f", row.Score))
	if row.Flagged {
		risk += " " + st.Warn.Render("⚑ flagged")
	}
	lines := []string{label("risk") + risk + " " + st.Muted.Render(ansi.Truncate(row.Explanation, 200, "…"))}
	// The key comes first so that a narrow pane still shows it; where the
	// risk comes from comes before the rules when rows are few.
	switch k := row.Kept; {
	case k != nil && k.Stale:
		lines = append(lines, label("stale")+st.Warn.Render("press F to refresh · risk from analysis of "+
			k.At.In(m.loc).Format("2006-01-02 15:04")+", data changed since"))
	case k != nil:
		lines = append(lines, label("as of")+st.Muted.Render("F lists all · analysis of "+k.At.In(m.loc).Format("2006-01-02 15:04")))
	}
	if len(row.Rules) > 0 {
		tags := make([]string, 0, len(row.Rules))
		for _, rs := range row.Rules {
			tags = append(tags, ruleTag(rs.Rule))
		}
		lines = append(lines, label("flags")+st.Warn.Render(strings.Join(tags, " · ")))
	}
	shown := 0
	for _, h := range row.Hits {
		if len(lines) >= max(room, 2) {
			break
		}
		on := ""
		if !h.On.IsZero() {
			on = " · on " + m.titleOf(h.On)
		}
		lines = append(lines, label("hit")+st.Warn.Render(ruleTag(h.Rule))+st.Muted.Render(fmt.Sprintf(" %.2f ", h.Score))+
			st.Text.Render(h.Reason)+st.Muted.Render(fmt.Sprintf(" · %d tx%s", h.Transactions(), on)))
		shown++
	}
	if more := len(row.Hits) - shown; more > 0 || row.Kept == nil {
		hint := "F lists every flag"
		if more > 0 {
			hint = fmt.Sprintf("%d more hits — F lists them", more)
		}
		if row.Kept == nil || more > 0 {
			lines = append(lines, label("")+st.Muted.Render(hint))
		}
	}
	return lines
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

// fitIDs lists ids in at most w cells: whole ids, then "+N" for those
// that do not fit, never an id cut in two.
func fitIDs(ids []string, w int) string {
	s := strings.Join(ids, " ")
	if ansi.StringWidth(s) <= w {
		return s
	}
	for n := len(ids) - 1; n >= 0; n-- {
		s = strings.Join(ids[:n], " ")
		more := fmt.Sprintf("+%d", len(ids)-n)
		if n > 0 {
			more = " " + more
		}
		if ansi.StringWidth(s+more) <= w {
			return s + more
		}
	}
	return ""
}
