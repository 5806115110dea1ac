package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/ristretto/v2/z"
)

// The bulk import's write: the sorted runs merged into Badger's
// StreamWriter, in parts side by side (finish_part.go), deriving the
// records the indexer keeps (finish.go) and keeping the lean scan's
// records for the graph index when asked (leanlog.go).

// finishBulk merges the sorted runs into the StreamWriter, then writes the
// derived records. The key space is cut into parts of about equal size that
// are merged and written side by side (finish_part.go).
func (l *Loader) finishBulk(ctx context.Context, progress func(string, int64, int64)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bulk write to %s: %w", l.db.dir, err)
	}
	l.put(metaKey(metaBatchSeq), seqValue(l.book.Seq))
	for _, b := range l.batches {
		v, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("encode batch %d: %w", b.ID, err)
		}
		l.put(batchKey(b.ID), v)
		if b.SHA256 != "" {
			l.put(hashKey(b.SHA256), seqValue(b.ID))
		}
	}
	if l.err != nil {
		return l.err
	}
	if err := l.waitSpill(); err != nil {
		return err
	}
	l.spare = nil // only the last buffer takes part in the merge
	l.buf.sort()
	bounds := l.partBounds(l.partCount())
	pr := &bulkProgress{fn: progress, total: int64(len(l.buf.ents))}
	for _, r := range l.runs {
		pr.total += r.size / 64 // a rough count for the progress bar only
	}

	l.db.bulkMu.Lock()
	defer l.db.bulkMu.Unlock()
	sw := l.db.bdb.NewStreamWriter()
	if err := sw.Prepare(); err != nil {
		return fmt.Errorf("prepare bulk write to %s: %w", l.db.dir, err)
	}
	parts := make([]*indexer, len(bounds)+1)
	if l.keepLean {
		l.lean = make([]*leanPart, len(parts))
		for i := range l.lean {
			p, err := newLeanPart(l.db.dir)
			if err != nil {
				return err
			}
			l.lean[i] = p
		}
	}
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := range parts {
		var lo, hi []byte
		if i > 0 {
			lo = bounds[i-1]
		}
		if i < len(bounds) {
			hi = bounds[i]
		}
		wg.Go(func() {
			ix, err := l.mergePart(pctx, sw, i, len(parts), lo, hi, pr)
			parts[i] = ix
			if err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
				cancel() // the other parts stop too
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		sw.Cancel()
		return firstErr
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("flush bulk write to %s: %w", l.db.dir, err)
	}
	releaseTableMappings(l.db.dir)
	progress("write", pr.n, pr.n)
	l.buf = nil
	w := newKVWriter(l.db)
	defer w.txn.Discard()
	ix, err := combineParts(parts, w.set)
	if err != nil {
		return err
	}
	// The parts wrote the owners' totals as they went (the write stage);
	// persist only adds the few held back at the parts' edges: no stage of
	// its own to report.
	quiet := func(stage string, done, total int64) {
		if stage != "totals" {
			progress(stage, done, total)
		}
	}
	return l.db.persist(ctx, ix, nil, w, quiet)
}

// mergePart merges the keys in [lo, hi) of every run into the StreamWriter
// under streams of its own, deriving the statistics, totals, neighbour rows
// and search docs of those keys. It is part part of parts.
func (l *Loader) mergePart(ctx context.Context, sw *badger.StreamWriter, part, parts int, lo, hi []byte, pr *bulkProgress) (*indexer, error) {
	runs := make([]runIter, 0, len(l.runs)+1)
	for _, r := range l.runs {
		it, err := openRun(r, lo)
		if err != nil {
			_ = (&merger{runs: runs}).close()
			return nil, err
		}
		runs = append(runs, &rangeIter{it: it, lo: lo, hi: hi})
	}
	runs = append(runs, &rangeIter{it: memIterFrom(l.buf, lo), hi: hi})
	m, err := newMerger(runs)
	if err != nil {
		_ = (&merger{runs: runs}).close()
		return nil, err
	}
	defer m.close()

	ix := newIndexer()
	ix.holdFirst, ix.holdLast = part > 0, part < parts-1
	feed := newStreamFeed(sw, l.db.dir, func() { releaseTableMappings(l.db.dir) })
	base := uint32(part * streamsPerPart)
	// Neighbour rows ([x]…) and totals ([a]…) are derived while the [t] keys
	// stream past, in key order, and go to streams of their own: [x] sorts
	// after and [a] before every key of the main streams, and the parts'
	// owners do not overlap, so no two streams' tables overlap. Writing the
	// totals here rather than through transactions after the flush saves one
	// memtable insert per entity.
	ix.emit = func(k, v []byte) error { return feed.add(k, v, base+streamNbr) }
	ix.emitAgg = func(k, v []byte) error { return feed.add(k, v, base+streamAgg) }
	var lean *leanPart // the records kept for the graph index, when asked
	if l.lean != nil {
		lean = l.lean[part]
	}
	var n int64
	write := func(k, v []byte) error {
		if err := ix.observe(k, v); err != nil {
			return err
		}
		if err := feed.add(k, v, base+streamMain); err != nil {
			return err
		}
		if lean != nil {
			if err := lean.add(k, v); err != nil {
				return err
			}
		}
		if n++; n%progressEvery == 0 {
			pr.add(progressEvery)
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("bulk write to %s: %w", l.db.dir, err)
			}
		}
		return nil
	}
	// A full entity is held until the next key shows whether its stub
	// follows (the full key sorts first). Such a stub gives the full entity
	// the properties it lacks (Loader.PutEntity) and is left out: reads
	// never look past the full key. About one entity key in four on the
	// demo data is such a stub.
	var held struct {
		k, v []byte
		ok   bool
	}
	err = m.each(func(k, v []byte) error {
		if held.ok {
			held.ok = false
			if isStubOf(k, held.k) {
				hv, err := withStubValue(held.v, k, v)
				if err != nil {
					return err
				}
				return write(held.k, hv)
			}
			if err := write(held.k, held.v); err != nil {
				return err
			}
		}
		if len(k) > 1 && k[0] == pfxEntity && k[len(k)-1] == flagFull {
			held.k, held.v, held.ok = append(held.k[:0], k...), append(held.v[:0], v...), true
			return nil
		}
		return write(k, v)
	})
	if err == nil && held.ok {
		err = write(held.k, held.v)
	}
	if err == nil {
		err = ix.finish()
	}
	if err == nil && lean != nil {
		err = lean.flush()
	}
	if ferr := feed.close(err == nil); ferr != nil && (err == nil || errors.Is(err, errFeedFailed)) {
		err = ferr
	}
	pr.add(n % progressEvery)
	return ix, err
}

