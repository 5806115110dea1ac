package profile

import (
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"casegraph/importers"
)

// inferRows is how many data rows Infer classifies; scanRows is how many it
// reads to find label columns, which may be set on only a few rows far
// into the file.
const (
	inferRows = 200
	scanRows  = 200_000
)

// column classes Infer recognises from sample values.
const (
	clText = iota
	clIIN
	clIBAN
	clPAN
	clDate
	clAmount
	clInt
)

type inferCol struct {
	name   string
	class  int
	layout string // for dates
	filled int    // sample rows holding a value
	rows   int    // sample rows
	role   string
	codes  bool // every value is a three-letter code (USD, KZT)

	distinct map[string]bool // sample values, to tell a row id from a node id
	spaced   bool            // a sample value holds a space
	ints     []int64         // sample integer values, to tell steps from epoch times

	// Over every scanned row: how many rows hold a value that is not
	// empty, zero, -1 or false, and whether all such values are numbers
	// or yes/true flags (what a label column holds).
	set      int
	flagLike bool
	label    string // why the column is a label; empty when it is not
}

// Infer reads a file's dialect, header and first rows and proposes a
// profile for the user to edit: a transaction mapping when it finds an
// amount (or debit and credit) column and either a time column or two
// endpoint columns (an edge list: source, target, amount, time), else an
// entity mapping. Label columns — named like a label (is_*, fraud, label,
// laundering, alert, sar) or set on only a few rows and empty or zero
// elsewhere — go under labels:, which no mapping may read. The result is
// YAML that Parse accepts; comments mark what to check.
func Infer(r io.Reader, name string) (string, error) {
	rd, d, err := openTable(r, &FileMap{})
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	var meta [][2]string
	var cols []*inferCol
	var rows [][]string
	scanned := 0
	for scanned < scanRows {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			continue
		}
		line, _ := rd.FieldPos(0)
		if line < d.HeaderLine {
			if l, v, ok := metaPair(rec); ok {
				meta = append(meta, [2]string{l, v})
			}
			continue
		}
		if cols == nil {
			for _, h := range rec {
				cols = append(cols, &inferCol{name: strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), flagLike: true})
			}
			continue
		}
		if _, total := importers.TotalRow(rec); total || importers.EmptyRow(rec) || len(rec) != len(cols) {
			continue
		}
		scanned++
		for i, v := range rec {
			countSet(cols[i], v)
		}
		if len(rows) < inferRows {
			rows = append(rows, append([]string(nil), rec...))
		}
	}
	if cols == nil {
		return "", fmt.Errorf("%s: no header row", name)
	}
	for i, c := range cols {
		classify(c, rows, i)
	}
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	stem := strings.TrimSuffix(base, path.Ext(base))
	return render(stem, base, d, meta, cols, scanned), nil
}

// countSet counts a value that is set: not empty, zero, -1, false or no.
func countSet(c *inferCol, v string) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "", "-1", "false", "f", "no", "n", "none", "null", "nan", "na", "n/a", "-":
		return
	}
	f, err := strconv.ParseFloat(v, 64)
	if err == nil && f == 0 {
		return
	}
	c.set++
	if err != nil && v != "true" && v != "t" && v != "yes" && v != "y" {
		c.flagLike = false
	}
}

