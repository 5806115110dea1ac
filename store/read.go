package store

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// maxTotals caps how many transactions Transactions reads to sum totals when
// no persisted totals exist, and how many Neighbors aggregates.
const maxTotals = 200_000

func (db *DB) view(ctx context.Context, fn func(txn *badger.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bdb.View(fn)
}

// Entity returns the full entity, else its stub, else an error wrapping ErrNotFound.
func (db *DB) Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error) {
	var e graph.Entity
	err := db.view(ctx, func(txn *badger.Txn) error {
		var err error
		e, err = getEntity(txn, ref)
		return err
	})
	if err != nil {
		return graph.Entity{}, fmt.Errorf("read entity %s: %w", ref, err)
	}
	return e, nil
}

func getEntity(txn *badger.Txn, ref graph.Ref) (graph.Entity, error) {
	for _, stub := range []bool{false, true} {
		item, err := txn.Get(entityKey(ref, stub))
		if errors.Is(err, badger.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return graph.Entity{}, err
		}
		var e graph.Entity
		err = item.Value(func(v []byte) error {
			e, err = decodeEntity(ref, stub, v)
			return err
		})
		return e, err
	}
	return graph.Entity{}, ErrNotFound
}

// relOrder ranks relations: links in LinkType order, then transaction
// channels in Channel order, so structure is listed before money.
func relOrder(isTxn bool, code uint8) int {
	if isTxn {
		return 256 + int(code)
	}
	return int(code)
}

type nbKey struct {
	rel   int
	dir   graph.Direction
	other string // encoded ref
}

// Neighbors returns the aggregated edges of ref: one row per (relation,
// direction, other entity), ordered by relation (links, then transaction
// channels), then Count descending, then reference. It returns at most limit
// rows (all when limit ≤ 0), with names filled in, and the total row count.
// Transactions beyond the first maxTotals of an entity are not aggregated.
func (db *DB) Neighbors(ctx context.Context, ref graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	return db.neighborsOf(ctx, ref, nil, limit)
}

