package graph

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Flow typologies over paths of two or more transfers: R17 cycles whatever
// the amounts, R21 scatter-gather, R22 transit accounts (the layers of a
// stack).

// R17: a time-respecting cycle (each hop strictly later than the one before)
// of MinHops–MaxHops transfers from this instrument back to it within
// Window, whatever the amounts, each hop the only payment between its two
// ends (a circle of friends or relatives pays each other again and again; a
// laundering cycle uses each link once). Each intermediary must pass the
// money on within MaxDwell and within PaceShare of the data set's mean gap
// between one-off payments. The search from each of the node's payments is
// an earliest-arrival walk: a node is expanded again only when reached
// earlier than before, at most MaxFanout transfers are followed from a node
// per step, and at most MaxVisits transfers are examined per origin, so the
// cost is bounded per node. The walks stop before chance would explain a
// closing (MaxChance: in a small world where everyone pays everyone, a walk
// closes on its origin by itself). The first cycle found is reported, to
// every instrument on it.
func (rr *ruleRun) anyCycle(st *ruleState, id NodeID) {
	c := rr.cfg.R17
	in := rr.ix.InTx(id)
	if !c.Enabled || len(rr.ix.OutTx(id)) == 0 || len(in) == 0 {
		return
	}
	// The closing hop is a one-off transfer into the origin: without one,
	// or after the last one, no cycle can close.
	last := int64(-1 << 62)
	for _, e := range in {
		if rr.isFlow(id, e) && !rr.flowStats.repeated[e.Tx] {
			last = e.Time
		}
	}
	f := &st.flow
	budget, examined := c.MaxVisits, 0
	w := rr.span(c.Window)
	lo, hi := 0, 0 // in[lo:hi] are the credits in (e.Time, e.Time+w]
	for _, e := range rr.ix.OutTx(id) {
		if budget <= 0 || e.Time >= last {
			return
		}
		if !rr.isFlow(id, e) || rr.flowStats.repeated[e.Tx] {
			continue
		}
		// The origin's credits in the window bound the senders a walk could
		// land on: one that examines n transfers closes on the origin by
		// chance with probability at most about n × credits ÷ active
		// instruments, so the walk stops before that reaches MaxChance (at
		// once in a small world where everyone pays everyone). The debits
		// come in time order, so both ends only move forward.
		for lo < len(in) && in[lo].Time <= e.Time {
			lo++
		}
		for hi < len(in) && in[hi].Time <= e.Time+w {
			hi++
		}
		credits := hi - lo
		if credits == 0 {
			continue
		}
		// The chance adds up over the origin's walks: they share one
		// allowance, not one each.
		limit := min(budget, int(c.MaxChance*float64(rr.flowStats.active)/float64(credits))-examined)
		if limit < 1 {
			continue
		}
		left := limit
		back, ok := rr.cycleSearch(f, id, e, e.Time+w, &left)
		budget -= limit - max(0, left)
		examined += limit - max(0, left)
		if ok {
			rr.reportCycle(st, id, e, back)
			return
		}
	}
}

