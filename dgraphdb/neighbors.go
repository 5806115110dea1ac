package dgraphdb

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"casegraph/backend"
	"casegraph/graph"
)

// Neighbours: per-counterparty summaries, read in one query for one entity
// or for many (PrefetchNeighbors), and a small cache of the prefetched ones.

// relOrder ranks relations as the Badger store does: links in LinkType
// order, then transaction channels in Channel order.
func relOrder(isTxn bool, code uint8) int {
	if isTxn {
		return 256 + int(code)
	}
	return int(code)
}

// Neighbors returns the aggregated edges of ref, as the Badger store does:
// one row per (relation, direction, other entity), links first, then the
// transactions of each channel summed over every month bucket by the cluster
// (@groupby per month, merged here), ordered by relation, then Count
// descending, then reference, then direction; at most limit rows (all when
// limit ≤ 0) with names, and the total row count. It answers from the
// neighbour cache when PrefetchNeighbors read ref recently (nbCache), else
// with one query.
func (db *DB) Neighbors(ctx context.Context, ref graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	rows, ok := db.nb.get(ref)
	if !ok {
		got, err := db.readNeighbors(ctx, []graph.Ref{ref})
		if err != nil {
			return nil, 0, err
		}
		rows = got[ref]
	}
	total := len(rows)
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return cloneNeighbors(rows), total, nil
}

// MaxPrefetch bounds the entities one PrefetchNeighbors reads: the first
// MaxPrefetch references are read, the others are not.
const MaxPrefetch = backend.MaxPrefetch

// prefetchMax is MaxPrefetch (a test lowers it).
var prefetchMax = MaxPrefetch

// PrefetchNeighbors reads the neighbour summaries of refs (the first
// MaxPrefetch of them that the cache does not hold fresh) in one multi-uid
// query (after one query of the months the months cache does not hold,
// which keeps them), and keeps them in the neighbour cache, from which
// Neighbors answers them (issue #12: expanding a node prefetches its
// neighbours' summaries). The caches' staleness rule: docs/DGRAPH.md,
// "Neighbour prefetch" and "Months of an entity".
func (db *DB) PrefetchNeighbors(ctx context.Context, refs []graph.Ref) error {
	var want []graph.Ref
	seen := map[graph.Ref]bool{}
	for _, r := range refs {
		if len(want) == prefetchMax {
			break
		}
		if seen[r] || r.Key == "" {
			continue
		}
		seen[r] = true
		if _, ok := db.nb.get(r); !ok {
			want = append(want, r)
		}
	}
	if len(want) == 0 {
		return nil
	}
	gen := importGen.Load()
	got, err := db.readNeighbors(ctx, want)
	if err != nil {
		return err
	}
	for _, r := range want {
		db.nb.put(r, got[r], gen)
	}
	return nil
}

