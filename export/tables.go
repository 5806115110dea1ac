package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"casegraph/graph"
)

// marshalJSON renders v as indented JSON with a final newline. Maps are
// written in key order by encoding/json, so the bytes are deterministic.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// source renders where a record came from: "file:line", the file name
// redacted (file names often carry a card number or an IIN).
func (d *doc) source(p graph.Provenance) string {
	if p.File == "" {
		return ""
	}
	return d.fileName(p.File) + ":" + strconv.Itoa(p.Line)
}

func renderEntitiesCSV(d *doc) ([]byte, error) {
	rows := [][]string{{"id", "kind", "ref", "name", "stub", "first_tx_utc", "last_tx_utc", "tx_count",
		"properties", "source"}}
	for _, n := range d.nodes {
		first, last := "", ""
		if n.txCount > 0 {
			first, last = utc(n.first), utc(n.last)
		}
		rows = append(rows, []string{n.id, n.ent.Ref.Kind.String(), n.red.String(), d.txt(n.ent.Name),
			strconv.FormatBool(n.ent.Stub), first, last, strconv.Itoa(n.txCount), joinKV(d.props(n.ent)),
			d.source(n.ent.Src)})
	}
	return writeCSV(rows, "tx_count")
}

func renderLinksCSV(d *doc) ([]byte, error) {
	rows := [][]string{{"from_id", "from_ref", "relation", "role", "to_id", "to_ref", "source"}}
	for _, l := range d.links {
		rows = append(rows, []string{d.id(l.From), d.refStr(l.From), l.Type.String(), d.txt(l.Role),
			d.id(l.To), d.refStr(l.To), d.source(l.Src)})
	}
	return writeCSV(rows)
}

func triString(t graph.Tri) string {
	switch t {
	case graph.TriYes:
		return "yes"
	case graph.TriNo:
		return "no"
	}
	return ""
}

func renderTxnsCSV(d *doc) ([]byte, error) {
	rows := [][]string{{"tx_id", "time_utc", "from_id", "from", "to_id", "to", "amount", "currency", "channel",
		"atm_id", "device_id", "ip", "iin_provided", "app_confirmed", "reference", "properties", "source"}}
	for _, t := range d.txns {
		props := graph.Entity{Props: t.Props}
		rows = append(rows, []string{d.txt(t.ID), utc(t.Time), d.id(t.From), d.refStr(t.From), d.id(t.To),
			d.refStr(t.To), decimal(t.Amount), currency(t), t.Channel.String(), d.txt(t.ATM), d.txt(t.Device),
			d.txt(t.IP), triString(t.IINProvided), triString(t.AppConfirmed), d.txt(t.Reference),
			joinKV(d.props(props)), d.source(t.Src)})
	}
	return writeCSV(rows, "amount")
}

// i2 Analyst's Notebook imports a link table: one row per link, each row
// naming both ends. The column layout is described in i2_import_spec.txt.
var i2Header = []string{"Entity1Type", "Entity1Identity", "Entity1Label", "Entity1Description",
	"LinkType", "LinkIdentity", "LinkLabel", "LinkDate", "LinkTime", "LinkAmount", "LinkCurrency",
	"LinkDescription", "Entity2Type", "Entity2Identity", "Entity2Label", "Entity2Description"}

// i2Types are the entity types used in the import specification.
var i2Types = map[graph.Kind]string{
	graph.KindPerson: "Person", graph.KindCard: "Bank Card", graph.KindAccount: "Account",
	graph.KindWallet: "Crypto Wallet", graph.KindExchange: "Organization", graph.KindGroup: "Organization",
	graph.KindPhone: "Telephone", graph.KindDevice: "Device", graph.KindIP: "IP Address",
	graph.KindAddress: "Address", graph.KindATM: "ATM", graph.KindCash: "Cash",
}

func i2Type(k graph.Kind) string {
	if t, ok := i2Types[k]; ok {
		return t
	}
	return "Entity"
}

func (d *doc) i2Entity(r graph.Ref) []string {
	n := d.node(r)
	desc := []string{n.ent.Ref.Kind.String() + " " + n.red.String()}
	for _, kv := range d.props(n.ent) {
		desc = append(desc, kv[0]+": "+kv[1])
	}
	return []string{i2Type(r.Kind), n.id, d.title(r), strings.Join(desc, "; ")}
}

