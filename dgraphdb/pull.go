package dgraphdb

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"casegraph/graph"
)

// Pulling a neighbourhood.
//
// The analyses (red flags, suspected groups, paths, money traces) run on an
// in-memory graph index of a casegraph store. A national data set does not
// fit one machine, a case does: Pull reads the neighbourhood an investigator
// names (seeds and k hops around them, optionally inside a time window) hop
// by hop, one batched multi-uid query per hop (in chunks of pullChunk
// nodes), and returns it as records the store's loader takes
// (workbench.PullInto), so the existing analyses run on it unchanged.
//
// A hop expands every node of its frontier: all its links and all its
// transactions in the window (both directions) come in, and the nodes at
// their other ends form the next frontier. After Hops hops the last frontier
// is the boundary: its entities are read, their own links and transactions
// are not. So a 1-hop pull holds the seeds, their neighbours and the seeds'
// links and transactions, and no transaction between two neighbours.
//
// Follow narrows which edges extend the frontier (a money trace forward
// follows sent money only, later than the money reached the node: a
// time-respecting trail); an expanded node still brings all its links and
// transactions in, because a trace's ledger needs its other inflows too.

// Follow says which edges of an expanded node extend the frontier.
type Follow uint8

// Follow modes.
const (
	FollowAll Follow = iota // links and transactions both ways
	// FollowOut follows sent money only, and only a payment no earlier
	// than the earliest payment by which money reached the node (seeds:
	// any time): the next hop of a forward trace.
	FollowOut
	// FollowIn follows received money only, no later than the latest
	// payment the node made (seeds: any time): a backward trace.
	FollowIn
)

// Pull budgets by default.
const (
	DefaultPullNodes = 20_000
	DefaultPullTxns  = 200_000
)

// pullChunk is how many frontier nodes one query expands.
const pullChunk = 500

// PullOptions say what to pull.
type PullOptions struct {
	Seeds []graph.Ref
	Hops  int // hops around the seeds, ≥ 0
	// From and To bound the transactions pulled, [From, To); zero is open.
	// Links are not timed: they are always pulled.
	From, To time.Time
	Follow   Follow
	// MaxNodes and MaxTxns bound the pull; 0 means DefaultPullNodes,
	// DefaultPullTxns. A pull that would exceed one fails with a
	// *BudgetError before it reads the records past it.
	MaxNodes, MaxTxns int
	// Progress, when set, is called after each chunk of a hop.
	Progress func(hop, hops, nodes, txns int)
}

// Subgraph is a pulled neighbourhood: the records as the cluster holds them.
type Subgraph struct {
	Entities []graph.Entity // by reference; nodes only referenced have none
	Links    []graph.Link
	Txns     []graph.Txn   // by time, then id
	Batches  []graph.Batch // every import batch of the cluster (provenance, time zones)
	// Expanded are the nodes whose links and transactions in the window are
	// all in the subgraph (distance < Hops); the others are the boundary.
	Expanded []graph.Ref
	Nodes    int // nodes reached, expanded or not
	HopsDone int
	// LastBatch is the cluster's last import batch before the pull read
	// anything (LastBatch): a risk computed on the subgraph is stale once
	// the cluster has a later one (PutRisks).
	LastBatch uint32
}

// BudgetError says which budget a pull exceeded.
type BudgetError struct {
	What    string // "nodes" or "transactions"
	Limit   int
	Reached int // at least this many at that hop
	Hop     int
}

func (e *BudgetError) Error() string {
	flag := "--max-nodes"
	if e.What == "transactions" {
		flag = "--max-txns"
	}
	return fmt.Sprintf("pull: the budget of %d %s is exceeded at hop %d (at least %d): pull fewer hops, a shorter --from/--to window or fewer seeds, or raise %s",
		e.Limit, e.What, e.Hop, e.Reached, flag)
}

