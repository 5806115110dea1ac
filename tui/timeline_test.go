package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"casegraph/graph"
)

// T on an entity opens its timeline and amount histogram; the cliff just
// under the threshold is marked, at every size.
func TestTimelineGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 45}, {60, 16}, {220, 60}} {
		t.Run(fmt.Sprintf("entity_%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := newModel(t, sz[0], sz[1], Options{Start: &refCard})
			press(t, m, "T")
			s := screenText(m)
			for _, want := range []string{"Timeline of", "◀ just under", "reporting threshold 500,000 ₸", "in [90 %, 100 %)"} {
				if !strings.Contains(s, want) {
					t.Fatalf("timeline lacks %q:\n%s", want, s)
				}
			}
			for i, line := range strings.Split(s, "\n") {
				if w := len([]rune(line)); w > sz[0] {
					t.Fatalf("line %d is %d cells wide:\n%s", i, w, s)
				}
			}
			if sz[0] == 80 || sz[0] == 160 {
				golden.RequireEqual(t, []byte(s))
			}
		})
	}
}

// The histogram marks the row of amounts in [90 %, 100 %) of the threshold:
// the fake's 33 cash top-ups of 495,000 ₸ and more.
func TestTimelineHistogramMarksCliff(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "T")
	s := screenText(m)
	var cliff string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "◀ just under") {
			cliff = line
		}
	}
	if !strings.Contains(cliff, "450k–500k") || !strings.Contains(cliff, "33") {
		t.Fatalf("the marked row is %q, want the 450k–500k row with 33 amounts:\n%s", cliff, s)
	}
	if !strings.Contains(s, "33 of 130 amounts in [90 %, 100 %)") {
		t.Fatalf("no count of the amounts just under the threshold:\n%s", s)
	}
}

// Brushing: a range chosen on the timeline filters the entity's
// transaction list to it, and X shows every date again.
func TestTimelineBrushFiltersTransactions(t *testing.T) {
	m, f := newModel(t, 160, 45, Options{Start: &refCard})
	press(t, m, "T")
	s, ok := find[*timelineScreen](m)
	if !ok {
		t.Fatal("T opened no timeline")
	}
	a := s.act
	if a.Step != 24*time.Hour {
		t.Fatalf("16 days in %d cells: step %v, want a day", s.cols, a.Step)
	}
	// Two days back from the last, extended one day left: three days.
	press(t, m, "left", "left", "H", "H", "enter")
	if onStack[*timelineScreen](m) {
		t.Fatal("enter left the timeline open")
	}
	lo, hi := len(a.Buckets)-5, len(a.Buckets)-3
	from, to := a.BucketRange(lo, hi)
	if !m.ent.from.Equal(from) || !m.ent.to.Equal(to) {
		t.Fatalf("range %v…%v, want %v…%v", m.ent.from, m.ent.to, from, to)
	}
	want := 0
	for _, x := range f.txns {
		if (x.From == refCard || x.To == refCard) && !x.Time.Before(from) && x.Time.Before(to) {
			want++
		}
	}
	if want == 0 || m.ent.tx.Total != want || len(m.ent.tx.Txns) != want {
		t.Fatalf("listed %d of %d, want %d", len(m.ent.tx.Txns), m.ent.tx.Total, want)
	}
	for _, x := range m.ent.tx.Txns {
		if x.Time.Before(from) || !x.Time.Before(to) {
			t.Fatalf("row %s at %v outside the range", x.ID, x.Time)
		}
	}
	requireContains(t, m, "range "+m.rangeText(from, to)+" · Transactions "+fmt.Sprint(want))
	press(t, m, "X")
	if m.ent.tx.Total != 130 {
		t.Fatalf("X: %d transactions, want all 130", m.ent.tx.Total)
	}
}

