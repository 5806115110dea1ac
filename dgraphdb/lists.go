package dgraphdb

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dgraph-io/dgo/v250"

	"casegraph/graph"
)

// Lists on a cluster: the entities a watch list or register import named
// (docs/DGRAPH.md, "Analyses on a cluster"). An entity's record says which
// lists named it (its list_source property), but records are not indexed;
// cg.list is: every entity an imported list named carries the list's file
// name, so that a pull can start from a list's entities (--list NAME).

const predList = "cg.list" // the names of the list files an import found the entity on (exact)

const listSchema = predList + ": [string] @index(exact) .\n"

// listFormats are the import formats of lists (importers/lists).
var listFormats = []string{"watchlist", "address_list", "afsa_register"}

// MarkListed records that the list file name named refs (workbench writes
// it after a list import has committed): each entity gets name in cg.list.
// Marking again changes nothing; an entity the cluster does not hold is an
// error.
func (db *DB) MarkListed(ctx context.Context, name string, refs []graph.Ref) error {
	if err := alter(ctx, db.dg, listSchema); err != nil {
		return fmt.Errorf("dgraph %s: schema of lists: %w", db.url, err)
	}
	for lo := 0; lo < len(refs); lo += pullChunk {
		chunk := refs[lo:min(len(refs), lo+pullChunk)]
		err := db.commit(ctx, func(txn *dgo.Txn) error {
			uids, err := uidsIn(ctx, txn, chunk)
			if err != nil {
				return err
			}
			set := make([]any, 0, len(chunk))
			for _, r := range chunk {
				uid, ok := uids[r]
				if !ok {
					return fmt.Errorf("%s on list %s: %w", r, name, graph.ErrNotFound)
				}
				set = append(set, map[string]any{"uid": uid, predList: []string{name}})
			}
			return mutateJSON(ctx, txn, set, nil)
		})
		if err != nil {
			return fmt.Errorf("dgraph %s: record list %s: %w", db.url, name, err)
		}
	}
	return nil
}

// Listed returns the entities the list file name named (MarkListed), in
// reference order. A name no list import of the cluster had is an error
// that names the lists it has.
func (db *DB) Listed(ctx context.Context, name string) ([]graph.Ref, error) {
	// (Before the first list the predicate has no index to query.)
	if err := alter(ctx, db.dg, listSchema); err != nil {
		return nil, fmt.Errorf("dgraph %s: schema of lists: %w", db.url, err)
	}
	var out struct {
		E []refJSON `json:"e"`
	}
	q := fmt.Sprintf(`{ e(func: eq(%s, %s)) { %s } }`, predList, quote(name), refFields)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return nil, fmt.Errorf("dgraph %s: members of list %s: %w", db.url, name, err)
	}
	refs := make([]graph.Ref, 0, len(out.E))
	for _, e := range out.E {
		refs = append(refs, e.ref())
	}
	slices.SortFunc(refs, refCmp)
	if len(refs) > 0 {
		return refs, nil
	}
	lists, err := db.Lists(ctx)
	if err != nil {
		return nil, err
	}
	if slices.Contains(lists, name) {
		return nil, fmt.Errorf("list %s on %s names no entity", name, db.url)
	}
	known := "none was imported through casegraph import --db " + db.url
	if len(lists) > 0 {
		known = "imported lists: " + strings.Join(lists, ", ")
	}
	return nil, fmt.Errorf("no list %s on %s (%s)", name, db.url, known)
}

// Lists names the list files imported into the cluster (their import
// batches), in import order.
func (db *DB) Lists(ctx context.Context) ([]string, error) {
	bs, err := db.batches(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range bs {
		if n := filepath.Base(b.File); slices.Contains(listFormats, b.Format) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}
