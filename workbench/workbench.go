package workbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// Workbench serves the TUI and the scripting commands from the store plus
// the in-memory search index, which loads in the background, and the
// analysis, which is built on first use. The sessions of one database (As)
// share all three.
type Workbench struct {
	*shared
	user string // whom the journal names for changes made here; "" is the OS user
	// role is what the session may do (roles.go); exportRoot confines its
	// exports (team sessions).
	role       Role
	exportRoot string
	session    uint64 // Session (changes.go)
}

// shared is what the sessions of one database share.
type shared struct {
	db   *store.DB
	name string
	// remote, when set, holds the case data: reads and imports go to the
	// Dgraph cluster and db keeps the cases (remote.go).
	remote *dgraphdb.DB
	// local is, on a cluster, the search index of the entities this
	// workbench has at hand, searched before the cluster answers
	// (localsearch.go).
	local *localIndex

	mu    sync.RWMutex
	ix    *graph.SearchIndex
	ixHow string // where ix came from (SearchSource)
	// loading serialises the loads of the search index, so that a
	// command run beside a TUI (EnsureSearch) waits for the TUI's load
	// instead of building a second index.
	loading sync.Mutex
	an      *Analysis // the analytics screens' index and flags, once built (analysis.go)
	// focus is, on a cluster, the neighbourhood the next analysis pulls
	// (FocusAnalysis); anFocus the one the current analysis ran on.
	focus, anFocus pullFocus
	// pulled is, on a cluster, the folder the current analysis was pulled
	// into, kept open for the activity of its entities (pmu guards it).
	pmu    sync.RWMutex
	pulled *pulledStore

	amu sync.Mutex // serialises Analyze
	// keeping counts the deferred keeps running (AnalyzeDeferred), and
	// keepsClosed refuses new ones once WaitKeeps was called, both under
	// keepMu; keeps is waited on.
	keepMu      sync.Mutex
	keeping     int
	keepsClosed bool
	keeps       sync.WaitGroup

	hub      hub           // the changes sessions make, for the others (changes.go)
	sessions atomic.Uint64 // the last session number given (As)
}

var _ tui.Backend = (*Workbench)(nil)
var _ tui.ScopedAnalytics = (*Workbench)(nil)
var _ tui.DeferredKeeper = (*Workbench)(nil)

// New opens a workbench on db, named name in the status bar ("demo", the
// database's folder name). The caller keeps closing db.
func New(db *store.DB, name string) *Workbench {
	return &Workbench{shared: &shared{db: db, name: name}}
}

// As is a session on the same database whose changes (cases, verdicts,
// resolution decisions, exports) the journal records as user; it shares
// the store, the search index and the analysis with b, and keeps b's role.
func (b *Workbench) As(user string) *Workbench {
	return &Workbench{shared: b.shared, user: user, role: b.role, exportRoot: b.exportRoot, session: b.sessions.Add(1)}
}

// actor is who makes a change through b, for the journal, and when.
func (b *Workbench) actor() store.Actor {
	if b.user == "" {
		return OSActor()
	}
	return store.Actor{User: b.user, Time: time.Now()}
}

// Name implements tui.Backend.
func (b *Workbench) Name() string { return b.name }

// Stats implements tui.Backend.
func (b *Workbench) Stats(ctx context.Context) (graph.Stats, error) {
	if b.remote != nil {
		return b.remote.Stats(ctx)
	}
	return b.db.Stats(ctx)
}

// Entity implements tui.Backend. On a cluster the entity joins the local
// search index (localsearch.go).
func (b *Workbench) Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error) {
	if b.remote != nil {
		e, err := b.remote.Entity(ctx, ref)
		if err == nil {
			b.local.add(graph.DocFor(e))
		}
		return e, err
	}
	return b.db.Entity(ctx, ref)
}

// Neighbors implements tui.Backend.
func (b *Workbench) Neighbors(ctx context.Context, ref graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	if b.remote != nil {
		return b.remote.Neighbors(ctx, ref, limit)
	}
	return b.db.Neighbors(ctx, ref, limit)
}

// Search implements tui.Backend: tui.ErrSearchNotReady until LoadSearch
// has built the index; on a Dgraph cluster the cluster answers
// (dgraphdb.DB.Search) and its hits join the local search index
// (SearchLocal).
func (b *Workbench) Search(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	if b.remote != nil {
		res, err := b.remote.Search(ctx, query, kind, limit)
		if err == nil {
			b.local.add(hitDocs(res)...)
			b.markHits(ctx, &res) // the risks written back
		}
		return res, err
	}
	b.mu.RLock()
	ix := b.ix
	b.mu.RUnlock()
	if ix == nil {
		return graph.SearchResult{Query: query}, tui.ErrSearchNotReady
	}
	res := ix.Search(ctx, query, kind, limit)
	b.markHits(ctx, &res)
	return res, nil
}

