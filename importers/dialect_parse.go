package importers

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Number and date parsers for foreign dialects. The canonical ParseAmount
// and ParseTime stay strict; these accept what banks actually write.

var (
	errDecimalEmpty  = errors.New("amount is empty")
	errDecimalSyntax = errors.New("amount: want a number such as 1 234,56, 1234.56 or −12,5")
	errDecimalSeps   = errors.New("amount: decimal separator appears more than once")
)

// ParseDecimal parses an amount written the way bank exports write it and
// returns minor units (×100). It accepts:
//   - a decimal separator decimal ('.' or ','); 0 means auto: when both '.'
//     and ',' occur the last one is the decimal separator, a lone separator
//     is decimal unless exactly three digits follow it ("1,234" is 1234);
//   - thousands separated by spaces, no-break spaces (U+00A0, U+202F),
//     apostrophes or the other separator;
//   - a sign '-', '+', the Unicode minus '−' (U+2212) or en dash, before or
//     after the number, or accounting brackets "(12.50)";
//   - a currency symbol or code before or after the number ("$134.09",
//     "12 600,00 ₸", "100 KZT").
//
// More than two decimals are rounded half away from zero to whole minor units.
func ParseDecimal(s string, decimal byte) (int64, error) {
	var buf [40]byte
	digits := buf[:0]
	neg := false
	lastSep := byte(0)
	sepPos := -1 // index in digits where the chosen decimal separator sits
	nDot, nComma := 0, 0
	dotAt, commaAt := -1, -1 // digit count before the last '.' / ','
	started, ended := false, false
	brackets := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if ended {
				return 0, errDecimalSyntax
			}
			if len(digits) == len(buf) {
				return 0, errAmountOverflow
			}
			digits = append(digits, byte(r))
			started = true
		case r == '.' || r == ',':
			if !started || ended {
				return 0, errDecimalSyntax
			}
			if r == '.' {
				nDot++
				dotAt = len(digits)
			} else {
				nComma++
				commaAt = len(digits)
			}
			lastSep = byte(r)
		case r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\'' || r == '’' || r == '\t':
			if started && !ended {
				continue
			}
		case r == '-' || r == '−' || r == '–':
			if neg {
				return 0, errDecimalSyntax
			}
			neg = true
			if started {
				ended = true
			}
		case r == '+':
			if started {
				ended = true
			}
		case r == '(':
			if started {
				return 0, errDecimalSyntax
			}
			brackets++
		case r == ')':
			if brackets != 1 || !started {
				return 0, errDecimalSyntax
			}
			brackets++
			ended = true
		case unicode.IsLetter(r) || unicode.Is(unicode.Sc, r):
			// Currency symbols and codes, only around the number.
			if started {
				ended = true
			}
		default:
			return 0, errDecimalSyntax
		}
	}
	if len(digits) == 0 {
		if strings.TrimSpace(s) == "" {
			return 0, errDecimalEmpty
		}
		return 0, errDecimalSyntax
	}
	if brackets == 1 {
		return 0, errDecimalSyntax
	}
	if brackets == 2 {
		if neg {
			return 0, errDecimalSyntax
		}
		neg = true
	}
	// A separator must not end the number ("12," is a typo, not 12).
	if (lastSep == '.' && dotAt == len(digits)) || (lastSep == ',' && commaAt == len(digits)) {
		return 0, errDecimalSyntax
	}
	dec := decimal
	if dec == 0 {
		switch {
		case nDot > 0 && nComma > 0:
			dec = lastSep
		case nDot == 1:
			dec = '.'
			if len(digits)-dotAt == 3 {
				dec = ','
			}
		case nComma == 1:
			dec = ','
			if len(digits)-commaAt == 3 {
				dec = '.'
			}
		case nDot > 1:
			dec = ','
		default:
			dec = '.'
		}
	}
	switch dec {
	case '.':
		if nDot > 1 {
			return 0, errDecimalSeps
		}
		if nDot == 1 {
			if nComma > 0 && commaAt > dotAt {
				return 0, errDecimalSyntax
			}
			sepPos = dotAt
		}
	case ',':
		if nComma > 1 {
			return 0, errDecimalSeps
		}
		if nComma == 1 {
			if nDot > 0 && dotAt > commaAt {
				return 0, errDecimalSyntax
			}
			sepPos = commaAt
		}
	default:
		return 0, fmt.Errorf("amount: unknown decimal separator %q", dec)
	}
	whole, frac := digits, digits[:0:0]
	if sepPos >= 0 {
		whole, frac = digits[:sepPos], digits[sepPos:]
	}
	const limit = (1<<63 - 1) / 100
	var v int64
	for _, c := range whole {
		d := int64(c - '0')
		if v > (limit-d)/10 {
			return 0, errAmountOverflow
		}
		v = v*10 + d
	}
	v *= 100
	if len(frac) > 0 {
		f := int64(frac[0]-'0') * 10
		if len(frac) > 1 {
			f += int64(frac[1] - '0')
		}
		if len(frac) > 2 && frac[2] >= '5' {
			f++
		}
		v += f
		if v < 0 {
			return 0, errAmountOverflow
		}
	}
	if neg {
		v = -v
	}
	if err := CheckAmount(v); err != nil {
		return 0, err
	}
	return v, nil
}

