package export

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strconv"
	"strings"

	"casegraph/graph"
	"casegraph/internal/safetext"
)

// maxReportTxns bounds the transaction table of the HTML and Markdown
// reports; transactions.csv always has all of them.
const maxReportTxns = 2000

// summary is what the top of both reports says.
type summary struct {
	kinds   [][2]string // kind, count
	totals  [][2]string // currency, formatted amount
	first   string      // UTC
	last    string
	firstL  string // Asia/Almaty
	lastL   string
	nTxns   int
	nLinks  int
	nFlags  int
	nSource int
}

func summarise(d *doc) summary {
	s := summary{nTxns: len(d.txns), nLinks: len(d.links), nFlags: len(d.flags), nSource: len(d.sources)}
	counts := map[graph.Kind]int{}
	for _, n := range d.nodes {
		counts[n.ent.Ref.Kind]++
	}
	for _, k := range graph.Kinds {
		if c := counts[k]; c > 0 {
			s.kinds = append(s.kinds, [2]string{k.String(), strconv.Itoa(c)})
		}
	}
	tot := map[string]int64{}
	for _, t := range d.txns {
		tot[currency(t)] += t.Amount
	}
	curs := make([]string, 0, len(tot))
	for c := range tot {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	for _, c := range curs {
		s.totals = append(s.totals, [2]string{c, graph.FormatMoney(tot[c], c)})
	}
	if len(d.txns) > 0 {
		f, l := d.txns[0].Time, d.txns[len(d.txns)-1].Time
		s.first, s.last, s.firstL, s.lastL = utc(f), utc(l), d.local(f), d.local(l)
	}
	return s
}

// txByID finds transactions for flag evidence.
func (d *doc) txByID() map[string]int {
	m := make(map[string]int, len(d.txns))
	for i, t := range d.txns {
		m[t.ID] = i
	}
	return m
}

const reportCSS = `body{font-family:-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;margin:24px auto;max-width:1180px;color:#222;font-size:14px}
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:28px}
.sub{color:#666}.redacted{background:#b00;color:#fff;padding:2px 6px;border-radius:3px;font-size:12px}
table{border-collapse:collapse;margin:8px 0;width:100%}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.kind{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}
svg{max-width:100%;height:auto;border:1px solid #eee}.nlabel{font-size:10px}.elabel{font-size:8px;fill:#444}
.legend,.axis{font-size:11px}.evidence{font-size:12px;color:#444}code{font-size:12px}
@media print{body{margin:0}h2{page-break-after:avoid}}`

// reportCSP is the report's Content-Security-Policy: no scripts, no fetches
// of any kind (images only as data: URLs, none are used), inline styles only,
// no forms, no <base>. Whatever an imported name smuggles into the page, a
// browser that opens report.html runs nothing and loads nothing.
const reportCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

// reportTmpl is report.html. html/template escapes every value for the
// context it lands in; the drawings come from networkSVG and timelineSVG,
// which escape their own text with xmlText.
var reportTmpl = template.Must(template.New("report.html").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<title>Case {{.Name}} — casegraph</title>
<style>
` + reportCSS + `
</style>
</head>
<body>
<h1>Case {{.Name}}</h1>
<p class="sub">casegraph {{.Version}} · {{.Format}}{{if .Redacted}} · <span class="redacted">REDACTED</span>{{end}}</p>
{{with .Description}}<p>{{.}}</p>
{{end}}{{with .Tags}}<p>Tags: {{.}}</p>
{{end}}<h2>Summary</h2>
<table>
{{range .Summary}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
{{with .Bookmarks}}<h2>Bookmarked entities</h2>
<table>
<tr><th>Entity</th><th>Reference</th><th>Note</th><th>Tags</th></tr>
{{range .}}<tr><td>{{template "dot" .Dot}}</td><td><code>{{.Ref}}</code></td><td>{{.Note}}</td><td>{{.Tags}}</td></tr>
{{end}}</table>
{{end}}<h2>Red flags</h2>
{{if not .Flags}}<p>No red flags in this export.</p>
{{else}}<table>
<tr><th>Rule</th><th>Entity</th><th>Score</th><th>Reason and evidence</th></tr>
{{range .Flags}}<tr><td>{{.Rule}}</td><td>{{template "dot" .Dot}}</td><td class="num">{{.Score}}</td><td>{{.Reason}}{{with .Evidence}}<ul class="evidence">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}</td></tr>
{{end}}</table>
{{end}}<h2>Network</h2>
<p class="sub">Relations dashed, transactions solid (aggregated per pair and channel, with amounts).</p>
{{.Network}}<h2>Timeline</h2>
{{.Timeline}}<h2>Entities</h2>
<table>
<tr><th>Id</th><th>Entity</th><th>Reference</th><th>Properties</th><th>Transactions</th></tr>
{{range .Entities}}<tr><td><code>{{.ID}}</code></td><td>{{template "dot" .Dot}}{{if .Stub}} <span class="sub">(stub)</span>{{end}}</td><td><code>{{.Ref}}</code></td><td>{{.Props}}</td><td class="num">{{.Txns}}</td></tr>
{{end}}</table>
<h2>Transactions</h2>
{{with .TxnsCut}}<p class="sub">{{.}}</p>
{{end}}<table>
<tr><th>Id</th><th>Time (UTC)</th><th>Time (Almaty)</th><th>Channel</th><th>From</th><th>To</th><th>Amount</th><th>Reference</th></tr>
{{range .Txns}}<tr><td><code>{{.ID}}</code></td><td>{{.UTC}}</td><td>{{.Local}}</td><td>{{.Channel}}</td><td>{{.From}}</td><td>{{.To}}</td><td class="num">{{.Amount}}</td><td>{{.Reference}}</td></tr>
{{end}}</table>
<h2>Notes</h2>
{{if not .Notes}}<p>No notes.</p>
{{end}}{{range .Notes}}<p>{{if .UTC}}<b>{{.UTC}}</b> ({{.Local}}) {{end}}{{with .Ref}}on <code>{{.}}</code>: {{end}}{{range $i, $l := .Lines}}{{if $i}}<br>{{end}}{{$l}}{{end}}</p>
{{end}}<h2>Provenance</h2>
<p>Queries that selected the data:</p>
<ul>
{{range .Queries}}<li><code>{{.}}</code></li>
{{end}}</ul>
<table>
<tr><th>Import</th><th>Source file</th><th>Format</th><th>Rows imported</th><th>SHA-256</th></tr>
{{range .Sources}}<tr><td class="num">{{.Batch}}</td><td>{{.File}}</td><td>{{.Format}}</td><td class="num">{{.Imported}}</td><td><code>{{.SHA256}}</code></td></tr>
{{end}}</table>
<p class="sub">The SHA-256 of every file of this export is in manifest.json.</p>
</body>
</html>
{{define "dot"}}<span class="kind" style="{{.Style}}"></span>{{.Title}} <span class="sub">{{.Kind}}</span>{{end}}`))

// htmlDot is an entity's title with its kind colour.
type htmlDot struct {
	Style template.CSS // "background:#rrggbb" from kindColour, never user data
	Title string
	Kind  string
}

type htmlReport struct {
	CSP, Name, Version, Format, Description, Tags string
	Redacted                                      bool
	Summary                                       [][2]string
	Bookmarks                                     []struct {
		Dot             htmlDot
		Ref, Note, Tags string
	}
	Flags []struct {
		Rule     string
		Dot      htmlDot
		Score    string
		Reason   string
		Evidence []string
	}
	Network, Timeline template.HTML
	Entities          []struct {
		ID         string
		Dot        htmlDot
		Stub       bool
		Ref, Props string
		Txns       int
	}
	TxnsCut string
	Txns    []struct{ ID, UTC, Local, Channel, From, To, Amount, Reference string }
	Notes   []struct {
		UTC, Local, Ref string
		Lines           []string
	}
	Queries []string
	Sources []SourceFile
}

func renderHTML(d *doc) ([]byte, error) {
	s := summarise(d)
	r := htmlReport{CSP: reportCSP, Name: d.txt(d.in.Case.Name), Version: d.in.Version, Format: FormatID,
		Redacted: d.redact, Description: d.txt(d.in.Case.Description), Tags: strings.Join(d.strs(d.in.Case.Tags), ", ")}
	var kinds []string
	for _, k := range s.kinds {
		kinds = append(kinds, k[1]+" "+k[0])
	}
	r.Summary = append(r.Summary, [2]string{"Entities", strconv.Itoa(len(d.nodes)) + " (" + strings.Join(kinds, ", ") + ")"},
		[2]string{"Relations", strconv.Itoa(s.nLinks)}, [2]string{"Transactions", strconv.Itoa(s.nTxns)})
	for _, t := range s.totals {
		r.Summary = append(r.Summary, [2]string{"Total " + t[0], t[1]})
	}
	if s.nTxns > 0 {
		r.Summary = append(r.Summary, [2]string{"Period (UTC)", s.first + " — " + s.last},
			[2]string{"Period (Asia/Almaty)", s.firstL + " — " + s.lastL})
	}
	r.Summary = append(r.Summary, [2]string{"Red flags", strconv.Itoa(s.nFlags)},
		[2]string{"Source files", strconv.Itoa(s.nSource)})

	for _, bm := range d.in.Case.Bookmarks {
		r.Bookmarks = append(r.Bookmarks, struct {
			Dot             htmlDot
			Ref, Note, Tags string
		}{d.dot(bm.Ref), d.refStr(bm.Ref), d.txt(bm.Note), strings.Join(d.strs(bm.Tags), ", ")})
	}
	byID := d.txByID()
	for _, f := range d.flags {
		var ev []string
		for _, id := range f.Evidence {
			if i, ok := byID[id]; ok {
				ev = append(ev, d.txLine(d.txns[i]))
			} else {
				ev = append(ev, d.txt(id)+" (not in this export)")
			}
		}
		r.Flags = append(r.Flags, struct {
			Rule     string
			Dot      htmlDot
			Score    string
			Reason   string
			Evidence []string
		}{f.Rule, d.dot(f.Ref), strconv.FormatFloat(f.Score, 'f', 2, 64), d.txt(f.Reason), ev})
	}
	r.Network, r.Timeline = template.HTML(networkSVG(d)), template.HTML(timelineSVG(d))
	for _, n := range d.nodes {
		r.Entities = append(r.Entities, struct {
			ID         string
			Dot        htmlDot
			Stub       bool
			Ref, Props string
			Txns       int
		}{n.id, d.dot(n.ent.Ref), n.ent.Stub, n.red.String(), joinKV(d.props(n.ent)), n.txCount})
	}
	if len(d.txns) > maxReportTxns {
		r.TxnsCut = fmt.Sprintf("The first %d of %d; transactions.csv has all of them.", maxReportTxns, len(d.txns))
	}
	for _, t := range d.txns[:min(len(d.txns), maxReportTxns)] {
		r.Txns = append(r.Txns, struct{ ID, UTC, Local, Channel, From, To, Amount, Reference string }{
			d.txt(t.ID), utc(t.Time), d.local(t.Time), t.Channel.String(), d.title(t.From), d.title(t.To),
			graph.FormatMoney(t.Amount, currency(t)), d.txt(t.Reference)})
	}
	for _, n := range d.notes() {
		var note struct {
			UTC, Local, Ref string
			Lines           []string
		}
		if !n.Time.IsZero() {
			note.UTC, note.Local = utc(n.Time), d.local(n.Time)
		}
		if !n.Ref.IsZero() {
			note.Ref = d.refStr(n.Ref)
		}
		note.Lines = strings.Split(d.txt(n.Text), "\n")
		r.Notes = append(r.Notes, note)
	}
	r.Queries = d.strs(d.in.Queries)
	r.Sources = d.sources
	var b bytes.Buffer
	if err := reportTmpl.Execute(&b, r); err != nil {
		return nil, err
	}
	// A report is read by people: a bidi override or a control character
	// in a name is shown as a visible escape, not obeyed.
	return []byte(safetext.Text(b.String())), nil
}

// dot is an entity's title with its kind colour for the HTML report.
func (d *doc) dot(r graph.Ref) htmlDot {
	return htmlDot{Style: template.CSS("background:" + kindColour(r.Kind).hex()), Title: d.title(r), Kind: r.Kind.String()}
}

// txLine describes one transaction in a line.
func (d *doc) txLine(t graph.Txn) string {
	return fmt.Sprintf("%s %s %s %s → %s %s", d.txt(t.ID), utc(t.Time), t.Channel, d.title(t.From), d.title(t.To),
		graph.FormatMoney(t.Amount, currency(t)))
}

// Markdown escaping. Every user-supplied string in report.md goes through md
// (running text and table cells) or mdCode (references in code spans), so a
// name can start no HTML tag, link, image, autolink, emphasis, heading, list
// or table cell: the characters that would are backslash-escaped, which every
// CommonMark and GFM renderer shows as the plain character, and line breaks
// become spaces. Finally the whole report goes through safetext.Text, so a
// terminal that shows report.md acts on no control character either.

// mdEscaped are the characters md always escapes; "(" and ")" only matter
// after "]", which is escaped.
const mdEscaped = "\\`*_[]<>!|~&#"

// md escapes s for Markdown running text and table cells.
func md(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(mdEscaped, r):
			b.WriteByte('\\')
		case i == 0 && strings.ContainsRune("-+=", r):
			// A list item or a setext underline at the start of a line.
			b.WriteByte('\\')
		case (r == '.' || r == ')') && i > 0 && allDigits(s[:i]):
			// "1." or "1)" opens an ordered list.
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode renders s as a code span: nothing inside one is markup, so only
// the fence must be longer than any backtick run in s. In a table cell a
// "|" still ends the cell, so it is escaped there (GFM removes the "\").
func mdCode(s string, cell bool) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || s == "" {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

func renderMarkdown(d *doc) ([]byte, error) {
	s := summarise(d)
	var b strings.Builder
	fmt.Fprintf(&b, "# Case %s\n\ncasegraph %s · %s", md(d.txt(d.in.Case.Name)), md(d.in.Version), FormatID)
	if d.redact {
		b.WriteString(" · **REDACTED**")
	}
	b.WriteString("\n\n")
	if d.in.Case.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", md(d.txt(d.in.Case.Description)))
	}
	if len(d.in.Case.Tags) > 0 {
		fmt.Fprintf(&b, "Tags: %s\n\n", md(strings.Join(d.strs(d.in.Case.Tags), ", ")))
	}
	b.WriteString("## Summary\n\n| | |\n|---|---|\n")
	var kinds []string
	for _, k := range s.kinds {
		kinds = append(kinds, k[1]+" "+k[0])
	}
	fmt.Fprintf(&b, "| Entities | %d (%s) |\n| Relations | %d |\n| Transactions | %d |\n", len(d.nodes),
		strings.Join(kinds, ", "), s.nLinks, s.nTxns)
	for _, t := range s.totals {
		fmt.Fprintf(&b, "| Total %s | %s |\n", md(t[0]), md(t[1]))
	}
	if s.nTxns > 0 {
		fmt.Fprintf(&b, "| Period (UTC) | %s — %s |\n| Period (Asia/Almaty) | %s — %s |\n", s.first, s.last, s.firstL, s.lastL)
	}
	fmt.Fprintf(&b, "| Red flags | %d |\n| Source files | %d |\n\n", s.nFlags, s.nSource)

	if len(d.in.Case.Bookmarks) > 0 {
		b.WriteString("## Bookmarked entities\n\n| Entity | Kind | Reference | Note |\n|---|---|---|---|\n")
		for _, bm := range d.in.Case.Bookmarks {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", md(d.title(bm.Ref)), bm.Ref.Kind, mdCode(d.refStr(bm.Ref), true),
				md(d.txt(bm.Note)))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Red flags\n\n")
	if len(d.flags) == 0 {
		b.WriteString("No red flags in this export.\n\n")
	}
	byID := d.txByID()
	for _, f := range d.flags {
		fmt.Fprintf(&b, "- **%s** %s (%s), score %s: %s\n", md(f.Rule), md(d.title(f.Ref)), mdCode(d.refStr(f.Ref), false),
			strconv.FormatFloat(f.Score, 'f', 2, 64), md(d.txt(f.Reason)))
		for _, id := range f.Evidence {
			if i, ok := byID[id]; ok {
				fmt.Fprintf(&b, "  - %s\n", md(d.txLine(d.txns[i])))
			} else {
				fmt.Fprintf(&b, "  - %s (not in this export)\n", md(d.txt(id)))
			}
		}
	}
	if len(d.flags) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("## Network\n\nThe drawing is in report.html; graph.dot, graph.graphml and graph.gexf hold the network.\n\n")

	b.WriteString("## Entities\n\n| Id | Entity | Kind | Reference | Properties | Tx |\n|---|---|---|---|---|---:|\n")
	for _, n := range d.nodes {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d |\n", md(n.id), md(d.title(n.ent.Ref)), n.ent.Ref.Kind,
			mdCode(n.red.String(), true), md(joinKV(d.props(n.ent))), n.txCount)
	}
	b.WriteString("\n## Transactions\n\n")
	if len(d.txns) > maxReportTxns {
		fmt.Fprintf(&b, "The first %d of %d; transactions.csv has all of them.\n\n", maxReportTxns, len(d.txns))
	}
	b.WriteString("| Id | Time (UTC) | Channel | From | To | Amount | Reference |\n|---|---|---|---|---|---:|---|\n")
	for _, t := range d.txns[:min(len(d.txns), maxReportTxns)] {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", md(d.txt(t.ID)), utc(t.Time), t.Channel,
			md(d.title(t.From)), md(d.title(t.To)), md(graph.FormatMoney(t.Amount, currency(t))),
			md(d.txt(t.Reference)))
	}
	b.WriteString("\n## Notes\n\n")
	notes := d.notes()
	if len(notes) == 0 {
		b.WriteString("No notes.\n")
	}
	for _, n := range notes {
		b.WriteString("- ")
		if !n.Time.IsZero() {
			fmt.Fprintf(&b, "**%s** ", utc(n.Time))
		}
		if !n.Ref.IsZero() {
			fmt.Fprintf(&b, "on %s: ", mdCode(d.refStr(n.Ref), false))
		}
		fmt.Fprintf(&b, "%s\n", md(d.txt(n.Text)))
	}
	b.WriteString("\n## Provenance\n\nQueries:\n\n")
	for _, q := range d.in.Queries {
		fmt.Fprintf(&b, "- %s\n", mdCode(d.txt(q), false))
	}
	b.WriteString("\n| Import | Source file | Format | Rows imported | SHA-256 |\n|---:|---|---|---:|---|\n")
	for _, src := range d.sources {
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %s |\n", src.Batch, md(src.File), md(src.Format), src.Imported,
			mdCode(src.SHA256, true))
	}
	return []byte(safetext.Text(b.String())), nil
}

// notes are what the reports' Notes sections list: the case's own notes,
// then every bookmark's note on the entity it is about (a note on a
// cluster, path or trace is listed on each member, saying which).
func (d *doc) notes() []Note {
	out := slices.Clone(d.in.Case.Notes)
	for _, bm := range d.in.Case.Bookmarks {
		if strings.TrimSpace(bm.Note) != "" {
			out = append(out, Note{Ref: bm.Ref, Text: bm.Note})
		}
	}
	return out
}
