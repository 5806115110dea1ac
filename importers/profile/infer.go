package profile

import (
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"casegraph/importers"
)

// inferRows is how many data rows Infer looks at.
const inferRows = 200

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
	filled int
	role   string
	codes  bool // every value is a three-letter code (USD, KZT)
}

// Infer reads a file's dialect, header and first rows and proposes a
// profile for the user to edit: a transaction mapping when it finds a time
// and an amount (or debit and credit) column, else an entity mapping. The
// result is YAML that Parse accepts; comments mark what to check.
func Infer(r io.Reader, name string) (string, error) {
	rd, d, err := openTable(r, &FileMap{})
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	var meta [][2]string
	var cols []*inferCol
	var rows [][]string
	for len(rows) < inferRows {
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
				cols = append(cols, &inferCol{name: strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))})
			}
			continue
		}
		if _, total := importers.TotalRow(rec); total || importers.EmptyRow(rec) || len(rec) != len(cols) {
			continue
		}
		rows = append(rows, append([]string(nil), rec...))
	}
	if cols == nil {
		return "", fmt.Errorf("%s: no header row", name)
	}
	for i, c := range cols {
		classify(c, rows, i)
	}
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	stem := strings.TrimSuffix(base, path.Ext(base))
	return render(stem, base, d, meta, cols), nil
}

