package graph

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Card-activity rules (R6 per card, R7 new-card burst, R8 dormant
// reactivation, R9 night): the instrument's own timing, see rules_tx.go.

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
			turnover = AddSat(turnover, rr.val(act[j]))
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

// R6 per card: many ATM withdrawals in one day.
func (rr *ruleRun) cardsPerDay(st *ruleState, id NodeID) {
	c := rr.cfg.R6
	if !c.Enabled {
		return
	}
	cash := st.ofChannel(rr.ix.OutTx(id), ChannelCashOut)
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
