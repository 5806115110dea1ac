package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

const (
	// defaultSpillBytes is how much encoded key/value data (plus index) a bulk
	// loader holds in one buffer before it sorts it and spills a run to disk
	// (T3: peak memory must not grow with the input). There are two buffers:
	// one fills while the other is sorted and written on another goroutine.
	defaultSpillBytes = 64 << 20
	// txnKeys is how many keys an incremental loader writes per Badger
	// transaction (PERF-LIMITS 2b: a commit every ~1000 keys was fastest).
	txnKeys = 1000
	// tmpDirName is the directory inside the database that holds spilled runs.
	tmpDirName = ".import-tmp"
)

// Loader writes imported records. A loader on an empty database sorts
// everything externally and writes it with Badger's StreamWriter at Finish
// (bulk mode); on a non-empty database it writes as it goes in batched
// transactions (incremental mode). Keys are deterministic, so loading the same
// records twice converges. A Loader is not safe for concurrent use; it
// satisfies importers.Sink.
type Loader struct {
	db    *DB
	bulk  bool
	book  graph.BatchBook // the batch ids handed out (book.Seq: the last one)
	err   error           // first write error; later puts return it
	done  bool
	stale bool // an incremental Finish wrote records but failed to reindex
	// recovering is set when an earlier incremental import was killed: this
	// loader's Finish rebuilds all derived records, not only the touched
	// entities' (recover.go).
	recovering bool

	// Bulk mode.
	spillBytes int
	markBytes  int64    // spacing of the run files' sparse index
	parts      int      // parts of the merge at Finish; 0 chooses (partCount)
	cutAt      [][]byte // when set, the keys that cut the merge into parts (tests)
	buf        *memRun  // the buffer being filled
	spare      *memRun  // the other buffer, when no spill is in flight
	spilling   *memRun  // the buffer being sorted and written, if any
	spillDone  chan spillResult
	runs       []spillRun // spilled run files, in write order
	tmpDir     string
	batches    []graph.Batch
	scratch    [6][]byte   // PutTxn's keys and values, copied by the sort buffer
	keepLean   bool        // keep the lean scan's records for the graph index (KeepLean)
	lean       []*leanPart // the merge parts' kept records, until LeanLog takes them

	// stubProps is set once a stub with properties is in the database or
	// this import (metaStubProps).
	stubProps bool

	// Incremental mode.
	w            *kvWriter
	touched      map[string]graph.Ref // entities whose transactions changed
	fullScanOver int                  // see reindex
}

// NewLoader starts an import. Only one loader may be active at a time.
//
// It first records durably that an import is under way (recover.go), so that
// after a crash the same import run again ends as one clean run would. If an
// earlier incremental import was killed, this loader continues its batch
// numbering from the last recorded batch and its Finish rebuilds all derived
// records.
func (db *DB) NewLoader() (*Loader, error) {
	if db.readOnly {
		return nil, fmt.Errorf("import into %s: database is open read-only", db.dir)
	}
	empty, err := db.Empty()
	if err != nil {
		return nil, err
	}
	l := &Loader{db: db, bulk: empty, spillBytes: defaultSpillBytes, markBytes: markEvery, fullScanOver: fullTotalsScan}
	if empty {
		if err := writeMarker(db.dir, importMarker{mode: markerBulk}); err != nil {
			return nil, fmt.Errorf("import into %s: %w", db.dir, err)
		}
		l.buf = newMemRun(l.spillBytes)
	}
	if !empty {
		v, err := db.getValue(metaKey(metaBatchSeq))
		switch {
		case err == nil && len(v) == 4:
			l.book.Seq = uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
		case err == nil:
			return nil, fmt.Errorf("import into %s: batch sequence is %d bytes, want 4", db.dir, len(v))
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("import into %s: read batch sequence: %w", db.dir, err)
		}
		if err := l.markIncremental(); err != nil {
			return nil, fmt.Errorf("import into %s: %w", db.dir, err)
		}
		l.w = newKVWriter(db)
		l.touched = make(map[string]graph.Ref)
		switch _, err := db.getValue(metaKey(metaStubProps)); {
		case err == nil:
			l.stubProps = true
		case !errors.Is(err, ErrNotFound):
			l.w.txn.Discard()
			return nil, fmt.Errorf("import into %s: %w", db.dir, err)
		}
		if l.recovering {
			// Batches the killed import began but never recorded are handed out
			// again (see recoveredBatchSeq).
			if err := l.w.set(metaKey(metaBatchSeq), seqValue(l.book.Seq)); err != nil {
				l.w.txn.Discard()
				return nil, fmt.Errorf("import into %s: reset batch sequence: %w", db.dir, err)
			}
			if err := l.w.commit(); err != nil {
				l.w.txn.Discard()
				return nil, fmt.Errorf("import into %s: reset batch sequence: %w", db.dir, err)
			}
		}
	}
	return l, nil
}