// cycleSearch walks forward from e's receiver and returns the transfer that
// closes a cycle back to origin, or false.
func (rr *ruleRun) cycleSearch(f *flowScratch, origin NodeID, e TxEdge, deadline int64, budget *int) (uint32, bool) {
	c := rr.cfg.R17
	f.gen++
	if f.gen == 0 { // wrapped: reset the stamps
		clear(f.stamp)
		f.gen = 1
	}
	seen := func(n NodeID) bool { return f.stamp[n] == f.gen }
	x := e.Other
	f.stamp[x], f.arr[x], f.parent[x] = f.gen, e.Time, e.Tx
	f.stamp[origin], f.arr[origin] = f.gen, -1<<62 // never entered
	f.front = append(f.front[:0], x)
	// Passing on means paying on well before an instrument of this data
	// set makes its next one-off payment anyway: a walk then branches about
	// PaceShare times per hop at random, and chance cycles of three or
	// more hops stay rare (about PaceShare² ÷ (1 − PaceShare) per start
	// and credit) however dense the data.
	dwell := rr.span(c.MaxDwell)
	if g := rr.flowStats.gap; g > 0 {
		dwell = min(dwell, int64(c.PaceShare*float64(g)))
	}
	for hop := 2; hop <= c.MaxHops && len(f.front) > 0; hop++ {
		f.next = f.next[:0]
		f.layer++
		if f.layer == 0 {
			clear(f.queued)
			f.layer = 1
		}
		for _, u := range f.front {
			out := rr.ix.OutTx(u)
			tried := 0
			until := min(deadline, f.arr[u]+dwell)
			for k := firstAfter(out, f.arr[u]); k < len(out) && out[k].Time <= until; k++ {
				o := out[k]
				if !rr.isFlow(u, o) || rr.flowStats.repeated[o.Tx] {
					continue
				}
				if *budget--; *budget < 0 {
					return 0, false
				}
				if o.Other == origin {
					// An earlier arrival can re-route u's parents, so the
					// length is read from them, not from the layer.
					if n := rr.pathLen(f, u, x) + 2; n >= c.MinHops && n <= c.MaxHops {
						return o.Tx, true
					}
					continue
				}
				if tried++; tried > c.MaxFanout {
					break
				}
				if seen(o.Other) && f.arr[o.Other] <= o.Time {
					continue
				}
				if f.queued[o.Other] != f.layer {
					f.queued[o.Other] = f.layer
					f.next = append(f.next, o.Other)
				}
				f.stamp[o.Other], f.arr[o.Other], f.parent[o.Other] = f.gen, o.Time, o.Tx
			}
		}
		f.front, f.next = f.next, f.front
	}
	return 0, false
}

// pathLen counts the hops from x to u along the parents (0 when u is x).
// Parents always arrive earlier than their children, so the walk ends.
func (rr *ruleRun) pathLen(f *flowScratch, u, x NodeID) int {
	n := 0
	for u != x {
		u = rr.ix.TxFrom(f.parent[u])
		n++
	}
	return n
}

// reportCycle rebuilds the cycle that starts with e and closes with back,
// and adds a hit to every instrument on it.
func (rr *ruleRun) reportCycle(st *ruleState, origin NodeID, e TxEdge, back uint32) {
	c := rr.cfg.R17
	f := &st.flow
	txs := []uint32{back}
	for u := rr.ix.TxFrom(back); u != e.Other; u = rr.ix.TxFrom(f.parent[u]) {
		txs = append(txs, f.parent[u])
	}
	txs = append(txs, e.Tx)
	slices.Reverse(txs)
	labels := make([]string, 0, len(txs)+1)
	labels = append(labels, RefTitle(rr.ix.Ref(origin)))
	nodes := make([]NodeID, 0, len(txs))
	for _, tx := range txs {
		nodes = append(nodes, rr.ix.TxTo(tx))
		labels = append(labels, RefTitle(rr.ix.Ref(rr.ix.TxTo(tx))))
	}
	from, to := rr.ix.TxTime(txs[0]), rr.ix.TxTime(back)
	reason := fmt.Sprintf("cycle of %d transfers back to the start in %s (%s out, %s back): %s", len(txs),
		fmtDur(max(60, to-from)), rr.native(e.Amount, e.Cur), rr.native(rr.ix.TxAmount(back), rr.ix.out[rr.ix.txOutPos[back]].Cur), strings.Join(labels, " → "))
	ev := rr.evidence(txs)
	for _, n := range nodes {
		st.add(Hit{Rule: "R17", Node: n, Score: c.Weight, Reason: reason, Evidence: ev, Window: Window{From: from, To: to}})
	}
}

