package profile

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"casegraph/importers"
)

// Value computes one string from a row. A YAML scalar is a template:
// literal text with {column} placeholders, e.g. "amlsim:{orig_acct}";
// {{ and }} stand for literal braces. The mapping form adds translation,
// a default, transforms and date normalisation.
type Value struct {
	Template  string            `yaml:"template"`
	Column    string            `yaml:"column"` // shorthand for template "{column}"
	Const     string            `yaml:"value"`  // literal text, no placeholders
	Map       map[string]string `yaml:"map"`    // translate the result (exact, then case-insensitive)
	Default   string            `yaml:"default"`
	Transform []string          `yaml:"transform"`
	Date      *DateSpec         `yaml:"date"` // parse as a date and write YYYY-MM-DD
}

// DateSpec normalises a date-valued property.
type DateSpec struct {
	Format      string `yaml:"format"`
	Century     int    `yaml:"century"`
	MonthOffset int    `yaml:"month_offset"`
}

// UnmarshalYAML accepts a scalar as the template.
func (v *Value) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v.Template = n.Value
		return nil
	}
	type plain Value
	return n.Decode((*plain)(v))
}

// source is the value's template text.
func (v Value) source() string {
	switch {
	case v.Template != "":
		return v.Template
	case v.Column != "":
		return "{" + strings.ReplaceAll(strings.ReplaceAll(v.Column, "{", "{{"), "}", "}}") + "}"
	case v.Const != "":
		return strings.ReplaceAll(strings.ReplaceAll(v.Const, "{", "{{"), "}", "}}")
	}
	return ""
}

// transforms are the names Value.Transform accepts.
var transforms = []string{"trim_zeros", "upper", "lower", "digits", "collapse", "birth_number_sex"}

func validTransform(t string) bool {
	for _, x := range transforms {
		if x == t {
			return true
		}
	}
	return false
}

// part is a piece of a template: literal text or a placeholder name.
type part struct {
	text string
	ref  bool
}

// parseTemplate splits "a{b}c" into parts.
func parseTemplate(s string) ([]part, error) {
	var out []part
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			j := strings.IndexByte(s[i+1:], '}')
			if j < 0 {
				return nil, fmt.Errorf("template %q: unclosed {", s)
			}
			name := strings.TrimSpace(s[i+1 : i+1+j])
			if name == "" {
				return nil, fmt.Errorf("template %q: empty {}", s)
			}
			if lit.Len() > 0 {
				out = append(out, part{text: lit.String()})
				lit.Reset()
			}
			out = append(out, part{text: name, ref: true})
			i += j + 1
		case c == '}':
			return nil, fmt.Errorf("template %q: } without {", s)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		out = append(out, part{text: lit.String()})
	}
	return out, nil
}

// Placeholder sources.
const (
	srcColumn = iota
	srcMeta
	srcLookup
	srcRow
	srcLine
	srcFile
	srcAbsent
)

// boundPart is a template part resolved against a header.
type boundPart struct {
	lit  string
	src  int
	idx  int    // column index in the row or the lookup table
	name string // column or meta name, for messages
	lk   int    // lookup index
	ref  bool
	tf   []string // transforms after "|": {bank|trim_zeros}
}

// boundValue is a Value ready to evaluate on rows of one file.
type boundValue struct {
	parts   []boundPart
	column  string // the first column named, for rejects
	v       Value
	lowMap  map[string]string
	dateFmt importers.DateFormat
	empty   bool
}

// rowCtx is what templates read for one row.
type rowCtx struct {
	rec   []string
	line  int
	row   int
	file  string
	meta  map[string]string
	lks   []*lookupTab
	lkRow [][]string // per lookup: the joined row, resolved on first use
	lkErr []error
	buf   []byte
	maps  mapPool
}

// mapPool recycles the property maps of rows the sink is done with, when
// the sink copies records (importers.RecordCopier): a statement builds one
// per transaction, and allocating them was a third of evaluating a row.
type mapPool struct {
	on   bool
	free []map[string]string
}

func (p *mapPool) get(n int) map[string]string {
	if k := len(p.free); k > 0 {
		m := p.free[k-1]
		p.free = p.free[:k-1]
		return m
	}
	return make(map[string]string, n)
}

