package profile

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
	"casegraph/importers"
)

// clockProfile reads one transaction per row; the time format and zone are
// filled in per case.
const clockProfile = `name: clock
files:
  - match: "*.csv"
    timezone: %ZONE%
    records:
      - txn:
          id: "{id}"
          time: %TIME%
          from: {kind: account, key: "a:{from}"}
          to: {kind: account, key: "a:{to}"}
          amount: {value: "{amount}"}
          currency: USD
`

func importClock(t *testing.T, zone, timeSpec, csv string) (*recSink, importers.Report) {
	t.Helper()
	src := strings.NewReplacer("%ZONE%", zone, "%TIME%", timeSpec).Replace(clockProfile)
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	sink := newSink()
	rep, err := p.Import(context.Background(), strings.NewReader(csv), sink, Options{Options: importers.Options{Name: "x.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	return sink, rep
}

// TestProfileTimeResolution: a profile import records whether its rows
// gave clock times, dates or steps, and the zone they are read in; rows
// without a clock time are Txn.DateOnly.
func TestProfileTimeResolution(t *testing.T) {
	rows := func(times ...string) string {
		var b strings.Builder
		b.WriteString("id,date,from,to,amount\n")
		for i, tm := range times {
			b.WriteString(strings.Join([]string{string(rune('a' + i)), tm, "1", "2", "10"}, ",") + "\n")
		}
		return b.String()
	}
	for _, c := range []struct {
		name, zone, spec, csv string
		res                   string
		unit                  int64
		dateOnly              []bool
	}{
		{"dates", "Europe/Prague", "{value: \"{date}\", format: yymmdd, century: 1900}", rows("930101", "930102"),
			graph.TimeDates, 86400, []bool{true, true}},
		{"timestamps", "UTC", "{value: \"{date}\", format: ymd}", rows("2022/09/01 00:20", "2022/09/01 13:05"),
			graph.TimeTimestamps, 1, []bool{false, false}},
		{"mixed", "Asia/Almaty", "{value: \"{date}\", format: dmy}", rows("15.03.2025 10:22", "16.03.2025"),
			graph.TimeMixed, 1, []bool{false, true}},
		{"day steps", "UTC", "{value: \"{date}\", format: step, base: \"2017-01-01\", unit: day}", rows("0", "3"),
			graph.TimeSteps, 86400, []bool{true, true}},
		{"hour steps", "UTC", "{value: \"{date}\", format: step, base: \"2017-01-01\", unit: hour}", rows("0", "3"),
			graph.TimeSteps, 3600, []bool{false, false}},
	} {
		sink, rep := importClock(t, c.zone, c.spec, c.csv)
		res, unit, zone := rep.Clock()
		if res != c.res || unit != c.unit || zone != c.zone {
			t.Errorf("%s: clock %s/%d/%s, want %s/%d/%s", c.name, res, unit, zone, c.res, c.unit, c.zone)
		}
		for i, x := range sink.txns {
			if x.DateOnly != c.dateOnly[i] {
				t.Errorf("%s: row %d DateOnly %v", c.name, i, x.DateOnly)
			}
		}
	}
	// Timestamps all at midnight over several days are dates (AMLSim writes
	// day steps so): ten rows are needed to say so.
	var ts []string
	for d := 1; d <= 12; d++ {
		ts = append(ts, time.Date(2011, 1, d, 0, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05Z"))
	}
	_, rep := importClock(t, "UTC", "{value: \"{date}\", format: iso}", rows(ts...))
	if res, unit, _ := rep.Clock(); res != graph.TimeDates || unit != 86400 {
		t.Errorf("all-midnight timestamps: %s/%d, want dates", res, unit)
	}
	_, rep = importClock(t, "UTC", "{value: \"{date}\", format: iso}", rows(ts[:5]...))
	if res, _, _ := rep.Clock(); res != graph.TimeTimestamps {
		t.Errorf("five midnight timestamps: %s, want timestamps", res)
	}
}

// TestPublicSetsClock: the built-in profiles over the public data sets.
func TestPublicSetsClock(t *testing.T) {
	for _, c := range []struct {
		profile, file string
		res           string
		unit          int64
		zone          string
	}{
		{"berka", "berka-pkdd99/trans_first3MiB.asc", graph.TimeDates, 86400, "Europe/Prague"},
		{"amlsim", "amlsim/run100-aiyazmiran/transactions.csv", graph.TimeDates, 86400, "UTC"},
		{"amlsim", "amlsim/ibm-sample-outputs/tx.csv", graph.TimeSteps, 86400, "UTC"},
		{"amlworld", "amlworld-hi-small/hi_small_pattern_transactions.csv", graph.TimeTimestamps, 1, "UTC"},
	} {
		path := sharedData(t, c.file)
		sink := newSink()
		rep := importPath(t, mustBuiltin(t, c.profile), path, sink)
		res, unit, zone := rep.Clock()
		if res != c.res || unit != c.unit || zone != c.zone {
			t.Errorf("%s: clock %s/%d/%s, want %s/%d/%s", filepath.Base(path), res, unit, zone, c.res, c.unit, c.zone)
		}
		if c.profile == "berka" {
			for _, x := range sink.txns {
				if !x.DateOnly {
					t.Fatalf("berka %s has a clock time", x.ID)
				}
			}
		}
	}
}
