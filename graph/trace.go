package graph

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// TraceStart is where a money-flow trace begins: one transaction (the money
// it moved) or one node (all money it sent, forward, or received, backward,
// inside the options' time window).
type TraceStart struct {
	Node NodeID
	Tx   uint32
	IsTx bool
	// Held are the instruments of a holder start (StartAtHolder).
	Held []NodeID
}

// StartAtNode starts a trace at a node.
func StartAtNode(n NodeID) TraceStart { return TraceStart{Node: n} }

// StartAtHolder starts a trace at a person or organisation: from all the
// instruments they hold at once. The tree's root is the holder, its
// children are the instruments that sent (forward) or received (backward)
// money, one each, and below each the trail as from StartAtNode of that
// instrument. Money between two of the holder's own instruments is not
// followed: it never left them. MaxHops counts from the instruments, as a
// trace from one of them would.
func StartAtHolder(holder NodeID, held []NodeID) TraceStart {
	return TraceStart{Node: holder, Held: held}
}

// StartAtTx starts a trace at a transaction.
func StartAtTx(i uint32) TraceStart { return TraceStart{Tx: i, IsTx: true} }

// TraceOptions bound a money-flow trace.
type TraceOptions struct {
	Forward bool // follow money to where it went; false follows it back to where it came from
	MaxHops int  // hop depth of the tree; values below 1 mean DefaultTraceHops
	// MaxDwell is the longest time money may sit on an instrument between
	// arriving and leaving for the trail to continue; zero means DefaultDwell.
	MaxDwell time.Duration
	// Proportional attributes each outflow to all money on the instrument in
	// proportion to its share of the balance (haircut) instead of FIFO.
	Proportional bool
	MinAmount    int64 // flows smaller than this are not followed (counted as unknown)
	// From and To bound the transactions a node start takes; zero means open.
	From, To time.Time
	MaxNodes int // node budget of the tree; values below 1 mean DefaultTraceBudget
}

// Trace defaults.
const (
	DefaultTraceHops   = 6
	DefaultDwell       = 72 * time.Hour
	DefaultTraceBudget = 5000
)

// EndKind says where traced money ended.
type EndKind uint8

// End kinds.
const (
	EndNone     EndKind = iota // an intermediate hop
	EndCash                    // cash: ATM withdrawal, or a cash top-up when tracing back
	EndExchange                // an exchange
	EndStayed                  // stayed on the instrument: not moved, or moved only after MaxDwell
	EndUnknown                 // not followed: hop limit, node budget, below MinAmount, or (backward) no known source
	endCount
)

var endNames = [endCount]string{"", "cash", "exchange", "stayed", "unknown"}

// String returns the end kind name.
func (e EndKind) String() string {
	if e >= endCount {
		return fmt.Sprintf("end(%d)", uint8(e))
	}
	return endNames[e]
}

// TraceHop is one node of the trace tree: money that reached (forward) or
// left (backward) Node through transaction Tx.
type TraceHop struct {
	Node     NodeID
	Tx       uint32 // the transaction from the parent hop; meaningless at a node root
	HasTx    bool
	Amount   int64         // amount of the traced money this hop carries
	Time     int64         // unix seconds of Tx
	Dwell    time.Duration // time the money sat on the parent before this hop
	Depth    int
	Parent   int   // index in Trace.Hops; -1 at the root
	Children []int // indexes in Trace.Hops, in time order
	End      EndKind
	Stayed   int64 // part of Amount that stayed on Node (EndStayed)
	Lost     int64 // part of Amount not followed further (EndUnknown)
}

// TraceDepth summarises the hops at one depth.
type TraceDepth struct {
	Hops   int
	Nodes  int // distinct nodes
	Amount int64
}

// TraceEnd summarises where the money ended.
type TraceEnd struct {
	Hops   int
	Amount int64
}

