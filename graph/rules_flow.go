package graph

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Money-flow typologies R16–R22 (docs/DETECTION.md "Flow typologies"): the
// shapes of the AMLworld and AMLSim benchmarks (DOMAIN §2 "Graph patterns")
// read from transfers between instruments alone. None needs a cash or
// exchange exit, and none has an amount threshold in a currency: amounts are
// only compared with each other (identical, or within a ratio).
//
// What keeps honest structure out is relative, never a fitted constant:
//   - one-off counterparties: a shop's regular customers and a payroll's
//     employees come back, a mule's senders and recipients appear once;
//   - concentration: the burst must hold a large share of the account's
//     counterparties ever (its own history), so a shop with thousands of
//     customers spread over months is not a fan-in however busy its week;
//   - the data set's pace (flowStats): a burst must exceed what chance gives
//     some account anyway, and a cycle must pass money on faster than
//     accounts pay new counterparties anyway;
//   - for a sink, the intermediaries must be most of its senders in the
//     window, so a supermarket paid by a payroll's employees is not a
//     scatter-gather.

// flowStats is measured once per run over the whole data set, so that the
// flow rules compare an account with the data it sits in rather than with a
// constant: a cycle or a thin counterparty means something different among
// 100 accounts that all pay each other than among a million.
type flowStats struct {
	active       int // instruments with at least one transfer to or from another instrument
	medianDegree int // their median number of such transfers (in + out)
	// repeated marks the transfers whose payer paid that payee more than
	// once (by transaction index): the others are one-off relationships.
	repeated []bool
	// degree is each node's number of flow transfers, in and out;
	// senders and recipients its distinct counterparties each way.
	degree, senders, recipients []int32
	// gap is the mean time between two one-off payments of an active
	// instrument (seconds): the data set's pace (R17–R20); span the time
	// from its first one-off payment to its last.
	gap, span int64
	// The burst floors of R18, R19 and R20 (burstFloor of their windows).
	floorIn, floorOut, floorBoth int
}

// burstFloor returns the fewest one-off counterparties within w that chance
// does not explain in this data set. With one-off transfers arriving at an
// instrument at the data set's pace, a window of w holds Poisson(w ÷ gap)
// of them; over every active instrument and every window of the span, at
// most maxChance should reach the floor at random (Bonferroni). In a data
// set where a typical account gets two new counterparties a week, eight in a
// week is unremarkable; where it gets one a month, five in a week is not.
func (fs flowStats) burstFloor(w int64, maxChance float64) int {
	if fs.gap <= 0 || fs.active == 0 || w <= 0 {
		return 0
	}
	mu := float64(w) / float64(fs.gap)
	tests := float64(fs.active) * max(1, float64(fs.span)/float64(w))
	p := math.Exp(-mu) // P(X = k-1)
	cdf := p           // P(X ≤ k-1)
	for k := 1; k < 1<<16; k++ {
		if tests*(1-cdf) <= maxChance {
			return k
		}
		p *= mu / float64(k)
		cdf += p
	}
	return 1 << 16
}

// flowRulesOn reports whether any of R16–R22 runs.
func (c RuleConfig) flowRulesOn() bool {
	return c.R16.Enabled || c.R17.Enabled || c.R18.Enabled || c.R19.Enabled || c.R20.Enabled || c.R21.Enabled || c.R22.Enabled
}

