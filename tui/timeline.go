package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui/chart"
	"casegraph/tui/pane"
)

// The timeline screen: an entity's, a suspected group's or a case's
// activity over time (tui/chart.Timeline) beside the histogram of its
// amounts against the reporting threshold (chart.Hist). Its data is one
// bounded backend query (Backend.Activity), asked again when the width
// changes the buckets. tab moves the keys between the two charts. On an
// entity, a range chosen on the timeline (enter) filters the entity's
// transaction list to it, and a band of amounts chosen on the histogram
// (enter) to that band; on a group or a case, either lists the entities
// active in it (timeline_range.go).

// timelineKeys are the timeline screen's own keys besides the charts'.
type timelineKeys struct {
	Open, Close, Switch key.Binding
}

func defaultTimelineKeys() timelineKeys {
	return timelineKeys{
		Open:   key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "timeline & amounts")),
		Close:  key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "close timeline")),
		Switch: key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "timeline / amounts")),
	}
}

// timelineSource is what a timeline shows.
type timelineSource struct {
	title string      // "card 4400 43•• •••• 7894", "group 3 · 12 members"
	refs  []graph.Ref // the entities whose transactions count
	// entity is set when the timeline is of the entity screen's entity: a
	// brushed range then filters its transaction list.
	entity bool
}

type activityLoadedMsg struct {
	seq int
	act graph.Activity
	err error
}

// loadActivity asks the backend for q's activity.
func loadActivity(ctx context.Context, b Backend, seq int, q graph.ActivityQuery) tea.Cmd {
	return func() tea.Msg {
		a, err := b.Activity(ctx, q)
		if err != nil {
			err = fmt.Errorf("load activity: %w", err)
		}
		return activityLoadedMsg{seq: seq, act: a, err: err}
	}
}

type timelineScreen struct {
	m    *Model
	src  timelineSource
	keys timelineKeys
	tl   chart.Timeline
	hist chart.Hist // has the keys when focused (tab)
	act  graph.Activity
	done bool
	err  error
	seq  int // the request whose answer the screen waits for
	cols int // the buckets asked for: the chart's width
	w, h int
}

// openTimeline pushes a timeline of src and asks for its data.
func (m *Model) openTimeline(src timelineSource) tea.Cmd {
	s := &timelineScreen{m: m, src: src, keys: defaultTimelineKeys(), tl: chart.NewTimeline(m.st, m.loc), hist: chart.NewHist(m.st)}
	if !src.entity {
		s.tl.Keys.Apply.SetHelp("enter", "who was active in the range")
		s.hist.Keys.Apply.SetHelp("enter", "who was active in the band")
	}
	m.push(s)
	return s.request()
}

func (s *timelineScreen) isLayer()      {}
func (s *timelineScreen) Title() string { return "timeline" }

// rects splits the body: side by side when wide, else the timeline above
// the histogram.
func (s *timelineScreen) rects() (tl, hist rect) {
	w, h := s.w, s.h
	if w >= 150 {
		hw := 64
		return rect{0, 0, w - hw, h}, rect{w - hw, 0, hw, h}
	}
	th := min(max(8, h*11/20), max(h-5, 8))
	return rect{0, 0, w, th}, rect{0, th, w, max(h-th, 0)}
}

func (s *timelineScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	tl, hist := s.rects()
	s.tl.SetSize(pane.ContentWidth(tl.W), pane.ContentHeight(tl.H))
	s.hist.SetSize(pane.ContentWidth(hist.W), pane.ContentHeight(hist.H))
}

// request asks for the activity when the chart's width calls for other
// buckets than those asked for last.
func (s *timelineScreen) request() tea.Cmd {
	tl, _ := s.rects()
	cols := max(pane.ContentWidth(tl.W), 8)
	if cols == s.cols && (s.done || s.seq > 0) {
		return nil
	}
	s.cols = cols
	s.seq++
	q := graph.ActivityQuery{Refs: s.src.refs, Cols: cols, Loc: s.m.loc}
	if !s.src.entity {
		// Who was active in a brushed range, who had the amounts of a band.
		q.Series, q.HistSeries = graph.SeriesByRef, true
	}
	return loadActivity(s.m.ctx, s.m.b, s.seq, q)
}

func (s *timelineScreen) apply(msg activityLoadedMsg) {
	if msg.seq != s.seq {
		return
	}
	s.done, s.err = true, msg.err
	if msg.err != nil {
		s.m.setStatus(msg.err.Error(), true)
		return
	}
	s.act = msg.act
	s.tl.SetActivity(msg.act)
	th, cur := histScale(msg.act)
	s.hist.SetData(msg.act.Hist, th, cur)
}

// histScale is the threshold and currency the histogram's rows are
// labelled in, and a band chosen on it is read in: the currency most rows
// are in, when it has a threshold, else tenge.
func histScale(a graph.Activity) (threshold int64, currency string) {
	if cur := a.MainCurrency(); a.Thresholds[cur] > 0 {
		return a.Thresholds[cur], cur
	}
	if th := a.Thresholds["KZT"]; th > 0 {
		return th, "KZT"
	}
	return 500_000_00, "KZT"
}

