package importers

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Asia/Almaty must resolve on machines without a zoneinfo database.

	"casegraph/graph"
)

// This file is the one place where identifiers are normalised and validated.
// The demo generator uses the check-digit helpers to make valid numbers, so
// generation and validation cannot drift apart.

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// allDigits reports whether s is non-empty and made of ASCII digits only.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// stripSeparators removes the characters in seps and non-breaking spaces
// (U+00A0, U+202F, common in spreadsheet exports). It returns s itself when
// there is nothing to remove, so clean input costs no allocation.
func stripSeparators(s, seps string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c >= 0x80 || strings.IndexByte(seps, c) >= 0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == '\u00a0' || r == '\u202f' || (r < 0x80 && strings.IndexByte(seps, byte(r)) >= 0) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var iinW1 = [11]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
var iinW2 = [11]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2}

// IINCheckDigit returns the check digit of an IIN or BIN from its first 11
// digits (DOMAIN §1.1: weights 1..11, and if that gives 10 a second pass with
// weights 3..11,1,2). ok is false when first11 is not 11 ASCII digits or when
// the second pass gives 10 again: such a number is never issued.
func IINCheckDigit(first11 string) (int, bool) {
	if len(first11) != 11 || !allDigits(first11) {
		return 0, false
	}
	s := 0
	for i := 0; i < 11; i++ {
		s += int(first11[i]-'0') * iinW1[i]
	}
	c := s % 11
	if c != 10 {
		return c, true
	}
	s = 0
	for i := 0; i < 11; i++ {
		s += int(first11[i]-'0') * iinW2[i]
	}
	c = s % 11
	if c == 10 {
		return 0, false
	}
	return c, true
}

// NormalizeIIN validates an IIN or BIN: 12 digits (spaces allowed) with a
// correct check digit. It returns the 12 digits.
func NormalizeIIN(s string) (string, error) {
	d := stripSeparators(strings.TrimSpace(s), " \t")
	if len(d) != 12 || !allDigits(d) {
		return "", fmt.Errorf("iin %q: want 12 digits", s)
	}
	c, ok := IINCheckDigit(d[:11])
	if !ok {
		return "", fmt.Errorf("iin %q: not a valid number (check digit undefined)", s)
	}
	if int(d[11]-'0') != c {
		return "", fmt.Errorf("iin %q: checksum fails (last digit should be %d)", s, c)
	}
	return d, nil
}

// LuhnValid reports whether digits (ASCII digits only, at least two) pass the
// Luhn check of ISO/IEC 7812.
func LuhnValid(digits string) bool {
	if len(digits) < 2 || !allDigits(digits) {
		return false
	}
	return luhnSum(digits, false)%10 == 0
}

// luhnSum sums digits from the right, doubling every second one; when
// doubleFirst is set the rightmost digit is doubled (a check digit follows).
func luhnSum(digits string, doubleFirst bool) int {
	sum := 0
	dbl := doubleFirst
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if dbl {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		dbl = !dbl
	}
	return sum
}

// LuhnCheckDigit returns the digit that, appended to partial, makes a number
// that passes the Luhn check. It returns -1 if partial holds anything but
// ASCII digits.
func LuhnCheckDigit(partial string) int {
	if partial != "" && !allDigits(partial) {
		return -1
	}
	return (10 - luhnSum(partial, true)%10) % 10
}

// isMaskChar reports whether r hides a PAN digit in a masked card number.
func isMaskChar(r rune) bool {
	return r == '*' || r == 'X' || r == 'x' || r == '•' || r == '#'
}

// NormalizePAN validates a card number. A full PAN is 13–19 digits (spaces or
// dashes allowed) that pass Luhn and is returned as digits. A masked PAN shows
// the first 6 to 8 digits and the last 4, with the rest hidden by `*`, `X`,
// `•` or `#`; it is returned with `*` for every hidden digit,
// e.g. "440043******7894". A masked PAN cannot be checksummed; only its shape
// is checked.
func NormalizePAN(s string) (string, error) {
	d := stripSeparators(strings.TrimSpace(s), " \t-")
	if allDigits(d) {
		if len(d) < 13 || len(d) > 19 {
			return "", fmt.Errorf("pan %q: want 13 to 19 digits, got %d", s, len(d))
		}
		if !LuhnValid(d) {
			return "", fmt.Errorf("pan %q: luhn check fails", s)
		}
		return d, nil
	}
	// Masked: digits, a run of mask characters, digits.
	var b strings.Builder
	b.Grow(19)
	lead, masked, tail, n := 0, 0, 0, 0
	for _, r := range d {
		n++
		switch {
		case r >= '0' && r <= '9':
			if masked == 0 {
				lead++
			} else {
				tail++
			}
			b.WriteRune(r)
		case isMaskChar(r):
			if tail > 0 {
				return "", fmt.Errorf("pan %q: mask must be one run between the first and last digits", s)
			}
			masked++
			b.WriteByte('*')
		default:
			return "", fmt.Errorf("pan %q: unexpected character %q", s, r)
		}
	}
	if n < 13 || n > 19 {
		return "", fmt.Errorf("pan %q: want 13 to 19 characters, got %d", s, n)
	}
	if lead < 6 || lead > 8 || tail != 4 {
		return "", fmt.Errorf("pan %q: masked card must show the first 6 to 8 and the last 4 digits", s)
	}
	return b.String(), nil
}

