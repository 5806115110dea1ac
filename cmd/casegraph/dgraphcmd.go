package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"casegraph/backend"
	"casegraph/dgraphdb"
	"casegraph/workbench"
)

// --db dgraph://host:port[,host:port…] names a Dgraph cluster (docs/DGRAPH.md):
// search, show, stats, import and the TUI work on it; the other commands
// refuse it (dbFlags.open).

// remote reports whether --db names a Dgraph cluster.
func (f *dbFlags) remote() bool { return dgraphdb.IsURL(f.dir) }

// openReader opens what the read commands read: the cluster, or the store
// (read-only) through a workbench. The caller calls done.
func (f *dbFlags) openReader(ctx context.Context) (r backend.Reader, wb *workbench.Workbench, done func(), err error) {
	if f.remote() {
		dg, err := dgraphdb.Open(ctx, f.dir)
		if err != nil {
			return nil, nil, nil, err
		}
		return dg, nil, func() { dg.Close() }, nil
	}
	db, err := f.openIn(ctx, false, true)
	if err != nil {
		return nil, nil, nil, err
	}
	b := backendOf(ctx, db)
	return b, b, func() { db.Close() }, nil
}

// remoteLocalDir is the local casegraph store beside a cluster: it keeps the
// cases, bookmarks, verdicts, the journal and the import rejects, one per
// cluster URL, under $CASEGRAPH_HOME/dgraph.
func remoteLocalDir(url string) string {
	name := strings.NewReplacer(":", "_", ",", "+", "/", "", "[", "", "]", "").Replace(strings.TrimPrefix(url, dgraphdb.Scheme+"://"))
	return filepath.Join(defaultHome(), "dgraph", name)
}

// openRemote opens a workbench on the cluster --db names, with its local
// store (created on first use). The caller calls done.
func (f *dbFlags) openRemote(ctx context.Context) (*workbench.Workbench, func(), error) {
	dg, err := dgraphdb.Open(ctx, f.dir)
	if err != nil {
		return nil, nil, err
	}
	local := *f
	local.dir = remoteLocalDir(f.dir)
	db, err := local.open(true, false)
	if err != nil {
		dg.Close()
		return nil, nil, fmt.Errorf("local store of %s: %w", f.dir, err)
	}
	return workbench.NewRemote(db, dg), func() { db.Close(); dg.Close() }, nil
}