// R21, scatter-gather: this source pays at least Intermediaries distinct
// instruments that each pay one sink later, both legs within Window of the
// first; the intermediaries are at least SinkShare of the sink's distinct
// senders in that window; and chance does not explain the shared sink
// (MaxChance). The source, the sink and the intermediaries are flagged.
func (rr *ruleRun) scatterGather(st *ruleState, id NodeID) {
	c := rr.cfg.R21
	out := rr.ix.OutTx(id)
	if !c.Enabled || int(rr.flowStats.recipients[id]) < c.Intermediaries {
		return
	}
	f := &st.flow
	w := rr.span(c.Window)
	ps := f.paths[:0]
	for _, e := range out {
		if !rr.isFlow(id, e) {
			continue
		}
		m := e.Other
		mo := rr.ix.OutTx(m)
		tried := 0
		for k := firstAfter(mo, e.Time); k < len(mo) && mo[k].Time < e.Time+w; k++ {
			o := mo[k]
			if !rr.isFlow(m, o) || o.Other == id {
				continue
			}
			if tried++; tried > c.MaxFanout {
				break
			}
			// The money gathered is the money scattered: a leg of another
			// size is the intermediary's own business.
			if a, b := float64(rr.val(e)), float64(rr.val(o)); b*c.AmountRatio < a || b > a*c.AmountRatio {
				continue
			}
			ps = append(ps, sgPath{sink: o.Other, mid: m, leg1: e.Tx, leg2: o.Tx})
		}
	}
	f.paths = ps
	if len(ps) < c.Intermediaries {
		return
	}
	// Could a sink collect that many intermediaries by chance? With P
	// paths landing on any of the data set's active instruments, about
	// P^k ÷ (k! × active^(k-1)) sinks are reached by k of them at random:
	// many in a small world where everyone pays everyone, none in a bank.
	k := float64(c.Intermediaries)
	chance := math.Pow(float64(len(ps)), k) / (math.Gamma(k+1) * math.Pow(float64(max(1, rr.flowStats.active)), k-1))
	if chance > c.MaxChance {
		return
	}
	// By sink, then intermediary, earliest first: count distinct
	// intermediaries per sink and keep each one's first path.
	slices.SortFunc(ps, func(a, b sgPath) int {
		if x := cmp.Compare(a.sink, b.sink); x != 0 {
			return x
		}
		if x := cmp.Compare(a.mid, b.mid); x != 0 {
			return x
		}
		if x := cmp.Compare(a.leg1, b.leg1); x != 0 {
			return x
		}
		return cmp.Compare(a.leg2, b.leg2)
	})
	var best []sgPath
	for g := 0; g < len(ps); {
		h, mids := g, 0
		for h < len(ps) && ps[h].sink == ps[g].sink {
			if h == g || ps[h].mid != ps[h-1].mid {
				mids++
			}
			h++
		}
		if mids >= c.Intermediaries && mids > len(best) {
			best = best[:0]
			for k := g; k < h; k++ {
				if k == g || ps[k].mid != ps[k-1].mid {
					best = append(best, ps[k])
				}
			}
		}
		g = h
	}
	if best == nil {
		return
	}
	sink := best[0].sink
	var legs1, legs2 []uint32
	from, to := int64(1<<62), int64(-1<<62)
	for _, p := range best {
		legs1, legs2 = append(legs1, p.leg1), append(legs2, p.leg2)
		from, to = min(from, rr.ix.TxTime(p.leg1)), max(to, rr.ix.TxTime(p.leg2))
	}
	// The sink's distinct senders over the same span.
	din := rr.ix.InTx(sink)
	f.newMarks()
	senders := 0
	for k := firstAtOrAfter(din, from); k < len(din) && din[k].Time <= to; k++ {
		if rr.isFlow(sink, din[k]) && f.first(din[k].Other) {
			senders++
		}
	}
	if float64(len(best)) < c.SinkShare*float64(senders) {
		return
	}
	var in1, in2 int64
	for i := range legs1 {
		in1 += rr.txVal(legs1[i])
		in2 += rr.txVal(legs2[i])
	}
	// Friends splitting a bill pass small sums through each other: the
	// money gathered must be worth at least a typical transfer per
	// intermediary (the data set's median, rules_units.go).
	if float64(in2)*histTolerance < float64(rr.typicalTransfer)*float64(len(best)) {
		return
	}
	reason := fmt.Sprintf("scatter-gather: %s → %d intermediaries (%s) → %s (%s) within %s; %d of the sink's %d senders then",
		RefTitle(rr.ix.Ref(id)), len(best), rr.moneyTx(in1, legs1), RefTitle(rr.ix.Ref(sink)), rr.moneyTx(in2, legs2),
		fmtDur(max(60, to-from)), len(best), senders)
	ev := rr.evidence(legs1, legs2)
	nodes := []NodeID{id, sink}
	for _, p := range best {
		nodes = append(nodes, p.mid)
	}
	slices.Sort(nodes)
	for _, n := range slices.Compact(nodes) {
		st.add(Hit{Rule: "R21", Node: n, Score: c.Weight, Reason: reason, Evidence: ev, Window: Window{From: from, To: to}})
	}
}

