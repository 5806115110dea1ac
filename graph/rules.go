package graph

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Window is the time span a hit covers, in Unix seconds (UTC).
type Window struct {
	From, To int64
}

// Hit is one red flag raised by one rule on one entity.
type Hit struct {
	Rule     string   // "R1" … "R22"
	Node     NodeID   // the flagged entity
	Score    float64  // risk contributed, 0–1
	Reason   string   // in words, e.g. "3 top-ups of 495–499k ₸ without IIN in 3 days"
	Evidence []uint32 // transaction indexes (Index.TxID gives the id), in time order
	Window   Window
	// Strong marks a hit of a context rule (contextRules, score.go) that is a
	// typology in itself, so it counts as typology evidence; Weak a hit of
	// a typology rule that is only context.
	Strong, Weak bool
}

// Flags is the result of RunRules: every hit, and per-entity risks ranked
// from the riskiest down.
type Flags struct {
	Hits      []Hit  // by node, then rule, then window start
	Risks     []Risk // by score descending, then node
	Threshold float64
	// Refs maps every node that has a risk to its reference, so that results
	// can be compared without the index (Evaluate).
	Refs map[NodeID]Ref
}

// Flagged reports the risks at or above the threshold.
func (f Flags) Flagged() []Risk {
	n := 0
	for n < len(f.Risks) && f.Risks[n].Score >= f.Threshold {
		n++
	}
	return f.Risks[:n]
}

// ByRule returns the hits of one rule.
func (f Flags) ByRule(rule string) []Hit {
	var out []Hit
	for _, h := range f.Hits {
		if h.Rule == rule {
			out = append(out, h)
		}
	}
	return out
}

// nodeChunk is how many nodes a worker takes at a time; small enough that two
// workers stay balanced when a few hubs dominate.
const nodeChunk = 2048

// RunRules runs every enabled rule over the index and scores the entities.
// progress, if not nil, is called from the calling goroutine with nodes done
// out of the total. It is cancellable through ctx.
func RunRules(ctx context.Context, ix *Index, cfg RuleConfig, progress func(done, total int)) (Flags, error) {
	return RunRulesWith(ctx, ix, cfg, RunOptions{}, progress)
}

// RunOptions carries what an analysis knows besides the data: the
// analysts' verdicts. A confirmed subject passes risk to its collectors and
// funders (R23) even when the rules did not flag it; a dismissed one passes
// none, whatever its score. Verdicts never change a hit.
type RunOptions struct {
	Verdicts map[Ref]VerdictKind
}

// RunRulesWith is RunRules with the analysts' verdicts.
func RunRulesWith(ctx context.Context, ix *Index, cfg RuleConfig, opt RunOptions, progress func(done, total int)) (Flags, error) {
	if err := cfg.Validate(); err != nil {
		return Flags{}, err
	}
	rr := newRuleRun(ix, cfg)
	rr.verdicts = opt.Verdicts
	n := ix.Len()
	workers := max(1, min(rr.workers(), (n+nodeChunk-1)/nodeChunk))

	var next atomic.Int64
	done := make(chan int, workers*4)
	results := make([][]Hit, workers)
	var wg sync.WaitGroup
	var stop atomic.Bool
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			st := rr.newState()
			defer func() { results[w] = st.hits }()
			for !stop.Load() {
				lo := int(next.Add(nodeChunk)) - nodeChunk
				if lo >= n {
					return
				}
				hi := min(lo+nodeChunk, n)
				for id := lo; id < hi; id++ {
					rr.node(st, NodeID(id))
				}
				done <- hi - lo
			}
		}(w)
	}
	go func() { wg.Wait(); close(done) }()

	finished := 0
	var ctxErr error
	for d := range done {
		finished += d
		if progress != nil {
			progress(finished, n)
		}
		if ctxErr == nil {
			if err := ctx.Err(); err != nil {
				ctxErr = err
				stop.Store(true)
			}
		}
	}
	if ctxErr != nil {
		return Flags{}, fmt.Errorf("run rules: %w", ctxErr)
	}
	var hits []Hit
	for _, h := range results {
		hits = append(hits, h...)
	}
	slices.SortFunc(hits, compareRuleHits)
	return rr.withCollectors(ctx, hits)
}