// ibanMod97 computes the ISO 7064 mod-97 of the IBAN rearranged as
// rest + head (letters as 10..35). It reports false on a character that is
// neither an ASCII digit nor an upper-case letter.
func ibanMod97(parts ...string) (int, bool) {
	m := 0
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			c := p[i]
			switch {
			case isDigit(c):
				m = (m*10 + int(c-'0')) % 97
			case c >= 'A' && c <= 'Z':
				v := int(c-'A') + 10
				m = (m*100 + v) % 97
			default:
				return 0, false
			}
		}
	}
	return m, true
}

// IBANCheckDigits returns the two check digits for an IBAN of the given
// country (two upper-case letters) and BBAN (digits and upper-case letters):
// the IBAN is country + check digits + bban. It returns "" for malformed input.
func IBANCheckDigits(country, bban string) string {
	if len(country) != 2 || !isUpper(country[0]) || !isUpper(country[1]) {
		return ""
	}
	m, ok := ibanMod97(bban, country, "00")
	if !ok {
		return ""
	}
	c := 98 - m
	return string([]byte{byte('0' + c/10), byte('0' + c%10)})
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// NormalizeIBAN validates an IBAN: spaces are removed and letters upper-cased.
// A Kazakh IBAN must be `KZ` + 5 digits (check digits and bank code) + 13
// digits or letters. Other countries are accepted with the generic ISO 13616
// shape (15 to 34 characters). Every IBAN must pass mod-97.
func NormalizeIBAN(s string) (string, error) {
	d := stripSeparators(strings.TrimSpace(s), " \t")
	u := d
	for i := 0; i < len(d); i++ {
		if d[i] >= 'a' && d[i] <= 'z' {
			u = strings.ToUpper(d)
			break
		}
	}
	if len(u) < 4 || !isUpper(u[0]) || !isUpper(u[1]) || !isDigit(u[2]) || !isDigit(u[3]) {
		return "", fmt.Errorf("iban %q: want two letters and two check digits first", s)
	}
	if u[:2] == "KZ" {
		if len(u) != 20 {
			return "", fmt.Errorf("iban %q: a KZ iban has 20 characters, got %d", s, len(u))
		}
		for i := 4; i < 7; i++ {
			if !isDigit(u[i]) {
				return "", fmt.Errorf("iban %q: bank code must be 3 digits", s)
			}
		}
	} else if len(u) < 15 || len(u) > 34 {
		return "", fmt.Errorf("iban %q: want 15 to 34 characters, got %d", s, len(u))
	}
	// Check digits 00, 01 and 99 are never issued (ISO 13616 uses 02–98),
	// although 00 passes mod-97 whenever 97 would.
	if cd := u[2:4]; cd == "00" || cd == "01" || cd == "99" {
		return "", fmt.Errorf("iban %q: check digits %s are never issued", s, cd)
	}
	m, ok := ibanMod97(u[4:], u[:4])
	if !ok {
		return "", fmt.Errorf("iban %q: only digits and latin letters allowed", s)
	}
	if m != 1 {
		return "", fmt.Errorf("iban %q: mod-97 check fails", s)
	}
	return u, nil
}

// NormalizePhone turns a Kazakhstan or Russia number into E.164 +7XXXXXXXXXX.
// Accepted: "+7 701 555 1234", "8 (701) 555-12-34", "87015551234",
// "77015551234" and the 10-digit national number "7015551234".
func NormalizePhone(s string) (string, error) {
	t := strings.TrimSpace(s)
	plus := strings.HasPrefix(t, "+")
	if plus {
		t = t[1:]
	}
	d := stripSeparators(t, " \t-().")
	if !allDigits(d) {
		return "", fmt.Errorf("phone %q: want digits, spaces, dashes or brackets only", s)
	}
	switch {
	case len(d) == 11 && d[0] == '7':
	case len(d) == 11 && d[0] == '8' && !plus:
		d = "7" + d[1:]
	case len(d) == 10 && !plus && d[0] != '8' && d[0] != '0':
		d = "7" + d
	default:
		return "", fmt.Errorf("phone %q: want a +7 number with 10 digits after the country code", s)
	}
	return "+" + d, nil
}

// errAmount* are the reasons ParseAmount gives; they carry no value so that
// the hot path does not format.
var (
	errAmountEmpty    = errors.New("amount is empty")
	errAmountSyntax   = errors.New("amount: want digits with at most 2 decimals, e.g. 495000.50")
	errAmountOverflow = errors.New("amount is too large")
	errAmountRange    = fmt.Errorf("amount is out of range: at most %d minor units (10^13 in major units) either way", MaxAmountMinor)
)

// MaxAmountMinor bounds the magnitude of one amount, in minor units (10^15,
// i.e. 10 trillion tenge). A larger amount is no payment but a hostile or
// broken file, and a few of them would wrap an int64 sum.
const MaxAmountMinor = 1_000_000_000_000_000

// CheckAmount refuses an amount whose magnitude exceeds MaxAmountMinor.
func CheckAmount(v int64) error {
	if v > MaxAmountMinor || v < -MaxAmountMinor {
		return errAmountRange
	}
	return nil
}

// MinYear and MaxYear bound the dates and times casegraph stores. Times are
// nanoseconds since 1970 in an int64 (1677–2262): a year outside that would
// be stored wrapped, so anything outside 1800–2200 is refused with a reason.
const (
	MinYear = 1800
	MaxYear = 2200
)

// CheckYear refuses a year outside MinYear–MaxYear.
func CheckYear(y int) error {
	if y < MinYear || y > MaxYear {
		return fmt.Errorf("year %d is outside the supported range %d–%d", y, MinYear, MaxYear)
	}
	return nil
}

// ParseAmount parses a strict decimal ("495000", "495000.50", "-12.5",
// "+3") into minor units (×100). No thousands separators, no exponent, at
// most two decimals.
func ParseAmount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errAmountEmpty
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasDot && (len(frac) < 1 || len(frac) > 2 || !allDigits(frac))) {
		return 0, errAmountSyntax
	}
	const maxInt = 1<<63 - 1
	const limit = maxInt / 100
	var v int64
	for i := 0; i < len(whole); i++ {
		d := int64(whole[i] - '0')
		if v > (limit-d)/10 {
			return 0, errAmountOverflow
		}
		v = v*10 + d
	}
	v *= 100
	if hasDot {
		f := int64(frac[0]-'0') * 10
		if len(frac) == 2 {
			f += int64(frac[1] - '0')
		}
		if f > maxInt-v {
			return 0, errAmountOverflow
		}
		v += f
	}
	if neg {
		v = -v
	}
	if err := CheckAmount(v); err != nil {
		return 0, err
	}
	return v, nil
}