// measureFlow makes one pass over every transfer (O(transactions)).
func (rr *ruleRun) measureFlow() flowStats {
	if !rr.cfg.flowRulesOn() {
		return flowStats{}
	}
	n := rr.ix.Len()
	fs := flowStats{repeated: make([]bool, rr.ix.TxCount()), degree: make([]int32, n),
		senders: make([]int32, n), recipients: make([]int32, n)}
	var degs []int
	var oneOff int
	first, last := int64(1<<62), int64(-1<<62)
	// count is the transfers to each counterparty of the instrument at
	// hand; only its own counterparties are set, and reset after it.
	count := make([]int32, n)
	for id := NodeID(0); int(id) < n; id++ {
		if !isInstrument(rr.ix.Kind(id)) {
			continue
		}
		out := rr.ix.OutTx(id)
		recipients := int32(0)
		for _, e := range out {
			if rr.isFlow(id, e) {
				if count[e.Other]++; count[e.Other] == 1 {
					fs.senders[e.Other]++
					recipients++
				}
			}
		}
		fs.recipients[id] = recipients
		for _, e := range out {
			fs.repeated[e.Tx] = count[e.Other] > 1
			if count[e.Other] == 1 && rr.isFlow(id, e) {
				oneOff++
				first, last = min(first, e.Time), max(last, e.Time)
			}
		}
		for _, e := range out {
			count[e.Other] = 0
		}
		d := 0
		for _, es := range [][]TxEdge{rr.ix.InTx(id), out} {
			for _, e := range es {
				if rr.isFlow(id, e) {
					d++
				}
			}
		}
		fs.degree[id] = int32(d)
		if d > 0 {
			degs = append(degs, d)
		}
	}
	if len(degs) > 0 {
		slices.Sort(degs)
		fs.active, fs.medianDegree = len(degs), degs[len(degs)/2]
	}
	if oneOff > 0 {
		fs.span = last - first
		fs.gap = int64(float64(fs.span) * float64(fs.active) / float64(oneOff))
	}
	c := rr.cfg
	fs.floorIn = fs.burstFloor(rr.span(c.R18.Window), c.R18.MaxChance)
	fs.floorOut = fs.burstFloor(rr.span(c.R19.Window), c.R19.MaxChance)
	// R20 counts credits and debits together: twice the pace.
	fs.floorBoth = fs.burstFloor(2*rr.span(c.R20.Window), c.R20.MaxChance)
	return fs
}

// thin reports whether an instrument is otherwise quiet: besides the one
// transfer that brought it into view, it has no more transfers than the
// data set's median instrument.
func (rr *ruleRun) thin(id NodeID) bool {
	return int(rr.flowStats.degree[id]) <= rr.flowStats.medianDegree+1
}

// flowScratch is one worker's reusable space for the flow rules.
type flowScratch struct {
	// distinct counts nodes once each: mark[n] == markGen when counted.
	mark    []uint32
	markGen uint32
	ones    []TxEdge // one-off counterparties' edges
	outs    []TxEdge
	edges   []TxEdge
	// R17's earliest-arrival search: arrival time and the transaction that
	// arrived, valid where stamp equals gen.
	arr    []int64
	parent []uint32
	stamp  []uint32
	gen    uint32
	queued []uint32 // the layer a node was last queued for
	layer  uint32
	front  []NodeID
	next   []NodeID
	// R21: source → intermediary → sink paths of one source.
	paths []sgPath
	// R22: debits already matched to a credit.
	usedOut []bool
}

// newMarks starts a distinct count (first).
func (f *flowScratch) newMarks() {
	if f.markGen++; f.markGen == 0 { // wrapped: reset the marks
		clear(f.mark)
		f.markGen = 1
	}
}

// first reports whether n is counted for the first time since newMarks.
func (f *flowScratch) first(n NodeID) bool {
	if f.mark[n] == f.markGen {
		return false
	}
	f.mark[n] = f.markGen
	return true
}

// sgPath is one source → intermediary → sink path of R21.
type sgPath struct {
	sink, mid  NodeID
	leg1, leg2 uint32
}

func (rr *ruleRun) initFlow(f *flowScratch) {
	if rr.cfg.R21.Enabled {
		f.mark = make([]uint32, rr.ix.Len())
	}
	if rr.cfg.R17.Enabled {
		n := rr.ix.Len()
		f.arr, f.parent, f.stamp, f.queued = make([]int64, n), make([]uint32, n), make([]uint32, n), make([]uint32, n)
	}
}

// flowRules runs R16–R22 on one instrument.
func (rr *ruleRun) flowRules(st *ruleState, id NodeID) {
	rr.identicalBurst(st, id)
	rr.anyCycle(st, id)
	rr.gather(st, id)
	rr.scatter(st, id)
	rr.gatherScatter(st, id)
	rr.scatterGather(st, id)
	rr.relay(st, id)
}