func (s *timelineScreen) ShortHelp() []key.Binding {
	if s.hist.Focused() {
		k := s.hist.Keys
		return []key.Binding{k.Down, k.ExtendDown, k.Anchor, k.Apply, s.keys.Switch, k.Clear, s.keys.Close}
	}
	k := s.tl.Keys
	return []key.Binding{k.Left, k.ExtendRight, k.Anchor, k.Apply, s.keys.Switch, k.Clear, s.keys.Close}
}

func (s *timelineScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{s.tl.Keys.Bindings(), s.hist.Keys.Bindings(),
		{s.keys.Switch, s.keys.Close, s.m.keys.Help, s.m.keys.ForceQuit}}
}

func (s *timelineScreen) Update(msg tea.Msg) tea.Cmd {
	m := s.m
	switch msg := msg.(type) {
	case chart.BrushedMsg:
		return s.brush(msg.From, msg.To)
	case chart.ClearedMsg:
		if s.src.entity {
			return m.setTxRange(time.Time{}, time.Time{})
		}
		return nil
	case chart.BandMsg:
		return s.band(msg.First, msg.Last)
	case chart.BandClearedMsg:
		if s.src.entity {
			return m.setTxBand(txBand{})
		}
		return nil
	case tea.KeyPressMsg:
		var cmd tea.Cmd
		var ok bool
		if s.hist.Focused() {
			s.hist, cmd, ok = s.hist.Update(msg)
		} else {
			s.tl, cmd, ok = s.tl.Update(msg)
		}
		if ok {
			return cmd
		}
		switch {
		case key.Matches(msg, s.keys.Switch):
			s.hist.SetFocused(!s.hist.Focused())
		case key.Matches(msg, s.keys.Close):
			m.pop()
			return nil
		case key.Matches(msg, m.keys.Help):
			m.openHelp()
		}
	}
	return nil
}

// brush filters the entity's transaction list to [from, to) and shows it;
// on a group's or a case's timeline it lists the entities active in the
// range (timeline_range.go).
func (s *timelineScreen) brush(from, to time.Time) tea.Cmd {
	m := s.m
	if !s.src.entity {
		lo, hi := s.tl.Range()
		m.openRange(s.src.title, s.act, lo, hi, from, to)
		return nil
	}
	m.pop()
	m.ent.focus = focusTxns
	return m.setTxRange(from, to)
}

// band filters the entity's transaction list to the amounts of histogram
// buckets first…last and shows it; on a group's or a case's timeline it
// lists the entities with amounts in the band (timeline_range.go).
func (s *timelineScreen) band(first, last int) tea.Cmd {
	m := s.m
	lo, hi, cur := s.hist.Amounts()
	b := txBand{lo: lo, hi: hi, cur: cur}
	if !s.src.entity {
		m.openBand(s.src.title, s.act, first, last, b)
		return nil
	}
	m.pop()
	m.ent.focus = focusTxns
	return m.setTxBand(b)
}

// txBand is an amount band of the transaction list: [lo, hi) in minor
// units of cur, zero for an open side (graph.TxQuery's MinAmount,
// MaxAmount and Currency); the zero txBand keeps every amount.
type txBand struct {
	lo, hi int64
	cur    string
}

func (b txBand) set() bool { return b != txBand{} }

// String names the band for titles: "amounts 450k–500k ₸", "amounts in
// KZT" when it is open on both sides, "amounts 450k–500k" when it is of
// every currency.
func (b txBand) String() string {
	if b.lo == 0 && b.hi == 0 {
		return "amounts in " + b.cur
	}
	return "amounts " + graph.FormatBand(b.lo, b.hi, b.cur)
}

// openBandDialog asks for an amount band of the entity's transactions
// without the histogram: from and below in major units (450000, 450k,
// 1.5m), either empty for an open side, both for every amount. A band
// chosen on the histogram keeps its currency; one typed here compares
// every currency's amounts as they are, as the list's totals add them.
func (m *Model) openBandDialog() tea.Cmd {
	b := m.ent.band
	d := caseDialog{kind: dialogBand, title: "Transactions in an amount band", keys: defaultDialogKeys(),
		labels: []string{"from", "below"},
		inputs: []textinput.Model{newInput(m.st, majorText(b.lo), "e.g. 450k"), newInput(m.st, majorText(b.hi), "e.g. 500k")}}
	d.hint = "[from, below) · 450000, 450k, 1.5m · empty: open"
	if b.cur != "" {
		d.hint += " · in " + b.cur
	} else {
		d.hint += " · any currency"
	}
	d.bandCur = b.cur
	return m.openDialog(d, 0)
}

// majorText writes minor units as the band dialog reads them back: "",
// "450000", "450000.5".
func majorText(minor int64) string {
	if minor == 0 {
		return ""
	}
	s := fmt.Sprintf("%d", minor/100)
	if f := minor % 100; f != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%02d", f), "0")
	}
	return s
}

