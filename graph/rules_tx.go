package graph

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Instrument rules: each looks at one card, account or wallet and its own
// transactions. Here the money-in rules (R1 fan-in to cash, R2 pass-through,
// R3 structuring) and the helpers they share; the card's own activity (R6 per
// card, R7, R8, R9) is in rules_card.go, its counterparties (R10, R11, R12,
// R15) in rules_counterparty.go.

// kzt converts whole tenge to minor units.
func kzt(v int64) int64 { return v * 100 }

// fmtDur renders a span for a reason: "3 days", "5h 10m", "40 min".
func fmtDur(sec int64) string {
	switch {
	case sec >= 2*86400:
		return fmt.Sprintf("%d days", (sec+43200)/86400)
	case sec >= 3600:
		h, m := sec/3600, sec%3600/60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%d min", max(1, (sec+30)/60))
}

// R1: credited by many distinct senders, then mostly cashed out or paid
// into an exchange.
func (rr *ruleRun) fanIn(st *ruleState, id NodeID) {
	c := rr.cfg.R1
	all := rr.ix.InTx(id)
	// The senders are who transferred money in; cash paid in at an ATM or
	// a till is the holder's own and only counts against SourceShare.
	in := st.ofChannel(all, ChannelTransfer)
	if !c.Enabled || len(in) < min(c.Senders, c.SendersLong) {
		return
	}
	allCum := rr.cumulative(all)
	out := rr.ix.OutTx(id)
	var exits []TxEdge
	for _, e := range out {
		if rr.isExit(e) {
			exits = append(exits, e)
		}
	}
	// cash_out_share 0 asks for the fan-in alone (data with no cash or
	// exchange leg, e.g. AMLSim); otherwise an instrument without exits
	// cannot qualify.
	if len(exits) == 0 && c.CashOutShare > 0 {
		return
	}
	exitCum := rr.cumulative(exits)
	inCum := rr.cumulative(in)
	for _, v := range []struct {
		n int
		w Duration
	}{{c.Senders, c.Window}, {c.SendersLong, c.WindowLong}} {
		if len(in) < v.n {
			continue
		}
		w := rr.span(v.w)
		win := &st.window
		win.reset()
		left := 0
		for j := 0; j < len(in); j++ {
			win.add(in[j].Other)
			for in[j].Time-in[left].Time > w {
				win.remove(in[left].Other)
				left++
			}
			if win.n < v.n {
				continue
			}
			credits := inCum[j+1] - inCum[left]
			if credits <= 0 || credits < kzt(c.MinInKZT) {
				continue // amounts in a currency with no scale, or too little money
			}
			// Fares, tips and small sales: the typical credit of the fan-in
			// is below the data set's typical transfer.
			if float64(rr.medianVal(in[left:j+1]))*histTolerance < float64(rr.typicalTransfer) {
				continue
			}
			from, to := in[left].Time, in[j].Time+rr.span(c.Within)
			a, b := firstAtOrAfter(exits, from), firstAfter(exits, to)
			gone := exitCum[b] - exitCum[a]
			if float64(gone) < c.CashOutShare*float64(credits) {
				continue
			}
			end := in[j].Time
			if b > a {
				end = max(end, exits[b-1].Time)
			}
			inAll := allCum[firstAfter(all, end)] - allCum[firstAtOrAfter(all, from)]
			if float64(credits) < c.SourceShare*float64(inAll) {
				continue // the exits are paid for by other money
			}
			senders := win.n
			last := in[j].Time
			if b > a {
				last = max(last, exits[b-1].Time)
			}
			st.add(Hit{Rule: "R1", Node: id, Score: clamp01(c.Weight * (1 + 0.2*float64(senders-v.n)/float64(v.n))),
				Reason: fmt.Sprintf("%d senders paid in %s within %s; %.0f%% left by cash or exchange within %s",
					senders, rr.money(credits, in[left:j+1]), rr.fmtSpan(in[left].Tx, in[j].Tx, in[j].Time-in[left].Time),
					100*float64(gone)/float64(max(1, credits)), rr.fmtWindow(c.Within)),
				Evidence: rr.evidence(edgeTxs(in[left:j+1]), edgeTxs(exits[a:b])),
				Window:   Window{From: from, To: last}})
			win.reset()
			return
		}
	}
}

// medianVal is the median amount of some edges in tiyn equivalent.
func (rr *ruleRun) medianVal(es []TxEdge) int64 {
	vs := make([]int64, len(es))
	for i, e := range es {
		vs[i] = rr.val(e)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

// withoutSelf returns es without the transfers between id and itself; es
// itself when there are none.
func withoutSelf(es []TxEdge, id NodeID) []TxEdge {
	if !slices.ContainsFunc(es, func(e TxEdge) bool { return e.Other == id }) {
		return es
	}
	return slices.DeleteFunc(slices.Clone(es), func(e TxEdge) bool { return e.Other == id })
}

// ofChannel returns the edges of one channel, in their order, in the
// state's scratch: valid until the next ofChannel on st. It was the largest
// allocation of an analysis (1.5 of 4 GB allocated on the large demo,
// docs/PERFORMANCE.md), one new slice per node and rule.
func (st *ruleState) ofChannel(es []TxEdge, ch Channel) []TxEdge {
	out := st.chanEdges[:0]
	for _, e := range es {
		if e.Channel == ch {
			out = append(out, e)
		}
	}
	st.chanEdges = out
	return out
}

// R2: money in and straight out again.
func (rr *ruleRun) passThrough(st *ruleState, id NodeID) {
	c := rr.cfg.R2
	// A transfer to oneself (AMLworld's "Reinvestment") is no money in
	// and out: it would read as a 100% pass-through.
	in, out := withoutSelf(rr.ix.InTx(id), id), withoutSelf(rr.ix.OutTx(id), id)
	if !c.Enabled || len(in) == 0 || len(out) == 0 {
		return
	}
	w, minIn := rr.span(c.Window), kzt(c.MinInKZT)
	inCum, outCum := rr.cumulative(in), rr.cumulative(out)
	if inCum[len(in)] < minIn || outCum[len(out)] < int64(c.OutShare*float64(minIn)) {
		return
	}
	for i := 0; i < len(in); i++ {
		j := firstAfter(in, in[i].Time+w)
		inSum := inCum[j] - inCum[i]
		if inSum < minIn {
			continue
		}
		o0, o1 := firstAtOrAfter(out, in[i].Time), firstAfter(out, in[i].Time+w)
		outSum := outCum[o1] - outCum[o0]
		share := float64(outSum) / float64(inSum)
		var reason string
		switch {
		case share >= c.OutShare:
			reason = fmt.Sprintf("%s in and %s (%.0f%%) out within %s", rr.money(inSum, in[i:j]), rr.money(outSum, out[o0:o1]), 100*share, rr.fmtWindow(c.Window))
		case share >= 0.5:
			// A dwell in days (either end has only a date) is known to a day:
			// it passes only when the whole day fits the bound, so a bound
			// below a day (2h) is never met by dates.
			med, days, ok := rr.fifoMedianDwell(in[i:j], out[o0:o1], inSum)
			if !ok || !days && med > c.MedianDwell.Seconds() || days && med+86400 > c.MedianDwell.Seconds() {
				continue
			}
			reason = fmt.Sprintf("%s in, FIFO median dwell %s before it left", rr.money(inSum, in[i:j]), fmtDwell(med, days))
		default:
			continue
		}
		st.add(Hit{Rule: "R2", Node: id, Score: c.Weight, Reason: reason,
			Evidence: rr.evidence(edgeTxs(in[i:j]), edgeTxs(out[o0:o1])),
			Window:   Window{From: in[i].Time, To: max(in[j-1].Time, lastTime(out[o0:o1]))}})
		i = j - 1
	}
}

func lastTime(es []TxEdge) int64 {
	if len(es) == 0 {
		return 0
	}
	return es[len(es)-1].Time
}

// fifoMedianDwell matches debits to the earliest unconsumed credits
// (Clayton's rule) and returns the amount-weighted median time the credited
// money stayed. Money that never left counts as staying forever, so ok is
// false when less than half of it left. Amounts are compared in tiyn
// equivalent (total is too). When either end of the median piece has only
// a date, days is set and the dwell is whole local days (0: the same day):
// a dwell below a day cannot be measured there.
func (rr *ruleRun) fifoMedianDwell(credits, debits []TxEdge, total int64) (dwell int64, days, ok bool) {
	type piece struct {
		dwell, amount int64
		days          bool
	}
	var pieces []piece
	rest := make([]int64, len(credits))
	for i, e := range credits {
		rest[i] = rr.val(e)
	}
	k := 0
	for _, d := range debits {
		need := rr.val(d)
		for need > 0 && k < len(credits) && credits[k].Time <= d.Time {
			take := min(need, rest[k])
			p := piece{dwell: d.Time - credits[k].Time, amount: take}
			if rr.dateOnly(d.Tx) || rr.dateOnly(credits[k].Tx) {
				p.dwell = 86400 * (rr.ix.TxLocalDay(d.Tx) - rr.ix.TxLocalDay(credits[k].Tx))
				p.days = true
			}
			pieces = append(pieces, p)
			rest[k] -= take
			need -= take
			if rest[k] == 0 {
				k++
			}
		}
	}
	slices.SortStableFunc(pieces, func(a, b piece) int { return cmp.Compare(a.dwell, b.dwell) })
	var acc int64
	for _, p := range pieces {
		acc += p.amount
		if 2*acc >= total {
			return p.dwell, p.days, true
		}
	}
	return 0, false, false
}

// inBand reports a credit just below the IIN threshold made without the
// sender's IIN.
func (rr *ruleRun) inBand(e TxEdge) bool {
	c := rr.cfg.R3
	hi := rr.curs[e.Cur].r3
	lo := int64(float64(hi) * (1 - c.Band))
	if e.Amount < lo || e.Amount >= hi {
		return false
	}
	if e.Channel != ChannelTopup && e.Channel != ChannelTransfer {
		return false
	}
	return !rr.ix.TxFlags(e.Tx).Has(TxIINProvided)
}

// structuringHit looks for Count in-band credits within the window in
// credits (sorted by time) and returns the hit, if any.
func (rr *ruleRun) structuringHit(id NodeID, credits []TxEdge, cards int) (Hit, bool) {
	c := rr.cfg.R3
	w := rr.span(c.Window)
	left := 0
	for j := range credits {
		for credits[j].Time-credits[left].Time > w {
			left++
		}
		if j-left+1 < c.Count {
			continue
		}
		win := credits[left : j+1]
		lo, hi := rr.val(win[0]), rr.val(win[0])
		missing, unconfirmed, topups := 0, 0, 0
		for _, e := range win {
			lo, hi = min(lo, rr.val(e)), max(hi, rr.val(e))
			f := rr.ix.TxFlags(e.Tx)
			if f.Has(TxIINMissing) {
				missing++
			}
			if f.Has(TxAppNotConfirmed) {
				unconfirmed++
			}
			if e.Channel == ChannelTopup {
				topups++
			}
		}
		what := "credits"
		if topups == len(win) {
			what = "top-ups"
		}
		score := c.Weight
		if missing+unconfirmed > 0 {
			score = clamp01(score * 1.25)
		}
		where := ""
		if cards > 1 {
			where = fmt.Sprintf(" across %d cards", cards)
		}
		span := win[len(win)-1].Time - win[0].Time
		return Hit{Rule: "R3", Node: id, Score: score,
			Reason:   fmt.Sprintf("%d %s of %s–%s without IIN%s in %s", len(win), what, rr.money(lo, win), rr.money(hi, win), where, rr.fmtSpan(win[0].Tx, win[len(win)-1].Tx, span)),
			Evidence: rr.evidence(edgeTxs(win)), Window: Window{From: win[0].Time, To: win[len(win)-1].Time}}, true
	}
	return Hit{}, false
}

// R3 on one instrument: in-band credits, or sub-threshold top-ups adding up
// to the threshold within a day.
func (rr *ruleRun) structuringCard(st *ruleState, id NodeID) {
	c := rr.cfg.R3
	if !c.Enabled {
		return
	}
	var band []TxEdge
	for _, e := range rr.ix.InTx(id) {
		if rr.inBand(e) {
			band = append(band, e)
		}
	}
	if h, ok := rr.structuringHit(id, band, 1); ok {
		st.add(h)
		return
	}
	// Pieces: top-ups each below the threshold, none with the IIN, that
	// together reach it within PieceWindow. The threshold is per currency
	// (a reporting threshold is jurisdictional), so pieces add up within
	// one currency only.
	var ups []TxEdge
	for _, e := range rr.ix.InTx(id) {
		if e.Channel == ChannelTopup && e.Amount < rr.curs[e.Cur].r3 && !rr.ix.TxFlags(e.Tx).Has(TxIINProvided) {
			ups = append(ups, e)
		}
	}
	if len(ups) < c.MinPieces {
		return
	}
	if cur, ok := oneCurrency(ups); ok {
		rr.pieces(st, id, ups, cur)
		return
	}
	var done []uint8
	for _, e := range ups {
		if slices.Contains(done, e.Cur) {
			continue
		}
		done = append(done, e.Cur)
		if rr.pieces(st, id, slices.DeleteFunc(slices.Clone(ups), func(x TxEdge) bool { return x.Cur != e.Cur }), e.Cur) {
			return
		}
	}
}

// pieces is R3's sub-threshold top-ups of one currency adding up to its
// reporting threshold within PieceWindow.
func (rr *ruleRun) pieces(st *ruleState, id NodeID, ups []TxEdge, cur uint8) bool {
	c := rr.cfg.R3
	thr := rr.curs[cur].r3
	if len(ups) < c.MinPieces || thr == math.MaxInt64 {
		return false
	}
	w := rr.span(c.PieceWindow)
	left := 0
	var sum int64
	for j := range ups {
		sum += ups[j].Amount
		for ups[j].Time-ups[left].Time > w {
			sum -= ups[left].Amount
			left++
		}
		if j-left+1 >= c.MinPieces && sum >= thr {
			win := ups[left : j+1]
			// Context, not a typology: a shop banks its takings in two
			// deposits a day (docs/DETECTION.md).
			st.add(Hit{Rule: "R3", Node: id, Score: c.Weight * 0.6, Weak: true,
				Reason:   fmt.Sprintf("%d top-ups below %s without IIN add up to %s in %s", len(win), rr.native(thr, cur), rr.native(sum, cur), rr.fmtSpan(win[0].Tx, win[len(win)-1].Tx, win[len(win)-1].Time-win[0].Time)),
				Evidence: rr.evidence(edgeTxs(win)), Window: Window{From: win[0].Time, To: win[len(win)-1].Time}})
			return true
		}
	}
	return false
}

// R3 per holder: in-band credits spread over the holder's cards.
func (rr *ruleRun) structuringHolder(st *ruleState, id NodeID) {
	if !rr.cfg.R3.Enabled {
		return
	}
	var band []TxEdge
	cards := 0
	for _, l := range rr.ix.Links(id) {
		if !l.Out || l.Type != LinkHolds || !isInstrument(rr.ix.Kind(l.Other)) {
			continue
		}
		n := len(band)
		for _, e := range rr.ix.InTx(l.Other) {
			if rr.inBand(e) {
				band = append(band, e)
			}
		}
		if len(band) > n {
			cards++
		}
	}
	if cards < 2 {
		return // one card: the card-level check covers it
	}
	slices.SortFunc(band, func(a, b TxEdge) int {
		if c := cmp.Compare(a.Time, b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Tx, b.Tx)
	})
	if h, ok := rr.structuringHit(id, band, cards); ok {
		st.add(h)
	}
}

// fmtSpan renders the time between transactions a and b for a reason: as
// fmtDur (at least a minute), or in days when either has only a date.
func (rr *ruleRun) fmtSpan(a, b uint32, sec int64) string {
	if rr.dateOnly(a) || rr.dateOnly(b) {
		return fmtDwell(86400*(rr.ix.TxLocalDay(b)-rr.ix.TxLocalDay(a)), true)
	}
	return fmtDur(max(60, sec))
}

// fmtWindow renders a configured window as the data resolve it: "24h", or
// "1 day" / "3 days" for dates.
func (rr *ruleRun) fmtWindow(d Duration) string {
	if rr.unit <= 1 {
		return d.String()
	}
	n := (d.Seconds() + 86399) / 86400
	if n <= 1 {
		return "the same day"
	}
	return fmt.Sprintf("%d days", n)
}