// readNeighbors reads the full, sorted neighbour rows of refs in one query
// (neighborsQuery) after their months (entityMonths: from the months cache,
// or one query that fills it). A reference the cluster does not hold has no
// rows.
func (db *DB) readNeighbors(ctx context.Context, refs []graph.Ref) (map[graph.Ref][]graph.Neighbor, error) {
	months, err := db.entityMonths(ctx, refs)
	if err != nil {
		return nil, err
	}
	var out map[string]json.RawMessage
	if err := db.query(ctx, neighborsQuery(refs, months), nil, &out); err != nil {
		return nil, fmt.Errorf("read neighbours of %s: %w", refList(refs), err)
	}
	var ents []map[string]json.RawMessage
	if raw, ok := out["e"]; ok {
		if err := json.Unmarshal(raw, &ents); err != nil {
			return nil, fmt.Errorf("read neighbours: decode e: %w", err)
		}
	}
	names := map[string]refJSON{} // the money counterparties, by uid
	// The money rows of each entity (by uid), month by month.
	money := map[string][]moneyRow{}
	for _, m := range months {
		var grouped []map[string]json.RawMessage
		if raw, ok := out["g_"+m]; ok {
			if err := json.Unmarshal(raw, &grouped); err != nil {
				return nil, fmt.Errorf("read neighbours: decode g_%s: %w", m, err)
			}
		}
		for _, g := range grouped {
			var uid string
			_ = json.Unmarshal(g["uid"], &uid)
			for _, d := range []struct {
				alias string
				dir   graph.Direction
			}{{"s", graph.DirOut}, {"r", graph.DirIn}} {
				raw, ok := g[d.alias]
				if !ok {
					continue
				}
				rows, err := sumRows(raw, names)
				if err != nil {
					return nil, fmt.Errorf("read neighbours: decode g_%s: %w", m, err)
				}
				for _, r := range rows {
					money[uid] = append(money[uid], moneyRow{dir: d.dir, groupRow: r})
				}
			}
		}
		var hubs []map[string]json.RawMessage
		if raw, ok := out["h_"+m]; ok {
			if err := json.Unmarshal(raw, &hubs); err != nil {
				return nil, fmt.Errorf("read neighbours: decode h_%s: %w", m, err)
			}
		}
		for _, h := range hubs {
			var uid string
			_ = json.Unmarshal(h["uid"], &uid)
			raw, ok := h[predHubs+m]
			if !ok {
				continue
			}
			rows, others, err := hubRows(raw)
			if err != nil {
				return nil, fmt.Errorf("read neighbours: decode h_%s: %w", m, err)
			}
			for i, r := range rows {
				names[others[i].UID] = others[i]
				money[uid] = append(money[uid], moneyRow{dir: r.Dir, groupRow: groupRow{
					Other: others[i].UID, Channel: r.Chan, Count: r.Count, Sum: r.Sum, Min: r.Min, Max: r.Max}})
			}
		}
	}
	res := make(map[graph.Ref][]graph.Neighbor, len(refs))
	for _, e := range ents {
		var self refJSON
		for f, dst := range map[string]any{"uid": &self.UID, predKind: &self.Kind, predKey: &self.Key} {
			if raw, ok := e[f]; ok {
				if err := json.Unmarshal(raw, dst); err != nil {
					return nil, fmt.Errorf("read neighbours: decode %s: %w", f, err)
				}
			}
		}
		ref := self.ref()
		rows, err := neighborRows(e, money[self.UID], names)
		if err != nil {
			return nil, fmt.Errorf("read neighbours of %s: %w", ref, err)
		}
		res[ref] = rows
	}
	return res, nil
}

// neighborsQuery is the query of readNeighbors: per entity its links (both
// directions, with names) and per month bucket either its hub summaries
// (hs.YYYY_MM, with the counterparties' names) or, for the entities without
// them that month, its transactions with their counterparties' names,
// channels, amounts and times, which sumRows sums here: a month without
// summaries has fewer than hubMin transactions, and reading them costs the
// cluster less than grouping them in it and naming the counterparties in a
// later block (docs/DGRAPH.md, "Neighbour prefetch").
func neighborsQuery(refs []graph.Ref, months []string) string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = quote(refID(r))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{ E as var(func: eq(%s, [%s]))\n", predRef, strings.Join(ids, ","))
	fmt.Fprintf(&b, " e(func: uid(E)) { uid %s %s\n", predKind, predKey)
	for _, t := range linkTypes {
		for _, p := range []string{predLinkOut, predLinkIn} {
			fmt.Fprintf(&b, "  %s%s @facets(role, src) { %s }\n", p, t, refFields)
		}
	}
	b.WriteString(" }\n")
	for _, m := range months {
		// The entities with summaries this month: one has() per month,
		// over hs.YYYY_MM, which only hubs have.
		noHub := ""
		if !hubsIgnored {
			fmt.Fprintf(&b, " H_%s as var(func: uid(E)) @filter(has(%s%s))\n", m, predHubs, m)
			noHub = fmt.Sprintf("@filter(NOT uid(H_%s))", m)
		}
		fmt.Fprintf(&b, " g_%s(func: uid(E)) %s { uid\n", m, noHub)
		for _, d := range []struct{ alias, pred, other string }{{"s", predSent, fTo}, {"r", predRecv, fFrom}} {
			fmt.Fprintf(&b, "  %s: %s%s { o: %s { %s } c: %s a: %s t: %s }\n",
				d.alias, d.pred, m, txPred(m, d.other), refFields, txPred(m, fChan), txPred(m, fAmount), txPred(m, fTime))
		}
		b.WriteString(" }\n")
		if !hubsIgnored {
			fmt.Fprintf(&b, " h_%s(func: uid(H_%s)) { uid %s%s { row: %s other: %s { %s } } }\n",
				m, m, predHubs, m, hubPred(m, hubRowFld), hubPred(m, hubOther), refFields)
		}
	}
	b.WriteString("}")
	return b.String()
}