// put takes m back, emptied, if the pool is on.
func (p *mapPool) put(m map[string]string) {
	if p.on && m != nil && len(p.free) < 4*evalBatchRows {
		clear(m)
		p.free = append(p.free, m)
	}
}

// header resolves column names for binding.
type header struct {
	idx  map[string]int // lower-case trimmed name → index
	cols []string
	lks  []*lookupTab
	lkBy map[string]int
	refs map[string]*boundRef // bound references, by their mapping
}

func newHeader(cols []string) *header {
	h := &header{idx: make(map[string]int, len(cols)), cols: cols, lkBy: map[string]int{}}
	for i, c := range cols {
		n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))
		if _, dup := h.idx[n]; !dup {
			h.idx[n] = i
		}
	}
	return h
}

func (h *header) col(name string) (int, error) {
	i, ok := h.idx[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return 0, fmt.Errorf("column %q is not in the header (%s)", name, strings.Join(h.cols, ", "))
	}
	return i, nil
}

// bind resolves v against h.
func (h *header) bind(v Value) (*boundValue, error) {
	parts, err := parseTemplate(v.source())
	if err != nil {
		return nil, err
	}
	b := &boundValue{v: v, empty: len(parts) == 0}
	if len(v.Map) > 0 {
		b.lowMap = make(map[string]string, len(v.Map))
		for k, x := range v.Map {
			b.lowMap[strings.ToLower(strings.TrimSpace(k))] = x
		}
	}
	if v.Date != nil {
		b.dateFmt = importers.DateFormat{Layout: v.Date.Format, Century: v.Date.Century, MonthOffset: v.Date.MonthOffset}
	}
	for _, p := range parts {
		if !p.ref {
			b.parts = append(b.parts, boundPart{lit: p.text})
			continue
		}
		name, pipes, _ := strings.Cut(p.text, "|")
		p.text = strings.TrimSpace(name)
		bp := boundPart{ref: true, name: p.text}
		if pipes != "" {
			for _, t := range strings.Split(pipes, "|") {
				t = strings.TrimSpace(t)
				if !validTransform(t) {
					return nil, fmt.Errorf("{%s}: unknown transform %q", p.text, t)
				}
				bp.tf = append(bp.tf, t)
			}
		}
		switch {
		case p.text == "_row":
			bp.src = srcRow
		case p.text == "_line":
			bp.src = srcLine
		case p.text == "_file":
			bp.src = srcFile
		case strings.HasPrefix(p.text, "meta."):
			bp.src, bp.name = srcMeta, strings.TrimPrefix(p.text, "meta.")
		default:
			pre, col, ok := strings.Cut(p.text, ".")
			if li, isLk := h.lkBy[pre]; ok && isLk {
				lt := h.lks[li]
				ci, err := lt.header.col(col)
				if err != nil {
					return nil, fmt.Errorf("lookup %s (%s): %w", pre, lt.file, err)
				}
				bp.src, bp.lk, bp.idx, bp.name = srcLookup, li, ci, p.text
				break
			}
			optional := strings.HasSuffix(p.text, "?") && len(p.text) > 1
			ci, err := h.col(p.text)
			if err != nil && optional {
				// "{КНП?}": an optional column reads as empty when absent.
				if ci, err = h.col(strings.TrimSuffix(p.text, "?")); err != nil {
					bp.src, bp.name = srcAbsent, p.text
					break
				}
			}
			if err != nil {
				return nil, err
			}
			bp.src, bp.idx, bp.name = srcColumn, ci, h.cols[ci]
		}
		if b.column == "" && bp.src == srcColumn {
			b.column = bp.name
		}
		b.parts = append(b.parts, bp)
	}
	if b.column == "" {
		// No column named: a reject names the metadata field or lookup
		// the value comes from, as the profile writes it.
		for _, bp := range b.parts {
			switch bp.src {
			case srcMeta:
				b.column = "meta." + bp.name
			case srcLookup:
				b.column = bp.name
			default:
				continue
			}
			break
		}
	}
	return b, nil
}

