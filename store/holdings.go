package store

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// A person's or organisation's money is on the instruments they hold (holds
// links): these read it combined, as the investigator reads a person.

// Holdings returns the instruments ref holds (its outgoing holds links), at
// most limit of them in Items (most transactions first; all when limit ≤ 0),
// with the totals of every one read and of ref's own transactions.
func (db *DB) Holdings(ctx context.Context, ref graph.Ref, limit int) (graph.Holdings, error) {
	var h graph.Holdings
	err := db.view(ctx, func(txn *badger.Txn) error {
		prefix := append(refPrefix(pfxLinkOut, ref), byte(graph.LinkHolds))
		var items []graph.Holding
		err := scan(ctx, txn, prefix, false, func(k, _ []byte) error {
			if len(items) == graph.MaxHoldings {
				h.Truncated = true
				return errEnoughHoldings
			}
			_, _, _, other, err := parseLinkKey(k)
			if err != nil {
				return err
			}
			items = append(items, graph.Holding{Ref: other})
			return nil
		})
		if err != nil && !errors.Is(err, errEnoughHoldings) {
			return err
		}
		var own graph.TxPage
		if err := readTotals(ctx, txn, ref, &own); err != nil {
			return err
		}
		err = graph.SumHoldings(&h, own, items, limit, func(r graph.Ref) (graph.TxPage, error) {
			var p graph.TxPage
			err := readTotals(ctx, txn, r, &p)
			return p, err
		})
		if err != nil {
			return err
		}
		items = h.Items
		name := db.namer(txn)
		for i := range items {
			if items[i].Name, err = name(items[i].Ref); err != nil {
				return err
			}
		}
		h.Items = items
		return nil
	})
	if err != nil {
		return graph.Holdings{}, fmt.Errorf("read holdings of %s: %w", ref, err)
	}
	return h, nil
}

var errEnoughHoldings = errors.New("enough holdings")

// NeighborsOf is Neighbors of ref with the money rows of the instruments in
// held added in, each naming the instrument it came through (Via).
func (db *DB) NeighborsOf(ctx context.Context, ref graph.Ref, held []graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	if len(held) > graph.MaxMerged {
		return nil, 0, fmt.Errorf("neighbours of %s: %d instruments, at most %d are combined", ref, len(held), graph.MaxMerged)
	}
	return db.neighborsOf(ctx, ref, held, limit)
}

// TransactionsOf is one page of the transactions of every owner merged: in
// time order by a k-way merge over the owners' rows (linear in the page's
// offset and length, one iterator per owner), or in amount order over all
// of them (up to maxTotals, as Transactions). Every row names its owner
// (Txn.Via); the totals add up the owners' totals. A transfer between two
// owners is listed once for each, as in their own listings.
func (db *DB) TransactionsOf(ctx context.Context, owners []graph.Ref, q graph.TxQuery) (graph.TxPage, error) {
	var page graph.TxPage
	if q.Offset < 0 || q.Limit < 0 {
		return page, fmt.Errorf("read transactions: negative offset or limit")
	}
	if len(owners) > graph.MaxMerged {
		return page, fmt.Errorf("read transactions: %d instruments, at most %d are merged", len(owners), graph.MaxMerged)
	}
	err := db.view(ctx, func(txn *badger.Txn) error {
		for _, o := range owners {
			var p graph.TxPage
			totals := readTotals
			if q.Ranged() || q.Banded() { // a range or a band has no persisted totals
				totals = func(ctx context.Context, txn *badger.Txn, o graph.Ref, p *graph.TxPage) error {
					return rangeTotals(ctx, txn, o, q, p)
				}
			}
			if err := totals(ctx, txn, o, &p); err != nil {
				return err
			}
			page.Total += p.Total
			page.In, page.Out = graph.AddSat(page.In, p.In), graph.AddSat(page.Out, p.Out)
			page.Truncated = page.Truncated || p.Truncated
		}
		switch q.Sort {
		case graph.SortTimeDesc, graph.SortTimeAsc:
			return mergedTimePage(ctx, txn, owners, q, &page)
		case graph.SortAmountDesc, graph.SortAmountAsc:
			prefixes := make([][]byte, len(owners))
			for i, o := range owners {
				prefixes[i] = refPrefix(pfxTxn, o)
			}
			return amountPageOf(ctx, txn, prefixes, q, &page, true)
		}
		return fmt.Errorf("unknown sort %d", q.Sort)
	})
	if err != nil {
		return graph.TxPage{}, fmt.Errorf("read transactions of %d instruments: %w", len(owners), err)
	}
	return page, nil
}

// txMergeHead is one owner's next row in the merge.
type txMergeHead struct {
	owner int
	it    *badger.Iterator
	at    []byte // the row's time, 8 bytes: byte order is time order
	rest  []byte // the key after the time: the id and direction
}

