package workbench

import (
	"context"
	"errors"
	"fmt"

	"casegraph/dgraphdb"
	"casegraph/store"
)

// ErrRemote is returned by the work that a workbench on a Dgraph cluster
// does not do yet: the analyses, entity resolution and exports read the whole
// graph into memory from the local store, and the national data are not
// there (docs/DGRAPH.md, what is left of issue #12).
var ErrRemote = errors.New("not available on a Dgraph cluster yet")

// NewRemote opens a workbench whose data are on a Dgraph cluster: search,
// entities, neighbours, transaction pages and stats are read from dg, and
// imports write into it; cases, bookmarks, verdicts and the journal stay in
// the local casegraph store local (the team's work product, not the
// national data). The caller keeps closing both.
func NewRemote(local *store.DB, dg *dgraphdb.DB) *Workbench {
	return &Workbench{shared: &shared{db: local, name: dg.Name(), remote: dg, local: newLocalIndex(LocalSearchMax)}}
}

// Remote returns the Dgraph cluster the workbench reads, or nil.
func (b *Workbench) Remote() *dgraphdb.DB { return b.remote }

// target is where Import writes.
func (b *Workbench) target() importTarget {
	if b.remote != nil {
		return dgraphTarget{dg: b.remote, local: b.db.Dir()}
	}
	return storeTarget{b.db}
}

// notRemote refuses work that reads the whole graph from the local store.
func (b *Workbench) notRemote(what string) error {
	if b.remote != nil {
		return fmt.Errorf("%s of %s: %w", what, b.remote.Name(), ErrRemote)
	}
	return nil
}

// noSearchLoad is LoadSearch's answer on a cluster: it serves search itself.
func (b *Workbench) noSearchLoad(ctx context.Context) bool { return b.remote != nil }