// The bucket follows the span and the width: a narrow window over the same
// 16 days draws weeks.
func TestTimelineBucketFollowsWidth(t *testing.T) {
	m, _ := newModel(t, 60, 16, Options{Start: &refCard})
	press(t, m, "T")
	s, _ := find[*timelineScreen](m)
	if n := len(s.act.Buckets); n > s.cols || n == 0 {
		t.Fatalf("%d buckets in %d cells", n, s.cols)
	}
	a := s.act
	var in, out int64
	for _, b := range a.Buckets {
		in, out = in+b.In, out+b.Out
	}
	page := m.ent.tx
	if in != page.In || out != page.Out {
		t.Fatalf("buckets in %d out %d, transactions in %d out %d", in, out, page.In, page.Out)
	}
	_ = graph.HistCliff
}

// T on a suspected group draws the activity of all its members; T on a
// case draws that of every entity it bookmarks.
func TestTimelineOfClusterAndCase(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 45}} {
		m, f := newModel(t, sz[0], sz[1], Options{})
		press(t, m, "C")
		c, _ := m.ana.clusters.selected()
		press(t, m, "T")
		s, ok := find[*timelineScreen](m)
		if !ok || len(s.src.refs) != len(c.Members) {
			t.Fatalf("cluster T: screen %v refs %v, members %d", ok, s.src.refs, len(c.Members))
		}
		want := 0
		in := map[graph.Ref]bool{}
		for _, mb := range c.Members {
			in[mb.Ref] = true
		}
		for _, x := range f.txns {
			if in[x.From] {
				want++
			}
			if in[x.To] {
				want++
			}
		}
		if got := s.act.InCount + s.act.OutCount; got != want || want == 0 {
			t.Fatalf("cluster timeline counts %d rows, want %d", got, want)
		}
		requireContains(t, m, "Timeline of group 1 · "+fmt.Sprint(len(c.Members))+" members", "◀ just under")
		press(t, m, "esc", "esc")

		seedCases(t, f)
		run(t, m, loadCases(m.ctx, f)())
		press(t, m, "c", "T")
		s, ok = find[*timelineScreen](m)
		if !ok || len(s.src.refs) == 0 {
			t.Fatalf("case T: screen %v", ok)
		}
		requireContains(t, m, "Timeline of case")
	}
}

// On a group's timeline a brushed range lists the entities active in it,
// busiest first, and enter opens one with its list filtered to the range.
func TestTimelineRangeOfAGroup(t *testing.T) {
	m, f := newModel(t, 160, 45, Options{})
	press(t, m, "C")
	press(t, m, "T")
	s, _ := find[*timelineScreen](m)
	a := s.act
	press(t, m, "H", "H", "enter")
	rs, ok := find[*rangeScreen](m)
	if !ok {
		t.Fatal("enter on a group's range listed nothing")
	}
	lo, hi := len(a.Buckets)-3, len(a.Buckets)-1
	from, to := a.BucketRange(lo, hi)
	want := map[graph.Ref]int{}
	for _, r := range s.src.refs {
		for _, x := range f.txns {
			if (x.From == r || x.To == r) && !x.Time.Before(from) && x.Time.Before(to) {
				want[r]++
			}
		}
	}
	if len(rs.rows) != len(want) || len(want) == 0 {
		t.Fatalf("rows %+v, want %v", rs.rows, want)
	}
	for i, r := range rs.rows {
		if r.n != want[r.ref] || (i > 0 && r.n > rs.rows[i-1].n) {
			t.Fatalf("row %d %v: %d tx, want %d, busiest first", i, r.ref, r.n, want[r.ref])
		}
	}
	requireContains(t, m, "Active "+m.rangeText(from, to))
	top := rs.rows[0].ref
	press(t, m, "enter")
	if m.screenName() != "entity" || m.ent.ref != top || !m.ent.from.Equal(from) || !m.ent.to.Equal(to) {
		t.Fatalf("enter: screen %s ref %v range %v…%v", m.screenName(), m.ent.ref, m.ent.from, m.ent.to)
	}
	if m.ent.tx.Total != want[top] {
		t.Fatalf("%d transactions listed, want the range's %d", m.ent.tx.Total, want[top])
	}
}