// pullNode is a node reached by a pull.
type pullNode struct {
	uid      string
	ref      graph.Ref
	queued   bool // in a frontier: expanded, or to be
	expanded bool
	// bound is the time limit a trail through the node respects: the
	// earliest arrival (FollowOut) or the latest departure (FollowIn).
	bound    time.Time
	hasBound bool
	// trail are, once the node is expanded, the payments a trail may
	// follow from it (FollowOut: sent, FollowIn: received): a bound that
	// moves later (money reached the node earlier by another way) lets
	// more of them on.
	trail []trailEdge
}

// trailEdge is a payment a trail may follow: to (or from) other, at time.
type trailEdge struct {
	other *pullNode
	time  time.Time
}

// follows reports whether a trail through n follows a payment at t.
func (p *puller) follows(n *pullNode, t time.Time) bool {
	if !n.hasBound {
		return true
	}
	if p.opt.Follow == FollowOut {
		return !t.Before(n.bound)
	}
	return !t.After(n.bound)
}

// node returns the node of uid, adding it.
func (p *puller) node(uid string, ref graph.Ref) *pullNode {
	n := p.nodes[uid]
	if n == nil {
		n = &pullNode{uid: uid, ref: ref}
		p.nodes[uid] = n
	}
	return n
}

// reach records that an expanded node's edge leads to n: the next hop
// expands n when extend. On a trail (FollowOut, FollowIn), the payment at
// t moves n's bound; when n was expanded already, the payments of its
// trail the new bound lets on reach their other ends.
func (p *puller) reach(n *pullNode, extend bool, t time.Time) {
	if !extend {
		return
	}
	if p.opt.Follow != FollowAll {
		old, had := n.bound, n.hasBound
		switch {
		case !n.hasBound:
			n.bound, n.hasBound = t, true
		case p.opt.Follow == FollowOut && t.Before(n.bound):
			n.bound = t
		case p.opt.Follow == FollowIn && t.After(n.bound):
			n.bound = t
		}
		if n.expanded && (!had || !n.bound.Equal(old)) {
			prev := &pullNode{bound: old, hasBound: had}
			for _, e := range n.trail {
				if p.follows(n, e.time) && !p.follows(prev, e.time) {
					p.reach(e.other, true, e.time)
				}
			}
		}
	}
	if !n.queued {
		n.queued = true
		p.next = append(p.next, n)
	}
}

// Pull reads the neighbourhood opt names (see the package comment above).
func (db *DB) Pull(ctx context.Context, opt PullOptions) (*Subgraph, error) {
	if opt.Hops < 0 {
		return nil, fmt.Errorf("pull: hops must be ≥ 0")
	}
	if len(opt.Seeds) == 0 {
		return nil, fmt.Errorf("pull: no seeds")
	}
	if opt.MaxNodes <= 0 {
		opt.MaxNodes = DefaultPullNodes
	}
	if opt.MaxTxns <= 0 {
		opt.MaxTxns = DefaultPullTxns
	}
	last, err := db.LastBatch(ctx)
	if err != nil {
		return nil, err
	}
	months, err := db.Months(ctx)
	if err != nil {
		return nil, err
	}
	months = windowMonths(months, opt.From, opt.To)
	filter := filterOf(graph.TxQuery{From: opt.From, To: opt.To})

	p := &puller{db: db, opt: opt, months: months, filter: filter,
		nodes: map[string]*pullNode{}, txns: map[string]graph.Txn{}, links: map[linkKey]graph.Link{}}
	frontier, err := p.seeds(ctx)
	if err != nil {
		return nil, err
	}
	sg := &Subgraph{LastBatch: last}
	for hop := 1; hop <= opt.Hops && len(frontier) > 0; hop++ {
		p.next = nil
		for lo := 0; lo < len(frontier); lo += pullChunk {
			chunk := frontier[lo:min(len(frontier), lo+pullChunk)]
			if err := p.expand(ctx, hop, chunk); err != nil {
				return nil, err
			}
			if opt.Progress != nil {
				opt.Progress(hop, opt.Hops, len(p.nodes), len(p.txns))
			}
		}
		sg.HopsDone = hop
		frontier = p.next
	}
	if err := p.entities(ctx, sg); err != nil {
		return nil, err
	}
	if sg.Batches, err = db.batches(ctx); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(p.links) {
		sg.Links = append(sg.Links, p.links[k])
	}
	for _, t := range p.txns {
		sg.Txns = append(sg.Txns, t)
	}
	slices.SortFunc(sg.Txns, func(a, b graph.Txn) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(sortID(a.ID), sortID(b.ID))
	})
	for _, n := range p.nodes {
		if n.expanded {
			sg.Expanded = append(sg.Expanded, n.ref)
		}
	}
	slices.SortFunc(sg.Expanded, refCmp)
	sg.Nodes = len(p.nodes)
	return sg, nil
}