var errTimeSyntax = errors.New("time: want RFC 3339 (2025-03-15T02:10:00+05:00) or 2025-03-15 02:10[:SS]")

// num parses n ASCII digits at s[i:].
func num(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for j := i; j < i+n; j++ {
		if !isDigit(s[j]) {
			return 0, false
		}
		v = v*10 + int(s[j]-'0')
	}
	return v, true
}

// ParseTime parses "YYYY-MM-DDTHH:MM[:SS[.frac]]" with `T` or a space between
// date and time, followed by `Z`, `±HH:MM` or nothing. A time without a zone
// is local time in loc (Almaty when loc is nil). The result is in UTC.
// It is hand-written because time.Parse dominates import cost otherwise.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	y, ok1 := num(s, 0, 4)
	mo, ok2 := num(s, 5, 2)
	d, ok3 := num(s, 8, 2)
	h, ok4 := num(s, 11, 2)
	mi, ok5 := num(s, 14, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') || s[13] != ':' {
		return time.Time{}, errTimeSyntax
	}
	i := 16
	sec, nsec := 0, 0
	if i < len(s) && s[i] == ':' {
		v, ok := num(s, i+1, 2)
		if !ok {
			return time.Time{}, errTimeSyntax
		}
		sec = v
		i += 3
		if i < len(s) && s[i] == '.' {
			i++
			start := i
			scale := 100000000
			for i < len(s) && isDigit(s[i]) {
				if i-start < 9 {
					nsec += int(s[i]-'0') * scale
					scale /= 10
				}
				i++
			}
			if i == start {
				return time.Time{}, errTimeSyntax
			}
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("time %q: date or time out of range", s)
	}
	if err := CheckYear(y); err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	rest := s[i:]
	switch {
	case rest == "":
		if loc == nil {
			loc = Almaty()
		}
		return time.Date(y, time.Month(mo), d, h, mi, sec, nsec, loc).UTC(), nil
	case rest == "Z" || rest == "z":
		return time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC), nil
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest, 1, 2)
		om, ok2 := num(rest, 4, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, errTimeSyntax
		}
		off := time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
		if rest[0] == '-' {
			off = -off
		}
		return time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC).Add(-off), nil
	}
	return time.Time{}, errTimeSyntax
}

