package tui

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"casegraph/graph"
)

// fakeAnalytics is the analytics half of the fake backend: the flags are
// written out for the Almaty case, clusters, paths and traces are computed
// from the fake's links and transactions.
type fakeAnalytics struct {
	ready   bool
	block   bool // Analyze waits for its context to be cancelled
	calls   int
	queries []TraceQuery
	// kept is an analysis kept in the database by an earlier session: before
	// Analyze, EntityFlags and RiskMarks answer from it.
	kept *KeptInfo
	// many adds that many flagged persons after the Almaty case's rows;
	// limits are the limits Flags was asked with.
	many   int
	limits []int
}

const fakeThreshold = 0.5

// fakeTxIDs lists the ids of the transactions of ref on channel, in time order.
func (f *fakeBackend) fakeTxIDs(ref graph.Ref, ch graph.Channel, n int) []string {
	var out []string
	for _, t := range f.txns {
		if (t.From == ref || t.To == ref) && t.Channel == ch && len(out) < n {
			out = append(out, t.ID)
		}
	}
	return out
}

func (f *fakeBackend) fakeFlags() []FlagRow {
	day := func(d int) time.Time { return time.Date(2025, 3, d, 4, 0, 0, 0, time.UTC) }
	r3 := FlagHit{Rule: "R3", Score: 0.8, Reason: "3 top-ups of 495–499k ₸ without IIN in 3 days",
		Evidence: f.fakeTxIDs(refCard, graph.ChannelTopup, 3), From: day(1), To: day(3)}
	r11 := FlagHit{Rule: "R11", Score: 0.6, Reason: "2 trades with unlicensed ТенгеОбмен24",
		Evidence: f.fakeTxIDs(refCard, graph.ChannelTrade, 2), From: day(1), To: day(2)}
	return append([]FlagRow{
		{Ref: refCard, Score: 0.92, Rules: []FlagRule{{Rule: "R3", Score: 0.8}, {Rule: "R11", Score: 0.6}},
			Explanation: r3.Reason + "; " + r11.Reason, Hits: []FlagHit{r3, r11}, Typologies: 2},
		{Ref: refAkhmetov, Name: f.name(refAkhmetov), Score: 0.82,
			Rules:       []FlagRule{{Rule: "R3", Score: 0.64, Via: refCard}, {Rule: "R11", Score: 0.48, Via: refCard}},
			Explanation: "holds a card with " + r3.Reason, Typologies: 2},
		{Ref: refExchange, Name: f.name(refExchange), Score: 0.6, Rules: []FlagRule{{Rule: "R11", Score: 0.6}}, Typologies: 1,
			Explanation: "not in the AFSA register",
			Hits:        []FlagHit{{Rule: "R11", Score: 0.6, Reason: "not in the AFSA register", Evidence: f.fakeTxIDs(refExchange, graph.ChannelTrade, 5)}}},
		{Ref: refCard2, Score: 0.4, Rules: []FlagRule{{Rule: "R10", Score: 0.4}}, Explanation: "card-to-card credits marked USDT P2P"},
	}, f.manyFlags()...)
}

// manyFlags are f.ana.many flagged persons, "Дроп 0001" on, by R18.
func (f *fakeBackend) manyFlags() []FlagRow {
	out := make([]FlagRow, f.ana.many)
	for i := range out {
		out[i] = FlagRow{Ref: graph.Ref{Kind: graph.KindPerson, Key: fmt.Sprintf("99%010d", i+1)}, Name: fmt.Sprintf("Дроп %04d", i+1),
			Score: 0.55, Rules: []FlagRule{{Rule: "R18", Score: 0.55}}, Typologies: 1, Explanation: "fan-in from many cards"}
	}
	return out
}

func (f *fakeBackend) Analyze(ctx context.Context, progress func(stage string, done, total int)) error {
	f.mu.Lock()
	f.ana.calls++
	block := f.ana.block
	f.mu.Unlock()
	if block {
		progress("loading graph", 1, 3)
		<-ctx.Done()
		return ctx.Err()
	}
	for i := 1; i <= 3; i++ {
		progress("loading graph", i, 3)
	}
	progress("red-flag rules", len(f.ents), len(f.ents))
	f.mu.Lock()
	f.ana.ready = true
	f.mu.Unlock()
	return nil
}

func (f *fakeBackend) analysed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ana.ready {
		return ErrNotAnalyzed
	}
	return nil
}

