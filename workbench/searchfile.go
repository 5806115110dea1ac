package workbench

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"casegraph/graph"
	"casegraph/internal/mapfile"
	"casegraph/store"
)

// SearchFileName is the search index file kept in the database folder: the
// built search index, mapped on opening instead of rebuilt from the
// documents (docs/adr/0004-search-index-file.md). Like the graph index
// snapshot (indexsnap.go) it names the data it was built from by the store's
// Stamp: any import, finished or aborted, makes it stale, and the next
// LoadSearch on a database open for writing rebuilds and replaces it.
// Encrypted databases have none: it would hold the names in the clear
// (docs/SECURITY.md).
const SearchFileName = "search.idx"

func searchFilePath(db *store.DB) string { return filepath.Join(db.Dir(), SearchFileName) }

// errNoSearchFile means the database keeps no search index file.
var errNoSearchFile = errors.New("encrypted database: no search index file")

// openSearchFile maps the search index file of db when it is of the data as
// of st. Errors wrap os.ErrNotExist, graph.ErrStaleSearchFile,
// graph.ErrBadSearchFile or errNoSearchFile when there is no usable file.
func openSearchFile(db *store.DB, st store.Stamp) (*graph.SearchIndex, error) {
	if db.Encrypted() {
		return nil, errNoSearchFile
	}
	data, release, err := mapfile.Open(searchFilePath(db))
	if err != nil {
		return nil, err
	}
	ix, err := graph.OpenSearchIndex(data, st, release)
	if err != nil {
		release()
		return nil, err
	}
	return ix, nil
}

// saveSearchFile writes ix as the search index file of the data as of st:
// into a temporary file, then renamed over the old one, so that a process
// that has the old one mapped keeps reading it and a crash leaves either
// file whole (a torn one fails its checksums and is rebuilt). It is not
// synced: losing it costs one rebuild.
func saveSearchFile(ctx context.Context, db *store.DB, ix *graph.SearchIndex, st store.Stamp) error {
	if db.Encrypted() {
		return errNoSearchFile
	}
	return replaceFile(ctx, searchFilePath(db), func(f *os.File) error {
		w := bufio.NewWriterSize(f, 1<<20)
		if _, err := ix.WriteFile(w, st); err != nil {
			return err
		}
		return w.Flush()
	})
}

// prepareSearchFile is the last step of an import into db (open for
// writing): it builds the search index of the imported data and saves its
// file, so that the next start maps it instead of building it. It says what
// it did; a failure costs only that rebuild at the next start, so it is not
// an error of the import.
func prepareSearchFile(ctx context.Context, db *store.DB) string {
	if db.Encrypted() || !db.Writable() {
		return ""
	}
	st, err := db.Stamp()
	if err != nil {
		return "search index not saved: " + err.Error()
	}
	if ix, err := openSearchFile(db, st); err == nil {
		runtime.KeepAlive(ix)
		return "" // unchanged data (every file skipped): the file is current
	}
	ix, err := buildSearch(ctx, db)
	if err == nil {
		err = saveSearchFile(ctx, db, ix, st)
	}
	debug.FreeOSMemory()
	if err != nil {
		return "search index not saved (the next start builds it): " + err.Error()
	}
	return ""
}