// markIncremental writes the marker of an incremental import beginning at
// batch sequence l.book.Seq or, when a killed incremental import left its marker,
// keeps that marker and takes over its recovery.
func (l *Loader) markIncremental() error {
	m, interrupted, err := readMarker(l.db.dir)
	if err != nil {
		return err
	}
	if interrupted && m.mode == markerIncrement {
		l.recovering = true
		l.book.Seq, err = l.db.recoveredBatchSeq(m.seq)
		return err
	}
	return writeMarker(l.db.dir, importMarker{mode: markerIncrement, seq: l.book.Seq})
}

// Bulk reports whether the loader writes with the StreamWriter at Finish.
func (l *Loader) Bulk() bool { return l.bulk }

// KeepLean asks a bulk loader to keep, while its Finish writes the
// database, a copy of the records the lean scan reads, for LeanLog. It
// reports whether it will: an incremental loader does not (its records are
// not all at hand), nor one of an encrypted database (the copy would be in
// the clear, docs/SECURITY.md).
func (l *Loader) KeepLean() bool {
	l.keepLean = l.bulk && !l.db.Encrypted()
	return l.keepLean
}

// LeanLog hands over the records a bulk loader kept (KeepLean) once Finish
// has succeeded, for graph.LeanBuilder; the caller closes it. It returns
// nil when nothing was kept.
func (l *Loader) LeanLog() *LeanLog {
	if !l.done || l.lean == nil {
		return nil
	}
	g := &LeanLog{db: l.db, parts: l.lean}
	l.lean = nil
	return g
}

// dropLean removes kept records that will not be handed over.
func (l *Loader) dropLean() {
	for _, p := range l.lean {
		_ = p.close()
	}
	l.lean = nil
}

// BeginBatch hands out the next batch id. Records of the batch should carry it
// in Src.Batch. EndBatch records the batch, taking the file, hash and format
// given here when its argument leaves them empty.
func (l *Loader) BeginBatch(file, sha256, format string) uint32 {
	id := l.book.Begin(file, sha256, format)
	if !l.bulk {
		l.put(metaKey(metaBatchSeq), seqValue(id))
	}
	return id
}

func seqValue(n uint32) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

// EndBatch records a finished batch in the manifest, so ImportedFile finds it
// by content hash.
func (l *Loader) EndBatch(b graph.Batch) error {
	if err := l.check(); err != nil {
		return err
	}
	b, err := l.book.End(b, time.Now())
	if err != nil {
		return err
	}
	if l.bulk {
		l.batches = append(l.batches, b)
		return nil
	}
	v, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("end batch %d: %w", b.ID, err)
	}
	// The batch's records must be durable before the manifest says the file
	// is imported; otherwise a crash could lose rows that a rerun then skips.
	if err := l.w.commit(); err != nil {
		return fmt.Errorf("end batch %d: %w", b.ID, err)
	}
	if err := l.db.bdb.Sync(); err != nil {
		return fmt.Errorf("end batch %d: sync %s: %w", b.ID, l.db.dir, err)
	}
	l.put(batchKey(b.ID), v)
	if b.SHA256 != "" {
		l.put(hashKey(b.SHA256), seqValue(b.ID))
	}
	if l.err != nil {
		return l.err
	}
	if err := l.w.commit(); err != nil {
		return fmt.Errorf("end batch %d: %w", b.ID, err)
	}
	return nil
}