func refCmp(a, b graph.Ref) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	return strings.Compare(a.Key, b.Key)
}

type linkKey struct {
	from, to graph.Ref
	typ      graph.LinkType
}

func sortedKeys(m map[linkKey]graph.Link) []linkKey {
	keys := make([]linkKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b linkKey) int {
		if c := refCmp(a.from, b.from); c != 0 {
			return c
		}
		if c := refCmp(a.to, b.to); c != 0 {
			return c
		}
		return cmp.Compare(a.typ, b.typ)
	})
	return keys
}

// windowMonths keeps the month buckets that overlap [from, to).
func windowMonths(months []string, from, to time.Time) []string {
	var out []string
	for _, m := range months {
		start := time.Date(monthIndex(m)/12, time.Month(monthIndex(m)%12+1), 1, 0, 0, 0, 0, time.UTC)
		end := start.AddDate(0, 1, 0)
		if !to.IsZero() && !start.Before(to) || !from.IsZero() && !end.After(from) {
			continue
		}
		out = append(out, m)
	}
	return out
}

type puller struct {
	db     *DB
	opt    PullOptions
	months []string
	filter txFilter
	nodes  map[string]*pullNode // by uid
	txns   map[string]graph.Txn // by id
	links  map[linkKey]graph.Link
	next   []*pullNode // the next hop's frontier
}

// seeds looks the seeds up: one query.
func (p *puller) seeds(ctx context.Context) ([]*pullNode, error) {
	ids := make([]string, len(p.opt.Seeds))
	for i, r := range p.opt.Seeds {
		ids[i] = quote(refID(r))
	}
	var out struct {
		S []refJSON `json:"s"`
	}
	q := fmt.Sprintf(`{ s(func: eq(%s, [%s])) { %s } }`, predRef, strings.Join(ids, ","), refFields)
	if err := p.db.query(ctx, q, nil, &out); err != nil {
		return nil, fmt.Errorf("pull: look up the seeds: %w", err)
	}
	found := map[graph.Ref]string{}
	for _, s := range out.S {
		found[s.ref()] = s.UID
	}
	var frontier []*pullNode
	for _, r := range p.opt.Seeds {
		uid, ok := found[r]
		if !ok {
			return nil, fmt.Errorf("pull: seed %s: %w", r, graph.ErrNotFound)
		}
		if p.nodes[uid] == nil {
			n := p.node(uid, r)
			n.queued = true
			frontier = append(frontier, n)
		}
	}
	if len(p.nodes) > p.opt.MaxNodes {
		return nil, &BudgetError{What: "nodes", Limit: p.opt.MaxNodes, Reached: len(p.nodes), Hop: 0}
	}
	return frontier, nil
}

// pullTx is a transaction as a hop reads it.
type pullTx struct {
	Rec  string `json:"rec"`
	From struct {
		UID string `json:"uid"`
	} `json:"from"`
	To struct {
		UID string `json:"uid"`
	} `json:"to"`
}

