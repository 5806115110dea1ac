// Package importers turns input files into validated casegraph records.
// It streams rows, never loads a whole file, and accounts for every row:
// read = imported + rejected.
package importers

import "casegraph/graph"

// Sink receives validated records. The store implements it; tests use a
// recording sink. Records may repeat (the same stub entity for every
// transaction that names a card): a sink must converge, not duplicate.
type Sink interface {
	PutEntity(e graph.Entity) error
	PutLink(l graph.Link) error
	PutTxn(t graph.Txn) error
}

// RecordCopier is a Sink that keeps nothing of a record it is given but
// copies: once Put returns, the caller may clear and reuse the record's
// Props map. An importer that builds a map per row recycles them for such
// a sink.
type RecordCopier interface {
	Sink
	CopiesRecords()
}
