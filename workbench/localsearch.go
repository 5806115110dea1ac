package workbench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"casegraph/backend"
	"casegraph/graph"
	"casegraph/store"
)

// Search on a cluster, local results first (docs/DGRAPH.md, "Search on a
// cluster").
//
// Every query to a cluster is a round trip of up to a second, so the TUI
// shows local hits at once and merges the cluster's after a debounce
// (tui/search/server.go). The local hits come from a small in-process index
// (the same graph.SearchIndex a folder searches, so the same matching and
// ranking) over the entities this workbench already has: those the local
// store's cases bookmark (LoadSearch), those of the neighbourhood the last
// analysis pulled, and those the user opened or the cluster returned in
// this session. It holds at most LocalSearchMax documents, the least
// recently added dropped first, and is rebuilt in the background after a
// change: a keystroke searches the last one built.

// LocalSearchMax bounds the documents of the local search index on a
// cluster: 50,000 search in a few milliseconds and rebuild in 60–150 ms on
// this machine (docs/PERFORMANCE.md).
const LocalSearchMax = 50_000

// localIndex is the local search index beside a cluster.
type localIndex struct {
	max int

	mu       sync.Mutex
	docs     map[graph.Ref]localDoc
	gen      uint64 // the generation of the newest addition
	dirty    bool   // docs changed since the index was built
	building chan struct{}

	ix atomic.Pointer[graph.SearchIndex] // the last one built; nil before any
}

type localDoc struct {
	doc graph.SearchDoc
	gen uint64
}

func newLocalIndex(max int) *localIndex {
	return &localIndex{max: max, docs: map[graph.Ref]localDoc{}}
}

// add adds or refreshes docs (a newer doc of the same entity replaces the
// older) and rebuilds the index in the background when anything changed.
func (l *localIndex) add(docs ...graph.SearchDoc) {
	if l == nil || len(docs) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := false
	for _, d := range docs {
		l.gen++
		old, ok := l.docs[d.Ref]
		if !ok || !sameDoc(old.doc, d) {
			changed = true
		}
		l.docs[d.Ref] = localDoc{doc: d, gen: l.gen}
	}
	if len(l.docs) > l.max {
		l.evict()
		changed = true
	}
	if !changed {
		return
	}
	l.dirty = true
	if l.building == nil {
		l.building = make(chan struct{})
		go l.build(l.building)
	}
}

// evict drops the least recently added documents down to nine tenths of
// the bound, so that a stream of additions evicts in batches.
func (l *localIndex) evict() {
	all := make([]localDoc, 0, len(l.docs))
	for _, d := range l.docs {
		all = append(all, d)
	}
	slices.SortFunc(all, func(a, b localDoc) int { return cmp.Compare(a.gen, b.gen) })
	for _, d := range all[:len(all)-l.max*9/10] {
		delete(l.docs, d.doc.Ref)
	}
}

// build rebuilds the index until no change is left, then closes done.
func (l *localIndex) build(done chan struct{}) {
	defer close(done)
	for {
		l.mu.Lock()
		if !l.dirty {
			l.building = nil
			l.mu.Unlock()
			return
		}
		docs := make([]graph.SearchDoc, 0, len(l.docs))
		for _, d := range l.docs {
			docs = append(docs, d.doc)
		}
		l.dirty = false
		l.mu.Unlock()
		// The order of the documents decides nothing: ties are ranked by
		// label and reference (graph.CompareHits).
		l.ix.Store(graph.NewSearchIndex(docs))
	}
}

// settle waits until the index holds every document added so far.
func (l *localIndex) settle() {
	for {
		l.mu.Lock()
		b := l.building
		l.mu.Unlock()
		if b == nil {
			return
		}
		<-b
	}
}

// search searches the last index built.
func (l *localIndex) search(ctx context.Context, query string, kind graph.Kind, limit int) graph.SearchResult {
	ix := l.ix.Load()
	if ix == nil {
		return graph.SearchResult{Query: query}
	}
	return ix.Search(ctx, query, kind, limit)
}

