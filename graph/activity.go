package graph

import (
	"math"
	"time"
)

// Activity: an entity's (or a set's) transactions bucketed in time and by
// amount, for the TUI's timeline, amount histogram and sparklines. The store
// fills one in a single linear pass over the rows in range (Add per row);
// nothing here reads a transaction twice or keeps one.

// SeriesBy says which per-bucket count series an activity query keeps
// besides the totals.
type SeriesBy uint8

// Series kinds.
const (
	SeriesNone           SeriesBy = iota
	SeriesByRef                   // one series per queried reference (the flag list)
	SeriesByCounterparty          // one series per counterparty (neighbour rows)
)

// MaxSeries bounds the series an activity keeps: rows of further
// counterparties count in the totals only (Activity.SeriesDropped).
const MaxSeries = 2000

// DefaultActivityCols is the bucket budget when ActivityQuery.Cols is unset.
const DefaultActivityCols = 60

// ActivityQuery asks for activity of one or more references.
type ActivityQuery struct {
	Refs []Ref
	// From and To bound the rows, half open: [From, To). Zero values mean
	// the first and just after the last transaction of Refs.
	From, To time.Time
	// Cols is the most buckets wanted: the cells a chart has.
	Cols int
	// Loc is where days start (Asia/Almaty for the TUI); nil means UTC.
	Loc *time.Location
	// Thresholds are the reporting thresholds in minor units per currency
	// code (RuleConfig.ReportingThreshold); the histogram reads every amount
	// against its currency's. Amounts of a currency without one count in
	// AmountHist.NoThreshold.
	Thresholds map[string]int64
	Series     SeriesBy
	// HistSeries also counts each series' rows per histogram bucket
	// (Activity.HistSeries): who had the amounts of a band.
	HistSeries bool
}

// Bucket is one period of a timeline.
type Bucket struct {
	In, Out           int64 // summed amounts received and paid
	InCount, OutCount int
}

// Activity is the answer to an ActivityQuery.
type Activity struct {
	// Start is the first bucket's start (a local midnight, a Monday for
	// weekly buckets); Step the bucket length: a day or whole weeks.
	Start   time.Time
	Step    time.Duration
	Buckets []Bucket
	// From and To are the range read, [From, To).
	From, To time.Time
	// Totals over the range: they equal the buckets' sums.
	In, Out           int64
	InCount, OutCount int
	// First and Last are the times of the earliest and latest row read.
	First, Last time.Time
	Hist        AmountHist
	// Series counts rows per bucket per reference (SeriesByRef) or per
	// counterparty (SeriesByCounterparty). HistSeries, when not nil before
	// the first row is added (ActivityQuery.HistSeries), counts the same
	// rows per histogram bucket (len(HistEdges); rows without a threshold
	// are not in it).
	Series        map[Ref][]int
	HistSeries    map[Ref][]int
	SeriesDropped int // rows of counterparties beyond MaxSeries
	// Thresholds are the reporting thresholds the histogram read the
	// amounts against (ActivityQuery.Thresholds).
	Thresholds map[string]int64
	// Currencies counts the rows read per currency code (a row without
	// one as KZT): the histogram is labelled in the main one.
	Currencies map[string]int
	// Truncated is set when a reference had more rows in range than the
	// store reads for one answer: the figures cover the first rows only.
	Truncated bool
}

// HistEdges are the histogram's bucket edges in per mille of the reporting
// threshold: bucket i holds amounts in [HistEdges[i], HistEdges[i+1]) ‰ of
// it, the last one everything from 10× up. The scale is roughly logarithmic
// away from the threshold and fine around it, with an edge at 90 % and at
// 100 %, so the band just under the threshold (HistCliff) is one bucket.
var HistEdges = []int64{0, 10, 20, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1250, 1500, 2000, 5000, 10000}

// HistCliff is the bucket [90 %, 100 %) of the threshold: structuring's
// cliff.
const HistCliff = 12

// AmountHist counts amounts by their ratio to their currency's reporting
// threshold.
type AmountHist struct {
	Counts []int // len(HistEdges)
	// NoThreshold counts amounts of currencies without a threshold.
	NoThreshold int
}

// Near is the number of amounts in [90 %, 100 %) of the threshold.
func (h AmountHist) Near() int {
	if len(h.Counts) <= HistCliff {
		return 0
	}
	return h.Counts[HistCliff]
}

