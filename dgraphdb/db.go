// Package dgraphdb is casegraph's case database on a Dgraph v25 cluster: the
// second implementation of backend.Reader beside the embedded Badger store,
// and a loader the importers write into (an importers.Sink).
//
// The model (docs/DGRAPH.md, docs/adr/0003-dgraph-month-buckets.md): every
// entity is a node keyed by its stable reference (cg.ref, an upsert index);
// every transaction is a node keyed by its id (tx.id.NN, one of 32 hash
// buckets), because Dgraph keeps one edge per (subject, predicate, object)
// and repeated payments between the same instruments must all stay; an
// entity's transactions hang off it by month, sent.YYYY_MM and recv.YYYY_MM,
// and a transaction's attributes are its month's, tx.YYYY_MM.*, so that each
// month is its own predicates, Dgraph places each predicate whole on one
// group, and the months of a national data set spread over the groups while
// a time window reads only its months. Hubs keep monthly per-counterparty
// summaries (hubs.go). casegraph writes the schema itself (Schema,
// EnsureMonth).
package dgraphdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"casegraph/graph"

	"github.com/dgraph-io/dgo/v250"
	"github.com/dgraph-io/dgo/v250/protos/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Scheme is the --db URL scheme that names a Dgraph cluster.
const Scheme = "dgraph"

// IsURL reports whether a --db value names a Dgraph cluster.
func IsURL(s string) bool { return strings.HasPrefix(s, Scheme+"://") }