// isFlow reports whether e, seen from id, is a transfer to or from another
// instrument: the only edges the flow rules read.
func (rr *ruleRun) isFlow(id NodeID, e TxEdge) bool {
	return e.Channel == ChannelTransfer && e.Other != id && isInstrument(rr.ix.Kind(e.Other))
}

// flowEdges copies the flow edges of es into buf (time order kept).
func (rr *ruleRun) flowEdges(id NodeID, es []TxEdge, buf []TxEdge) []TxEdge {
	buf = buf[:0]
	for _, e := range es {
		if rr.isFlow(id, e) {
			buf = append(buf, e)
		}
	}
	return buf
}

// R16: at least Count transfers of the identical amount to one counterparty
// within one time unit (Window). The receiver collects them and is flagged
// at Weight when they are at least ReceiverShare of its transfer credits
// over the burst; the payer at Weight × PayerFactor, because a fraud victim
// told to split a transfer looks the same from its side. Found from the payer,
// once per payer.
func (rr *ruleRun) identicalBurst(st *ruleState, id NodeID) {
	c := rr.cfg.R16
	if !c.Enabled || len(rr.ix.OutTx(id)) < c.Count {
		return
	}
	// A burst is made of transfers to a counterparty paid more than once.
	f := &st.flow
	es := f.edges[:0]
	for _, e := range rr.ix.OutTx(id) {
		if rr.flowStats.repeated[e.Tx] && rr.isFlow(id, e) {
			es = append(es, e)
		}
	}
	f.edges = es
	if len(es) < c.Count {
		return
	}
	slices.SortStableFunc(es, func(a, b TxEdge) int {
		if x := cmp.Compare(a.Other, b.Other); x != 0 {
			return x
		}
		return cmp.Compare(a.Amount, b.Amount)
	})
	w := rr.span(c.Window)
	for g := 0; g < len(es); {
		h := g
		for h < len(es) && es[h].Other == es[g].Other && es[h].Amount == es[g].Amount {
			h++
		}
		grp := es[g:h] // one counterparty, one amount, in time order
		g = h
		left := 0
		for j := range grp {
			// "Within one time unit": strictly less than the window, so that
			// day-step data count one day, not two.
			for grp[j].Time-grp[left].Time >= w {
				left++
			}
			if j-left+1 < c.Count {
				continue
			}
			for j+1 < len(grp) && grp[j+1].Time-grp[left].Time < w {
				j++
			}
			win := grp[left : j+1]
			within := "within " + fmtDur(max(60, win[len(win)-1].Time-win[0].Time))
			if win[len(win)-1].Time == win[0].Time {
				within = "at the same time"
			}
			amount, ev := rr.native(win[0].Amount, win[0].Cur), rr.evidence(edgeTxs(win))
			span := Window{From: win[0].Time, To: win[len(win)-1].Time}
			// The receiver collects the burst only when it is most of what
			// it was paid by transfer in that time: a shop paid three coffees
			// by one customer among hundreds of payments that day is not.
			rin := rr.ix.InTx(win[0].Other)
			paid := 0
			for k := firstAtOrAfter(rin, span.From); k < len(rin) && rin[k].Time <= span.To; k++ {
				if rr.isFlow(win[0].Other, rin[k]) {
					paid++
				}
			}
			if float64(len(win)) >= c.ReceiverShare*float64(paid) {
				st.add(Hit{Rule: "R16", Node: win[0].Other, Score: c.Weight,
					Reason:   fmt.Sprintf("received %d identical transfers of %s from %s %s", len(win), amount, RefTitle(rr.ix.Ref(id)), within),
					Evidence: ev, Window: span})
			}
			if s := c.Weight * c.PayerFactor; s > 0 {
				st.add(Hit{Rule: "R16", Node: id, Score: s,
					Reason:   fmt.Sprintf("%d identical transfers of %s to %s %s", len(win), amount, RefTitle(rr.ix.Ref(win[0].Other)), within),
					Evidence: ev, Window: span})
			}
			return
		}
	}
}