func renderI2(d *doc) ([]byte, error) {
	rows := [][]string{i2Header}
	linked := make([]bool, len(d.nodes))
	for i, l := range d.links {
		row := d.i2Entity(l.From)
		label := l.Type.String()
		if l.Role != "" {
			label += " (" + d.txt(l.Role) + ")"
		}
		row = append(row, l.Type.String(), "link-"+strconv.Itoa(i+1), label, "", "", "", "", "")
		row = append(row, d.i2Entity(l.To)...)
		rows = append(rows, row)
		linked[d.byRef[l.From]], linked[d.byRef[l.To]] = true, true
	}
	for _, t := range d.txns {
		row := d.i2Entity(t.From)
		desc := t.Channel.String()
		if t.Reference != "" {
			desc += ": " + d.txt(t.Reference)
		}
		row = append(row, t.Channel.String(), d.txt(t.ID), graph.FormatMoney(t.Amount, currency(t)),
			t.Time.UTC().Format("2006-01-02"), t.Time.UTC().Format("15:04:05"), decimal(t.Amount), currency(t), desc)
		row = append(row, d.i2Entity(t.To)...)
		rows = append(rows, row)
		linked[d.byRef[t.From]], linked[d.byRef[t.To]] = true, true
	}
	// Entities without any link still belong in the chart: one row with
	// only the first entity filled in.
	for i, n := range d.nodes {
		if !linked[i] {
			row := append(d.i2Entity(n.ent.Ref), make([]string, len(i2Header)-4)...)
			rows = append(rows, row)
		}
	}
	return writeCSV(rows, "LinkAmount")
}

func renderI2Spec(d *doc) ([]byte, error) {
	var b strings.Builder
	b.WriteString(`i2 Analyst's Notebook import specification for i2_import.csv
=================================================================

File:        i2_import.csv (UTF-8, comma separated, every field in RFC 4180 double quotes, first
             row is the header). A text field that a spreadsheet would read as a formula
             (starting with = + - @, tab or CR) starts with an apostrophe ('); LinkAmount and
             E.164 phone numbers (+7 and 10 digits) are written as they are
Import type: Link table ("Entity - Link - Entity" in the Import wizard; each row is one link
             between two entities; a row whose Link and Entity2 columns are empty carries a
             single entity that has no link in this case)

Entity 1 and Entity 2 (same layout, columns Entity1* and Entity2*)
  <N>Type         entity type (choose the icon in the wizard; see the type list below)
  <N>Identity     identity: unique and stable within this export (merge on it)
  <N>Label        label shown on the chart
  <N>Description  kind, reference and properties ("key: value; key: value")

Link
  LinkType        link type: a relation (holds, card_of, member_of, operates, uses_phone,
                  uses_device, uses_ip, resides_at, same_as) or a transaction channel
                  (transfer, topup, cash_out, trade)
  LinkIdentity    link identity: the transaction id for transactions, link-N for relations
  LinkLabel       label shown on the link (amount with currency for transactions)
  LinkDate        date of the transaction, UTC, format yyyy-MM-dd (empty for relations)
  LinkTime        time of the transaction, UTC, format HH:mm:ss (empty for relations)
  LinkAmount      amount as a plain decimal (attribute "Amount", type Number)
  LinkCurrency    ISO 4217 currency (attribute "Currency", type Text)
  LinkDescription channel and payment reference
  Direction       every link is directed from Entity 1 to Entity 2 ("Arrow: from 1 to 2")

Times are UTC; Asia/Almaty is UTC+5 (UTC+6 before 1 March 2024).

Entity types used
`)
	seen := map[string]bool{}
	for _, k := range graph.Kinds {
		t := i2Type(k)
		if seen[t] {
			continue
		}
		seen[t] = true
		var kinds []string
		for _, k2 := range graph.Kinds {
			if i2Type(k2) == t {
				kinds = append(kinds, k2.String())
			}
		}
		fmt.Fprintf(&b, "  %-14s casegraph kinds: %s\n", t, strings.Join(kinds, ", "))
	}
	fmt.Fprintf(&b, "\nRows: %d relations, %d transactions.\n", len(d.links), len(d.txns))
	if d.redact {
		b.WriteString("Identifiers are pseudonymised: every card, IIN, account, phone, address, device, IP, wallet, name and identifying property reads PSN-<KIND>-<10 letters>, the same identifier the same pseudonym throughout this export.\n")
	}
	return []byte(b.String()), nil
}

// strs redacts a list of strings; never nil, so JSON shows [].
func (d *doc) strs(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, d.txt(s))
	}
	return out
}
