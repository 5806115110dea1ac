package export

import (
	"regexp"
	"strings"

	"casegraph/graph"
)

// Redaction masks the identifiers that must not leave the unit (DOMAIN §1.3):
// the middle digits of a full PAN (first 6 and last 4 stay), all but the
// last 4 digits of an IIN, and every digit of a phone number but the country
// code and the last 2. The same identifier is masked the same way in every
// file: keys go through redRef, free text through txt, and both use the same
// mask functions.

// redRef returns the reference as it is shown.
func (d *doc) redRef(r graph.Ref) graph.Ref {
	if !d.redact {
		return r
	}
	switch r.Kind {
	case graph.KindCard:
		key, suffix, _ := strings.Cut(r.Key, "~")
		if allDigits(key) {
			key = maskPAN(key)
		}
		if suffix != "" {
			key += "~" + d.txt(suffix)
		}
		return graph.Ref{Kind: r.Kind, Key: key}
	case graph.KindPerson:
		if allDigits(r.Key) && len(r.Key) == 12 {
			return graph.Ref{Kind: r.Kind, Key: maskIIN(r.Key)}
		}
	case graph.KindPhone:
		if p, ok := phoneDigits(r.Key); ok {
			return graph.Ref{Kind: r.Kind, Key: maskPhone(p)}
		}
	}
	return graph.Ref{Kind: r.Kind, Key: d.txt(r.Key)}
}

// txt redacts identifiers inside free text (names, properties, references,
// notes, queries) when redacting, and returns s unchanged otherwise.
func (d *doc) txt(s string) string {
	if !d.redact {
		return s
	}
	return scrub(s)
}

func maskPAN(digits string) string {
	if len(digits) < 10 {
		return digits
	}
	return digits[:6] + strings.Repeat("*", len(digits)-10) + digits[len(digits)-4:]
}

func maskIIN(digits string) string {
	return strings.Repeat("*", len(digits)-4) + digits[len(digits)-4:]
}

// maskPhone masks an 11-digit phone number (7XXXXXXXXXX) as "+7*******NN".
func maskPhone(digits string) string {
	return "+" + digits[:1] + strings.Repeat("*", len(digits)-3) + digits[len(digits)-2:]
}

// phoneDigits recognises a Kazakh or Russian phone number written as E.164
// (+77015551234), with a trunk 8 (87015551234) or as 11 digits starting with
// 7, and returns its 11 digits starting with 7.
func phoneDigits(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	digits := b.String()
	if len(digits) != 11 {
		return "", false
	}
	switch digits[0] {
	case '7':
		return digits, true
	case '8':
		return "7" + digits[1:], true
	}
	return "", false
}

var (
	// phonePattern finds written-out phone numbers: +7 701 555 1234,
	// 8 (701) 555-12-34, +77015551234.
	phonePattern = regexp.MustCompile(`(?:\+7|\b8|\b7)[ \-]?\(?\d{3}\)?[ \-]?\d{3}[ \-]?\d{2}[ \-]?\d{2}\b`)
	// groupedPAN finds card numbers written in groups: 4400 4300 0000 0015.
	groupedPAN = regexp.MustCompile(`\b\d{4}(?:[ \-]\d{4}){2}[ \-]\d{1,7}\b`)
	// splitIIN finds an IIN written as birth date and serial: 850312 300002.
	splitIIN = regexp.MustCompile(`\b\d{6} \d{6}\b`)
	// digitRun finds bare runs of digits.
	digitRun = regexp.MustCompile(`\d{10,19}`)
)

// scrub masks full PANs (Luhn-valid 13–19 digits), IINs (12 digits with a
// valid checksum) and phone numbers in s.
func scrub(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	s = groupedPAN.ReplaceAllStringFunc(s, func(m string) string {
		if dg := onlyDigits(m); len(dg) >= 13 && len(dg) <= 19 && luhnValid(dg) {
			return maskPAN(dg)
		}
		return m
	})
	s = splitIIN.ReplaceAllStringFunc(s, func(m string) string {
		if dg := onlyDigits(m); iinValid(dg) {
			return maskIIN(dg)
		}
		return m
	})
	s = phonePattern.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "+") || strings.ContainsAny(m, " -(") || len(onlyDigits(m)) == 11 {
			if p, ok := phoneDigits(m); ok {
				return maskPhone(p)
			}
		}
		return m
	})
	return replaceRuns(s)
}

// replaceRuns masks bare digit runs that are identifiers. A run glued to an
// ASCII letter or digit (inside an IBAN, a hex hash or a transaction id) is
// left alone: it is part of another identifier.
func replaceRuns(s string) string {
	locs := digitRun.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		i, j := l[0], l[1]
		if (i > 0 && isASCIIAlnum(s[i-1])) || (j < len(s) && isASCIIAlnum(s[j])) {
			continue
		}
		run := s[i:j]
		var rep string
		switch {
		case len(run) == 12 && iinValid(run):
			rep = maskIIN(run)
		case len(run) >= 13 && luhnValid(run):
			rep = maskPAN(run)
		case len(run) == 11 && (run[0] == '7' || run[0] == '8'):
			p, _ := phoneDigits(run)
			rep = maskPhone(p)
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		last = j
	}
	b.WriteString(s[last:])
	return b.String()
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func onlyDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// luhnValid checks the ISO/IEC 7812 check digit.
func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		v := int(digits[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// iinValid checks a 12-digit IIN/BIN check digit (DOMAIN §1.1).
func iinValid(s string) bool {
	if len(s) != 12 || !allDigits(s) {
		return false
	}
	c := 0
	for i := 0; i < 11; i++ {
		c += int(s[i]-'0') * (i + 1)
	}
	c %= 11
	if c == 10 {
		c = 0
		for i := 0; i < 11; i++ {
			c += int(s[i]-'0') * ((i+2)%11 + 1)
		}
		c %= 11
		if c == 10 {
			return false
		}
	}
	return c == int(s[11]-'0')
}