func classify(c *inferCol, rows [][]string, i int) {
	counts := map[int]int{}
	layouts := map[string]int{}
	c.codes = true
	c.rows = len(rows)
	c.distinct = map[string]bool{}
	for _, r := range rows {
		v := strings.TrimSpace(r[i])
		if v == "" {
			continue
		}
		c.filled++
		c.distinct[v] = true
		if strings.ContainsAny(v, " \t") {
			c.spaced = true
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			c.ints = append(c.ints, n)
		}
		if len(v) != 3 || !isUpperASCII(strings.ToUpper(v)) {
			c.codes = false
		}
		switch {
		case validIIN(v):
			counts[clIIN]++
		case validIBAN(v):
			counts[clIBAN]++
		case validPAN(v):
			counts[clPAN]++
		case isInt(v):
			counts[clInt]++
		default:
			if l := dateLayout(v); l != "" {
				counts[clDate]++
				layouts[l]++
			} else if _, err := importers.ParseDecimal(v, 0); err == nil {
				counts[clAmount]++
			}
		}
	}
	if c.filled == 0 {
		return
	}
	best, n := clText, 0
	for cl, k := range counts {
		if k > n || (k == n && cl < best) {
			best, n = cl, k
		}
	}
	// A class must hold for (nearly) every value; amounts may mix with ints.
	switch {
	case n*10 >= c.filled*9:
		c.class = best
	case counts[clAmount]+counts[clInt] == c.filled && counts[clAmount] > 0:
		c.class = clAmount
	}
	if c.class == clDate {
		bl, bn := "", 0
		for l, k := range layouts {
			if k > bn || (k == bn && l < bl) {
				bl, bn = l, k
			}
		}
		c.layout = bl
	}
}

func validIIN(v string) bool  { _, err := importers.NormalizeIIN(v); return err == nil }
func validIBAN(v string) bool { _, err := importers.NormalizeIBAN(v); return err == nil }
func validPAN(v string) bool  { _, err := importers.NormalizePAN(v); return err == nil }

func isInt(v string) bool {
	_, err := strconv.ParseInt(v, 10, 64)
	return err == nil
}

// dateLayout returns the first layout that reads v as a date.
func dateLayout(v string) string {
	if len(v) < 6 {
		return ""
	}
	for _, l := range []string{"iso", "dmy", "ymd", "mdy"} {
		if _, err := importers.ParseDateTime(v, importers.DateFormat{Layout: l}, time.UTC); err == nil {
			return l
		}
	}
	return ""
}

// roleWords recognise a column's role from its header (lower case).
var roleWords = []struct {
	role  string
	words []string
}{
	{"debit", []string{"дебет", "debit", "расход", "списан"}},
	{"credit", []string{"кредит", "credit", "приход", "поступлен"}},
	{"from", []string{"orig", "from", "sender", "payer", "плательщик", "отправител", "source", "src", "debtor"}},
	{"to", []string{"bene", "to_", "to ", "receiver", "recipient", "получател", "корреспондент", "counterpart",
		"counter_party", "merchant", "target", "dest", "dst", "creditor"}},
	{"currency", []string{"currency", "валют", "crncy", "ccy"}},
	{"amount", []string{"amount", "amt", "сумма", "sum", "value"}},
	{"time", []string{"timestamp", "time", "date", "дата", "время", "step", "start"}},
	{"id", []string{"tran_id", "txn_id", "tx_id", "id", "номер", "№", "документ"}},
	{"reference", []string{"назначение", "purpose", "description", "описание", "reference", "details"}},
	{"name", []string{"name", "фио", "наименование", "person", "клиент"}},
}

// hasRole reports whether a column's header names the role.
func hasRole(c *inferCol, role string) bool {
	low := strings.ToLower(c.name)
	for _, rw := range roleWords {
		if rw.role != role {
			continue
		}
		for _, w := range rw.words {
			if low == strings.TrimSpace(w) || strings.Contains(low, w) {
				return true
			}
		}
	}
	return false
}

// endScore ranks the columns that name one end of a transfer: a combined
// key before an account or node number, a bank code last.
func endScore(c *inferCol) int {
	low := strings.ToLower(c.name)
	switch {
	case strings.Contains(low, "key"):
		return 3
	case strings.Contains(low, "bank"):
		return -1
	}
	for _, w := range []string{"acct", "account", "node", "card", "iban", "wallet", "счет", "счёт"} {
		if strings.Contains(low, w) {
			return 2
		}
	}
	return 0
}

