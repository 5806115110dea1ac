package workbench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// Analysis is the in-memory graph index and the rules' result that the
// analytics screens and their CLI twins work on. It is built once (Analyze,
// RunRules) and read-only afterwards, except for the caches behind mu: it is
// safe for concurrent use.
type Analysis struct {
	ix     *graph.Index
	flags  graph.Flags
	byNode map[graph.NodeID]int // index into flags.Risks

	// stamp is the state of the data the index was loaded from, when
	// stamped (Analyze); KeepAnalysis keeps the risks with it.
	stamp   store.Stamp
	stamped bool
	// results is the key of the run in the results file when it was read
	// from it or written to it (flagsfile.go), zero otherwise; reused says
	// it was read.
	results [32]byte
	reused  bool

	mu       sync.Mutex
	clusters map[tui.ClusterOrder][]tui.Cluster
	held     map[graph.NodeID][]int32 // a subject's instruments at risk, as indexes into flags.Risks, once asked for (flags.go)
}

// pathMaxDegree bounds path searches: a node with more counterparties than
// this is infrastructure (a big exchange, a payroll account) and would make
// them explode.
const pathMaxDegree = 2000

// analyze loads the index from the store and runs the rules, reporting
// progress (may be nil) as it goes.
func (b *Workbench) analyze(ctx context.Context, cfg graph.RuleConfig, progress func(stage string, done, total int)) (*Analysis, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	if b.remote != nil {
		return b.analyzeRemote(ctx, cfg, progress)
	}
	// The state of the data before it is read: an import that lands while
	// the index loads leaves the kept analysis stale, never wrongly current.
	st, err := b.db.Stamp()
	if err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	ix, _, err := LoadIndex(ctx, b.db, progress)
	if err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	a, err := b.RunRules(ctx, ix, cfg, func(done, total int) { progress("red-flag rules", done, total) })
	if err != nil {
		return nil, err
	}
	a.stamp, a.stamped = st, true
	return a, nil
}

// newAnalysis wraps an index and its rule results for the screens and the
// CLI twins.
func newAnalysis(ix *graph.Index, flags graph.Flags) *Analysis {
	a := &Analysis{ix: ix, flags: flags, byNode: make(map[graph.NodeID]int, len(flags.Risks)),
		clusters: map[tui.ClusterOrder][]tui.Cluster{}}
	for i, r := range flags.Risks {
		a.byNode[r.Node] = i
	}
	return a
}

// Analyze implements tui.Analytics: the first call builds the analysis, later
// ones return at once. Concurrent callers wait for the first. The analysis
// is kept in the database before it returns (AnalyzeDeferred, then its keep).
func (b *Workbench) Analyze(ctx context.Context, progress func(stage string, done, total int)) error {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	keep, err := b.AnalyzeDeferred(ctx, progress)
	if err != nil || keep == nil {
		return err
	}
	progress("keeping the analysis", 0, 1)
	if err := keep(ctx); err != nil {
		return fmt.Errorf("the analysis ran but was not kept in the database: %w", err)
	}
	progress("keeping the analysis", 1, 1)
	return nil
}

// AnalyzeDeferred implements tui.DeferredKeeper: Analyze, but it returns
// once the analysis is current, with the keep still to run: the TUI shows
// the flags while the risks are written. keep is nil when there is nothing
// to keep: the analysis was current already, the database is read-only
// (another program holds it), or a cluster's risks went back to the
// cluster (analyzeRemote).
func (b *Workbench) AnalyzeDeferred(ctx context.Context, progress func(stage string, done, total int)) (keep func(context.Context) error, err error) {
	b.amu.Lock()
	defer b.amu.Unlock()
	if b.analysis() != nil {
		return nil, nil
	}
	cfg, _, err := b.RuleConfig(ctx)
	if err != nil {
		return nil, err
	}
	a, err := b.analyze(ctx, cfg, progress)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.an = a
	b.mu.Unlock()
	// Kept in the database for every page and later sessions.
	if b.remote != nil || !b.db.Writable() {
		return nil, nil
	}
	return func(ctx context.Context) error {
		b.keepMu.Lock()
		if b.keepsClosed {
			b.keepMu.Unlock()
			return errKeepsClosed
		}
		b.keeps.Add(1)
		b.keeping++
		b.keepMu.Unlock()
		defer func() {
			b.keepMu.Lock()
			b.keeping--
			b.keepMu.Unlock()
			b.keeps.Done()
		}()
		_, err := b.KeepAnalysis(ctx, a)
		return err
	}, nil
}

