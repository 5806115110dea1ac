package graph

import (
	"fmt"
	"math"
	"slices"
)

// Units of the rules: how a tenge threshold reads in a transaction's
// currency, and how a window reads in the data's time resolution. Every
// amount comparison of the rules goes through val (an amount in tenge
// equivalent) or minor (a threshold in a currency's own units), and every
// window through span (docs/DETECTION.md, "Currencies and clocks").

// curScale is how one currency of the index reads against tenge thresholds.
type curScale struct {
	code    string
	perUnit float64 // KZT per unit: the configured rate or the relative one; 0 when neither is known
	how     string  // "rate", "relative" or "none"
	r3      int64   // R3 reporting threshold in minor units of the currency; MaxInt64 when none
}

// initUnits precomputes the currency scales and the time unit.
func (rr *ruleRun) initUnits() {
	ix, cfg := rr.ix, rr.cfg
	rr.unit = ix.TimeUnit()
	codes := ix.Currencies()
	rr.curs = make([]curScale, len(codes))
	rr.allKZT = true
	var relative []uint8
	for i, code := range codes {
		cs := curScale{code: code, how: "none"}
		switch r := cfg.Currencies[code]; {
		case code == "KZT":
			cs.perUnit, cs.how = 1, "rate"
		case r > 0:
			cs.perUnit, cs.how = r, "rate"
		default:
			relative = append(relative, uint8(i))
		}
		if code != "KZT" {
			rr.allKZT = false
		}
		rr.curs[i] = cs
	}
	if len(relative) > 0 {
		rr.relativeScales(relative)
	}
	rr.typicalTransfer = rr.medianTransfer()
	for i := range rr.curs {
		cs := &rr.curs[i]
		switch t, ok := cfg.ReportingThresholds[cs.code]; {
		case cs.code == "KZT":
			cs.r3 = kzt(cfg.R3.ThresholdKZT)
		case ok && t > 0:
			cs.r3 = int64(math.Round(t * 100))
		default:
			cs.r3 = rr.minor(cfg.R3.ThresholdKZT, uint8(i))
		}
	}
}

// histTolerance covers medianTransfer's error: an amount counts as below
// the typical transfer only when it is below it by more than a bin.
const histTolerance = 1.1

// medianTransfer estimates the median transfer amount of the data set in
// tiyn equivalent with a histogram of 16 bins per doubling (within 5 %),
// over at most a million transactions spread evenly over the data set, so
// it costs no sort of every amount and no pass over every transaction.
func (rr *ruleRun) medianTransfer() int64 {
	const perOctave = 16
	var bins [64 * perOctave]int
	n := 0
	step := max(1, rr.ix.TxCount()/1_000_000)
	for i := 0; i < rr.ix.TxCount(); i += step {
		t := uint32(i)
		if rr.ix.TxChannel(t) != ChannelTransfer {
			continue
		}
		v := rr.txVal(t)
		if v <= 0 {
			continue
		}
		bins[min(len(bins)-1, int(math.Log2(float64(v))*perOctave))]++
		n++
	}
	if n == 0 {
		return 0
	}
	seen := 0
	for b, c := range bins {
		if seen += c; 2*seen >= n {
			return int64(math.Exp2((float64(b) + 0.5) / perOctave))
		}
	}
	return 0
}

// relativeScales sets the scale of currencies without a rate: their
// RelativeScale.Quantile amount reads as R2.min_in_kzt.
func (rr *ruleRun) relativeScales(curs []uint8) {
	want := make([]bool, len(rr.curs))
	for _, c := range curs {
		want[c] = true
	}
	amounts := make([][]int64, len(rr.curs))
	for v := 0; v < rr.ix.Len(); v++ {
		for _, e := range rr.ix.OutTx(NodeID(v)) {
			if want[e.Cur] && e.Amount > 0 {
				amounts[e.Cur] = append(amounts[e.Cur], e.Amount)
			}
		}
	}
	q := rr.cfg.RelativeScale.Quantile
	for _, c := range curs {
		a := amounts[c]
		if len(a) < rr.cfg.RelativeScale.MinTransactions {
			continue
		}
		slices.Sort(a)
		p := a[min(len(a)-1, int(math.Ceil(q*float64(len(a))))-1)]
		rr.curs[c].perUnit = float64(kzt(rr.cfg.R2.MinInKZT)) / float64(p)
		rr.curs[c].how = "relative"
	}
}

// minor returns a threshold of whole tenge in minor units of currency c:
// math.MaxInt64 (never reached) for a currency with no scale.
func (rr *ruleRun) minor(tenge int64, c uint8) int64 {
	cs := rr.curs[c]
	if cs.perUnit == 1 {
		return kzt(tenge)
	}
	if cs.perUnit <= 0 {
		return math.MaxInt64
	}
	return int64(math.Ceil(float64(kzt(tenge)) / cs.perUnit))
}

