package workbench

import (
	"context"
	"errors"
	"fmt"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/store"
)

// conflictCheck is the sink of every import run but a list's (canonical CSV,
// FtM, goAML, mapping profiles): a transaction whose id, or a full entity
// whose key, another file of the run or an earlier import gave with
// different data is refused with an importers.RecordError naming both
// places (the importer rejects the row that carried it; the first record is
// kept), never overwritten unseen (docs/SECURITY.md, "Hostile input files").
// An identical record passes: a re-import changes nothing. Stubs never
// conflict, and an entity may gain a name or properties it lacked; a name or
// a property given a different value is a conflict (importers.CheckEntity
// says which properties are not compared).
//
// The files of the run are checked against each other with one
// importers.IDGuard that spans the run (bounded: see importers.maxIDs), and
// against earlier imports by reading the store, when the database held data
// before the run (db is nil for a bulk import into an empty database).
type conflictCheck struct {
	importers.Sink
	ctx context.Context
	db  recordReader // nil for a bulk import into an empty database
	run *importers.IDGuard
	// listed, when not nil, collects the entities each list file of the run
	// named, by file name (a cluster indexes them: imports.go).
	listed map[string][]graph.Ref
}

// listSink is the sink of the list file name: the loader's, noting the
// entities the list names when the run collects them.
func (p *conflictCheck) listSink(name string) importers.Sink {
	if p.listed == nil {
		return p.Sink
	}
	return listedSink{Sink: p.Sink, note: func(r graph.Ref) { p.listed[name] = append(p.listed[name], r) }}
}

// listedSink notes the entities put through it.
type listedSink struct {
	importers.Sink
	note func(graph.Ref)
}

func (s listedSink) PutEntity(e graph.Entity) error {
	if err := s.Sink.PutEntity(e); err != nil {
		return err
	}
	s.note(e.Ref)
	return nil
}

func newConflictCheck(ctx context.Context, sink importers.Sink, db recordReader) *conflictCheck {
	return &conflictCheck{Sink: sink, ctx: ctx, db: db, run: importers.NewIDGuard()}
}

// CopiesRecords passes the loader's promise on: conflictCheck keeps nothing
// of a record but hashes.
func (p *conflictCheck) CopiesRecords() {}

func (p *conflictCheck) PutTxn(t graph.Txn) error {
	if ce := p.run.CheckTxn(&t); ce != nil {
		return ce
	}
	if p.db != nil {
		old, err := p.db.Txn(p.ctx, t.ID)
		if err == nil && old.Src.Batch != t.Src.Batch && !sameTxn(old, t) {
			return &importers.RecordError{Column: "tx_id", Value: t.ID, Reason: fmt.Sprintf(
				"conflicting duplicate: tx_id %s at %s:%d has different data than at %s:%d (import #%d; the stored one is kept)",
				importers.Preview(t.ID), t.Src.File, t.Src.Line, old.Src.File, old.Src.Line, old.Src.Batch)}
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err := p.Sink.PutTxn(t); err != nil {
		return err
	}
	p.run.Remember()
	return nil
}

func sameTxn(a, b graph.Txn) bool {
	return a.Time.Equal(b.Time) && a.From == b.From && a.To == b.To && a.Amount == b.Amount &&
		a.Currency == b.Currency && a.Channel == b.Channel && a.Device == b.Device && a.IP == b.IP &&
		a.Reference == b.Reference
}

func (p *conflictCheck) PutEntity(e graph.Entity) error {
	if e.Stub {
		return p.Sink.PutEntity(e)
	}
	if ce := p.run.CheckEntity(&e); ce != nil {
		return ce
	}
	if p.db != nil {
		old, ce, err := p.priorEntity(e)
		if ce != nil {
			return ce
		}
		if err != nil {
			return err
		}
		e = keepStored(e, old)
	}
	if err := p.Sink.PutEntity(e); err != nil {
		return err
	}
	p.run.Remember()
	return nil
}

// keepStored returns e with the properties of the stored entity old that
// e lacks: the store keeps one version of an entity, and a record that
// lacks what an earlier import or a list stored (a phone, a list_status)
// must not drop it unseen.
func keepStored(e, old graph.Entity) graph.Entity {
	var props map[string]string
	for k, v := range old.Props {
		if v == "" || e.Props[k] != "" {
			continue
		}
		if props == nil {
			props = make(map[string]string, len(e.Props)+len(old.Props))
			for ek, ev := range e.Props {
				props[ek] = ev
			}
		}
		props[k] = v
	}
	if props != nil {
		e.Props = props
	}
	return e
}

// priorEntity compares e with the stored entity of an earlier import; old
// is the stored full entity, if any.
func (p *conflictCheck) priorEntity(e graph.Entity) (old graph.Entity, ce *importers.RecordError, err error) {
	old, err = p.db.Entity(p.ctx, e.Ref)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, graph.ErrNotFound) {
			return graph.Entity{}, nil, nil
		}
		return graph.Entity{}, nil, err
	}
	if old.Stub {
		return graph.Entity{}, nil, nil
	}
	if old.Src.Batch == e.Src.Batch {
		return old, nil, nil
	}
	what := ""
	if old.Name != "" && e.Name != old.Name {
		what = "name"
	} else {
		for k, v := range e.Props {
			if ov, ok := old.Props[k]; ok && ov != v && !importers.ConflictIgnored(k) {
				what = k
				break
			}
		}
	}
	if what == "" {
		return old, nil, nil
	}
	return old, &importers.RecordError{Column: what, Value: e.Ref.Key, Reason: fmt.Sprintf(
		"conflicting duplicate: %s %s at %s:%d has a different %s than at %s:%d (import #%d; the stored one is kept)",
		e.Ref.Kind, importers.Preview(e.Ref.Key), e.Src.File, e.Src.Line, what, old.Src.File, old.Src.Line, old.Src.Batch)}, nil
}