type txMergeHeap struct {
	heads []txMergeHead
	desc  bool
}

func (h *txMergeHeap) Len() int { return len(h.heads) }
func (h *txMergeHeap) Less(i, j int) bool {
	a, b := &h.heads[i], &h.heads[j]
	c := bytes.Compare(a.at, b.at)
	if c == 0 {
		c = cmp.Compare(a.owner, b.owner)
	}
	if c == 0 {
		c = bytes.Compare(a.rest, b.rest)
	}
	if h.desc {
		return c > 0
	}
	return c < 0
}
func (h *txMergeHeap) Swap(i, j int) { h.heads[i], h.heads[j] = h.heads[j], h.heads[i] }
func (h *txMergeHeap) Push(x any)    { h.heads = append(h.heads, x.(txMergeHead)) }
func (h *txMergeHeap) Pop() any {
	x := h.heads[len(h.heads)-1]
	h.heads = h.heads[:len(h.heads)-1]
	return x
}

// mergedTimePage merges the owners' rows by time: (time, owner, id) in
// ascending order, or exactly its reverse, so every row has one place and
// a page boundary never drops or repeats one. It skips q.Offset rows
// without reading their values, unless q has an amount band: then every
// head is a row in the band.
func mergedTimePage(ctx context.Context, txn *badger.Txn, owners []graph.Ref, q graph.TxQuery, page *graph.TxPage) error {
	desc := q.Sort == graph.SortTimeDesc
	h := &txMergeHeap{desc: desc}
	prefixes := make([][]byte, len(owners))
	// Each owner's rows in q's range (all of them when q has none) lie in
	// [lo, hi).
	los, his := make([][]byte, len(owners)), make([][]byte, len(owners))
	defer func() {
		for _, hd := range h.heads {
			hd.it.Close()
		}
	}()
	// head reads the iterator's current row into a head, moving past the
	// rows outside q's amount band; no head (it nil) when the owner has no
	// rows left.
	head := func(i int, it *badger.Iterator) (txMergeHead, error) {
		p := prefixes[i]
		for n := 1; ; n++ {
			if !it.ValidForPrefix(p) {
				return txMergeHead{}, nil
			}
			k := it.Item().Key()
			if bytes.Compare(k, los[i]) < 0 || bytes.Compare(k, his[i]) >= 0 {
				return txMergeHead{}, nil
			}
			if len(k) < len(p)+8 {
				return txMergeHead{}, fmt.Errorf("transaction key %x: %w", k, errShortKey)
			}
			ok, err := itemKeeps(q, it.Item())
			if err != nil {
				return txMergeHead{}, err
			}
			if ok {
				return txMergeHead{owner: i, it: it, at: bytes.Clone(k[len(p) : len(p)+8]), rest: bytes.Clone(k[len(p)+8:])}, nil
			}
			if n%progressEvery == 0 {
				if err := ctx.Err(); err != nil {
					return txMergeHead{}, err
				}
			}
			it.Next()
		}
	}
	for i, o := range owners {
		prefixes[i] = refPrefix(pfxTxn, o)
		los[i], his[i] = txnRangeKeys(prefixes[i], q)
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		opt.Prefix = prefixes[i]
		opt.Reverse = desc
		it := txn.NewIterator(opt)
		if desc {
			it.Seek(his[i]) // the last row before hi: rows at hi's time have longer keys
		} else {
			it.Seek(los[i])
		}
		hd, err := head(i, it)
		if err != nil {
			it.Close()
			return err
		}
		if hd.it == nil {
			it.Close()
			continue
		}
		h.heads = append(h.heads, hd)
	}
	heap.Init(h)
	// next moves the smallest head on.
	next := func() error {
		top := &h.heads[0]
		top.it.Next()
		hd, err := head(top.owner, top.it)
		if err != nil {
			return err
		}
		if hd.it == nil {
			done := heap.Pop(h).(txMergeHead)
			done.it.Close()
			return nil
		}
		h.heads[0] = hd
		heap.Fix(h, 0)
		return nil
	}
	for skip := q.Offset; skip > 0 && h.Len() > 0; skip-- {
		if skip%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := next(); err != nil {
			return err
		}
	}
	for h.Len() > 0 && (q.Limit == 0 || len(page.Txns) < q.Limit) {
		// Read the row before moving its iterator on.
		top := h.heads[0]
		item := top.it.Item()
		key := item.KeyCopy(nil)
		err := item.Value(func(v []byte) error {
			t, err := decodeTxn(key, v)
			t.Via = owners[top.owner]
			page.Txns = append(page.Txns, t)
			return err
		})
		if err != nil {
			return err
		}
		if err := next(); err != nil {
			return err
		}
	}
	return nil
}
