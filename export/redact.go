package export

import (
	"regexp"
	"strings"

	"casegraph/graph"
)

// Redaction pseudonymises every identifier (pseudo.go): keys go through
// redRef, free text through txt, and both derive the same pseudonym from
// the same identifier. scrub, the masks below, is what an identifier's
// shape alone gives away when no key is at hand (MaskedIdentifier
// recognises both, so a redacted export is never imported as a case).

// redRef returns the reference as it is shown.
func (d *doc) redRef(r graph.Ref) graph.Ref {
	if !d.redact {
		return r
	}
	if keptKind(r.Kind) {
		return graph.Ref{Kind: r.Kind, Key: d.txt(r.Key)}
	}
	return graph.Ref{Kind: r.Kind, Key: d.ps.of(r.Kind, normal(r.Kind, r.Key))}
}

// txt pseudonymises identifiers inside free text (names, properties,
// references, notes, queries) when redacting, and returns s unchanged
// otherwise.
func (d *doc) txt(s string) string {
	if !d.redact {
		return s
	}
	return d.ps.text(s, true)
}

// fileName redacts a source file name when redacting: identifiers glued to
// letters are replaced too (card4400430000000015.csv).
func (d *doc) fileName(s string) string {
	if !d.redact {
		return s
	}
	return d.ps.text(s, false)
}

// masker turns an identifier found by its shape (a card's digits, an IIN,
// a phone's 11 digits starting with 7) into what is written instead.
type masker func(k graph.Kind, norm string) string