// constant reports whether the value is the same on every row of a file: it
// reads only literals, the file's metadata and its name.
func (b *boundValue) constant() bool {
	for _, p := range b.parts {
		if p.ref && p.src != srcMeta && p.src != srcFile && p.src != srcAbsent {
			return false
		}
	}
	return true
}

// raw evaluates the template: the text, and whether any placeholder was
// empty or listed in none.
func (b *boundValue) raw(c *rowCtx, none []string) (string, bool, error) {
	if len(b.parts) == 1 && b.parts[0].ref {
		s, err := b.part(c, b.parts[0])
		s = strings.TrimSpace(s)
		return s, isNone(s, none), err
	}
	c.buf = c.buf[:0]
	missing := false
	for _, p := range b.parts {
		if !p.ref {
			c.buf = append(c.buf, p.lit...)
			continue
		}
		s, err := b.part(c, p)
		if err != nil {
			return "", true, err
		}
		s = strings.TrimSpace(s)
		if isNone(s, none) {
			missing = true
		}
		c.buf = append(c.buf, s...)
	}
	return string(c.buf), missing, nil
}

func isNone(s string, none []string) bool {
	if s == "" {
		return true
	}
	for _, n := range none {
		if s == n {
			return true
		}
	}
	return false
}

func (b *boundValue) part(c *rowCtx, p boundPart) (string, error) {
	s, err := b.partRaw(c, p)
	for _, t := range p.tf {
		s = applyTransform(t, strings.TrimSpace(s))
	}
	return s, err
}

func (b *boundValue) partRaw(c *rowCtx, p boundPart) (string, error) {
	switch p.src {
	case srcColumn:
		return c.rec[p.idx], nil
	case srcMeta:
		return c.meta[p.name], nil
	case srcRow:
		return itoa(c.row), nil
	case srcLine:
		return itoa(c.line), nil
	case srcFile:
		return c.file, nil
	case srcAbsent:
		return "", nil
	}
	if c.lkRow[p.lk] == nil && c.lkErr[p.lk] == nil {
		c.lkRow[p.lk], c.lkErr[p.lk] = c.lks[p.lk].find(c.rec)
	}
	if c.lkErr[p.lk] != nil {
		return "", c.lkErr[p.lk]
	}
	return c.lkRow[p.lk][p.idx], nil
}

// eval computes the final value: template, default, map, transforms, date.
func (b *boundValue) eval(c *rowCtx) (string, error) {
	if b.empty {
		return "", nil
	}
	s, _, err := b.raw(c, nil)
	if err != nil {
		return "", err
	}
	return b.finish(s)
}

func (b *boundValue) finish(s string) (string, error) {
	if s == "" {
		s = b.v.Default
	} else if b.lowMap != nil {
		if m, ok := b.v.Map[s]; ok {
			s = m
		} else if m, ok := b.lowMap[strings.ToLower(s)]; ok {
			s = m
		} else if b.v.Default != "" {
			s = b.v.Default
		}
	}
	for _, t := range b.v.Transform {
		s = applyTransform(t, s)
	}
	if b.v.Date != nil && s != "" {
		t, err := importers.ParseDateTime(s, b.dateFmt, time.UTC)
		if err != nil {
			return "", err
		}
		s = t.Format("2006-01-02")
	}
	return s, nil
}

func applyTransform(t, s string) string {
	switch t {
	case "trim_zeros":
		n := strings.TrimLeft(s, "0")
		if n == "" && s != "" {
			return "0"
		}
		return n
	case "upper":
		return strings.ToUpper(s)
	case "lower":
		return strings.ToLower(s)
	case "digits":
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' {
				b.WriteByte(s[i])
			}
		}
		return b.String()
	case "collapse":
		return importers.NormalizeName(s)
	case "birth_number_sex":
		// Czech and Slovak birth numbers (YYMMDD…) add 50 to a woman's month.
		if len(s) >= 4 && s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9' {
			if int(s[2]-'0')*10+int(s[3]-'0') > 50 {
				return "F"
			}
			return "M"
		}
		return ""
	}
	return s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// errNotFound marks a lookup key that the lookup file lacks.
var errNotFound = errors.New("not found")