// FlowTrace is the result of a money-flow trace. Hops[0] is the root. For a
// FIFO trace the ends add up exactly to the root amount.
type FlowTrace struct {
	Forward   bool
	Hops      []TraceHop
	ByDepth   []TraceDepth
	ByEnd     [endCount]TraceEnd
	Truncated bool // the node budget stopped the trace
}

// ledger is the FIFO queue of one node: every incoming transaction is a lot
// occupying a range of queue positions, every outgoing one consumes the next
// positions (as far as money is there; the rest came from an unknown opening
// balance). Both are monotone, so a range of a lot maps to the outflows that
// consumed it by binary search, and back.
type ledger struct {
	in, out  []TxEdge
	inPos    []int64 // queue position of each lot; -1 for a self-transfer
	outPos   []int64 // queue position of each outflow's first unit
	outUsed  []int64 // units of the outflow taken from the queue
	outBal   []int64 // queue balance just before the outflow
	selfNode NodeID
}

func keyLess(t1 int64, x1 uint32, t2 int64, x2 uint32) bool {
	return t1 < t2 || (t1 == t2 && x1 < x2)
}

func newLedger(ix *Index, v NodeID) *ledger {
	l := &ledger{in: ix.InTx(v), out: ix.OutTx(v), selfNode: v}
	l.inPos = make([]int64, len(l.in))
	l.outPos = make([]int64, len(l.out))
	l.outUsed = make([]int64, len(l.out))
	l.outBal = make([]int64, len(l.out))
	var dep, con int64
	i, j := 0, 0
	for i < len(l.in) || j < len(l.out) {
		if j == len(l.out) || (i < len(l.in) && keyLess(l.in[i].Time, l.in[i].Tx, l.out[j].Time, l.out[j].Tx)) {
			e := l.in[i]
			if e.Other == v {
				l.inPos[i] = -1
			} else {
				l.inPos[i] = dep
				dep += max(e.Amount, 0)
			}
			i++
			continue
		}
		e := l.out[j]
		l.outPos[j] = con
		l.outBal[j] = dep - con
		if e.Other != v {
			l.outUsed[j] = min(max(e.Amount, 0), dep-con)
			con += l.outUsed[j]
		}
		j++
	}
	return l
}

// inIndex finds the lot of transaction tx (time t) among the node's incoming edges.
func inIndex(in []TxEdge, t int64, tx uint32) int {
	i, _ := slices.BinarySearchFunc(in, [2]int64{t, int64(tx)}, func(e TxEdge, k [2]int64) int {
		if e.Time != k[0] {
			if e.Time < k[0] {
				return -1
			}
			return 1
		}
		return int(int64(e.Tx) - k[1])
	})
	return i
}

type tracer struct {
	ctx     context.Context
	ix      *Index
	opt     TraceOptions
	dwell   int64
	budget  int
	ledgers map[NodeID]*ledger
	tr      FlowTrace
	steps   int
}

// hop work item: the traced money is units [lo, hi) of the lot (forward) or
// outflow (backward) edge e of the hop's node; in proportional mode lo is 0
// and hi the amount.
type traceItem struct {
	hop    int
	edge   int
	lo, hi int64
}

func (t *tracer) ledger(v NodeID) *ledger {
	l, ok := t.ledgers[v]
	if !ok {
		l = newLedger(t.ix, v)
		t.ledgers[v] = l
	}
	return l
}

func (t *tracer) tick() error {
	if t.steps++; t.steps%2048 == 0 {
		return t.ctx.Err()
	}
	return nil
}

