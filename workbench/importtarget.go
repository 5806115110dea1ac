package workbench

import (
	"context"
	"fmt"
	"path/filepath"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/profile"
	"casegraph/store"
)

// importTarget is what an import writes into and checks against: the
// embedded store (storeTarget) or a Dgraph cluster (dgraphTarget). The
// importers, the validation, the rejects and the manifest of imported files
// are the same for both (docs/DGRAPH.md).
type importTarget interface {
	// where names the database in errors: its folder or its URL.
	where() string
	// rejectsDir is where rejects go unless --rejects names a file.
	rejectsDir() string
	// sealer is the store whose key seals the rejects file, or nil.
	sealer() *store.DB
	importedFile(ctx context.Context, sha256 string) (graph.Batch, bool, error)
	newLoader(ctx context.Context) (importLoader, error)
	records() recordReader
}

// importLoader is a loader of either engine.
type importLoader interface {
	importers.Sink
	Bulk() bool
	BeginBatch(file, sha256, format string) uint32
	EndBatch(b graph.Batch) error
	Finish(ctx context.Context, progress func(stage string, done, total int64)) error
	Abort() error
}

// recordReader reads what an earlier import stored: priorCheck's and the
// list importers' view of the database.
type recordReader interface {
	Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error)
	Txn(ctx context.Context, id string) (graph.Txn, error)
	// Entities calls fn for every entity (full or stub) of kind k.
	Entities(ctx context.Context, k graph.Kind, fn func(graph.Entity) error) error
}

// storeTarget imports into the embedded store.
type storeTarget struct{ db *store.DB }

func (t storeTarget) where() string      { return t.db.Dir() }
func (t storeTarget) rejectsDir() string { return RejectsDir(t.db.Dir()) }
func (t storeTarget) sealer() *store.DB  { return t.db }
func (t storeTarget) importedFile(_ context.Context, sum string) (graph.Batch, bool, error) {
	return t.db.ImportedFile(sum)
}
func (t storeTarget) newLoader(context.Context) (importLoader, error) { return t.db.NewLoader() }
func (t storeTarget) records() recordReader                           { return storeRecords{t.db} }

type storeRecords struct{ db *store.DB }

func (s storeRecords) Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error) {
	return s.db.Entity(ctx, ref)
}
func (s storeRecords) Txn(ctx context.Context, id string) (graph.Txn, error) {
	return s.db.Txn(ctx, id)
}
func (s storeRecords) Entities(ctx context.Context, k graph.Kind, fn func(graph.Entity) error) error {
	return entitiesOf(ctx, s.db, map[graph.Kind]bool{k: true}, fn)
}

// dgraphTarget imports into a Dgraph cluster; the rejects go beside the
// local casegraph store that holds the cases (local).
type dgraphTarget struct {
	dg    *dgraphdb.DB
	local string
}

func (t dgraphTarget) where() string      { return t.dg.Name() }
func (t dgraphTarget) rejectsDir() string { return RejectsDir(t.local) }
func (t dgraphTarget) sealer() *store.DB  { return nil }
func (t dgraphTarget) importedFile(ctx context.Context, sum string) (graph.Batch, bool, error) {
	return t.dg.ImportedFile(ctx, sum)
}
func (t dgraphTarget) newLoader(ctx context.Context) (importLoader, error) {
	return t.dg.NewLoader(ctx)
}
func (t dgraphTarget) records() recordReader { return t.dg }

// RejectsDir is where an import writes its rejects by default.
func RejectsDir(dbDir string) string { return filepath.Join(dbDir, "rejects") }

// bulkTarget writes the input of Dgraph's bulk loader for a fresh cluster
// (dgraphdb.BulkWriter): nothing was imported before, and the rejects go
// beside the files.
type bulkTarget struct{ w *dgraphdb.BulkWriter }

func (t bulkTarget) where() string      { return t.w.Dir() }
func (t bulkTarget) rejectsDir() string { return RejectsDir(t.w.Dir()) }
func (t bulkTarget) sealer() *store.DB  { return nil }
func (t bulkTarget) importedFile(context.Context, string) (graph.Batch, bool, error) {
	return graph.Batch{}, false, nil
}
func (t bulkTarget) newLoader(context.Context) (importLoader, error) { return t.w, nil }
func (t bulkTarget) records() recordReader                           { return t.w }

// ImportBulk imports files as Import does — the same importers, validation,
// rejects file and reconciled counts — into w, which writes them as the
// input of Dgraph's bulk loader for a fresh cluster (docs/DGRAPH.md,
// "Loading"). prog may be nil; the rejects go to rejectsPath, else under
// w's folder.
func ImportBulk(ctx context.Context, w *dgraphdb.BulkWriter, files []string, rejectsPath string, prog ImportProgress,
	prof *profile.Profile, as string) (ImportResult, error) {
	if as != "" && as != AsList {
		return ImportResult{}, fmt.Errorf("--as %q: want %q", as, AsList)
	}
	if prog == nil {
		prog = noProgress{}
	}
	return importFiles(ctx, bulkTarget{w}, files, rejectsPath, prog, prof, as)
}