func compareRuleHits(a, b Hit) int {
	if c := cmp.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	if c := cmp.Compare(ruleNumber(a.Rule), ruleNumber(b.Rule)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Window.From, b.Window.From); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return cmp.Compare(a.Reason, b.Reason)
}

// ruleNumber turns "R12" into 12 for ordering.
func ruleNumber(r string) int {
	n := 0
	for i := 1; i < len(r); i++ {
		n = n*10 + int(r[i]-'0')
	}
	return n
}

// ruleRun holds what every worker shares: the index, the configuration and
// lookups derived once from the links.
type ruleRun struct {
	ix  *Index
	cfg RuleConfig
	// holder maps an instrument to the person holding it (NoNode if none);
	// a few instruments have several holders, the first in ID order wins.
	holder []NodeID
	// trades maps an amount and currency to the sorted times of exchange
	// trades of exactly that amount (R10's order matching).
	trades map[tradeKey][]int64
	// curs reads tenge thresholds in each currency of the index (minor,
	// val); allKZT is set when every amount is in tenge.
	curs   []curScale
	allKZT bool
	// unit is the index's time resolution (Index.TimeUnit).
	unit int64
	// typicalTransfer is the median transfer of the data set in tiyn
	// equivalent (rules_units.go), the yardstick of "small" payments.
	typicalTransfer int64
	// inSum and outSum are each instrument's total received and paid
	// (flowSums), made by the first collector round.
	inSum, outSum []int64
	// verdicts are the analysts' (RunOptions), by reference.
	verdicts map[Ref]VerdictKind
	// flowStats describes the data set's transfer graph for the flow rules
	// (R17–R21): how many instruments transfer at all and their median
	// transfer degree.
	flowStats flowStats
	// scoring is score's scratch, made by the first scoring.
	scoring *scoring
}

type tradeKey struct {
	amount int64
	cur    uint8
}

func newRuleRun(ix *Index, cfg RuleConfig) *ruleRun {
	rr := &ruleRun{ix: ix, cfg: cfg, holder: holders(ix)}
	rr.initUnits()
	if cfg.R10.Enabled {
		rr.trades = make(map[tradeKey][]int64)
		for i := 0; i < ix.TxCount(); i++ {
			e := ix.out[ix.txOutPos[i]]
			if e.Channel == ChannelTrade {
				k := tradeKey{e.Amount, e.Cur}
				rr.trades[k] = append(rr.trades[k], e.Time)
			}
		}
		for _, ts := range rr.trades {
			slices.Sort(ts)
		}
	}
	rr.flowStats = rr.measureFlow()
	return rr
}

