package graph

import (
	"fmt"
	"slices"
	"strings"
)

// Chain rules over time-respecting money paths: R13 layering and R14
// temporal cycles.

// maxChainDepth bounds the recursion of the layering search; a longer chain
// is simply reported at its capped length.
const maxChainDepth = 64

// nextHop reports whether e, leaving the receiver of a transfer of amount a
// at time t, continues a layering chain: a later transfer to another
// instrument, within the dwell, that shrank by at most MaxShrink.
// Amounts are compared in tiyn equivalent (val), so a hop may change
// currency.
func (rr *ruleRun) nextHop(e TxEdge, a int64) bool {
	c := rr.cfg.R13
	if e.Channel != ChannelTransfer || !isInstrument(rr.ix.Kind(e.Other)) {
		return false
	}
	v := rr.val(e)
	return v <= a && float64(v) >= float64(a)*(1-c.MaxShrink)
}

// chain returns how many transfer hops start with transaction i and end, each
// within the dwell of the previous one, in a cash-out or exchange payment of
// at least (1-MaxShrink) of the last hop; 0 when there is no such ending.
func (rr *ruleRun) chain(st *ruleState, i uint32, depth int) int {
	if m := st.memo[i]; m != 0 {
		return int(m) - 1
	}
	if depth > maxChainDepth {
		return 0
	}
	c := rr.cfg.R13
	// Mark i as having no chain while its chain is sought: with dates only
	// a same-day hop may lead back to i, which must not recurse again.
	st.memo[i] = 1
	y, t, a := rr.ix.TxTo(i), rr.ix.TxTime(i), rr.txVal(i)
	out := rr.ix.OutTx(y)
	end := t + rr.span(c.MaxDwell)
	best := 0
	var exits int64
	for k := rr.after(out, i, t); k < len(out) && out[k].Time <= end; k++ {
		e := out[k]
		if e.Tx == i {
			continue
		}
		if rr.isExit(e) {
			exits += rr.val(e)
			continue
		}
		if rr.nextHop(e, a) {
			if h := rr.chain(st, e.Tx, depth+1); h > 0 && h+1 > best {
				best = h + 1
			}
		}
	}
	if best == 0 && float64(exits) >= float64(a)*(1-c.MaxShrink) {
		best = 1
	}
	best = min(best, c.MaxHops)
	st.memo[i] = uint8(best + 1)
	return best
}

// hasPredecessor reports whether transfer i from x continues an earlier hop
// into x, so that i is not where a chain starts.
func (rr *ruleRun) hasPredecessor(x NodeID, i uint32) bool {
	c := rr.cfg.R13
	t, a := rr.ix.TxTime(i), rr.txVal(i)
	in := rr.ix.InTx(x)
	sameDay := rr.dateOnly(i) // a same-day credit may have come first
	for k := firstAtOrAfter(in, t-rr.span(c.MaxDwell)); k < len(in) && (in[k].Time < t || sameDay && in[k].Time == t); k++ {
		p := in[k]
		if p.Tx == i {
			continue
		}
		pv := rr.val(p)
		if p.Channel == ChannelTransfer && a <= pv && float64(a) >= float64(pv)*(1-c.MaxShrink) {
			return true
		}
	}
	return false
}

// R13: chains of at least MinHops transfers starting at this node's payment,
// each passed on within MaxDwell and shrinking by at most MaxShrink, ending
// in cash or an exchange. The hit goes to every instrument along the chain
// (not to the first payer, who may be a victim).
func (rr *ruleRun) layering(st *ruleState, id NodeID) {
	c := rr.cfg.R13
	if !c.Enabled {
		return
	}
	for _, e := range rr.ix.OutTx(id) {
		if rr.val(e) < kzt(c.MinKZT) || !rr.nextHop(e, rr.val(e)) {
			continue
		}
		hops := rr.chain(st, e.Tx, 0)
		if hops < c.MinHops || rr.hasPredecessor(id, e.Tx) {
			continue
		}
		// Walk the longest chain again, collecting its hops.
		path := []uint32{e.Tx}
		nodes := []NodeID{e.Other}
		cur := e.Tx
		for h := hops; h > 1; h-- {
			y, t, a := rr.ix.TxTo(cur), rr.ix.TxTime(cur), rr.txVal(cur)
			out := rr.ix.OutTx(y)
			next := uint32(0)
			found := false
			for k := rr.after(out, cur, t); k < len(out) && out[k].Time <= t+rr.span(c.MaxDwell); k++ {
				if out[k].Tx != cur && !slices.Contains(path, out[k].Tx) && rr.nextHop(out[k], a) && rr.chain(st, out[k].Tx, 0) >= h-1 {
					next, found = out[k].Tx, true
					break
				}
			}
			if !found {
				break
			}
			path = append(path, next)
			nodes = append(nodes, rr.ix.TxTo(next))
			cur = next
		}
		// The ending: exits of the last receiver within the dwell.
		last := rr.ix.TxTo(cur)
		t := rr.ix.TxTime(cur)
		var ends []uint32
		endKind := "cash"
		out := rr.ix.OutTx(last)
		for k := rr.after(out, cur, t); k < len(out) && out[k].Time <= t+rr.span(c.MaxDwell); k++ {
			if rr.isExit(out[k]) {
				ends = append(ends, out[k].Tx)
				if rr.ix.Kind(out[k].Other) == KindExchange {
					endKind = "exchange"
				}
			}
		}
		from := rr.ix.TxTime(path[0])
		to := t
		if len(ends) > 0 {
			to = rr.ix.TxTime(ends[len(ends)-1])
		}
		labels := make([]string, 0, len(nodes))
		for _, n := range nodes {
			labels = append(labels, RefTitle(rr.ix.Ref(n)))
		}
		lastTx := path[len(path)-1]
		if len(ends) > 0 {
			lastTx = ends[len(ends)-1]
		}
		reason := fmt.Sprintf("layering: %d hops of %s→%s within %s ending in %s (%s)", len(path),
			rr.txMoney(path[0]), rr.txMoney(path[len(path)-1]),
			rr.fmtSpan(path[0], lastTx, to-from), endKind, strings.Join(labels, " → "))
		ev := rr.evidence(path, ends)
		slices.Sort(nodes)
		for _, n := range slices.Compact(nodes) {
			st.add(Hit{Rule: "R13", Node: n, Score: c.Weight, Reason: reason, Evidence: ev, Window: Window{From: from, To: to}})
		}
	}
}