// Trace follows money from start through the transaction graph,
// forward or backward, respecting time (every hop after the previous one) and
// the maximum dwell. Money is attributed FIFO (Clayton's rule: an outflow
// takes the earliest money still on the instrument) unless opt.Proportional.
// Money moved before the data begins counts as an unknown opening balance.
func Trace(ctx context.Context, ix *Index, start TraceStart, opt TraceOptions) (FlowTrace, error) {
	if err := ctx.Err(); err != nil {
		return FlowTrace{}, fmt.Errorf("trace money: %w", err)
	}
	if opt.MaxHops < 1 {
		opt.MaxHops = DefaultTraceHops
	}
	if opt.MaxDwell <= 0 {
		opt.MaxDwell = DefaultDwell
	}
	t := &tracer{ctx: ctx, ix: ix, opt: opt, dwell: int64(opt.MaxDwell / time.Second),
		budget: opt.MaxNodes, ledgers: make(map[NodeID]*ledger)}
	if t.budget < 1 {
		t.budget = DefaultTraceBudget
	}
	t.tr.Forward = opt.Forward
	var queue []traceItem
	if start.IsTx {
		if int(start.Tx) >= ix.TxCount() {
			return FlowTrace{}, fmt.Errorf("trace transaction %d: %w", start.Tx, ErrNotFound)
		}
		e := ix.out[ix.txOutPos[start.Tx]]
		node, edge := e.Other, 0
		if opt.Forward {
			edge = inIndex(ix.InTx(node), e.Time, e.Tx)
		} else {
			node = ix.TxFrom(start.Tx)
			edge = int(ix.txOutPos[start.Tx] - ix.outOff[node])
		}
		t.tr.Hops = append(t.tr.Hops, TraceHop{Node: node, Tx: start.Tx, HasTx: true, Amount: e.Amount, Time: e.Time, Parent: -1})
		queue = append(queue, traceItem{hop: 0, edge: edge, lo: 0, hi: e.Amount})
	} else if len(start.Held) > 0 {
		var err error
		if queue, err = t.startHolder(start); err != nil {
			return FlowTrace{}, err
		}
	} else {
		if int(start.Node) >= ix.Len() {
			return FlowTrace{}, fmt.Errorf("trace node %d: %w", start.Node, ErrNotFound)
		}
		t.tr.Hops = append(t.tr.Hops, TraceHop{Node: start.Node, Parent: -1})
		from, to := int64(math.MinInt64), int64(math.MaxInt64)
		if !opt.From.IsZero() {
			from = opt.From.Unix()
		}
		if !opt.To.IsZero() {
			to = opt.To.Unix()
		}
		edges := ix.OutTx(start.Node)
		if !opt.Forward {
			edges = ix.InTx(start.Node)
		}
		for _, e := range edges {
			if e.Time < from || e.Time > to || e.Other == start.Node || e.Amount <= 0 {
				continue
			}
			t.tr.Hops[0].Amount += e.Amount
			it, ok := t.child(0, e, e.Amount, 0)
			if !ok {
				t.tr.Hops[0].Lost += e.Amount
				continue
			}
			it.lo, it.hi = 0, e.Amount
			queue = append(queue, it)
		}
	}
	for len(queue) > 0 {
		if err := t.tick(); err != nil {
			return FlowTrace{}, fmt.Errorf("trace money: %w", err)
		}
		it := queue[0]
		queue = queue[1:]
		var err error
		queue, err = t.expand(it, queue)
		if err != nil {
			return FlowTrace{}, err
		}
	}
	t.summarise()
	return t.tr, nil
}

