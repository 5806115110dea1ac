package store

import (
	"errors"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// A neighbour listing names each of its rows (up to 500) and a holder's
// page each held instrument. Read from Badger that is a point lookup per
// row, 3–5 µs each on the large demo: three quarters of the time of a busy
// account's neighbours (docs/PERFORMANCE.md, "Neighbour names from the
// search index"). The workbench has every entity's label in memory already,
// in its search index, and hands it here as a NameSource.

// NameSource answers an entity's label (graph.Title: its name, or its
// formatted reference when it has none) from memory; false when it does
// not hold the entity. *graph.SearchIndex is one.
type NameSource interface {
	Label(graph.Ref) (string, bool)
}

type nameSource struct {
	src   NameSource
	stamp Stamp
}

// UseNames makes neighbour and holding rows take their names from src
// while the database holds the data named by stamp (the data src was built
// from); after a later import, or with a nil src, they are read from the
// store again. Names an entity src does not hold are read from the store.
func (db *DB) UseNames(src NameSource, stamp Stamp) {
	if src == nil {
		db.names.Store(nil)
		return
	}
	db.names.Store(&nameSource{src: src, stamp: stamp})
}

// namer returns how to name the entities of one listing: from the name
// source when it is of the data the database holds now, else from the
// store within txn.
func (db *DB) namer(txn *badger.Txn) func(graph.Ref) (string, error) {
	fromStore := func(r graph.Ref) (string, error) {
		e, err := getEntity(txn, r)
		if errors.Is(err, ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return graph.ListedName(e.Ref, e.Name), nil
	}
	ns := db.currentNames()
	if ns == nil {
		return fromStore
	}
	return func(r graph.Ref) (string, error) {
		if label, ok := ns.src.Label(r); ok {
			return graph.ListedName(r, label), nil
		}
		return fromStore(r)
	}
}

// currentNames is the name source when it is of the data the database
// holds now, else nil.
func (db *DB) currentNames() *nameSource {
	ns := db.names.Load()
	if ns == nil {
		return nil
	}
	if st, err := db.Stamp(); err != nil || st != ns.stamp {
		return nil
	}
	return ns
}

// NamesFromSource reports whether neighbour and holding rows are named from
// the name source now (casegraph bench says so beside its neighbour
// figures).
func (db *DB) NamesFromSource() bool { return db.currentNames() != nil }
