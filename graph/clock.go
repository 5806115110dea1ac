package graph

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // a batch's zone must resolve on machines without a zoneinfo database
)

// Clocks: every transaction time is UTC; the wall clock a clock-of-day rule
// reads (R9 night, R6's night factor, R15's calendar days) is that of the
// transaction's source, the zone its import batch recorded
// (docs/DETECTION.md, "Currencies and clocks"). A transaction whose source
// gave a date and no clock time (TxDateOnly) has no hour at all.

// zone is one wall clock of an index: its offsets from UTC over the span of
// the index's transactions, as (start, offset) steps.
type zone struct {
	name   string
	starts []int64 // ascending; starts[0] is math.MinInt64
	offs   []int64 // seconds east of UTC from starts[i]
}

// offset returns the zone's UTC offset at t, in seconds.
func (z *zone) offset(t int64) int64 {
	switch len(z.starts) {
	case 1:
		return z.offs[0]
	case 2: // Asia/Almaty, and any zone with one change in the span
		if t >= z.starts[1] {
			return z.offs[1]
		}
		return z.offs[0]
	}
	i, found := slices.BinarySearch(z.starts, t)
	if !found {
		i--
	}
	return z.offs[i]
}

// almatyOffset is the UTC offset of Asia/Almaty at t: +5 since 1 March 2024
// (00:00 local), +6 before (docs/DETECTION.md). It is used rather than the tz
// database so that an older zoneinfo on the machine cannot move the switch.
func almatyOffset(t int64) int64 {
	if t >= almatySwitch {
		return 5 * 3600
	}
	return 6 * 3600
}

const almatySwitch = 1709229600 // 2024-03-01T00:00:00+06:00

// newZone builds the offsets of a named zone between from and to (Unix
// seconds). Names are IANA zones ("Europe/Prague"), "UTC", or fixed offsets
// "UTC+05:00" / "UTC-03:30". An unknown name falls back to Asia/Almaty.
func newZone(name string, from, to int64) zone {
	if name == "" {
		name = DefaultTimeZone
	}
	if name == DefaultTimeZone {
		return zone{name: name, starts: []int64{math.MinInt64, almatySwitch}, offs: []int64{6 * 3600, 5 * 3600}}
	}
	loc, err := LoadZone(name)
	if err != nil {
		z := newZone(DefaultTimeZone, from, to)
		return z
	}
	if from > to {
		from, to = to, from
	}
	z := zone{name: name, starts: []int64{math.MinInt64}}
	_, off := time.Unix(from, 0).In(loc).Zone()
	z.offs = append(z.offs, int64(off))
	t := time.Unix(from, 0).In(loc)
	for range 10000 {
		_, end := t.ZoneBounds()
		if end.IsZero() || end.Unix() > to {
			break
		}
		_, off := end.In(loc).Zone()
		if int64(off) != z.offs[len(z.offs)-1] {
			z.starts = append(z.starts, end.Unix())
			z.offs = append(z.offs, int64(off))
		}
		t = end.In(loc)
	}
	return z
}

