// Package chart draws pictures of time and amounts with the terminal's own
// cells: a brushable timeline of in and out bars over a date axis, an amount
// histogram with the reporting threshold marked, and sparklines. The data
// is a graph.Activity the owner loaded (store.DB.Activity through the
// backend); the chart never asks for rows itself.
package chart

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

// up are the eighth blocks that grow from the bottom of a cell; right the
// ones that grow from its left.
var (
	up    = []rune(" ▁▂▃▄▅▆▇█")
	right = []rune(" ▏▎▍▌▋▊▉█")
)

// Sparkline draws counts in width cells, one cell per period (counts are
// summed into cells when there are more periods than cells); a period
// without rows is a blank, any other one at least ▁.
func Sparkline(counts []int, width int) string {
	if width <= 0 {
		return ""
	}
	cells := make([]int, width)
	n := len(counts)
	for i, c := range counts {
		j := i
		if n > width {
			j = i * width / n
		}
		if j < width {
			cells[j] += c
		}
	}
	top := 0
	for _, c := range cells {
		top = max(top, c)
	}
	var b strings.Builder
	for _, c := range cells {
		switch {
		case c == 0 || top == 0:
			b.WriteRune(' ')
		default:
			b.WriteRune(up[max(1, (c*8+top-1)/top)])
		}
	}
	return b.String()
}

// BrushedMsg says the analyst chose a range of the timeline: the owner
// filters its list to [From, To).
type BrushedMsg struct{ From, To time.Time }

// ClearedMsg says the analyst cleared the brushed range.
type ClearedMsg struct{}

// KeyMap are the timeline's bindings.
type KeyMap struct {
	Left, Right, ExtendLeft, ExtendRight, Anchor, Apply, Clear, First, Last key.Binding
}

// DefaultKeys returns the timeline's bindings.
func DefaultKeys() KeyMap {
	return KeyMap{
		Left:        key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "previous period")),
		Right:       key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "next period")),
		ExtendLeft:  key.NewBinding(key.WithKeys("shift+left", "H"), key.WithHelp("shift+←/H", "extend range left")),
		ExtendRight: key.NewBinding(key.WithKeys("shift+right", "L"), key.WithHelp("shift+→/L", "extend range right")),
		Anchor:      key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "start/end a range")),
		Apply:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "filter the list to the range")),
		Clear:       key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "clear the range")),
		First:       key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "first period")),
		Last:        key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "last period")),
	}
}

// Bindings lists the keys for a help column.
func (k KeyMap) Bindings() []key.Binding {
	return []key.Binding{k.Left, k.Right, k.ExtendLeft, k.ExtendRight, k.Anchor, k.Apply, k.Clear, k.First, k.Last}
}

// Timeline is a brushable timeline: in bars above an axis, out bars below
// it, one column per bucket, a date axis, and a cursor that marks a period
// or, with an anchor, a range.
type Timeline struct {
	Keys KeyMap
	st   theme.Styles
	loc  *time.Location
	act  graph.Activity
	ok   bool
	cur  int
	anc  int // the range's other end, -1 when none
	w, h int
}

// NewTimeline returns an empty timeline.
func NewTimeline(st theme.Styles, loc *time.Location) Timeline {
	if loc == nil {
		loc = time.UTC
	}
	return Timeline{Keys: DefaultKeys(), st: st, loc: loc, anc: -1}
}

// SetStyles applies a theme.
func (t *Timeline) SetStyles(st theme.Styles) { t.st = st }

// SetSize sets the cells the timeline draws in.
func (t *Timeline) SetSize(w, h int) { t.w, t.h = max(w, 0), max(h, 0) }

// SetActivity hands the timeline its data; the cursor goes to the last
// period with rows and the range is cleared.
func (t *Timeline) SetActivity(a graph.Activity) {
	t.act, t.ok, t.anc = a, true, -1
	t.cur = max(0, len(a.Buckets)-1)
	for i := len(a.Buckets) - 1; i >= 0; i-- {
		if b := a.Buckets[i]; b.InCount+b.OutCount > 0 {
			t.cur = i
			break
		}
	}
}

// Activity is the data drawn.
func (t Timeline) Activity() graph.Activity { return t.act }