// oneOff returns the flow edges of es (id's credits when in, else its
// debits) whose counterparty appears in them exactly once, in time order,
// and the number of distinct counterparties that way.
func (rr *ruleRun) oneOff(id NodeID, es []TxEdge, in bool, buf []TxEdge) ([]TxEdge, int) {
	buf = buf[:0]
	for _, e := range es {
		if rr.isFlow(id, e) && !rr.flowStats.repeated[e.Tx] {
			buf = append(buf, e)
		}
	}
	if in {
		return buf, int(rr.flowStats.senders[id])
	}
	return buf, int(rr.flowStats.recipients[id])
}

// densest returns the window [lo, hi) of es (time order) shorter than w
// holding the most edges; the earliest such window.
func densest(es []TxEdge, w int64) (lo, hi int) {
	left := 0
	for j := range es {
		for es[j].Time-es[left].Time >= w {
			left++
		}
		if j+1-left > hi-lo {
			lo, hi = left, j+1
		}
	}
	return lo, hi
}

// sumAmounts adds up the amounts of es (minor units, mixed currencies when
// the data mix them).
func sumAmounts(es []TxEdge) int64 {
	var s int64
	for _, e := range es {
		s += e.Amount
	}
	return s
}

// R18, fan-in. (a) A burst: at least Senders (or the data set's burst
// floor) one-off, otherwise quiet senders (each paid this account once,
// ever; see thin) within Window, and they are at least HistoryShare of all
// its distinct senders. (b) An identical amount: at least SameAmount
// senders each paid it the same amount exactly once, and they are at least
// SameShare of all its distinct senders. The account is flagged, and its
// senders of an identical amount at Weight × SenderFactor.
func (rr *ruleRun) gather(st *ruleState, id NodeID) {
	c := rr.cfg.R18
	in := rr.ix.InTx(id)
	if !c.Enabled || len(in) < min(c.Senders, c.SameAmount) {
		return
	}
	f := &st.flow
	var ones []TxEdge
	ones, total := rr.oneOff(id, in, true, f.ones)
	ones = slices.DeleteFunc(ones, func(e TxEdge) bool { return !rr.thin(e.Other) })
	f.ones = ones
	var hit []TxEdge
	var reason string
	same := false
	w := rr.span(c.Window)
	if lo, hi := densest(ones, w); hi-lo >= max(c.Senders, rr.flowStats.floorIn) && float64(hi-lo) >= c.HistoryShare*float64(total) {
		hit = ones[lo:hi]
		reason = fmt.Sprintf("fan-in: %d otherwise quiet senders paid %s within %s, each once ever; %d of its %d senders", len(hit),
			rr.money(rr.sumVal(hit), hit), fmtDur(max(60, hit[len(hit)-1].Time-hit[0].Time)), len(hit), total)
	} else if grp := rr.sameAmountSenders(id, in, f, c.SameAmount); len(grp) >= c.SameAmount && float64(len(grp)) >= c.SameShare*float64(total) {
		hit, same = grp, true
		reason = fmt.Sprintf("fan-in: %d senders each paid the identical %s once over %s; %d of its %d senders", len(hit),
			rr.native(hit[0].Amount, hit[0].Cur), fmtDur(max(60, hit[len(hit)-1].Time-hit[0].Time)), len(hit), total)
	}
	if hit == nil {
		return
	}
	ev := rr.evidence(edgeTxs(hit))
	win := Window{From: hit[0].Time, To: hit[len(hit)-1].Time}
	// Many people paying one identical amount once is also how colleagues
	// chip in for a gift and a class pays for a trip: when most senders
	// share a device, IP or phone with the account (an office, a home, a
	// campus), the identical-amount fan-in is context (docs/DETECTION.md).
	// A one-off collection gathers within days; identical payments from
	// one-time payers kept up over weeks are placement (the 2025 AML law's
	// "same amount to the same account", DOMAIN §2).
	social := false
	switch {
	case !same:
	case hit[0].Amount%(100*100) == 0:
		// Everyone paying the same round sum (5,000 ₸ for a gift, $200
		// for a trip) is how people chip in; the same odd sum (214.61)
		// from many one-time payers takes a script.
		social, reason = true, reason+"; a round sum, like a collection"
	case rr.socialCollection(id, hit):
		social, reason = true, reason+"; most senders share a device, IP or phone with it or each other"
	case hit[len(hit)-1].Time-hit[0].Time < rr.span(days(7)):
		social, reason = true, reason+"; gathered within days, like a collection"
	}
	st.add(Hit{Rule: "R18", Node: id, Score: c.Weight, Reason: reason, Evidence: ev, Window: win, Weak: social})
	// Senders are marked only when they paid one identical amount: that
	// takes coordination (context when the fan-in reads as a collection). Senders of a burst of varied amounts may be the
	// victims of a fraud whose money the account collects.
	if s := c.Weight * c.SenderFactor; same && s > 0 {
		for _, e := range hit {
			st.add(Hit{Rule: "R18", Node: e.Other, Score: s, Reason: "sender in a " + reason + " (to " + RefTitle(rr.ix.Ref(id)) + ")",
				Evidence: ev, Window: win, Weak: social})
		}
	}
}

