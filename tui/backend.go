package tui

import (
	"context"
	"errors"

	"casegraph/graph"
)

// ErrSearchNotReady is returned by Backend.Search while the search index is
// still loading in the background.
var ErrSearchNotReady = errors.New("search index is still loading")

// Backend is everything the TUI asks of the case database. cmd/casegraph
// implements it over the store and the in-memory search index; tests use a
// fake. Every method may block on IO: the TUI calls them only from commands.
type Backend interface {
	// Name describes the database for the status bar, e.g. "demo.db".
	Name() string
	Stats(ctx context.Context) (graph.Stats, error)
	// Entity returns one entity; a stub if only referenced; an error wrapping
	// graph.ErrNotFound if unknown.
	Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error)
	// Neighbors returns the aggregated edges of ref, at most limit rows
	// (ordered by relation, then count descending), and the total row count.
	Neighbors(ctx context.Context, ref graph.Ref, limit int) ([]graph.Neighbor, int, error)
	Transactions(ctx context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error)
	// Search runs a fuzzy query, restricted to one kind unless kind is
	// graph.KindUnknown.
	Search(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error)
}