// daysIn returns the number of days in month m of year y.
func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// ParseDate checks a calendar date "YYYY-MM-DD" and returns it unchanged.
func ParseDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	y, ok1 := num(s, 0, 4)
	m, ok2 := num(s, 5, 2)
	d, ok3 := num(s, 8, 2)
	if len(s) != 10 || !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return "", fmt.Errorf("date %q: want a calendar date YYYY-MM-DD", s)
	}
	if err := CheckYear(y); err != nil {
		return "", fmt.Errorf("date %q: %w", s, err)
	}
	return s, nil
}

// almaty loads Asia/Almaty once; the embedded tzdata makes failure impossible
// in practice, and the fallback is the zone's current fixed offset.
var almaty = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		return time.FixedZone("Asia/Almaty", 5*60*60)
	}
	return loc
})

// Almaty returns the Asia/Almaty time zone, the default for zone-less times.
func Almaty() *time.Location { return almaty() }

// ParseRef parses a typed reference ("card:4400430000000016", "iin:…",
// "iban:…", "wallet:TRON:T…", "exchange:EX-0001", "phone:…", "ip:…", "cash")
// and normalises and validates its key for the kind: IIN checksum, PAN Luhn
// (or masked shape), IBAN mod-97, E.164 phone, canonical IP, upper-case
// wallet chain. A masked card may carry a disambiguation suffix after `~`
// ("card:440043******7894~KASPI"), which is kept as given.
func ParseRef(s string) (graph.Ref, error) {
	r, err := graph.ParseRef(s)
	if err != nil {
		return graph.Ref{}, err
	}
	key, err := normalizeKey(r.Kind, r.Key)
	if err != nil {
		return graph.Ref{}, err
	}
	r.Key = key
	return r, nil
}

// normalizeKey validates and normalises the key of a reference of kind k.
func normalizeKey(k graph.Kind, key string) (string, error) {
	key = strings.TrimSpace(key)
	switch k {
	case graph.KindPerson:
		return NormalizeIIN(key)
	case graph.KindCard:
		pan, suffix, hasSuffix := strings.Cut(key, "~")
		n, err := NormalizePAN(pan)
		if err != nil {
			return "", err
		}
		if hasSuffix {
			suffix = strings.TrimSpace(suffix)
			if suffix == "" || strings.IndexByte(n, '*') < 0 {
				return "", fmt.Errorf("card %q: a ~suffix is only for masked cards and must not be empty", key)
			}
			return n + "~" + suffix, nil
		}
		return n, nil
	case graph.KindAccount:
		return NormalizeIBAN(key)
	case graph.KindPhone:
		return NormalizePhone(key)
	case graph.KindWallet:
		chain, addr, ok := strings.Cut(key, ":")
		chain, addr = strings.TrimSpace(chain), strings.TrimSpace(addr)
		if !ok || chain == "" || addr == "" {
			return "", fmt.Errorf("wallet %q: want CHAIN:address, e.g. TRON:TXYZ…", key)
		}
		for i := 0; i < len(chain); i++ {
			if chain[i] >= 'a' && chain[i] <= 'z' {
				chain = strings.ToUpper(chain)
				break
			}
		}
		return chain + ":" + addr, nil
	case graph.KindIP:
		a, err := netip.ParseAddr(key)
		if err != nil {
			return "", fmt.Errorf("ip %q: %w", key, err)
		}
		// Keep the input when it is already canonical: no allocation.
		var buf [64]byte
		if c := a.AppendTo(buf[:0]); string(c) == key {
			return key, nil
		}
		return a.String(), nil
	case graph.KindCash:
		return "cash", nil
	}
	if key == "" {
		return "", fmt.Errorf("%s reference: empty key", k)
	}
	return key, nil
}

// parseTri reads a yes/no flag: yes/no/true/false/1/0/да/нет/y/n, any case;
// empty is unknown.
func parseTri(s string) (graph.Tri, bool) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return graph.TriUnknown, true
	case "yes", "y", "true", "1", "да", "д", "иә":
		return graph.TriYes, true
	case "no", "n", "false", "0", "нет", "н", "жоқ":
		return graph.TriNo, true
	}
	return graph.TriUnknown, false
}
