package dgraphdb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/dgo/v250"
	"github.com/dgraph-io/dgo/v250/protos/api"

	"casegraph/graph"
)

// flushAt is how many records a loader sends in one Dgraph transaction.
const flushAt = 1000

// maxRetries bounds the retries of a flush that a concurrent writer aborted.
const maxRetries = 8

// Loader writes validated records into the cluster: it is the
// importers.Sink of `casegraph import --db dgraph://…`. Every write is an
// upsert keyed by the record's stable external id (an entity's reference, a
// transaction's id), so importing a file again changes nothing, and a
// corrected transaction (new time or endpoints) moves to its new month and
// ends. Records are sent in Dgraph transactions of flushAt records; a batch
// is recorded (EndBatch) only after its records are committed.
type Loader struct {
	db      *DB
	fresh   bool // the cluster held no import batch when the load began
	ctx     context.Context
	recs    []record
	book    graph.BatchBook
	err     error
	written int
}

// record is one Put, kept in arrival order: a stub after a full entity, or
// the same transaction twice, must end as the Badger store ends.
type record struct {
	ent  *graph.Entity
	link *graph.Link
	txn  *graph.Txn
}

// NewLoader starts a load. The schema is written first (Schema), so a fresh
// cluster needs nothing else. ctx bounds every write of the load.
func (db *DB) NewLoader(ctx context.Context) (*Loader, error) {
	if err := db.Schema(ctx); err != nil {
		return nil, err
	}
	var out struct {
		B []struct {
			N uint32 `json:"cg.batch"`
		} `json:"b"`
	}
	q := fmt.Sprintf(`{ b(func: has(%s), orderdesc: %s, first: 1) { %s } }`, predBatch, predBatch, predBatch)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return nil, err
	}
	l := &Loader{db: db, ctx: ctx, fresh: len(out.B) == 0}
	if len(out.B) > 0 {
		l.book.Seq = out.B[0].N
	}
	return l, nil
}

// CopiesRecords marks the loader as an importers.RecordCopier: it copies
// each record's maps at once.
func (l *Loader) CopiesRecords() {}

// Bulk reports whether the cluster held no import when the load began: as
// for a fresh Badger store, the records of such a load are not checked
// against earlier imports one by one (there are none). The loader upserts
// either way; a large fresh load goes through Dgraph's own bulk loader
// instead, from the files a BulkWriter writes (docs/DGRAPH.md, "Loading").
func (l *Loader) Bulk() bool { return l.fresh }

// PutEntity queues an entity.
func (l *Loader) PutEntity(e graph.Entity) error {
	if err := checkRef(e.Ref); err != nil {
		return fmt.Errorf("put entity: %w", err)
	}
	e.Props = cloneProps(e.Props)
	return l.add(record{ent: &e})
}

// PutLink queues a link.
func (l *Loader) PutLink(k graph.Link) error {
	if err := checkRef(k.From); err != nil {
		return fmt.Errorf("put %s link: from: %w", k.Type, err)
	}
	if err := checkRef(k.To); err != nil {
		return fmt.Errorf("put %s link: to: %w", k.Type, err)
	}
	if !slices.Contains(linkTypes, k.Type) {
		return fmt.Errorf("put link: unknown type %d", k.Type)
	}
	return l.add(record{link: &k})
}

// PutTxn queues a transaction.
func (l *Loader) PutTxn(t graph.Txn) error {
	if t.ID == "" || len(t.ID) > maxField {
		return fmt.Errorf("put transaction %.40q: id must be 1 to %d bytes", t.ID, maxField)
	}
	if err := checkRef(t.From); err != nil {
		return fmt.Errorf("put transaction %s: from: %w", t.ID, err)
	}
	if err := checkRef(t.To); err != nil {
		return fmt.Errorf("put transaction %s: to: %w", t.ID, err)
	}
	t.Time = t.Time.UTC()
	t.Props = cloneProps(t.Props)
	return l.add(record{txn: &t})
}

// maxField is the longest key or id, as in the Badger store.
const maxField = 1<<16 - 1