// startHolder lays out the root (the holder) and one hop per instrument
// that moved money in the window, and returns the work items of their
// transactions.
func (t *tracer) startHolder(start TraceStart) ([]traceItem, error) {
	ix, opt := t.ix, t.opt
	if int(start.Node) >= ix.Len() {
		return nil, fmt.Errorf("trace node %d: %w", start.Node, ErrNotFound)
	}
	own := make(map[NodeID]bool, len(start.Held))
	for _, n := range start.Held {
		if int(n) >= ix.Len() {
			return nil, fmt.Errorf("trace node %d: %w", n, ErrNotFound)
		}
		own[n] = true
	}
	t.opt.MaxHops++ // the instruments are a level of their own
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !opt.From.IsZero() {
		from = opt.From.Unix()
	}
	if !opt.To.IsZero() {
		to = opt.To.Unix()
	}
	t.tr.Hops = append(t.tr.Hops, TraceHop{Node: start.Node, Parent: -1})
	var queue []traceItem
	for _, n := range start.Held {
		edges := ix.OutTx(n)
		if !opt.Forward {
			edges = ix.InTx(n)
		}
		hop := -1
		for _, e := range edges {
			if e.Time < from || e.Time > to || own[e.Other] || e.Amount <= 0 {
				continue
			}
			if hop < 0 {
				if len(t.tr.Hops) >= t.budget {
					t.tr.Truncated = true
					t.tr.Hops[0].Amount += e.Amount
					t.tr.Hops[0].Lost += e.Amount
					continue
				}
				hop = len(t.tr.Hops)
				t.tr.Hops[0].Children = append(t.tr.Hops[0].Children, hop)
				t.tr.Hops = append(t.tr.Hops, TraceHop{Node: n, Depth: 1, Parent: 0})
			}
			t.tr.Hops[0].Amount += e.Amount
			t.tr.Hops[hop].Amount += e.Amount
			it, ok := t.child(hop, e, e.Amount, 0)
			if !ok {
				t.tr.Hops[hop].Lost += e.Amount
				continue
			}
			it.lo, it.hi = 0, e.Amount
			queue = append(queue, it)
		}
	}
	return queue, nil
}

// child adds a hop for money amount moving over edge e from (forward) or to
// (backward) the parent hop, and returns its work item. It reports false
// when the node budget is spent.
func (t *tracer) child(parent int, e TxEdge, amount int64, dwell int64) (traceItem, bool) {
	if len(t.tr.Hops) >= t.budget {
		t.tr.Truncated = true
		return traceItem{}, false
	}
	p := &t.tr.Hops[parent]
	h := TraceHop{Node: e.Other, Tx: e.Tx, HasTx: true, Amount: amount, Time: e.Time,
		Dwell: time.Duration(dwell) * time.Second, Depth: p.Depth + 1, Parent: parent}
	idx := len(t.tr.Hops)
	t.tr.Hops[parent].Children = append(t.tr.Hops[parent].Children, idx)
	t.tr.Hops = append(t.tr.Hops, h)
	edge := 0
	if t.opt.Forward {
		edge = inIndex(t.ix.InTx(e.Other), e.Time, e.Tx)
	} else {
		edge = int(t.ix.txOutPos[e.Tx] - t.ix.outOff[e.Other])
	}
	return traceItem{hop: idx, edge: edge}, true
}

// sinkEnd reports whether money stops at a hop: cash and ATMs, exchanges.
func (t *tracer) sinkEnd(h *TraceHop) EndKind {
	switch t.ix.Kind(h.Node) {
	case KindATM, KindCash:
		return EndCash
	case KindExchange:
		return EndExchange
	}
	if h.HasTx && t.ix.TxChannel(h.Tx) == ChannelCashOut && t.opt.Forward {
		return EndCash
	}
	return EndNone
}

func (t *tracer) expand(it traceItem, queue []traceItem) ([]traceItem, error) {
	h := &t.tr.Hops[it.hop]
	amount := it.hi - it.lo
	if it.hop > 0 || t.tr.Hops[0].HasTx {
		if end := t.sinkEnd(h); end != EndNone {
			h.End = end
			return queue, nil
		}
	}
	if h.Depth >= t.opt.MaxHops {
		h.Lost += amount
		h.End = EndUnknown
		return queue, nil
	}
	l := t.ledger(h.Node)
	var pieces []tracePiece
	var rest int64
	switch {
	case t.opt.Forward && !t.opt.Proportional:
		pieces, rest = l.fifoForward(it, t.dwell)
	case t.opt.Forward:
		pieces, rest = l.propForward(it, t.dwell)
	case !t.opt.Proportional:
		pieces, rest = l.fifoBackward(it, t.dwell)
	default:
		pieces, rest = l.propBackward(it, t.dwell)
	}
	followed := int64(0)
	for _, pc := range pieces {
		if err := t.tick(); err != nil {
			return queue, fmt.Errorf("trace money: %w", err)
		}
		amt := pc.hi - pc.lo
		if amt <= 0 {
			continue
		}
		if amt < t.opt.MinAmount {
			t.tr.Hops[it.hop].Lost += amt
			followed += amt
			continue
		}
		c, ok := t.child(it.hop, pc.e, amt, pc.dwell)
		if !ok {
			t.tr.Hops[it.hop].Lost += amt
			followed += amt
			continue
		}
		c.lo, c.hi = pc.lo, pc.hi
		queue = append(queue, c)
		followed += amt
	}
	h = &t.tr.Hops[it.hop]
	if t.opt.Forward {
		h.Stayed += amount - followed
	} else {
		// Backward, what no lot explains came from before the data or was
		// there longer than the dwell: both leave the source unknown.
		h.Stayed += rest
		h.Lost += amount - followed - rest
	}
	if len(h.Children) == 0 && h.End == EndNone {
		switch {
		case h.Stayed > 0 && h.Stayed >= h.Lost:
			h.End = EndStayed
		case h.Lost > 0:
			h.End = EndUnknown
		default:
			h.End = EndStayed
		}
	}
	return queue, nil
}