// holderOrSelf returns who stands behind an instrument: its holder, or the
// instrument itself when no holder is known.
// workers is the number of goroutines a run's parallel parts use: the
// configured number, else GOMAXPROCS.
func (rr *ruleRun) workers() int {
	if rr.cfg.Workers > 0 {
		return rr.cfg.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (rr *ruleRun) holderOrSelf(id NodeID) NodeID {
	if h := rr.holder[id]; h != NoNode {
		return h
	}
	return id
}

// ruleState is one worker's scratch space and output.
type ruleState struct {
	hits []Hit
	// memo caches the layering chain length per transaction (R13):
	// 0 unknown, 1 none, 2+n a chain of n hops.
	memo      []uint8
	evidEdges []TxEdge
	chanEdges []TxEdge // ofChannel's result
	seen      map[NodeID]int
	window    distinct // R1, R12, R6's sliding windows
	ids       []NodeID
	evid      []uint32
	cycle     []uint32
	onPath    map[NodeID]bool
	flow      flowScratch // R16–R22
}

func (rr *ruleRun) newState() *ruleState {
	st := &ruleState{seen: make(map[NodeID]int), onPath: make(map[NodeID]bool),
		window: distinct{cnt: make([]int32, rr.ix.Len())}}
	if rr.cfg.R13.Enabled {
		st.memo = make([]uint8, rr.ix.TxCount())
	}
	rr.initFlow(&st.flow)
	return st
}

func (st *ruleState) add(h Hit) { st.hits = append(st.hits, h) }

// distinct counts the distinct nodes in a sliding window (fan-in, fan-out,
// ATM runs) without a map: cnt[n] is n's occurrences in the window.
type distinct struct {
	cnt     []int32
	n       int      // distinct nodes in the window
	touched []NodeID // nodes counted since reset
}

func (d *distinct) add(x NodeID) {
	if d.cnt[x] == 0 {
		d.n++
		d.touched = append(d.touched, x)
	}
	d.cnt[x]++
}

func (d *distinct) remove(x NodeID) {
	if d.cnt[x]--; d.cnt[x] == 0 {
		d.n--
	}
}

// reset empties the window.
func (d *distinct) reset() {
	for _, x := range d.touched {
		d.cnt[x] = 0
	}
	d.n, d.touched = 0, d.touched[:0]
}

// isInstrument reports whether a kind holds money of its own.
func isInstrument(k Kind) bool {
	return k == KindCard || k == KindAccount || k == KindWallet
}

// node runs the rules anchored on one node.
func (rr *ruleRun) node(st *ruleState, id NodeID) {
	switch k := rr.ix.Kind(id); {
	case isInstrument(k):
		rr.fanIn(st, id)
		rr.passThrough(st, id)
		rr.structuringCard(st, id)
		rr.newCard(st, id)
		rr.dormant(st, id)
		rr.night(st, id)
		rr.p2p(st, id)
		rr.unlicensed(st, id)
		rr.fanOut(st, id)
		rr.layering(st, id)
		rr.cycles(st, id)
		rr.repeat(st, id)
		rr.listed(st, id)
		rr.cardsPerDay(st, id)
		rr.flowRules(st, id)
	case k == KindPerson:
		rr.multiBank(st, id)
		rr.structuringHolder(st, id)
		rr.unlicensedHolder(st, id)
		rr.listed(st, id)
	case k == KindDevice || k == KindIP || k == KindPhone:
		rr.sharedID(st, id)
	case k == KindATM:
		rr.atmRun(st, id)
	case k == KindExchange:
		rr.exchange(st, id)
	}
}

// evidence returns at most MaxEvidence transaction indexes from edges,
// sorted by time then index.
func (rr *ruleRun) evidence(txs ...[]uint32) []uint32 {
	var out []uint32
	for _, t := range txs {
		out = append(out, t...)
	}
	slices.SortFunc(out, func(a, b uint32) int {
		if c := cmp.Compare(rr.ix.TxTime(a), rr.ix.TxTime(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	out = slices.Compact(out)
	if len(out) > rr.cfg.MaxEvidence {
		out = out[:rr.cfg.MaxEvidence]
	}
	return out
}

// edgeTxs lists the transaction indexes of some edges.
func edgeTxs(es []TxEdge) []uint32 {
	out := make([]uint32, len(es))
	for i, e := range es {
		out[i] = e.Tx
	}
	return out
}

// clamp01 keeps a score within [0, 1].
func clamp01(x float64) float64 { return max(0, min(1, x)) }

// firstAtOrAfter returns the first edge index with Time ≥ t.
func firstAtOrAfter(es []TxEdge, t int64) int {
	// slices.BinarySearchFunc with a closure cost twice this on the large
	// demo, where the flow rules search hubs' edges millions of times.
	lo, hi := 0, len(es)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if es[m].Time < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// firstAfter returns the first edge index with Time > t.
func firstAfter(es []TxEdge, t int64) int {
	return firstAtOrAfter(es, t+1)
}

// isExit reports whether an outgoing edge leaves the banking system: cash at
// an ATM or money paid into an exchange.
func (rr *ruleRun) isExit(e TxEdge) bool {
	if e.Channel == ChannelCashOut {
		return true
	}
	k := rr.ix.Kind(e.Other)
	return k == KindExchange || k == KindATM || k == KindCash
}
