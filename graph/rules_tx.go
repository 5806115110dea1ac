package graph

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Instrument rules: each looks at one card, account or wallet and its own
// transactions (R1, R2, R3, R6 per card, R7, R8, R9, R10, R11, R12, R15).

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
	in := ofChannel(all, ChannelTransfer)
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
		clear(st.seen)
		left := 0
		for j := 0; j < len(in); j++ {
			st.seen[in[j].Other]++
			for in[j].Time-in[left].Time > w {
				if st.seen[in[left].Other]--; st.seen[in[left].Other] == 0 {
					delete(st.seen, in[left].Other)
				}
				left++
			}
			if len(st.seen) < v.n {
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
			senders := len(st.seen)
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
			clear(st.seen)
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

// cumulative returns prefix sums of the raw amounts: cum[i] is the sum of
// es[:i]. The amounts must share one currency; ruleRun.cumulative sums in
// tenge equivalent across currencies.
func cumulative(es []TxEdge) []int64 {
	cum := make([]int64, len(es)+1)
	for i, e := range es {
		cum[i+1] = cum[i] + e.Amount
	}
	return cum
}

// withoutSelf returns es without the transfers between id and itself; es
// itself when there are none.
func withoutSelf(es []TxEdge, id NodeID) []TxEdge {
	if !slices.ContainsFunc(es, func(e TxEdge) bool { return e.Other == id }) {
		return es
	}
	return slices.DeleteFunc(slices.Clone(es), func(e TxEdge) bool { return e.Other == id })
}

// ofChannel returns the edges of one channel, in their order.
func ofChannel(es []TxEdge, ch Channel) []TxEdge {
	var out []TxEdge
	for _, e := range es {
		if e.Channel == ch {
			out = append(out, e)
		}
	}
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

// parseIssued reads an issue date ("2025-01-10") as Almaty midnight.
func parseIssued(s string) (int64, bool) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	u := t.Unix()
	return u - almatyOffset(u), true
}

// activity merges a node's incoming and outgoing edges by time.
func (rr *ruleRun) activity(id NodeID, buf []TxEdge) []TxEdge {
	in, out := rr.ix.InTx(id), rr.ix.OutTx(id)
	buf = buf[:0]
	i, j := 0, 0
	for i < len(in) || j < len(out) {
		if j == len(out) || (i < len(in) && (in[i].Time < out[j].Time || in[i].Time == out[j].Time && in[i].Tx <= out[j].Tx)) {
			buf = append(buf, in[i])
			i++
		} else {
			buf = append(buf, out[j])
			j++
		}
	}
	return buf
}

// R7: a fresh card that bursts into activity.
func (rr *ruleRun) newCard(st *ruleState, id NodeID) {
	c := rr.cfg.R7
	if !c.Enabled || rr.ix.Kind(id) != KindCard {
		return
	}
	issued, ok := parseIssued(rr.ix.Prop(id, PropIssued))
	if !ok {
		return
	}
	in, out := rr.ix.InTx(id), rr.ix.OutTx(id)
	first := int64(math.MaxInt64)
	if len(in) > 0 {
		first = in[0].Time
	}
	if len(out) > 0 {
		first = min(first, out[0].Time)
	}
	if first == math.MaxInt64 || first-issued > c.FirstUseWithin.Seconds() || first < issued {
		return
	}
	end := first + c.Burst.Seconds()
	ia, ob := firstAfter(in, end), firstAfter(out, end)
	turnover := rr.sumVal(in[:ia], out[:ob])
	if turnover < kzt(c.TurnoverKZT) && ia < c.Credits {
		return
	}
	st.add(Hit{Rule: "R7", Node: id, Score: c.Weight,
		Reason: fmt.Sprintf("first used %s after issue; %s turnover and %d credits in its first %s",
			fmtDur(max(60, first-issued)), rr.money(turnover, in[:ia], out[:ob]), ia, c.Burst),
		Evidence: rr.evidence(edgeTxs(in[:ia]), edgeTxs(out[:ob])), Window: Window{From: first, To: end}})
}

// R8: a long silence, then a burst of turnover.
func (rr *ruleRun) dormant(st *ruleState, id NodeID) {
	c := rr.cfg.R8
	if !c.Enabled {
		return
	}
	in, out := rr.ix.InTx(id), rr.ix.OutTx(id)
	if len(in)+len(out) < 2 {
		return
	}
	st.evidEdges = rr.activity(id, st.evidEdges)
	act := st.evidEdges
	silence, burst := c.Silence.Seconds(), c.Burst.Seconds()
	for i := 1; i < len(act); i++ {
		if act[i].Time-act[i-1].Time < silence {
			continue
		}
		var turnover int64
		j := i
		for ; j < len(act) && act[j].Time <= act[i].Time+burst; j++ {
			turnover += rr.val(act[j])
		}
		if turnover >= kzt(c.TurnoverKZT) {
			st.add(Hit{Rule: "R8", Node: id, Score: c.Weight,
				Reason:   fmt.Sprintf("silent for %s, then %s turnover in %s", fmtDur(act[i].Time-act[i-1].Time), rr.money(turnover, act[i:j]), c.Burst),
				Evidence: rr.evidence(edgeTxs(act[i:j])), Window: Window{From: act[i].Time, To: act[j-1].Time}})
			return
		}
	}
}

// isNight reports whether an edge's transaction falls in the rule's night
// hours on the wall clock of its source; one with only a date never does.
func (rr *ruleRun) isNight(e TxEdge) bool {
	h, ok := rr.ix.localHourAt(e.Tx, e.Time)
	return ok && h >= rr.cfg.R9.FromHour && h < rr.cfg.R9.ToHour
}

// R9: most operations, or several ATM withdrawals, at night.
func (rr *ruleRun) night(st *ruleState, id NodeID) {
	c := rr.cfg.R9
	if !c.Enabled {
		return
	}
	w := rr.span(c.Window)
	out := rr.ix.OutTx(id)
	// Night ATM withdrawals.
	var atm []TxEdge
	for _, e := range out {
		if e.Channel == ChannelCashOut && rr.isNight(e) {
			atm = append(atm, e)
		}
	}
	left := 0
	for j := range atm {
		for atm[j].Time-atm[left].Time > w {
			left++
		}
		if j-left+1 >= c.ATMCount {
			win := atm[left : j+1]
			st.add(Hit{Rule: "R9", Node: id, Score: c.Weight,
				Reason:   fmt.Sprintf("%d ATM withdrawals between %02d:00 and %02d:00 within %s", len(win), c.FromHour, c.ToHour, fmtDur(max(60, win[len(win)-1].Time-win[0].Time))),
				Evidence: rr.evidence(edgeTxs(win)), Window: Window{From: win[0].Time, To: win[len(win)-1].Time}})
			return
		}
	}
	// Share of all operations with a clock time (date-only rows are left
	// out: they have no hour).
	if len(out)+len(rr.ix.InTx(id)) < c.MinOps {
		return
	}
	st.evidEdges = rr.activity(id, st.evidEdges)
	act := slices.DeleteFunc(st.evidEdges, func(e TxEdge) bool { return rr.dateOnly(e.Tx) })
	left, nights := 0, 0
	for j := range act {
		if rr.isNight(act[j]) {
			nights++
		}
		for act[j].Time-act[left].Time > w {
			if rr.isNight(act[left]) {
				nights--
			}
			left++
		}
		n := j - left + 1
		if n >= c.MinOps && float64(nights) >= c.Share*float64(n) {
			var ev []uint32
			for _, e := range act[left : j+1] {
				if rr.isNight(e) {
					ev = append(ev, e.Tx)
				}
			}
			st.add(Hit{Rule: "R9", Node: id, Score: c.Weight,
				Reason:   fmt.Sprintf("%d of %d operations between %02d:00 and %02d:00 within %s", nights, n, c.FromHour, c.ToHour, c.Window),
				Evidence: rr.evidence(ev), Window: Window{From: act[left].Time, To: act[j].Time}})
			return
		}
	}
}

// R10: card-to-card credits that read like P2P crypto trades, or that match
// an exchange trade of the exact amount within ±MatchWindow.
func (rr *ruleRun) p2p(st *ruleState, id NodeID) {
	c := rr.cfg.R10
	if !c.Enabled {
		return
	}
	var text, match []TxEdge
	mw := c.MatchWindow.Seconds()
	for _, e := range rr.ix.InTx(id) {
		if e.Channel != ChannelTransfer || !isInstrument(rr.ix.Kind(e.Other)) {
			continue
		}
		if rr.ix.TxFlags(e.Tx).Has(TxP2PText) {
			text = append(text, e)
			continue
		}
		if ts := rr.trades[tradeKey{e.Amount, e.Cur}]; len(ts) > 0 {
			k, _ := slices.BinarySearch(ts, e.Time-mw)
			if k < len(ts) && ts[k] <= e.Time+mw {
				match = append(match, e)
			}
		}
	}
	if len(text)+len(match) < c.MinCredits {
		return
	}
	all := append(slices.Clone(text), match...)
	var parts []string
	if len(text) > 0 {
		parts = append(parts, fmt.Sprintf("%d card-to-card credits with P2P/crypto references", len(text)))
	}
	if len(match) > 0 {
		parts = append(parts, fmt.Sprintf("%d credits matching an exchange trade amount within ±%s", len(match), c.MatchWindow))
	}
	score := c.Weight
	if len(text) >= 3 {
		score = clamp01(score * 1.3)
	}
	ev := rr.evidence(edgeTxs(all))
	st.add(Hit{Rule: "R10", Node: id, Score: score, Reason: strings.Join(parts, "; "),
		Evidence: ev, Window: Window{From: rr.ix.TxTime(ev[0]), To: rr.ix.TxTime(ev[len(ev)-1])}})
}

// unlicensedExchange reports whether an exchange node lacks an AFSA licence:
// 1 for a registered exchange with an empty licence, UnknownFactor for one
// that is not in the imported register at all, 0 for a licensed one.
func (rr *ruleRun) unlicensedExchange(x NodeID) float64 {
	if rr.ix.Kind(x) != KindExchange {
		return 0
	}
	if rr.ix.Stub(x) {
		return rr.cfg.R11.UnknownFactor
	}
	if strings.TrimSpace(rr.ix.Prop(x, PropAFSALicence)) == "" {
		return 1
	}
	return 0
}

// R11: transfers or trades with an unlicensed exchange.
func (rr *ruleRun) unlicensed(st *ruleState, id NodeID) {
	c := rr.cfg.R11
	if !c.Enabled {
		return
	}
	var ev []TxEdge
	best := 0.0
	clear(st.seen)
	var sum int64
	days := map[int64]struct{}{}
	for _, es := range [][]TxEdge{rr.ix.OutTx(id), rr.ix.InTx(id)} {
		for _, e := range es {
			if f := rr.unlicensedExchange(e.Other); f > 0 {
				ev = append(ev, e)
				best = max(best, f)
				st.seen[e.Other]++
				sum += rr.val(e)
				days[rr.ix.localDayAt(e.Tx, e.Time)] = struct{}{}
			}
		}
	}
	if len(ev) == 0 {
		return
	}
	names := make([]string, 0, len(st.seen))
	for x := range st.seen {
		names = append(names, rr.exchangeName(x))
	}
	slices.Sort(names)
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	e := rr.evidence(edgeTxs(ev))
	// One purchase is context; dealing through unlicensed exchanges on
	// many days is the typology itself (docs/DETECTION.md).
	repeated := c.RepeatDays > 0 && len(days) >= c.RepeatDays
	st.add(Hit{Rule: "R11", Node: id, Score: c.Weight * best, Strong: repeated,
		Reason: fmt.Sprintf("%d transactions on %d days (%s) with unlicensed exchange %s", len(ev), len(days),
			rr.money(sum, ev), strings.Join(names, ", ")),
		Evidence: e, Window: Window{From: rr.ix.TxTime(e[0]), To: rr.ix.TxTime(e[len(e)-1])}})
}

// R11 across a holder's instruments: dealing through unlicensed exchanges on
// RepeatDays or more distinct days, however the holder spreads it over
// cards, is the typology (a hit on the person; the cards' own hits stay).
func (rr *ruleRun) unlicensedHolder(st *ruleState, id NodeID) {
	c := rr.cfg.R11
	if !c.Enabled || c.RepeatDays <= 0 {
		return
	}
	days := map[int64]struct{}{}
	var ev []uint32
	var evEdges []TxEdge
	var sum int64
	cards := 0
	for _, l := range rr.ix.Links(id) {
		if !l.Out || l.Type != LinkHolds || !isInstrument(rr.ix.Kind(l.Other)) || rr.holder[l.Other] != id {
			continue
		}
		n := len(ev)
		for _, es := range [][]TxEdge{rr.ix.OutTx(l.Other), rr.ix.InTx(l.Other)} {
			for _, e := range es {
				if rr.unlicensedExchange(e.Other) > 0 {
					ev = append(ev, e.Tx)
					evEdges = append(evEdges, e)
					sum += rr.val(e)
					days[rr.ix.localDayAt(e.Tx, e.Time)] = struct{}{}
				}
			}
		}
		if len(ev) > n {
			cards++
		}
	}
	if cards < 2 || len(days) < c.RepeatDays {
		return // one card's own R11 hit already says it
	}
	e := rr.evidence(ev)
	st.add(Hit{Rule: "R11", Node: id, Score: c.Weight, Strong: true,
		Reason: fmt.Sprintf("%d transactions on %d days from %d cards (%s) with unlicensed exchanges", len(ev), len(days),
			cards, rr.money(sum, evEdges)),
		Evidence: e, Window: Window{From: rr.ix.TxTime(e[0]), To: rr.ix.TxTime(e[len(e)-1])}})
}

func (rr *ruleRun) exchangeName(x NodeID) string {
	if n := rr.ix.Name(x); n != "" {
		return n
	}
	return rr.ix.Ref(x).String()
}

// R11 on the exchange itself.
func (rr *ruleRun) exchange(st *ruleState, id NodeID) {
	c := rr.cfg.R11
	f := rr.unlicensedExchange(id)
	if !c.Enabled || f == 0 {
		return
	}
	n := len(rr.ix.InTx(id)) + len(rr.ix.OutTx(id))
	if n == 0 {
		return
	}
	why := "no AFSA licence in the register snapshot"
	if rr.ix.Stub(id) {
		why = "not in the imported exchange register"
	}
	st.add(Hit{Rule: "R11", Node: id, Score: c.Weight * f, Reason: fmt.Sprintf("%s; %d transactions", why, n)})
}

// R12: many recipients in a day with similar amounts.
func (rr *ruleRun) fanOut(st *ruleState, id NodeID) {
	c := rr.cfg.R12
	if !c.Enabled {
		return
	}
	out := ofChannel(rr.ix.OutTx(id), ChannelTransfer)
	if len(out) < c.Recipients {
		return
	}
	w := rr.span(c.Window)
	clear(st.seen)
	left := 0
	var s, s2 float64
	for j := range out {
		a := float64(rr.val(out[j]))
		s, s2 = s+a, s2+a*a
		st.seen[out[j].Other]++
		for out[j].Time-out[left].Time > w {
			a := float64(rr.val(out[left]))
			s, s2 = s-a, s2-a*a
			if st.seen[out[left].Other]--; st.seen[out[left].Other] == 0 {
				delete(st.seen, out[left].Other)
			}
			left++
		}
		if len(st.seen) < c.Recipients {
			continue
		}
		n := float64(j - left + 1)
		mean := s / n
		cv := math.Sqrt(max(0, s2/n-mean*mean)) / mean
		if mean <= 0 || cv > c.MaxCV {
			continue
		}
		win := out[left : j+1]
		st.add(Hit{Rule: "R12", Node: id, Score: c.Weight,
			Reason:   fmt.Sprintf("%d recipients within %s, amounts around %s (CV %.2f)", len(st.seen), rr.fmtWindow(c.Window), rr.money(int64(mean), win), cv),
			Evidence: rr.evidence(edgeTxs(win)), Window: Window{From: win[0].Time, To: win[len(win)-1].Time}})
		return
	}
}

// R15: the same amount to the same counterparty on most days of a week.
func (rr *ruleRun) repeat(st *ruleState, id NodeID) {
	c := rr.cfg.R15
	out := rr.ix.OutTx(id)
	if !c.Enabled || len(out) < c.Days {
		return
	}
	buf := st.evidEdges[:0]
	for _, e := range out {
		if rr.val(e) >= kzt(c.MinKZT) && e.Channel == ChannelTransfer {
			buf = append(buf, e)
		}
	}
	st.evidEdges = buf
	if len(buf) < c.Days {
		return
	}
	slices.SortFunc(buf, func(a, b TxEdge) int {
		if x := cmp.Compare(a.Other, b.Other); x != 0 {
			return x
		}
		if x := cmp.Compare(a.Cur, b.Cur); x != 0 {
			return x
		}
		if x := cmp.Compare(a.Amount, b.Amount); x != 0 {
			return x
		}
		return cmp.Compare(a.Time, b.Time)
	})
	for g := 0; g < len(buf); {
		h := g
		for h < len(buf) && buf[h].Other == buf[g].Other && buf[h].Amount == buf[g].Amount && buf[h].Cur == buf[g].Cur {
			h++
		}
		grp := buf[g:h]
		g = h
		if len(grp) < c.Days {
			continue
		}
		// Distinct local days (on the source's wall clock), then a sliding
		// window of OfDays days.
		var dayList []int64
		var first []int // index in grp of the first payment of each day
		for i, e := range grp {
			d := rr.ix.localDayAt(e.Tx, e.Time)
			if len(dayList) == 0 || dayList[len(dayList)-1] != d {
				dayList = append(dayList, d)
				first = append(first, i)
			}
		}
		left := 0
		for j := range dayList {
			for dayList[j]-dayList[left] >= int64(c.OfDays) {
				left++
			}
			if j-left+1 >= c.Days {
				end := len(grp)
				if j+1 < len(first) {
					end = first[j+1]
				}
				win := grp[first[left]:end]
				st.add(Hit{Rule: "R15", Node: id, Score: c.Weight,
					Reason:   fmt.Sprintf("%s to %s on %d of %d days", FormatMoney(grp[0].Amount, rr.curs[grp[0].Cur].code), rr.ix.Ref(grp[0].Other), j-left+1, c.OfDays),
					Evidence: rr.evidence(edgeTxs(win)), Window: Window{From: win[0].Time, To: win[len(win)-1].Time}})
				return
			}
		}
	}
}

// R15, second part: the holder or the instrument is on an imported watch
// list (list_status grey, black or sanctioned). A listed holder reaches its
// cards, and a listed card its holder, through the usual risk propagation.
func (rr *ruleRun) listed(st *ruleState, id NodeID) {
	c := rr.cfg.R15
	if !c.Enabled {
		return
	}
	status := strings.ToLower(strings.TrimSpace(rr.ix.Prop(id, PropListStatus)))
	var score float64
	switch status {
	case "":
		return
	case "grey", "gray":
		score = c.ListGrey
	default: // black, sanctioned and any stricter list
		score = c.ListBlack
	}
	if score <= 0 {
		return
	}
	st.add(Hit{Rule: "R15", Node: id, Score: score, Reason: "on an imported " + status + " list"})
}

// R6 per card: many ATM withdrawals in one day.
func (rr *ruleRun) cardsPerDay(st *ruleState, id NodeID) {
	c := rr.cfg.R6
	if !c.Enabled {
		return
	}
	cash := ofChannel(rr.ix.OutTx(id), ChannelCashOut)
	if len(cash) < c.PerCardPerDay {
		return
	}
	day := int64(86399) // within 24h
	if rr.unit > 1 {
		day = daySpan(hours(24)) // the same day
	}
	left := 0
	for j := range cash {
		for cash[j].Time-cash[left].Time > day {
			left++
		}
		if j-left+1 >= c.PerCardPerDay {
			win := cash[left : j+1]
			// Context: shops and cash businesses withdraw often.
			st.add(Hit{Rule: "R6", Node: id, Score: c.Weight, Weak: true,
				Reason:   fmt.Sprintf("%d ATM withdrawals (%s) within %s", len(win), rr.money(rr.sumVal(win), win), rr.fmtWindow(hours(24))),
				Evidence: rr.evidence(edgeTxs(win)), Window: Window{From: win[0].Time, To: win[len(win)-1].Time}})
			return
		}
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