// The group's timeline and its range list, at 80×24 and 160×45.
func TestTimelineGroupGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("group_%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := newModel(t, sz[0], sz[1], Options{})
			press(t, m, "C", "T")
			golden.RequireEqual(t, []byte(screenText(m)))
		})
		t.Run(fmt.Sprintf("range_%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := newModel(t, sz[0], sz[1], Options{})
			press(t, m, "C", "T", "H", "H", "enter")
			golden.RequireEqual(t, []byte(screenText(m)))
		})
	}
}

// cardRows counts the fake's rows of refCard that keep says are in.
func cardRows(f *fakeBackend, keep func(graph.Txn) bool) int {
	n := 0
	for _, x := range f.txns {
		if (x.From == refCard || x.To == refCard) && keep(x) {
			n++
		}
	}
	return n
}

// A band of amounts chosen on the histogram (tab, then the cliff's row,
// enter) filters the entity's transaction list to it, with the band in the
// title; a time range chosen afterwards on the timeline combines with it;
// x on the histogram drops the band only, X on the entity page both.
func TestTimelineHistogramBandFiltersTransactions(t *testing.T) {
	m, f := newModel(t, 160, 45, Options{Start: &refCard})
	press(t, m, "T", "tab")
	requireContains(t, m, "amounts 450k–500k ₸: 33 · enter lists them")
	press(t, m, "enter")
	if onStack[*timelineScreen](m) || m.screenName() != "entity" {
		t.Fatalf("enter on the histogram left screen %s", m.screenName())
	}
	if b := m.ent.band; b.lo != 450_000_00 || b.hi != 500_000_00 || b.cur != "KZT" {
		t.Fatalf("band %+v, want [450k, 500k) KZT", b)
	}
	inBand := func(x graph.Txn) bool { return x.Amount >= 450_000_00 && x.Amount < 500_000_00 }
	want := cardRows(f, inBand)
	if want != 33 || m.ent.tx.Total != want || len(m.ent.tx.Txns) != want {
		t.Fatalf("listed %d of %d, want the %d cash top-ups just under 500k", len(m.ent.tx.Txns), m.ent.tx.Total, want)
	}
	for _, x := range m.ent.tx.Txns {
		if !inBand(x) {
			t.Fatalf("row %s of %d outside the band", x.ID, x.Amount)
		}
	}
	requireContains(t, m, "amounts 450k–500k ₸ · Transactions 33 · in ")

	// The timeline again: a range of the last five days, on top of the band.
	press(t, m, "T")
	s, _ := find[*timelineScreen](m)
	a := s.act
	press(t, m, "H", "H", "H", "H", "enter")
	from, to := a.BucketRange(len(a.Buckets)-5, len(a.Buckets)-1)
	both := cardRows(f, func(x graph.Txn) bool { return inBand(x) && !x.Time.Before(from) && x.Time.Before(to) })
	if both == 0 || both == want || m.ent.tx.Total != both || m.ent.band.lo != 450_000_00 {
		t.Fatalf("range and band: %d listed, want %d (band alone %d); band %+v", m.ent.tx.Total, both, want, m.ent.band)
	}
	requireContains(t, m, "range "+m.rangeText(from, to)+" · amounts 450k–500k ₸ · Transactions "+fmt.Sprint(both)+" ·")

	// x on the histogram drops the band, the range stays.
	press(t, m, "T", "tab", "x")
	if m.ent.band.set() || m.ent.from.IsZero() {
		t.Fatalf("x on the histogram: band %+v range %v…%v", m.ent.band, m.ent.from, m.ent.to)
	}
	press(t, m, "esc")
	inRange := cardRows(f, func(x graph.Txn) bool { return !x.Time.Before(from) && x.Time.Before(to) })
	if m.ent.tx.Total != inRange {
		t.Fatalf("range alone: %d listed, want %d", m.ent.tx.Total, inRange)
	}

	// A wider band (K extends it up over 400k–450k) and X: everything.
	press(t, m, "T", "tab", "K", "enter")
	if b := m.ent.band; b.lo != 400_000_00 || b.hi != 500_000_00 {
		t.Fatalf("K: band %+v, want [400k, 500k)", b)
	}
	requireContains(t, m, "amounts 400k–500k ₸ · Transactions")
	press(t, m, "X")
	if m.ent.band.set() || !m.ent.from.IsZero() || m.ent.tx.Total != 130 {
		t.Fatalf("X: band %+v range %v, %d transactions, want all 130", m.ent.band, m.ent.from, m.ent.tx.Total)
	}
}

