package export

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"casegraph/graph"
)

// Pseudonymisation (Options.Redact): every identifier in an export — the
// key of every entity but ATMs, cash and group ids, every name but a
// bank's, every property value that is not on the short list of
// descriptive ones (bank, status, issue date…), devices and IPs of
// transactions, and any PAN, IIN or phone number written in free text —
// becomes a pseudonym "PSN-<KIND>-<10 letters>" derived with HMAC-SHA256
// from the kind and the identifier's normal form under a key drawn at
// random for each export (Options.PseudonymKey reuses one). The same
// identifier gets the same pseudonym in every file of the export (a
// person's IIN, the holder_iin of their card and the IIN in a note all
// read PSN-PERSON-…; their name reads the same pseudonym), and exports made
// with different keys cannot be linked through their pseudonyms.

// PseudonymKeySize is the size of a pseudonymisation key.
const PseudonymKeySize = 32

// pseudonymShape matches a pseudonym as written.
var pseudonymShape = regexp.MustCompile(`PSN-[A-Z]+-[A-Z2-7]{10}`)

// keptKinds keep their keys: bank infrastructure, cash, and the case's own
// group ids are not identifiers of a person.
func keptKind(k graph.Kind) bool {
	return k == graph.KindATM || k == graph.KindCash || k == graph.KindGroup
}

// descriptiveProps are the property keys whose values describe rather
// than identify (kept as they are); every other property value is
// pseudonymised.
var descriptiveProps = map[string]bool{
	"bank": true, "status": true, "issued": true, "residency": true, "afsa_licence": true, "case_ref": true,
	"currency": true, "role": true, "country": true, "type": true, "kind": true, "channel": true,
	"nationality": true, "product": true, "city": true,
}

// propKind says which kind of identifier a property holds, so that a
// card's holder_iin and the holder's own record read the same pseudonym.
func propKind(key string) graph.Kind {
	switch {
	case strings.Contains(key, "iin"):
		return graph.KindPerson
	case strings.Contains(key, "phone"):
		return graph.KindPhone
	case strings.Contains(key, "iban") || strings.Contains(key, "account"):
		return graph.KindAccount
	case strings.Contains(key, "pan") || strings.Contains(key, "card"):
		return graph.KindCard
	case strings.Contains(key, "address"):
		return graph.KindAddress
	case strings.Contains(key, "device"):
		return graph.KindDevice
	case key == "ip" || strings.HasSuffix(key, "_ip"):
		return graph.KindIP
	case strings.Contains(key, "wallet"):
		return graph.KindWallet
	}
	return graph.KindUnknown
}

// normal is the form of an identifier its pseudonym is derived from.
func normal(k graph.Kind, v string) string {
	v = strings.TrimSpace(v)
	switch k {
	case graph.KindCard, graph.KindPerson:
		if d := onlyDigits(v); d != "" && len(d) == len(strings.Map(dropSeparators, v)) {
			return d
		}
	case graph.KindPhone:
		if p, ok := phoneDigits(v); ok {
			return p
		}
	case graph.KindAccount:
		return strings.ToUpper(strings.Map(dropSeparators, v))
	}
	return strings.ToLower(strings.Join(strings.Fields(v), " "))
}

func dropSeparators(r rune) rune {
	if r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '+' || r == '\u00a0' {
		return -1
	}
	return r
}

// pseudonyms derives pseudonyms and replaces every collected identifier
// in free text.
type pseudonyms struct {
	key   []byte
	words map[string]string // identifier as written → pseudonym
	rep   *strings.Replacer
}

func newPseudonyms(key []byte) (*pseudonyms, error) {
	if len(key) == 0 {
		key = make([]byte, PseudonymKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("pseudonym key: %w", err)
		}
	}
	return &pseudonyms{key: key, words: map[string]string{}}, nil
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// of is the pseudonym of an identifier of kind k in normal form.
func (p *pseudonyms) of(k graph.Kind, norm string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(k.String()))
	m.Write([]byte{0})
	m.Write([]byte(norm))
	name := strings.ToUpper(k.String())
	if k == graph.KindUnknown {
		name = "ID"
	}
	return "PSN-" + name + "-" + b32.EncodeToString(m.Sum(nil))[:10]
}