func (f *fakeBackend) Flags(_ context.Context, rule string, limit int) (FlagList, error) {
	if err := f.analysed(); err != nil {
		return FlagList{}, err
	}
	f.mu.Lock()
	f.ana.limits = append(f.ana.limits, limit)
	f.mu.Unlock()
	l := FlagList{Threshold: fakeThreshold}
	for _, r := range f.fakeFlags() {
		if r.Score < fakeThreshold {
			continue
		}
		l.Flagged++
		if rule != "" && !slices.ContainsFunc(r.Rules, func(rs FlagRule) bool { return rs.Rule == rule }) {
			continue
		}
		l.Matching++
		if limit == 0 || len(l.Rows) < limit {
			l.Rows = append(l.Rows, f.withVerdict(r))
		}
	}
	return l, nil
}

func (f *fakeBackend) EntityFlags(_ context.Context, ref graph.Ref) (FlagRow, bool, error) {
	kept := f.keptInfo()
	if err := f.analysed(); err != nil && kept == nil {
		return FlagRow{}, false, err
	} else if err == nil {
		kept = nil
	}
	for _, r := range f.fakeFlags() {
		if r.Ref == ref {
			r.Kept, r.Flagged = kept, r.Score >= fakeThreshold
			return f.withVerdict(r), true, nil
		}
	}
	return FlagRow{}, false, nil
}

func (f *fakeBackend) keptInfo() *KeptInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ana.kept
}

func (f *fakeBackend) RiskMarks(_ context.Context, refs []graph.Ref) (map[graph.Ref]graph.RiskMark, error) {
	kept := f.keptInfo()
	if f.analysed() != nil && kept == nil {
		return nil, nil
	}
	out := map[graph.Ref]graph.RiskMark{}
	for _, r := range f.fakeFlags() {
		if slices.Contains(refs, r.Ref) {
			out[r.Ref] = graph.RiskMark{Known: true, Score: r.Score, Flagged: r.Score >= fakeThreshold, Stale: kept != nil && kept.Stale}
		}
	}
	return out, nil
}