// Range is the selected buckets, lo…hi inclusive (the cursor's alone
// without an anchor).
func (t Timeline) Range() (lo, hi int) {
	lo, hi = t.cur, t.cur
	if t.anc >= 0 {
		lo, hi = min(t.cur, t.anc), max(t.cur, t.anc)
	}
	return lo, hi
}

// Ranging reports whether a range (not just the cursor) is selected.
func (t Timeline) Ranging() bool { return t.anc >= 0 && t.anc != t.cur }

// Update moves the cursor and the range; ok is false for keys it leaves to
// its owner.
func (t Timeline) Update(msg tea.Msg) (Timeline, tea.Cmd, bool) {
	k, isKey := msg.(tea.KeyPressMsg)
	if !isKey || !t.ok || len(t.act.Buckets) == 0 {
		return t, nil, false
	}
	last := len(t.act.Buckets) - 1
	move := func(d int, extend bool) {
		if extend && t.anc < 0 {
			t.anc = t.cur
		}
		if !extend {
			t.anc = -1
		}
		t.cur = min(max(t.cur+d, 0), last)
	}
	switch {
	case key.Matches(k, t.Keys.ExtendLeft):
		move(-1, true)
	case key.Matches(k, t.Keys.ExtendRight):
		move(1, true)
	case key.Matches(k, t.Keys.Left):
		if t.anc >= 0 {
			t.cur = max(t.cur-1, 0) // an anchored range follows the cursor
		} else {
			move(-1, false)
		}
	case key.Matches(k, t.Keys.Right):
		if t.anc >= 0 {
			t.cur = min(t.cur+1, last)
		} else {
			move(1, false)
		}
	case key.Matches(k, t.Keys.First):
		t.cur = 0
	case key.Matches(k, t.Keys.Last):
		t.cur = last
	case key.Matches(k, t.Keys.Anchor):
		if t.anc >= 0 {
			t.anc = -1
		} else {
			t.anc = t.cur
		}
	case key.Matches(k, t.Keys.Clear):
		t.anc = -1
		return t, func() tea.Msg { return ClearedMsg{} }, true
	case key.Matches(k, t.Keys.Apply):
		lo, hi := t.Range()
		from, to := t.act.BucketRange(lo, hi)
		return t, func() tea.Msg { return BrushedMsg{From: from, To: to} }, true
	default:
		return t, nil, false
	}
	return t, nil, true
}

// layoutCols is how many cells each bucket takes and how many of them
// its bar fills.
func (t Timeline) layoutCols() (cw, bar int) {
	n := max(1, len(t.act.Buckets))
	cw = max(1, t.w/n)
	bar = cw
	if cw >= 3 {
		bar = cw - 1
	}
	return cw, bar
}

// Lines draws the timeline in exactly h lines of w cells: a legend, the in
// bars, the axis (the range drawn on it), the out bars, the dates and a
// line about the selected period or range.
func (t Timeline) Lines() []string {
	st := t.st
	out := make([]string, 0, t.h)
	if !t.ok {
		return fill(append(out, st.Muted.Render("loading the activity…")), t.w, t.h)
	}
	a := t.act
	if a.InCount+a.OutCount == 0 {
		return fill(append(out, st.Muted.Render("no transactions in this range")), t.w, t.h)
	}
	var peak int64
	for _, b := range a.Buckets {
		peak = max(peak, b.In, b.Out)
	}
	period := PeriodName(a.Step)
	legend := st.In.Render("▆ in") + st.Muted.Render(" above the axis · ") + st.Out.Render("▀ out") +
		st.Muted.Render(" below · one bar per "+period+" · top "+graph.FormatShortMoney(peak))
	out = append(out, legend)
	rows := max(t.h-4, 2)
	inRows := (rows + 1) / 2
	outRows := rows - inRows
	cw, bar := t.layoutCols()
	lo, hi := t.Range()
	eighths := func(v int64, rows int) int {
		if v <= 0 || peak <= 0 {
			return 0
		}
		return max(1, int((float64(v)/float64(peak))*float64(rows*8)+0.5))
	}
	cell := func(i int, r rune) string {
		s := strings.Repeat(string(r), bar) + strings.Repeat(" ", cw-bar)
		return s
	}
	for r := range inRows {
		level := inRows - 1 - r
		var b strings.Builder
		for i, bk := range a.Buckets {
			f := min(max(eighths(bk.In, inRows)-level*8, 0), 8)
			sty := st.In
			if i >= lo && i <= hi {
				sty = sty.Bold(true)
			}
			b.WriteString(sty.Render(cell(i, up[f])))
		}
		out = append(out, b.String())
	}
	// The axis: ─ outside the range, ━ inside it, ┃ at the cursor.
	var ax strings.Builder
	for i := range a.Buckets {
		switch {
		case i == t.cur:
			ax.WriteString(st.Accent.Render("┃" + strings.Repeat("━", cw-1)))
		case i >= lo && i <= hi:
			ax.WriteString(st.Accent.Render(strings.Repeat("━", cw)))
		default:
			ax.WriteString(st.Border.Render(strings.Repeat("─", cw)))
		}
	}
	out = append(out, ax.String())
	for r := range outRows {
		var b strings.Builder
		for i, bk := range a.Buckets {
			f := eighths(bk.Out, outRows) - r*8
			ch := ' '
			switch {
			case f >= 8:
				ch = '█'
			case f >= 4:
				ch = '▀'
			case f >= 1:
				ch = '▔'
			}
			sty := st.Out
			if i >= lo && i <= hi {
				sty = sty.Bold(true)
			}
			b.WriteString(sty.Render(cell(i, ch)))
		}
		out = append(out, b.String())
	}
	out = append(out, st.Muted.Render(t.dateAxis(cw)))
	out = append(out, t.info())
	return fill(out, t.w, t.h)
}