// hubsIgnored makes readNeighbors group every month's transactions, as if
// no entity had hub summaries (a test compares the two).
var hubsIgnored bool

// moneyRow is one (direction, counterparty, channel) summary of one month:
// grouped from the month's transactions or read from a hub summary.
type moneyRow struct {
	dir graph.Direction
	groupRow
}

func refList(refs []graph.Ref) string {
	if len(refs) == 1 {
		return refs[0].String()
	}
	return fmt.Sprintf("%d entities", len(refs))
}

// neighborRows turns one entity's links block of readNeighbors and its
// money rows into its sorted rows; names are the counterparties the query
// named (the links' own targets carry theirs).
func neighborRows(e map[string]json.RawMessage, money []moneyRow, names map[string]refJSON) ([]graph.Neighbor, error) {
	type key struct {
		rel   int
		dir   graph.Direction
		other string // uid
	}
	rows := map[key]*graph.Neighbor{}
	row := func(k key, rel string) *graph.Neighbor {
		n := rows[k]
		if n == nil {
			n = &graph.Neighbor{Relation: rel, Dir: k.dir}
			rows[k] = n
		}
		return n
	}
	linked := map[string]refJSON{}
	for _, t := range linkTypes {
		for _, p := range []string{predLinkOut, predLinkIn} {
			raw, ok := e[p+t.String()]
			if !ok {
				continue
			}
			var others []refJSON
			if err := json.Unmarshal(raw, &others); err != nil {
				return nil, fmt.Errorf("decode %s: %w", p+t.String(), err)
			}
			var roles []map[string]any
			_ = json.Unmarshal(raw, &roles)
			dir := graph.DirOut
			if p == predLinkIn {
				dir = graph.DirIn
			}
			for i, o := range others {
				n := row(key{relOrder(false, uint8(t)), dir, o.UID}, t.String())
				n.Count++
				if r, ok := roles[i][p+t.String()+"|role"].(string); ok && r != "" {
					n.Role = r
				}
				if src, ok := roles[i][p+t.String()+"|src"].(string); ok {
					if err := json.Unmarshal([]byte(src), &n.Src); err != nil {
						return nil, fmt.Errorf("decode the provenance of a %s link: %w", t, err)
					}
				}
				linked[o.UID] = o
			}
		}
	}
	for _, r := range money {
		ch := graph.Channel(r.Channel)
		n := row(key{relOrder(true, uint8(ch)), r.dir, r.Other}, ch.String())
		n.Count += r.Count
		n.Amount = graph.AddSat(n.Amount, r.Sum)
		if n.FirstSeen.IsZero() || r.Min.Before(n.FirstSeen) {
			n.FirstSeen = r.Min.UTC()
		}
		if r.Max.After(n.LastSeen) {
			n.LastSeen = r.Max.UTC()
		}
	}
	list := make([]graph.RankedNeighbor, 0, len(rows))
	for k, n := range rows {
		r, ok := linked[k.other]
		if !ok {
			r = names[k.other]
		}
		n.Ref = r.ref()
		n.Name = graph.ListedName(n.Ref, r.Name)
		list = append(list, graph.RankedNeighbor{Rank: k.rel, Row: n})
	}
	graph.SortNeighbors(list)
	res := make([]graph.Neighbor, len(list))
	for i, n := range list {
		res[i] = *n.Row
	}
	return res, nil
}