// len is the number of documents added and kept.
func (l *localIndex) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.docs)
}

func sameDoc(a, b graph.SearchDoc) bool {
	return a.Label == b.Label && a.Facts == b.Facts && a.Stub == b.Stub && slices.Equal(a.Terms, b.Terms)
}

// hitDocs are the documents of a result's hits.
func hitDocs(res graph.SearchResult) []graph.SearchDoc {
	docs := make([]graph.SearchDoc, len(res.Hits))
	for i, h := range res.Hits {
		docs[i] = h.Doc
	}
	return docs
}

// SearchLocal answers a query from what this machine holds, without the
// network: on a cluster from the local index (above), on a folder it is
// Search (one index).
func (b *Workbench) SearchLocal(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	if b.remote == nil {
		return b.Search(ctx, query, kind, limit)
	}
	return b.local.search(ctx, query, kind, limit), nil
}

// SearchServer says what Search asks over the network: "cluster" on a
// Dgraph cluster, "" on a folder (tui/search.LocalFirst).
func (b *Workbench) SearchServer() string {
	if b.remote != nil {
		return "cluster"
	}
	return ""
}

// LocalSearchDocs is the number of documents of the local search index on
// a cluster, once those added so far are indexed; 0 on a folder.
func (b *Workbench) LocalSearchDocs() int {
	if b.local == nil {
		return 0
	}
	b.local.settle()
	return b.local.len()
}

// loadLocalSearch fills the local search index on a cluster with the
// entities the local store's cases bookmark, read from the cluster (four
// at a time); an entity the cluster does not know is left out. It returns
// the documents indexed and how long it took.
func (b *Workbench) loadLocalSearch(ctx context.Context) (int, time.Duration, error) {
	start := time.Now()
	cases, err := b.db.Cases(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("load the local search index: %w", err)
	}
	seen := map[graph.Ref]bool{}
	var refs []graph.Ref
	for _, c := range cases {
		for _, bm := range c.Bookmarks {
			for _, r := range bm.Target.Refs {
				if !seen[r] && len(refs) < LocalSearchMax {
					seen[r] = true
					refs = append(refs, r)
				}
			}
		}
	}
	docs := make([]graph.SearchDoc, len(refs))
	found := make([]bool, len(refs))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(4, len(refs)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(refs) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if e, err := b.remote.Entity(ctx, refs[i]); err == nil {
					docs[i], found[i] = graph.DocFor(e), true
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	var kept []graph.SearchDoc
	for i, d := range docs {
		if found[i] {
			kept = append(kept, d)
		}
	}
	b.local.add(kept...)
	b.local.settle()
	b.mu.Lock()
	b.ixHow = fmt.Sprintf("the cluster's, after the local index of %d bookmarked entities", len(kept))
	b.mu.Unlock()
	return b.local.len(), time.Since(start), nil
}

// addLocalStore adds the entities of a pulled folder to the local search
// index (the most recently pulled kept when there are more than it holds).
func (b *Workbench) addLocalStore(ctx context.Context, db *store.DB) error {
	var docs []graph.SearchDoc
	err := db.SearchDocs(ctx, func(d graph.SearchDoc) error {
		docs = append(docs, d)
		return nil
	})
	if err != nil {
		return err
	}
	b.local.add(docs[max(0, len(docs)-LocalSearchMax):]...)
	return nil
}

// PrefetchNeighbors implements backend.Prefetcher: on a cluster that
// prefetches (one multi-uid query for the neighbour summaries of refs) it
// warms them; elsewhere there is nothing to warm and it returns nil.
func (b *Workbench) PrefetchNeighbors(ctx context.Context, refs []graph.Ref) error {
	if p, ok := any(b.remote).(backend.Prefetcher); ok && b.remote != nil {
		return p.PrefetchNeighbors(ctx, refs)
	}
	return nil
}

var _ backend.Prefetcher = (*Workbench)(nil)
