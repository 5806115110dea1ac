package dgraphdb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"casegraph/graph"
)

// Entity returns the full entity, else its stub, else an error wrapping
// graph.ErrNotFound.
func (db *DB) Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error) {
	var out struct {
		E []entityJSON `json:"e"`
	}
	q := fmt.Sprintf(`{ e(func: eq(%s, %s)) { %s %s } }`, predRef, quote(refID(ref)), predEntity, predStub)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return graph.Entity{}, fmt.Errorf("read entity %s: %w", ref, err)
	}
	for _, e := range out.E {
		ent, ok, err := e.entity()
		if err != nil {
			return graph.Entity{}, fmt.Errorf("read entity %s: %w", ref, err)
		}
		if ok {
			return ent, nil
		}
	}
	return graph.Entity{}, fmt.Errorf("read entity %s: %w", ref, graph.ErrNotFound)
}

// refJSON is the reference and name of a node.
type refJSON struct {
	UID  string `json:"uid"`
	Kind int    `json:"cg.kind"`
	Key  string `json:"cg.key"`
	Name string `json:"cg.name"`
}

func (r refJSON) ref() graph.Ref { return graph.Ref{Kind: graph.Kind(r.Kind), Key: r.Key} }

const refFields = "uid " + predKind + " " + predKey + " " + predName

// groupRow is one row of a month's @groupby(counterparty, channel) (or of
// a coarser grouping: the fields it does not group by stay zero).
type groupRow struct {
	Other   string // uid of the counterparty
	Channel int
	Count   int
	Sum     int64
	Min     time.Time
	Max     time.Time
}