// CopiesRecords marks the loader as an importers.RecordCopier: Put encodes
// a record into bytes at once and keeps no reference to its maps.
func (l *Loader) CopiesRecords() {}

// PutEntity stores an entity. A full entity replaces an older full one; a stub
// never hides a full entity of the same reference. What a stub carries (a
// watch list's list_status on an entity the case did not hold yet) passes to
// the full entity written after it, for the properties the full one lacks:
// here in an incremental import, in the merge of a bulk one (finishBulk).
// Likewise a full entity keeps the name and the properties of the version
// it replaces that it lacks (entmerge.go).
func (l *Loader) PutEntity(e graph.Entity) error {
	if err := l.check(); err != nil {
		return err
	}
	if err := checkRef(e.Ref); err != nil {
		return fmt.Errorf("put entity: %w", err)
	}
	switch {
	case e.Stub && len(e.Props) > 0 && !l.stubProps:
		l.stubProps = true
		l.put(metaKey(metaStubProps), []byte{1})
	case !e.Stub && !l.bulk:
		// The version this record replaces, committed or not, gives what
		// it lacks (entmerge.go); the bulk merge does the same.
		old, err := l.stored(e.Ref, false)
		if err != nil {
			return err
		}
		e, _ = withEarlier(e, old)
		if l.stubProps {
			stub, err := l.stored(e.Ref, true)
			if err != nil {
				return err
			}
			e.Props = graph.WithMissingProps(e.Props, stub.Props)
		}
	}
	l.put(entityKey(e.Ref, e.Stub), encodeEntity(e))
	return l.err
}

// stored reads the stub or the full entity of ref as the incremental
// writer sees it (its uncommitted writes included); a missing one is the
// zero entity.
func (l *Loader) stored(ref graph.Ref, stub bool) (graph.Entity, error) {
	item, err := l.w.txn.Get(entityKey(ref, stub))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return graph.Entity{}, nil
	}
	var e graph.Entity
	if err == nil {
		err = item.Value(func(v []byte) error {
			var derr error
			e, derr = decodeEntity(ref, stub, v)
			return derr
		})
	}
	if err != nil {
		what := "entity"
		if stub {
			what = "stub"
		}
		return graph.Entity{}, fmt.Errorf("read the %s %s in %s: %w", what, ref, l.db.dir, err)
	}
	return e, nil
}

// PutLink stores a link under both of its endpoints.
func (l *Loader) PutLink(k graph.Link) error {
	if err := l.check(); err != nil {
		return err
	}
	if err := checkRef(k.From); err != nil {
		return fmt.Errorf("put %s link: from: %w", k.Type, err)
	}
	if err := checkRef(k.To); err != nil {
		return fmt.Errorf("put %s link: to: %w", k.Type, err)
	}
	v := encodeLink(k)
	l.put(linkKey(pfxLinkOut, k.From, k.Type, k.To), v)
	l.put(linkKey(pfxLinkIn, k.To, k.Type, k.From), v)
	return l.err
}