// tracePiece is traced money crossing edge e: units [lo, hi) of e's
// transaction (FIFO) or an amount hi (proportional, lo 0).
type tracePiece struct {
	e      TxEdge
	lo, hi int64
	dwell  int64
}

func (l *ledger) fifoForward(it traceItem, dwell int64) ([]tracePiece, int64) {
	lot := l.in[it.edge]
	if l.inPos[it.edge] < 0 {
		return nil, 0
	}
	a, b := l.inPos[it.edge]+it.lo, l.inPos[it.edge]+it.hi
	// First outflow whose consumed range ends after a.
	q := sortSearch(len(l.out), func(j int) bool { return l.outPos[j]+l.outUsed[j] > a })
	var out []tracePiece
	for ; q < len(l.out) && l.outPos[q] < b; q++ {
		if l.outUsed[q] == 0 {
			continue
		}
		e := l.out[q]
		if e.Time-lot.Time > dwell {
			break
		}
		lo, hi := max(a, l.outPos[q]), min(b, l.outPos[q]+l.outUsed[q])
		if lo >= hi {
			continue
		}
		out = append(out, tracePiece{e: e, lo: lo - l.outPos[q], hi: hi - l.outPos[q], dwell: e.Time - lot.Time})
	}
	return out, 0
}

func (l *ledger) fifoBackward(it traceItem, dwell int64) ([]tracePiece, int64) {
	o := l.out[it.edge]
	if o.Other == l.selfNode {
		return nil, 0
	}
	a := l.outPos[it.edge] + it.lo
	b := l.outPos[it.edge] + min(it.hi, l.outUsed[it.edge])
	var out []tracePiece
	var stayed int64
	if a >= b {
		return nil, 0
	}
	p := sortSearch(len(l.in), func(i int) bool { return l.inPos[i] >= 0 && l.inPos[i]+l.in[i].Amount > a })
	for ; p < len(l.in); p++ {
		if l.inPos[p] < 0 {
			continue
		}
		if l.inPos[p] >= b {
			break
		}
		e := l.in[p]
		lo, hi := max(a, l.inPos[p]), min(b, l.inPos[p]+e.Amount)
		if lo >= hi {
			continue
		}
		if o.Time-e.Time > dwell {
			stayed += hi - lo
			continue
		}
		out = append(out, tracePiece{e: e, lo: lo - l.inPos[p], hi: hi - l.inPos[p], dwell: o.Time - e.Time})
	}
	return out, stayed
}

