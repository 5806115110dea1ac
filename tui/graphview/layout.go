// Package graphview draws an entity's neighbourhood (graph.Hood) as a
// left-to-right diagram: money and links flowing into the centre on the left,
// flowing out on the right, one column per hop, box-drawing connectors with
// the relation and amount on each edge. Layout is a pure, deterministic
// function of the Hood and the cell sizes.
package graphview

import (
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
)

// Cell classes decide how a grid cell is styled.
type class uint8

const (
	clsBlank class = iota
	clsLine
	clsLabel
	clsArrow
	clsNode
	clsCenter
)

// line bits of a connector cell.
const (
	bitUp uint8 = 1 << iota
	bitDown
	bitLeft
	bitRight
)

var boxChars = map[uint8]rune{
	bitLeft | bitRight:                   '─',
	bitLeft:                              '─',
	bitRight:                             '─',
	bitUp | bitDown:                      '│',
	bitUp:                                '│',
	bitDown:                              '│',
	bitDown | bitRight:                   '╭',
	bitDown | bitLeft:                    '╮',
	bitUp | bitRight:                     '╰',
	bitUp | bitLeft:                      '╯',
	bitUp | bitDown | bitRight:           '├',
	bitUp | bitDown | bitLeft:            '┤',
	bitDown | bitLeft | bitRight:         '┬',
	bitUp | bitLeft | bitRight:           '┴',
	bitUp | bitDown | bitLeft | bitRight: '┼',
}

// Cell is one character of the diagram.
type Cell struct {
	R    rune
	cls  class
	bits uint8
	node int // index into Layout.Nodes for node cells, else -1
}

// Placed is a node with its position in the diagram.
type Placed struct {
	Node   graph.HoodNode
	Col    int // -hops … +hops; 0 is the centre, negative is left
	Row    int
	X, W   int      // first cell and width of the label
	Parent int      // index of the parent in Layout.Nodes, -1 for the centre
	Edge   []string // label candidates, longest first
	// Edges are the hood edges between this node and its parent.
	Edges []graph.HoodEdge
}

// Layout is a drawn neighbourhood.
type Layout struct {
	W, H   int
	Grid   [][]Cell
	Nodes  []Placed // the centre first, then in hood order
	Hidden int      // edges not drawn because they do not join a node to its parent
	// Unplaced counts nodes not drawn because their only way to the centre
	// runs against the flow of their side (a sender's other payee on the
	// senders' side).
	Unplaced int
}

// Sizes are the cell widths of node columns, of the centre column and of the
// gutters between columns.
type Sizes struct{ Col, Center, Gutter int }

// FitSizes chooses column and gutter widths so that cols node columns
// besides the centre fit in width cells when possible; the diagram scrolls
// horizontally when they cannot.
func FitSizes(width, cols int) Sizes {
	cols = max(cols, 1)
	for _, gw := range []int{22, 20, 18, 16} {
		cw := (width - cols*gw - 6) / (cols + 1)
		if cw >= 14 {
			cw = min(cw, 26)
			return Sizes{Col: cw, Center: cw + 6, Gutter: gw}
		}
	}
	return Sizes{Col: 14, Center: 20, Gutter: 16}
}

// NodeLabel is the compact text of a node in the diagram.
func NodeLabel(n graph.HoodNode) string {
	if n.Name != "" {
		return n.Name
	}
	r := n.Ref
	switch r.Kind {
	case graph.KindCard:
		k := r.Key
		if i := strings.IndexByte(k, '~'); i >= 0 {
			k = k[:i]
		}
		if len(k) >= 10 {
			return k[:4] + " " + k[4:6] + "•• " + k[len(k)-4:]
		}
		return graph.FormatPAN(k)
	case graph.KindAccount:
		if len(r.Key) > 10 {
			return r.Key[:4] + "…" + r.Key[len(r.Key)-4:]
		}
	}
	return graph.RefTitle(r)
}

