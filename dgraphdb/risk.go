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
}

// PutRisks upserts the risks onto their entities' nodes; a risk whose
// entity the cluster does not hold is an error.
func (db *DB) PutRisks(ctx context.Context, run graph.AnalysisRun, scope string, risks []graph.KeptRisk) error {
	if err := db.Schema(ctx); err != nil {
		return err
	}
	for lo := 0; lo < len(risks); lo += pullChunk {
		chunk := risks[lo:min(len(risks), lo+pullChunk)]
		ids := make([]string, len(chunk))
		for i, r := range chunk {
			ids[i] = quote(refID(r.Ref))
		}
		err := db.commit(ctx, func(txn *dgo.Txn) error {
			var out struct {
				E []refJSON `json:"e"`
			}
			q := fmt.Sprintf(`{ e(func: eq(%s, [%s])) { %s } }`, predRef, strings.Join(ids, ","), refFields)
			resp, err := txn.QueryWithVars(ctx, q, nil)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(resp.Json, &out); err != nil {
				return err
			}
			uids := map[graph.Ref]string{}
			for _, e := range out.E {
				uids[e.ref()] = e.UID
			}
			set := make([]any, 0, len(chunk))
			for _, r := range chunk {
				uid, ok := uids[r.Ref]
				if !ok {
					return fmt.Errorf("risk of %s: %w", r.Ref, graph.ErrNotFound)
				}
				set = append(set, map[string]any{"uid": uid, predRisk: r.Score,
					predRiskRec: mustJSON(riskRec{Risk: r, Run: run, Scope: scope})})
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
// none was.
func (db *DB) Risk(ctx context.Context, ref graph.Ref) (k graph.KeptRisk, run graph.AnalysisRun, scope string, ok bool, err error) {
	var out struct {
		E []struct {
			Rec *string `json:"cg.riskrec"`
		} `json:"e"`
	}
	q := fmt.Sprintf(`{ e(func: eq(%s, %s)) { %s } }`, predRef, quote(refID(ref)), predRiskRec)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return k, run, "", false, fmt.Errorf("read risk of %s: %w", ref, err)
	}
	for _, e := range out.E {
		if e.Rec == nil {
			continue
		}
		var r riskRec
		if err := json.Unmarshal([]byte(*e.Rec), &r); err != nil {
			return k, run, "", false, fmt.Errorf("read risk of %s: decode: %w", ref, err)
		}
		return r.Risk, r.Run, r.Scope, true, nil
	}
	return k, run, "", false, nil
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