// neighborsOf is Neighbors of ref with the money rows of the instruments it
// holds added in (holdings.go): a money row sums every owner's
// transactions with the same (channel, direction, other entity), and names
// the owner with the most of them (Via) and how many owners it came
// through (ViaCount). The link rows are ref's own.
func (db *DB) neighborsOf(ctx context.Context, ref graph.Ref, held []graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	rows := map[nbKey]*graph.Neighbor{}
	// via counts, per money row, the transactions each owner brought.
	via := map[*graph.Neighbor]map[graph.Ref]int{}
	var owner graph.Ref
	row := func(k nbKey, other graph.Ref, rel string) *graph.Neighbor {
		n := rows[k]
		if n == nil {
			n = &graph.Neighbor{Ref: other, Relation: rel, Dir: k.dir}
			rows[k] = n
		}
		return n
	}
	money := func(k nbKey, other graph.Ref, rel string, count int) *graph.Neighbor {
		n := row(k, other, rel)
		if len(held) > 0 {
			if via[n] == nil {
				via[n] = map[graph.Ref]int{}
			}
			via[n][owner] += count
		}
		return n
	}
	err := db.view(ctx, func(txn *badger.Txn) error {
		for _, pfx := range []byte{pfxLinkOut, pfxLinkIn} {
			dir := graph.DirOut
			if pfx == pfxLinkIn {
				dir = graph.DirIn
			}
			err := scan(ctx, txn, refPrefix(pfx, ref), true, func(k, v []byte) error {
				_, _, typ, other, err := parseLinkKey(k)
				if err != nil {
					return err
				}
				n := row(nbKey{rel: relOrder(false, uint8(typ)), dir: dir, other: string(refPrefix(0, other))}, other, typ.String())
				n.Count++
				if role, src, err := decodeLink(v); err == nil {
					if role != "" {
						n.Role = role // group roles (organiser, courier, dropper), ownership roles
					}
					n.Src = src
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		for _, o := range append([]graph.Ref{ref}, held...) {
			owner = o
			if err := moneyRows(ctx, txn, o, money); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read neighbours of %s: %w", ref, err)
	}
	graph.PickVia(via)
	return db.sortNeighbors(ctx, ref, rows, limit)
}

// moneyRows adds ref's transaction neighbours through row.
func moneyRows(ctx context.Context, txn *badger.Txn, ref graph.Ref, row func(k nbKey, other graph.Ref, rel string, count int) *graph.Neighbor) error {
	// Rows persisted at import exist whenever the totals do; without them
	// (records written without a Finish) aggregate the transactions here.
	if _, err := txn.Get(txnAggKey(ref)); err == nil {
		return scan(ctx, txn, refPrefix(pfxNbr, ref), true, func(k, v []byte) error {
			_, ch, dir, other, err := parseNbrKey(k)
			if err != nil {
				return err
			}
			a, err := decodeNbr(v)
			if err != nil {
				return err
			}
			n := row(nbKey{rel: relOrder(true, uint8(ch)), dir: dir, other: string(refPrefix(0, other))}, other, ch.String(), int(a.count))
			n.Count += int(a.count)
			n.Amount = graph.AddSat(n.Amount, a.amount)
			first, last := time.Unix(0, a.first).UTC(), time.Unix(0, a.last).UTC()
			if n.FirstSeen.IsZero() || first.Before(n.FirstSeen) {
				n.FirstSeen = first
			}
			if last.After(n.LastSeen) {
				n.LastSeen = last
			}
			return nil
		})
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	seen := 0
	errEnough := errors.New("enough")
	prefix := refPrefix(pfxTxn, ref)
	err := scan(ctx, txn, prefix, true, func(k, v []byte) error {
		if seen++; seen > maxTotals {
			return errEnough
		}
		h, err := decodeTxnHead(v)
		if err != nil {
			return err
		}
		if len(k) < len(prefix)+8+3 {
			return fmt.Errorf("transaction key %x: %w", k, errShortKey)
		}
		dir := graph.Direction(k[len(k)-1])
		at := decodeTime(binary.BigEndian.Uint64(k[len(prefix):]))
		n := row(nbKey{rel: relOrder(true, uint8(h.channel)), dir: dir, other: string(refPrefix(0, h.other))}, h.other, h.channel.String(), 1)
		n.Count++
		n.Amount = graph.AddSat(n.Amount, h.amount)
		if n.FirstSeen.IsZero() || at.Before(n.FirstSeen) {
			n.FirstSeen = at
		}
		if at.After(n.LastSeen) {
			n.LastSeen = at
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	return nil
}

// sortNeighbors orders the rows (by relation, count descending, reference),
// keeps the first limit and fills in the names.
func (db *DB) sortNeighbors(ctx context.Context, ref graph.Ref, rows map[nbKey]*graph.Neighbor, limit int) ([]graph.Neighbor, int, error) {
	out := make([]graph.RankedNeighbor, 0, len(rows))
	for k, n := range rows {
		out = append(out, graph.RankedNeighbor{Rank: k.rel, Row: n})
	}
	graph.SortNeighbors(out)
	total := len(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	res := make([]graph.Neighbor, len(out))
	err := db.view(ctx, func(txn *badger.Txn) error {
		name := db.namer(txn)
		for i, n := range out {
			res[i] = *n.Row
			var err error
			if res[i].Name, err = name(n.Row.Ref); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read neighbour names of %s: %w", ref, err)
	}
	return res, total, nil
}

// Transactions returns one page of ref's transactions with totals over all of
// them. Time orders seek straight to the page; amount orders read every
// transaction of the entity (up to maxTotals) and sort.
func (db *DB) Transactions(ctx context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error) {
	var page graph.TxPage
	if q.Offset < 0 || q.Limit < 0 {
		return page, fmt.Errorf("read transactions of %s: negative offset or limit", ref)
	}
	err := db.view(ctx, func(txn *badger.Txn) error {
		if q.Ranged() || q.Banded() {
			if err := rangeTotals(ctx, txn, ref, q, &page); err != nil {
				return err
			}
		} else if err := readTotals(ctx, txn, ref, &page); err != nil {
			return err
		}
		switch q.Sort {
		case graph.SortTimeDesc, graph.SortTimeAsc:
			return timePage(ctx, txn, ref, q, &page)
		case graph.SortAmountDesc, graph.SortAmountAsc:
			return amountPage(ctx, txn, ref, q, &page)
		}
		return fmt.Errorf("unknown sort %d", q.Sort)
	})
	if err != nil {
		return graph.TxPage{}, fmt.Errorf("read transactions of %s: %w", ref, err)
	}
	return page, nil
}

// readTotals reads the persisted totals, or sums them (capped) when the
// entity's transactions were written without a Finish.
func readTotals(ctx context.Context, txn *badger.Txn, ref graph.Ref, page *graph.TxPage) error {
	item, err := txn.Get(txnAggKey(ref))
	if err == nil {
		return item.Value(func(v []byte) error {
			a, err := decodeAgg(v)
			page.Total, page.In, page.Out = int(a.count), a.in, a.out
			return err
		})
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	errEnough := errors.New("enough")
	err = scan(ctx, txn, refPrefix(pfxTxn, ref), true, func(k, v []byte) error {
		if page.Total >= maxTotals {
			page.Truncated = true
			return errEnough
		}
		amt, err := txnAmount(v)
		if err != nil {
			return err
		}
		countTotal(page, k, amt)
		return nil
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// timePage seeks to q's range and skips q.Offset rows: without an amount
// band it reads no value to skip one; with a band it reads each row's
// amount (and currency) to know whether it counts.
func timePage(ctx context.Context, txn *badger.Txn, ref graph.Ref, q graph.TxQuery, page *graph.TxPage) error {
	prefix := refPrefix(pfxTxn, ref)
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = prefix
	o.Reverse = q.Sort == graph.SortTimeDesc
	it := txn.NewIterator(o)
	defer it.Close()
	lo, hi := txnRangeKeys(prefix, q)
	if o.Reverse {
		// The greatest key before hi (prefixEnd without a range); with
		// o.Prefix the iterator yields keys under the prefix only, or none
		// (then it has no item at all: Item and Next must not be called).
		it.Seek(hi)
	} else {
		it.Seek(lo)
	}
	// inRange is false past the range's far end (the seek set the near one).
	inRange := func() bool {
		if !it.ValidForPrefix(prefix) {
			return false
		}
		k := it.Item().Key()
		if o.Reverse {
			return bytes.Compare(k, lo) >= 0
		}
		return bytes.Compare(k, hi) < 0
	}
	for skip, n := q.Offset, 0; skip > 0 && inRange(); it.Next() {
		ok, err := itemKeeps(q, it.Item())
		if err != nil {
			return err
		}
		if ok {
			skip--
		}
		if n++; n%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	for ; inRange() && (q.Limit == 0 || len(page.Txns) < q.Limit); it.Next() {
		item := it.Item()
		err := item.Value(func(v []byte) error {
			if ok, err := bandKeeps(q, v); err != nil || !ok {
				return err
			}
			t, err := decodeTxn(item.Key(), v)
			page.Txns = append(page.Txns, t)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func amountPage(ctx context.Context, txn *badger.Txn, ref graph.Ref, q graph.TxQuery, page *graph.TxPage) error {
	return amountPageOf(ctx, txn, [][]byte{refPrefix(pfxTxn, ref)}, q, page, false)
}

// amountPageOf is amountPage over the rows under every one of prefixes
// (maxTotals of them in all); via names each row's owner (Txn.Via).
func amountPageOf(ctx context.Context, txn *badger.Txn, prefixes [][]byte, q graph.TxQuery, page *graph.TxPage, via bool) error {
	desc := q.Sort == graph.SortAmountDesc
	// before orders rows for the listing: amount, ties in time order.
	before := func(a, b amountRow) bool {
		if a.amount != b.amount {
			return (a.amount > b.amount) == desc
		}
		return bytes.Compare(a.key, b.key) < 0
	}
	// Keep only the offset+limit best rows in a heap whose root is the worst
	// kept row; a row that cannot make the page is not copied at all.
	keep := q.Offset + q.Limit
	if q.Limit == 0 {
		keep = maxTotals
	}
	h := &amountHeap{worse: func(a, b amountRow) bool { return before(b, a) }}
	seen := 0
	errEnough := errors.New("enough")
	row := func(k, v []byte) error {
		if seen++; seen > maxTotals {
			page.Truncated = true
			return errEnough
		}
		amt, err := txnAmount(v)
		if err != nil {
			return err
		}
		if ok, err := bandKeeps(q, v); err != nil || !ok {
			return err
		}
		r := amountRow{amount: amt, key: k}
		if len(h.rows) == keep {
			if !before(r, h.rows[0]) {
				return nil
			}
			r.key = append(h.rows[0].key[:0], k...)
			h.rows[0] = r
			heap.Fix(h, 0)
			return nil
		}
		r.key = bytes.Clone(k)
		heap.Push(h, r)
		return nil
	}
	for _, p := range prefixes {
		err := scanPrefixRange(ctx, txn, p, q, row)
		if errors.Is(err, errEnough) {
			break
		}
		if err != nil {
			return err
		}
	}
	rows := h.rows
	slices.SortFunc(rows, func(a, b amountRow) int {
		if before(a, b) {
			return -1
		}
		if before(b, a) {
			return 1
		}
		return 0
	})
	if q.Offset >= len(rows) {
		return nil
	}
	for _, r := range rows[q.Offset:] {
		t, err := getTxnAt(txn, r.key)
		if err != nil {
			return err
		}
		if via {
			if owner, _, _, _, err := parseTxnKey(r.key); err == nil {
				t.Via = owner
			}
		}
		page.Txns = append(page.Txns, t)
	}
	return nil
}

type amountRow struct {
	amount int64
	key    []byte
}

// amountHeap keeps the worst kept row at its root.
type amountHeap struct {
	rows  []amountRow
	worse func(a, b amountRow) bool
}

func (h *amountHeap) Len() int           { return len(h.rows) }
func (h *amountHeap) Less(i, j int) bool { return h.worse(h.rows[i], h.rows[j]) }
func (h *amountHeap) Swap(i, j int)      { h.rows[i], h.rows[j] = h.rows[j], h.rows[i] }
func (h *amountHeap) Push(x any)         { h.rows = append(h.rows, x.(amountRow)) }
func (h *amountHeap) Pop() any {
	r := h.rows[len(h.rows)-1]
	h.rows = h.rows[:len(h.rows)-1]
	return r
}

func getTxnAt(txn *badger.Txn, key []byte) (graph.Txn, error) {
	item, err := txn.Get(key)
	if err != nil {
		return graph.Txn{}, err
	}
	var t graph.Txn
	err = item.Value(func(v []byte) error {
		t, err = decodeTxn(key, v)
		return err
	})
	return t, err
}

// Txn returns one transaction by id, or an error wrapping ErrNotFound.
func (db *DB) Txn(ctx context.Context, id string) (graph.Txn, error) {
	var t graph.Txn
	err := db.view(ctx, func(txn *badger.Txn) error {
		item, err := txn.Get(txnIDKey(id))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		_, key, err := decodeTxnID(id, v)
		if err != nil {
			return err
		}
		t, err = getTxnAt(txn, key)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		return graph.Txn{}, fmt.Errorf("read transaction %s: %w", id, err)
	}
	return t, nil
}

// Stats returns the counts persisted by the last import; a fresh database has
// empty counts.
func (db *DB) Stats(ctx context.Context) (graph.Stats, error) {
	if err := ctx.Err(); err != nil {
		return graph.Stats{}, err
	}
	v, err := db.getValue(metaKey(metaStats))
	if errors.Is(err, ErrNotFound) {
		return newStats(), nil
	}
	if err != nil {
		return graph.Stats{}, fmt.Errorf("read stats of %s: %w", db.dir, err)
	}
	s := newStats()
	if err := json.Unmarshal(v, &s); err != nil {
		return graph.Stats{}, fmt.Errorf("decode stats of %s: %w", db.dir, err)
	}
	return s, nil
}

// ImportedFile looks a file up in the import manifest by its content hash.
func (db *DB) ImportedFile(sha256 string) (graph.Batch, bool, error) {
	v, err := db.getValue(hashKey(sha256))
	if errors.Is(err, ErrNotFound) {
		return graph.Batch{}, false, nil
	}
	if err != nil {
		return graph.Batch{}, false, fmt.Errorf("look up file %s in %s: %w", sha256, db.dir, err)
	}
	if len(v) != 4 {
		return graph.Batch{}, false, fmt.Errorf("look up file %s in %s: batch id is %d bytes", sha256, db.dir, len(v))
	}
	id := uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	bv, err := db.getValue(batchKey(id))
	if err != nil {
		return graph.Batch{}, false, fmt.Errorf("read batch %d of %s: %w", id, db.dir, err)
	}
	var b graph.Batch
	if err := json.Unmarshal(bv, &b); err != nil {
		return graph.Batch{}, false, fmt.Errorf("decode batch %d of %s: %w", id, db.dir, err)
	}
	return b, true, nil
}

// SearchDocCount returns how many search docs the snapshot holds.
func (db *DB) SearchDocCount() int { return int(db.docCount.Load()) }

// SearchDocs calls fn with the search doc of every entity, from the snapshot
// written at import. A database imported without a Finish has no snapshot;
// then the docs are built from the entities. An error from fn stops the walk
// and is returned as is.
func (db *DB) SearchDocs(ctx context.Context, fn func(graph.SearchDoc) error) error {
	_, err := db.getValue(metaKey(metaDocs))
	if errors.Is(err, ErrNotFound) {
		return db.searchDocsFromEntities(ctx, fn)
	}
	if err != nil {
		return fmt.Errorf("read search docs of %s: %w", db.dir, err)
	}
	var fnErr error
	err = db.view(ctx, func(txn *badger.Txn) error {
		prefix := []byte{pfxDocs}
		return scan(ctx, txn, prefix, true, func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := docReader{s: string(v)}
			for len(r.s) > 0 {
				d := r.doc()
				if r.err != nil {
					return fmt.Errorf("decode search-doc chunk %x: %w", k[1:], r.err)
				}
				if fnErr = fn(d); fnErr != nil {
					return fnErr
				}
			}
			return nil
		})
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("read search docs of %s: %w", db.dir, err)
	}
	return nil
}

func (db *DB) searchDocsFromEntities(ctx context.Context, fn func(graph.SearchDoc) error) error {
	var last []byte
	var fnErr error
	err := db.view(ctx, func(txn *badger.Txn) error {
		return scan(ctx, txn, []byte{pfxEntity}, true, func(k, v []byte) error {
			ref, stub, err := parseEntityKey(k)
			if err != nil {
				return err
			}
			if bytes.Equal(k[:len(k)-1], last) {
				return nil
			}
			last = append(last[:0], k[:len(k)-1]...)
			e, err := decodeEntity(ref, stub, v)
			if err != nil {
				return err
			}
			fnErr = fn(graph.DocFor(e))
			return fnErr
		})
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("read search docs of %s: %w", db.dir, err)
	}
	return nil
}

// countTotal adds a transaction row (its key k and amount) to a page's
// totals: one more row, its amount to money in or out by the key's
// direction, saturating.
func countTotal(page *graph.TxPage, k []byte, amt int64) {
	page.Total++
	if graph.Direction(k[len(k)-1]) == graph.DirIn {
		page.In = graph.AddSat(page.In, amt)
	} else {
		page.Out = graph.AddSat(page.Out, amt)
	}
}
