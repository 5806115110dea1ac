package dgraphdb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
	if l.fresh {
		// This load wrote every transaction the cluster holds, and with
		// each the months of its endpoints (addMonth).
		node[predMonthsOK] = true
	}
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