// add records value (of kind k) so free text mentioning it is rewritten,
// and returns its pseudonym; spellings are further ways it is written.
func (p *pseudonyms) add(k graph.Kind, value string, spellings ...string) string {
	ps := p.of(k, normal(k, value))
	for _, s := range append([]string{value}, spellings...) {
		s = strings.TrimSpace(s)
		if utf8.RuneCountInString(s) < 3 {
			continue // too short to find safely in text
		}
		for _, v := range []string{s, strings.ToLower(s), strings.ToUpper(s)} {
			if _, ok := p.words[v]; !ok {
				p.words[v] = ps
			}
		}
	}
	return ps
}

// addName records an entity's name (and, for a person, each word of it of
// four letters or more: a surname alone in a note) under pseudonym ps.
func (p *pseudonyms) addName(k graph.Kind, name, ps string) {
	name = strings.TrimSpace(name)
	if name == "" {
		return
	}
	spellings := []string{name}
	if k == graph.KindPerson {
		for _, w := range strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == ',' || r == '"' || r == '|' }) {
			if utf8.RuneCountInString(w) >= 4 {
				spellings = append(spellings, w)
			}
		}
	}
	for _, s := range spellings {
		for _, v := range []string{s, strings.ToLower(s), strings.ToUpper(s)} {
			if _, ok := p.words[v]; !ok && utf8.RuneCountInString(v) >= 3 {
				p.words[v] = ps
			}
		}
	}
}

// build makes the replacer: longest spellings first, so a full name is
// replaced whole before any of its words.
func (p *pseudonyms) build() {
	olds := make([]string, 0, len(p.words))
	for w := range p.words {
		olds = append(olds, w)
	}
	slices.SortFunc(olds, func(a, b string) int {
		if c := cmp.Compare(len(b), len(a)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(olds))
	for _, w := range olds {
		pairs = append(pairs, w, p.words[w])
	}
	p.rep = strings.NewReplacer(pairs...)
}

// text rewrites every collected identifier in s, then every PAN, IIN and
// phone number the collection missed.
func (p *pseudonyms) text(s string, glue bool) string {
	if p.rep != nil {
		s = p.rep.Replace(s)
	}
	return scrubText(s, glue, p.mask)
}

// mask is the pseudonym of an identifier found by its shape in text.
func (p *pseudonyms) mask(k graph.Kind, norm string) string { return p.of(k, norm) }

// collect records every identifier of the export's records.
func (p *pseudonyms) collect(ents map[graph.Ref]graph.Entity, in Input) {
	refPs := func(r graph.Ref) string {
		key, _, _ := strings.Cut(r.Key, "~")
		var spell []string
		switch r.Kind {
		case graph.KindAccount:
			spell = append(spell, graph.FormatIBAN(r.Key))
		case graph.KindCard:
			spell = append(spell, key, graph.FormatPAN(key))
		}
		return p.add(r.Kind, r.Key, spell...)
	}
	for _, e := range ents {
		ps := ""
		if !keptKind(e.Ref.Kind) {
			ps = refPs(e.Ref)
		} else if e.Ref.Kind == graph.KindGroup && e.Name != "" {
			// A group's id stays; its name is often its organiser's.
			ps = p.of(graph.KindGroup, normal(graph.KindGroup, e.Name))
		}
		if ps != "" {
			p.addName(e.Ref.Kind, e.Name, ps)
		}
		for k, v := range e.Props {
			if !descriptiveProps[k] && k != "birth_date" && v != "" {
				p.add(propKind(k), v)
			}
		}
	}
	for _, t := range in.Txns {
		if t.Device != "" {
			p.add(graph.KindDevice, t.Device)
		}
		if t.IP != "" {
			p.add(graph.KindIP, t.IP)
		}
		for k, v := range t.Props {
			if !descriptiveProps[k] && v != "" {
				p.add(propKind(k), v)
			}
		}
	}
	p.build()
}

// IsPseudonym reports whether s holds a pseudonym as redaction writes it.
func IsPseudonym(s string) (string, bool) {
	if !strings.Contains(s, "PSN-") {
		return "", false
	}
	m := pseudonymShape.FindString(s)
	return m, m != ""
}
