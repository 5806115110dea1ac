package dgraphdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/dgo/v250"

	"casegraph/graph"
)

// Risks written back.
//
// The analyses run on a pulled neighbourhood (Pull, workbench.PullInto);
// their risks are written back onto the entities' nodes, so that the whole
// team sees them on the cluster: cg.risk is the score (indexed, so the
// riskiest can be listed), cg.riskrec the kept risk with the analysis run
// and the scope of the pull it ran on. A later analysis overwrites them.

// riskRec is what cg.riskrec holds.
type riskRec struct {
	Risk  graph.KeptRisk    `json:"risk"`
	Run   graph.AnalysisRun `json:"run"`
	Scope string            `json:"scope"`
	// Batch is the cluster's last import batch when the pull the analysis
	// ran on began (LastBatch): a later batch makes the risk stale.
	Batch uint32 `json:"batch"`
}

// PutRisks upserts the risks onto their entities' nodes; a risk whose
// entity the cluster does not hold is an error. batch is the cluster's
// last import batch before the analysed data were read (LastBatch).
func (db *DB) PutRisks(ctx context.Context, run graph.AnalysisRun, scope string, batch uint32, risks []graph.KeptRisk) error {
	if err := db.Schema(ctx); err != nil {
		return err
	}
	for lo := 0; lo < len(risks); lo += pullChunk {
		chunk := risks[lo:min(len(risks), lo+pullChunk)]
		refs := make([]graph.Ref, len(chunk))
		for i, r := range chunk {
			refs[i] = r.Ref
		}
		err := db.commit(ctx, func(txn *dgo.Txn) error {
			uids, err := uidsIn(ctx, txn, refs)
			if err != nil {
				return err
			}
			set := make([]any, 0, len(chunk))
			for _, r := range chunk {
				uid, ok := uids[r.Ref]
				if !ok {
					return fmt.Errorf("risk of %s: %w", r.Ref, graph.ErrNotFound)
				}
				set = append(set, map[string]any{"uid": uid, predRisk: r.Score,
					predRiskRec: mustJSON(riskRec{Risk: r, Run: run, Scope: scope, Batch: batch})})
			}
			return mutateJSON(ctx, txn, set, nil)
		})
		if err != nil {
			return fmt.Errorf("dgraph %s: write risks back: %w", db.url, err)
		}
	}
	return nil
}

// Risk reads back the risk written for ref (PutRisks); ok is false when
// none was. run.Stale says the cluster imported data after the analysis
// read it.
func (db *DB) Risk(ctx context.Context, ref graph.Ref) (k graph.KeptRisk, run graph.AnalysisRun, scope string, ok bool, err error) {
	recs, err := db.riskRecs(ctx, []graph.Ref{ref})
	if err != nil || len(recs) == 0 {
		return k, run, "", false, err
	}
	r := recs[ref]
	return r.Risk, r.Run, r.Scope, true, nil
}

// RiskMarks are the written-back risks of those of refs that have one
// (PutRisks), for search hits and graph nodes: the score, flagged at the
// threshold of the analysis that wrote it, and stale as Risk says.
func (db *DB) RiskMarks(ctx context.Context, refs []graph.Ref) (map[graph.Ref]graph.RiskMark, error) {
	recs, err := db.riskRecs(ctx, refs)
	if err != nil {
		return nil, err
	}
	marks := make(map[graph.Ref]graph.RiskMark, len(recs))
	for ref, r := range recs {
		marks[ref] = graph.RiskMark{Known: true, Score: r.Risk.Score, Flagged: r.Risk.Score >= r.Run.Threshold, Stale: r.Run.Stale}
	}
	return marks, nil
}

// riskRecs reads the written-back risks of refs, with Run.Stale set.
func (db *DB) riskRecs(ctx context.Context, refs []graph.Ref) (map[graph.Ref]riskRec, error) {
	recs := map[graph.Ref]riskRec{}
	for lo := 0; lo < len(refs); lo += pullChunk {
		chunk := refs[lo:min(len(refs), lo+pullChunk)]
		ids := make([]string, len(chunk))
		for i, r := range chunk {
			ids[i] = quote(refID(r))
		}
		var out struct {
			E []struct {
				refJSON
				Rec *string `json:"cg.riskrec"`
			} `json:"e"`
		}
		q := fmt.Sprintf(`{ e(func: eq(%s, [%s])) @filter(has(%s)) { %s %s } }`, predRef, strings.Join(ids, ","), predRiskRec, refFields, predRiskRec)
		if err := db.query(ctx, q, nil, &out); err != nil {
			return nil, fmt.Errorf("read risks: %w", err)
		}
		for _, e := range out.E {
			if e.Rec == nil {
				continue
			}
			var r riskRec
			if err := json.Unmarshal([]byte(*e.Rec), &r); err != nil {
				return nil, fmt.Errorf("read risk of %s: decode: %w", e.ref(), err)
			}
			recs[e.ref()] = r
		}
	}
	if len(recs) == 0 {
		return recs, nil
	}
	last, err := db.LastBatch(ctx)
	if err != nil {
		return nil, err
	}
	for ref, r := range recs {
		r.Run.Stale = last > r.Batch
		recs[ref] = r
	}
	return recs, nil
}

// LastBatch is the number of the cluster's last import batch (0 before the
// first import). A batch is recorded once its records are committed.
func (db *DB) LastBatch(ctx context.Context) (uint32, error) {
	var out struct {
		B []struct {
			N uint32 `json:"cg.batch"`
		} `json:"b"`
	}
	q := fmt.Sprintf(`{ b(func: has(%s), orderdesc: %s, first: 1) { %s } }`, predBatch, predBatch, predBatch)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return 0, fmt.Errorf("read the last import batch: %w", err)
	}
	if len(out.B) == 0 {
		return 0, nil
	}
	return out.B[0].N, nil
}

// commit runs fn in a fresh Dgraph transaction and commits it, again when a
// concurrent writer aborted it.
func (db *DB) commit(ctx context.Context, fn func(txn *dgo.Txn) error) error {
	var err error
	for try := 0; try < maxRetries; try++ {
		txn := db.dg.NewTxn()
		err = fn(txn)
		if err == nil {
			err = txn.Commit(ctx)
		} else {
			_ = txn.Discard(ctx)
		}
		if !errors.Is(err, dgo.ErrAborted) {
			return err
		}
		time.Sleep(time.Duration(try+1) * 50 * time.Millisecond)
	}
	return err
}

// uidsIn looks up the nodes of refs inside txn (one query), so that a
// mutation in the same transaction writes onto them; refs the cluster does
// not hold are absent from the map.
func uidsIn(ctx context.Context, txn *dgo.Txn, refs []graph.Ref) (map[graph.Ref]string, error) {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = quote(refID(r))
	}
	var out struct {
		E []refJSON `json:"e"`
	}
	q := fmt.Sprintf(`{ e(func: eq(%s, [%s])) { %s } }`, predRef, strings.Join(ids, ","), refFields)
	resp, err := txn.QueryWithVars(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(resp.Json, &out); err != nil {
		return nil, err
	}
	uids := make(map[graph.Ref]string, len(out.E))
	for _, e := range out.E {
		uids[e.ref()] = e.UID
	}
	return uids, nil
}