// PeriodName names a bucket length: "day", "2 days", "week", "3 weeks".
func PeriodName(step time.Duration) string {
	const day, week = 24 * time.Hour, 7 * 24 * time.Hour
	switch {
	case step == day:
		return "day"
	case step == week:
		return "week"
	case step%week == 0:
		return fmt.Sprintf("%d weeks", step/week)
	}
	return fmt.Sprintf("%d days", step/day)
}

// dateAxis labels bucket starts, as many as fit with two cells between.
func (t Timeline) dateAxis(cw int) string {
	a := t.act
	layout := "Jan 02"
	if a.Step > 24*time.Hour && a.To.Sub(a.Start) > 300*24*time.Hour {
		layout = "Jan '06"
	}
	line := []rune(strings.Repeat(" ", max(t.w, 0)))
	next := 0
	for i := range a.Buckets {
		x := i * cw
		s := "╵" + a.Start.Add(time.Duration(i)*a.Step).In(t.loc).Format(layout)
		if x < next || x+len([]rune(s)) > len(line) {
			continue
		}
		copy(line[x:], []rune(s))
		next = x + len([]rune(s)) + 2
	}
	return string(line)
}

// info describes the selected period or range: its dates, in and out.
func (t Timeline) info() string {
	st := t.st
	a := t.act
	lo, hi := t.Range()
	var b graph.Bucket
	for i := lo; i <= hi && i < len(a.Buckets); i++ {
		x := a.Buckets[i]
		b.In, b.Out = graph.AddSat(b.In, x.In), graph.AddSat(b.Out, x.Out)
		b.InCount, b.OutCount = b.InCount+x.InCount, b.OutCount+x.OutCount
	}
	from, to := a.BucketRange(lo, hi)
	when := from.In(t.loc).Format("2006-01-02")
	if last := to.Add(-time.Nanosecond).In(t.loc).Format("2006-01-02"); last != when {
		when += "…" + last
	}
	mark := "▸ "
	if t.Ranging() {
		mark = "range "
	}
	return st.Accent.Render(mark+when) + st.Muted.Render(" · ") +
		st.In.Render(fmt.Sprintf("in %s ×%d", graph.FormatShortMoney(b.In), b.InCount)) + st.Muted.Render(" · ") +
		st.Out.Render(fmt.Sprintf("out %s ×%d", graph.FormatShortMoney(b.Out), b.OutCount))
}

// fill pads or cuts lines to exactly h lines of w cells.
func fill(lines []string, w, h int) []string {
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = pane.Fit(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", max(w, 0))
		}
	}
	return out
}

// shortAmount is a compact amount without a currency sign: "450k", "1.5M".
func shortAmount(minor int64) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(graph.FormatShortMoneyIn(minor, "")), "₸"))
}