// LoadZone resolves a batch's zone name: an IANA name, "UTC", or a fixed
// offset written "UTC+05:00" (as FixedZoneName writes it).
func LoadZone(name string) (*time.Location, error) {
	if rest, ok := strings.CutPrefix(name, "UTC"); ok && rest != "" {
		sign := 1
		switch rest[0] {
		case '+':
		case '-':
			sign = -1
		default:
			return nil, fmt.Errorf("time zone %q: want UTC+HH:MM", name)
		}
		h, m, ok := strings.Cut(rest[1:], ":")
		hh, err1 := strconv.Atoi(h)
		mm := 0
		var err2 error
		if ok {
			mm, err2 = strconv.Atoi(m)
		}
		if err1 != nil || err2 != nil || hh > 14 || mm > 59 {
			return nil, fmt.Errorf("time zone %q: want UTC+HH:MM", name)
		}
		return time.FixedZone(name, sign*(hh*3600+mm*60)), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}

// FixedZoneName names a fixed UTC offset in seconds: "UTC", "UTC+05:00",
// "UTC-03:30".
func FixedZoneName(off int) string {
	if off == 0 {
		return "UTC"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, off/3600, off%3600/60)
}

// TimeUnit returns the time resolution of the index's transactions in
// seconds: 86400 when all or most of them (more than half) carry a date
// without a clock time (TxDateOnly), else 1. Rules measure windows and
// dwells in this unit: with dates only, a window shorter than a day still
// spans the day, and a dwell below a day cannot be measured.
func (ix *Index) TimeUnit() int64 {
	if ix.timeUnit == 0 {
		return 1
	}
	return ix.timeUnit
}

// computeTimeUnit derives TimeUnit from the flags.
func (ix *Index) computeTimeUnit() {
	n := 0
	for _, f := range ix.txFlags {
		if f&TxDateOnly != 0 {
			n++
		}
	}
	ix.timeUnit = 1
	if len(ix.txFlags) > 0 && 2*n > len(ix.txFlags) {
		ix.timeUnit = 86400
	}
}

// TxZone returns the name of the wall-clock zone of transaction i's source.
func (ix *Index) TxZone(i uint32) string { return ix.zoneOf(i).name }

func (ix *Index) zoneOf(i uint32) *zone {
	if len(ix.zones) == 0 {
		return &defaultZone
	}
	if ix.txZone == nil {
		return &ix.zones[0]
	}
	return &ix.zones[ix.txZone[i]]
}

var defaultZone = newZone(DefaultTimeZone, 0, 0)

// TxLocalHour returns the wall-clock hour (0–23) of transaction i in its
// source's zone; ok is false when the source gave no clock time.
func (ix *Index) TxLocalHour(i uint32) (hour int, ok bool) { return ix.localHourAt(i, ix.TxTime(i)) }

// localHourAt is TxLocalHour for a caller that holds the time t of i (an
// edge's), saving the lookup.
func (ix *Index) localHourAt(i uint32, t int64) (int, bool) {
	if ix.txFlags[i]&TxDateOnly != 0 {
		return 0, false
	}
	l := t + ix.zoneOf(i).offset(t)
	return int(((l % 86400) + 86400) % 86400 / 3600), true
}

// TxLocalDay numbers the calendar day of transaction i in its source's
// zone (days since 1970-01-01 there).
func (ix *Index) TxLocalDay(i uint32) int64 { return ix.localDayAt(i, ix.TxTime(i)) }

func (ix *Index) localDayAt(i uint32, t int64) int64 {
	return floorDay(t + ix.zoneOf(i).offset(t))
}

func floorDay(l int64) int64 {
	if l < 0 {
		return (l - 86399) / 86400
	}
	return l / 86400
}

// Zones lists the wall-clock zones of the index's sources.
func (ix *Index) Zones() []string {
	out := make([]string, len(ix.zones))
	for i, z := range ix.zones {
		out[i] = z.name
	}
	return out
}

// buildZones lays out the zone table from zone names and per-transaction
// zone indexes (nil when every transaction is in names[0]).
func (ix *Index) buildZones(names []string) {
	if len(names) == 0 || len(ix.txFrom) == 0 {
		ix.zones, ix.txZone = nil, nil
		if len(names) > 0 {
			ix.zones = []zone{newZone(names[0], 0, 0)}
		}
		return
	}
	lo, hi := ix.TxTime(0), ix.TxTime(uint32(len(ix.txFrom)-1)) // transactions are in time order
	ix.zones = make([]zone, len(names))
	for i, n := range names {
		ix.zones[i] = newZone(n, lo-86400, hi+86400)
	}
}

// ZoneOffset returns the UTC offset, in seconds, of a batch zone (as
// LoadZone reads it; Asia/Almaty by the rule of almatyOffset) at t.
func ZoneOffset(zone string, t time.Time) int {
	z := newZone(zone, t.Unix(), t.Unix())
	return int(z.offset(t.Unix()))
}
