package export

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"casegraph/graph"
)

// rgb is a colour of the report and of the Gephi and DOT drawings. The
// report is a document, not the terminal: these colours are chosen for
// print on white, independent of the TUI theme.
type rgb struct{ r, g, b uint8 }

func (c rgb) hex() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

var kindColours = map[graph.Kind]rgb{
	graph.KindPerson:   {0x4e, 0x79, 0xa7},
	graph.KindCard:     {0xf2, 0x8e, 0x2b},
	graph.KindAccount:  {0xe1, 0x57, 0x59},
	graph.KindWallet:   {0x76, 0xb7, 0xb2},
	graph.KindExchange: {0x59, 0xa1, 0x4f},
	graph.KindGroup:    {0xed, 0xc9, 0x48},
	graph.KindPhone:    {0xb0, 0x7a, 0xa1},
	graph.KindDevice:   {0xff, 0x9d, 0xa7},
	graph.KindIP:       {0x9c, 0x75, 0x5f},
	graph.KindAddress:  {0xba, 0xb0, 0xac},
	graph.KindATM:      {0x8c, 0xd1, 0x7d},
	graph.KindCash:     {0xcc, 0xcc, 0xcc},
}

func kindColour(k graph.Kind) rgb {
	if c, ok := kindColours[k]; ok {
		return c
	}
	return rgb{0x99, 0x99, 0x99}
}

type point struct{ x, y float64 }

// layoutCircle places the nodes on a circle in their export order (by kind,
// then reference), so each kind forms one arc. The radius grows with the
// node count so neighbours keep ~18 px apart. Centre is (0, 0).
func layoutCircle(d *doc) []point {
	n := len(d.nodes)
	out := make([]point, n)
	if n == 1 {
		return out
	}
	r := circleRadius(n)
	for i := range out {
		a := 2*math.Pi*float64(i)/float64(n) - math.Pi/2
		out[i] = point{r * math.Cos(a), r * math.Sin(a)}
	}
	return out
}

func circleRadius(n int) float64 { return math.Max(200, float64(n)*18/(2*math.Pi)) }

// Drawing limits: beyond them labels are left to the tooltips so the
// drawing stays readable.
const (
	maxNodeLabels = 150
	maxEdgeLabels = 60
)

