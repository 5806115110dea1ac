package chart

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

// Histogram draws the amounts of a by their ratio to the reporting
// threshold, one row per bucket from small to large, in w×h cells. The row
// just under the threshold (graph.HistCliff) is marked ◀ and drawn in the
// warning style, a rule marks the threshold itself, and the first line says
// how many amounts fall in [90 %, 100 %) of it. threshold (minor units of
// currency) only labels the rows; every amount was read against its own
// currency's threshold. Rows that do not fit are folded into "… n smaller"
// and "… n larger" lines; the cliff and its neighbours always show.
func Histogram(st theme.Styles, h graph.AmountHist, threshold int64, currency string, w, hgt int) []string {
	return drawHist(st, h, threshold, currency, w, hgt, nil)
}

// BandMsg says the analyst chose a band of the histogram's buckets, First…
// Last inclusive: the owner lists the transactions of that band
// (graph.HistBand).
type BandMsg struct{ First, Last int }

// BandClearedMsg says the analyst cleared the band.
type BandClearedMsg struct{}

// HistKeyMap are the selectable histogram's bindings: its rows run from
// small amounts at the top to large ones at the bottom.
type HistKeyMap struct {
	Up, Down, ExtendUp, ExtendDown, Anchor, Apply, Clear, First, Last key.Binding
}

// DefaultHistKeys returns the histogram's bindings.
func DefaultHistKeys() HistKeyMap {
	return HistKeyMap{
		Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "smaller amounts")),
		Down:       key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "larger amounts")),
		ExtendUp:   key.NewBinding(key.WithKeys("shift+up", "K"), key.WithHelp("shift+↑/K", "extend band up")),
		ExtendDown: key.NewBinding(key.WithKeys("shift+down", "J"), key.WithHelp("shift+↓/J", "extend band down")),
		Anchor:     key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "start/end a band")),
		Apply:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "list the band's transactions")),
		Clear:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "clear the band")),
		First:      key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "smallest amounts")),
		Last:       key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "largest amounts")),
	}
}

// Bindings lists the keys for a help column.
func (k HistKeyMap) Bindings() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.ExtendUp, k.ExtendDown, k.Anchor, k.Apply, k.Clear, k.First, k.Last}
}

// Hist is a histogram whose buckets can be selected as the timeline's
// periods are: a cursor on one bucket or, with an anchor, a band of them.
// It starts on the cliff, the band just under the threshold.
type Hist struct {
	Keys      HistKeyMap
	st        theme.Styles
	hist      graph.AmountHist
	threshold int64
	currency  string
	ok        bool
	cur, anc  int // anc: the band's other end, -1 when none
	focused   bool
	w, h      int
}

// NewHist returns an empty selectable histogram.
func NewHist(st theme.Styles) Hist {
	return Hist{Keys: DefaultHistKeys(), st: st, cur: graph.HistCliff, anc: -1}
}

// SetStyles applies a theme.
func (t *Hist) SetStyles(st theme.Styles) { t.st = st }

// SetSize sets the cells the histogram draws in.
func (t *Hist) SetSize(w, h int) { t.w, t.h = max(w, 0), max(h, 0) }

// SetFocused says whether the histogram has the keys: the cursor shows
// only then.
func (t *Hist) SetFocused(f bool) { t.focused = f }

// Focused reports whether the histogram has the keys.
func (t Hist) Focused() bool { return t.focused }

// SetData hands the histogram its counts and the threshold (in minor units
// of currency) its rows are labelled with; the selection is kept.
func (t *Hist) SetData(h graph.AmountHist, threshold int64, currency string) {
	t.hist, t.threshold, t.currency, t.ok = h, threshold, currency, true
}

// Band is the selected buckets, first…last inclusive (the cursor's alone
// without an anchor).
func (t Hist) Band() (first, last int) {
	first, last = t.cur, t.cur
	if t.anc >= 0 {
		first, last = min(t.cur, t.anc), max(t.cur, t.anc)
	}
	return first, last
}

// Amounts is the selected band in minor units, [lo, hi) with zero for an
// open side (graph.HistBand), and the currency the rows are labelled in.
func (t Hist) Amounts() (lo, hi int64, currency string) {
	first, last := t.Band()
	lo, hi = graph.HistBand(first, last, t.threshold)
	return lo, hi, t.currency
}

// Count is the number of amounts in the selected band.
func (t Hist) Count() int {
	first, last := t.Band()
	n := 0
	for i := first; i <= last && i < len(t.hist.Counts); i++ {
		n += t.hist.Counts[i]
	}
	return n
}

// Update moves the cursor and the band; ok is false for keys it leaves to
// its owner.
func (t Hist) Update(msg tea.Msg) (Hist, tea.Cmd, bool) {
	k, isKey := msg.(tea.KeyPressMsg)
	if !isKey || !t.ok {
		return t, nil, false
	}
	last := len(graph.HistEdges) - 1
	// As on the timeline, a band started with space follows the cursor
	// when it moves without shift.
	move := func(d int, extend bool) {
		if extend && t.anc < 0 {
			t.anc = t.cur
		}
		t.cur = min(max(t.cur+d, 0), last)
	}
	switch {
	case key.Matches(k, t.Keys.ExtendUp):
		move(-1, true)
	case key.Matches(k, t.Keys.ExtendDown):
		move(1, true)
	case key.Matches(k, t.Keys.Up):
		move(-1, false)
	case key.Matches(k, t.Keys.Down):
		move(1, false)
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
		return t, func() tea.Msg { return BandClearedMsg{} }, true
	case key.Matches(k, t.Keys.Apply):
		first, last := t.Band()
		return t, func() tea.Msg { return BandMsg{First: first, Last: last} }, true
	default:
		return t, nil, false
	}
	return t, nil, true
}