// pick gives role to the free column whose header names it and that ok
// accepts; for the ends of a transfer the best-ranked, else the first.
func pick(cols []*inferCol, role string, ok func(*inferCol) bool) *inferCol {
	var best *inferCol
	for _, c := range cols {
		if c.role != "" || c.label != "" || !hasRole(c, role) || !ok(c) {
			continue
		}
		if best == nil || ((role == "from" || role == "to") && endScore(c) > endScore(best)) {
			best = c
		}
	}
	if best != nil {
		best.role = role
	}
	return best
}

func anyCol(*inferCol) bool { return true }

// idWord reports whether a header names an identifier (of an account, a
// node, a customer…).
func idWord(name string) bool {
	for _, t := range headerTokens(name) {
		switch t {
		case "id", "acct", "account", "node", "user", "customer", "client", "branch", "party", "card", "iban",
			"wallet", "key", "num", "number", "nr", "no":
			return true
		}
	}
	return false
}

// headerTokens splits a header into lower-case words at punctuation, white
// space and camelCase humps: "fraudStep" → fraud, step; "Is Fraud?" → is,
// fraud.
func headerTokens(h string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range h {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && unicode.IsLower(prev):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return out
}

// labelWords are header words of ground-truth columns.
var labelWords = map[string]bool{"fraud": true, "fraudulent": true, "label": true, "labels": true, "labelled": true,
	"laundering": true, "launder": true, "laundered": true, "alert": true, "alerts": true, "sar": true, "sars": true,
	"suspicious": true, "typology": true, "typologies": true}

// labelName reports whether a header names a ground-truth column: a known
// label, an is_* flag, or one with a word like fraud, label, laundering,
// alert or sar (also run together: isfraud, fraudstep).
func labelName(h string) bool {
	low := strings.ToLower(strings.TrimSpace(h))
	for _, l := range knownLabels {
		if low == l {
			return true
		}
	}
	toks := headerTokens(h)
	if len(toks) > 1 && toks[0] == "is" {
		return true
	}
	for _, t := range toks {
		if labelWords[t] {
			return true
		}
	}
	for _, w := range []string{"fraud", "launder", "label"} {
		if strings.Contains(low, w) {
			return true
		}
	}
	return false
}

// labelShare is the largest share of rows a column may be set on and still
// be taken for a label by its content: fraud and laundering labels are set
// on well under one row in ten.
const labelShare = 10

// contentLabel reports whether a free column looks like a label by its
// content: set (not empty, zero, -1 or false) on at most one row in ten
// of those scanned, with numbers or yes/true flags, and not an identifier.
func contentLabel(c *inferCol, scanned int) bool {
	if scanned < 20 || c.set == 0 || !c.flagLike || c.set*labelShare > scanned {
		return false
	}
	switch c.class {
	case clIIN, clIBAN, clPAN, clDate:
		return false
	}
	return true
}

// attrName reports whether a header names an attribute of a transfer or
// a party (its type, code, country…) rather than a party.
func attrName(h string) bool {
	for _, t := range headerTokens(h) {
		switch t {
		case "type", "code", "kind", "format", "method", "mode", "category", "channel", "currency", "country",
			"city", "state", "zip", "business", "count":
			return true
		}
	}
	return false
}

// nodeLike reports whether a free column can name one end of a transfer:
// identifier-like values (numbers or single tokens, not three-letter
// codes), many and recurring, in a column whose header names an
// identifier (any column, with loose).
func nodeLike(c *inferCol, loose bool) bool {
	if c.role != "" || c.label != "" || c.filled == 0 || c.spaced || c.codes || attrName(c.name) {
		return false
	}
	switch c.class {
	case clAmount, clDate:
		return false
	}
	// Parties recur across rows and are many; a row id is unique, a bank
	// or branch code is one of a few.
	if len(c.distinct) >= c.filled || len(c.distinct) < max(3, c.filled/20) {
		return false
	}
	return loose || idWord(c.name)
}

// bankOf finds the free bank-code column beside an end's account column
// (From Bank beside From Account) and gives it the same role.
func bankOf(cols []*inferCol, end *inferCol) *inferCol {
	if end == nil || endScore(end) != 2 {
		return nil
	}
	for _, c := range cols {
		if c.role == "" && c.label == "" && hasRole(c, end.role) && strings.Contains(strings.ToLower(c.name), "bank") && c.filled > 0 {
			c.role = end.role
			return c
		}
	}
	return nil
}

// timeGuess is how to read a transaction's time, and what to check.
type timeGuess struct {
	yaml string
	note string
}

// guessTime proposes how to read the time: a date column, year/month/day
// columns, or a whole number (yyyymmdd, Unix seconds or milliseconds, or
// simulation steps).
func guessTime(cols []*inferCol) *timeGuess {
	isDate := func(c *inferCol) bool { return c.class == clDate }
	tm := pick(cols, "time", isDate)
	if tm == nil {
		for _, c := range cols {
			if c.role == "" && c.label == "" && c.class == clDate {
				c.role, tm = "time", c
				break
			}
		}
	}
	if tm != nil {
		return &timeGuess{yaml: fmt.Sprintf("{value: %s, format: %s}", yq(ph(tm)), tm.layout), note: "CHECK the layout and timezone"}
	}
	// Year, Month, Day (and a clock time) in columns of their own.
	named := func(word string, ok func(*inferCol) bool) *inferCol {
		for _, c := range cols {
			if c.role == "" && c.label == "" && strings.EqualFold(c.name, word) && c.filled > 0 && ok(c) {
				return c
			}
		}
		return nil
	}
	isInt := func(c *inferCol) bool { return c.class == clInt }
	y, m, d := named("year", isInt), named("month", isInt), named("day", isInt)
	if y != nil && m != nil && d != nil {
		y.role, m.role, d.role = "time", "time", "time"
		v := ph(y) + "/" + ph(m) + "/" + ph(d)
		if t := named("time", func(c *inferCol) bool { return c.class == clText && clockLike(c) }); t != nil {
			t.role = "time"
			v += " " + ph(t)
		}
		return &timeGuess{yaml: fmt.Sprintf("{value: %s, format: ymd}", yq(v)), note: "CHECK the timezone"}
	}
	tm = pick(cols, "time", isInt)
	if tm == nil || len(tm.ints) == 0 {
		return nil
	}
	lo, hi := tm.ints[0], tm.ints[0]
	ymd := true
	for _, n := range tm.ints {
		lo, hi = min(lo, n), max(hi, n)
		s := strconv.FormatInt(n, 10)
		if _, err := time.Parse("20060102", s); err != nil || len(s) != 8 {
			ymd = false
		}
	}
	switch {
	case ymd:
		return &timeGuess{yaml: fmt.Sprintf("{value: %s, format: yyyymmdd}", yq(ph(tm))), note: "CHECK the timezone"}
	case lo >= 1e11:
		return &timeGuess{yaml: fmt.Sprintf("{value: %s, format: epoch_ms}", yq(ph(tm))), note: "CHECK: Unix milliseconds?"}
	case lo >= 1e9 && hi < 1e11:
		return &timeGuess{yaml: fmt.Sprintf("{value: %s, format: epoch}", yq(ph(tm))), note: "CHECK: Unix seconds?"}
	case lo >= 0:
		return &timeGuess{yaml: fmt.Sprintf("{value: %s, format: step, base: \"2000-01-01\", unit: day}", yq(ph(tm))),
			note: "CHECK: simulation steps? set the base date and the unit (second, minute, hour, day)"}
	}
	tm.role = ""
	return nil
}

// clockLike reports whether every sample value of a column reads as HH:MM.
func clockLike(c *inferCol) bool {
	for v := range c.distinct {
		if _, err := time.Parse("15:04", v); err != nil {
			if _, err := time.Parse("15:04:05", v); err != nil {
				return false
			}
		}
	}
	return len(c.distinct) > 0
}
