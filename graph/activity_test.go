package graph

import (
	"slices"
	"testing"
	"time"
)

func TestActivityStep(t *testing.T) {
	day, week := 24*time.Hour, 7*24*time.Hour
	for _, c := range []struct {
		span time.Duration
		cols int
		want time.Duration
	}{
		{10 * day, 60, day},
		{60 * day, 60, day},
		{61 * day, 60, 2 * day},
		{170 * day, 60, 3 * day},
		{181 * day, 60, week},
		{365 * day, 60, week},
		{365 * day, 20, 3 * week},
		{3 * 365 * day, 40, 4 * week},
	} {
		if got := ActivityStep(c.span, c.cols); got != c.want {
			t.Errorf("ActivityStep(%v, %d) = %v, want %v", c.span, c.cols, got, c.want)
		}
	}
}

// Every span fits its cells: the buckets never exceed cols.
func TestNewActivityFitsCols(t *testing.T) {
	almaty := time.FixedZone("ALMT", 5*3600)
	from := time.Date(2025, 3, 13, 22, 30, 0, 0, time.UTC) // a Friday in Almaty
	for _, days := range []int{1, 7, 30, 59, 60, 61, 100, 365, 400, 1000, 3000} {
		for _, cols := range []int{8, 20, 60, 76, 150, 216} {
			a := NewActivity(from, from.Add(time.Duration(days)*24*time.Hour), cols, almaty)
			if len(a.Buckets) > cols {
				t.Errorf("%d days in %d cols: %d buckets of %v", days, cols, len(a.Buckets), a.Step)
			}
			if a.BucketOf(from) != 0 || a.BucketOf(a.To.Add(-time.Nanosecond)) != len(a.Buckets)-1 {
				t.Errorf("%d days in %d cols: first/last row in buckets %d/%d of %d", days, cols,
					a.BucketOf(from), a.BucketOf(a.To.Add(-time.Nanosecond)), len(a.Buckets))
			}
			if l := a.Start.In(almaty); l.Hour() != 0 || l.Minute() != 0 {
				t.Errorf("start %v is not a local midnight", l)
			}
			if a.Step >= 7*24*time.Hour && a.Start.In(almaty).Weekday() != time.Monday {
				t.Errorf("weekly buckets start on %v", a.Start.In(almaty).Weekday())
			}
		}
	}
}

// The buckets' sums reconcile with the totals and with what was added.
func TestActivityBucketsReconcile(t *testing.T) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 3, 0)
	a := NewActivity(from, to, 30, nil)
	a.HistSeries = map[Ref][]int{}
	other := Ref{Kind: KindCard, Key: "4400430000000002"}
	var in, out int64
	var nIn, nOut int
	th := map[string]int64{"KZT": 50_000_000}
	for i := range 1000 {
		at := from.Add(time.Duration(i) * 3 * time.Hour)
		amt := int64(1000 + i*7919%10_000_000)
		dir := DirOut
		if i%3 == 0 {
			dir = DirIn
		}
		if !a.Add(at, dir, amt, ThresholdOf(th, "KZT"), other, true) {
			if at.Before(to) {
				t.Fatalf("row at %v in range not counted", at)
			}
			continue
		}
		if dir == DirIn {
			in, nIn = in+amt, nIn+1
		} else {
			out, nOut = out+amt, nOut+1
		}
	}
	var bin, bout int64
	var bnIn, bnOut int
	for _, b := range a.Buckets {
		bin, bout, bnIn, bnOut = bin+b.In, bout+b.Out, bnIn+b.InCount, bnOut+b.OutCount
	}
	if bin != in || bout != out || bnIn != nIn || bnOut != nOut || a.In != in || a.Out != out || a.InCount != nIn || a.OutCount != nOut {
		t.Errorf("buckets in %d/%d out %d/%d, totals in %d/%d out %d/%d; added in %d/%d out %d/%d",
			bin, bnIn, bout, bnOut, a.In, a.InCount, a.Out, a.OutCount, in, nIn, out, nOut)
	}
	if a.Hist.Total() != nIn+nOut || a.Hist.NoThreshold != 0 {
		t.Errorf("histogram counts %d (+%d without threshold), want %d", a.Hist.Total(), a.Hist.NoThreshold, nIn+nOut)
	}
	s := 0
	for _, c := range a.Series[other] {
		s += c
	}
	if s != nIn+nOut {
		t.Errorf("counterparty series counts %d, want %d", s, nIn+nOut)
	}
	// The series per histogram bucket is the histogram itself here (one
	// key), and the time series is not disturbed by sharing its memory.
	if hs := a.HistSeries[other]; !slices.Equal(hs, a.Hist.Counts) || len(a.Series[other]) != len(a.Buckets) {
		t.Errorf("histogram series %v, histogram %v", hs, a.Hist.Counts)
	}
}

