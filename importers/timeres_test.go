package importers

import (
	"context"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
)

// TestCanonicalClock: a canonical transactions file has timestamps read in
// Asia/Almaty, unless every one states the same other offset.
func TestCanonicalClock(t *testing.T) {
	file := func(times ...string) string {
		var b strings.Builder
		b.WriteString("tx_id,time,from,to,amount\n")
		for i, tm := range times {
			b.WriteString("T" + string(rune('a'+i)) + "," + tm + ",card:4400430000000015,card:4400430000000023,100\n")
		}
		return b.String()
	}
	for _, c := range []struct {
		name  string
		times []string
		zone  string
	}{
		{"zone-less", []string{"2025-03-15 02:10:00", "2025-03-16 14:00"}, "Asia/Almaty"},
		{"Almaty's own offset", []string{"2025-03-15T02:10:00+05:00", "2025-03-16T14:00:00+05:00"}, "Asia/Almaty"},
		{"UTC", []string{"2025-03-15T02:10:00Z", "2025-03-16T14:00:00Z"}, "UTC"},
		{"one other offset", []string{"2025-03-15T02:10:00+01:00", "2025-03-16T14:00:00+01:00"}, "UTC+01:00"},
		{"offsets differ", []string{"2025-03-15T02:10:00+01:00", "2025-03-16T14:00:00+02:00"}, "Asia/Almaty"},
		{"some without", []string{"2025-03-15T02:10:00Z", "2025-03-16 14:00"}, "Asia/Almaty"},
	} {
		var sink recordingSink
		rep, err := ImportReader(context.Background(), strings.NewReader(file(c.times...)), &sink, Options{Name: "transactions.csv"})
		if err != nil || rep.Imported != len(c.times) {
			t.Fatalf("%s: %v, %+v", c.name, err, rep)
		}
		res, unit, zone := rep.Clock()
		if res != graph.TimeTimestamps || unit != 1 || zone != c.zone {
			t.Errorf("%s: clock %s/%d/%s, want timestamps/1/%s", c.name, res, unit, zone, c.zone)
		}
		for _, x := range sink.txns {
			if x.DateOnly {
				t.Errorf("%s: %s is date-only", c.name, x.ID)
			}
		}
	}
	// A file of persons has no transactions and no clock.
	var sink recordingSink
	rep, err := ImportReader(context.Background(), strings.NewReader("iin,name\n850312300002,A\n"), &sink, Options{Name: "persons.csv"})
	if res, _, _ := rep.Clock(); err != nil || res != "" {
		t.Errorf("persons: clock %q, %v", res, err)
	}
}

func TestParseDateTimeClock(t *testing.T) {
	prague, _ := time.LoadLocation("Europe/Prague")
	for _, c := range []struct {
		s, layout string
		clock     bool
		want      time.Time
	}{
		{"930101", "yymmdd", false, time.Date(1993, 1, 1, 0, 0, 0, 0, prague)},
		{"931107 00:00:00", "yymmdd", true, time.Date(1993, 11, 7, 0, 0, 0, 0, prague)},
		{"2025-03-15", "iso", false, time.Date(2025, 3, 15, 0, 0, 0, 0, prague)},
		{"2025-03-15 10:22", "iso", true, time.Date(2025, 3, 15, 10, 22, 0, 0, prague)},
		{"15.03.2025", "auto", false, time.Date(2025, 3, 15, 0, 0, 0, 0, prague)},
		{"15.03.2025 10:22", "auto", true, time.Date(2025, 3, 15, 10, 22, 0, 0, prague)},
		{"1741996800", "epoch", true, time.Unix(1741996800, 0)},
	} {
		got, clock, err := ParseDateTimeClock(c.s, DateFormat{Layout: c.layout}, prague)
		if err != nil || clock != c.clock || !got.Equal(c.want) {
			t.Errorf("%s (%s) = %s, clock %v, %v; want %s, %v", c.s, c.layout, got, clock, err, c.want, c.clock)
		}
	}
}
