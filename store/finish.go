package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

const (
	// docChunkBytes is the size of one search-doc snapshot value.
	docChunkBytes = 4 << 20
	// streamBufBytes is how much the bulk merge hands the StreamWriter at
	// once. Badger copies every key and value of a buffer and queues up to
	// three per stream: with 16 MiB buffers and several streams that held
	// ~150 MiB more of the heap near the import's soft limit, for no speed.
	streamBufBytes = 4 << 20
	// progressEvery is how many keys pass between progress calls and ctx checks.
	progressEvery = 1 << 16
	// fullTotalsScan is how many touched entities make reindex recompute the
	// totals of all entities in one scan instead of one scan per entity.
	fullTotalsScan = 100_000
)

// kvWriter writes keys in Badger transactions of txnKeys keys each.
type kvWriter struct {
	db      *DB
	txn     *badger.Txn
	pending int
}

func newKVWriter(db *DB) *kvWriter { return &kvWriter{db: db, txn: db.bdb.NewTransaction(true)} }

func (w *kvWriter) set(k, v []byte) error { return w.apply(k, v, false) }
func (w *kvWriter) del(k []byte) error    { return w.apply(k, nil, true) }

func (w *kvWriter) apply(k, v []byte, del bool) error {
	op := func() error {
		if del {
			return w.txn.Delete(k)
		}
		return w.txn.Set(k, v)
	}
	err := op()
	if errors.Is(err, badger.ErrTxnTooBig) {
		if err = w.commit(); err == nil {
			err = op()
		}
	}
	if err != nil {
		return fmt.Errorf("write to %s: %w", w.db.dir, err)
	}
	w.pending++
	if w.pending >= txnKeys {
		return w.commit()
	}
	return nil
}

// commit commits the open transaction, if it holds anything, and opens a new one.
func (w *kvWriter) commit() error {
	if w.pending == 0 {
		return nil
	}
	err := w.txn.Commit()
	w.txn = w.db.bdb.NewTransaction(true)
	w.pending = 0
	if err != nil {
		return fmt.Errorf("commit to %s: %w", w.db.dir, err)
	}
	return nil
}

// close commits what is pending and releases the transaction.
func (w *kvWriter) close() error {
	err := w.commit()
	w.txn.Discard()
	return err
}

// aggRow is the transaction summary of one entity.
type aggRow struct {
	ref graph.Ref
	agg txnAgg
}

// indexer derives the statistics, per-entity transaction totals and search
// docs from keys seen in key order (the bulk merge, or scans of the database).
type indexer struct {
	stats   graph.Stats
	lastEnt []byte // [e][ref] of the last entity key seen

	owner    []byte // [t][ref] of the transactions being summed
	ownerRef graph.Ref
	cur      txnAgg
	aggs     []aggRow
	nbrs     map[nbrMapKey]*nbrAgg   // the owner's rows, by counterparty
	emit     func(k, v []byte) error // receives the neighbour rows, in key order
	// emitAgg, when set, receives each owner's totals ([a] key and value, in
	// key order) instead of collecting them in aggs for persist.
	emitAgg func(k, v []byte) error

	chunks   [][]byte
	chunk    []byte
	docCount int

	// A part of a partitioned bulk merge may begin or end inside one
	// owner's transactions. holdFirst and holdLast make it keep the totals
	// of its first and last owner in edges instead of emitting them; they
	// are combined across parts and written after the merge.
	holdFirst, holdLast bool
	edges               []ownerTotals
}

// ownerTotals is what the indexer derived of one owner's transactions.
type ownerTotals struct {
	ref  graph.Ref
	agg  txnAgg
	nbrs map[nbrMapKey]*nbrAgg
}

func newStats() graph.Stats {
	return graph.Stats{Entities: map[graph.Kind]int{}, Links: map[graph.LinkType]int{},
		TxnsByChan: map[graph.Channel]int{}}
}

type nbrMapKey struct {
	ch    graph.Channel
	dir   graph.Direction
	other graph.Ref
}

func newIndexer() *indexer {
	return &indexer{stats: newStats(), nbrs: map[nbrMapKey]*nbrAgg{}}
}

