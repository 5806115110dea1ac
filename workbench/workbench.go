package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// backend serves the TUI and the scripting commands from the store plus the
// in-memory search index, which loads in the background.
type backend struct {
	db   *store.DB
	name string

	mu sync.RWMutex
	ix *graph.SearchIndex
	an *analysis // the analytics screens' index and flags, once built (backend_analytics.go)

	amu   sync.Mutex       // serialises Analyze
	rules graph.RuleConfig // the rule thresholds the analysis runs with
}

var _ tui.Backend = (*backend)(nil)

func newBackend(db *store.DB) *backend {
	return &backend{db: db, name: displayName(db.Dir()), rules: graph.DefaultRuleConfig()}
}

// displayName names a database for the status bar: the demo database is
// "demo", any other its directory name.
func displayName(dir string) string {
	if filepath.Clean(dir) == filepath.Clean(defaultDemoDB()) {
		return "demo"
	}
	return filepath.Base(filepath.Clean(dir))
}

func (b *backend) Name() string { return b.name }

func (b *backend) Stats(ctx context.Context) (graph.Stats, error) { return b.db.Stats(ctx) }

func (b *backend) Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error) {
	return b.db.Entity(ctx, ref)
}

func (b *backend) Neighbors(ctx context.Context, ref graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	return b.db.Neighbors(ctx, ref, limit)
}

func (b *backend) Transactions(ctx context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error) {
	return b.db.Transactions(ctx, ref, q)
}

func (b *backend) Search(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	b.mu.RLock()
	ix := b.ix
	b.mu.RUnlock()
	if ix == nil {
		return graph.SearchResult{Query: query}, tui.ErrSearchNotReady
	}
	return ix.Search(ctx, query, kind, limit), nil
}

// forgetQueries drops the search index's remembered answers and narrowing
// cache (for measuring cold searches).
func (b *backend) forgetQueries() {
	b.mu.RLock()
	ix := b.ix
	b.mu.RUnlock()
	if ix != nil {
		ix.Forget()
	}
}

// loadSearch reads every entity's search document from the store and builds
// the index; until it returns, Search answers tui.ErrSearchNotReady.
func (b *backend) loadSearch(ctx context.Context) (int, time.Duration, error) {
	start := time.Now()
	// Loading allocates a million small documents that all stay live: a
	// collection cycle during it finds nothing to free. Collect less often
	// while loading, then hand the transient buffers back to the OS (T8).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	docs := make([]graph.SearchDoc, 0, b.db.SearchDocCount())
	err := b.db.SearchDocs(ctx, func(d graph.SearchDoc) error {
		docs = append(docs, d)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("load search index: %w", err)
	}
	ix := graph.NewSearchIndex(docs)
	b.mu.Lock()
	b.ix = ix
	b.mu.Unlock()
	took := time.Since(start)
	debug.FreeOSMemory()
	return len(docs), took, nil
}