// On a group's timeline a band of amounts lists the members with amounts
// in it, and enter opens one with its list filtered to the band.
func TestTimelineBandOfAGroup(t *testing.T) {
	m, f := newModel(t, 160, 45, Options{})
	press(t, m, "C", "T")
	s, _ := find[*timelineScreen](m)
	press(t, m, "tab", "J", "enter") // 450k–550k
	rs, ok := find[*rangeScreen](m)
	if !ok {
		t.Fatal("enter on a group's band listed nothing")
	}
	inBand := func(x graph.Txn) bool { return x.Amount >= 450_000_00 && x.Amount < 550_000_00 }
	want := map[graph.Ref]int{}
	for _, r := range s.src.refs {
		for _, x := range f.txns {
			if (x.From == r || x.To == r) && inBand(x) {
				want[r]++
			}
		}
	}
	if len(rs.rows) != len(want) || len(want) == 0 {
		t.Fatalf("rows %+v, want %v", rs.rows, want)
	}
	for _, r := range rs.rows {
		if r.n != want[r.ref] {
			t.Fatalf("%v: %d in the band, want %d", r.ref, r.n, want[r.ref])
		}
	}
	requireContains(t, m, "With amounts 450k–550k ₸ · group 1", "enter lists its transactions in the band", "active in band")
	top := rs.rows[0].ref
	press(t, m, "enter")
	if m.screenName() != "entity" || m.ent.ref != top || m.ent.band.lo != 450_000_00 || m.ent.band.hi != 550_000_00 {
		t.Fatalf("enter: screen %s ref %v band %+v", m.screenName(), m.ent.ref, m.ent.band)
	}
	if m.ent.tx.Total != want[top] {
		t.Fatalf("%d transactions listed, want the band's %d", m.ent.tx.Total, want[top])
	}
}

// The histogram is labelled in the currency most rows are in, and a band
// chosen on it lists the rows of that currency: here the card's rows in
// dollars, but for the cash top-ups in tenge.
func TestTimelineBandInTheMainCurrency(t *testing.T) {
	m, f := newModel(t, 160, 45, Options{Start: &refCard})
	for i := range f.txns {
		if f.txns[i].Channel != graph.ChannelTopup {
			f.txns[i].Currency = "USD"
			f.txns[i].Amount /= 50 // the transfers of ~150k ₸: ~$3,000
		}
	}
	press(t, m, "T", "tab")
	requireContains(t, m, "reporting threshold $10,000", "amounts $9,000–$10k: 33 · enter lists them · USD only")
	press(t, m, "up", "up", "up", "up", "up", "up", "enter") // $3,000–4,000: the transfers
	b := m.ent.band
	if b.cur != "USD" || b.lo != 3_000_00 || b.hi != 4_000_00 {
		t.Fatalf("band %+v, want [$3,000, $4,000) in USD", b)
	}
	want := cardRows(f, func(x graph.Txn) bool { return x.Currency == "USD" && x.Amount >= b.lo && x.Amount < b.hi })
	if want != 33 || m.ent.tx.Total != want {
		t.Fatalf("%d listed, want the %d transfers in dollars", m.ent.tx.Total, want)
	}
	requireContains(t, m, "amounts $3,000–$4,000 · Transactions 33")
}

