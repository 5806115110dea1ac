package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

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

// buildIndexLean rebuilds the graph index from the store with the lean scan,
// drawing progress, and returns it with the stamp of the data it read.
func buildIndexLean(ctx context.Context, db *store.DB, p *progress) (*graph.Index, store.Stamp, error) {
	st, err := db.Stamp()
	if err != nil {
		return nil, st, err
	}
	b := graph.NewIndexBuilder()
	if stats, err := db.Stats(ctx); err == nil {
		b.Reserve(stats)
	}
	var ents, links, txns int
	tick := func() {
		if p.due(time.Now(), false) {
			p.draw(fmt.Sprintf("%-22s %s records", "loading graph", count(ents+links+txns)))
		}
	}
	err = db.ScanLean(ctx,
		func(e *graph.ScanEntity) error { b.AddScanEntity(e); ents++; tickEvery(ents, tick); return nil },
		func(l *graph.ScanLink) error { b.AddScanLink(l); links++; return nil },
		func(t *graph.ScanTxn) error { b.AddScanTxn(t); txns++; tickEvery(txns, tick); return nil })
	if err != nil {
		return nil, st, fmt.Errorf("load graph: %w", err)
	}
	return b.Build(), st, nil
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

// refreshIndexSnapshot rebuilds the graph index after an import and stores
// its snapshot, so the next start loads it instead of scanning the store. A
// failure leaves the import intact: the next start rebuilds the index.
func refreshIndexSnapshot(ctx context.Context, db *store.DB, progress io.Writer) error {
	start := time.Now()
	p := newProgress(progress)
	ix, st, err := buildIndexLean(ctx, db, p)
	p.done()
	if err != nil {
		return err
	}
	n, err := writeIndexSnapshot(ctx, db, ix, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "graph snapshot: %s nodes, %s transactions, %.1f MiB in %s\n",
		count(ix.Len()), count(ix.TxCount()), float64(n)/(1<<20), time.Since(start).Round(time.Millisecond))
	return nil
}
