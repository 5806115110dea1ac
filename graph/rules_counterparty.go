package graph

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Counterparty rules (R10 P2P, R11 unlicensed exchanges, R12 fan-out, R15
// repeats and watch lists): whom an instrument deals with, see rules_tx.go.

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
	out := st.ofChannel(rr.ix.OutTx(id), ChannelTransfer)
	if len(out) < c.Recipients {
		return
	}
	w := rr.span(c.Window)
	seen := &st.window
	seen.reset()
	left := 0
	var s, s2 float64
	for j := range out {
		a := float64(rr.val(out[j]))
		s, s2 = s+a, s2+a*a
		seen.add(out[j].Other)
		for out[j].Time-out[left].Time > w {
			a := float64(rr.val(out[left]))
			s, s2 = s-a, s2-a*a
			seen.remove(out[left].Other)
			left++
		}
		if seen.n < c.Recipients {
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
			Reason:   fmt.Sprintf("%d recipients within %s, amounts around %s (CV %.2f)", seen.n, rr.fmtWindow(c.Window), rr.money(int64(mean), win), cv),
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