// Each key's histogram series counts its own rows only.
func TestActivityHistSeriesPerKey(t *testing.T) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewActivity(from, from.AddDate(0, 0, 10), 10, nil)
	a.HistSeries = map[Ref][]int{}
	x, y := Ref{Kind: KindCard, Key: "1"}, Ref{Kind: KindCard, Key: "2"}
	const th = 500_000_00
	a.Add(from, DirIn, 470_000_00, th, x, true)
	a.Add(from.Add(time.Hour), DirOut, 480_000_00, th, x, true)
	a.Add(from.AddDate(0, 0, 9), DirIn, 10_000_00, th, y, true)
	a.Add(from.AddDate(0, 0, 9), DirIn, 10_000_00, 0, y, true) // no threshold: in no bucket
	if a.HistSeries[x][HistCliff] != 2 || a.HistSeries[y][HistCliff] != 0 || a.HistSeries[y][HistBucket(10_000_00, th)] != 1 {
		t.Errorf("histogram series x %v y %v", a.HistSeries[x], a.HistSeries[y])
	}
	if a.Series[x][0] != 2 || a.Series[y][9] != 2 {
		t.Errorf("time series x %v y %v", a.Series[x], a.Series[y])
	}
	// Not asked for: no histogram series, the time series as before.
	b := NewActivity(from, from.AddDate(0, 0, 10), 10, nil)
	b.Add(from, DirIn, 470_000_00, th, x, true)
	if b.HistSeries != nil || b.Series[x][0] != 1 || cap(b.Series[x]) != len(b.Buckets) {
		t.Errorf("histogram series kept unasked: %v, series %v", b.HistSeries, b.Series)
	}
}

func TestHistBucketCliff(t *testing.T) {
	th := int64(500_000_00)
	for _, c := range []struct {
		amount int64
		want   int
	}{
		{0, 0},
		{449_999_99, HistCliff - 1},
		{450_000_00, HistCliff},
		{495_000_00, HistCliff},
		{499_999_99, HistCliff},
		{500_000_00, HistCliff + 1},
		{50_000_000_00, len(HistEdges) - 1},
		{1 << 62, len(HistEdges) - 1},
	} {
		if got := HistBucket(c.amount, th); got != c.want {
			t.Errorf("HistBucket(%d) = %d, want %d", c.amount, got, c.want)
		}
	}
	if HistEdges[HistCliff] != 900 || HistEdges[HistCliff+1] != 1000 {
		t.Errorf("the cliff bucket is [%d, %d) ‰, want [900, 1000)", HistEdges[HistCliff], HistEdges[HistCliff+1])
	}
	if HistBucket(1, 0) != -1 {
		t.Error("no threshold must give no bucket")
	}
}

func TestReportingThreshold(t *testing.T) {
	cfg := DefaultRuleConfig()
	if v, ok := cfg.ReportingThreshold("KZT"); !ok || v != 500_000_00 {
		t.Errorf("KZT threshold %d %v", v, ok)
	}
	if v, ok := cfg.ReportingThreshold("USD"); !ok || v != 10_000_00 {
		t.Errorf("USD threshold %d %v", v, ok)
	}
	m := cfg.ReportingThresholdMap()
	if m["KZT"] != 500_000_00 {
		t.Errorf("map: %v", m)
	}
}

// A band of histogram buckets keeps exactly the amounts HistBucket puts in
// them, at thresholds that divide evenly and ones that do not.
func TestHistBandMatchesHistBucket(t *testing.T) {
	n := len(HistEdges)
	for _, th := range []int64{500_000_00, 1_000_00, 333_333, 7} {
		amounts := []int64{-5, 0, 1, th - 1, th, th + 1, th * 9 / 10, th*9/10 - 1, th*9/10 + 1, th * 10, th*10 - 1}
		for _, e := range HistEdges {
			x := th * e / 1000
			amounts = append(amounts, x-1, x, x+1)
		}
		for first := range n {
			for last := first; last < n; last++ {
				lo, hi := HistBand(first, last, th)
				q := TxQuery{MinAmount: lo, MaxAmount: hi}
				for _, a := range amounts {
					b := HistBucket(a, th)
					if in := b >= first && b <= last; in != q.AmountIn(a) {
						t.Fatalf("threshold %d buckets %d…%d band [%d, %d): amount %d in bucket %d, kept %v",
							th, first, last, lo, hi, a, b, q.AmountIn(a))
					}
				}
			}
		}
	}
	if lo, hi := HistBand(HistCliff, HistCliff, 500_000_00); lo != 450_000_00 || hi != 500_000_00 {
		t.Fatalf("the cliff's band is [%d, %d), want [450k, 500k)", lo, hi)
	}
	if lo, hi := HistBand(0, n-1, 500_000_00); lo != 0 || hi != 0 {
		t.Fatalf("every bucket: [%d, %d), want an open band", lo, hi)
	}
}

func TestMainCurrency(t *testing.T) {
	var a Activity
	if a.MainCurrency() != "KZT" {
		t.Fatalf("no rows: %s", a.MainCurrency())
	}
	a.CountCurrency("", 2)
	a.CountCurrency("USD", 3)
	if a.MainCurrency() != "USD" || a.Currencies["KZT"] != 2 {
		t.Fatalf("main %s of %v", a.MainCurrency(), a.Currencies)
	}
	a.CountCurrency("EUR", 3)
	if a.MainCurrency() != "EUR" {
		t.Fatalf("a tie goes to the first code: %s of %v", a.MainCurrency(), a.Currencies)
	}
}
