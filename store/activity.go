package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// maxActivityRows bounds the rows one activity answer reads per reference
// (a hub's millions of rows): the answer says Truncated past it.
const maxActivityRows = 1_000_000

// Activity buckets the transactions of q.Refs in [q.From, q.To) by time and
// by amount (graph.Activity) in one pass over each reference's rows of that
// range: the time-ordered keys are sought to q.From and read until q.To, and
// only each value's head (amount, counterparty, currency) is decoded. Zero
// From or To mean the references' first and last transaction (two seeks per
// reference). A transaction between two of q.Refs counts once under each
// (paid by one, received by the other).
func (db *DB) Activity(ctx context.Context, q graph.ActivityQuery) (graph.Activity, error) {
	var a graph.Activity
	err := db.view(ctx, func(txn *badger.Txn) error {
		from, to := q.From, q.To
		if from.IsZero() || to.IsZero() {
			first, last, ok, err := txnSpan(txn, q.Refs)
			if err != nil {
				return err
			}
			if !ok {
				a = graph.NewActivity(time.Time{}, time.Time{}, q.Cols, q.Loc)
				return nil
			}
			if from.IsZero() {
				from = first
			}
			if to.IsZero() {
				to = last.Add(time.Nanosecond)
			}
		}
		a = graph.NewActivity(from, to, q.Cols, q.Loc)
		a.Thresholds = q.Thresholds
		if q.HistSeries {
			a.HistSeries = map[graph.Ref][]int{}
		}
		for _, ref := range q.Refs {
			if err := activityOf(ctx, txn, ref, q, &a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return graph.Activity{}, fmt.Errorf("read activity of %d entities: %w", len(q.Refs), err)
	}
	return a, nil
}

// txnSpan returns the time of the earliest and latest transaction of refs.
func txnSpan(txn *badger.Txn, refs []graph.Ref) (first, last time.Time, ok bool, err error) {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	for _, ref := range refs {
		prefix := refPrefix(pfxTxn, ref)
		for _, rev := range []bool{false, true} {
			o.Prefix, o.Reverse = prefix, rev
			it := txn.NewIterator(o)
			if rev {
				it.Seek(prefixEnd(prefix))
			} else {
				it.Seek(prefix)
			}
			if it.ValidForPrefix(prefix) {
				k := it.Item().Key()
				if len(k) < len(prefix)+8 {
					it.Close()
					return first, last, false, fmt.Errorf("transaction key %x: %w", k, errShortKey)
				}
				at := decodeTime(binary.BigEndian.Uint64(k[len(prefix):]))
				if !ok || at.Before(first) {
					first = at
				}
				if !ok || at.After(last) {
					last = at
				}
				ok = true
			}
			it.Close()
		}
	}
	return first, last, ok, nil
}

// activityOf adds ref's rows in [a.From, a.To) to a.
func activityOf(ctx context.Context, txn *badger.Txn, ref graph.Ref, q graph.ActivityQuery, a *graph.Activity) error {
	prefix := refPrefix(pfxTxn, ref)
	it := keyIterator(txn, prefix)
	defer it.Close()
	start := binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), encodeTime(a.From))
	end := encodeTime(a.To)
	rows := 0
	// Rows counted per currency, kept here (a few codes, in runs) and
	// added to a once.
	type curRows struct {
		code []byte
		n    int
	}
	var curs []curRows
	defer func() {
		for _, c := range curs {
			a.CountCurrency(string(c.code), c.n)
		}
	}()
	countCur := func(cur []byte) {
		for i := range curs {
			if bytes.Equal(curs[i].code, cur) {
				curs[i].n++
				return
			}
		}
		curs = append(curs, curRows{code: bytes.Clone(cur), n: 1})
	}
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		if rows%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if rows >= maxActivityRows {
			a.Truncated = true
			return nil
		}
		item := it.Item()
		k := item.Key()
		if len(k) < len(prefix)+8+3 {
			return fmt.Errorf("transaction key %x: %w", k, errShortKey)
		}
		tk := binary.BigEndian.Uint64(k[len(prefix):])
		if tk >= end {
			return nil
		}
		dir := graph.Direction(k[len(k)-1])
		err := item.Value(func(v []byte) error {
			amount, kind, key, cur, err := decodeTxnMoney(v)
			if err != nil {
				return err
			}
			// string(cur) in a map index does not allocate.
			th := q.Thresholds[string(cur)]
			if len(cur) == 0 {
				th = q.Thresholds["KZT"]
			}
			var counted bool
			switch q.Series {
			case graph.SeriesByRef:
				counted = a.Add(decodeTime(tk), dir, amount, th, ref, true)
			case graph.SeriesByCounterparty:
				counted = a.Add(decodeTime(tk), dir, amount, th, graph.Ref{Kind: kind, Key: string(key)}, true)
			default:
				counted = a.Add(decodeTime(tk), dir, amount, th, graph.Ref{}, false)
			}
			if counted {
				countCur(cur)
			}
			return nil
		})
		if err != nil {
			return err
		}
		rows++
	}
	return nil
}

