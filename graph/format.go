package graph

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FormatAmount renders minor units with thousands separators and up to two
// decimals: 49500000 → "495,000", 1250 → "12.50".
func FormatAmount(minor int64) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	whole, frac := minor/100, minor%100
	s := groupThousands(strconv.FormatInt(whole, 10))
	if frac != 0 {
		s += "." + strconv.FormatInt(100+frac, 10)[1:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// FormatMoney is FormatAmount with the currency: "495,000 ₸" for KZT (and
// an empty code), "$12,500" for USD, "€3,100.50" for EUR, "12,600 CZK" for
// any other code.
func FormatMoney(minor int64, currency string) string {
	return withCurrency(FormatAmount(minor), currency)
}

// FormatShortMoney renders large tenge amounts compactly: 1,492,500 ₸ →
// "1.49M ₸".
func FormatShortMoney(minor int64) string { return FormatShortMoneyIn(minor, "KZT") }

// FormatShortMoneyIn is FormatShortMoney in a currency: "$12k", "1.49M ₸",
// "250k CZK".
func FormatShortMoneyIn(minor int64, currency string) string {
	return withCurrency(shortNumber(minor), currency)
}

func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	pre := len(digits) % 3
	if pre > 0 {
		b.WriteString(digits[:pre])
	}
	for i := pre; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// FormatPAN groups a card number in fours: "4400 4300 0000 0016". A masked PAN
// shows its hidden digits as "•": "4400 43•• •••• 7894". Any suffix after "~"
// (masked-card disambiguation) is dropped.
func FormatPAN(key string) string {
	if i := strings.IndexByte(key, '~'); i >= 0 {
		key = key[:i]
	}
	var b strings.Builder
	n := 0
	for _, r := range key {
		if n > 0 && n%4 == 0 {
			b.WriteByte(' ')
		}
		switch r {
		case '*', 'X', 'x', '•':
			b.WriteRune('•')
		default:
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

// MaskPAN hides the middle digits of a full PAN: "4400 43•• •••• 0016".
func MaskPAN(key string) string {
	if i := strings.IndexByte(key, '~'); i >= 0 {
		key = key[:i]
	}
	if len(key) < 10 {
		return FormatPAN(key)
	}
	return FormatPAN(key[:6] + strings.Repeat("*", len(key)-10) + key[len(key)-4:])
}

// FormatIBAN groups an IBAN in fours: "KZ45 722S 0000 5432 6792".
func FormatIBAN(iban string) string {
	var b strings.Builder
	for i := 0; i < len(iban); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(iban[i:min(i+4, len(iban))])
	}
	return b.String()
}

// FormatIIN separates the birth-date part of an IIN: "850312 300002".
func FormatIIN(iin string) string {
	if len(iin) != 12 {
		return iin
	}
	return iin[:6] + " " + iin[6:]
}

// Title is how an entity is named in headings, lists and breadcrumbs: its
// name when it has one, else its formatted identifier.
func Title(e Entity) string {
	if e.Name != "" {
		return e.Name
	}
	return RefTitle(e.Ref)
}

// RefTitle formats a bare reference for display: "card 4400 43•• •••• 7894".
//
// Keys from other data sets (a profile's "berka:2378", an FtM id) are shown
// as they are: only a key shaped like a PAN, an IBAN or an IIN is grouped.
func RefTitle(r Ref) string {
	switch {
	case r.Kind == KindCash:
		return "cash"
	case r.Kind == KindCard && panShaped(r.Key):
		return FormatPAN(r.Key)
	case r.Kind == KindAccount && ibanShaped(r.Key):
		return FormatIBAN(r.Key)
	case r.Kind == KindPerson && len(r.Key) == 12 && digitsOnly(r.Key):
		return "IIN " + FormatIIN(r.Key)
	}
	return r.Key
}

// ListedName is the name a neighbour or holding row gives an entity: its
// name, or "" when it has none or its name is only its formatted reference
// (an address named by itself), so that a row reads the same whether its
// name came from the entity or from a search label (Title), which cannot
// tell the two apart.
func ListedName(r Ref, name string) string {
	if name == RefTitle(r) {
		return ""
	}
	return name
}

// panShaped reports whether key is a full or masked card number, possibly
// with a "~" disambiguation suffix.
func panShaped(key string) bool {
	if i := strings.IndexByte(key, '~'); i >= 0 {
		key = key[:i]
	}
	n := 0
	for _, c := range key {
		switch {
		case c >= '0' && c <= '9', c == '*', c == 'X', c == 'x', c == '•':
			n++
		default:
			return false
		}
	}
	return n >= 12 && n <= 19
}

// ibanShaped reports whether key looks like an IBAN: two letters, two
// digits, then letters and digits, 15 to 34 characters in all.
func ibanShaped(key string) bool {
	if len(key) < 15 || len(key) > 34 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		letter, digit := c >= 'A' && c <= 'Z', c >= '0' && c <= '9'
		switch {
		case i < 2 && !letter, i >= 2 && i < 4 && !digit, !letter && !digit:
			return false
		}
	}
	return true
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// last4 returns the last four characters of a PAN key (without suffix).
func last4(key string) string {
	if i := strings.IndexByte(key, '~'); i >= 0 {
		key = key[:i]
	}
	if utf8.RuneCountInString(key) < 4 {
		return key
	}
	return key[len(key)-4:]
}

// DocFor builds the search document of an entity: its title as label, its
// identifiers and a few properties as terms, and a short facts line.
func DocFor(e Entity) SearchDoc {
	d := SearchDoc{Ref: e.Ref, Label: Title(e), Stub: e.Stub}
	var facts []string
	addProp := func(k string) {
		if v := e.Props[k]; v != "" {
			d.Terms = append(d.Terms, v)
		}
	}
	switch e.Ref.Kind {
	case KindPerson:
		d.Terms = append(d.Terms, e.Ref.Key)
		facts = append(facts, RefTitle(e.Ref))
		addProp("phone")
		if b := e.Props["birth_date"]; b != "" {
			facts = append(facts, "born "+b)
		}
	case KindCard:
		digits := e.Ref.Key
		if i := strings.IndexByte(digits, '~'); i >= 0 {
			digits = digits[:i]
		}
		d.Terms = append(d.Terms, digits, last4(e.Ref.Key))
		if e.Name != "" {
			d.Terms = append(d.Terms, FormatPAN(e.Ref.Key))
		}
		if b := e.Props["bank"]; b != "" {
			facts = append(facts, b)
		}
		if h := e.Props["holder_iin"]; h != "" {
			facts = append(facts, "holder IIN "+FormatIIN(h))
		}
	case KindAccount:
		d.Terms = append(d.Terms, e.Ref.Key)
		if b := e.Props["bank"]; b != "" {
			facts = append(facts, b)
		}
	case KindExchange:
		d.Terms = append(d.Terms, e.Ref.Key)
		addProp("domain")
		if dom := e.Props["domain"]; dom != "" {
			facts = append(facts, dom)
		}
		if lic := e.Props["afsa_licence"]; lic != "" {
			facts = append(facts, "AFSA "+lic)
		} else {
			facts = append(facts, "⚠ unlicensed")
		}
	case KindGroup:
		d.Terms = append(d.Terms, e.Ref.Key)
		addProp("case_ref")
		if c := e.Props["case_ref"]; c != "" {
			facts = append(facts, c)
		}
	default:
		if e.Name != "" {
			d.Terms = append(d.Terms, e.Ref.Key)
		}
	}
	if e.Stub {
		facts = append(facts, "stub")
	}
	d.Facts = clipSearch(strings.Join(facts, " · "))
	d.Label = clipSearch(d.Label)
	for i, t := range d.Terms {
		d.Terms[i] = clipSearch(t)
	}
	return d
}

// MaxSearchField bounds what the search index holds of one label or term.
// The importers refuse or cut longer names (docs/SECURITY.md, "Hostile input
// files"); this is the second wall, for a database that holds one anyway: a
// 100 MB name must not make every search scan it.
const MaxSearchField = 4096

// clipSearch cuts s to MaxSearchField bytes at a rune start.
func clipSearch(s string) string {
	if len(s) <= MaxSearchField {
		return s
	}
	cut := MaxSearchField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// ParseMajorAmount parses an amount typed in major units, as a person
// writes a band ("450000", "450000.50", "450k", "1.5m", "2.25M"), into minor
// units (×100): digits, at most one decimal point, and an optional k
// (thousand) or m (million); no sign, no separators, no exponent, and no
// more decimals than the unit has (two, five after k, eight after m).
func ParseMajorAmount(s string) (int64, error) {
	in := s
	bad := func(why string) (int64, error) {
		return 0, fmt.Errorf("amount %q: %s (write 450000, 450000.50, 450k or 1.5m)", in, why)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return bad("empty")
	}
	scale := 0 // powers of ten beyond the two decimals of minor units
	switch s[len(s)-1] {
	case 'k', 'K':
		scale, s = 3, s[:len(s)-1]
	case 'm', 'M':
		scale, s = 6, s[:len(s)-1]
	}
	if strings.HasPrefix(s, "-") {
		return bad("an amount band has no negative ends")
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || !digitsOnly(whole) || (dot && (frac == "" || !digitsOnly(frac))) {
		if strings.ContainsAny(s, ", _'") {
			return bad("no thousands separators")
		}
		return bad("not a number")
	}
	if len(frac) > 2+scale {
		return bad(fmt.Sprintf("at most %d decimals", 2+scale))
	}
	// The digits of whole and frac, padded to minor units.
	digits := whole + frac + strings.Repeat("0", 2+scale-len(frac))
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return bad("too large")
	}
	return v, nil
}

// FormatBand names an amount band [lo, hi) in minor units of currency
// (zero: that side open), compactly when that is exact: "450k–500k ₸",
// "≥5M ₸", "<5,000 ₸", "$1,250.50–$2k"; without a currency (a band of
// every currency's amounts) the numbers alone: "450k–500k".
func FormatBand(lo, hi int64, currency string) string {
	if currency == "" {
		num := func(minor int64) string { return strings.TrimSuffix(exactShort(minor, CurrencyNone), " "+CurrencyNone) }
		switch {
		case lo == 0 && hi == 0:
			return "any amount"
		case hi == 0:
			return "≥" + num(lo)
		case lo == 0:
			return "<" + num(hi)
		}
		return num(lo) + "–" + num(hi)
	}
	switch {
	case lo == 0 && hi == 0:
		return "any amount"
	case hi == 0:
		return "≥" + exactShort(lo, currency)
	case lo == 0:
		return "<" + exactShort(hi, currency)
	}
	a, b := exactShort(lo, currency), exactShort(hi, currency)
	if sym := CurrencySymbol(currency); sym != "$" && sym != "€" {
		a = strings.TrimSuffix(a, " "+sym) // "450k–500k ₸": the sign once
	}
	return a + "–" + b
}

// exactShort is FormatShortMoneyIn when it reads back as minor (it rounds
// otherwise: 123,456 is not "123k"), else FormatMoney.
func exactShort(minor int64, currency string) string {
	short := shortNumber(minor)
	if num, unit, ok := strings.Cut(short, "."); ok && len(unit) > 0 {
		// "2.50M" → "2.5M", "1.00M" → "1M"
		suffix := strings.TrimLeft(unit, "0123456789")
		frac := strings.TrimRight(strings.TrimSuffix(unit, suffix), "0")
		short = num + suffix
		if frac != "" {
			short = num + "." + frac + suffix
		}
	}
	if v, err := ParseMajorAmount(short); err == nil && v == minor {
		return withCurrency(short, currency)
	}
	return FormatMoney(minor, currency)
}