func (f *fakeBackend) Clusters(_ context.Context, by ClusterOrder, limit int) ([]Cluster, error) {
	if err := f.analysed(); err != nil {
		return nil, err
	}
	risk := map[graph.Ref]float64{}
	for _, r := range f.fakeFlags() {
		risk[r.Ref] = r.Score
	}
	mk := func(refs ...graph.Ref) Cluster {
		var c Cluster
		in := map[graph.Ref]bool{}
		for _, r := range refs {
			in[r] = true
			c.Members = append(c.Members, ClusterMember{Ref: r, Name: f.name(r), Risk: risk[r], Flagged: risk[r] >= fakeThreshold})
			if r.Kind == graph.KindPerson {
				c.Persons++
			} else {
				c.Instruments++
			}
			c.Risk = max(c.Risk, risk[r])
			if risk[r] >= fakeThreshold {
				c.Flagged++
			}
		}
		sort.SliceStable(c.Members, func(i, j int) bool {
			a, b := c.Members[i], c.Members[j]
			if (a.Ref.Kind == graph.KindPerson) != (b.Ref.Kind == graph.KindPerson) {
				return a.Ref.Kind == graph.KindPerson
			}
			return a.Risk > b.Risk
		})
		for _, t := range f.txns {
			if in[t.From] && in[t.To] {
				c.Turnover += t.Amount
				c.TxCount++
				if c.First.IsZero() {
					c.First = t.Time
				}
				c.Last = t.Time
			}
		}
		return c
	}
	out := []Cluster{
		mk(refAkhmetov, refOmirbekov, refCard, refCard2),
		mk(refAigerim, refExchange, refCard),
	}
	if by == ByRisk {
		out = out[:1]
		for i := range out {
			out[i].Turnover, out[i].TxCount = 0, 0
		}
	} else {
		sort.SliceStable(out, func(i, j int) bool { return out[i].Turnover > out[j].Turnover })
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// fakeEdge is one undirected step of the fake graph.
type fakeEdge struct {
	to  graph.Ref
	rel string
	fwd bool
	tx  *graph.Txn
}

func (f *fakeBackend) edges(r graph.Ref) []fakeEdge {
	var out []fakeEdge
	seen := map[string]bool{}
	add := func(e fakeEdge) {
		k := e.to.String() + e.rel
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	for _, l := range f.links {
		if l.From == r {
			add(fakeEdge{to: l.To, rel: l.Type.String(), fwd: true})
		}
		if l.To == r {
			add(fakeEdge{to: l.From, rel: l.Type.String()})
		}
	}
	for i := range f.txns {
		t := &f.txns[i]
		if t.From == r {
			add(fakeEdge{to: t.To, rel: t.Channel.String(), fwd: true, tx: t})
		}
		if t.To == r {
			add(fakeEdge{to: t.From, rel: t.Channel.String(), tx: t})
		}
	}
	return out
}

func (f *fakeBackend) Paths(ctx context.Context, a, b graph.Ref, k, maxHops int) ([]PathRow, error) {
	if err := f.analysed(); err != nil {
		return nil, err
	}
	var out []PathRow
	on := map[graph.Ref]bool{a: true}
	cur := []PathStep{{Ref: a, Name: f.name(a)}}
	var dfs func(v graph.Ref)
	dfs = func(v graph.Ref) {
		if v == b {
			out = append(out, PathRow{Steps: slices.Clone(cur)})
			return
		}
		if len(cur) > maxHops {
			return
		}
		for _, e := range f.edges(v) {
			if on[e.to] || e.to == graph.CashRef {
				continue
			}
			s := PathStep{Ref: e.to, Name: f.name(e.to), Relation: e.rel, Forward: e.fwd}
			if e.tx != nil {
				s.Money, s.Amount, s.Time, s.TxID = true, e.tx.Amount, e.tx.Time, e.tx.ID
			}
			on[e.to] = true
			cur = append(cur, s)
			dfs(e.to)
			cur = cur[:len(cur)-1]
			on[e.to] = false
		}
	}
	dfs(a)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Hops() < out[j].Hops() })
	if len(out) > k {
		out = out[:k]
	}
	return out, ctx.Err()
}

func (f *fakeBackend) Trace(ctx context.Context, q TraceQuery) (TraceTree, error) {
	if err := f.analysed(); err != nil {
		return TraceTree{}, err
	}
	f.mu.Lock()
	f.ana.queries = append(f.ana.queries, q)
	f.mu.Unlock()
	hops := q.MaxHops
	if hops <= 0 {
		hops = graph.DefaultTraceHops
	}
	tree := TraceTree{Backward: q.Backward}
	root := TraceNode{Ref: q.Ref, Name: f.name(q.Ref), Parent: -1}
	if q.TxID != "" {
		i := slices.IndexFunc(f.txns, func(t graph.Txn) bool { return t.ID == q.TxID })
		if i < 0 {
			return TraceTree{}, fmt.Errorf("transaction %s: %w", q.TxID, graph.ErrNotFound)
		}
		t := f.txns[i]
		root.TxID, root.Amount, root.Time, root.Channel = t.ID, t.Amount, t.Time, t.Channel.String()
		root.Ref = t.To
		if q.Backward {
			root.Ref = t.From
		}
		root.Name = f.name(root.Ref)
	}
	tree.Nodes = append(tree.Nodes, root)
	var grow func(i int)
	grow = func(i int) {
		n := tree.Nodes[i]
		switch n.Ref.Kind {
		case graph.KindATM, graph.KindCash:
			tree.Nodes[i].End = "cash"
			return
		case graph.KindExchange:
			tree.Nodes[i].End = "exchange"
			return
		}
		if n.Depth >= hops {
			tree.Nodes[i].End, tree.Nodes[i].Lost = "unknown", n.Amount
			return
		}
		var next []graph.Txn
		for _, t := range f.txns {
			if !q.Backward && t.From == n.Ref && t.Time.After(n.Time) || q.Backward && t.To == n.Ref && (n.Time.IsZero() || t.Time.Before(n.Time)) {
				next = append(next, t)
			}
		}
		if q.Backward {
			slices.Reverse(next)
		}
		next = next[:min(len(next), 3)]
		if len(next) == 0 {
			tree.Nodes[i].End, tree.Nodes[i].Stayed = "stayed", n.Amount
			return
		}
		for _, t := range next {
			c := TraceNode{Ref: t.To, TxID: t.ID, Channel: t.Channel.String(), Amount: t.Amount, Time: t.Time, Depth: n.Depth + 1, Parent: i}
			if q.Backward {
				c.Ref = t.From
			}
			c.Name = f.name(c.Ref)
			if !n.Time.IsZero() {
				c.Dwell = t.Time.Sub(n.Time).Abs()
			}
			tree.Nodes = append(tree.Nodes, c)
			ci := len(tree.Nodes) - 1
			tree.Nodes[i].Children = append(tree.Nodes[i].Children, ci)
			if i == 0 && q.TxID == "" {
				tree.Nodes[0].Amount += t.Amount
			}
			grow(ci)
		}
	}
	grow(0)
	ends := map[string]*TraceEnd{}
	for _, n := range tree.Nodes {
		if n.End == "" {
			continue
		}
		if ends[n.End] == nil {
			ends[n.End] = &TraceEnd{End: n.End}
		}
		ends[n.End].Hops++
		ends[n.End].Amount += n.Amount
	}
	for _, e := range []string{"cash", "exchange", "stayed", "unknown"} {
		if ends[e] != nil {
			tree.Ends = append(tree.Ends, *ends[e])
		}
	}
	return tree, ctx.Err()
}