func classify(c *inferCol, rows [][]string, i int) {
	counts := map[int]int{}
	layouts := map[string]int{}
	c.codes = true
	for _, r := range rows {
		v := strings.TrimSpace(r[i])
		if v == "" {
			continue
		}
		c.filled++
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
	{"from", []string{"orig", "from", "sender", "payer", "плательщик", "отправител", "source"}},
	{"to", []string{"bene", "to_", "to ", "receiver", "recipient", "получател", "корреспондент", "counterpart", "merchant"}},
	{"currency", []string{"currency", "валют", "crncy", "ccy"}},
	{"amount", []string{"amount", "amt", "сумма", "sum"}},
	{"time", []string{"timestamp", "time", "date", "дата", "время"}},
	{"id", []string{"tran_id", "txn_id", "tx_id", "id", "номер", "№", "документ"}},
	{"reference", []string{"назначение", "purpose", "description", "описание", "reference", "details"}},
	{"name", []string{"name", "фио", "наименование", "person", "клиент"}},
}

func guessRole(c *inferCol) string {
	low := strings.ToLower(c.name)
	for _, rw := range roleWords {
		for _, w := range rw.words {
			if low == strings.TrimSpace(w) || strings.Contains(low, w) {
				return rw.role
			}
		}
	}
	return ""
}

func pick(cols []*inferCol, role string, ok func(*inferCol) bool) *inferCol {
	for _, c := range cols {
		if c.role == "" && guessRole(c) == role && ok(c) {
			c.role = role
			return c
		}
	}
	return nil
}

func anyCol(*inferCol) bool { return true }

func yq(s string) string { return strconv.Quote(s) }

// ph renders a placeholder for a column.
func ph(c *inferCol) string {
	n := strings.ReplaceAll(strings.ReplaceAll(c.name, "{", "{{"), "}", "}}")
	return "{" + n + "}"
}

// refYAML proposes a reference for a column from its class.
func refYAML(ns string, c *inferCol) string {
	switch c.class {
	case clIIN:
		return fmt.Sprintf("{kind: person, key: %s, validate: true}", yq(ph(c)))
	case clIBAN:
		return fmt.Sprintf("{kind: account, key: %s, validate: true}", yq(ph(c)))
	case clPAN:
		return fmt.Sprintf("{kind: card, key: %s, validate: true}", yq(ph(c)))
	}
	return fmt.Sprintf("{kind: auto, fallback: account, key: %s}", yq(ns+":"+ph(c)))
}

func render(stem, base string, d importers.Dialect, meta [][2]string, cols []*inferCol) string {
	var b strings.Builder
	labels := map[string]bool{}
	for _, l := range knownLabels {
		labels[l] = true
	}
	var labelCols []string
	for _, c := range cols {
		if labels[strings.ToLower(c.name)] {
			c.role = "label"
			labelCols = append(labelCols, c.name)
		}
	}
	sep := string(d.Comma)
	if d.Comma == '\t' {
		sep = "tab"
	}
	fmt.Fprintf(&b, "# Proposed by casegraph profile infer from %s. Check every line marked CHECK,\n", base)
	fmt.Fprintf(&b, "# then import with: casegraph import --profile THIS_FILE %s\n", base)
	fmt.Fprintf(&b, "name: %s\n", yq(stem))
	fmt.Fprintf(&b, "description: %s\n", yq("proposed from "+base))
	if len(labelCols) > 0 {
		b.WriteString("# Ground-truth columns: never read.\nlabels: [")
		for i, l := range labelCols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(yq(l))
		}
		b.WriteString("]\n")
	}
	b.WriteString("files:\n")
	fmt.Fprintf(&b, "  - match: %s\n", yq(base))
	fmt.Fprintf(&b, "    format: %s\n", yq(stem))
	fmt.Fprintf(&b, "    # sniffed: %s\n", d)
	fmt.Fprintf(&b, "    encoding: %s\n    separator: %s\n", d.Encoding, yq(sep))
	if d.HeaderLine > 1 {
		fmt.Fprintf(&b, "    header_line: %d\n", d.HeaderLine)
	}
	var metaAccount bool
	if len(meta) > 0 {
		b.WriteString("    meta: # values found above the header; use them as {meta.NAME}\n")
		for i, m := range meta {
			key := "m" + strconv.Itoa(i+1)
			if validIBAN(m[1]) && !metaAccount {
				key, metaAccount = "account", true
			}
			fmt.Fprintf(&b, "      %s: %s # %s\n", key, yq("^"+regexpQuote(m[0])), strings.ReplaceAll(m[1], "\n", " "))
		}
	}
	b.WriteString("    records:\n")
	isDate := func(c *inferCol) bool { return c.class == clDate }
	isAmount := func(c *inferCol) bool { return c.class == clAmount || c.class == clInt }
	tm := pick(cols, "time", isDate)
	if tm == nil {
		for _, c := range cols {
			if c.role == "" && c.class == clDate {
				c.role, tm = "time", c
				break
			}
		}
	}
	debit := pick(cols, "debit", isAmount)
	credit := pick(cols, "credit", isAmount)
	amount := pick(cols, "amount", isAmount)
	if tm != nil && (amount != nil || (debit != nil && credit != nil)) {
		from := pick(cols, "from", anyCol)
		to := pick(cols, "to", anyCol)
		id := pick(cols, "id", anyCol)
		cur := pick(cols, "currency", anyCol)
		ref := pick(cols, "reference", anyCol)
		b.WriteString("      - txn:\n")
		if id != nil {
			fmt.Fprintf(&b, "          id: %s\n", yq(stem+":"+ph(id)))
		} else {
			b.WriteString("          # no id column: file and line identify the row\n")
		}
		fmt.Fprintf(&b, "          time: {value: %s, format: %s} # CHECK the layout and timezone\n", yq(ph(tm)), tm.layout)
		switch {
		case from != nil:
			fmt.Fprintf(&b, "          from: %s # CHECK\n", refYAML(stem, from))
		case metaAccount:
			b.WriteString("          from: {kind: account, key: \"{meta.account}\", validate: true} # the statement's account\n")
		default:
			fmt.Fprintf(&b, "          from: {kind: account, key: %s} # CHECK: whose file is this?\n", yq(stem+":holder"))
		}
		if to != nil {
			fmt.Fprintf(&b, "          to: %s # CHECK\n", refYAML(stem, to))
		} else {
			b.WriteString("          to: {kind: cash} # CHECK: no counterparty column found\n")
		}
		if amount != nil && (debit == nil || credit == nil) {
			fmt.Fprintf(&b, "          amount: {value: %s, negative: swap} # CHECK the sign rule\n", yq(ph(amount)))
		} else {
			fmt.Fprintf(&b, "          amount: {debit: %s, credit: %s}\n", yq(ph(debit)), yq(ph(credit)))
			if amount != nil {
				amount.role = ""
			}
		}
		if cur != nil && !cur.codes {
			fmt.Fprintf(&b, "          # CHECK: %s holds currency names; map them to codes:\n", cur.name)
			fmt.Fprintf(&b, "          # currency: {column: %s, map: {US Dollar: USD}}\n", yq(cur.name))
			cur.role = ""
			cur = nil
		}
		if cur != nil {
			fmt.Fprintf(&b, "          currency: {column: %s, default: KZT} # CHECK: map names to ISO codes\n", yq(cur.name))
		} else {
			b.WriteString("          currency: KZT # CHECK\n")
		}
		if ref != nil {
			fmt.Fprintf(&b, "          reference: %s\n", yq(ph(ref)))
		}
		writeProps(&b, cols, "          ")
		return b.String()
	}
	// Entities: the first identifier-like column is the key.
	var key *inferCol
	for _, cl := range []int{clIIN, clIBAN, clPAN} {
		for _, c := range cols {
			if key == nil && c.role == "" && c.class == cl {
				key = c
			}
		}
	}
	if key == nil {
		key = pick(cols, "id", anyCol)
	}
	if key == nil {
		for _, c := range cols {
			if c.role == "" {
				key = c
				break
			}
		}
	}
	if key == nil {
		key = cols[0]
	}
	key.role = "key"
	name := pick(cols, "name", func(c *inferCol) bool { return c.class == clText })
	b.WriteString("      - entity:\n")
	fmt.Fprintf(&b, "          ref: %s # CHECK the kind\n", refYAML(stem, key))
	if name != nil {
		fmt.Fprintf(&b, "          name: %s\n", yq(ph(name)))
	}
	writeProps(&b, cols, "          ")
	return b.String()
}

// writeProps keeps the unused, non-label columns as properties.
func writeProps(b *strings.Builder, cols []*inferCol, indent string) {
	var rest []*inferCol
	for _, c := range cols {
		if c.role == "" && c.name != "" && c.filled > 0 {
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