// observe takes one key and its value.
func (ix *indexer) observe(k, v []byte) error {
	if len(k) == 0 {
		return nil
	}
	switch k[0] {
	case pfxEntity:
		ref, stub, err := parseEntityKey(k)
		if err != nil {
			return err
		}
		refPart := k[:len(k)-1]
		if bytes.Equal(refPart, ix.lastEnt) {
			return nil // a stub shadowed by the full entity just seen
		}
		ix.lastEnt = append(ix.lastEnt[:0], refPart...)
		ix.stats.Entities[ref.Kind]++
		if stub {
			ix.stats.Stubs++
		}
		e, err := decodeEntity(ref, stub, v)
		if err != nil {
			return err
		}
		ix.addDoc(graph.DocFor(e))
	case pfxLinkOut:
		_, _, typ, _, err := parseLinkKey(k)
		if err != nil {
			return err
		}
		ix.stats.Links[typ]++
	case pfxTxnID:
		ch, err := txnIDChannel(v)
		if err != nil {
			return fmt.Errorf("transaction id key %q: %w", k, err)
		}
		ix.stats.Txns++
		ix.stats.TxnsByChan[ch]++
	case pfxTxn:
		owner, rest, err := readRef(k[1:])
		if err != nil {
			return fmt.Errorf("transaction key: %w", err)
		}
		ownerPart := k[:len(k)-len(rest)]
		if !bytes.Equal(ownerPart, ix.owner) {
			if err := ix.flushOwner(); err != nil {
				return err
			}
			ix.owner = append(ix.owner[:0], ownerPart...)
			ix.ownerRef = owner
		}
		h, err := decodeTxnHead(v)
		if err != nil {
			return err
		}
		if len(rest) < 8+3 {
			return fmt.Errorf("transaction key %x: %w", k, errShortKey)
		}
		at := int64(binary.BigEndian.Uint64(rest) ^ (1 << 63))
		dir := graph.Direction(k[len(k)-1])
		ix.cur.count++
		if dir == graph.DirIn {
			ix.cur.in = graph.AddSat(ix.cur.in, h.amount)
		} else {
			ix.cur.out = graph.AddSat(ix.cur.out, h.amount)
		}
		if ix.emit != nil {
			mk := nbrMapKey{ch: h.channel, dir: dir, other: h.other}
			n := ix.nbrs[mk]
			if n == nil {
				n = &nbrAgg{first: at, last: at}
				ix.nbrs[mk] = n
			}
			n.count++
			n.amount = graph.AddSat(n.amount, h.amount)
			n.first, n.last = min(n.first, at), max(n.last, at)
		}
	case pfxBatch:
		var b graph.Batch
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("decode batch %x: %w", k[1:], err)
		}
		ix.stats.Batches = append(ix.stats.Batches, b)
	}
	return nil
}

// flushOwner ends the current owner's transactions: it records the totals
// and emits the neighbour rows in key order.
func (ix *indexer) flushOwner() error {
	if ix.holdFirst && ix.cur.count > 0 {
		ix.holdFirst = false
		ix.hold()
		return nil
	}
	if ix.cur.count > 0 {
		if ix.emitAgg != nil {
			if err := ix.emitAgg(txnAggKey(ix.ownerRef), encodeAgg(ix.cur)); err != nil {
				return err
			}
		} else {
			ix.aggs = append(ix.aggs, aggRow{ref: ix.ownerRef, agg: ix.cur})
		}
	}
	ix.cur = txnAgg{}
	ix.owner = ix.owner[:0]
	if len(ix.nbrs) == 0 {
		return nil
	}
	type row struct {
		k []byte
		a *nbrAgg
	}
	rows := make([]row, 0, len(ix.nbrs))
	for mk, a := range ix.nbrs {
		rows = append(rows, row{k: nbrKey(ix.ownerRef, mk.ch, mk.dir, mk.other), a: a})
	}
	clear(ix.nbrs)
	sort.Slice(rows, func(i, j int) bool { return bytes.Compare(rows[i].k, rows[j].k) < 0 })
	for _, r := range rows {
		if err := ix.emit(r.k, encodeNbr(*r.a)); err != nil {
			return err
		}
	}
	return nil
}

// hold moves the current owner's totals to edges.
func (ix *indexer) hold() {
	ix.edges = append(ix.edges, ownerTotals{ref: ix.ownerRef, agg: ix.cur, nbrs: ix.nbrs})
	ix.nbrs = map[nbrMapKey]*nbrAgg{}
	ix.cur = txnAgg{}
	ix.owner = ix.owner[:0]
}

func (ix *indexer) addDoc(d graph.SearchDoc) {
	ix.chunk = appendDoc(ix.chunk, d)
	ix.docCount++
	if len(ix.chunk) >= docChunkBytes {
		ix.chunks = append(ix.chunks, ix.chunk)
		ix.chunk = nil
	}
}

func (ix *indexer) finish() error {
	if ix.holdLast && ix.cur.count > 0 {
		ix.hold()
	}
	if err := ix.flushOwner(); err != nil {
		return err
	}
	if len(ix.chunk) > 0 {
		ix.chunks = append(ix.chunks, ix.chunk)
		ix.chunk = nil
	}
	return nil
}