func checkRef(r graph.Ref) error {
	if r.Kind == graph.KindUnknown || r.Key == "" {
		return fmt.Errorf("reference %q: kind and key are required", r.String())
	}
	if len(r.Key) > maxField {
		return fmt.Errorf("reference %.40q…: key longer than %d bytes", r.Key, maxField)
	}
	return nil
}

func cloneProps(p map[string]string) map[string]string {
	if len(p) == 0 {
		return nil
	}
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

func (l *Loader) add(r record) error {
	if l.err != nil {
		return l.err
	}
	l.recs = append(l.recs, r)
	if len(l.recs) >= flushAt {
		l.err = l.flush()
	}
	return l.err
}

// BeginBatch hands out the next batch number.
func (l *Loader) BeginBatch(file, sha256, format string) uint32 {
	return l.book.Begin(file, sha256, format)
}

// EndBatch commits the batch's records, then records the batch, so
// ImportedFile finds the file by its hash only once all of it is stored.
func (l *Loader) EndBatch(b graph.Batch) error {
	if l.err != nil {
		return l.err
	}
	b, err := l.book.End(b, time.Now())
	if err != nil {
		return err
	}
	if l.err = l.flush(); l.err != nil {
		return l.err
	}
	rec, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("end batch %d: %w", b.ID, err)
	}
	node := map[string]any{"uid": "_:b", predBatch: b.ID, predBatchSum: b.SHA256, predBatchRec: string(rec)}
	if err := l.commit(func(txn *dgo.Txn) error {
		var out struct {
			B []struct {
				UID string `json:"uid"`
			} `json:"b"`
		}
		resp, err := txn.QueryWithVars(l.ctx, fmt.Sprintf(`{ b(func: eq(%s, %d)) { uid } }`, predBatch, b.ID), nil)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(resp.Json, &out); err != nil {
			return err
		}
		if len(out.B) > 0 {
			node["uid"] = out.B[0].UID
		}
		return mutateJSON(l.ctx, txn, []any{node}, nil)
	}); err != nil {
		l.err = fmt.Errorf("end batch %d: %w", b.ID, err)
	}
	return l.err
}

// Finish commits what is queued.
func (l *Loader) Finish(ctx context.Context, progress func(stage string, done, total int64)) error {
	if l.err != nil {
		return l.err
	}
	l.err = l.flush()
	if l.err == nil && progress != nil {
		progress("stored in dgraph", int64(l.written), int64(l.written))
	}
	l.db.Refresh()
	if l.err == nil {
		l.err = l.storeStats(ctx, progress)
	}
	return l.err
}

// storeStats counts what the cluster holds and stores it for Stats, as the
// Badger store's import does at its end (a full count: seconds per 100k
// nodes; an incremental count is left to do, docs/DGRAPH.md).
func (l *Loader) storeStats(ctx context.Context, progress func(stage string, done, total int64)) error {
	if progress != nil {
		progress("counting", 0, 1)
	}
	st, err := l.db.countStats(ctx)
	if err != nil {
		return err
	}
	node := map[string]any{"uid": "_:s", predMeta: metaStats, predStatsRec: mustJSON(st)}
	err = l.commit(func(txn *dgo.Txn) error {
		var out struct {
			S []struct {
				UID string `json:"uid"`
			} `json:"s"`
		}
		resp, err := txn.QueryWithVars(ctx, fmt.Sprintf(`{ s(func: eq(%s, %s)) { uid } }`, predMeta, quote(metaStats)), nil)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(resp.Json, &out); err != nil {
			return err
		}
		if len(out.S) > 0 {
			node["uid"] = out.S[0].UID
		}
		return mutateJSON(ctx, txn, []any{node}, nil)
	})
	if err != nil {
		return fmt.Errorf("dgraph %s: store stats: %w", l.db.url, err)
	}
	if progress != nil {
		progress("counting", 1, 1)
	}
	return nil
}

// Abort drops what is queued. What was committed stays: every write is an
// idempotent upsert, so importing the files again completes the load.
func (l *Loader) Abort() error {
	l.recs = nil
	return nil
}