// StreamWriter stream ids of the bulk merge, per part: part p writes to
// p*streamsPerPart plus these. Each stream's keys are sorted and the streams'
// key ranges are disjoint ([a] < main < [x], and the parts' ranges in order).
const (
	streamMain     = 0
	streamNbr      = 1
	streamAgg      = 2
	streamsPerPart = 3
)

// appendKV appends one key/value to a StreamWriter buffer as an encoded pb.KV
// (version 1). It writes the protobuf wire format by hand: proto.Marshal via
// badger.KVToBuffer costs an allocation and a reflective size pass per key,
// several percent of a bulk import.
func appendKV(zb *z.Buffer, k, v []byte, stream uint32) {
	const version = 1
	n := 1 + uvarintLen(uint64(len(k))) + len(k) + 2 // key, version
	if len(v) > 0 {
		n += 1 + uvarintLen(uint64(len(v))) + len(v)
	}
	if stream != 0 {
		n += 1 + uvarintLen(uint64(stream))
	}
	b := zb.SliceAllocate(n)[:0]
	b = append(b, 1<<3|2) // field 1 key, bytes
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	if len(v) > 0 {
		b = append(b, 2<<3|2) // field 2 value, bytes
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	b = append(b, 4<<3|0, version) // field 4 version, varint
	if stream != 0 {
		b = append(b, 10<<3|0) // field 10 stream_id, varint
		b = binary.AppendUvarint(b, uint64(stream))
	}
	_ = b // b filled exactly the n bytes sized above (TestAppendKVMatchesProto)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