// DateFormat says how a date or time column is written.
type DateFormat struct {
	// Layout is one of:
	//   auto     ISO, dd.mm.yyyy, yyyy/mm/dd, yyyymmdd or yymmdd, each with an optional time
	//   iso      2025-03-15, 2025-03-15 02:10[:SS], RFC 3339
	//   dmy      dd.mm.yyyy or dd.mm.yy (also / or -), optional " HH:MM[:SS]"
	//   mdy      mm/dd/yyyy, optional time (US exports)
	//   ymd      yyyy/mm/dd or yyyy.mm.dd or yyyy-mm-dd, optional time
	//   yymmdd   930101, optional " HH:MM:SS" (Berka)
	//   yyyymmdd 20250315, optional time
	//   epoch    Unix seconds; epoch_ms Unix milliseconds
	Layout string
	// Century fixes the century of two-digit years (1900: "45" is 1945).
	// Zero means years 00–69 are 20xx and 70–99 are 19xx.
	Century int
	// MonthOffset is subtracted from months above it: Czech and Slovak birth
	// numbers add 50 to the month of women.
	MonthOffset int
}

var errDateSyntax = errors.New("date: unrecognised date or time")

// ParseDateTime parses s in format f. A time without a zone is local time in
// loc (Almaty when loc is nil); the result is UTC. A bare date is midnight.
func ParseDateTime(s string, f DateFormat, loc *time.Location) (time.Time, error) {
	t, _, err := ParseDateTimeClock(s, f, loc)
	return t, err
}

// ParseDateTimeClock is ParseDateTime that also reports whether s gave a
// clock time: false for a bare date (its time is local midnight, but the
// clock is not known).
func ParseDateTimeClock(s string, f DateFormat, loc *time.Location) (time.Time, bool, error) {
	t, clock, err := parseDateTimeClock(s, f, loc)
	if err == nil {
		if err := CheckYear(t.Year()); err != nil {
			return time.Time{}, false, fmt.Errorf("date %q: %w", strings.TrimSpace(s), err)
		}
	}
	return t, clock, err
}

