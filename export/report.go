package export

import (
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"

	"casegraph/graph"
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

func esc(s string) string { return html.EscapeString(s) }

func renderHTML(d *doc) ([]byte, error) {
	s := summarise(d)
	var b strings.Builder
	name := d.txt(d.in.Case.Name)
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(&b, "<title>Case %s — casegraph</title>\n<style>\n%s\n</style>\n</head>\n<body>\n", esc(name), reportCSS)
	fmt.Fprintf(&b, "<h1>Case %s</h1>\n<p class=\"sub\">casegraph %s · %s", esc(name), esc(d.in.Version), FormatID)
	if d.redact {
		b.WriteString(` · <span class="redacted">REDACTED</span>`)
	}
	b.WriteString("</p>\n")
	if d.in.Case.Description != "" {
		fmt.Fprintf(&b, "<p>%s</p>\n", esc(d.txt(d.in.Case.Description)))
	}
	if len(d.in.Case.Tags) > 0 {
		fmt.Fprintf(&b, "<p>Tags: %s</p>\n", esc(strings.Join(d.strs(d.in.Case.Tags), ", ")))
	}

	b.WriteString("<h2>Summary</h2>\n<table>\n")
	row := func(k, v string) { fmt.Fprintf(&b, "<tr><th>%s</th><td>%s</td></tr>\n", esc(k), v) }
	var kinds []string
	for _, k := range s.kinds {
		kinds = append(kinds, esc(k[1]+" "+k[0]))
	}
	row("Entities", strconv.Itoa(len(d.nodes))+" ("+strings.Join(kinds, ", ")+")")
	row("Relations", strconv.Itoa(s.nLinks))
	row("Transactions", strconv.Itoa(s.nTxns))
	for _, t := range s.totals {
		row("Total "+t[0], esc(t[1]))
	}
	if s.nTxns > 0 {
		row("Period (UTC)", esc(s.first+" — "+s.last))
		row("Period (Asia/Almaty)", esc(s.firstL+" — "+s.lastL))
	}
	row("Red flags", strconv.Itoa(s.nFlags))
	row("Source files", strconv.Itoa(s.nSource))
	b.WriteString("</table>\n")

	if len(d.in.Case.Bookmarks) > 0 {
		b.WriteString("<h2>Bookmarked entities</h2>\n<table>\n<tr><th>Entity</th><th>Reference</th><th>Note</th><th>Tags</th></tr>\n")
		for _, bm := range d.in.Case.Bookmarks {
			fmt.Fprintf(&b, "<tr><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td></tr>\n", d.kindDot(bm.Ref),
				esc(d.refStr(bm.Ref)), esc(d.txt(bm.Note)), esc(strings.Join(d.strs(bm.Tags), ", ")))
		}
		b.WriteString("</table>\n")
	}

	b.WriteString("<h2>Red flags</h2>\n")
	if len(d.flags) == 0 {
		b.WriteString("<p>No red flags in this export.</p>\n")
	} else {
		byID := d.txByID()
		b.WriteString("<table>\n<tr><th>Rule</th><th>Entity</th><th>Score</th><th>Reason and evidence</th></tr>\n")
		for _, f := range d.flags {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td class=\"num\">%s</td><td>%s", esc(f.Rule), d.kindDot(f.Ref),
				strconv.FormatFloat(f.Score, 'f', 2, 64), esc(d.txt(f.Reason)))
			if len(f.Evidence) > 0 {
				b.WriteString("<ul class=\"evidence\">")
				for _, id := range f.Evidence {
					if i, ok := byID[id]; ok {
						fmt.Fprintf(&b, "<li>%s</li>", esc(d.txLine(d.txns[i])))
					} else {
						fmt.Fprintf(&b, "<li>%s (not in this export)</li>", esc(d.txt(id)))
					}
				}
				b.WriteString("</ul>")
			}
			b.WriteString("</td></tr>\n")
		}
		b.WriteString("</table>\n")
	}

	b.WriteString("<h2>Network</h2>\n<p class=\"sub\">Relations dashed, transactions solid (aggregated per pair and channel, with amounts).</p>\n")
	b.WriteString(networkSVG(d))
	b.WriteString("<h2>Timeline</h2>\n")
	b.WriteString(timelineSVG(d))

	b.WriteString("<h2>Entities</h2>\n<table>\n<tr><th>Id</th><th>Entity</th><th>Reference</th><th>Properties</th><th>Transactions</th></tr>\n")
	for _, n := range d.nodes {
		stub := ""
		if n.ent.Stub {
			stub = " <span class=\"sub\">(stub)</span>"
		}
		fmt.Fprintf(&b, "<tr><td><code>%s</code></td><td>%s%s</td><td><code>%s</code></td><td>%s</td><td class=\"num\">%d</td></tr>\n",
			esc(n.id), d.kindDot(n.ent.Ref), stub, esc(n.red.String()), esc(joinKV(d.props(n.ent))), n.txCount)
	}
	b.WriteString("</table>\n")

	fmt.Fprintf(&b, "<h2>Transactions</h2>\n")
	if len(d.txns) > maxReportTxns {
		fmt.Fprintf(&b, "<p class=\"sub\">The first %d of %d; transactions.csv has all of them.</p>\n", maxReportTxns, len(d.txns))
	}
	b.WriteString("<table>\n<tr><th>Id</th><th>Time (UTC)</th><th>Time (Almaty)</th><th>Channel</th><th>From</th><th>To</th><th>Amount</th><th>Reference</th></tr>\n")
	for _, t := range d.txns[:min(len(d.txns), maxReportTxns)] {
		fmt.Fprintf(&b, "<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"num\">%s</td><td>%s</td></tr>\n",
			esc(d.txt(t.ID)), utc(t.Time), esc(d.local(t.Time)), t.Channel, esc(d.title(t.From)), esc(d.title(t.To)),
			esc(graph.FormatMoney(t.Amount, currency(t))), esc(d.txt(t.Reference)))
	}
	b.WriteString("</table>\n")

	b.WriteString("<h2>Notes</h2>\n")
	if len(d.in.Case.Notes) == 0 {
		b.WriteString("<p>No notes.</p>\n")
	}
	for _, n := range d.in.Case.Notes {
		b.WriteString("<p>")
		if !n.Time.IsZero() {
			fmt.Fprintf(&b, "<b>%s</b> (%s) ", utc(n.Time), esc(d.local(n.Time)))
		}
		if !n.Ref.IsZero() {
			fmt.Fprintf(&b, "on <code>%s</code>: ", esc(d.refStr(n.Ref)))
		}
		fmt.Fprintf(&b, "%s</p>\n", strings.ReplaceAll(esc(d.txt(n.Text)), "\n", "<br>"))
	}

	b.WriteString("<h2>Provenance</h2>\n<p>Queries that selected the data:</p>\n<ul>\n")
	for _, q := range d.in.Queries {
		fmt.Fprintf(&b, "<li><code>%s</code></li>\n", esc(d.txt(q)))
	}
	b.WriteString("</ul>\n<table>\n<tr><th>Import</th><th>Source file</th><th>Format</th><th>Rows imported</th><th>SHA-256</th></tr>\n")
	for _, src := range d.sources {
		fmt.Fprintf(&b, "<tr><td class=\"num\">%d</td><td>%s</td><td>%s</td><td class=\"num\">%d</td><td><code>%s</code></td></tr>\n",
			src.Batch, esc(src.File), esc(src.Format), src.Imported, esc(src.SHA256))
	}
	b.WriteString("</table>\n<p class=\"sub\">The SHA-256 of every file of this export is in manifest.json.</p>\n</body>\n</html>\n")
	return []byte(b.String()), nil
}