// ForgetQueries drops the search index's remembered answers and narrowing
// cache (for measuring cold searches).
func (b *Workbench) ForgetQueries() {
	b.mu.RLock()
	ix := b.ix
	b.mu.RUnlock()
	if ix != nil {
		ix.Forget()
	}
}

// LoadSearch makes the search index ready: it maps the search index file
// when it is of the data the database holds now (searchfile.go), else reads
// every entity's search document from the store, builds the index and, when
// the database is open for writing, saves the file for the next start. Until
// the index is ready Search answers tui.ErrSearchNotReady. It returns the
// documents indexed and how long it took until the index was ready;
// SearchSource says where it came from.
// On a Dgraph cluster the cluster serves search; LoadSearch fills the
// local index searched before it answers with the entities the cases
// bookmark (SearchLocal).
func (b *Workbench) LoadSearch(ctx context.Context) (int, time.Duration, error) {
	b.loading.Lock()
	defer b.loading.Unlock()
	if b.remote != nil {
		return b.loadLocalSearch(ctx)
	}
	return b.loadSearch(ctx)
}

// EnsureSearch loads the search index unless it is loaded (or loading:
// then it waits for that load).
func (b *Workbench) EnsureSearch(ctx context.Context) error {
	b.loading.Lock()
	defer b.loading.Unlock()
	b.mu.RLock()
	ix := b.ix
	b.mu.RUnlock()
	if ix != nil {
		return nil
	}
	_, _, err := b.loadSearch(ctx)
	return err
}

func (b *Workbench) loadSearch(ctx context.Context) (int, time.Duration, error) {
	if b.noSearchLoad(ctx) {
		return 0, 0, nil
	}
	start := time.Now()
	st, err := b.db.Stamp()
	if err != nil {
		return 0, 0, fmt.Errorf("load search index: %w", err)
	}
	ix, ferr := openSearchFile(b.db, st)
	if ferr == nil {
		b.publishSearch(ix, st, "from "+SearchFileName)
		return ix.Len(), time.Since(start), nil
	}
	ix, err = buildSearch(ctx, b.db)
	if err != nil {
		return 0, 0, err
	}
	how := "rebuilt (" + searchFileWhy(ferr) + ")"
	b.publishSearch(ix, st, how)
	took := time.Since(start)
	if b.db.Writable() && !b.db.Encrypted() {
		if err := saveSearchFile(ctx, b.db, ix, st); err != nil {
			how += "; not saved: " + err.Error()
		} else {
			how += "; saved"
		}
		b.mu.Lock()
		if b.ix == ix {
			b.ixHow = how
		}
		b.mu.Unlock()
	}
	debug.FreeOSMemory()
	return ix.Len(), took, nil
}

// buildSearch builds the search index of db's entities, reading their
// search documents twice (graph.BuildSearchIndex) rather than holding them
// all: three million documents were 1.1 GB of the heap at once.
func buildSearch(ctx context.Context, db *store.DB) (*graph.SearchIndex, error) {
	ix, err := graph.BuildSearchIndex(func(fn func(graph.SearchDoc) error) error {
		return db.SearchDocs(ctx, fn)
	})
	if err != nil {
		return nil, fmt.Errorf("load search index: %w", err)
	}
	return ix, nil
}

// NamesFromSearch reports whether the store names neighbour and holding
// rows from the loaded search index (publishSearch) rather than reading each
// entity; false on a cluster, which names its own.
func (b *Workbench) NamesFromSearch() bool {
	return b.remote == nil && b.db.NamesFromSource()
}

// publishSearch makes ix, built from the data named by st, the one searched,
// and the store's source of names for neighbour and holding rows while the
// data is still that (store.DB.UseNames).
func (b *Workbench) publishSearch(ix *graph.SearchIndex, st store.Stamp, how string) {
	b.mu.Lock()
	b.ix, b.ixHow = ix, how
	b.mu.Unlock()
	b.db.UseNames(ix, st)
}

// searchFileWhy says why the search index file was not used.
func searchFileWhy(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no " + SearchFileName
	case errors.Is(err, errNoSearchFile):
		return "encrypted database: not kept in a file"
	case errors.Is(err, graph.ErrStaleSearchFile):
		return SearchFileName + " stale"
	}
	return err.Error()
}

// SearchSource says where the search index came from: its file, or rebuilt
// and why ("" before LoadSearch).
func (b *Workbench) SearchSource() string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.ixHow
}