// idents lists the devices, IPs and phones an instrument or its holder uses.
func (rr *ruleRun) idents(x NodeID, into []NodeID) []NodeID {
	for _, n := range []NodeID{x, rr.holder[x]} {
		if n == NoNode {
			continue
		}
		for _, l := range rr.ix.Links(n) {
			if l.Out && (l.Type == LinkUsesDevice || l.Type == LinkUsesIP || l.Type == LinkUsesPhone) {
				into = append(into, l.Other)
			}
		}
	}
	return into
}

// socialCollection reports whether at least half of the senders share a
// device, IP or phone with the receiving account or its holder, or with
// another sender: an office, a home, a campus network.
func (rr *ruleRun) socialCollection(id NodeID, senders []TxEdge) bool {
	users := map[NodeID]int{} // identifier → senders (and the account) using it
	var ids []NodeID
	for _, t := range rr.idents(id, nil) {
		users[t] = 1
	}
	each := make([][]NodeID, len(senders))
	for i, e := range senders {
		ids = rr.idents(e.Other, ids[:0])
		slices.Sort(ids)
		ids = slices.Compact(ids)
		each[i] = slices.Clone(ids)
		for _, t := range ids {
			users[t]++
		}
	}
	shared := 0
	for _, ids := range each {
		for _, t := range ids {
			if users[t] >= 2 {
				shared++
				break
			}
		}
	}
	return 2*shared >= len(senders)
}

// sameAmountSenders returns the largest group of credits of one identical
// amount whose senders each paid that amount exactly once, in time order
// (nil when no group reaches want).
func (rr *ruleRun) sameAmountSenders(id NodeID, in []TxEdge, f *flowScratch, want int) []TxEdge {
	if int(rr.flowStats.senders[id]) < want {
		return nil
	}
	f.edges = rr.flowEdges(id, in, f.edges)
	es := f.edges
	if len(es) < want {
		return nil
	}
	slices.SortStableFunc(es, func(a, b TxEdge) int {
		if x := cmp.Compare(a.Amount, b.Amount); x != 0 {
			return x
		}
		return cmp.Compare(a.Other, b.Other)
	})
	var best []TxEdge
	for g := 0; g < len(es); {
		h := g
		for h < len(es) && es[h].Amount == es[g].Amount {
			h++
		}
		if h-g >= want && h-g > len(best) {
			// Keep senders appearing once in the group.
			var once []TxEdge
			for i := g; i < h; {
				k := i
				for k < h && es[k].Other == es[i].Other {
					k++
				}
				if k-i == 1 {
					once = append(once, es[i])
				}
				i = k
			}
			if len(once) > len(best) {
				best = once
			}
		}
		g = h
	}
	if len(best) < want {
		return nil
	}
	slices.SortFunc(best, func(a, b TxEdge) int {
		if x := cmp.Compare(a.Time, b.Time); x != 0 {
			return x
		}
		return cmp.Compare(a.Tx, b.Tx)
	})
	return best
}

