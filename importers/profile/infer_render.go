package profile

import (
	"fmt"
	"strconv"
	"strings"

	"casegraph/importers"
)

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
		// The key is the first identifier-like column whose values are
		// unique in the rows read (an IIN, IBAN or card number, else a
		// column named as an id). A column that repeats would make the rows
		// that share a value one entity, and every row after the first a
		// conflicting duplicate; with no unique column, the row number
		// identifies the entity.
		unique := func(c *inferCol) bool { return c.filled == c.rows && c.filled > 0 && len(c.distinct) == c.filled }
		var key *inferCol
		for _, cl := range []int{clIIN, clIBAN, clPAN} {
			for _, c := range cols {
				if key == nil && c.label == "" && c.class == cl && unique(c) {
					key = c
				}
			}
		}
		if key == nil {
			key = pick(cols, "id", unique)
		}
		if key == nil {
			for _, c := range cols {
				if c.label == "" && c.role == "" && idWord(c.name) && unique(c) {
					key = c
					break
				}
			}
		}
		ref := stem + ":{_row}"
		if key != nil {
			key.role = "key"
		}
		name := pick(cols, "name", func(c *inferCol) bool { return c.class == clText && c.filled > 0 })
		b.WriteString("      - entity:\n")
		if key != nil {
			fmt.Fprintf(b, "          ref: %s # CHECK the kind\n", refYAML(stem, key, nil))
		} else {
			b.WriteString("          # no column of unique ids: the row number identifies the entity\n")
			fmt.Fprintf(b, "          ref: {kind: account, key: %s} # CHECK the kind\n", yq(ref))
		}
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