// expand expands a chunk of the frontier: first it counts the chunk's
// transactions in the window (so a hub's millions are refused before they
// are read), then reads its links and transactions. The nodes the next hop
// is to expand go to p.next.
func (p *puller) expand(ctx context.Context, hop int, chunk []*pullNode) error {
	uids := make([]string, len(chunk))
	for i, n := range chunk {
		uids[i] = n.uid
		n.expanded = true
	}
	list := strings.Join(uids, ", ")
	edges, err := p.countEdges(ctx, list)
	if err != nil {
		return fmt.Errorf("pull: count hop %d: %w", hop, err)
	}
	// Each transaction hangs off both its ends, so the chunk holds at least
	// edges/2 distinct transactions: more than the budget is refused before
	// a record is read.
	if edges/2 > p.opt.MaxTxns {
		return &BudgetError{What: "transactions", Limit: p.opt.MaxTxns, Reached: edges / 2, Hop: hop}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{ f(func: uid(%s)) { uid\n", list)
	for _, t := range linkTypes {
		for _, pr := range []string{predLinkOut, predLinkIn} {
			fmt.Fprintf(&b, "  %s%s @facets(role, src) { %s }\n", pr, t, refFields)
		}
	}
	for _, m := range p.months {
		for _, pr := range []string{predSent, predRecv} {
			fmt.Fprintf(&b, "  %s_%s: %s%s%s { rec: %s from: %s { uid } to: %s { uid } }\n", pr[:1], m, pr, m, p.filter.at(m),
				txPred(m, fRec), txPred(m, fFrom), txPred(m, fTo))
		}
	}
	b.WriteString("} }")
	var out struct {
		F []map[string]json.RawMessage `json:"f"`
	}
	if err := p.db.query(ctx, b.String(), nil, &out); err != nil {
		return fmt.Errorf("pull: hop %d: %w", hop, err)
	}
	for _, f := range out.F {
		var self refJSON
		if raw, ok := f["uid"]; ok {
			_ = json.Unmarshal(raw, &self.UID)
		}
		me := p.nodes[self.UID]
		if me == nil {
			continue
		}
		for _, t := range linkTypes {
			for _, pr := range []string{predLinkOut, predLinkIn} {
				raw, ok := f[pr+t.String()]
				if !ok {
					continue
				}
				var others []refJSON
				if err := json.Unmarshal(raw, &others); err != nil {
					return fmt.Errorf("pull: decode %s: %w", pr+t.String(), err)
				}
				var facets []map[string]any
				_ = json.Unmarshal(raw, &facets)
				for i, o := range others {
					l := graph.Link{From: me.ref, To: o.ref(), Type: t}
					if pr == predLinkIn {
						l.From, l.To = o.ref(), me.ref
					}
					if r, ok := facets[i][pr+t.String()+"|role"].(string); ok {
						l.Role = r
					}
					if src, ok := facets[i][pr+t.String()+"|src"].(string); ok {
						if err := json.Unmarshal([]byte(src), &l.Src); err != nil {
							return fmt.Errorf("pull: decode the provenance of a %s link: %w", t, err)
						}
					}
					p.links[linkKey{l.From, l.To, l.Type}] = l
					p.reach(p.node(o.UID, o.ref()), p.opt.Follow == FollowAll, time.Time{})
				}
			}
		}
		for _, m := range p.months {
			for _, pr := range []string{predSent, predRecv} {
				raw, ok := f[pr[:1]+"_"+m]
				if !ok {
					continue
				}
				var rows []pullTx
				if err := json.Unmarshal(raw, &rows); err != nil {
					return fmt.Errorf("pull: decode %s%s: %w", pr, m, err)
				}
				for _, r := range rows {
					t, err := decodeTxn(txRow{Rec: r.Rec})
					if err != nil {
						return fmt.Errorf("pull: %w", err)
					}
					p.txns[t.ID] = t
					other := p.node(r.To.UID, t.To)
					along := p.opt.Follow == FollowAll || p.opt.Follow == FollowOut
					if pr == predRecv {
						other = p.node(r.From.UID, t.From)
						along = p.opt.Follow == FollowAll || p.opt.Follow == FollowIn
					}
					if along && p.opt.Follow != FollowAll {
						me.trail = append(me.trail, trailEdge{other: other, time: t.Time})
					}
					// A trail through a node respects time: money that
					// reached it at some time leaves it later (follows).
					p.reach(other, along && p.follows(me, t.Time), t.Time)
				}
			}
		}
	}
	if len(p.txns) > p.opt.MaxTxns {
		return &BudgetError{What: "transactions", Limit: p.opt.MaxTxns, Reached: len(p.txns), Hop: hop}
	}
	if len(p.nodes) > p.opt.MaxNodes {
		return &BudgetError{What: "nodes", Limit: p.opt.MaxNodes, Reached: len(p.nodes), Hop: hop}
	}
	return nil
}

// entities reads the entities of every node reached, in chunks.
func (p *puller) entities(ctx context.Context, sg *Subgraph) error {
	uids := make([]string, 0, len(p.nodes))
	for u := range p.nodes {
		uids = append(uids, u)
	}
	slices.Sort(uids)
	for lo := 0; lo < len(uids); lo += pullChunk {
		chunk := uids[lo:min(len(uids), lo+pullChunk)]
		var out struct {
			E []entityJSON `json:"e"`
		}
		q := fmt.Sprintf(`{ e(func: uid(%s)) { uid %s %s } }`, strings.Join(chunk, ", "), predEntity, predStub)
		if err := p.db.query(ctx, q, nil, &out); err != nil {
			return fmt.Errorf("pull: read entities: %w", err)
		}
		for _, e := range out.E {
			ent, ok, err := e.entity()
			if err != nil {
				return fmt.Errorf("pull: %w", err)
			}
			if ok {
				sg.Entities = append(sg.Entities, ent)
			}
		}
	}
	slices.SortFunc(sg.Entities, func(a, b graph.Entity) int { return refCmp(a.Ref, b.Ref) })
	return nil
}

// batches reads every import batch, in order.
func (db *DB) batches(ctx context.Context) ([]graph.Batch, error) {
	var out struct {
		B []struct {
			Rec string `json:"cg.batchrec"`
		} `json:"b"`
	}
	q := fmt.Sprintf(`{ b(func: has(%s), orderasc: %s) { %s } }`, predBatch, predBatch, predBatchRec)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return nil, fmt.Errorf("pull: read import batches: %w", err)
	}
	var res []graph.Batch
	for _, r := range out.B {
		var b graph.Batch
		if err := json.Unmarshal([]byte(r.Rec), &b); err != nil {
			return nil, fmt.Errorf("pull: decode batch: %w", err)
		}
		res = append(res, b)
	}
	return res, nil
}

// countEdges counts the month-bucket edges in the window of the nodes of
// list (uids, comma-separated): their transactions, a transaction between
// two of them twice.
func (p *puller) countEdges(ctx context.Context, list string) (int, error) {
	if len(p.months) == 0 {
		return 0, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{ f(func: uid(%s)) { uid\n", list)
	for _, m := range p.months {
		for _, pr := range []string{predSent, predRecv} {
			if f := p.filter.at(m); f == "" {
				fmt.Fprintf(&b, "  %s_%s: count(%s%s)\n", pr[:1], m, pr, m)
			} else {
				fmt.Fprintf(&b, "  %s_%s: %s%s%s { count(uid) }\n", pr[:1], m, pr, m, f)
			}
		}
	}
	b.WriteString("} }")
	var out struct {
		F []map[string]json.RawMessage `json:"f"`
	}
	if err := p.db.query(ctx, b.String(), nil, &out); err != nil {
		return 0, err
	}
	edges := 0
	for _, f := range out.F {
		for k, v := range f {
			if k == "uid" {
				continue
			}
			var n int
			if err := json.Unmarshal(v, &n); err == nil {
				edges += n
				continue
			}
			var rows []struct {
				Count int `json:"count"`
			}
			if err := json.Unmarshal(v, &rows); err != nil {
				return 0, fmt.Errorf("decode %s: %w", k, err)
			}
			for _, r := range rows {
				edges += r.Count
			}
		}
	}
	return edges, nil
}