// Lines draws the histogram in exactly h lines of w cells, with a gutter
// that marks the cursor (▸, when focused) and the band (┃).
func (t Hist) Lines() []string {
	if !t.ok {
		return fill([]string{t.st.Muted.Render("loading the activity…")}, t.w, t.h)
	}
	first, last := t.Band()
	return drawHist(t.st, t.hist, t.threshold, t.currency, t.w, t.h, &histSel{cur: t.cur, first: first, last: last, focused: t.focused})
}

// histSel is what a selectable histogram marks.
type histSel struct {
	cur, first, last int
	focused          bool
}

func drawHist(st theme.Styles, h graph.AmountHist, threshold int64, currency string, w, hgt int, sel *histSel) []string {
	out := make([]string, 0, hgt)
	total := h.Total()
	if total == 0 {
		return fill(append(out, st.Muted.Render("no amounts to count")), w, hgt)
	}
	near := h.Near()
	head := fmt.Sprintf("%d of %d amounts in [90 %%, 100 %%) of the %s threshold", near, total, graph.FormatShortMoneyIn(threshold, currency))
	if h.NoThreshold > 0 {
		head += fmt.Sprintf(" · %d in currencies without one", h.NoThreshold)
	}
	headSt := st.Muted
	if near > 0 {
		headSt = st.Warn
	}
	out = append(out, headSt.Render(head))
	label := func(i int) string {
		lo := threshold * graph.HistEdges[i] / 1000
		if i == len(graph.HistEdges)-1 {
			return "≥" + shortAmount(lo)
		}
		return shortAmount(lo) + "–" + shortAmount(threshold*graph.HistEdges[i+1]/1000)
	}
	labelW := 0
	for i := range graph.HistEdges {
		labelW = max(labelW, ansi.StringWidth(label(i)))
	}
	peak := 0
	for _, c := range h.Counts {
		peak = max(peak, c)
	}
	const mark = " ◀ just under"
	gutter := 0
	if sel != nil {
		gutter = 2
	}
	countW := len(fmt.Sprint(peak))
	barW := max(w-gutter-labelW-countW-ansi.StringWidth(mark)-3, 4)
	row := func(i int) string {
		c := h.Counts[i]
		cells := 0
		if peak > 0 {
			cells = c * barW * 8 / peak
			if c > 0 {
				cells = max(cells, 1)
			}
		}
		bar := strings.Repeat("█", cells/8)
		if r := cells % 8; r > 0 {
			bar += string(right[r])
		}
		bar = pane.Fit(bar, barW)
		lbl := pane.Right(label(i), labelW)
		cnt := pane.Right(fmt.Sprint(c), countW)
		g := ""
		inBand := false
		if sel != nil {
			inBand = i >= sel.first && i <= sel.last
			switch {
			case sel.focused && i == sel.cur:
				g = st.Accent.Render("▸") + " "
			case inBand && sel.focused:
				g = st.Accent.Render("┃") + " "
			default:
				g = "  "
			}
		}
		lblSt := st.Muted
		if inBand && sel.focused {
			lblSt = st.Accent.Bold(true)
		}
		if i == graph.HistCliff {
			if inBand && sel.focused {
				return g + lblSt.Render(lbl) + st.Warn.Render(" "+bar+" "+cnt) + st.Warn.Bold(true).Render(mark)
			}
			return g + st.Warn.Render(lbl+" "+bar+" "+cnt) + st.Warn.Bold(true).Render(mark)
		}
		return g + lblSt.Render(lbl) + " " + st.Money.Render(bar) + " " + st.Muted.Render(cnt)
	}
	ruleText := "┄┄ reporting threshold " + graph.FormatMoney(threshold, currency) + " "
	rule := st.Warn.Render(ruleText + strings.Repeat("┄", max(w-ansi.StringWidth(ruleText), 0)))
	// Choose the rows that fit: the whole scale, else a window around the
	// cliff (or around the cursor, when it is outside that window) with the
	// rest folded into a line on each side (no fold lines when even they do
	// not fit).
	n := len(graph.HistEdges)
	avail := hgt - 1 // under the heading; the threshold rule takes one
	lo, hi := 0, n-1
	folds := true
	if avail < n+1 {
		rows := avail - 1 - 2
		if rows < 1 {
			rows, folds = max(avail-1, 1), false
		}
		lo = min(max(0, graph.HistCliff-(rows-1)/2), n-rows)
		if sel != nil {
			if sel.cur < lo {
				lo = sel.cur
			} else if sel.cur > lo+rows-1 {
				lo = sel.cur - rows + 1
			}
		}
		hi = lo + rows - 1
	}
	if lo > 0 && folds {
		s := 0
		for _, c := range h.Counts[:lo] {
			s += c
		}
		out = append(out, st.Muted.Render(fmt.Sprintf("… %d smaller (under %s)", s, shortAmount(threshold*graph.HistEdges[lo]/1000))))
	}
	for i := lo; i <= hi; i++ {
		out = append(out, row(i))
		if i == graph.HistCliff {
			out = append(out, rule)
		}
	}
	if hi < n-1 && folds {
		s := 0
		for _, c := range h.Counts[hi+1:] {
			s += c
		}
		out = append(out, st.Muted.Render(fmt.Sprintf("… %d larger (from %s)", s, shortAmount(threshold*graph.HistEdges[hi+1]/1000))))
	}
	return fill(out, w, hgt)
}