// PutTxn stores a transaction under both endpoints and by id.
func (l *Loader) PutTxn(t graph.Txn) error {
	if err := l.check(); err != nil {
		return err
	}
	if t.ID == "" || len(t.ID) > maxField {
		return fmt.Errorf("put transaction %.40q: id must be 1 to %d bytes", t.ID, maxField)
	}
	if err := checkRef(t.From); err != nil {
		return fmt.Errorf("put transaction %s: from: %w", t.ID, err)
	}
	if err := checkRef(t.To); err != nil {
		return fmt.Errorf("put transaction %s: to: %w", t.ID, err)
	}
	// A bulk import's sort buffer copies every key and value, so one set of
	// buffers serves every transaction; a transaction holds its keys and
	// values until it commits, so an incremental import takes fresh ones.
	rows := &l.scratch
	if !l.bulk {
		rows = &[6][]byte{}
	}
	out := appendTxnKey(rows[0][:0], t.From, t.Time, t.ID, graph.DirOut)
	in := appendTxnKey(rows[1][:0], t.To, t.Time, t.ID, graph.DirIn)
	idk := appendTxnIDKey(rows[2][:0], t.ID)
	if !l.bulk {
		if err := l.dropMovedTxn(t.ID, idk, out); err != nil {
			return fmt.Errorf("put transaction %s: %w", t.ID, err)
		}
		l.touch(t.From)
		l.touch(t.To)
	}
	*rows = [6][]byte{out, in, idk,
		appendTxnValue(rows[3][:0], t, t.To), appendTxnValue(rows[4][:0], t, t.From),
		appendTxnID(rows[5][:0], t.Channel, t.From, t.Time)}
	l.put(rows[0], rows[3])
	l.put(rows[1], rows[4])
	l.put(rows[2], rows[5])
	return l.err
}

// dropMovedTxn deletes the owner rows of an earlier version of a transaction
// whose time or endpoints have changed, so a corrected re-import converges.
func (l *Loader) dropMovedTxn(id string, idk, out []byte) error {
	item, err := l.w.txn.Get(idk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read earlier version: %w", err)
	}
	old, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("read earlier version: %w", err)
	}
	_, oldOut, err := decodeTxnID(id, old)
	if err != nil {
		return err
	}
	if bytes.Equal(oldOut, out) {
		return nil
	}
	from, at, id, _, err := parseTxnKey(oldOut)
	if err != nil {
		return err
	}
	item, err = l.w.txn.Get(oldOut)
	if err != nil {
		return fmt.Errorf("read earlier version: %w", err)
	}
	var head txnHead
	if err := item.Value(func(v []byte) error {
		head, err = decodeTxnHead(v)
		return err
	}); err != nil {
		return err
	}
	l.del(oldOut)
	l.del(txnKey(head.other, at, id, graph.DirIn))
	l.touch(from)
	l.touch(head.other)
	return l.err
}

func (l *Loader) touch(r graph.Ref) { l.touched[string(refPrefix(0, r))] = r }

func (l *Loader) check() error {
	if l.done {
		return errors.New("loader already finished")
	}
	return l.err
}

// put records one key/value; the first error sticks in l.err.
func (l *Loader) put(k, v []byte) {
	if l.err != nil {
		return
	}
	if l.bulk {
		l.buf.add(k, v)
		if l.buf.size() >= l.spillBytes {
			l.err = l.spill()
		}
		return
	}
	l.write(k, v, false)
}

// del deletes a key (incremental mode only).
func (l *Loader) del(k []byte) {
	if l.err == nil {
		l.write(k, nil, true)
	}
}

// write sets (or deletes) a key through the incremental writer.
func (l *Loader) write(k, v []byte, del bool) {
	var err error
	if del {
		err = l.w.del(k)
	} else {
		err = l.w.set(k, v)
	}
	if err != nil {
		l.err = err
	}
}

