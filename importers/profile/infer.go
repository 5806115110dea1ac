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

func yq(s string) string { return strconv.Quote(s) }

// ph renders a placeholder for a column.
func ph(c *inferCol) string {
	n := strings.ReplaceAll(strings.ReplaceAll(c.name, "{", "{{"), "}", "}}")
	return "{" + n + "}"
}

// refYAML proposes a reference for a column from its class; bank, when
// not nil, is the bank code the column's account number is unique within.
func refYAML(ns string, c, bank *inferCol) string {
	switch c.class {
	case clIIN:
		return fmt.Sprintf("{kind: person, key: %s, validate: true%s}", yq(ph(c)), orCash(c))
	case clIBAN:
		return fmt.Sprintf("{kind: account, key: %s, validate: true%s}", yq(ph(c)), orCash(c))
	case clPAN:
		return fmt.Sprintf("{kind: card, key: %s, validate: true%s}", yq(ph(c)), orCash(c))
	}
	key := ns + ":" + ph(c)
	if bank != nil {
		key = ns + ":" + ph(bank) + ":" + ph(c)
	}
	return fmt.Sprintf("{kind: auto, fallback: account, key: %s%s}", yq(key), orCash(c))
}

// orCash makes an end that some rows leave empty cash on those rows (a
// statement's cash withdrawals have no counterparty account).
func orCash(c *inferCol) string {
	if c.role != "from" && c.role != "to" || c.filled == c.rows {
		return ""
	}
	return ", else: cash"
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

func render(stem, base string, d importers.Dialect, meta [][2]string, cols []*inferCol, scanned int) string {
	for _, c := range cols {
		if labelName(c.name) {
			c.label = "named like a label"
		}
	}
	var body strings.Builder
	b := &body
	var metaAccount bool
	var metaYAML strings.Builder
	if len(meta) > 0 {
		metaYAML.WriteString("    meta: # values found above the header; use them as {meta.NAME}\n")
		for i, m := range meta {
			key := "m" + strconv.Itoa(i+1)
			if validIBAN(m[1]) && !metaAccount {
				key, metaAccount = "account", true
			}
			fmt.Fprintf(&metaYAML, "      %s: %s # %s\n", key, yq("^"+regexpQuote(m[0])), strings.ReplaceAll(m[1], "\n", " "))
		}
	}
	isAmount := func(c *inferCol) bool { return c.class == clAmount || c.class == clInt }
	isEnd := func(c *inferCol) bool {
		return c.class != clAmount && c.class != clDate && c.filled > 0 && !attrName(c.name)
	}
	tg := guessTime(cols)
	debit := pick(cols, "debit", isAmount)
	credit := pick(cols, "credit", isAmount)
	if debit == nil || credit == nil {
		for _, c := range []*inferCol{debit, credit} {
			if c != nil {
				c.role = ""
			}
		}
		debit, credit = nil, nil
	}
	amount := pick(cols, "amount", isAmount)
	from := pick(cols, "from", isEnd)
	to := pick(cols, "to", isEnd)
	fromBank, toBank := bankOf(cols, from), bankOf(cols, to)
	id := pick(cols, "id", func(c *inferCol) bool { return c.filled > 0 && len(c.distinct) == c.filled })
	// An edge list names its ends and its amount by content when its
	// headers do not: two identifier columns and an amount, with a time.
	split := debit != nil && credit != nil
	var byContent []*inferCol
	if amount == nil && !split && tg != nil {
		for _, c := range cols {
			if c.role == "" && c.label == "" && c.class == clAmount {
				c.role, amount = "amount", c
				byContent = append(byContent, c)
				break
			}
		}
	}
	var fromNote, toNote string
	if (amount != nil || split) && (from == nil || to == nil) && !metaAccount {
		loose := from == nil && to == nil && tg != nil
		for _, c := range cols {
			if !nodeLike(c, loose) {
				continue
			}
			if from == nil {
				c.role, from, fromNote = "from", c, " (chosen by content)"
				byContent = append(byContent, c)
			} else if to == nil {
				c.role, to, toNote = "to", c, " (chosen by content)"
				byContent = append(byContent, c)
			}
		}
	}
	if len(byContent) > 0 && byContent[0] == amount && (from == nil || to == nil) {
		// An amount without header words needs both ends to make a
		// transfer; else this is a table of entities.
		for _, c := range byContent {
			c.role = ""
		}
		amount = nil
		if fromNote != "" {
			from = nil
		}
		if toNote != "" {
			to = nil
		}
	}
	txn := (amount != nil || split) && (tg != nil || (from != nil && to != nil))
	if txn {
		b.WriteString("      - txn:\n")
		if id != nil {
			fmt.Fprintf(b, "          id: %s\n", yq(stem+":"+ph(id)))
		} else {
			b.WriteString("          # no column of unique ids: file and line identify the row\n")
		}
		if tg != nil {
			fmt.Fprintf(b, "          time: %s # %s\n", tg.yaml, tg.note)
		} else {
			b.WriteString("          # CHECK: no time column; the row number stands for the order\n")
			b.WriteString("          time: {value: \"{_row}\", format: step, base: \"2000-01-01\", unit: second}\n")
		}
		switch {
		case from != nil:
			fmt.Fprintf(b, "          from: %s # CHECK%s\n", refYAML(stem, from, fromBank), fromNote)
		case metaAccount:
			b.WriteString("          from: {kind: account, key: \"{meta.account}\", validate: true} # the statement's account\n")
		default:
			fmt.Fprintf(b, "          from: {kind: account, key: %s} # CHECK: whose file is this?\n", yq(stem+":holder"))
		}
		if to != nil {
			fmt.Fprintf(b, "          to: %s # CHECK%s\n", refYAML(stem, to, toBank), toNote)
		} else {
			b.WriteString("          to: {kind: cash} # CHECK: no counterparty column found\n")
		}
		if split {
			fmt.Fprintf(b, "          amount: {debit: %s, credit: %s}\n", yq(ph(debit)), yq(ph(credit)))
			if amount != nil {
				amount.role = ""
			}
		} else {
			fmt.Fprintf(b, "          amount: {value: %s, negative: swap} # CHECK the sign rule\n", yq(ph(amount)))
		}
		cur := pick(cols, "currency", anyCol)
		if cur != nil && !cur.codes {
			fmt.Fprintf(b, "          # CHECK: %s holds currency names; map them to codes:\n", cur.name)
			fmt.Fprintf(b, "          # currency: {column: %s, map: {US Dollar: USD}}\n", yq(cur.name))
			cur.role = ""
			cur = nil
		}
		if cur != nil {
			fmt.Fprintf(b, "          currency: {column: %s, default: KZT} # CHECK: map names to ISO codes\n", yq(cur.name))
		} else {
			b.WriteString("          currency: KZT # CHECK\n")
		}
		if ref := pick(cols, "reference", anyCol); ref != nil {
			fmt.Fprintf(b, "          reference: %s\n", yq(ph(ref)))
		}
	} else {
		// Entities: the roles guessed for a transaction do not hold.
		for _, c := range cols {
			c.role = ""
		}
		// The first identifier-like column is the key.
		var key *inferCol
		for _, cl := range []int{clIIN, clIBAN, clPAN} {
			for _, c := range cols {
				if key == nil && c.label == "" && c.class == cl {
					key = c
				}
			}
		}
		if key == nil {
			key = pick(cols, "id", anyCol)
		}
		if key == nil {
			for _, c := range cols {
				if c.label == "" {
					key = c
					break
				}
			}
		}
		if key == nil {
			key = cols[0]
			key.label = ""
		}
		key.role = "key"
		name := pick(cols, "name", func(c *inferCol) bool { return c.class == clText && c.filled > 0 })
		b.WriteString("      - entity:\n")
		fmt.Fprintf(b, "          ref: %s # CHECK the kind\n", refYAML(stem, key, nil))
		if name != nil {
			fmt.Fprintf(b, "          name: %s\n", yq(ph(name)))
		}
	}
	// What is left is kept as properties, unless it looks like a label.
	for _, c := range cols {
		if c.role == "" && c.label == "" && contentLabel(c, scanned) {
			c.label = fmt.Sprintf("CHECK: set on %d of %d rows read and empty, zero or false elsewhere, as a label is; if it is data, delete it here and map it", c.set, scanned)
		}
	}
	writeProps(b, cols, "          ")

	var out strings.Builder
	fmt.Fprintf(&out, "# Proposed by casegraph profile infer from %s. Check every line marked CHECK,\n", base)
	fmt.Fprintf(&out, "# then import with: casegraph import --profile THIS_FILE %s\n", base)
	fmt.Fprintf(&out, "name: %s\n", yq(stem))
	fmt.Fprintf(&out, "description: %s\n", yq("proposed from "+base))
	var labels []*inferCol
	for _, c := range cols {
		if c.label != "" && c.name != "" {
			labels = append(labels, c)
		}
	}
	if len(labels) > 0 {
		out.WriteString("# Ground-truth (label) columns: no mapping may read them, so they are never imported.\n")
		for _, c := range labels {
			if scanned > 0 && c.set*100 >= scanned*99 && c.label == "named like a label" {
				fmt.Fprintf(&out, "# CHECK: %s is set on every row: this file looks like ground truth itself, not case data.\n", c.name)
				break
			}
		}
		out.WriteString("labels:\n")
		for _, c := range labels {
			fmt.Fprintf(&out, "  - %s # %s\n", yq(c.name), c.label)
		}
	}
	out.WriteString("files:\n")
	fmt.Fprintf(&out, "  - match: %s\n", yq(base))
	fmt.Fprintf(&out, "    format: %s\n", yq(stem))
	sep := string(d.Comma)
	if d.Comma == '\t' {
		sep = "tab"
	}
	fmt.Fprintf(&out, "    # sniffed: %s\n", d)
	fmt.Fprintf(&out, "    encoding: %s\n    separator: %s\n", d.Encoding, yq(sep))
	if d.HeaderLine > 1 {
		fmt.Fprintf(&out, "    header_line: %d\n", d.HeaderLine)
	}
	out.WriteString(metaYAML.String())
	out.WriteString("    records:\n")
	out.WriteString(body.String())
	return out.String()
}

// writeProps keeps the unused, non-label columns as properties.
func writeProps(b *strings.Builder, cols []*inferCol, indent string) {
	var rest []*inferCol
	for _, c := range cols {
		if c.role == "" && c.label == "" && c.name != "" && c.filled > 0 {
			rest = append(rest, c)
		}
	}
	if len(rest) == 0 {
		return
	}
	b.WriteString(indent + "props:\n")
	seen := map[string]bool{}
	for _, c := range rest {
		key := propName(c.name)
		if seen[key] {
			continue
		}
		seen[key] = true
		fmt.Fprintf(b, "%s  %s: %s\n", indent, yq(key), yq(ph(c)))
	}
}

// propName turns a header into a lower-case property name.
func propName(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ' || r == '-' || r == '/' || r == '.':
			b.WriteByte('_')
		case r == '?' || r == '"' || r == '\'':
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "column"
	}
	return b.String()
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