// decodeTxnMoney reads a transaction value's amount, counterparty (kind
// and key) and currency, and nothing after them; the slices alias v.
func decodeTxnMoney(v []byte) (amount int64, kind graph.Kind, key, cur []byte, err error) {
	if len(v) < txnFixed {
		return 0, 0, nil, nil, fmt.Errorf("transaction value: %w", errShortValue)
	}
	r := reader{b: v[txnFixed:]}
	kind = graph.Kind(r.byte())
	key = r.raw()
	cur = r.raw()
	if r.err != nil {
		return 0, 0, nil, nil, fmt.Errorf("transaction value: %w", r.err)
	}
	return int64(binary.BigEndian.Uint64(v)), kind, key, cur, nil
}

// txnRangeKeys are the keys that bound q's range of ref's rows (prefix):
// rows with lo <= key < hi. Without a range they span the whole prefix.
func txnRangeKeys(prefix []byte, q graph.TxQuery) (lo, hi []byte) {
	lo, hi = prefix, prefixEnd(prefix)
	if !q.From.IsZero() {
		lo = binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), encodeTime(q.From))
	}
	if !q.To.IsZero() {
		// Every row at To has a longer key than prefix+time(To), so the
		// bound excludes them: the range is half open.
		hi = binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), encodeTime(q.To))
	}
	return lo, hi
}

// scanTxnRange calls fn for ref's rows in q's range, in time order, seeking
// to its start and stopping at its end.
func scanTxnRange(ctx context.Context, txn *badger.Txn, ref graph.Ref, q graph.TxQuery, fn func(k, v []byte) error) error {
	return scanPrefixRange(ctx, txn, refPrefix(pfxTxn, ref), q, fn)
}

// scanPrefixRange is scanTxnRange over the rows under prefix (one owner's
// transaction rows).
func scanPrefixRange(ctx context.Context, txn *badger.Txn, prefix []byte, q graph.TxQuery, fn func(k, v []byte) error) error {
	lo, hi := txnRangeKeys(prefix, q)
	it := keyIterator(txn, prefix)
	defer it.Close()
	n := 0
	for it.Seek(lo); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		if bytes.Compare(item.Key(), hi) >= 0 {
			return nil
		}
		if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
			return err
		}
		if n++; n%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// rangeTotals sums ref's rows in q's range and amount band (capped at
// maxTotals rows counted, and at maxActivityRows read for a band, then
// Truncated): neither has persisted totals.
func rangeTotals(ctx context.Context, txn *badger.Txn, ref graph.Ref, q graph.TxQuery, page *graph.TxPage) error {
	errEnough := errors.New("enough")
	read := 0
	err := scanTxnRange(ctx, txn, ref, q, func(k, v []byte) error {
		if read++; page.Total >= maxTotals || read > maxActivityRows {
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
		countTotal(page, k, amt)
		return nil
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// bandKeeps reports whether a transaction value is in q's amount band and
// currency (graph.TxQuery.Keeps); without either it keeps every row and
// reads nothing.
func bandKeeps(q graph.TxQuery, v []byte) (bool, error) {
	if !q.Banded() {
		return true, nil
	}
	if q.Currency == "" {
		amount, err := txnAmount(v)
		return err == nil && q.AmountIn(amount), err
	}
	amount, _, _, cur, err := decodeTxnMoney(v)
	if err != nil || !q.AmountIn(amount) {
		return false, err
	}
	if len(cur) == 0 {
		return q.Currency == "KZT", nil
	}
	return string(cur) == q.Currency, nil
}

// itemKeeps is bandKeeps on an iterator's item; without a band it reads
// nothing.
func itemKeeps(q graph.TxQuery, item *badger.Item) (bool, error) {
	if !q.Banded() {
		return true, nil
	}
	var ok bool
	err := item.Value(func(v []byte) error {
		var err error
		ok, err = bandKeeps(q, v)
		return err
	})
	return ok, err
}
