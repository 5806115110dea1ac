package importers

import (
	"time"

	"casegraph/graph"
)

// TimeCounts says how a file's transactions gave their times; the import
// batch records its summary (Report.Clock) as graph.Batch.TimeResolution,
// TimeUnit and TimeZone (docs/FORMATS.md, "Time resolution and zone").
type TimeCounts struct {
	Timestamps int   // a date and a clock time
	Midnights  int   // of Timestamps, those at 00:00:00 on the file's wall clock
	Dates      int   // a date and no clock time
	Steps      int   // simulation steps
	StepUnit   int64 // seconds per step
	firstDay   int64 // local day of the first timestamp, to tell one day from many
	manyDays   bool
	// Explicit offsets of canonical timestamps: set while every timestamp
	// carried the same one (`Z`, `+01:00`) differing from the zone's own.
	offset    int
	offsetSet bool
	offsetMix bool // a timestamp without an offset, or another offset
}

// AddTimestamp counts a time given with a clock time; loc is the wall clock
// the file's zone-less times are read in.
func (c *TimeCounts) AddTimestamp(at time.Time, loc *time.Location) {
	l := at.In(loc)
	day := int64(l.YearDay()) + 400*int64(l.Year())
	if c.Timestamps == 0 {
		c.firstDay = day
	} else if day != c.firstDay {
		c.manyDays = true
	}
	c.Timestamps++
	if l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0 {
		c.Midnights++
	}
}

// AddDate counts a time given as a date only.
func (c *TimeCounts) AddDate() { c.Dates++ }

// AddStep counts a time given as a simulation step of unit.
func (c *TimeCounts) AddStep(unit time.Duration) {
	c.Steps++
	c.StepUnit = int64(unit / time.Second)
}

// AddOffset notes the UTC offset a canonical timestamp stated (`Z` is 0),
// or that it stated none (explicit false).
func (c *TimeCounts) AddOffset(off int, explicit bool) {
	switch {
	case !explicit:
		c.offsetMix = true
	case !c.offsetSet:
		c.offset, c.offsetSet = off, true
	case off != c.offset:
		c.offsetMix = true
	}
}

// minMidnights is how many timestamps, all at midnight on more than one
// day, make a file read as dates: AMLSim writes its day steps as
// "2011-01-01T00:00:00Z".
const minMidnights = 10

// Resolution summarises the counts: graph.TimeTimestamps, TimeDates,
// TimeSteps or TimeMixed, and the finest step the file resolves in seconds;
// "" and 0 for a file without transactions. A file whose every timestamp
// is at midnight, over several days, gives dates: its clock is not known.
func (c TimeCounts) Resolution() (string, int64) {
	ts := c.Timestamps
	dates := c.Dates
	if ts >= minMidnights && c.Midnights == ts && c.manyDays {
		dates, ts = dates+ts, 0
	}
	switch {
	case c.Steps > 0 && ts == 0 && dates == 0:
		return graph.TimeSteps, max(1, c.StepUnit)
	case ts > 0 && dates == 0 && c.Steps == 0:
		return graph.TimeTimestamps, 1
	case dates > 0 && ts == 0 && c.Steps == 0:
		return graph.TimeDates, 86400
	case ts+dates+c.Steps == 0:
		return "", 0
	}
	return graph.TimeMixed, 1
}

// Zone returns the wall-clock zone of a file whose zone-less times are read
// in zone: a fixed offset instead when every timestamp stated the same
// offset and it is not the zone's own at that time.
func (c TimeCounts) Zone(zone string, at time.Time) string {
	if !c.offsetSet || c.offsetMix {
		return zone
	}
	if graph.ZoneOffset(zone, at) == c.offset {
		return zone
	}
	return graph.FixedZoneName(c.offset)
}

// Clock returns what the import batch records about the file's times.
func (r Report) Clock() (resolution string, unit int64, zone string) {
	resolution, unit = r.Times.Resolution()
	return resolution, unit, r.TimeZone
}

// ZoneName names a location for the batch record: its IANA name, or "UTC".
func ZoneName(loc *time.Location) string {
	if loc == nil {
		return graph.DefaultTimeZone
	}
	if n := loc.String(); n != "" && n != "Local" {
		return n
	}
	return "UTC"
}

// timeOffset reports the offset a canonical timestamp states at its end
// (`Z`, `±HH:MM`), if it states one.
func timeOffset(s string) (int, bool) {
	if n := len(s); n > 0 && (s[n-1] == 'Z' || s[n-1] == 'z') {
		return 0, true
	}
	if n := len(s); n >= 22 && (s[n-6] == '+' || s[n-6] == '-') && s[n-3] == ':' {
		h, ok1 := num(s, n-5, 2)
		m, ok2 := num(s, n-2, 2)
		if ok1 && ok2 {
			off := h*3600 + m*60
			if s[n-6] == '-' {
				off = -off
			}
			return off, true
		}
	}
	return 0, false
}