// errKeepsClosed is a deferred keep started after WaitKeeps.
var errKeepsClosed = errors.New("the database is closing")

// WaitKeeps waits for the deferred keeps running (AnalyzeDeferred) and
// refuses new ones: call it before the database closes.
func (b *Workbench) WaitKeeps() {
	b.keepMu.Lock()
	b.keepsClosed = true
	b.keepMu.Unlock()
	b.keeps.Wait()
}

// Keeping reports whether a deferred keep is running.
func (b *Workbench) Keeping() bool {
	b.keepMu.Lock()
	defer b.keepMu.Unlock()
	return b.keeping > 0
}

// dropAnalysis forgets the current analysis after the data changed: the
// next Analyze builds it again.
func (b *Workbench) dropAnalysis() {
	b.amu.Lock()
	defer b.amu.Unlock()
	b.mu.Lock()
	b.an = nil
	b.mu.Unlock()
}

// analysis is the current analysis, nil until Analyze has finished once.
func (b *Workbench) analysis() *Analysis {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.an
}

func (b *Workbench) ready() (*Analysis, error) {
	a := b.analysis()
	if a == nil {
		return nil, tui.ErrNotAnalyzed
	}
	return a, nil
}

// flagRow turns one risk into the row the TUI and the CLI show.
func (a *Analysis) flagRow(r graph.Risk) tui.FlagRow {
	ix := a.ix
	row := tui.FlagRow{Ref: r.Ref, Name: ix.Name(r.Node), Score: r.Score, Explanation: r.Explanation, Typologies: r.Typologies,
		Flagged: r.Score >= a.flags.Threshold}
	for _, rs := range r.Rules {
		fr := tui.FlagRule{Rule: rs.Rule, Score: rs.Score, Context: rs.IsContext()}
		if rs.Via != graph.NoNode {
			fr.Via = ix.Ref(rs.Via)
		}
		row.Rules = append(row.Rules, fr)
	}
	for _, k := range r.Hits {
		h := a.flags.Hits[k]
		fh := tui.FlagHit{Rule: h.Rule, Score: h.Score, Reason: h.Reason, Evidence: make([]string, 0, len(h.Evidence))}
		for _, t := range h.Evidence {
			fh.Evidence = append(fh.Evidence, ix.TxID(t))
		}
		if h.Window.From != 0 || h.Window.To != 0 {
			fh.From, fh.To = time.Unix(h.Window.From, 0).UTC(), time.Unix(h.Window.To, 0).UTC()
		}
		row.Hits = append(row.Hits, fh)
	}
	return row
}

// withHeldHits adds to a subject's row the hits of the instruments it
// holds, each naming its instrument (what its page and the kept analysis
// show).
func (a *Analysis) withHeldHits(row *tui.FlagRow, r graph.Risk) {
	if r.Subject != r.Node {
		return
	}
	for _, i := range a.heldRisks()[r.Node] {
		o := &a.flags.Risks[i]
		for _, k := range o.Hits {
			h := a.flags.Hits[k]
			fh := tui.FlagHit{Rule: h.Rule, Score: h.Score, Reason: h.Reason, On: o.Ref, Evidence: make([]string, 0, len(h.Evidence))}
			for _, t := range h.Evidence {
				fh.Evidence = append(fh.Evidence, a.ix.TxID(t))
			}
			if h.Window.From != 0 || h.Window.To != 0 {
				fh.From, fh.To = time.Unix(h.Window.From, 0).UTC(), time.Unix(h.Window.To, 0).UTC()
			}
			row.Hits = append(row.Hits, fh)
		}
	}
}