// commit runs fn in a fresh Dgraph transaction of the load and commits it
// (DB.commit).
func (l *Loader) commit(fn func(txn *dgo.Txn) error) error { return l.db.commit(l.ctx, fn) }

func mutateJSON(ctx context.Context, txn *dgo.Txn, set, del []any) error {
	_, err := mutateUIDs(ctx, txn, set, del)
	return err
}

// mutateUIDs sends the deletions, then the sets, in one request, and
// returns the uids the cluster gave the blank nodes ("e5" for "_:e5").
func mutateUIDs(ctx context.Context, txn *dgo.Txn, set, del []any) (map[string]string, error) {
	req := &api.Request{}
	if len(del) > 0 {
		b, err := json.Marshal(del)
		if err != nil {
			return nil, err
		}
		req.Mutations = append(req.Mutations, &api.Mutation{DeleteJson: b})
	}
	if len(set) > 0 {
		b, err := json.Marshal(set)
		if err != nil {
			return nil, err
		}
		req.Mutations = append(req.Mutations, &api.Mutation{SetJson: b})
	}
	if len(req.Mutations) == 0 {
		return nil, nil
	}
	resp, err := txn.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.Uids, nil
}

// flush sends the queued records in one Dgraph transaction.
func (l *Loader) flush() error {
	if len(l.recs) == 0 {
		return nil
	}
	if err := l.ctx.Err(); err != nil {
		return err
	}
	for _, r := range l.recs {
		if r.txn != nil {
			if err := l.db.EnsureMonth(l.ctx, Month(r.txn.Time)); err != nil {
				return err
			}
		}
	}
	var pairs map[hubPair]bool
	err := l.commit(func(txn *dgo.Txn) error {
		st, err := l.lookup(txn)
		if err != nil {
			return err
		}
		set, del := st.apply(l.recs)
		uids, err := mutateUIDs(l.ctx, txn, set, del)
		pairs = st.touched(uids)
		return err
	})
	if err == nil {
		// The hub summaries of what the flush touched, before the batch
		// that holds it is recorded (hubs.go).
		err = l.db.refreshHubs(l.ctx, pairs)
	}
	// Prefetched neighbour summaries read before these commits are stale
	// (nbCache); bumped after a failed commit too, which may have landed.
	importGen.Add(1)
	if err != nil {
		return fmt.Errorf("dgraph %s: store %d records: %w", l.db.url, len(l.recs), err)
	}
	l.written += len(l.recs)
	l.recs = l.recs[:0]
	return nil
}

// nodeState is what a flush knows of an entity node.
type nodeState struct {
	uid  string // "0x…", or a blank node "_:eN" when new
	full bool
	stub *graph.Entity // the stub record, if any
	node map[string]any
}

// txState is what a flush knows of a transaction node.
type txState struct {
	uid string
	// What the cluster holds: the month, and the uids of the endpoints the
	// transaction hangs off ("" when new).
	month, from, to string
	// What this flush writes (pending): the month, and the endpoints whose
	// mutation objects hold its month edges; node is its mutation object.
	pending          bool
	cur              string
	fromNode, toNode *nodeState
	node             map[string]any
}

type flushState struct {
	ents   map[graph.Ref]*nodeState
	txns   map[string]*txState
	txList []*txState // in order of first mention
	nodes  []map[string]any
	blank  int
}