func (l *ledger) propForward(it traceItem, dwell int64) ([]tracePiece, int64) {
	lot := l.in[it.edge]
	if l.inPos[it.edge] < 0 {
		return nil, 0
	}
	x := float64(it.hi - it.lo)
	q := sortSearch(len(l.out), func(j int) bool { return keyLess(lot.Time, lot.Tx, l.out[j].Time, l.out[j].Tx) })
	r := 1.0
	var out []tracePiece
	for ; q < len(l.out) && x*r >= 0.5; q++ {
		e := l.out[q]
		if e.Time-lot.Time > dwell {
			break
		}
		if l.outUsed[q] == 0 || l.outBal[q] <= 0 {
			continue
		}
		f := float64(l.outUsed[q]) / float64(l.outBal[q])
		amt := int64(math.Round(x * r * f))
		r *= 1 - f
		if amt > 0 {
			out = append(out, tracePiece{e: e, hi: amt, dwell: e.Time - lot.Time})
		}
	}
	return out, 0
}

func (l *ledger) propBackward(it traceItem, dwell int64) ([]tracePiece, int64) {
	o := l.out[it.edge]
	if o.Other == l.selfNode || l.outUsed[it.edge] == 0 || o.Amount <= 0 {
		return nil, 0
	}
	x := float64(it.hi-it.lo) / float64(o.Amount)
	f := float64(l.outUsed[it.edge]) / float64(l.outBal[it.edge])
	// Walk the events before the outflow backwards: each earlier outflow k
	// shrank every older lot by (1 - f_k).
	i := sortSearch(len(l.in), func(i int) bool { return !keyLess(l.in[i].Time, l.in[i].Tx, o.Time, o.Tx) }) - 1
	j := it.edge - 1
	mult := 1.0
	var out []tracePiece
	var stayed float64
	for i >= 0 && mult > 1e-12 {
		if j >= 0 && keyLess(l.in[i].Time, l.in[i].Tx, l.out[j].Time, l.out[j].Tx) {
			if l.outBal[j] > 0 && l.outUsed[j] > 0 {
				mult *= 1 - float64(l.outUsed[j])/float64(l.outBal[j])
			}
			j--
			continue
		}
		e := l.in[i]
		i--
		if l.inPos[i+1] < 0 {
			continue
		}
		share := float64(e.Amount) * mult * f * x
		if o.Time-e.Time > dwell {
			stayed += share
			continue
		}
		if amt := int64(math.Round(share)); amt > 0 {
			out = append(out, tracePiece{e: e, hi: amt, dwell: o.Time - e.Time})
		}
	}
	// Oldest first, like the FIFO pieces.
	slices.Reverse(out)
	return out, int64(math.Round(stayed))
}

// sortSearch returns the smallest index in [0, n) for which f is true (n if none); f must be monotone.
func sortSearch(n int, f func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(m) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (t *tracer) summarise() {
	hops := t.tr.Hops
	maxDepth := 0
	for _, h := range hops {
		maxDepth = max(maxDepth, h.Depth)
	}
	t.tr.ByDepth = make([]TraceDepth, maxDepth+1)
	seen := make([]map[NodeID]bool, maxDepth+1)
	for i := range hops {
		h := &hops[i]
		slices.SortStableFunc(h.Children, func(a, b int) int {
			ha, hb := &hops[a], &hops[b]
			if ha.Time != hb.Time {
				return int(ha.Time - hb.Time)
			}
			if ha.Tx != hb.Tx {
				return int(int64(ha.Tx) - int64(hb.Tx))
			}
			return a - b
		})
		d := &t.tr.ByDepth[h.Depth]
		d.Hops++
		d.Amount += h.Amount
		if seen[h.Depth] == nil {
			seen[h.Depth] = make(map[NodeID]bool)
		}
		if !seen[h.Depth][h.Node] {
			seen[h.Depth][h.Node] = true
			d.Nodes++
		}
		switch h.End {
		case EndCash, EndExchange:
			t.tr.ByEnd[h.End].Hops++
			t.tr.ByEnd[h.End].Amount += h.Amount
		}
		if h.Stayed > 0 {
			t.tr.ByEnd[EndStayed].Hops++
			t.tr.ByEnd[EndStayed].Amount += h.Stayed
		}
		if h.Lost > 0 {
			t.tr.ByEnd[EndUnknown].Hops++
			t.tr.ByEnd[EndUnknown].Amount += h.Lost
		}
	}
}