// EdgeLabels are the texts a connector may carry, longest first: relation,
// count and amount; relation and amount; amount; relation.
func EdgeLabels(edges []graph.HoodEdge) []string {
	if len(edges) == 0 {
		return nil
	}
	e := edges[0]
	more := ""
	if len(edges) > 1 {
		more = " +" + itoa(len(edges)-1)
	}
	count := ""
	if e.Count > 1 {
		count = " ×" + itoa(e.Count)
	}
	if e.Amount == 0 {
		return []string{e.Relation + count + more, e.Relation + more, e.Relation}
	}
	amt := graph.FormatShortMoney(e.Amount)
	return []string{
		e.Relation + count + " " + amt + more,
		e.Relation + " " + amt + more,
		e.Relation + " " + amt,
		amt,
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Build lays out h for a view width cells wide. leafGap is the number of
// rows each outermost node takes (2 leaves a blank line between nodes, 1
// packs them). Only the columns that hold nodes are drawn.
func Build(h graph.Hood, hops int, width int, leafGap int) Layout {
	var lay Layout
	if len(h.Nodes) == 0 {
		return lay
	}
	hops = max(hops, 1)
	leafGap = max(leafGap, 1)
	idx := make(map[graph.Ref]int, len(h.Nodes))
	center := 0
	for i, n := range h.Nodes {
		if _, dup := idx[n.Ref]; !dup {
			idx[n.Ref] = i
		}
		if n.Ref == h.Center {
			center = i
		}
	}
	// Edges between each pair, heaviest first.
	type pair struct{ a, b int }
	between := map[pair][]graph.HoodEdge{}
	for _, e := range h.Edges {
		a, okA := idx[e.From]
		b, okB := idx[e.To]
		if !okA || !okB || a == b {
			continue
		}
		p := pair{min(a, b), max(a, b)}
		between[p] = append(between[p], e)
	}
	for _, es := range between {
		sort.SliceStable(es, func(i, j int) bool {
			if es[i].Amount != es[j].Amount {
				return es[i].Amount > es[j].Amount
			}
			return es[i].Count > es[j].Count
		})
	}
	edgesOf := func(a, b int) []graph.HoodEdge { return between[pair{min(a, b), max(a, b)}] }

	// Parents: the first node one hop closer that shares an edge; for
	// nodes past the first hop, one whose edge runs with the flow of its
	// side (into the centre on the left, out of it on the right), so the
	// senders' columns never list a sender's other payees. Identity links
	// run either way, and so does every edge of a group.
	n := len(h.Nodes)
	parent := make([]int, n)
	hop := make([]int, n)
	for i := range parent {
		parent[i] = -1
		hop[i] = h.Nodes[i].Hop
	}
	hop[center] = 0
	side := make([]int, n)
	withFlow := func(i, j int) bool {
		if h.Group {
			return true
		}
		for _, e := range edgesOf(i, j) {
			switch {
			case !graph.IsMoneyRelation(e.Relation):
				return true
			case side[j] < 0 && e.From == h.Nodes[i].Ref:
				return true
			case side[j] > 0 && e.To == h.Nodes[i].Ref:
				return true
			}
		}
		return false
	}
	for i := range h.Nodes {
		if i != center && hop[i] == 1 && len(edgesOf(i, center)) > 0 {
			parent[i] = center
		}
	}
	// Sides: hop-1 nodes go left when more flows into the centre from them
	// than out to them; deeper nodes follow their parent.
	for i := range h.Nodes {
		if parent[i] != center {
			continue
		}
		var in, out int64
		var inLinks, outLinks int
		for _, e := range edgesOf(i, center) {
			if e.To == h.Center {
				in += e.Amount
				inLinks++
			} else {
				out += e.Amount
				outLinks++
			}
		}
		side[i] = 1
		if in > out || (in == out && inLinks > outLinks) {
			side[i] = -1
		}
	}
	for i := range h.Nodes {
		if i == center || hop[i] < 2 || hop[i] > hops {
			continue
		}
		linked := false
		for j := range h.Nodes {
			if j == i || hop[j] != hop[i]-1 || j == center || parent[j] < 0 || len(edgesOf(i, j)) == 0 {
				continue
			}
			linked = true
			if withFlow(i, j) {
				parent[i], side[i] = j, side[j]
				break
			}
		}
		if linked && parent[i] < 0 {
			lay.Unplaced++
		}
	}
	children := make([][]int, n)
	for i := range h.Nodes {
		if p := parent[i]; p >= 0 {
			children[p] = append(children[p], i)
			if p != center {
				side[i] = side[p]
			}
		}
	}

	// Tidy rows per side: leaves take leafGap rows each, parents sit in the
	// middle of their children.
	row := make([]int, n)
	placeSide := func(s int) (root int, used int) {
		next := 0
		var place func(i int)
		place = func(i int) {
			var kids []int
			for _, c := range children[i] {
				if side[c] == s {
					kids = append(kids, c)
				}
			}
			if len(kids) == 0 {
				row[i] = next
				next += leafGap
				return
			}
			for _, c := range kids {
				place(c)
			}
			row[i] = (row[kids[0]] + row[kids[len(kids)-1]]) / 2
		}
		var first, last = -1, -1
		for _, c := range children[center] {
			if side[c] != s {
				continue
			}
			place(c)
			if first < 0 {
				first = row[c]
			}
			last = row[c]
		}
		if first < 0 {
			return 0, 0
		}
		return (first + last) / 2, next
	}
	// Place the left side, then the right side into separate row spaces.
	leftRows := make([]int, n)
	rootL, usedL := placeSide(-1)
	copy(leftRows, row)
	rootR, usedR := placeSide(1)
	rootRow := max(rootL, rootR)
	height := 1
	for i := range h.Nodes {
		switch {
		case i == center:
			row[i] = rootRow
		case parent[i] < 0:
			continue
		case side[i] < 0:
			row[i] = leftRows[i] + rootRow - rootL
		default:
			row[i] += rootRow - rootR
		}
		height = max(height, row[i]+1)
	}
	height = max(height, rootRow-rootL+usedL, rootRow-rootR+usedR)
	height = max(height-(leafGap-1), rootRow+1)

	leftHops, rightHops := 0, 0
	for i := range h.Nodes {
		if parent[i] < 0 || i == center {
			continue
		}
		if side[i] < 0 {
			leftHops = max(leftHops, hop[i])
		} else {
			rightHops = max(rightHops, hop[i])
		}
	}
	sz := FitSizes(width, leftHops+rightHops)
	width = (leftHops+rightHops)*(sz.Col+sz.Gutter) + sz.Center
	lay.W, lay.H = width, height
	lay.Grid = make([][]Cell, height)
	for y := range lay.Grid {
		lay.Grid[y] = make([]Cell, width)
		for x := range lay.Grid[y] {
			lay.Grid[y][x] = Cell{R: ' ', node: -1}
		}
	}
	colX := func(c int) int {
		if c <= 0 {
			return (c + leftHops) * (sz.Col + sz.Gutter)
		}
		return leftHops*(sz.Col+sz.Gutter) + sz.Center + sz.Gutter + (c-1)*(sz.Col+sz.Gutter)
	}

	// Placed nodes: the centre first, then the hood order.
	order := []int{center}
	for i := range h.Nodes {
		if i != center && parent[i] >= 0 {
			order = append(order, i)
		}
	}
	pos := make(map[int]int, len(order))
	for pi, i := range order {
		pos[i] = pi
		p := Placed{Node: h.Nodes[i], Col: side[i] * hop[i], Row: row[i], Parent: -1}
		if i == center {
			p.Node.Hop = 0
		}
		if parent[i] >= 0 {
			p.Parent = pos[parent[i]]
			p.Edges = edgesOf(i, parent[i])
			p.Edge = EdgeLabels(p.Edges)
		}
		p.X, p.W = colX(p.Col), sz.Col
		if p.Col == 0 {
			p.W = sz.Center
		}
		lay.Nodes = append(lay.Nodes, p)
	}
	drawn := 0
	for pi := range lay.Nodes {
		if pi > 0 {
			lay.connect(pi)
			drawn++
		}
		lay.label(pi)
	}
	lay.Hidden = max(0, len(between)-drawn)
	lay.finish()
	return lay
}

func (l *Layout) set(x, y int, r rune, c class, node int) {
	if y < 0 || y >= l.H || x < 0 || x >= l.W {
		return
	}
	l.Grid[y][x] = Cell{R: r, cls: c, node: node}
}

func (l *Layout) addBits(x, y int, b uint8) {
	if y < 0 || y >= l.H || x < 0 || x >= l.W {
		return
	}
	c := &l.Grid[y][x]
	if c.cls != clsLine && c.cls != clsBlank {
		return
	}
	c.cls = clsLine
	c.bits |= b
}

func (l *Layout) hline(x0, x1, y int) {
	for x := x0; x <= x1; x++ {
		var b uint8
		if x > x0 {
			b |= bitLeft
		}
		if x < x1 {
			b |= bitRight
		}
		if x0 == x1 {
			b = bitLeft | bitRight
		}
		l.addBits(x, y, b)
	}
}

func (l *Layout) vline(x, y0, y1 int) {
	if y0 == y1 {
		return
	}
	if y0 > y1 {
		y0, y1 = y1, y0
	}
	for y := y0; y <= y1; y++ {
		var b uint8
		if y > y0 {
			b |= bitUp
		}
		if y < y1 {
			b |= bitDown
		}
		l.addBits(x, y, b)
	}
}

// connect draws the connector from node pi to its parent, with the edge
// label on the child's row and an arrow pointing at the receiving side.
func (l *Layout) connect(pi int) {
	c := l.Nodes[pi]
	p := l.Nodes[c.Parent]
	flowsToChild := len(c.Edges) > 0 && c.Edges[0].From == p.Node.Ref
	if c.Col > 0 {
		gs := p.X + p.W // first gutter cell
		ge := c.X - 1   // last gutter cell
		tx := gs + 1
		l.hline(gs, tx, p.Row)
		l.vline(tx, p.Row, c.Row)
		l.hline(tx, ge-1, c.Row)
		if flowsToChild {
			l.set(ge-1, c.Row, '▶', clsArrow, -1)
		} else {
			l.set(tx+1, c.Row, '◀', clsArrow, -1)
		}
		l.edgeLabel(tx+2, ge-2, c.Row, c.Edge)
		return
	}
	gs := c.X + c.W
	ge := p.X - 1
	tx := ge - 1
	l.hline(tx, ge, p.Row)
	l.vline(tx, p.Row, c.Row)
	l.hline(gs, tx, c.Row)
	if flowsToChild {
		l.set(gs+1, c.Row, '◀', clsArrow, -1)
	} else {
		l.set(tx-1, c.Row, '▶', clsArrow, -1)
	}
	l.edgeLabel(gs+2, tx-2, c.Row, c.Edge)
}

func (l *Layout) edgeLabel(x0, x1, y int, labels []string) {
	room := x1 - x0 + 1 - 2
	if room < 3 || len(labels) == 0 {
		return
	}
	s := ""
	for _, c := range labels {
		if ansi.StringWidth(c) <= room {
			s = c
			break
		}
	}
	if s == "" {
		s = ansi.Truncate(labels[len(labels)-1], room, "…")
	}
	s = " " + s + " "
	x := x0 + (x1-x0+1-ansi.StringWidth(s))/2
	for _, r := range s {
		if ansi.StringWidth(string(r)) != 1 {
			r = '?'
		}
		l.set(x, y, r, clsLabel, -1)
		x++
	}
}

func (l *Layout) label(pi int) {
	p := l.Nodes[pi]
	text := NodeLabel(p.Node)
	cls := clsNode
	if pi == 0 {
		text = strings.ToUpper(p.Node.Ref.Kind.String()) + " " + text
		cls = clsCenter
	}
	if p.Node.Hub {
		text += " ◆"
	}
	text = ansi.Truncate(text, p.W, "…")
	tw := ansi.StringWidth(text)
	x := p.X // right-side labels start at their column
	switch {
	case pi == 0:
		x = p.X + (p.W-tw)/2
	case p.Col < 0:
		x = p.X + p.W - tw // left-side labels end at their column
	}
	start := x
	for _, r := range text {
		if ansi.StringWidth(string(r)) != 1 {
			r = '?'
		}
		l.set(x, p.Row, r, cls, pi)
		x++
	}
	// Extend the connectors of this node's children to its text.
	var left, right bool
	for _, c := range l.Nodes {
		if c.Parent == pi {
			left = left || c.Col < 0
			right = right || c.Col > 0
		}
	}
	if right && x < p.X+p.W {
		l.set(x, p.Row, ' ', clsBlank, -1)
		for xx := x + 1; xx < p.X+p.W; xx++ {
			l.addBits(xx, p.Row, bitLeft|bitRight)
		}
	}
	if left && start > p.X {
		for xx := p.X; xx < start-1; xx++ {
			l.addBits(xx, p.Row, bitLeft|bitRight)
		}
	}
}

// finish turns connector bits into box-drawing runes.
func (l *Layout) finish() {
	for y := range l.Grid {
		for x := range l.Grid[y] {
			c := &l.Grid[y][x]
			if c.cls == clsLine {
				if r, ok := boxChars[c.bits]; ok {
					c.R = r
				}
			}
		}
	}
}

// Text renders the grid without styles, one string per row, trailing spaces
// trimmed. Tests compare it with golden files.
func (l Layout) Text() string {
	var b strings.Builder
	for y := range l.Grid {
		var row strings.Builder
		for _, c := range l.Grid[y] {
			row.WriteRune(c.R)
		}
		b.WriteString(strings.TrimRight(row.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}