// flagList ranks the flagged entities with a hit (own or passed on) of
// rule, or all of them.
func (a *Analysis) flagList(rule string, limit int) tui.FlagList {
	f := a.flags
	l := tui.FlagList{Threshold: f.Threshold}
	for _, r := range f.FlaggedSubjects() {
		l.Flagged++
		if rule != "" && !hasRule(r, rule) {
			continue
		}
		l.Matching++
		if limit <= 0 || len(l.Rows) < limit {
			l.Rows = append(l.Rows, a.flagRow(r))
		}
	}
	return l
}

// Flags implements tui.Analytics.
func (b *Workbench) Flags(ctx context.Context, rule string, limit int) (tui.FlagList, error) {
	a, err := b.ready()
	if err != nil {
		return tui.FlagList{}, err
	}
	l := a.flagList(rule, limit)
	vs, err := b.VerdictMap(ctx)
	if err != nil {
		return tui.FlagList{}, err
	}
	for i := range l.Rows {
		withVerdict(&l.Rows[i], vs)
	}
	return l, ctx.Err()
}

func withVerdict(row *tui.FlagRow, vs map[graph.Ref]graph.Verdict) {
	if v, ok := vs[row.Ref]; ok {
		row.Verdict, row.VerdictNote = v.Kind, v.Note
	}
}

// EntityFlags implements tui.Analytics.
func (b *Workbench) EntityFlags(ctx context.Context, ref graph.Ref) (tui.FlagRow, bool, error) {
	a := b.analysis()
	var row tui.FlagRow
	if a == nil || !b.readWhole(ref) {
		// Before an analysis in this session: the one kept in the database
		// (on a cluster: written back, also for what this session's
		// neighbourhood read only in part).
		kept, ok, err := b.keptRow(ctx, ref)
		if err != nil || !ok {
			return tui.FlagRow{}, false, err
		}
		row = kept
	} else {
		id, ok := a.ix.Lookup(ref)
		if !ok {
			return tui.FlagRow{}, false, nil
		}
		i, ok := a.byNode[id]
		if !ok {
			return tui.FlagRow{}, false, nil
		}
		row = a.flagRow(a.flags.Risks[i])
		a.withHeldHits(&row, a.flags.Risks[i])
	}
	if v, ok, err := b.db.Verdict(ctx, ref); err != nil {
		return tui.FlagRow{}, false, err
	} else if ok {
		row.Verdict, row.VerdictNote = v.Kind, v.Note
	}
	return row, true, nil
}