// kindDot renders an entity's title with its kind colour.
func (d *doc) kindDot(r graph.Ref) string {
	return fmt.Sprintf("<span class=\"kind\" style=\"background:%s\"></span>%s <span class=\"sub\">%s</span>",
		kindColour(r.Kind).hex(), esc(d.title(r)), esc(r.Kind.String()))
}

// txLine describes one transaction in a line.
func (d *doc) txLine(t graph.Txn) string {
	return fmt.Sprintf("%s %s %s %s → %s %s", d.txt(t.ID), utc(t.Time), t.Channel, d.title(t.From), d.title(t.To),
		graph.FormatMoney(t.Amount, currency(t)))
}

// mdCell escapes a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func renderMarkdown(d *doc) ([]byte, error) {
	s := summarise(d)
	var b strings.Builder
	name := d.txt(d.in.Case.Name)
	fmt.Fprintf(&b, "# Case %s\n\ncasegraph %s · %s", name, d.in.Version, FormatID)
	if d.redact {
		b.WriteString(" · **REDACTED**")
	}
	b.WriteString("\n\n")
	if d.in.Case.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", d.txt(d.in.Case.Description))
	}
	b.WriteString("## Summary\n\n| | |\n|---|---|\n")
	var kinds []string
	for _, k := range s.kinds {
		kinds = append(kinds, k[1]+" "+k[0])
	}
	fmt.Fprintf(&b, "| Entities | %d (%s) |\n| Relations | %d |\n| Transactions | %d |\n", len(d.nodes),
		strings.Join(kinds, ", "), s.nLinks, s.nTxns)
	for _, t := range s.totals {
		fmt.Fprintf(&b, "| Total %s | %s |\n", t[0], t[1])
	}
	if s.nTxns > 0 {
		fmt.Fprintf(&b, "| Period (UTC) | %s — %s |\n| Period (Asia/Almaty) | %s — %s |\n", s.first, s.last, s.firstL, s.lastL)
	}
	fmt.Fprintf(&b, "| Red flags | %d |\n| Source files | %d |\n\n", s.nFlags, s.nSource)

	if len(d.in.Case.Bookmarks) > 0 {
		b.WriteString("## Bookmarked entities\n\n| Entity | Kind | Reference | Note |\n|---|---|---|---|\n")
		for _, bm := range d.in.Case.Bookmarks {
			fmt.Fprintf(&b, "| %s | %s | `%s` | %s |\n", mdCell(d.title(bm.Ref)), bm.Ref.Kind, d.refStr(bm.Ref),
				mdCell(d.txt(bm.Note)))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Red flags\n\n")
	if len(d.flags) == 0 {
		b.WriteString("No red flags in this export.\n\n")
	}
	byID := d.txByID()
	for _, f := range d.flags {
		fmt.Fprintf(&b, "- **%s** %s (`%s`), score %s: %s\n", f.Rule, d.title(f.Ref), d.refStr(f.Ref),
			strconv.FormatFloat(f.Score, 'f', 2, 64), d.txt(f.Reason))
		for _, id := range f.Evidence {
			if i, ok := byID[id]; ok {
				fmt.Fprintf(&b, "  - %s\n", d.txLine(d.txns[i]))
			} else {
				fmt.Fprintf(&b, "  - %s (not in this export)\n", d.txt(id))
			}
		}
	}
	if len(d.flags) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("## Network\n\nThe drawing is in report.html; graph.dot, graph.graphml and graph.gexf hold the network.\n\n")

	b.WriteString("## Entities\n\n| Id | Entity | Kind | Reference | Properties | Tx |\n|---|---|---|---|---|---:|\n")
	for _, n := range d.nodes {
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s | %d |\n", n.id, mdCell(d.title(n.ent.Ref)), n.ent.Ref.Kind,
			n.red.String(), mdCell(joinKV(d.props(n.ent))), n.txCount)
	}
	b.WriteString("\n## Transactions\n\n")
	if len(d.txns) > maxReportTxns {
		fmt.Fprintf(&b, "The first %d of %d; transactions.csv has all of them.\n\n", maxReportTxns, len(d.txns))
	}
	b.WriteString("| Id | Time (UTC) | Channel | From | To | Amount | Reference |\n|---|---|---|---|---|---:|---|\n")
	for _, t := range d.txns[:min(len(d.txns), maxReportTxns)] {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdCell(d.txt(t.ID)), utc(t.Time), t.Channel,
			mdCell(d.title(t.From)), mdCell(d.title(t.To)), graph.FormatMoney(t.Amount, currency(t)),
			mdCell(d.txt(t.Reference)))
	}
	b.WriteString("\n## Notes\n\n")
	if len(d.in.Case.Notes) == 0 {
		b.WriteString("No notes.\n")
	}
	for _, n := range d.in.Case.Notes {
		b.WriteString("- ")
		if !n.Time.IsZero() {
			fmt.Fprintf(&b, "**%s** ", utc(n.Time))
		}
		if !n.Ref.IsZero() {
			fmt.Fprintf(&b, "on `%s`: ", d.refStr(n.Ref))
		}
		fmt.Fprintf(&b, "%s\n", strings.ReplaceAll(d.txt(n.Text), "\n", " "))
	}
	b.WriteString("\n## Provenance\n\nQueries:\n\n")
	for _, q := range d.in.Queries {
		fmt.Fprintf(&b, "- `%s`\n", d.txt(q))
	}
	b.WriteString("\n| Import | Source file | Format | Rows imported | SHA-256 |\n|---:|---|---|---:|---|\n")
	for _, src := range d.sources {
		fmt.Fprintf(&b, "| %d | %s | %s | %d | `%s` |\n", src.Batch, mdCell(src.File), src.Format, src.Imported, src.SHA256)
	}
	return []byte(b.String()), nil
}