// A on the entity page asks for a band without the chart: typed in major
// units, [from, below), of every currency; a value that does not parse,
// or an empty band, is refused with the dialog open as typed and the list
// as it was; emptied, the band is dropped.
func TestBandDialogFiltersTransactions(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "A")
	requireContains(t, m, "Transactions in an amount band", "[from, below) · 450000, 450k, 1.5m · empty: open · any currency")
	typeText(t, m, "150k")
	press(t, m, "tab")
	typeText(t, m, "495001")
	press(t, m, "enter")
	if b := m.ent.band; b.lo != 150_000_00 || b.hi != 495_001_00 || b.cur != "" {
		t.Fatalf("band %+v, want [150k, 495,001) of any currency", b)
	}
	want := cardRows(f, func(x graph.Txn) bool { return x.Amount >= 150_000_00 && x.Amount < 495_001_00 })
	if want <= 33 || want >= 130 || m.ent.tx.Total != want {
		t.Fatalf("%d listed, want %d", m.ent.tx.Total, want)
	}
	requireContains(t, m, "amounts 150k–495,001 · Transactions "+fmt.Sprint(want))

	// The dialog opens on the band; a bad value changes nothing.
	press(t, m, "A")
	requireContains(t, m, "150000", "495001")
	press(t, m, "tab")
	for range 6 {
		press(t, m, "backspace")
	}
	typeText(t, m, "450,000")
	press(t, m, "shift+tab") // enter on from moves to below; ctrl+s saves from anywhere
	run(t, m, ctrlS)
	// Refused: the dialog stays as typed, on the value, and says why.
	if d := m.dialog(); d == nil || d.value(1) != "450,000" || d.focus != 1 {
		t.Fatalf("a bad value: dialog %+v", d)
	}
	requireContains(t, m, "below: amount \"450,000\": no thousands separators")
	if m.ent.band.hi != 495_001_00 || m.ent.tx.Total != want {
		t.Fatalf("a bad value changed the band to %+v", m.ent.band)
	}
	// An empty band, the same.
	for range 7 {
		press(t, m, "backspace")
	}
	typeText(t, m, "100k")
	press(t, m, "enter")
	if d := m.dialog(); d == nil || d.focus != 1 {
		t.Fatalf("an empty band: dialog %+v", d)
	}
	requireContains(t, m, "below 100k is not above from 150000: the band is empty")
	press(t, m, "esc")
	if m.dialog() != nil || m.ent.band.hi != 495_001_00 {
		t.Fatalf("esc: dialog %v, band %+v", m.dialog() != nil, m.ent.band)
	}

	// Both emptied: every amount.
	press(t, m, "A")
	for range 6 {
		press(t, m, "backspace")
	}
	press(t, m, "tab")
	for range 6 {
		press(t, m, "backspace")
	}
	press(t, m, "enter")
	if m.ent.band.set() || m.ent.tx.Total != 130 {
		t.Fatalf("emptied: band %+v, %d listed", m.ent.band, m.ent.tx.Total)
	}
}

// A band chosen on the histogram, edited in the dialog, keeps its currency.
func TestBandDialogKeepsTheHistogramsCurrency(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "T", "tab", "enter", "A")
	requireContains(t, m, "450000", "500000", "· in KZT")
	for range 6 {
		press(t, m, "backspace")
	}
	typeText(t, m, "400k")
	press(t, m, "tab", "enter")
	if b := m.ent.band; b.lo != 400_000_00 || b.hi != 500_000_00 || b.cur != "KZT" {
		t.Fatalf("band %+v, want [400k, 500k) in KZT", b)
	}
	requireContains(t, m, "amounts 400k–500k ₸ · Transactions 33")
}
