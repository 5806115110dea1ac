package workbench

import (
	"context"
	"errors"
	"fmt"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/store"
)

// priorCheck is the sink of an import into a database that already holds
// data: a transaction whose id, or an entity whose key, an earlier import
// stored with different data is refused with an importers.ConflictError
// naming both places (the canonical importer rejects the row; the stored
// record is kept), never overwritten unseen. An identical record passes: a
// re-import changes nothing. Stubs never conflict, and an entity may gain
// properties it lacked; a different name, or a property given a different
// value, is a conflict.
type priorCheck struct {
	importers.Sink
	ctx context.Context
	db  recordReader
}

// CopiesRecords passes the loader's promise on: priorCheck keeps nothing.
func (p priorCheck) CopiesRecords() {}

func (p priorCheck) PutTxn(t graph.Txn) error {
	old, err := p.db.Txn(p.ctx, t.ID)
	if err == nil && old.Src.Batch != t.Src.Batch && !sameTxn(old, t) {
		return &importers.ConflictError{Column: "tx_id", Value: t.ID, Reason: fmt.Sprintf(
			"conflicting duplicate: tx_id %s at %s:%d has different data than at %s:%d (import #%d; the stored one is kept)",
			importers.Preview(t.ID), t.Src.File, t.Src.Line, old.Src.File, old.Src.Line, old.Src.Batch)}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return p.Sink.PutTxn(t)
}

func sameTxn(a, b graph.Txn) bool {
	return a.Time.Equal(b.Time) && a.From == b.From && a.To == b.To && a.Amount == b.Amount &&
		a.Currency == b.Currency && a.Channel == b.Channel && a.Device == b.Device && a.IP == b.IP &&
		a.Reference == b.Reference
}

func (p priorCheck) PutEntity(e graph.Entity) error {
	if e.Stub {
		return p.Sink.PutEntity(e)
	}
	old, err := p.db.Entity(p.ctx, e.Ref)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, graph.ErrNotFound) {
			return p.Sink.PutEntity(e)
		}
		return err
	}
	if old.Stub || old.Src.Batch == e.Src.Batch {
		return p.Sink.PutEntity(e)
	}
	what := ""
	if old.Name != "" && e.Name != old.Name {
		what = "name"
	} else {
		for k, v := range e.Props {
			if ov, ok := old.Props[k]; ok && ov != v && k != "list_status" {
				what = k
				break
			}
		}
	}
	if what != "" {
		return &importers.ConflictError{Column: what, Value: e.Ref.Key, Reason: fmt.Sprintf(
			"conflicting duplicate: %s %s at %s:%d has a different %s than at %s:%d (import #%d; the stored one is kept)",
			e.Ref.Kind, importers.Preview(e.Ref.Key), e.Src.File, e.Src.Line, what, old.Src.File, old.Src.Line, old.Src.Batch)}
	}
	return p.Sink.PutEntity(e)
}
