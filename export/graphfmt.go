package export

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"casegraph/graph"
)

// xmlText escapes s for XML text and attribute values.
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

type keyDecl struct{ id, domain, name, typ string }

// GraphML keys. "labels" on nodes and "label" on edges are what Neo4j's
// apoc.import.graphml reads as node labels and relationship types.
var graphmlKeys = []keyDecl{
	{"labels", "node", "labels", "string"},
	{"kind", "node", "kind", "string"},
	{"ref", "node", "ref", "string"},
	{"name", "node", "name", "string"},
	{"title", "node", "title", "string"},
	{"stub", "node", "stub", "boolean"},
	{"props", "node", "properties", "string"},
	{"tx_count", "node", "tx_count", "int"},
	{"label", "edge", "label", "string"},
	{"relation", "edge", "relation", "string"},
	{"role", "edge", "role", "string"},
	{"tx_id", "edge", "tx_id", "string"},
	{"time", "edge", "time_utc", "string"},
	{"amount", "edge", "amount", "double"},
	{"currency", "edge", "currency", "string"},
	{"reference", "edge", "reference", "string"},
}

func renderGraphML(d *doc) ([]byte, error) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
`)
	for _, k := range graphmlKeys {
		fmt.Fprintf(&b, "  <key id=%q for=%q attr.name=%q attr.type=%q/>\n", k.id, k.domain, k.name, k.typ)
	}
	fmt.Fprintf(&b, "  <graph id=\"case\" edgedefault=\"directed\">\n")
	data := func(indent, key, val string) {
		if val != "" {
			fmt.Fprintf(&b, "%s<data key=\"%s\">%s</data>\n", indent, key, xmlText(val))
		}
	}
	for _, n := range d.nodes {
		fmt.Fprintf(&b, "    <node id=\"%s\">\n", xmlText(n.id))
		data("      ", "labels", ":"+kindLabel(n.ent.Ref.Kind))
		data("      ", "kind", n.ent.Ref.Kind.String())
		data("      ", "ref", n.red.String())
		data("      ", "name", d.txt(n.ent.Name))
		data("      ", "title", d.title(n.ent.Ref))
		data("      ", "stub", strconv.FormatBool(n.ent.Stub))
		data("      ", "props", joinKV(d.props(n.ent)))
		data("      ", "tx_count", strconv.Itoa(n.txCount))
		b.WriteString("    </node>\n")
	}
	for i, l := range d.links {
		fmt.Fprintf(&b, "    <edge id=\"link-%d\" source=\"%s\" target=\"%s\">\n", i+1, xmlText(d.id(l.From)),
			xmlText(d.id(l.To)))
		data("      ", "label", strings.ToUpper(l.Type.String()))
		data("      ", "relation", l.Type.String())
		data("      ", "role", d.txt(l.Role))
		b.WriteString("    </edge>\n")
	}
	for i, t := range d.txns {
		fmt.Fprintf(&b, "    <edge id=\"tx-%d\" source=\"%s\" target=\"%s\">\n", i+1, xmlText(d.id(t.From)),
			xmlText(d.id(t.To)))
		data("      ", "label", strings.ToUpper(t.Channel.String()))
		data("      ", "relation", t.Channel.String())
		data("      ", "tx_id", d.txt(t.ID))
		data("      ", "time", utc(t.Time))
		data("      ", "amount", decimal(t.Amount))
		data("      ", "currency", currency(t))
		data("      ", "reference", d.txt(t.Reference))
		b.WriteString("    </edge>\n")
	}
	b.WriteString("  </graph>\n</graphml>\n")
	return []byte(b.String()), nil
}

// kindLabel is a kind as a capitalised label: "Card".
func kindLabel(k graph.Kind) string {
	s := k.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

func renderGEXF(d *doc) ([]byte, error) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">
`)
	fmt.Fprintf(&b, "  <meta>\n    <creator>casegraph %s</creator>\n    <description>%s</description>\n  </meta>\n",
		xmlText(d.in.Version), xmlText("case "+d.txt(d.in.Case.Name)))
	b.WriteString(`  <graph mode="dynamic" defaultedgetype="directed" timeformat="dateTime" timerepresentation="interval">
    <attributes class="node" mode="static">
      <attribute id="kind" title="kind" type="string"/>
      <attribute id="ref" title="ref" type="string"/>
      <attribute id="stub" title="stub" type="boolean"/>
      <attribute id="props" title="properties" type="string"/>
    </attributes>
    <attributes class="edge" mode="static">
      <attribute id="relation" title="relation" type="string"/>
      <attribute id="tx_id" title="tx_id" type="string"/>
      <attribute id="amount" title="amount" type="double"/>
      <attribute id="currency" title="currency" type="string"/>
      <attribute id="reference" title="reference" type="string"/>
    </attributes>
    <nodes>
`)
	att := func(key, val string) {
		if val != "" {
			fmt.Fprintf(&b, "          <attvalue for=\"%s\" value=\"%s\"/>\n", key, xmlText(val))
		}
	}
	pos := layoutCircle(d)
	for i, n := range d.nodes {
		span := ""
		if n.txCount > 0 {
			span = fmt.Sprintf(" start=\"%s\" end=\"%s\"", utc(n.first), utc(n.last))
		}
		fmt.Fprintf(&b, "      <node id=\"%s\" label=\"%s\"%s>\n        <attvalues>\n", xmlText(n.id),
			xmlText(d.title(n.ent.Ref)), span)
		att("kind", n.ent.Ref.Kind.String())
		att("ref", n.red.String())
		att("stub", strconv.FormatBool(n.ent.Stub))
		att("props", joinKV(d.props(n.ent)))
		c := kindColour(n.ent.Ref.Kind)
		fmt.Fprintf(&b, "        </attvalues>\n        <viz:color r=\"%d\" g=\"%d\" b=\"%d\"/>\n", c.r, c.g, c.b)
		fmt.Fprintf(&b, "        <viz:position x=\"%.1f\" y=\"%.1f\" z=\"0.0\"/>\n      </node>\n", pos[i].x, -pos[i].y)
	}
	b.WriteString("    </nodes>\n    <edges>\n")
	for i, l := range d.links {
		fmt.Fprintf(&b, "      <edge id=\"link-%d\" source=\"%s\" target=\"%s\" label=\"%s\">\n        <attvalues>\n",
			i+1, xmlText(d.id(l.From)), xmlText(d.id(l.To)), l.Type.String())
		att("relation", l.Type.String())
		b.WriteString("        </attvalues>\n      </edge>\n")
	}
	for i, t := range d.txns {
		fmt.Fprintf(&b, "      <edge id=\"tx-%d\" source=\"%s\" target=\"%s\" label=\"%s\" start=\"%s\" end=\"%s\">\n        <attvalues>\n",
			i+1, xmlText(d.id(t.From)), xmlText(d.id(t.To)), xmlText(graph.FormatMoney(t.Amount, currency(t))),
			utc(t.Time), utc(t.Time))
		att("relation", t.Channel.String())
		att("tx_id", d.txt(t.ID))
		att("amount", decimal(t.Amount))
		att("currency", currency(t))
		att("reference", d.txt(t.Reference))
		b.WriteString("        </attvalues>\n      </edge>\n")
	}
	b.WriteString("    </edges>\n  </graph>\n</gexf>\n")
	return []byte(b.String()), nil
}