// lookup reads the nodes the queued records name, inside txn, so that a
// concurrent loader writing the same ids aborts one of the two (the upsert
// indexes) instead of making duplicates. One query reads the entities and,
// per id bucket, the transactions with their months; a second reads the
// endpoints of the transactions found, per month.
func (l *Loader) lookup(txn *dgo.Txn) (*flushState, error) {
	refs := map[graph.Ref]bool{}
	buckets := map[int][]string{} // quoted ids by bucket
	seen := map[string]bool{}
	for _, r := range l.recs {
		switch {
		case r.ent != nil:
			refs[r.ent.Ref] = true
		case r.link != nil:
			refs[r.link.From], refs[r.link.To] = true, true
		case r.txn != nil:
			refs[r.txn.From], refs[r.txn.To] = true, true
			if !seen[r.txn.ID] {
				seen[r.txn.ID] = true
				b := idBucket(r.txn.ID)
				buckets[b] = append(buckets[b], quote(r.txn.ID))
			}
		}
	}
	refList := make([]string, 0, len(refs))
	for r := range refs {
		refList = append(refList, quote(refID(r)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{ e(func: eq(%s, [%s])) { uid %s %s %s %s }", predRef, strings.Join(refList, ","),
		predKind, predKey, predStub, predStubRec)
	for bk, ids := range buckets {
		fmt.Fprintf(&b, " t%02d(func: eq(%s, [%s])) { uid id: %s m: %s }", bk, predTxID(bk), strings.Join(ids, ","),
			predTxID(bk), predTxMonth(bk))
	}
	b.WriteString(" }")
	resp, err := txn.QueryWithVars(l.ctx, b.String(), nil)
	if err != nil {
		return nil, err
	}
	type txFound struct {
		UID   string `json:"uid"`
		ID    string `json:"id"`
		Month string `json:"m"`
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(resp.Json, &out); err != nil {
		return nil, fmt.Errorf("decode lookup: %w", err)
	}
	var ents []struct {
		UID     string  `json:"uid"`
		Kind    int     `json:"cg.kind"`
		Key     string  `json:"cg.key"`
		Stub    *bool   `json:"cg.stub"`
		StubRec *string `json:"cg.stubrec"`
	}
	if raw, ok := out["e"]; ok {
		if err := json.Unmarshal(raw, &ents); err != nil {
			return nil, fmt.Errorf("decode lookup: %w", err)
		}
	}
	st := &flushState{ents: map[graph.Ref]*nodeState{}, txns: map[string]*txState{}}
	for _, e := range ents {
		ref := graph.Ref{Kind: graph.Kind(e.Kind), Key: e.Key}
		ns := &nodeState{uid: e.UID, full: e.Stub != nil && !*e.Stub}
		if e.StubRec != nil {
			var s graph.Entity
			if err := json.Unmarshal([]byte(*e.StubRec), &s); err != nil {
				return nil, fmt.Errorf("decode stub of %s: %w", ref, err)
			}
			ns.stub = &s
		}
		st.ents[ref] = ns
	}
	byMonth := map[string][]string{} // uids of the transactions found, by month
	byUID := map[string]*txState{}
	for bk := range buckets {
		raw, ok := out[fmt.Sprintf("t%02d", bk)]
		if !ok {
			continue
		}
		var found []txFound
		if err := json.Unmarshal(raw, &found); err != nil {
			return nil, fmt.Errorf("decode lookup: %w", err)
		}
		for _, t := range found {
			if !isMonth(t.Month) {
				return nil, fmt.Errorf("transaction %s: stored month %q", t.ID, t.Month)
			}
			ts := &txState{uid: t.UID, month: t.Month}
			st.txns[t.ID] = ts
			byUID[t.UID] = ts
			byMonth[t.Month] = append(byMonth[t.Month], t.UID)
		}
	}
	if len(byMonth) == 0 {
		return st, nil
	}
	b.Reset()
	b.WriteString("{")
	for m, uids := range byMonth {
		fmt.Fprintf(&b, " f_%s(func: uid(%s)) { uid from: %s { uid } to: %s { uid } }", m, strings.Join(uids, ","),
			txPred(m, fFrom), txPred(m, fTo))
	}
	b.WriteString(" }")
	if resp, err = txn.QueryWithVars(l.ctx, b.String(), nil); err != nil {
		return nil, err
	}
	var ends map[string][]struct {
		UID  string `json:"uid"`
		From struct {
			UID string `json:"uid"`
		} `json:"from"`
		To struct {
			UID string `json:"uid"`
		} `json:"to"`
	}
	if err := json.Unmarshal(resp.Json, &ends); err != nil {
		return nil, fmt.Errorf("decode lookup: %w", err)
	}
	for _, rows := range ends {
		for _, r := range rows {
			if ts := byUID[r.UID]; ts != nil {
				ts.from, ts.to = r.From.UID, r.To.UID
			}
		}
	}
	return st, nil
}

// node returns the mutation object of an entity node, creating the node
// (its reference, kind and key) when the cluster has none.
func (st *flushState) node(r graph.Ref) *nodeState {
	ns := st.ents[r]
	if ns == nil {
		st.blank++
		ns = &nodeState{uid: fmt.Sprintf("_:e%d", st.blank)}
		st.ents[r] = ns
	}
	if ns.node == nil {
		ns.node = map[string]any{"uid": ns.uid, predRef: refID(r), predKind: int(r.Kind), predKey: r.Key}
		st.nodes = append(st.nodes, ns.node)
	}
	return ns
}

// apply turns the records, in order, into the JSON mutations: what to set
// and what to delete (a corrected transaction's old month edges and
// attributes, or its old endpoints' edges).
func (st *flushState) apply(recs []record) (set, del []any) {
	for _, r := range recs {
		switch {
		case r.ent != nil:
			st.entity(*r.ent)
		case r.link != nil:
			k := r.link
			from, to := st.node(k.From), st.node(k.To)
			edge := func(n *nodeState, pred string, other *nodeState) {
				e := map[string]any{"uid": other.uid, pred + "|src": mustJSON(k.Src)}
				if k.Role != "" {
					e[pred+"|role"] = k.Role
				}
				n.node[pred] = append(asList(n.node[pred]), e)
			}
			edge(from, predLinkOut+k.Type.String(), to)
			edge(to, predLinkIn+k.Type.String(), from)
		case r.txn != nil:
			st.txn(*r.txn)
		}
	}
	for _, ts := range st.txList {
		del = append(del, ts.moved()...)
	}
	for _, n := range st.nodes {
		set = append(set, n)
	}
	return set, del
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return nil
}

// entity writes an entity as the Badger loader does: a full entity replaces
// an older full one and takes the stub's properties it lacks; a stub never
// hides a full entity (it is kept as the stub record only).
func (st *flushState) entity(e graph.Entity) {
	ns := st.node(e.Ref)
	if e.Stub {
		s := e
		ns.stub = &s
		ns.node[predStubRec] = mustJSON(e)
		if ns.full {
			return
		}
	} else {
		ns.full = true
		if ns.stub != nil {
			e.Props = graph.WithMissingProps(e.Props, ns.stub.Props)
		}
	}
	ns.node[predStub] = e.Stub
	ns.node[predEntity] = mustJSON(e)
	ns.node[predName] = e.Name
	ns.node[predFind] = FindText(graph.DocFor(e))
}

// txn writes a transaction node (its id, its month and its attributes of
// that month) and hangs it off its endpoints' month buckets. A transaction
// given earlier in the same flush is taken back first: its edges and
// attributes of that version leave the mutation.
func (st *flushState) txn(t graph.Txn) {
	from, to := st.node(t.From), st.node(t.To)
	ts := st.txns[t.ID]
	if ts == nil {
		st.blank++
		ts = &txState{uid: fmt.Sprintf("_:t%d", st.blank)}
		st.txns[t.ID] = ts
	}
	if ts.node == nil {
		ts.node = map[string]any{"uid": ts.uid}
		st.nodes = append(st.nodes, ts.node)
		st.txList = append(st.txList, ts)
	}
	if ts.pending {
		dropEdge(ts.fromNode, predSent+ts.cur, ts.uid)
		dropEdge(ts.toNode, predRecv+ts.cur, ts.uid)
		for _, f := range txFields {
			delete(ts.node, txPred(ts.cur, f.field))
		}
	}
	m := Month(t.Time)
	ts.cur, ts.fromNode, ts.toNode, ts.pending = m, from, to, true
	b := idBucket(t.ID)
	ts.node[predTxID(b)] = t.ID
	ts.node[predTxMonth(b)] = m
	ts.node[txPred(m, fTime)] = t.Time.UTC().Format(time.RFC3339Nano)
	ts.node[txPred(m, fAmount)] = t.Amount
	ts.node[txPred(m, fChan)] = int(t.Channel)
	ts.node[txPred(m, fSortID)] = sortID(t.ID)
	ts.node[txPred(m, fFrom)] = map[string]any{"uid": from.uid}
	ts.node[txPred(m, fTo)] = map[string]any{"uid": to.uid}
	ts.node[txPred(m, fRec)] = mustJSON(t)
	addEdge(from, predSent+m, ts.uid)
	addEdge(to, predRecv+m, ts.uid)
}

// touched lists the (entity, month) pairs whose transactions the flush
// changed: the endpoints' months of every transaction it wrote, before and
// after; uids resolves the new nodes' blank names.
func (st *flushState) touched(uids map[string]string) map[hubPair]bool {
	pairs := map[hubPair]bool{}
	add := func(uid, month string) {
		if b, ok := strings.CutPrefix(uid, "_:"); ok {
			uid = uids[b]
		}
		if uid != "" && month != "" {
			pairs[hubPair{uid, month}] = true
		}
	}
	for _, ts := range st.txList {
		add(ts.fromNode.uid, ts.cur)
		add(ts.toNode.uid, ts.cur)
		add(ts.from, ts.month)
		add(ts.to, ts.month)
	}
	return pairs
}

// moved returns the deletions that take a stored transaction out of where
// the flush no longer puts it: its old month (edges and every attribute of
// that month) or its old endpoints' edges. Nothing for a new one.
func (ts *txState) moved() []any {
	if ts.month == "" || !ts.pending {
		return nil
	}
	var del []any
	edge := func(owner, pred string) {
		del = append(del, map[string]any{"uid": owner, pred: []any{map[string]any{"uid": ts.uid}}})
	}
	if ts.month != ts.cur {
		if ts.from != "" {
			edge(ts.from, predSent+ts.month)
		}
		if ts.to != "" {
			edge(ts.to, predRecv+ts.month)
		}
		attrs := map[string]any{"uid": ts.uid}
		for _, f := range txFields {
			attrs[txPred(ts.month, f.field)] = nil // S P *: every value of the old month's attribute
		}
		return append(del, attrs)
	}
	if ts.from != "" && ts.from != ts.fromNode.uid {
		edge(ts.from, predSent+ts.month)
	}
	if ts.to != "" && ts.to != ts.toNode.uid {
		edge(ts.to, predRecv+ts.month)
	}
	return del
}

// addEdge adds an edge to uid under pred, once.
func addEdge(n *nodeState, pred, uid string) {
	l := asList(n.node[pred])
	for _, e := range l {
		if e.(map[string]any)["uid"] == uid {
			return
		}
	}
	n.node[pred] = append(l, map[string]any{"uid": uid})
}

// dropEdge removes an edge added by addEdge in this flush.
func dropEdge(n *nodeState, pred, uid string) {
	l := asList(n.node[pred])
	l = slices.DeleteFunc(l, func(e any) bool { return e.(map[string]any)["uid"] == uid })
	if len(l) == 0 {
		delete(n.node, pred)
		return
	}
	n.node[pred] = l
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("dgraphdb: encode %T: %v", v, err)) // maps of strings and plain fields always encode
	}
	return string(b)
}

// ImportedFile looks an imported file up by its content hash.
func (db *DB) ImportedFile(ctx context.Context, sha256 string) (graph.Batch, bool, error) {
	var out struct {
		B []struct {
			Rec string `json:"cg.batchrec"`
		} `json:"b"`
	}
	q := fmt.Sprintf(`{ b(func: eq(%s, %s)) { %s } }`, predBatchSum, quote(sha256), predBatchRec)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return graph.Batch{}, false, err
	}
	if len(out.B) == 0 {
		return graph.Batch{}, false, nil
	}
	var b graph.Batch
	if err := json.Unmarshal([]byte(out.B[0].Rec), &b); err != nil {
		return graph.Batch{}, false, fmt.Errorf("decode batch: %w", err)
	}
	return b, true, nil
}