// conv returns an amount of currency c in tiyn equivalent: the unit in
// which the rules sum and compare amounts of several currencies. A currency
// with no scale is worth 0: it reaches no threshold.
func (rr *ruleRun) conv(amount int64, c uint8) int64 {
	if rr.allKZT {
		return amount
	}
	p := rr.curs[c].perUnit
	if p == 1 {
		return amount
	}
	return int64(math.Round(float64(amount) * p))
}

// val is conv for an edge.
func (rr *ruleRun) val(e TxEdge) int64 { return rr.conv(e.Amount, e.Cur) }

// txVal is conv for transaction i.
func (rr *ruleRun) txVal(i uint32) int64 {
	e := rr.ix.out[rr.ix.txOutPos[i]]
	return rr.conv(e.Amount, e.Cur)
}

// oneCurrency returns the currency all the edges share, if they do.
func oneCurrency(es ...[]TxEdge) (uint8, bool) {
	first, set := uint8(0), false
	for _, s := range es {
		for _, e := range s {
			if !set {
				first, set = e.Cur, true
			} else if e.Cur != first {
				return 0, false
			}
		}
	}
	return first, true
}

// money prints an amount v (tiyn equivalent, as val gives) computed over
// some edges: in their own currency when they share one ("$12k", "1.49M
// ₸"), else in tenge marked as converted ("≈1.49M ₸ in mixed currencies").
func (rr *ruleRun) money(v int64, es ...[]TxEdge) string {
	c, ok := oneCurrency(es...)
	if ok {
		if p := rr.curs[c].perUnit; p > 0 {
			return FormatShortMoneyIn(int64(math.Round(float64(v)/p)), rr.curs[c].code)
		}
	}
	return "≈" + FormatShortMoney(v) + " in mixed currencies"
}

// moneyTx is money for a sum over transactions given by index.
func (rr *ruleRun) moneyTx(v int64, txs []uint32) string {
	es := make([]TxEdge, len(txs))
	for i, t := range txs {
		es[i] = rr.ix.out[rr.ix.txOutPos[t]]
	}
	return rr.money(v, es)
}

// native prints a single amount in its currency.
func (rr *ruleRun) native(amount int64, c uint8) string {
	return FormatShortMoneyIn(amount, rr.curs[c].code)
}

// sumVal adds the edges' amounts in tiyn equivalent.
func (rr *ruleRun) sumVal(es ...[]TxEdge) int64 {
	var s int64
	for _, x := range es {
		for _, e := range x {
			s += rr.val(e)
		}
	}
	return s
}

// cumulative returns prefix sums of the edges' values (tiyn equivalent):
// cum[i] is the value of es[:i].
func (rr *ruleRun) cumulative(es []TxEdge) []int64 {
	cum := make([]int64, len(es)+1)
	for i, e := range es {
		cum[i+1] = cum[i] + rr.val(e)
	}
	return cum
}

// span returns a window in seconds as the data resolve it: as configured
// for timestamps; for dates (TimeUnit 86400) whole days, a window of up to
// N days covering N calendar days, so a 24h or 6h window is the same day.
func (rr *ruleRun) span(d Duration) int64 {
	if rr.unit <= 1 {
		return d.Seconds()
	}
	return daySpan(d)
}

// daySpan is span at a resolution of days. Dates are local midnights, so
// two rows N days apart are N·86400 ± 1h (daylight saving) apart: half a
// day below the next midnight is a safe edge.
func daySpan(d Duration) int64 {
	n := max(1, (d.Seconds()+86399)/86400)
	return n*86400 - 43200
}

// dateOnly reports whether transaction i has no clock time.
func (rr *ruleRun) dateOnly(i uint32) bool { return rr.ix.txFlags[i]&TxDateOnly != 0 }

// after returns the first edge that may follow transaction i at time t: the
// first strictly later one, or for a date-only i the first of the same day
// (the order within a day is unknown).
func (rr *ruleRun) after(es []TxEdge, i uint32, t int64) int {
	if rr.dateOnly(i) {
		return firstAtOrAfter(es, t)
	}
	return firstAfter(es, t)
}

// fmtDwell renders a dwell: fmtDur for timed rows; in days when either end
// has only a date ("<1 day" for the same day, "3 days"), never in minutes.
func fmtDwell(sec int64, days bool) string {
	if !days {
		return fmtDur(sec)
	}
	n := (sec + 43200) / 86400
	switch n {
	case 0:
		return "<1 day"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
