package dgraphdb

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/dgo/v250"

	"casegraph/graph"
)

// What one Loader flush knows and writes: the nodes its records name, as
// looked up inside its Dgraph transaction (lookup), and the mutations the
// records become (apply), with the moves of corrected transactions and the
// (entity, month) pairs whose hub summaries it touched.

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
	addMonth(from, m)
	addMonth(to, m)
}

// addMonth lists month m among the node's months (cg.months), once per
// flush; the cluster keeps the list a set.
func addMonth(n *nodeState, m string) {
	l := asList(n.node[predMonths])
	if slices.Contains(l, any(m)) {
		return
	}
	n.node[predMonths] = append(l, m)
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
