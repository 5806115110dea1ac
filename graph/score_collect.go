package graph

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
)

// collectorRounds bounds how far risk flows from flagged mules: round one
// finds the cards that collect from or fund them (couriers, organisers),
// round two the cards that collect from those. A third round changed no
// figure on the demos or the decoy worlds and cost 2 s on the large demo.
const collectorRounds = 2

// minDependence is the share of a flagged counterparty's own outflow (paid
// to a collector) or inflow (received from a funder) that the money between
// them must reach for the counterparty to count.
const minDependence = 0.2

// collectors is R23: risk that flows from flagged subjects to the
// instruments that collect their money or fund them (docs/DETECTION.md
// "Collectors and organisers"). An instrument of a subject that is not
// flagged itself gets a hit when money from (or to) the instruments of at
// least MinSubjects other flagged subjects makes up at least MinShare of
// everything it received (or paid). The share keeps shops, payroll
// accounts and victims out: a shop where two mules buy groceries receives
// mostly from honest customers; a victim pays one mule. The evidence is the
// transactions on those paths, so the investigator sees from whom.
func (rr *ruleRun) collectors(ctx context.Context, f Flags) ([]Hit, error) {
	c := rr.cfg.R23
	if !c.Enabled {
		return nil, nil
	}
	ix := rr.ix
	n := ix.Len()
	flaggedSubj := make([]bool, n)
	// profiled marks subjects that carry two or more context signals other
	// than the shared identifier itself (cards in many banks, night cash,
	// P2P references, unlicensed exchanges): a nominee's profile.
	profiled := make([]bool, n)
	for _, r := range f.Risks {
		if r.Subject != r.Node {
			continue
		}
		if r.Score >= f.Threshold {
			flaggedSubj[r.Node] = true
		}
		if rr.verdicts[r.Ref] == VerdictDismissed {
			flaggedSubj[r.Node] = false
		}
		k := 0
		for _, rs := range r.Rules {
			if rs.IsContext() && rs.Rule != "R5" {
				k++
			}
		}
		profiled[r.Node] = k >= 2
	}
	// A confirmed entity stands for its subject, flagged or not.
	for ref, v := range rr.verdicts {
		if id, ok := ix.Lookup(ref); ok && v == VerdictConfirmed {
			flaggedSubj[rr.subject(id)] = true
		}
	}
	// What each instrument received and paid in all: a counterparty counts
	// only when the money between them is a real part of its own flow
	// (minDependence), so a customer paying flagged shops, or a shop taking
	// a mule's grocery money, is no collector or funder.
	inSum, outSum := rr.flowSums()
	// The base rate: the share of all money between instruments that flagged
	// subjects paid (or received). Where half the accounts are flagged (a
	// 100-account simulation), taking half one's money from them is chance,
	// so a collector must take more than twice the base rate.
	var all, fromF, toF int64
	for i := 0; i < n; i++ {
		id := NodeID(i)
		if !isInstrument(ix.Kind(id)) {
			continue
		}
		for _, e := range ix.OutTx(id) {
			if e.Other == id || !isInstrument(ix.Kind(e.Other)) {
				continue
			}
			v := rr.val(e)
			all += v
			if flaggedSubj[rr.subject(id)] {
				fromF += v
			}
			if flaggedSubj[rr.subject(e.Other)] {
				toF += v
			}
		}
	}
	baseIn, baseOut := 0.0, 0.0
	if all > 0 {
		baseIn, baseOut = float64(fromF)/float64(all), float64(toF)/float64(all)
	}
	// The instruments and identifiers are shared out among the workers in
	// chunks of nodes, each with its own scratch and hits; the hits are
	// joined in chunk order, as one pass in node order would give them.
	const chunk = 1 << 14
	nChunks := (n + chunk - 1) / chunk
	chunkHits := make([][]Hit, nChunks)
	workers := min(rr.workers(), nChunks)
	scratch := make([]collectScratch, workers)
	var stopped atomic.Bool
	parallelChunks(nChunks, workers, func(w, ci int) {
		if stopped.Load() || ctx.Err() != nil {
			stopped.Store(true)
			return
		}
		sc := &scratch[w]
		sc.hits = nil
		for i := ci * chunk; i < min((ci+1)*chunk, n); i++ {
			rr.collectNode(sc, NodeID(i), collectInput{c: c, flagged: flaggedSubj, profiled: profiled,
				inSum: inSum, outSum: outSum, baseIn: baseIn, baseOut: baseOut})
		}
		chunkHits[ci] = sc.hits
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("collectors: %w", err)
	}
	var hits []Hit
	for _, h := range chunkHits {
		hits = append(hits, h...)
	}
	return hits, nil
}

// collectInput is what every worker of the collector pass reads.
type collectInput struct {
	c               CollectorRule
	flagged         []bool // flaggedSubj: flagged subjects (confirmed included, dismissed not)
	profiled        []bool
	inSum, outSum   []int64
	baseIn, baseOut float64
}

// collectScratch is one worker's scratch and hits in the collector pass.
type collectScratch struct {
	subjects     map[NodeID]struct{}
	pair         map[NodeID]int64
	evid         []uint32
	edges        []TxEdge
	users        map[NodeID]struct{}
	flaggedUsers []NodeID
	hits         []Hit
}

// collectNode is the collector pass for one node: an identifier whose other
// users are mostly flagged (a gang's device, IP, phone or imported group)
// passes risk to its users; an instrument of an unflagged subject that
// collects from or funds flagged subjects gets a hit.
func (rr *ruleRun) collectNode(sc *collectScratch, id NodeID, in collectInput) {
	if sc.subjects == nil {
		sc.subjects, sc.pair, sc.users = map[NodeID]struct{}{}, map[NodeID]int64{}, map[NodeID]struct{}{}
	}
	ix, c, flaggedSubj, profiled := rr.ix, in.c, in.flagged, in.profiled
	if k := ix.Kind(id); c.IdentWeight > 0 && (k == KindDevice || k == KindIP || k == KindPhone || k == KindGroup) {
		// A gang's identifier: its other users are mostly flagged. A
		// group of the imported case data (groups.csv, memberships.csv)
		// is the strongest such identifier: its members are named by
		// the investigation itself.
		clear(sc.users)
		sc.flaggedUsers = sc.flaggedUsers[:0]
		suspects := 0
		for _, l := range ix.Links(id) {
			if k := ix.Kind(l.Other); l.Out || k != KindPerson && !isInstrument(k) {
				continue
			}
			s := rr.subject(l.Other)
			if _, dup := sc.users[s]; dup {
				continue
			}
			sc.users[s] = struct{}{}
			if flaggedSubj[s] {
				sc.flaggedUsers = append(sc.flaggedUsers, s)
			}
			if flaggedSubj[s] || profiled[s] {
				suspects++
			}
		}
		k, all := len(sc.flaggedUsers), len(sc.users)
		if all > maxSharedHolders {
			return
		}
		gang := k >= c.FundSubjects && float64(k) >= c.IdentShare*float64(all-1)
		farm := suspects >= c.FundSubjects && 2*suspects >= all
		if !gang && !farm {
			return
		}
		for u := range sc.users {
			switch {
			case flaggedSubj[u]:
			case gang && ix.Kind(id) == KindGroup:
				sc.hits = append(sc.hits, Hit{Rule: "R23", Node: u, Score: c.IdentWeight,
					Reason: fmt.Sprintf("named in the case data as a member of group %s with %d flagged subjects (of %d members)",
						ix.Ref(id).Key, k, all-1)})
			case gang:
				sc.hits = append(sc.hits, Hit{Rule: "R23", Node: u, Score: c.IdentWeight,
					Reason: fmt.Sprintf("uses %s %s with %d flagged subjects (of %d users)", kindWord(ix.Kind(id)),
						ix.Ref(id).Key, k, all-1)})
			case profiled[u]:
				sc.hits = append(sc.hits, Hit{Rule: "R23", Node: u, Score: c.IdentWeight,
					Reason: fmt.Sprintf("one of %d holders with a nominee's profile (cards in many banks, unlicensed exchanges, P2P, night cash) on %s %s (of %d users)",
						suspects, kindWord(ix.Kind(id)), ix.Ref(id).Key, all)})
			}
		}
		return
	}
	if !isInstrument(ix.Kind(id)) {
		return
	}
	self := rr.subject(id)
	if flaggedSubj[self] {
		return
	}
	rr.collectSide(sc, in, id, self, ix.InTx(id), "collects from", c.MinSubjects, in.outSum, in.baseIn)
	rr.collectSide(sc, in, id, self, ix.OutTx(id), "funds", c.FundSubjects, in.inSum, in.baseOut)
}

// collectSide is one side of an instrument in the collector pass: the money
// it received from (or paid to) the instruments of flagged subjects, each
// counted where it is a real part of that counterparty's own flow (theirs:
// what each paid, or received, in all).
func (rr *ruleRun) collectSide(sc *collectScratch, in collectInput, id, self NodeID, es []TxEdge, verb string, need int, theirs []int64, base float64) {
	ix, c := rr.ix, in.c
	clear(sc.subjects)
	clear(sc.pair)
	sc.evid = sc.evid[:0]
	sc.edges = sc.edges[:0]
	var total, fromFlagged int64
	var from, to int64
	for _, e := range es {
		if e.Other == id {
			continue
		}
		total = AddSat(total, rr.val(e))
		if !isInstrument(ix.Kind(e.Other)) {
			continue
		}
		s := rr.subject(e.Other)
		if s == self || !in.flagged[s] {
			continue
		}
		sc.pair[e.Other] += rr.val(e)
		fromFlagged += rr.val(e)
		sc.evid = append(sc.evid, e.Tx)
		sc.edges = append(sc.edges, e)
		if from == 0 || e.Time < from {
			from = e.Time
		}
		to = max(to, e.Time)
	}
	for o, amt := range sc.pair {
		if float64(amt) >= minDependence*float64(theirs[o]) {
			sc.subjects[rr.subject(o)] = struct{}{}
		}
	}
	k := len(sc.subjects)
	if k < need || total <= 0 || float64(fromFlagged) < c.MinShare*float64(total) || float64(fromFlagged) <= 2*base*float64(total) {
		return
	}
	strength := 0.85
	if k > need {
		strength = 1
	}
	share := float64(fromFlagged) / float64(total)
	sc.hits = append(sc.hits, Hit{Rule: "R23", Node: id, Score: c.Weight * strength,
		Reason: fmt.Sprintf("%s %d flagged subjects: %s of %s (%.0f%%)", verb, k,
			rr.money(fromFlagged, sc.edges), rr.money(total, es), 100*share),
		Evidence: rr.evidence(sc.evid), Window: Window{From: from, To: to}})
}

// flowSums returns what each instrument received and paid in all, in tiyn
// equivalent, computed once per run (every collector round reads them).
func (rr *ruleRun) flowSums() (in, out []int64) {
	if rr.inSum != nil {
		return rr.inSum, rr.outSum
	}
	ix, n := rr.ix, rr.ix.Len()
	rr.inSum, rr.outSum = make([]int64, n), make([]int64, n)
	for i := 0; i < n; i++ {
		id := NodeID(i)
		if !isInstrument(ix.Kind(id)) {
			continue
		}
		for _, e := range ix.InTx(id) {
			rr.inSum[id] += rr.val(e)
		}
		for _, e := range ix.OutTx(id) {
			rr.outSum[id] += rr.val(e)
		}
	}
	return rr.inSum, rr.outSum
}

// kindWord names an identifier kind in a reason.
func kindWord(k Kind) string {
	if k == KindIP {
		return "IP"
	}
	return k.String()
}

// withCollectors adds the collector hits to a first scoring and scores
// again, for collectorRounds rounds or until nothing new is found.
func (rr *ruleRun) withCollectors(ctx context.Context, hits []Hit) (Flags, error) {
	// Rounds score without explanations (words for every entity are most of
	// a scoring's cost); the last scoring explains.
	f := rr.score(hits, false)
	for round := 0; round < collectorRounds; round++ {
		more, err := rr.collectors(ctx, f)
		if err != nil {
			return Flags{}, err
		}
		slices.SortFunc(more, compareRuleHits)
		fresh := more[:0]
		for i, h := range more {
			if !hasHit(hits, h.Node, h.Rule) && (i == 0 || more[i-1].Node != h.Node || more[i-1].Rule != h.Rule || more[i-1].Reason != h.Reason) {
				fresh = append(fresh, h)
			}
		}
		if len(fresh) == 0 {
			break
		}
		hits = append(hits, fresh...)
		slices.SortFunc(hits, compareRuleHits)
		f = rr.score(hits, false)
	}
	return rr.score(hits, true), nil
}

// hasHit reports whether sorted hits hold one of rule on node.
func hasHit(hits []Hit, node NodeID, rule string) bool {
	i, _ := slices.BinarySearchFunc(hits, node, func(h Hit, n NodeID) int {
		if h.Node < n {
			return -1
		}
		if h.Node > n {
			return 1
		}
		return 0
	})
	for ; i < len(hits) && hits[i].Node == node; i++ {
		if hits[i].Rule == rule {
			return true
		}
	}
	return false
}
