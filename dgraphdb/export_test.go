package dgraphdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"casegraph/graph"
)

// SetMonthsTTL sets how long Months trusts its list, for a test; it returns
// the old value.
func SetMonthsTTL(d time.Duration) time.Duration {
	old := monthsTTL
	monthsTTL = d
	return old
}

// TxIDPred is the id predicate of a transaction id's bucket ("tx.id.07").
func TxIDPred(id string) string { return predTxID(idBucket(id)) }

// CountEdges is what a pull counts before it reads a hop of nodes: their
// month-bucket edges in the window of opt.
func (db *DB) CountEdges(ctx context.Context, refs []graph.Ref, opt PullOptions) (int, error) {
	opt.Seeds = refs
	months, err := db.Months(ctx)
	if err != nil {
		return 0, err
	}
	p := &puller{db: db, opt: opt, months: windowMonths(months, opt.From, opt.To),
		filter: filterOf(graph.TxQuery{From: opt.From, To: opt.To}), nodes: map[string]*pullNode{}}
	opt.MaxNodes = len(refs)
	p.opt = opt
	frontier, err := p.seeds(ctx)
	if err != nil {
		return 0, err
	}
	uids := make([]string, len(frontier))
	for i, n := range frontier {
		uids[i] = n.uid
	}
	return p.countEdges(ctx, strings.Join(uids, ", "))
}

// CountHas counts the nodes that have pred.
func (db *DB) CountHas(ctx context.Context, pred string) (int, error) {
	var out struct {
		Q []struct {
			N int `json:"count"`
		} `json:"q"`
	}
	if err := db.query(ctx, `{ q(func: has(`+pred+`)) { count(uid) } }`, nil, &out); err != nil {
		return 0, err
	}
	if len(out.Q) == 0 {
		return 0, nil
	}
	return out.Q[0].N, nil
}

// TxFields are the attribute fields of a transaction (tx.YYYY_MM.FIELD).
func TxFields() []string {
	out := make([]string, len(txFields))
	for i, f := range txFields {
		out[i] = f.field
	}
	return out
}

// TxIDBuckets is the number of id buckets.
const TxIDBuckets = txIDBuckets

// Queries is how many read-only queries db has sent.
func (db *DB) Queries() int64 { return db.queries.Load() }

// SetNeighborCache sets the neighbour cache's size and age limits, for a
// test; it returns the old ones.
func SetNeighborCache(max int, ttl time.Duration) (int, time.Duration) {
	om, ot := nbMax, nbTTL
	nbMax, nbTTL = max, ttl
	return om, ot
}

// SetMaxPrefetch sets how many entities a prefetch reads, for a test; it
// returns the old value.
func SetMaxPrefetch(n int) int {
	old := prefetchMax
	prefetchMax = n
	return old
}

// SetHubMin sets the hub threshold, for a test; it returns the old one.
func SetHubMin(n int) int {
	old := hubMin
	hubMin = n
	return old
}

// SetHubsIgnored makes Neighbors group every month's transactions, hub
// summaries or not (the answer the summaries must give), for a test.
func SetHubsIgnored(on bool) { hubsIgnored = on }

// HubMonths counts, over every month, the entities with hub summaries and
// the entities with transactions.
func (db *DB) HubMonths(ctx context.Context) (hubs, pairs int, err error) {
	months, err := db.Months(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range months {
		h, err := db.CountHas(ctx, predHubs+m)
		if err != nil {
			return 0, 0, err
		}
		var out struct {
			Q []struct {
				N int `json:"count"`
			} `json:"q"`
		}
		q := fmt.Sprintf(`{ q(func: has(%s%s)) @filter(NOT has(%s%s)) { count(uid) } }`, predSent, m, predRecv, m)
		if err := db.query(ctx, q, nil, &out); err != nil {
			return 0, 0, err
		}
		r, err := db.CountHas(ctx, predRecv+m)
		if err != nil {
			return 0, 0, err
		}
		hubs += h
		pairs += r
		if len(out.Q) > 0 {
			pairs += out.Q[0].N
		}
	}
	return hubs, pairs, nil
}

// HasHub reports whether ref has hub summaries in month m.
func (db *DB) HasHub(ctx context.Context, ref graph.Ref, m string) (bool, error) {
	var out struct {
		E []struct {
			N int `json:"n"`
		} `json:"e"`
	}
	q := fmt.Sprintf(`{ e(func: eq(%s, %s)) { n: count(%s%s) } }`, predRef, quote(refID(ref)), predHubs, m)
	if err := db.query(ctx, q, nil, &out); err != nil {
		return false, err
	}
	return len(out.E) > 0 && out.E[0].N > 0, nil
}

// EntityMonths is entityMonths: the months a query of refs reads.
func (db *DB) EntityMonths(ctx context.Context, refs []graph.Ref) ([]string, error) {
	return db.entityMonths(ctx, refs)
}

// MonthsRecorded reports whether the cluster says every entity lists its
// months (cg.monthsok), as read with the month buckets.
func (db *DB) MonthsRecorded(ctx context.Context) (bool, error) {
	db.Refresh()
	if _, err := db.Months(ctx); err != nil {
		return false, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.monthsOK, nil
}

// SetMonthListsIgnored makes entityMonths name every month, as on a cluster
// whose first load was not recorded (a test compares the two).
func SetMonthListsIgnored(on bool) { monthListsIgnored = on }

// SetLocalSortMax sets localSortMax (0: the cluster orders every month's
// rows) and returns the old value.
func SetLocalSortMax(n int) int {
	old := localSortMax
	localSortMax = n
	return old
}
