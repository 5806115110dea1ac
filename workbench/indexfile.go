package workbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"casegraph/graph"
	"casegraph/internal/mapfile"
	"casegraph/store"
)

// IndexFileName is the graph index file kept in the database folder: the
// graph index a bulk import (docs/adr/0008-index-built-by-the-import.md) or
// an analysis built, mapped by every analysis instead of read into the heap
// (docs/adr/0005-mapped-graph-index.md). Like the search index file it
// names the data it was built from by the store's Stamp: any later import,
// finished or aborted, makes it stale, and the next analysis on a database
// open for writing rebuilds and replaces it. Encrypted databases
// have none (they keep the snapshot in the encrypted store): it would hold
// every key, name and amount in the clear (docs/SECURITY.md).
const IndexFileName = "graph.idx"

func indexFilePath(db *store.DB) string { return filepath.Join(db.Dir(), IndexFileName) }

// errNoIndexFile means the database keeps no graph index file.
var errNoIndexFile = errors.New("no graph index file: encrypted database, or a host that cannot map it")

// useIndexFile reports whether db keeps its graph index in a file: not when
// it is encrypted, nor on a host whose memory layout is not the file's.
func useIndexFile(db *store.DB) bool { return !db.Encrypted() && graph.IndexFileSupported }

// openIndexFile maps the graph index file of db when it is of the data as
// of st. Errors wrap os.ErrNotExist, graph.ErrStaleIndexFile,
// graph.ErrBadIndexFile or errNoIndexFile when there is no usable file.
func openIndexFile(db *store.DB, st store.Stamp) (*graph.Index, error) {
	if !useIndexFile(db) {
		return nil, errNoIndexFile
	}
	data, release, err := mapfile.Open(indexFilePath(db))
	if err != nil {
		return nil, err
	}
	ix, err := graph.OpenIndexFile(data, st, release)
	if err != nil {
		release()
		return nil, fmt.Errorf("%s: %w", indexFilePath(db), err)
	}
	return ix, nil
}

// indexFileWhy says in a few words why the file was not used.
func indexFileWhy(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no " + IndexFileName
	case errors.Is(err, graph.ErrStaleIndexFile):
		return IndexFileName + " stale"
	}
	return err.Error()
}

// saveIndexFile writes ix as the graph index file of the data as of st:
// into a temporary file (0600), then renamed over the old one, so that a
// process that has the old one mapped keeps reading it and a crash leaves
// either file whole (a torn one fails its checksums and is rebuilt). It is
// not synced: losing it costs one rebuild.
func saveIndexFile(ctx context.Context, db *store.DB, ix *graph.Index, st store.Stamp) error {
	if !useIndexFile(db) {
		return errNoIndexFile
	}
	return replaceFile(ctx, indexFilePath(db), func(f *os.File) error {
		_, err := ix.WriteFile(f, st)
		return err
	})
}

// buildIndexFile builds the graph index of db from src (db's lean scan, or
// the records a bulk import of it kept) straight into its file and maps it: the builder keeps the transactions' columns in a mapped
// scratch file (mapfile.Scratch) and lays the index out in a writable
// mapping of a temporary file (graph.BuildFile, mapfile.Writable) renamed
// over the old one as saveIndexFile does, so that neither the index's arrays
// nor the bulk of the builder's are the process's own memory
// (docs/adr/0007-index-built-into-its-file.md). The builder is garbage when
// it returns.
func buildIndexFile(ctx context.Context, db *store.DB, src graph.LeanSource, progress func(stage string, done, total int)) (*graph.Index, error) {
	var release func()
	defer func() {
		if release != nil {
			release()
		}
	}()
	b, st, err := leanBuilder(ctx, db, src, progress, func(size int) ([]byte, error) {
		data, r, err := mapfile.Scratch(db.Dir(), size)
		release = r
		return data, err
	})
	if err != nil {
		return nil, err
	}
	err = replaceFile(ctx, indexFilePath(db), func(f *os.File) error {
		var done func() error
		err := b.BuildFile(ctx, st, func(size int) ([]byte, error) {
			data, d, err := mapfile.Writable(f, size)
			done = d
			return data, err
		})
		if done != nil {
			if derr := done(); err == nil {
				err = derr
			}
		}
		return err
	})
	// The builder's columns point into the scratch memory: it is not used
	// from here on, and the memory goes now rather than at the return.
	if release != nil {
		release()
		release = nil
	}
	if err != nil {
		return nil, err
	}
	ix, err := openIndexFile(db, st)
	if err != nil {
		return nil, fmt.Errorf("built %s but could not map it: %w", IndexFileName, err)
	}
	// A snapshot an earlier casegraph kept in the store is of no more use.
	_ = db.DeleteBlob(ctx, indexBlob)
	return ix, nil
}

// replaceFile writes the file at path with write, through a temporary file
// (0600) in the same folder renamed over it. Temporary files a killed
// process left behind are removed first.
func replaceFile(ctx context.Context, path string, write func(*os.File) error) error {
	if old, err := filepath.Glob(path + ".*.tmp"); err == nil {
		for _, o := range old {
			os.Remove(o)
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	tmp := f.Name()
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// keepIndexFile saves ix, an index in the heap, as the graph index file and
// returns the index mapped from that file, for the caller to let the heap
// copy go; when that fails it returns ix and says why in how.
func keepIndexFile(ctx context.Context, db *store.DB, ix *graph.Index, st store.Stamp, how string) (*graph.Index, string) {
	if err := saveIndexFile(ctx, db, ix, st); err != nil {
		return ix, how + "; " + err.Error() + ", the next start rebuilds it"
	}
	mapped, err := openIndexFile(db, st)
	if err != nil {
		return ix, how + "; saved " + IndexFileName + " but could not map it: " + err.Error()
	}
	// A snapshot an earlier casegraph kept in the store is of no more use.
	if db.Writable() {
		_ = db.DeleteBlob(ctx, indexBlob)
	}
	return mapped, how + "; saved and mapped " + IndexFileName
}

// keepLean asks the loader of a bulk import into an unencrypted store to
// keep the records the graph index is built from, and returns it when it
// will (buildIndexAtImport); nil otherwise.
func keepLean(db importTarget, loader importLoader) *store.Loader {
	t, local := db.(storeTarget)
	l, ok := loader.(*store.Loader)
	if !local || !ok || !useIndexFile(t.db) || !l.KeepLean() {
		return nil
	}
	return l
}

// buildIndexAtImport builds the graph index file as the last step of a bulk
// import, from the records the loader kept while it wrote the database
// rather than from a scan of it (docs/adr/0008-index-built-by-the-import.md),
// so that the first analysis maps it. An incremental import, or an
// encrypted database, leaves the index stale for the first analysis to
// rebuild (LoadIndex). It reports whether the file was built, else why not:
// a failure here leaves the import whole and costs the first analysis one
// rebuild.
func buildIndexAtImport(ctx context.Context, db *store.DB, l *store.Loader, stage func(stage string, done, total int64)) (bool, string) {
	g := l.LeanLog()
	if g == nil {
		return false, ""
	}
	defer g.Close()
	defer limitWorkMemory()()
	// The index mapped at the end is dropped: the analysis maps it again.
	stages := map[string]string{"loading graph": "graph index: read", "indexing graph": "graph index: lay out"}
	_, err := buildIndexFile(ctx, db, g, func(name string, done, total int) {
		if s, ok := stages[name]; ok {
			name = s
		}
		stage(name, int64(done), int64(total))
	})
	debug.FreeOSMemory()
	if err != nil {
		return false, "graph index not built (the first analysis builds it): " + err.Error()
	}
	return true, ""
}