// networkSVG draws the case network: nodes coloured by kind on a circle,
// relations dashed, transactions solid with their aggregated amounts.
func networkSVG(d *doc) string {
	pos := layoutCircle(d)
	margin := 190.0
	r := circleRadius(len(d.nodes))
	size := 2*r + 2*margin
	shift := func(p point) point { return point{p.x + size/2, p.y + size/2} }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="network" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="case network">`+"\n",
		size, size, size, size)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>` + "\n")
	edges := aggregate(d)
	// Label the largest transaction edges first when there are too many.
	labelled := map[int]bool{}
	order := make([]int, 0, len(edges))
	for i := range edges {
		if edges[i].isTx {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, c int) bool { return edges[order[a]].total() > edges[order[c]].total() })
	for i, e := range order {
		if i < maxEdgeLabels {
			labelled[e] = true
		}
	}
	for i, e := range edges {
		p, q := shift(pos[e.from]), shift(pos[e.to])
		if e.from == e.to {
			continue
		}
		// Curve every edge a little to its left so A→B and B→A stay apart.
		mx, my := (p.x+q.x)/2, (p.y+q.y)/2
		dx, dy := q.x-p.x, q.y-p.y
		if math.Hypot(dx, dy) == 0 {
			continue
		}
		cx, cy := mx-dy*0.12, my+dx*0.12
		// End the arrow at the node's rim, not its centre.
		ex, ey := q.x-cx, q.y-cy
		el := math.Hypot(ex, ey)
		tx, ty := q.x-ex/el*8, q.y-ey/el*8
		stroke := "#555"
		dash := ""
		if !e.isTx {
			stroke, dash = "#999", ` stroke-dasharray="4 3"`
		}
		fmt.Fprintf(&b, `<path d="M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f" fill="none" stroke="%s" stroke-width="1"%s marker-end="url(#arrow)"><title>%s</title></path>`+"\n",
			p.x, p.y, cx, cy, tx, ty, stroke, dash, xmlText(d.title(d.nodes[e.from].ent.Ref)+" → "+
				d.title(d.nodes[e.to].ent.Ref)+": "+e.label()))
		if labelled[i] {
			// The curve's midpoint is halfway between the chord's
			// midpoint and the control point.
			lx, ly := (mx+cx)/2, (my+cy)/2
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="elabel" text-anchor="middle">%s</text>`+"\n",
				lx, ly, xmlText(e.label()))
		}
	}
	for i, n := range d.nodes {
		p := shift(pos[i])
		c := kindColour(n.ent.Ref.Kind)
		title := d.title(n.ent.Ref)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="7" fill="%s" stroke="#333" stroke-width="0.8"><title>%s</title></circle>`+"\n",
			p.x, p.y, c.hex(), xmlText(n.ent.Ref.Kind.String()+" "+title+" ("+n.red.String()+")"))
		if len(d.nodes) <= maxNodeLabels {
			// Labels point outwards from the circle.
			anchor, dx := "start", 11.0
			if pos[i].x < -1 {
				anchor, dx = "end", -11
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="nlabel" text-anchor="%s">%s</text>`+"\n",
				p.x+dx, p.y+4, anchor, xmlText(cut(title, 30)))
		}
	}
	// Legend of the kinds present.
	y := 18.0
	for _, k := range graph.Kinds {
		present := false
		for _, n := range d.nodes {
			if n.ent.Ref.Kind == k {
				present = true
				break
			}
		}
		if !present {
			continue
		}
		fmt.Fprintf(&b, `<circle cx="14" cy="%.0f" r="6" fill="%s"/><text x="26" y="%.0f" class="legend">%s</text>`+"\n",
			y, kindColour(k).hex(), y+4, k.String())
		y += 18
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// cut shortens s to at most n runes, ending in "…" when cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// dayBin is the transactions of one bar of the timeline.
type dayBin struct {
	start  time.Time // local midnight in Asia/Almaty
	count  int
	amount int64
}

// timelineBins groups the transactions by Almaty calendar day, or by runs of
// days when the case spans more than a year, from the first day to the last.
func timelineBins(d *doc) (bins []dayBin, days int) {
	if len(d.txns) == 0 {
		return nil, 1
	}
	day := func(t time.Time) time.Time {
		l := t.In(d.almaty)
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, d.almaty)
	}
	first, last := day(d.txns[0].Time), day(d.txns[len(d.txns)-1].Time)
	span := 1
	for t := first; t.Before(last); t = t.AddDate(0, 0, 1) {
		span++
	}
	days = (span + 364) / 365
	for t := first; !t.After(last); t = t.AddDate(0, 0, days) {
		bins = append(bins, dayBin{start: t})
	}
	i := 0
	for _, t := range d.txns {
		dt := day(t.Time)
		for i+1 < len(bins) && !dt.Before(bins[i+1].start) {
			i++
		}
		bins[i].count++
		bins[i].amount += t.Amount
	}
	return bins, days
}

// timelineSVG draws one bar per day: height is the day's amount, the
// tooltip gives the count and amount.
func timelineSVG(d *doc) string {
	bins, days := timelineBins(d)
	const w, h, left, right, top, bottom = 1100.0, 260.0, 70.0, 20.0, 20.0, 50.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="transactions per day">`+"\n",
		w, h, w, h)
	if len(bins) == 0 {
		b.WriteString(`<text x="20" y="40">no transactions</text></svg>` + "\n")
		return b.String()
	}
	var maxAmt int64 = 1
	for _, bn := range bins {
		maxAmt = max(maxAmt, bn.amount)
	}
	plotW, plotH := w-left-right, h-top-bottom
	bw := plotW / float64(len(bins))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#333"/>`+"\n", left, top+plotH, w-right, top+plotH)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#333"/>`+"\n", left, top, left, top+plotH)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="axis" text-anchor="end">%s</text>`+"\n", left-4, top+8,
		xmlText(graph.FormatShortMoney(maxAmt)))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="axis" text-anchor="end">0</text>`+"\n", left-4, top+plotH)
	for i, bn := range bins {
		bh := float64(bn.amount) / float64(maxAmt) * plotH
		if bn.count > 0 && bh < 1 {
			bh = 1
		}
		what := bn.start.Format("2006-01-02")
		if days > 1 {
			what += fmt.Sprintf(" (+%d days)", days-1)
		}
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="#4e79a7"><title>%s: %d transactions, %s</title></rect>`+"\n",
			left+float64(i)*bw, top+plotH-bh, math.Max(bw-1, 0.5), bh, what, bn.count,
			xmlText(graph.FormatAmount(bn.amount)))
	}
	ticks := min(len(bins), 8)
	for k := 0; k < ticks; k++ {
		i := k * (len(bins) - 1) / max(ticks-1, 1)
		x := left + (float64(i)+0.5)*bw
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="axis" text-anchor="middle">%s</text>`+"\n", x, top+plotH+16,
			bins[i].start.Format("2006-01-02"))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="axis" text-anchor="middle">day (Asia/Almaty); bar height: amount, all currencies summed as is</text>`+"\n",
		left+plotW/2, h-8)
	b.WriteString("</svg>\n")
	return b.String()
}