// Clusters implements tui.Analytics.
func (b *Workbench) Clusters(ctx context.Context, by tui.ClusterOrder, limit int) ([]tui.Cluster, error) {
	a, err := b.ready()
	if err != nil {
		return nil, err
	}
	out, err := a.Groups(ctx, by)
	if err != nil {
		return nil, err
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Groups computes (once per order) the suspected groups: flagged
// entities joined by holdings, shared identifiers and money between flagged
// cards (graph.SuspectedGroups), ordered by the risk of their riskiest member
// or by the money moved inside the group. Both orders list the same groups,
// so toggling the order never changes what the investigator is looking at.
func (a *Analysis) Groups(ctx context.Context, by tui.ClusterOrder) ([]tui.Cluster, error) {
	if by != tui.ByRisk && by != tui.ByTurnover {
		return nil, fmt.Errorf("clusters: unknown order %q (want turnover or risk)", by)
	}
	a.mu.Lock()
	cached, ok := a.clusters[by]
	a.mu.Unlock()
	if ok {
		return cached, nil
	}
	groups, err := graph.SuspectedGroups(ctx, a.ix, a.flags)
	if err != nil {
		return nil, err
	}
	out := make([]tui.Cluster, 0, len(groups))
	for _, g := range groups {
		c := a.cluster(g.Persons, g.Instruments)
		c.Risk, c.Flagged = g.Risk, g.Flagged
		out = append(out, c)
	}
	if by == tui.ByTurnover {
		slices.SortStableFunc(out, func(x, y tui.Cluster) int {
			if c := cmp.Compare(y.Turnover, x.Turnover); c != 0 {
				return c
			}
			return cmp.Compare(y.Risk, x.Risk)
		})
	}
	a.mu.Lock()
	a.clusters[by] = out
	a.mu.Unlock()
	return out, nil
}

// cluster describes a group: its members riskiest first (persons, then
// instruments), the money moved between its instruments, its risk.
func (a *Analysis) cluster(persons, instruments []graph.NodeID) tui.Cluster {
	ix := a.ix
	c := tui.Cluster{Persons: len(persons), Instruments: len(instruments)}
	member := func(n graph.NodeID) tui.ClusterMember {
		mb := tui.ClusterMember{Ref: ix.Ref(n), Name: ix.Name(n)}
		if i, ok := a.byNode[n]; ok {
			mb.Risk = a.flags.Risks[i].Score
			mb.Flagged = mb.Risk >= a.flags.Threshold
		}
		return mb
	}
	byRisk := func(x, y tui.ClusterMember) int {
		if c := cmp.Compare(y.Risk, x.Risk); c != 0 {
			return c
		}
		return cmp.Compare(x.Ref.String(), y.Ref.String())
	}
	var ps, is []tui.ClusterMember
	for _, n := range persons {
		ps = append(ps, member(n))
	}
	in := make(map[graph.NodeID]bool, len(instruments))
	for _, n := range instruments {
		is = append(is, member(n))
		in[n] = true
	}
	slices.SortFunc(ps, byRisk)
	slices.SortFunc(is, byRisk)
	c.Members = append(ps, is...)
	for _, mb := range c.Members {
		c.Risk = max(c.Risk, mb.Risk)
		if mb.Flagged {
			c.Flagged++
		}
	}
	var first, last int64
	for _, n := range instruments {
		for _, e := range ix.OutTx(n) {
			if !in[e.Other] {
				continue
			}
			c.Turnover = graph.AddSat(c.Turnover, e.Amount)
			c.TxCount++
			if first == 0 || e.Time < first {
				first = e.Time
			}
			last = max(last, e.Time)
		}
	}
	if c.TxCount > 0 {
		c.First, c.Last = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
	}
	return c
}

// lookup finds the node of ref.
func (a *Analysis) lookup(ref graph.Ref) (graph.NodeID, error) {
	id, ok := a.ix.Lookup(ref)
	if !ok {
		return graph.NoNode, fmt.Errorf("%s: %w", ref, graph.ErrNotFound)
	}
	return id, nil
}

// Paths implements tui.Analytics.
func (b *Workbench) Paths(ctx context.Context, from, to graph.Ref, k, maxHops int) ([]tui.PathRow, error) {
	a, err := b.ready()
	if err != nil {
		return nil, err
	}
	return a.paths(ctx, from, to, k, maxHops)
}

func (a *Analysis) paths(ctx context.Context, from, to graph.Ref, k, maxHops int) ([]tui.PathRow, error) {
	na, err := a.lookup(from)
	if err != nil {
		return nil, err
	}
	nb, err := a.lookup(to)
	if err != nil {
		return nil, err
	}
	ps, err := graph.KShortestPaths(ctx, a.ix, na, nb, graph.PathOptions{MaxHops: maxHops, MaxDegree: pathMaxDegree}, k)
	if err != nil {
		return nil, err
	}
	ix := a.ix
	out := make([]tui.PathRow, 0, len(ps))
	for _, p := range ps {
		row := tui.PathRow{Steps: make([]tui.PathStep, 0, len(p))}
		for i, s := range p {
			st := tui.PathStep{Ref: ix.Ref(s.Node), Name: ix.Name(s.Node), Money: s.Money, Forward: s.Forward}
			if i > 0 {
				if s.Money {
					st.Relation = ix.TxChannel(s.Tx).String()
					st.Amount, st.Time, st.TxID = s.Amount, time.Unix(s.Time, 0).UTC(), ix.TxID(s.Tx)
				} else {
					st.Relation = s.Link.String()
				}
			}
			row.Steps = append(row.Steps, st)
		}
		out = append(out, row)
	}
	return out, nil
}

// TraceStartAt is where a trace from node n starts: a person or
// organisation that holds instruments from all of them at once
// (graph.StartAtHolder), any other node from itself.
func TraceStartAt(ix *graph.Index, n graph.NodeID) graph.TraceStart {
	if held := heldInstruments(ix, n); len(held) > 0 {
		return graph.StartAtHolder(n, held)
	}
	return graph.StartAtNode(n)
}

// heldInstruments are the instruments n holds, when n is a person or an
// organisation (holds links).
func heldInstruments(ix *graph.Index, n graph.NodeID) []graph.NodeID {
	if k := ix.Kind(n); k != graph.KindPerson && k != graph.KindOrganisation {
		return nil
	}
	var held []graph.NodeID
	for _, l := range ix.Links(n) {
		if l.Out && l.Type == graph.LinkHolds {
			held = append(held, l.Other)
		}
	}
	return held
}

// Trace implements tui.Analytics.
func (b *Workbench) Trace(ctx context.Context, q tui.TraceQuery) (tui.TraceTree, error) {
	a, err := b.ready()
	if err != nil {
		return tui.TraceTree{}, err
	}
	return a.trace(ctx, q)
}

func (a *Analysis) trace(ctx context.Context, q tui.TraceQuery) (tui.TraceTree, error) {
	ix := a.ix
	var start graph.TraceStart
	if q.TxID != "" {
		t, ok := ix.LookupTx(q.TxID)
		if !ok {
			return tui.TraceTree{}, fmt.Errorf("transaction %s: %w", q.TxID, graph.ErrNotFound)
		}
		start = graph.StartAtTx(t)
	} else {
		n, err := a.lookup(q.Ref)
		if err != nil {
			return tui.TraceTree{}, err
		}
		start = TraceStartAt(ix, n)
	}
	tr, err := graph.Trace(ctx, ix, start, graph.TraceOptions{Forward: !q.Backward, MaxHops: q.MaxHops,
		MaxDwell: q.MaxDwell, Proportional: q.Proportional})
	if err != nil {
		return tui.TraceTree{}, err
	}
	out := tui.TraceTree{Backward: q.Backward, Truncated: tr.Truncated, Nodes: make([]tui.TraceNode, 0, len(tr.Hops))}
	for _, h := range tr.Hops {
		n := tui.TraceNode{Ref: ix.Ref(h.Node), Name: ix.Name(h.Node), Amount: h.Amount, Dwell: h.Dwell,
			Depth: h.Depth, Parent: h.Parent, Children: h.Children, Stayed: h.Stayed, Lost: h.Lost}
		if h.End != graph.EndNone {
			n.End = h.End.String()
		}
		if h.HasTx {
			n.TxID, n.Channel, n.Time = ix.TxID(h.Tx), ix.TxChannel(h.Tx).String(), time.Unix(h.Time, 0).UTC()
		}
		out.Nodes = append(out.Nodes, n)
	}
	for _, e := range []graph.EndKind{graph.EndCash, graph.EndExchange, graph.EndStayed, graph.EndUnknown} {
		s := tr.ByEnd[e]
		out.Ends = append(out.Ends, tui.TraceEnd{End: e.String(), Hops: s.Hops, Amount: s.Amount})
	}
	return out, nil
}
