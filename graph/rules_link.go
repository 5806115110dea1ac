package graph

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Link rules: R4 (cards per holder and bank), R5 (identifiers shared by
// holders) and R6 (ATM runs by several holders).

// R4: one holder with cards in many banks, many cards in one bank, or many
// cards in all.
func (rr *ruleRun) multiBank(st *ruleState, id NodeID) {
	c := rr.cfg.R4
	if !c.Enabled {
		return
	}
	perBank := map[string]int{}
	total := 0
	for _, l := range rr.ix.Links(id) {
		if !l.Out || l.Type != LinkHolds || rr.ix.Kind(l.Other) != KindCard {
			continue
		}
		total++
		if b := strings.TrimSpace(rr.ix.Prop(l.Other, PropBank)); b != "" {
			perBank[strings.ToLower(b)]++
		}
	}
	if total < min(c.Banks, c.PerBank, c.TotalCards) {
		return
	}
	most := 0
	for _, n := range perBank {
		most = max(most, n)
	}
	score := c.Weight
	var why []string
	if len(perBank) >= c.Banks {
		why = append(why, fmt.Sprintf("cards in %d banks", len(perBank)))
		if len(perBank) >= c.Banks+2 {
			score = clamp01(score * 1.2)
		}
	}
	if most >= c.PerBank {
		why = append(why, fmt.Sprintf("%d cards in one bank", most))
		score = clamp01(c.Weight * 1.5)
	}
	if total >= c.TotalCards {
		why = append(why, fmt.Sprintf("%d cards in all", total))
		score = clamp01(c.Weight * 1.5)
	}
	if len(why) == 0 {
		return
	}
	banks := make([]string, 0, len(perBank))
	for b, n := range perBank {
		banks = append(banks, fmt.Sprintf("%s %d", b, n))
	}
	slices.Sort(banks)
	st.add(Hit{Rule: "R4", Node: id, Score: score,
		Reason: fmt.Sprintf("holds %d cards: %s (%s)", total, strings.Join(why, ", "), strings.Join(banks, ", "))})
}

// R5: a device, IP address or phone linked to several distinct holders.
// Links carry no time, so the 30-day window of DOMAIN §4 is not applied.
func (rr *ruleRun) sharedID(st *ruleState, id NodeID) {
	c := rr.cfg.R5
	if !c.Enabled {
		return
	}
	ids := st.ids[:0]
	for _, l := range rr.ix.Links(id) {
		if l.Out {
			continue
		}
		switch k := rr.ix.Kind(l.Other); {
		case k == KindPerson:
			ids = append(ids, l.Other)
		case isInstrument(k):
			ids = append(ids, rr.holderOrSelf(l.Other))
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	st.ids = ids
	if len(ids) < c.Holders {
		return
	}
	what := rr.ix.Kind(id).String()
	ref := rr.ix.Ref(id)
	score := c.Weight
	if len(ids) >= 2*c.Holders {
		score = clamp01(score * 1.25)
	}
	st.add(Hit{Rule: "R5", Node: id, Score: score,
		Reason: fmt.Sprintf("%s used by %d distinct holders", what, len(ids))})
	for _, h := range ids {
		st.add(Hit{Rule: "R5", Node: h, Score: score,
			Reason: fmt.Sprintf("shares %s %s with %d other holders", what, ref.Key, len(ids)-1)})
	}
}

// R6: cards of several distinct holders cashed out at one ATM within a short
// window. Night runs weigh more. Withdrawals with only a date are left out:
// a run within an hour cannot be seen in dates.
func (rr *ruleRun) atmRun(st *ruleState, id NodeID) {
	c := rr.cfg.R6
	if !c.Enabled {
		return
	}
	cash := st.ofChannel(rr.ix.InTx(id), ChannelCashOut)
	cash = slices.DeleteFunc(cash, func(e TxEdge) bool { return rr.dateOnly(e.Tx) })
	if len(cash) < c.Holders {
		return
	}
	w := c.Window.Seconds()
	seen := &st.window
	seen.reset()
	left := 0
	for j := 0; j < len(cash); j++ {
		seen.add(rr.holderOrSelf(cash[j].Other))
		for cash[j].Time-cash[left].Time > w {
			seen.remove(rr.holderOrSelf(cash[left].Other))
			left++
		}
		if seen.n < c.Holders {
			continue
		}
		// Extend the run while holders keep arriving within the window of
		// the previous withdrawal, so one run gives one hit.
		end := j + 1
		for end < len(cash) && cash[end].Time-cash[end-1].Time <= w {
			end++
		}
		run := cash[left:end]
		holders := map[NodeID]bool{}
		var cards []NodeID
		for _, e := range run {
			holders[rr.holderOrSelf(e.Other)] = true
			cards = append(cards, e.Other)
		}
		slices.Sort(cards)
		cards = slices.Compact(cards)
		// A courier's run empties cards funded just before it; strangers at
		// a busy ATM take part of their own money. Only a run that empties
		// the cards of Holders holders is the typology, any other is context.
		emptied := map[NodeID]bool{}
		for _, card := range cards {
			if rr.emptied(card, run) {
				emptied[rr.holderOrSelf(card)] = true
			}
		}
		weak := len(emptied) < c.Holders
		score := c.Weight
		when := ""
		if rr.isNight(run[0]) {
			score = clamp01(score * c.NightFactor)
			when = " at night"
		}
		if !weak {
			when += fmt.Sprintf(", emptying %d holders' cards", len(emptied))
		}
		ev := rr.evidence(edgeTxs(run))
		win := Window{From: run[0].Time, To: run[len(run)-1].Time}
		reason := fmt.Sprintf("%d holders' cards cashed out%s at %s within %s", len(holders), when, rr.ix.Ref(id).Key, fmtDur(max(60, win.To-win.From)))
		st.add(Hit{Rule: "R6", Node: id, Score: score, Reason: reason, Evidence: ev, Window: win, Weak: weak})
		for _, card := range cards {
			var own []uint32
			for _, e := range run {
				if e.Other == card {
					own = append(own, e.Tx)
				}
			}
			st.add(Hit{Rule: "R6", Node: card, Score: score, Reason: reason, Evidence: rr.evidence(own), Window: win,
				Weak: weak || !emptied[rr.holderOrSelf(card)]})
		}
		seen.reset()
		j = end - 1
		left = end
	}
}

// emptiedWithin is how far back an ATM run looks for the money it takes.
const emptiedWithin = 72 * 3600

// emptiedShare is the part of that money a card's withdrawals in the run
// must take for the run to empty it.
const emptiedShare = 0.8

// emptied reports whether a card's withdrawals in an ATM run take at least
// emptiedShare of what it received in the emptiedWithin before the run.
func (rr *ruleRun) emptied(card NodeID, run []TxEdge) bool {
	var took int64
	first := int64(math.MaxInt64)
	for _, e := range run {
		if e.Other == card {
			took += rr.val(e)
			first = min(first, e.Time)
		}
	}
	in := rr.ix.InTx(card)
	var got int64
	for _, e := range in[firstAtOrAfter(in, first-rr.span(Duration(emptiedWithin*time.Second))):firstAfter(in, first)] {
		got += rr.val(e)
	}
	return got > 0 && float64(took) >= emptiedShare*float64(got)
}
