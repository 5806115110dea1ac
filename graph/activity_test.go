package graph

import (
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