// R19, fan-out: at least Recipients one-off recipients (each paid once,
// ever, and otherwise quiet: no more transfers than the data set's median
// instrument) within Window, and they are at least HistoryShare of all its
// distinct recipients. A payroll pays the same people every month, so its
// recipients are not one-off.
func (rr *ruleRun) scatter(st *ruleState, id NodeID) {
	c := rr.cfg.R19
	out := rr.ix.OutTx(id)
	if !c.Enabled || len(out) < c.Recipients {
		return
	}
	f := &st.flow
	var ones []TxEdge
	ones, total := rr.oneOff(id, out, false, f.ones)
	// Only otherwise quiet recipients count: paying five busy accounts
	// (shops, family) in a week is ordinary life.
	ones = slices.DeleteFunc(ones, func(e TxEdge) bool { return !rr.thin(e.Other) })
	f.ones = ones
	w := rr.span(c.Window)
	lo, hi := densest(ones, w)
	if hi-lo < max(c.Recipients, rr.flowStats.floorOut) || float64(hi-lo) < c.HistoryShare*float64(total) {
		return
	}
	win := ones[lo:hi]
	st.add(Hit{Rule: "R19", Node: id, Score: c.Weight,
		Reason: fmt.Sprintf("fan-out: %s paid to %d recipients within %s, each once ever; %d of its %d recipients",
			FormatShortMoney(sumAmounts(win)), len(win), fmtDur(max(60, win[len(win)-1].Time-win[0].Time)), len(win), total),
		Evidence: rr.evidence(edgeTxs(win)), Window: Window{From: win[0].Time, To: win[len(win)-1].Time}})
}

// R20, gather-scatter: within one Window starting at a one-off credit, at
// least Senders one-off senders pay in and, after that first credit, at
// least Recipients one-off recipients are paid; those counterparties are at
// least HistoryShare of all its distinct counterparties.
func (rr *ruleRun) gatherScatter(st *ruleState, id NodeID) {
	c := rr.cfg.R20
	in, out := rr.ix.InTx(id), rr.ix.OutTx(id)
	if !c.Enabled || len(in) < c.Senders || len(out) < c.Recipients {
		return
	}
	f := &st.flow
	var ins, outs []TxEdge
	ins, nIn := rr.oneOff(id, in, true, f.ones)
	f.ones = ins
	outs, nOut := rr.oneOff(id, out, false, f.outs)
	f.outs = outs
	if len(ins) < c.Senders || len(outs) < c.Recipients {
		return
	}
	w := rr.span(c.Window)
	total := nIn + nOut
	floor := rr.flowStats.floorBoth
	for i := 0; i+c.Senders <= len(ins); i++ {
		t0 := ins[i].Time
		j := firstAtOrAfter(ins, t0+w)
		a, b := firstAfter(outs, t0), firstAtOrAfter(outs, t0+w)
		if j-i < c.Senders || b-a < c.Recipients || j-i+b-a < floor {
			continue
		}
		if float64(j-i+b-a) < c.HistoryShare*float64(total) {
			continue
		}
		g, s := ins[i:j], outs[a:b]
		end := max(g[len(g)-1].Time, s[len(s)-1].Time)
		st.add(Hit{Rule: "R20", Node: id, Score: c.Weight,
			Reason: fmt.Sprintf("gather-scatter: %d one-off senders paid in %s and %d one-off recipients were paid %s within %s; %d of its %d counterparties",
				len(g), FormatShortMoney(sumAmounts(g)), len(s), FormatShortMoney(sumAmounts(s)), fmtDur(max(60, end-t0)), len(g)+len(s), total),
			Evidence: rr.evidence(edgeTxs(g), edgeTxs(s)), Window: Window{From: t0, To: end}})
		return
	}
}