// edgeAgg is the transactions or links between two nodes in one relation,
// aggregated for drawing.
type edgeAgg struct {
	from, to int
	relation string
	isTx     bool
	count    int
	amount   map[string]int64 // per currency
}

func (e edgeAgg) label() string {
	if !e.isTx {
		return e.relation
	}
	curs := make([]string, 0, len(e.amount))
	for c := range e.amount {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	parts := make([]string, 0, len(curs))
	for _, c := range curs {
		parts = append(parts, graph.FormatMoney(e.amount[c], c))
	}
	s := e.relation
	if e.count > 1 {
		s += " ×" + strconv.Itoa(e.count)
	}
	return s + " " + strings.Join(parts, " + ")
}

func (e edgeAgg) total() int64 {
	var t int64
	for _, v := range e.amount {
		t += v
	}
	return t
}

// aggregate folds links and transactions into one edge per (from, to,
// relation), in a stable order.
func aggregate(d *doc) []edgeAgg {
	type key struct {
		from, to int
		rel      string
	}
	idx := map[key]int{}
	var out []edgeAgg
	put := func(from, to graph.Ref, rel string, isTx bool, cur string, amt int64) {
		k := key{d.byRef[from], d.byRef[to], rel}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, edgeAgg{from: k.from, to: k.to, relation: rel, isTx: isTx, amount: map[string]int64{}})
		}
		out[i].count++
		if isTx {
			out[i].amount[cur] += amt
		}
	}
	for _, l := range d.links {
		put(l.From, l.To, l.Type.String(), false, "", 0)
	}
	for _, t := range d.txns {
		put(t.From, t.To, t.Channel.String(), true, currency(t), t.Amount)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.from != b.from {
			return a.from < b.from
		}
		if a.to != b.to {
			return a.to < b.to
		}
		return a.relation < b.relation
	})
	return out
}

// dotString quotes s as a DOT string.
func dotString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

func renderDOT(d *doc) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotString("case "+d.txt(d.in.Case.Name)))
	fmt.Fprintf(&b, "  graph [rankdir=LR, fontname=\"Helvetica\", label=%s];\n",
		dotString("casegraph case "+d.txt(d.in.Case.Name)))
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=8];\n")
	for _, n := range d.nodes {
		c := kindColour(n.ent.Ref.Kind)
		fmt.Fprintf(&b, "  %s [label=%s, fillcolor=\"%s\"];\n", dotString(n.id),
			dotString(d.title(n.ent.Ref)+"\n"+n.ent.Ref.Kind.String()), c.hex())
	}
	for _, e := range aggregate(d) {
		style := ""
		if !e.isTx {
			style = ", style=dashed"
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s%s];\n", dotString(d.nodes[e.from].id), dotString(d.nodes[e.to].id),
			dotString(e.label()), style)
	}
	b.WriteString("}\n")
	return []byte(b.String()), nil
}