// Total is the number of amounts counted in a bucket.
func (h AmountHist) Total() int {
	n := 0
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// HistBucket returns the histogram bucket of amount against threshold (both
// in minor units of one currency); -1 when threshold is not positive.
func HistBucket(amount, threshold int64) int {
	if threshold <= 0 {
		return -1
	}
	if amount < 0 {
		amount = 0
	}
	// amount*1000/threshold without overflow for any int64 amount.
	permille := int64(math.Floor(float64(amount) / float64(threshold) * 1000))
	if amount < math.MaxInt64/1000 {
		permille = amount * 1000 / threshold
	}
	lo, hi := 0, len(HistEdges)-1
	for lo < hi { // the last edge not above permille
		mid := (lo + hi + 1) / 2
		if HistEdges[mid] <= permille {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// HistBand is the amount band [lo, hi) in minor units of the histogram's
// buckets first…last (inclusive) against threshold: exactly the amounts
// HistBucket puts in one of them. The first bucket's band is open below
// (it holds the negative amounts too), the last one's open above: zero on
// that side, as TxQuery reads a band.
func HistBand(first, last int, threshold int64) (lo, hi int64) {
	// ceil(threshold × edge / 1000) without overflow: the least amount
	// whose per mille of threshold reaches edge.
	at := func(edge int64) int64 {
		return threshold/1000*edge + (threshold%1000*edge+999)/1000
	}
	first = min(max(first, 0), len(HistEdges)-1)
	last = min(max(last, first), len(HistEdges)-1)
	if first > 0 {
		lo = at(HistEdges[first])
	}
	if last < len(HistEdges)-1 {
		hi = at(HistEdges[last+1])
	}
	return lo, hi
}

// ActivityStep chooses the bucket length for a span drawn in at most cols
// cells: days when they fit, else two or three days, else weeks, else as
// many weeks per bucket as make them fit. NewActivity lengthens it when
// aligning the first bucket to a midnight or a Monday needs one more.
func ActivityStep(span time.Duration, cols int) time.Duration {
	if cols < 1 {
		cols = DefaultActivityCols
	}
	const day, week = 24 * time.Hour, 7 * 24 * time.Hour
	for _, d := range []time.Duration{day, 2 * day, 3 * day} {
		if span <= time.Duration(cols)*d {
			return d
		}
	}
	weeks := int64((span + week - 1) / week)
	return time.Duration(max(1, (weeks+int64(cols)-1)/int64(cols))) * week
}

// nextStep is the bucket length after step when step makes too many.
func nextStep(step time.Duration) time.Duration {
	const day, week = 24 * time.Hour, 7 * 24 * time.Hour
	switch {
	case step < 3*day:
		return step + day
	case step < week:
		return week
	}
	return step + week
}

// NewActivity returns an empty activity over [from, to) with at most cols
// buckets: days (or two, three) from local midnight, or whole weeks from a
// Monday.
func NewActivity(from, to time.Time, cols int, loc *time.Location) Activity {
	if loc == nil {
		loc = time.UTC
	}
	if cols < 1 {
		cols = DefaultActivityCols
	}
	if to.Before(from) {
		to = from
	}
	l := from.In(loc)
	midnight := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	monday := midnight.AddDate(0, 0, -((int(midnight.Weekday()) + 6) % 7))
	step := ActivityStep(to.Sub(from), cols)
	var start time.Time
	n := 1
	for {
		start = midnight
		if step >= 7*24*time.Hour {
			start = monday
		}
		n = 1
		if to.After(start) {
			n = int((to.Sub(start) + step - 1) / step)
		}
		if n <= cols {
			break
		}
		step = nextStep(step)
	}
	return Activity{
		Start: start, Step: step, Buckets: make([]Bucket, max(n, 1)), From: from, To: to,
		Hist: AmountHist{Counts: make([]int, len(HistEdges))},
	}
}

// BucketOf returns the bucket t falls in, or -1 outside the buckets.
func (a *Activity) BucketOf(t time.Time) int {
	if t.Before(a.Start) || a.Step <= 0 {
		return -1
	}
	i := int(t.Sub(a.Start) / a.Step)
	if i >= len(a.Buckets) {
		return -1
	}
	return i
}

// BucketRange is the time range of buckets lo…hi (inclusive), clipped to
// the activity's range.
func (a *Activity) BucketRange(lo, hi int) (time.Time, time.Time) {
	from := a.Start.Add(time.Duration(lo) * a.Step)
	to := a.Start.Add(time.Duration(hi+1) * a.Step)
	if from.Before(a.From) {
		from = a.From
	}
	if to.After(a.To) {
		to = a.To
	}
	return from, to
}

// Add counts one transaction row: at its time, in or out, its amount in
// minor units of its currency and that currency's reporting threshold (0:
// none, see ThresholdOf); keyed rows also count in key's series (the
// queried reference or the counterparty, as ActivityQuery.Series says).
// Rows outside [From, To) are ignored; it reports whether the row was
// counted.
func (a *Activity) Add(at time.Time, dir Direction, amount, threshold int64, key Ref, keyed bool) bool {
	if at.Before(a.From) || !at.Before(a.To) {
		return false
	}
	i := a.BucketOf(at)
	if i < 0 {
		return false
	}
	b := &a.Buckets[i]
	if dir == DirIn {
		b.In, b.InCount = AddSat(b.In, amount), b.InCount+1
		a.In, a.InCount = AddSat(a.In, amount), a.InCount+1
	} else {
		b.Out, b.OutCount = AddSat(b.Out, amount), b.OutCount+1
		a.Out, a.OutCount = AddSat(a.Out, amount), a.OutCount+1
	}
	if a.First.IsZero() || at.Before(a.First) {
		a.First = at
	}
	if at.After(a.Last) {
		a.Last = at
	}
	h := HistBucket(amount, threshold)
	if h >= 0 {
		a.Hist.Counts[h]++
	} else {
		a.Hist.NoThreshold++
	}
	if !keyed {
		return true
	}
	if a.Series == nil {
		a.Series = map[Ref][]int{}
	}
	s, ok := a.Series[key]
	if !ok {
		if len(a.Series) >= MaxSeries {
			a.SeriesDropped++
			return true
		}
		if a.HistSeries != nil {
			// One allocation holds both series: the time series'
			// capacity reaches into the histogram's, so a row costs one
			// map lookup.
			buf := make([]int, len(a.Buckets)+len(HistEdges))
			s = buf[:len(a.Buckets)]
			a.HistSeries[key] = buf[len(a.Buckets):]
		} else {
			s = make([]int, len(a.Buckets))
		}
		a.Series[key] = s
	}
	s[i]++
	if h >= 0 && cap(s) == len(a.Buckets)+len(HistEdges) {
		s[:cap(s)][len(a.Buckets)+h]++
	}
	return true
}

// CountCurrency adds n rows in currency code ("" is KZT) to Currencies.
func (a *Activity) CountCurrency(code string, n int) {
	if code == "" {
		code = "KZT"
	}
	if a.Currencies == nil {
		a.Currencies = map[string]int{}
	}
	a.Currencies[code] += n
}

// MainCurrency is the currency most rows read are in (the first code in
// order on a tie; KZT when none was counted).
func (a *Activity) MainCurrency() string {
	best, n := "KZT", 0
	for code, c := range a.Currencies {
		if c > n || (c == n && code < best) {
			best, n = code, c
		}
	}
	return best
}

// ThresholdOf is the reporting threshold of currency in thresholds (an
// empty code is KZT), 0 when it has none.
func ThresholdOf(thresholds map[string]int64, currency string) int64 {
	if currency == "" {
		currency = "KZT"
	}
	return thresholds[currency]
}

// ReportingThreshold is R3's reporting threshold for a currency in its minor
// units: the configured one (ReportingThresholds), else the tenge threshold
// at the configured rate; ok is false when neither exists (the histogram
// then has no threshold to read that currency against).
func (c RuleConfig) ReportingThreshold(code string) (int64, bool) {
	if code == "" || code == "KZT" {
		return kzt(c.R3.ThresholdKZT), c.R3.ThresholdKZT > 0
	}
	if t, ok := c.ReportingThresholds[code]; ok && t > 0 {
		return int64(math.Round(t * 100)), true
	}
	if r := c.Currencies[code]; r > 0 && c.R3.ThresholdKZT > 0 {
		return int64(math.Ceil(float64(kzt(c.R3.ThresholdKZT)) / r)), true
	}
	return 0, false
}

// ReportingThresholdMap is ReportingThreshold for KZT and every currency the
// configuration names.
func (c RuleConfig) ReportingThresholdMap() map[string]int64 {
	out := map[string]int64{}
	codes := []string{"KZT"}
	for code := range c.ReportingThresholds {
		codes = append(codes, code)
	}
	for code := range c.Currencies {
		codes = append(codes, code)
	}
	for _, code := range codes {
		if t, ok := c.ReportingThreshold(code); ok {
			out[code] = t
		}
	}
	return out
}