// R14: time-respecting cycles of 2–MaxHops transfers that bring at least
// ReturnShare of the amount back to where it started within Window. Every
// hop must carry between ReturnShare and 100% of the first amount. Each
// cycle is found once, from its earliest transfer.
func (rr *ruleRun) cycles(st *ruleState, id NodeID) {
	c := rr.cfg.R14
	if !c.Enabled {
		return
	}
	for _, e := range rr.ix.OutTx(id) {
		if e.Channel != ChannelTransfer || rr.val(e) < kzt(c.MinKZT) || e.Other == id || !isInstrument(rr.ix.Kind(e.Other)) {
			continue
		}
		clear(st.onPath)
		st.onPath[id] = true
		st.onPath[e.Other] = true
		st.cycle = append(st.cycle[:0], e.Tx)
		v := rr.val(e)
		lo := int64(float64(v) * c.ReturnShare)
		if rr.cycleFrom(st, id, e.Other, e.Tx, e.Time, e.Time+rr.span(c.Window), lo, v) {
			cyc := st.cycle
			nodes := make([]NodeID, 0, len(cyc))
			labels := make([]string, 0, len(cyc)+1)
			labels = append(labels, RefTitle(rr.ix.Ref(id)))
			for _, tx := range cyc {
				nodes = append(nodes, rr.ix.TxTo(tx))
				labels = append(labels, RefTitle(rr.ix.Ref(rr.ix.TxTo(tx))))
			}
			back := rr.txVal(cyc[len(cyc)-1])
			from, to := rr.ix.TxTime(cyc[0]), rr.ix.TxTime(cyc[len(cyc)-1])
			reason := fmt.Sprintf("cycle of %d hops returned %s of %s (%.0f%%) in %s: %s", len(cyc),
				rr.txMoney(cyc[len(cyc)-1]), rr.txMoney(e.Tx), 100*float64(back)/float64(max(1, v)),
				rr.fmtSpan(cyc[0], cyc[len(cyc)-1], to-from), strings.Join(labels, " → "))
			ev := rr.evidence(cyc)
			for _, n := range nodes {
				// Money sent and sent back is a loan repaid as often as a
				// round trip: a two-hop cycle is context (as R17 skips it).
				st.add(Hit{Rule: "R14", Node: n, Score: c.Weight, Reason: reason, Evidence: ev, Window: Window{From: from, To: to},
					Weak: len(cyc) <= 2})
			}
		}
	}
}

// cycleFrom extends st.cycle from node, reached by transaction in at time
// t; it reports whether it closed a cycle back to origin (st.cycle then
// holds it). Amounts are compared in tiyn equivalent.
func (rr *ruleRun) cycleFrom(st *ruleState, origin, node NodeID, in uint32, t, deadline, lo, hi int64) bool {
	c := rr.cfg.R14
	out := rr.ix.OutTx(node)
	tried := 0
	for k := rr.after(out, in, t); k < len(out) && out[k].Time <= deadline; k++ {
		e := out[k]
		if e.Channel != ChannelTransfer || e.Tx == in || slices.Contains(st.cycle, e.Tx) {
			continue
		}
		if v := rr.val(e); v < lo || v > hi {
			continue
		}
		if e.Other == origin {
			st.cycle = append(st.cycle, e.Tx)
			return true
		}
		if st.onPath[e.Other] || len(st.cycle)+1 >= c.MaxHops || !isInstrument(rr.ix.Kind(e.Other)) {
			continue
		}
		if tried++; tried > c.MaxFanout {
			break
		}
		st.onPath[e.Other] = true
		st.cycle = append(st.cycle, e.Tx)
		if rr.cycleFrom(st, origin, e.Other, e.Tx, e.Time, deadline, lo, hi) {
			return true
		}
		st.cycle = st.cycle[:len(st.cycle)-1]
		delete(st.onPath, e.Other)
	}
	return false
}

// txMoney prints transaction i's amount in its own currency.
func (rr *ruleRun) txMoney(i uint32) string {
	e := rr.ix.out[rr.ix.txOutPos[i]]
	return rr.native(e.Amount, e.Cur)
}
