package workbench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"casegraph/backend"
	"casegraph/graph"
)

// A holder's money on a Dgraph cluster (docs/DGRAPH.md): the cluster has
// no merged listing of its own, so the holdings, combined neighbours and
// combined transaction pages are put together here from what every
// backend answers (backend.Reader: neighbours, pages with totals), in the
// order the Badger store's merge gives them (store/holdings.go), so that a
// holder's page on a cluster is a folder's.

// readerMerge is a holderStore over a backend.Reader.
type readerMerge struct{ backend.Reader }

func (m readerMerge) Holdings(ctx context.Context, ref graph.Ref, limit int) (graph.Holdings, error) {
	return readerHoldings(ctx, m.Reader, ref, limit)
}

func (m readerMerge) NeighborsOf(ctx context.Context, ref graph.Ref, held []graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	return readerNeighborsOf(ctx, m.Reader, ref, held, limit)
}

func (m readerMerge) TransactionsOf(ctx context.Context, owners []graph.Ref, q graph.TxQuery) (graph.TxPage, error) {
	return readerTransactionsOf(ctx, m.Reader, owners, q)
}

// ClusterHolderPages reads a holder's page straight from r, a cluster,
// as a workbench on it does (casegraph show --db dgraph://…, which needs no
// local store).
func ClusterHolderPages(r backend.Reader) HolderPages { return holderPages{readerMerge{r}} }

// readerHoldings is store.DB.Holdings over r: the holds links of ref's
// neighbours, each instrument's totals from the first row of its page.
func readerHoldings(ctx context.Context, r backend.Reader, ref graph.Ref, limit int) (graph.Holdings, error) {
	var h graph.Holdings
	nbs, _, err := r.Neighbors(ctx, ref, 0)
	if err != nil {
		return h, fmt.Errorf("read holdings of %s: %w", ref, err)
	}
	var items []graph.Holding
	for _, n := range nbs {
		if n.Relation == graph.LinkHolds.String() && n.Dir == graph.DirOut {
			items = append(items, graph.Holding{Ref: n.Ref, Name: n.Name})
		}
	}
	// The store reads the links in key order and at most MaxHoldings.
	slices.SortFunc(items, func(a, b graph.Holding) int { return keyOrder(a.Ref, b.Ref) })
	if len(items) > graph.MaxHoldings {
		items, h.Truncated = items[:graph.MaxHoldings], true
	}
	totals := func(o graph.Ref) (graph.TxPage, error) {
		return r.Transactions(ctx, o, graph.TxQuery{Sort: graph.SortTimeDesc, Limit: 1})
	}
	own, err := totals(ref)
	if err != nil {
		return graph.Holdings{}, fmt.Errorf("read holdings of %s: %w", ref, err)
	}
	err = graph.SumHoldings(&h, own, items, limit, totals)
	if err != nil {
		return graph.Holdings{}, fmt.Errorf("read holdings of %s: %w", ref, err)
	}
	return h, nil
}

// keyOrder orders references as the store's keys do: kind, then the key's
// length, then the key.
func keyOrder(a, b graph.Ref) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(len(a.Key), len(b.Key)); c != 0 {
		return c
	}
	return strings.Compare(a.Key, b.Key)
}

// relRank ranks a neighbour row's relation as the store does: links in
// LinkType order, then transaction channels in Channel order; money is
// false for a link row.
func relRank(rel string) (rank int, money bool) {
	if t, err := graph.ParseLinkType(rel); err == nil {
		return int(t), false
	}
	if c, err := graph.ParseChannel(rel); err == nil {
		return 256 + int(c), true
	}
	if n, ok := strings.CutPrefix(rel, "channel("); ok {
		if v, err := strconv.Atoi(strings.TrimSuffix(n, ")")); err == nil {
			return 256 + v, true
		}
	}
	return 256, true // "unknown": the channel of transactions without one
}