// groupRows decodes a block of month m with @groupby:
// [{"@groupby": [rows…]}], whose keys are the month's predicates
// ("tx.2026_03.to", "sum(tx.2026_03.amount)"); other is the counterparty's
// field (fFrom or fTo; "" when not grouped by one).
func groupRows(raw json.RawMessage, m, other string) ([]groupRow, error) {
	var g []struct {
		Rows []map[string]json.RawMessage `json:"@groupby"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, err
	}
	var out []groupRow
	for _, x := range g {
		for _, r := range x.Rows {
			var row groupRow
			for _, f := range []struct {
				key string
				dst any
			}{
				{txPred(m, other), &row.Other},
				{txPred(m, fChan), &row.Channel},
				{"count", &row.Count},
				{"sum(" + txPred(m, fAmount) + ")", &row.Sum},
				{"min(" + txPred(m, fTime) + ")", &row.Min},
				{"max(" + txPred(m, fTime) + ")", &row.Max},
			} {
				v, ok := r[f.key]
				if !ok {
					continue
				}
				if err := json.Unmarshal(v, f.dst); err != nil {
					return nil, fmt.Errorf("%s: %w", f.key, err)
				}
			}
			out = append(out, row)
		}
	}
	return out, nil
}

// Stats returns the counts the last import stored (Loader.Finish), as the
// Badger store does; a cluster no casegraph import finished on is counted
// now (countStats), which reads every node of every kind and link type.
func (db *DB) Stats(ctx context.Context) (graph.Stats, error) {
	var out struct {
		S []struct {
			Rec string `json:"cg.statsrec"`
		} `json:"s"`
	}
	q := fmt.Sprintf(`{ s(func: eq(%s, %s)) { %s } }`, predMeta, quote(metaStats), predStatsRec)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return graph.Stats{}, fmt.Errorf("read stats: %w", err)
	}
	if len(out.S) == 0 {
		return db.countStats(ctx)
	}
	var s graph.Stats
	if err := json.Unmarshal([]byte(out.S[0].Rec), &s); err != nil {
		return graph.Stats{}, fmt.Errorf("read stats: decode: %w", err)
	}
	if s.Entities == nil {
		s.Entities = map[graph.Kind]int{}
	}
	if s.Links == nil {
		s.Links = map[graph.LinkType]int{}
	}
	if s.TxnsByChan == nil {
		s.TxnsByChan = map[graph.Channel]int{}
	}
	return s, nil
}

// countStats counts what the cluster holds, as the Badger store's import
// does at its end.
func (db *DB) countStats(ctx context.Context) (graph.Stats, error) {
	s := graph.Stats{Entities: map[graph.Kind]int{}, Links: map[graph.LinkType]int{}, TxnsByChan: map[graph.Channel]int{}}
	var b strings.Builder
	b.WriteString("{\n")
	for _, k := range graph.Kinds {
		fmt.Fprintf(&b, " k%d(func: eq(%s, %d)) @filter(has(%s)) { count(uid) }\n", k, predKind, k, predStub)
	}
	fmt.Fprintf(&b, " stubs(func: eq(%s, true)) { count(uid) }\n", predStub)
	for _, t := range linkTypes {
		fmt.Fprintf(&b, " var(func: has(%s%s)) { l%d as count(%s%s) }\n l%d() { n: sum(val(l%d)) }\n",
			predLinkOut, t, t, predLinkOut, t, t, t)
	}
	months, err := db.Months(ctx)
	if err != nil {
		return s, fmt.Errorf("read stats: %w", err)
	}
	for _, m := range months {
		fmt.Fprintf(&b, " c_%s(func: has(%s)) @groupby(%s) { count(uid) }\n", m, txPred(m, fChan), txPred(m, fChan))
	}
	fmt.Fprintf(&b, " batches(func: has(%s), orderasc: %s) { %s }\n}", predBatch, predBatch, predBatchRec)
	var out map[string]json.RawMessage
	if err := db.query(ctx, b.String(), nil, &out); err != nil {
		return s, fmt.Errorf("read stats: %w", err)
	}
	count := func(name, field string) (int, error) {
		var rows []map[string]int
		raw, ok := out[name]
		if !ok {
			return 0, nil
		}
		if err := json.Unmarshal(raw, &rows); err != nil {
			return 0, fmt.Errorf("read stats: decode %s: %w", name, err)
		}
		if len(rows) == 0 {
			return 0, nil
		}
		return rows[0][field], nil
	}
	for _, k := range graph.Kinds {
		n, err := count(fmt.Sprintf("k%d", k), "count")
		if err != nil {
			return s, err
		}
		if n > 0 {
			s.Entities[k] = n
		}
	}
	if s.Stubs, err = count("stubs", "count"); err != nil {
		return s, err
	}
	for _, t := range linkTypes {
		n, err := count(fmt.Sprintf("l%d", t), "n")
		if err != nil {
			return s, err
		}
		if n > 0 {
			s.Links[t] = n
		}
	}
	for _, m := range months {
		raw, ok := out["c_"+m]
		if !ok {
			continue
		}
		rows, err := groupRows(raw, m, "")
		if err != nil {
			return s, fmt.Errorf("read stats: decode the channels of %s: %w", m, err)
		}
		for _, r := range rows {
			if r.Count > 0 {
				s.TxnsByChan[graph.Channel(r.Channel)] += r.Count
				s.Txns += r.Count
			}
		}
	}
	var batches []struct {
		Rec string `json:"cg.batchrec"`
	}
	if raw, ok := out["batches"]; ok {
		if err := json.Unmarshal(raw, &batches); err != nil {
			return s, fmt.Errorf("read stats: decode batches: %w", err)
		}
	}
	for _, r := range batches {
		var bt graph.Batch
		if err := json.Unmarshal([]byte(r.Rec), &bt); err != nil {
			return s, fmt.Errorf("read stats: decode batch: %w", err)
		}
		s.Batches = append(s.Batches, bt)
	}
	return s, nil
}

// Txn returns one transaction by id, or an error wrapping graph.ErrNotFound:
// the id's bucket names its month (one query), whose record predicate holds
// the transaction (a second).
func (db *DB) Txn(ctx context.Context, id string) (graph.Txn, error) {
	b := idBucket(id)
	var out struct {
		T []struct {
			UID   string `json:"uid"`
			Month string `json:"m"`
		} `json:"t"`
	}
	q := fmt.Sprintf(`{ t(func: eq(%s, %s)) { uid m: %s } }`, predTxID(b), quote(id), predTxMonth(b))
	if err := db.query(ctx, q, nil, &out); err != nil {
		return graph.Txn{}, fmt.Errorf("read transaction %s: %w", id, err)
	}
	if len(out.T) == 0 || !isMonth(out.T[0].Month) {
		return graph.Txn{}, fmt.Errorf("read transaction %s: %w", id, graph.ErrNotFound)
	}
	var rec struct {
		T []txRow `json:"t"`
	}
	q = fmt.Sprintf(`{ t(func: uid(%s)) { rec: %s } }`, out.T[0].UID, txPred(out.T[0].Month, fRec))
	if err := db.query(ctx, q, nil, &rec); err != nil {
		return graph.Txn{}, fmt.Errorf("read transaction %s: %w", id, err)
	}
	if len(rec.T) == 0 || rec.T[0].Rec == "" {
		return graph.Txn{}, fmt.Errorf("read transaction %s: %w", id, graph.ErrNotFound)
	}
	return decodeTxn(rec.T[0])
}

// entitiesPage is how many entities Entities reads per query.
const entitiesPage = 2000

// Entities calls fn for every entity (full or stub) of kind k, in pages
// ordered by uid; no query is open while fn runs.
func (db *DB) Entities(ctx context.Context, k graph.Kind, fn func(graph.Entity) error) error {
	after := "0x0"
	for {
		var out struct {
			E []entityJSON `json:"e"`
		}
		// No filter: a page is full exactly when more may follow; nodes that
		// are only referenced are skipped here.
		q := fmt.Sprintf(`{ e(func: eq(%s, %d), first: %d, after: %s) { uid %s %s } }`,
			predKind, int(k), entitiesPage, after, predEntity, predStub)
		if err := db.query(ctx, q, nil, &out); err != nil {
			return fmt.Errorf("read %s entities: %w", k, err)
		}
		for _, e := range out.E {
			ent, ok, err := e.entity()
			if err != nil {
				return fmt.Errorf("read %s entities: %w", k, err)
			}
			if ok {
				if err := fn(ent); err != nil {
					return err
				}
			}
		}
		if len(out.E) < entitiesPage {
			return nil
		}
		after = out.E[len(out.E)-1].UID
	}
}
