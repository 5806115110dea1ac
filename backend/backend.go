// Package backend names what every front end of casegraph reads from a case
// database, whichever engine holds it: the embedded Badger store (through
// workbench.Workbench) or a Dgraph cluster (dgraphdb.DB). The TUI, the CLI
// twins (search, show, stats) and the team server read through Reader only;
// cases, bookmarks, verdicts and the journal stay in the local casegraph
// store beside it (docs/DGRAPH.md).
//
// The package is pure: it imports graph and nothing that does IO.
package backend

import (
	"context"
	"errors"

	"casegraph/graph"
)

// ErrSearchNotReady is returned by Reader.Search while the search index is
// still loading in the background.
var ErrSearchNotReady = errors.New("search index is still loading")

// Reader is the read side of a case database. Every method may block on IO
// (a disk, a network): the TUI calls them only from commands, never inside
// Update. Both implementations answer the same questions the same way on the
// same data; the contract tests in dgraphdb check it.
type Reader interface {
	// Name describes the database for the status bar, e.g. "demo".
	Name() string
	// Stats counts what the database holds.
	Stats(ctx context.Context) (graph.Stats, error)
	// Entity returns one entity; a stub if only referenced; an error wrapping
	// graph.ErrNotFound if unknown.
	Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error)
	// Neighbors returns the aggregated edges of ref, one row per (relation,
	// direction, other entity), at most limit rows (all when limit ≤ 0),
	// ordered by relation (links in LinkType order, then channels), then
	// Count descending, then reference, then direction; and the total row
	// count.
	Neighbors(ctx context.Context, ref graph.Ref, limit int) ([]graph.Neighbor, int, error)
	// Transactions returns one page of ref's transactions with totals over
	// all of them. Ties in time are ordered by transaction id (shorter ids
	// first), then outgoing before incoming; ties in amount by time.
	Transactions(ctx context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error)
	// Search runs a query, restricted to one kind unless kind is
	// graph.KindUnknown.
	Search(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error)
}

// Prefetcher is implemented by a reader that can warm its neighbour
// summaries ahead of need (a Dgraph cluster, in one multi-uid query): the
// TUI names the neighbours listed on an entity page, so that expanding one
// of them does not wait on the network. It is optional; an error only
// means nothing was warmed. One call reads at most MaxPrefetch references
// (the first ones).
type Prefetcher interface {
	PrefetchNeighbors(ctx context.Context, refs []graph.Ref) error
}

// MaxPrefetch is the most references one PrefetchNeighbors call reads.
const MaxPrefetch = 200