// ParseURL reads dgraph://host:port[,host:port…]: the alphas' gRPC addresses.
func ParseURL(s string) ([]string, error) {
	rest, ok := strings.CutPrefix(s, Scheme+"://")
	if !ok {
		return nil, fmt.Errorf("--db %s: want dgraph://host:port[,host:port…]", s)
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" || strings.ContainsAny(rest, "/?#@") {
		return nil, fmt.Errorf("--db %s: want dgraph://host:port[,host:port…] (the alphas' gRPC addresses, nothing else)", s)
	}
	var addrs []string
	for _, a := range strings.Split(rest, ",") {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("--db %s: %q is not host:port", s, a)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// DB is an open connection to a Dgraph cluster holding casegraph data.
type DB struct {
	url   string
	conns []*grpc.ClientConn
	// each is one client per alpha address, in the URL's order: month
	// predicates are created through alpha i%len(each), so that each group
	// the URL names serves its share of the months (EnsureMonth).
	each []*dgo.Dgraph
	dg   *dgo.Dgraph // round robin over all of them

	mu     sync.Mutex
	months []string // known month buckets, "2026_03", sorted
	// monthsOK: every entity lists its months (cg.months), so a query of
	// one entity's transactions names only those (entityMonths).
	monthsOK bool
	loaded   time.Time // when months was read from the schema; zero: never

	nb      nbCache[[]graph.Neighbor] // neighbour summaries read by PrefetchNeighbors
	mo      nbCache[[]string]         // each entity's months (cg.months), read by entityMonths
	queries atomic.Int64              // read-only queries sent (query), for tests and figures
}

// monthsTTL is how long the month list read from the schema is trusted: a
// TUI open for hours sees the months another import adds within it.
var monthsTTL = 10 * time.Second

// Open connects to the alphas a dgraph:// URL names and checks that they
// answer. It does not change the cluster: Schema does.
func Open(ctx context.Context, url string) (*DB, error) {
	addrs, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	db := &DB{url: url}
	var all []api.DgraphClient
	for _, a := range addrs {
		conn, err := grpc.NewClient(a, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("connect to dgraph alpha %s: %w", a, err)
		}
		db.conns = append(db.conns, conn)
		c := api.NewDgraphClient(conn)
		all = append(all, c)
		db.each = append(db.each, dgo.NewDgraphClient(c))
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = c.CheckVersion(cctx, &api.Check{})
		cancel()
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("dgraph alpha %s does not answer: %w", a, err)
		}
	}
	db.dg = dgo.NewDgraphClient(all...)
	return db, nil
}

// Close closes the connections.
func (db *DB) Close() error {
	var errs []error
	for _, c := range db.conns {
		errs = append(errs, c.Close())
	}
	db.conns = nil
	return errors.Join(errs...)
}

// Name is the URL, for the status bar.
func (db *DB) Name() string { return db.url }

// Alphas returns the number of alpha addresses the URL named.
func (db *DB) Alphas() int { return len(db.each) }

// query runs a read-only query with variables and decodes its JSON into out.
func (db *DB) query(ctx context.Context, q string, vars map[string]string, out any) error {
	db.queries.Add(1)
	resp, err := db.dg.NewReadOnlyTxn().QueryWithVars(ctx, q, vars)
	if err != nil {
		return fmt.Errorf("dgraph %s: %w", db.url, err)
	}
	if err := json.Unmarshal(resp.Json, out); err != nil {
		return fmt.Errorf("dgraph %s: decode answer: %w", db.url, err)
	}
	return nil
}

// Months returns the month buckets the cluster holds ("2026_03"), oldest
// first, read from its schema at most every monthsTTL and kept up to date by
// this process's loader.
func (db *DB) Months(ctx context.Context) ([]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.loaded.IsZero() || time.Since(db.loaded) > monthsTTL {
		var out struct {
			Schema []struct {
				Predicate string `json:"predicate"`
			} `json:"schema"`
		}
		if err := db.query(ctx, `schema {}`, nil, &out); err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		lists := false
		for _, p := range out.Schema {
			if m, ok := strings.CutPrefix(p.Predicate, predSent); ok && isMonth(m) {
				seen[m] = true
			}
			lists = lists || p.Predicate == predMonthsOK
		}
		db.monthsOK = false
		if lists { // a cluster without the predicate (older, or empty) has no mark
			var ok struct {
				S []map[string]bool `json:"s"`
			}
			q := fmt.Sprintf(`{ s(func: eq(%s, %s)) { %s } }`, predMeta, quote(metaStats), predMonthsOK)
			if err := db.query(ctx, q, nil, &ok); err != nil {
				return nil, err
			}
			db.monthsOK = len(ok.S) > 0 && ok.S[0][predMonthsOK]
		}
		db.months = db.months[:0]
		for m := range seen {
			db.months = append(db.months, m)
		}
		slices.Sort(db.months)
		db.loaded = time.Now()
	}
	return slices.Clone(db.months), nil
}

// Refresh forgets what was read of the schema, the prefetched neighbour
// summaries and the entities' months (after another process loaded new
// data).
func (db *DB) Refresh() {
	db.mu.Lock()
	db.loaded = time.Time{}
	db.mu.Unlock()
	db.nb.clear()
	db.mo.clear()
}

// DropAll deletes every predicate and all data of the cluster (tests, and a
// reload from scratch).
func (db *DB) DropAll(ctx context.Context) error {
	if err := alterOp(ctx, db.dg, &api.Operation{DropAll: true}); err != nil {
		return fmt.Errorf("dgraph %s: drop all: %w", db.url, err)
	}
	db.mu.Lock()
	db.months, db.loaded = nil, time.Time{}
	db.mu.Unlock()
	importGen.Add(1)
	db.nb.clear()
	db.mo.clear()
	return nil
}

// monthListsIgnored makes entityMonths name every month the cluster holds
// (a test compares the two).
var monthListsIgnored bool

// entityMonths returns the month buckets a query of refs' transactions must
// read, oldest first: the months the refs list (cg.months) when the
// cluster's loads recorded them for every entity (monthsOK), else every
// month the cluster holds. The cost of a page or a neighbour summary grows
// with the months it names, so an entity active in two months of a year's
// data is read in two (docs/DGRAPH.md, "Months of an entity"). Each ref's
// list is kept in the months cache (db.mo, nbCache's rules); the refs it
// does not hold fresh are read in one query. Without the mark nothing is
// cached or answered from the cache: an entity without a list there is not
// an entity without months.
func (db *DB) entityMonths(ctx context.Context, refs []graph.Ref) ([]string, error) {
	all, err := db.Months(ctx)
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	ok := db.monthsOK && !monthListsIgnored
	db.mu.Unlock()
	if !ok || len(refs) == 0 {
		return all, nil
	}
	seen := map[string]bool{}
	var res []string
	add := func(months []string) {
		for _, m := range months {
			if !seen[m] {
				seen[m] = true
				res = append(res, m)
			}
		}
	}
	var want []graph.Ref
	asked := map[graph.Ref]bool{}
	for _, r := range refs {
		if months, ok := db.mo.get(r); ok {
			add(months)
		} else if !asked[r] {
			asked[r] = true
			want = append(want, r)
		}
	}
	if len(want) > 0 {
		got, err := db.readEntityMonths(ctx, want)
		if err != nil {
			return nil, err
		}
		for _, months := range got {
			add(months)
		}
	}
	slices.Sort(res)
	return res, nil
}

// readEntityMonths reads the months refs list (cg.months) in one query and
// keeps each ref's in the months cache; a ref the cluster does not hold, or
// that lists none, has none (the cluster's lists are complete: monthsOK).
func (db *DB) readEntityMonths(ctx context.Context, refs []graph.Ref) (map[graph.Ref][]string, error) {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = quote(refID(r))
	}
	var out struct {
		E []struct {
			Ref    string   `json:"cg.ref"`
			Months []string `json:"cg.months"`
		} `json:"e"`
	}
	gen := importGen.Load()
	q := fmt.Sprintf(`{ e(func: eq(%s, [%s])) { %s %s } }`, predRef, strings.Join(ids, ","), predRef, predMonths)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return nil, err
	}
	byID := map[string][]string{}
	for _, e := range out.E {
		for _, m := range e.Months {
			if isMonth(m) {
				byID[e.Ref] = append(byID[e.Ref], m)
			}
		}
	}
	res := make(map[graph.Ref][]string, len(refs))
	for _, r := range refs {
		months := byID[refID(r)]
		slices.Sort(months)
		res[r] = months
		db.mo.put(r, months, gen)
	}
	return res, nil
}