// reindex recomputes the statistics and the search-doc snapshot from the
// database, and the transaction totals of the touched entities (of all
// entities when more than fullScanOver were touched).
func (db *DB) reindex(ctx context.Context, touched map[string]graph.Ref, fullScanOver int, progress func(string, int64, int64)) error {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reindex %s: %w", db.dir, err)
	}
	ix := newIndexer()
	w := newKVWriter(db)
	defer w.txn.Discard()
	ix.emit = w.set
	err := db.bdb.View(func(txn *badger.Txn) error {
		for _, p := range []byte{pfxBatch, pfxEntity, pfxTxnID, pfxLinkOut} {
			if err := scan(ctx, txn, []byte{p}, p != pfxLinkOut, ix.observe); err != nil {
				return err
			}
		}
		refs := make([]graph.Ref, 0, len(touched))
		for _, r := range touched {
			refs = append(refs, r)
		}
		sort.Slice(refs, func(i, j int) bool { return refs[i].Less(refs[j]) })
		// Drop the touched entities' neighbour rows; the scans below rewrite
		// those that still have transactions (a later set of a key wins).
		for _, r := range refs {
			if err := scan(ctx, txn, refPrefix(pfxNbr, r), false, func(k, _ []byte) error {
				return w.del(bytes.Clone(k))
			}); err != nil {
				return err
			}
		}
		if len(touched) > fullScanOver {
			// One pass over every transaction beats a seek per entity.
			return scan(ctx, txn, []byte{pfxTxn}, true, ix.observe)
		}
		for i, r := range refs {
			if err := scan(ctx, txn, refPrefix(pfxTxn, r), true, ix.observe); err != nil {
				return err
			}
			if err := ix.flushOwner(); err != nil {
				return err
			}
			if i%1024 == 0 {
				progress("totals", int64(i), int64(len(refs)))
			}
		}
		progress("totals", int64(len(refs)), int64(len(refs)))
		return nil
	})
	if err == nil {
		err = ix.finish()
	}
	if err != nil {
		return fmt.Errorf("reindex %s: %w", db.dir, err)
	}
	var gone []graph.Ref
	have := make(map[string]bool, len(ix.aggs))
	for _, a := range ix.aggs {
		have[string(refPrefix(0, a.ref))] = true
	}
	for k, r := range touched {
		if !have[k] {
			gone = append(gone, r)
		}
	}
	return db.persist(ctx, ix, gone, w, progress)
}

// scan calls fn for every key under prefix, with its value when withValues.
func scan(ctx context.Context, txn *badger.Txn, prefix []byte, withValues bool, fn func(k, v []byte) error) error {
	return scanItems(ctx, txn, prefix, func(item *badger.Item) error {
		if withValues {
			return item.Value(func(v []byte) error { return fn(item.Key(), v) })
		}
		return fn(item.Key(), nil)
	})
}

// keyIterator iterates the keys under prefix without prefetching values:
// the caller reads a value in place when it needs it (faster than
// prefetching for the store's reads). Close it.
func keyIterator(txn *badger.Txn, prefix []byte) *badger.Iterator {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = prefix
	return txn.NewIterator(o)
}

// scanItems calls fn for every item under prefix, in key order, without
// prefetching values: fn looks at the key and reads the value only when it
// needs it. It checks ctx every progressEvery items.
func scanItems(ctx context.Context, txn *badger.Txn, prefix []byte, fn func(item *badger.Item) error) error {
	it := keyIterator(txn, prefix)
	defer it.Close()
	n := 0
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		if err := fn(it.Item()); err != nil {
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

// persist writes what the indexer derived: transaction totals (deleting those
// of entities left without transactions), the search-doc snapshot and the
// statistics.
func (db *DB) persist(ctx context.Context, ix *indexer, gone []graph.Ref, w *kvWriter, progress func(string, int64, int64)) error {
	for i, a := range ix.aggs {
		if err := w.set(txnAggKey(a.ref), encodeAgg(a.agg)); err != nil {
			return err
		}
		if i%progressEvery == 0 {
			progress("totals", int64(i), int64(len(ix.aggs)))
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("write totals to %s: %w", db.dir, err)
			}
		}
	}
	// The last report says the stage is done, with its real count.
	progress("totals", int64(len(ix.aggs)), int64(len(ix.aggs)))
	for _, r := range gone {
		if err := w.del(txnAggKey(r)); err != nil {
			return err
		}
	}
	if err := w.commit(); err != nil {
		return err
	}

	var oldChunks uint64
	if v, err := db.getValue(metaKey(metaDocs)); err == nil {
		if _, oldChunks, err = decodeDocsMeta(v); err != nil {
			return err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("read search-doc meta of %s: %w", db.dir, err)
	}
	for i, c := range ix.chunks {
		if err := w.set(docsKey(uint32(i)), c); err != nil {
			return err
		}
		// One chunk per transaction keeps each commit well under Badger's batch limit.
		if err := w.commit(); err != nil {
			return err
		}
		progress("search", int64(i+1), int64(len(ix.chunks)))
	}
	for i := uint64(len(ix.chunks)); i < oldChunks; i++ {
		if err := w.del(docsKey(uint32(i))); err != nil {
			return err
		}
	}
	if err := w.set(metaKey(metaDocs), encodeDocsMeta(uint64(ix.docCount), uint64(len(ix.chunks)))); err != nil {
		return err
	}
	stats, err := json.Marshal(ix.stats)
	if err != nil {
		return fmt.Errorf("encode stats of %s: %w", db.dir, err)
	}
	if err := w.set(metaKey(metaStats), stats); err != nil {
		return err
	}
	if err := w.close(); err != nil {
		return err
	}
	db.docCount.Store(int64(ix.docCount))
	return nil
}