// spill hands the full buffer to a goroutine that sorts it and writes it to
// a run file, and carries on filling the other buffer: parsing and encoding
// overlap the sort and the write on the second core. It first waits for the
// previous spill, so at most two buffers exist.
func (l *Loader) spill() error {
	if err := l.waitSpill(); err != nil {
		return err
	}
	if l.tmpDir == "" {
		l.tmpDir = filepath.Join(l.db.dir, tmpDirName)
		if err := os.MkdirAll(l.tmpDir, 0o700); err != nil {
			return fmt.Errorf("create import temp dir: %w", err)
		}
	}
	// waitSpill has recorded every earlier run.
	path := filepath.Join(l.tmpDir, fmt.Sprintf("run-%05d", len(l.runs)))
	full := l.buf
	l.buf, l.spare = l.spare, nil
	if l.buf == nil {
		l.buf = newMemRun(l.spillBytes)
	}
	done := make(chan spillResult, 1)
	l.spilling, l.spillDone = full, done
	go func() {
		full.sort()
		run, err := full.writeFile(path, l.markBytes, l.db.sealKey)
		full.reset()
		done <- spillResult{run, err}
	}()
	return nil
}

type spillResult struct {
	run spillRun
	err error
}

// waitSpill waits for the spill in flight, if any, and takes its buffer back
// as the spare.
func (l *Loader) waitSpill() error {
	if l.spillDone == nil {
		return nil
	}
	r := <-l.spillDone
	l.spare, l.spilling, l.spillDone = l.spilling, nil, nil
	if r.err == nil {
		l.runs = append(l.runs, r.run)
	}
	return r.err
}

// Finish writes everything still buffered and recomputes the statistics,
// the per-entity transaction totals and the search-doc snapshot. progress,
// if not nil, is called now and then with a stage name and counts.
func (l *Loader) Finish(ctx context.Context, progress func(stage string, done, total int64)) error {
	if err := l.check(); err != nil {
		return err
	}
	l.done = true
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	if l.bulk {
		defer func() {
			_ = l.waitSpill() // an error here is already l.err or reported by finishBulk
			_ = l.removeTmp()
		}()
		if err := l.finishBulk(ctx, progress); err != nil {
			l.dropLean()
			// The database was empty: put it back that way rather than leave half an import.
			if derr := l.db.bdb.DropAll(); derr != nil {
				return errors.Join(err, fmt.Errorf("discard partial import: %w", derr))
			}
			return errors.Join(err, removeMarker(l.db.dir))
		}
		return removeMarker(l.db.dir)
	}
	if err := l.w.close(); err != nil {
		return err
	}
	if err := l.refresh(ctx, progress); err != nil {
		l.stale = true // Abort brings the statistics up to date
		return err
	}
	return nil
}

// refresh brings the derived records of an incremental import up to date,
// all of them when recovering from a killed import, and then removes the
// import marker: the database is consistent again.
func (l *Loader) refresh(ctx context.Context, progress func(string, int64, int64)) error {
	var err error
	if l.recovering {
		err = l.db.rebuildDerived(ctx, progress)
	} else {
		err = l.db.reindex(ctx, l.touched, l.fullScanOver, progress)
	}
	if err != nil {
		return err
	}
	l.recovering = false
	return removeMarker(l.db.dir)
}

// Abort discards everything not yet written. In bulk mode nothing has reached
// the database; in incremental mode committed records stay (a rerun converges)
// and the statistics are brought up to date with them.
func (l *Loader) Abort() error {
	if l.stale {
		l.stale = false
		if err := l.refresh(context.Background(), nil); err != nil {
			return fmt.Errorf("abort import: %w", err)
		}
		return nil
	}
	if l.done {
		return nil
	}
	l.done = true
	if l.bulk {
		werr := l.waitSpill()
		l.buf, l.spare = nil, nil
		l.dropLean()
		// Nothing reached the database, which is still empty.
		return errors.Join(werr, l.removeTmp(), removeMarker(l.db.dir))
	}
	l.w.txn.Discard()
	if err := l.refresh(context.Background(), nil); err != nil {
		return fmt.Errorf("abort import: %w", err)
	}
	return nil
}

func (l *Loader) removeTmp() error {
	if l.tmpDir == "" {
		return nil
	}
	if err := os.RemoveAll(l.tmpDir); err != nil {
		return fmt.Errorf("remove import temp dir: %w", err)
	}
	return nil
}