// R22, transit account (a layer of a stack): at least MinRelays credits
// each passed on to another counterparty within MaxDwell, by a debit within
// AmountRatio of the credit; and those relays are at least TransitShare of
// all its credits and of all its debits, so an account that also lives on
// its money (salary in, rent and shopping out) is not one.
func (rr *ruleRun) relay(st *ruleState, id NodeID) {
	c := rr.cfg.R22
	if !c.Enabled || len(rr.ix.InTx(id)) < c.MinRelays || len(rr.ix.OutTx(id)) < c.MinRelays {
		return
	}
	// Every credit and debit counts (cash, top-ups, purchases: the
	// account's own use), except transfers to itself.
	allIn, allOut := len(withoutSelf(rr.ix.InTx(id), id)), len(withoutSelf(rr.ix.OutTx(id), id))
	need := max(float64(c.MinRelays), c.TransitShare*float64(allIn), c.TransitShare*float64(allOut))
	f := &st.flow
	f.edges = rr.flowEdges(id, rr.ix.InTx(id), f.edges)
	f.outs = rr.flowEdges(id, rr.ix.OutTx(id), f.outs)
	in, out := f.edges, f.outs
	if float64(len(in)) < need || float64(len(out)) < need {
		return
	}
	f.usedOut = append(f.usedOut[:0], make([]bool, len(out))...)
	// As R17: passing on means sooner than the data set's accounts pay new
	// counterparties anyway.
	dwell := rr.span(c.MaxDwell)
	if g := rr.flowStats.gap; g > 0 {
		dwell = min(dwell, int64(c.PaceShare*float64(g)))
	}
	var relays []uint32
	n, misses, unused := 0, 0, 0 // out[:unused] are all matched already
	for _, e := range in {
		matched := false
		for unused < len(out) && f.usedOut[unused] {
			unused++
		}
		for k := max(unused, firstAfter(out, e.Time)); k < len(out) && out[k].Time <= e.Time+dwell; k++ {
			o := out[k]
			if f.usedOut[k] || o.Other == e.Other ||
				float64(rr.val(o))*c.AmountRatio < float64(rr.val(e)) || float64(rr.val(o)) > float64(rr.val(e))*c.AmountRatio {
				continue
			}
			f.usedOut[k] = true
			relays = append(relays, e.Tx, o.Tx)
			n++
			matched = true
			break
		}
		if !matched {
			// Stop as soon as the share can no longer be reached.
			if misses++; float64(len(in)-misses) < need {
				return
			}
		}
	}
	if float64(n) < need {
		return
	}
	slices.SortFunc(relays, func(a, b uint32) int {
		if x := cmp.Compare(rr.ix.TxTime(a), rr.ix.TxTime(b)); x != 0 {
			return x
		}
		return cmp.Compare(a, b)
	})
	from, to := rr.ix.TxTime(relays[0]), rr.ix.TxTime(relays[len(relays)-1])
	st.add(Hit{Rule: "R22", Node: id, Score: c.Weight,
		Reason:   fmt.Sprintf("transit account: %d of its %d credits passed on to someone else within %s (%d of its %d debits)", n, allIn, c.MaxDwell, n, allOut),
		Evidence: rr.evidence(relays), Window: Window{From: from, To: to}})
}
