package workbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"casegraph/graph"
	"casegraph/store"
)

// indexBlob names the graph index snapshot among the store's blobs.
const indexBlob = "graph-index"

// readIndexSnapshot loads the graph index from the snapshot the last import
// stored. It returns store.ErrNotFound, store.ErrStale or
// graph.ErrBadSnapshot (wrapped) when there is no usable one.
func readIndexSnapshot(ctx context.Context, db *store.DB) (*graph.Index, error) {
	rc, err := db.Blob(ctx, indexBlob)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return graph.ReadIndex(rc)
}

// LoadIndex returns the graph index of db. An unencrypted database keeps it
// in the file graph.idx beside the store, mapped rather than read into the
// heap (indexfile.go, docs/adr/0005-mapped-graph-index.md); an encrypted one
// (or a host that cannot map the file) keeps a snapshot in the store, read
// into the heap. Either is used while it is current; else the index is
// rebuilt with the lean scan, calling progress with the records read and the
// total the statistics expect, and kept again when the database is open for
// writing: an unencrypted one lays the index out straight into its file and
// maps it (buildIndexFile), never holding the index in the heap. how says
// which, and why a kept index was not used.
func LoadIndex(ctx context.Context, db *store.DB, progress func(stage string, done, total int)) (*graph.Index, string, error) {
	defer limitWorkMemory()()
	ix, how, err := loadIndex(ctx, db, progress)
	if ix != nil && ix.Mapped() && strings.HasPrefix(how, "rebuilt") {
		// The builder's columns (buildIndexFile), or the heap copy
		// keepIndexFile mapped, are garbage now (nothing here holds them:
		// this is why loadIndex is a function of its own): give their
		// memory back, most of the analysis's own, before the rules run.
		debug.FreeOSMemory()
	}
	return ix, how, err
}

func loadIndex(ctx context.Context, db *store.DB, progress func(stage string, done, total int)) (ix *graph.Index, how string, err error) {
	if progress != nil {
		progress("loading graph", 0, 1)
	}
	loaded := func(ix *graph.Index, how string) (*graph.Index, string, error) {
		if progress != nil {
			progress("loading graph", 1, 1)
		}
		return ix, how, nil
	}
	var why string
	if useIndexFile(db) {
		st, err := db.Stamp()
		if err != nil {
			return nil, "", fmt.Errorf("load graph: %w", err)
		}
		ix, err = openIndexFile(db, st)
		if err == nil {
			return loaded(ix, "mapped from "+IndexFileName)
		}
		why = indexFileWhy(err)
		// A snapshot an earlier casegraph kept in the store.
		if ix, err := readIndexSnapshot(ctx, db); err == nil {
			how := "from snapshot (" + why + ")"
			if db.Writable() {
				ix, how = keepIndexFile(ctx, db, ix, st, how)
			}
			return loaded(ix, how)
		}
	} else {
		ix, err = readIndexSnapshot(ctx, db)
		if err == nil {
			return loaded(ix, "from snapshot")
		}
		// Any unusable snapshot (none, stale, damaged, unreadable) means a rebuild.
		why = err.Error()
		switch {
		case errors.Is(err, store.ErrNotFound):
			why = "no snapshot"
		case errors.Is(err, store.ErrStale):
			why = "snapshot stale"
		}
	}
	if ctx.Err() != nil {
		return nil, "", fmt.Errorf("load graph: %w", ctx.Err())
	}
	how = "rebuilt (" + why + ")"
	if db.Writable() && useIndexFile(db) {
		ix, err := buildIndexFile(ctx, db, db, progress)
		if err == nil {
			return ix, how + "; built into " + IndexFileName + " and mapped", nil
		}
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("load graph: %w", ctx.Err())
		}
		how += "; " + err.Error() + ", built in memory instead"
	}
	ix, st, err := buildIndexLean(ctx, db, progress)
	if err != nil {
		return nil, "", err
	}
	if db.Writable() && !useIndexFile(db) {
		if _, err := writeIndexSnapshot(ctx, db, ix, st); err != nil {
			how += "; " + err.Error() + ", the next start rebuilds it"
		}
	}
	return ix, how, nil
}

// buildIndexLean rebuilds the graph index in the heap from the store with
// the lean scan and returns it with the stamp of the data it read.
func buildIndexLean(ctx context.Context, db *store.DB, progress func(stage string, done, total int)) (*graph.Index, store.Stamp, error) {
	b, st, err := leanBuilder(ctx, db, db, progress, nil)
	if err != nil {
		return nil, st, err
	}
	return b.Build(), st, nil
}

// leanBuilder reads src, the store's lean scan or the records a bulk import
// of it kept (store.LeanLog), into an index builder and returns it with the
// stamp of db's data; the builder's transaction
// columns are in the memory mem gives when it is not nil (graph.LeanBuilder).
// progress, if not nil, is called every 65,536 records, and once more when
// the records are read.
func leanBuilder(ctx context.Context, db *store.DB, src graph.LeanSource, progress func(stage string, done, total int), mem func(int) ([]byte, error)) (*graph.IndexBuilder, store.Stamp, error) {
	st, err := db.Stamp()
	if err != nil {
		return nil, st, err
	}
	if progress == nil {
		progress = func(string, int, int) {}
	}
	total := 0
	if stats, err := db.Stats(ctx); err == nil {
		total = stats.Txns
		for _, n := range stats.Entities {
			total += n
		}
		for _, n := range stats.Links {
			total += n
		}
	}
	done := 0
	progress("loading graph", 0, total)
	b, err := graph.LeanBuilder(ctx, src, func() {
		if done++; done%65536 == 0 {
			progress("loading graph", done, total)
		}
	}, mem)
	if err != nil {
		return nil, st, fmt.Errorf("load graph: %w", err)
	}
	progress("loading graph", done, max(total, done))
	progress("indexing graph", total, total)
	return b, st, nil
}

// writeIndexSnapshot stores ix as the snapshot of the data as of st.
func writeIndexSnapshot(ctx context.Context, db *store.DB, ix *graph.Index, st store.Stamp) (int64, error) {
	pr, pw := io.Pipe()
	go func() {
		_, err := ix.WriteTo(pw)
		pw.CloseWithError(err)
	}()
	n, err := db.PutBlob(ctx, indexBlob, st, pr)
	// Unblock the writer if PutBlob stopped early.
	pr.CloseWithError(errors.New("snapshot not stored"))
	if err != nil {
		return 0, fmt.Errorf("store graph snapshot: %w", err)
	}
	return n, nil
}

// HasAnalysis reports whether db holds a current analysis: the one the
// TUI's or `casegraph flags`'s last run kept in the store (KeepAnalysis),
// still of the data the store holds. A current graph index is not one: a
// bulk import builds it (docs/adr/0008-index-built-by-the-import.md).
func HasAnalysis(ctx context.Context, db *store.DB) bool {
	run, ok, err := db.Analysis(ctx)
	return err == nil && ok && !run.Stale
}