// readerNeighborsOf is store.DB.NeighborsOf over r: ref's rows, with the
// money rows of the instruments in held added in; a money row sums every
// owner's transactions with the same (channel, direction, other entity) and
// names the owner with the most of them (Via) and how many it came through.
func readerNeighborsOf(ctx context.Context, r backend.Reader, ref graph.Ref, held []graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	if len(held) > graph.MaxMerged {
		return nil, 0, fmt.Errorf("neighbours of %s: %d instruments, at most %d are combined", ref, len(held), graph.MaxMerged)
	}
	type key struct {
		rel   string
		dir   graph.Direction
		other graph.Ref
	}
	rows := map[key]*graph.Neighbor{}
	var order []graph.RankedNeighbor
	via := map[*graph.Neighbor]map[graph.Ref]int{}
	for i, o := range append([]graph.Ref{ref}, held...) {
		nbs, _, err := r.Neighbors(ctx, o, 0)
		if err != nil {
			return nil, 0, fmt.Errorf("read neighbours of %s: %w", ref, err)
		}
		for _, nb := range nbs {
			rank, money := relRank(nb.Relation)
			if !money && i > 0 {
				continue // the link rows are ref's own
			}
			k := key{nb.Relation, nb.Dir, nb.Ref}
			n := rows[k]
			if n == nil {
				c := nb
				c.Via, c.ViaCount = graph.Ref{}, 0
				if money {
					c.Count, c.Amount, c.FirstSeen, c.LastSeen = 0, 0, nb.FirstSeen, nb.LastSeen
				}
				n = &c
				rows[k] = n
				order = append(order, graph.RankedNeighbor{Rank: rank, Row: n})
			}
			if !money {
				continue
			}
			n.Count += nb.Count
			n.Amount = graph.AddSat(n.Amount, nb.Amount)
			if nb.FirstSeen.Before(n.FirstSeen) {
				n.FirstSeen = nb.FirstSeen
			}
			if nb.LastSeen.After(n.LastSeen) {
				n.LastSeen = nb.LastSeen
			}
			if n.Name == "" {
				n.Name = nb.Name
			}
			if len(held) > 0 {
				if via[n] == nil {
					via[n] = map[graph.Ref]int{}
				}
				via[n][o] += nb.Count
			}
		}
	}
	graph.PickVia(via)
	graph.SortNeighbors(order)
	total := len(order)
	if limit > 0 && len(order) > limit {
		order = order[:limit]
	}
	out := make([]graph.Neighbor, len(order))
	for i, n := range order {
		out[i] = *n.Row
	}
	return out, total, nil
}

// readerTransactionsOf is store.DB.TransactionsOf over r: one page of the
// transactions of every owner merged, each row naming its owner (Via), the
// totals those of the owners added up. Each owner's page is read from its
// first row to the end of the asked page (offset + limit rows), and the
// pages are merged in the store's order: by time, ties by the owner's
// place in owners, then in the owner's own order (newest first: exactly
// the reverse); by amount, ties by the owner's key order, then in the
// owner's own order.
func readerTransactionsOf(ctx context.Context, r backend.Reader, owners []graph.Ref, q graph.TxQuery) (graph.TxPage, error) {
	var page graph.TxPage
	if q.Offset < 0 || q.Limit < 0 {
		return page, fmt.Errorf("read transactions: negative offset or limit")
	}
	if len(owners) > graph.MaxMerged {
		return page, fmt.Errorf("read transactions: %d instruments, at most %d are merged", len(owners), graph.MaxMerged)
	}
	each := q
	each.Via, each.Offset = graph.Ref{}, 0
	if q.Limit > 0 {
		each.Limit = q.Offset + q.Limit
	}
	rows := make([][]graph.Txn, len(owners))
	for i, o := range owners {
		p, err := r.Transactions(ctx, o, each)
		if err != nil {
			return graph.TxPage{}, fmt.Errorf("read transactions of %d instruments: %w", len(owners), err)
		}
		page.Total += p.Total
		page.In, page.Out = graph.AddSat(page.In, p.In), graph.AddSat(page.Out, p.Out)
		page.Truncated = page.Truncated || p.Truncated
		rows[i] = p.Txns
	}
	// first reports whether owner i's head comes before owner j's.
	var first func(i, j int) bool
	switch q.Sort {
	case graph.SortTimeAsc, graph.SortTimeDesc:
		desc := q.Sort == graph.SortTimeDesc
		first = func(i, j int) bool {
			c := rows[i][0].Time.Compare(rows[j][0].Time)
			if c == 0 {
				c = cmp.Compare(i, j)
			}
			return (c < 0) != desc
		}
	case graph.SortAmountAsc, graph.SortAmountDesc:
		desc := q.Sort == graph.SortAmountDesc
		first = func(i, j int) bool {
			a, b := rows[i][0].Amount, rows[j][0].Amount
			if a != b {
				return (a < b) != desc
			}
			return keyOrder(owners[i], owners[j]) < 0
		}
	default:
		return graph.TxPage{}, fmt.Errorf("unknown sort %d", q.Sort)
	}
	for n := 0; q.Limit == 0 || len(page.Txns) < q.Limit; n++ {
		best := -1
		for i := range rows {
			if len(rows[i]) > 0 && (best < 0 || first(i, best)) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		t := rows[best][0]
		rows[best] = rows[best][1:]
		if n < q.Offset {
			continue
		}
		t.Via = owners[best]
		page.Txns = append(page.Txns, t)
	}
	return page, nil
}