// saveBandDialog applies the band typed in d; a value that does not parse,
// or an empty band, is refused: the list stays as it was, the dialog open
// on the field to fix.
func (m *Model) saveBandDialog(d caseDialog) (tea.Cmd, *refusal) {
	var b txBand
	for i, v := range []*int64{&b.lo, &b.hi} {
		if d.value(i) == "" {
			continue
		}
		x, err := graph.ParseMajorAmount(d.value(i))
		if err != nil {
			return nil, &refusal{field: d.base() + i, msg: d.labels[i] + ": " + err.Error()}
		}
		*v = x
	}
	if b.hi != 0 && b.hi <= b.lo {
		return nil, &refusal{field: d.base() + 1, msg: fmt.Sprintf("below %s is not above from %s: the band is empty", d.value(1), d.value(0))}
	}
	if b.lo != 0 || b.hi != 0 {
		b.cur = d.bandCur
	}
	return m.setTxBand(b), nil
}

// setTxBand filters the entity screen's transaction list to the band (the
// zero band: every amount), keeping its time range, and reloads it.
func (m *Model) setTxBand(b txBand) tea.Cmd {
	m.ent.band = b
	if b.set() {
		m.setStatus("transactions: "+b.String()+" · X drops the filters", false)
	} else {
		m.setStatus("transactions: every amount", false)
	}
	return m.reloadTxns()
}

// setTxRange filters the entity screen's transaction list to [from, to)
// (zero times: no filter) and reloads it.
func (m *Model) setTxRange(from, to time.Time) tea.Cmd {
	m.ent.from, m.ent.to = from, to
	if from.IsZero() && to.IsZero() {
		m.setStatus("transactions: every date", false)
	} else {
		m.setStatus("transactions: "+m.rangeText(from, to)+" · X drops the filters", false)
	}
	return m.reloadTxns()
}

// rangeText names a half-open range by its first and last day.
func (m *Model) rangeText(from, to time.Time) string {
	a := from.In(m.loc).Format("2006-01-02")
	b := to.Add(-time.Nanosecond).In(m.loc).Format("2006-01-02")
	if a == b {
		return a
	}
	return a + "…" + b
}

func (s *timelineScreen) View() []string {
	m, st := s.m, s.m.st
	tlR, histR := s.rects()
	title := "Timeline of " + s.src.title
	footer := ""
	var tlBody, histBody []string
	switch {
	case s.err != nil:
		tlBody = []string{st.Err.Render(s.err.Error())}
	case !s.done:
		tlBody = []string{st.Muted.Render("loading the activity…")}
	default:
		tlBody = s.tl.Lines()
		a := s.act
		footer = fmt.Sprintf("%s transactions · %s…%s", fmtInt(a.InCount+a.OutCount),
			a.First.In(m.loc).Format("2006-01-02"), a.Last.In(m.loc).Format("2006-01-02"))
		if a.Truncated {
			footer += " · first rows only"
		}
		histBody = s.hist.Lines()
	}
	var hint string
	switch {
	case s.hist.Focused() && s.done && s.err == nil:
		lo, hi, cur := s.hist.Amounts()
		hint = fmt.Sprintf("%s: %s · enter lists ", txBand{lo: lo, hi: hi, cur: cur}.String(), fmtInt(s.hist.Count()))
		if s.src.entity {
			hint += "them"
		} else {
			hint += "who had them"
		}
		if len(s.act.Currencies) > 1 {
			// The rows count every currency against its own threshold;
			// the band lists the labels' currency.
			hint += " · " + cur + " only"
		}
	case s.hist.Focused():
	case s.src.entity:
		hint = "enter filters the list to the range · tab: amounts"
	default:
		hint = "enter lists who was active in the range · tab: amounts"
	}
	out := pane.Box(st, title, footer, tlBody, tlR.W, tlR.H, !s.hist.Focused())
	hist := pane.Box(st, "Amounts against the reporting threshold", hint, histBody, histR.W, histR.H, s.hist.Focused())
	if tlR.Y == histR.Y {
		return pane.Join(out, hist)
	}
	return append(out, hist...)
}

// clusterTimeline is the timeline of a suspected group: every member's
// transactions (a transfer between two members counts under both).
func clusterTimeline(c Cluster, rank int) timelineSource {
	refs := make([]graph.Ref, len(c.Members))
	for i, mb := range c.Members {
		refs[i] = mb.Ref
	}
	return timelineSource{title: fmt.Sprintf("group %d · %d members", rank, len(c.Members)), refs: refs}
}

// caseTimeline is the timeline of a case (bm < 0) or of one bookmark: the
// transactions of every entity bookmarked.
func caseTimeline(c graph.Case, bm int) timelineSource {
	bms := c.Bookmarks
	title := "case " + safetext.Line(c.Name)
	if bm >= 0 && bm < len(bms) {
		bms = bms[bm : bm+1]
		title = "bookmark " + safetext.Line(bms[0].Target.Label)
	}
	seen := map[graph.Ref]bool{}
	var refs []graph.Ref
	for _, b := range bms {
		for _, r := range b.Target.Refs {
			if !seen[r] {
				seen[r] = true
				refs = append(refs, r)
			}
		}
	}
	return timelineSource{title: fmt.Sprintf("%s · %d entities", title, len(refs)), refs: refs}
}