func parseDateTimeClock(s string, f DateFormat, loc *time.Location) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, errors.New("date is empty")
	}
	if loc == nil {
		loc = Almaty()
	}
	switch f.Layout {
	case "", "auto":
		for _, l := range [...]string{"iso", "dmy", "ymd", "yyyymmdd", "yymmdd"} {
			g := f
			g.Layout = l
			if t, clock, err := ParseDateTimeClock(s, g, loc); err == nil {
				return t, clock, nil
			}
		}
		return time.Time{}, false, errDateSyntax
	case "iso":
		if len(s) == 10 {
			if _, err := ParseDate(s); err != nil {
				return time.Time{}, false, err
			}
			t, err := ymdTime(f, num4(s[0:4]), num2(s[5:7]), num2(s[8:10]), "", loc)
			return t, false, err
		}
		t, err := ParseTime(s, loc)
		return t, true, err
	case "epoch", "epoch_ms":
		n, err := strconv.ParseInt(strings.TrimSuffix(s, ".0"), 10, 64)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("date %q: want whole Unix seconds", s)
		}
		if f.Layout == "epoch_ms" {
			return time.UnixMilli(n).UTC(), true, nil
		}
		return time.Unix(n, 0).UTC(), true, nil
	case "yymmdd", "yyyymmdd":
		w := 6
		if f.Layout == "yyyymmdd" {
			w = 8
		}
		date, rest, _ := strings.Cut(s, " ")
		if len(date) != w || !allDigits(date) {
			return time.Time{}, false, fmt.Errorf("date %q: want %s", s, f.Layout)
		}
		y := 0
		if w == 6 {
			y = expandYear(f, num2(date[0:2]))
		} else {
			y = num4(date[0:4])
		}
		t, err := ymdTime(f, y, num2(date[w-4:w-2]), num2(date[w-2:w]), rest, loc)
		return t, strings.TrimSpace(rest) != "", err
	case "dmy", "mdy", "ymd":
		date, rest, _ := strings.Cut(s, " ")
		if i := strings.IndexByte(date, 'T'); i > 0 && rest == "" {
			date, rest = date[:i], date[i+1:]
		}
		parts, ok := splitDate(date)
		if !ok {
			return time.Time{}, false, fmt.Errorf("date %q: want %s", s, f.Layout)
		}
		var y, m, d string
		switch f.Layout {
		case "dmy":
			d, m, y = parts[0], parts[1], parts[2]
		case "mdy":
			m, d, y = parts[0], parts[1], parts[2]
		default:
			y, m, d = parts[0], parts[1], parts[2]
		}
		if len(d) < 1 || len(d) > 2 || len(m) < 1 || len(m) > 2 || (len(y) != 4 && len(y) != 2) ||
			!allDigits(d) || !allDigits(m) || !allDigits(y) {
			return time.Time{}, false, fmt.Errorf("date %q: want %s", s, f.Layout)
		}
		yy := 0
		if len(y) == 2 {
			yy = expandYear(f, num2(y))
		} else {
			yy = num4(y)
		}
		mm, _ := strconv.Atoi(m)
		dd, _ := strconv.Atoi(d)
		t, err := ymdTime(f, yy, mm, dd, rest, loc)
		return t, strings.TrimSpace(rest) != "", err
	}
	return time.Time{}, false, fmt.Errorf("unknown date layout %q", f.Layout)
}

// splitDate splits "15.03.2025", "2022/09/01" or "15-03-25" into three parts.
func splitDate(s string) ([3]string, bool) {
	for _, sep := range [...]byte{'.', '/', '-'} {
		if p, ok := split3(s, sep); ok {
			return p, true
		}
	}
	return [3]string{}, false
}

// split3 splits s at sep when it holds sep exactly twice, or (clocks) once:
// the third part is then empty and n is 2.
func split3(s string, sep byte) ([3]string, bool) {
	p, n := split3n(s, sep)
	return p, n == 3
}

func split3n(s string, sep byte) (p [3]string, n int) {
	for n = 0; n < 3; n++ {
		i := strings.IndexByte(s, sep)
		if i < 0 {
			p[n] = s
			return p, n + 1
		}
		p[n], s = s[:i], s[i+1:]
	}
	return p, 4 // more than three parts
}

func num2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }
func num4(s string) int { return num2(s[0:2])*100 + num2(s[2:4]) }

// expandYear turns a two-digit year into a full one.
func expandYear(f DateFormat, yy int) int {
	if f.Century > 0 {
		return f.Century + yy
	}
	if yy < 70 {
		return 2000 + yy
	}
	return 1900 + yy
}

// ymdTime validates a date and an optional "HH:MM[:SS]" and builds the time.
func ymdTime(f DateFormat, y, m, d int, clock string, loc *time.Location) (time.Time, error) {
	if f.MonthOffset > 0 && m > f.MonthOffset {
		m -= f.MonthOffset
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(m, y) || y < 1 {
		return time.Time{}, fmt.Errorf("date %04d-%02d-%02d: out of range", y, m, d)
	}
	h, mi, sec := 0, 0, 0
	clock = strings.TrimSpace(clock)
	if clock != "" {
		parts, n := split3n(clock, ':')
		if n < 2 || n > 3 {
			return time.Time{}, fmt.Errorf("time %q: want HH:MM[:SS]", clock)
		}
		var vals [3]int
		for i, p := range parts[:n] {
			if i == 2 {
				p, _, _ = strings.Cut(p, ".") // fractional seconds dropped
			}
			if len(p) < 1 || len(p) > 2 || !allDigits(p) {
				return time.Time{}, fmt.Errorf("time %q: want HH:MM[:SS]", clock)
			}
			vals[i], _ = strconv.Atoi(p)
		}
		h, mi, sec = vals[0], vals[1], vals[2]
		if h > 23 || mi > 59 || sec > 59 {
			return time.Time{}, fmt.Errorf("time %q: out of range", clock)
		}
	}
	return time.Date(y, time.Month(m), d, h, mi, sec, 0, loc).UTC(), nil
}
