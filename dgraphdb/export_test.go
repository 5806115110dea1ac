package dgraphdb

import (
	"context"
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

// CountEdges is what a pull counts before it reads a hop of nodes: their
// month-bucket edges in the window of opt.
func (db *DB) CountEdges(ctx context.Context, refs []graph.Ref, opt PullOptions) (int, error) {
	opt.Seeds = refs
	months, err := db.Months(ctx)
	if err != nil {
		return 0, err
	}
	p := &puller{db: db, opt: opt, months: windowMonths(months, opt.From, opt.To),
		filter: txFilter(graph.TxQuery{From: opt.From, To: opt.To}), nodes: map[string]*pullNode{}}
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