func cloneNeighbors(rows []graph.Neighbor) []graph.Neighbor {
	if rows == nil {
		return []graph.Neighbor{}
	}
	out := make([]graph.Neighbor, len(rows))
	copy(out, rows) // plain values: the cache's rows are never shared
	return out
}

// The neighbour cache, and the months cache.
//
// nbCache keeps one value per entity: db.nb the full sorted neighbour rows,
// kept by PrefetchNeighbors and read by Neighbors; db.mo the months an
// entity lists (cg.months), kept and read by entityMonths (so a prefetch
// keeps the months of the refs it reads too). Both follow the same rules.
// An entry is used while it is younger than nbTTL and no Loader of this
// process has flushed since its query began (importGen): an import through
// this process is seen at once, one by another process within nbTTL. Each
// cache keeps at most nbMax entities, the least recently used leaving
// first.

// importGen counts the flushes of every Loader of the process.
var importGen atomic.Uint64

// nbTTL is how long a cached entry answers; nbMax how many entities each
// cache keeps.
var (
	nbTTL = 30 * time.Second
	nbMax = 1000
)

// nbCache is a bounded, least-recently-used cache of one V per entity with
// an age limit and the import-generation rule above. Its zero value is
// empty and ready.
type nbCache[V any] struct {
	mu  sync.Mutex
	ll  *list.List // of *nbEntry[V], most recently used first
	ent map[graph.Ref]*list.Element
}

type nbEntry[V any] struct {
	ref graph.Ref
	val V
	gen uint64
	at  time.Time
}

// get returns the value of ref if a fresh entry holds it.
func (c *nbCache[V]) get(ref graph.Ref) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.ent[ref]
	if !ok {
		return zero, false
	}
	e := el.Value.(*nbEntry[V])
	if e.gen != importGen.Load() || time.Since(e.at) > nbTTL {
		c.ll.Remove(el)
		delete(c.ent, ref)
		return zero, false
	}
	c.ll.MoveToFront(el)
	return e.val, true
}

// put keeps the value of ref read by a query that began at generation gen.
func (c *nbCache[V]) put(ref graph.Ref, val V, gen uint64) {
	if gen != importGen.Load() {
		return // a flush ran while it was read
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ll == nil {
		c.ll, c.ent = list.New(), map[graph.Ref]*list.Element{}
	}
	e := &nbEntry[V]{ref: ref, val: val, gen: gen, at: time.Now()}
	if el, ok := c.ent[ref]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.ent[ref] = c.ll.PushFront(e)
	for c.ll.Len() > nbMax {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.ent, last.Value.(*nbEntry[V]).ref)
	}
}

// clear drops every entry.
func (c *nbCache[V]) clear() {
	c.mu.Lock()
	c.ll, c.ent = nil, nil
	c.mu.Unlock()
}

// sumRows sums a month's transactions of one direction, as read by
// readNeighbors (each with its counterparty, channel, amount and time),
// into one row per (counterparty, channel) in the order first seen, and
// names the counterparties. A month without hub summaries has fewer than
// hubMin of them.
func sumRows(raw json.RawMessage, names map[string]refJSON) ([]groupRow, error) {
	var txs []struct {
		O refJSON   `json:"o"`
		C int       `json:"c"`
		A int64     `json:"a"`
		T time.Time `json:"t"`
	}
	if err := json.Unmarshal(raw, &txs); err != nil {
		return nil, err
	}
	type key struct {
		other string
		ch    int
	}
	at := map[key]int{}
	var out []groupRow
	for _, t := range txs {
		k := key{t.O.UID, t.C}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, groupRow{Other: t.O.UID, Channel: t.C, Min: t.T, Max: t.T})
			names[t.O.UID] = t.O
		}
		r := &out[i]
		r.Count++
		r.Sum = graph.AddSat(r.Sum, t.A)
		if t.T.Before(r.Min) {
			r.Min = t.T
		}
		if t.T.After(r.Max) {
			r.Max = t.T
		}
	}
	return out, nil
}