// defaultMask masks the middle digits of a PAN, all but the last 4 of an
// IIN, all but the country code and last 2 of a phone number.
func defaultMask(k graph.Kind, norm string) string {
	switch k {
	case graph.KindCard:
		return maskPAN(norm)
	case graph.KindPerson:
		return maskIIN(norm)
	}
	return maskPhone(norm)
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

// numberCluster finds digit groups written together: separated by
// spaces (also no-break and thin spaces), dots, hyphens, dashes, slashes
// or parentheses, one to three at a time, optionally after a "+". Every
// spelling of an identifier is one cluster: 4400.4300.0000.0015,
// 4400/4300/0000/0015, 440043 0000000015, 850312-300002, +7 (701) 555-12-34,
// 8 778 894 54 77.
var numberCluster = regexp.MustCompile(`\+?\(?[0-9]+(?:[ \x{00a0}\x{202f}\x{2009}.\-\x{2013}/()]{1,3}[0-9]+)*`)

// digitGroup is one run of digits inside a cluster, by byte offsets.
type digitGroup struct{ i, j int }

// scrub masks full PANs (Luhn-valid 13–19 digits), IINs (12 digits with a
// valid checksum) and Kazakh or Russian phone numbers in s, however their
// digits are grouped. A run glued to an ASCII letter or digit (inside an
// IBAN, a hex hash or a transaction id) is left alone.
func scrub(s string) string { return scrubText(s, true, defaultMask) }

// scrubFileName is scrub for file names, where an identifier is often glued
// to letters (card4400430000000015.csv): it masks those too.
func scrubFileName(s string) string { return scrubText(s, false, defaultMask) }

func scrubText(s string, glue bool, mask masker) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range numberCluster.FindAllStringIndex(s, -1) {
		var groups []digitGroup
		for i := m[0]; i < m[1]; {
			if !isDigit(s[i]) {
				i++
				continue
			}
			j := i
			for j < m[1] && isDigit(s[j]) {
				j++
			}
			groups = append(groups, digitGroup{i, j})
			i = j
		}
		for gi := 0; gi < len(groups); {
			n, rep, start := identifierAt(s, groups[gi:], glue, mask)
			if n == 0 {
				gi++
				continue
			}
			if start < last {
				start = last
			}
			b.WriteString(s[last:start])
			b.WriteString(rep)
			last = groups[gi+n-1].j
			gi += n
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// identifierAt looks for the longest identifier made of the first groups,
// and returns how many groups it takes, its mask and the byte offset it
// starts at (a "+" before a phone number is part of it); n is 0 if none.
func identifierAt(s string, groups []digitGroup, glue bool, mask masker) (n int, rep string, start int) {
	first := groups[0]
	if glue && first.i > 0 && isASCIIAlnum(s[first.i-1]) {
		return gluedPAN(s, first, mask)
	}
	var digits strings.Builder
	var lens []int
	for _, g := range groups {
		digits.WriteString(s[g.i:g.j])
		lens = append(lens, g.j-g.i)
		if digits.Len() > 19 {
			break
		}
	}
	all := digits.String()
	for k := len(lens); k >= 1; k-- {
		total := 0
		for _, l := range lens[:k] {
			total += l
		}
		if total < 10 || total > 19 {
			continue
		}
		end := groups[k-1].j
		if glue && end < len(s) && isASCIIAlnum(s[end]) {
			if k == 1 {
				return gluedPAN(s, first, mask)
			}
			continue
		}
		d := all[:total]
		plus := first.i > 0 && s[first.i-1] == '+'
		if first.i > 1 && s[first.i-1] == '(' && s[first.i-2] == '+' {
			plus = true
		}
		if kind, norm, ok := classify(d, lens[:k], plus); ok {
			start = first.i
			if plus {
				start = strings.LastIndexByte(s[:first.i], '+')
			} else if kind == graph.KindPhone && start > 0 && s[start-1] == '(' {
				start-- // "(701) 555-12-34": the mask replaces the parenthesis too
			}
			return k, mask(kind, norm), start
		}
	}
	return 0, "", 0
}

// gluedPAN masks a run glued to letters or digits ("card4400430000000015")
// only when it is unmistakably a card number: 16 to 19 digits starting with
// 2 to 6 (Mir, Amex, Visa, Mastercard, UnionPay) that pass Luhn. A run of
// that kind inside an IBAN, a hash or a transaction id is all but impossible.
func gluedPAN(s string, g digitGroup, mask masker) (int, string, int) {
	d := s[g.i:g.j]
	if len(d) >= 16 && len(d) <= 19 && d[0] >= '2' && d[0] <= '6' && luhnValid(d) {
		return 1, mask(graph.KindCard, d), g.i
	}
	return 0, "", 0
}

// classify decides whether digits, written in groups of the given lengths,
// are a PAN, an IIN or a phone number, and returns which, in normal form
// (the digits; a phone's 11 digits starting with 7).
func classify(d string, lens []int, plus bool) (graph.Kind, string, bool) {
	single := len(lens) == 1
	switch n := len(d); {
	case n >= 13 && !plus:
		// Card numbers are written in groups of four (or 4-6-5, 6-10):
		// every group but the last has at least 4 digits, which keeps
		// dates and amounts out.
		for _, l := range lens[:len(lens)-1] {
			if l < 4 {
				return 0, "", false
			}
		}
		if luhnValid(d) {
			return graph.KindCard, d, true
		}
	case n == 12 && !plus:
		// A grouped IIN must also start with a plausible birth date.
		if iinValid(d) && (single || iinDateOK(d)) {
			return graph.KindPerson, d, true
		}
	case n == 11:
		// 7 or 8 and ten digits: +7 701 555 12 34, 8 (701) 555-12-34,
		// 87015551234; the country or trunk digit stands alone or opens
		// a four-digit group.
		if (d[0] == '7' || d[0] == '8') && (single || lens[0] == 1 || lens[0] == 4) {
			p, _ := phoneDigits(d)
			return graph.KindPhone, p, true
		}
	case n == 10 && !plus:
		// A Kazakh number without its country code: 7778945477,
		// 701 555 12 34, (701) 555-12-34.
		if d[0] == '7' && (single || lens[0] == 3) {
			return graph.KindPhone, "7" + d, true
		}
	}
	return 0, "", false
}

// iinDateOK reports whether an IIN starts with a possible birth date
// (YYMMDD). The checksum (DOMAIN §1.1) already rejects 10 in 11 random
// numbers; the date keeps grouped account or amount digits out.
func iinDateOK(d string) bool {
	mm := int(d[2]-'0')*10 + int(d[3]-'0')
	dd := int(d[4]-'0')*10 + int(d[5]-'0')
	return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

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

// maskedIdentifier matches an identifier as redaction writes it: a PAN with
// its middle digits starred (440043******0015), an IIN with all but its last
// 4 (********0002), a phone with all but its country code and last 2
// (+7********77).
var maskedIdentifier = regexp.MustCompile(`[0-9]{6}\*{3,9}[0-9]{4}|\*{8}[0-9]{4}|\+[0-9]\*{8}[0-9]{2}`)

// MaskedIdentifier returns the first identifier in s that is masked the
// way --redact masks it, if any.
func MaskedIdentifier(s string) (string, bool) {
	if m, ok := IsPseudonym(s); ok {
		return m, true
	}
	// Every mask holds at least three stars in a row: look at the few places
	// that do rather than run the expression over a whole case.json.
	for from := 0; ; {
		i := strings.Index(s[from:], "***")
		if i < 0 {
			return "", false
		}
		i += from
		lo, hi := max(0, i-8), min(len(s), i+20)
		if m := maskedIdentifier.FindString(s[lo:hi]); m != "" {
			return m, true
		}
		from = i + 1
	}
}

// RedactedIn returns the first masked identifier anywhere in a case (its
// name, notes, tags, saved queries and every bookmark's references, query,
// title, note and tags): a redacted export is recognised by its content,
// whatever its manifest says.
func RedactedIn(c graph.Case) (string, bool) {
	texts := []string{c.Name, c.Notes}
	texts = append(texts, c.Tags...)
	for _, q := range c.Queries {
		texts = append(texts, q.Name, q.Query)
	}
	for _, b := range c.Bookmarks {
		texts = append(texts, b.Note, b.Target.Query, b.Target.Label)
		texts = append(texts, b.Tags...)
		for _, r := range b.Target.Refs {
			texts = append(texts, r.Key)
		}
	}
	for _, s := range texts {
		if m, ok := MaskedIdentifier(s); ok {
			return m, true
		}
	}
	return "", false
}
