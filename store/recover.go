package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// An import can be killed at any moment (SIGKILL, power cut). The loader
// writes a marker file into the database directory before it writes
// anything, and removes it only once the database is consistent again, so the
// next process can tell an interrupted import from a finished one and make
// the rerun of the same command end exactly as one clean run would:
//
//   - "bulk": the database was empty when the import began. A killed bulk
//     import may have left spilled runs in .import-tmp and part of the
//     StreamWriter's tables in the LSM tree, so the database is non-empty but
//     incomplete (and a rerun must not take the incremental path over it).
//     Open drops everything and removes the temp runs and the marker: the
//     database is empty again and the rerun is a fresh bulk import.
//   - "incremental S": the import began on a non-empty database whose batch
//     sequence was S. Its committed records stay: keys are deterministic and
//     a batch is recorded in the manifest only after its records are durable
//     (EndBatch), so rerunning the import rewrites exactly the files that did
//     not finish. What the kill can leave wrong is derived data and the batch
//     sequence: the next loader resets the sequence to the last batch that
//     was recorded (or S), so the rerun hands out the same batch ids as a
//     clean run, and its Finish rebuilds the totals, neighbour rows, search
//     docs and statistics from scratch, since the killed run's touched
//     entities are unknown.
const (
	markerName      = ".import-in-progress"
	markerBulk      = "bulk"
	markerIncrement = "incremental"
)

// ErrInterrupted is returned by a read-only Open of a database whose first
// import was killed before it finished: the database holds part of an
// import. Opening it for writing (for example by running the import again)
// discards the partial import.
var ErrInterrupted = errors.New("the first import into this database was interrupted; run it again")

// ErrUnclean is returned by a read-only Open of a database whose last writer
// was killed (an import, say) before Badger could close it: the write-ahead
// log must be cut back to its last complete entry, which only a writable Open
// does. Running the import again, or any command that writes, repairs it.
var ErrUnclean = errors.New("the database was not closed cleanly (was an import killed?); run the import again, or any command that writes, to repair it")

// importMarker is the parsed marker file.
type importMarker struct {
	mode string // markerBulk or markerIncrement
	seq  uint32 // incremental: the batch sequence when the import began
}

func markerPath(dir string) string { return filepath.Join(dir, markerName) }

// readMarker returns the marker of an interrupted import, if there is one.
func readMarker(dir string) (importMarker, bool, error) {
	b, err := os.ReadFile(markerPath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return importMarker{}, false, nil
	}
	if err != nil {
		return importMarker{}, false, fmt.Errorf("read import marker: %w", err)
	}
	f := strings.Fields(string(b))
	switch {
	case len(f) == 1 && f[0] == markerBulk:
		return importMarker{mode: markerBulk}, true, nil
	case len(f) == 2 && f[0] == markerIncrement:
		n, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return importMarker{}, false, fmt.Errorf("import marker %s: batch sequence %q: %w", markerPath(dir), f[1], err)
		}
		return importMarker{mode: markerIncrement, seq: uint32(n)}, true, nil
	}
	// A marker cut short by a crash while it was written would be an empty
	// temp file, never this file (writeMarker renames it into place).
	return importMarker{}, false, fmt.Errorf("import marker %s: unrecognised content %q", markerPath(dir), b)
}

// writeMarker durably records that an import is under way: the file is
// written and synced under a temporary name, renamed into place and the
// directory synced, so after a crash it is either absent or complete.
func writeMarker(dir string, m importMarker) error {
	content := m.mode + "\n"
	if m.mode == markerIncrement {
		content = fmt.Sprintf("%s %d\n", m.mode, m.seq)
	}
	tmp := markerPath(dir) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write import marker: %w", err)
	}
	_, werr := f.WriteString(content)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write import marker: %w", err)
	}
	if err := os.Rename(tmp, markerPath(dir)); err != nil {
		return fmt.Errorf("write import marker: %w", err)
	}
	return syncDir(dir)
}

// removeMarker records that the database is consistent again.
func removeMarker(dir string) error {
	if err := os.Remove(markerPath(dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove import marker: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if err := errors.Join(serr, cerr); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// recoverImport runs when Open opens a database for writing. After a killed
// bulk import it drops the partial import, so the database is empty again;
// the recovery of a killed incremental import is left to the next loader
// (see NewLoader). Spilled runs of a killed bulk import are removed either way.
func (db *DB) recoverImport() error {
	m, ok, err := readMarker(db.dir)
	if err != nil {
		return err
	}
	if ok && m.mode == markerBulk {
		db.log.Warn("discarding an interrupted bulk import", "dir", db.dir)
		if err := db.bdb.DropAll(); err != nil {
			return fmt.Errorf("discard interrupted import: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(db.dir, tmpDirName)); err != nil {
		return fmt.Errorf("remove import temp dir: %w", err)
	}
	_ = os.Remove(markerPath(db.dir) + ".tmp")
	if ok && m.mode == markerBulk {
		return removeMarker(db.dir)
	}
	return nil
}

// checkInterrupted is recoverImport for a read-only Open, which cannot repair:
// a partial bulk import is refused, a partial incremental import opens (its
// records are consistent, the statistics may lag until the rerun).
func checkInterrupted(dir string) error {
	m, ok, err := readMarker(dir)
	if err != nil {
		return err
	}
	if ok && m.mode == markerBulk {
		return ErrInterrupted
	}
	return nil
}

// recoveredBatchSeq is the batch sequence a loader continues from after an
// incremental import that began at sequence began was killed: the greatest
// batch recorded in the manifest, or began if that is greater. Batches the
// killed run had begun but not recorded are handed out again, so the rerun
// numbers its batches as a clean run would have.
func (db *DB) recoveredBatchSeq(began uint32) (uint32, error) {
	seq := began
	err := db.bdb.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = []byte{pfxBatch}
		o.Reverse = true
		it := txn.NewIterator(o)
		defer it.Close()
		// The greatest batch key is the last one under the prefix.
		it.Seek([]byte{pfxBatch, 0xff, 0xff, 0xff, 0xff, 0xff})
		if it.ValidForPrefix(o.Prefix) {
			k := it.Item().Key()
			if len(k) != 5 {
				return fmt.Errorf("batch key %x: want 5 bytes", k)
			}
			seq = max(seq, binary.BigEndian.Uint32(k[1:]))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read batch manifest of %s: %w", db.dir, err)
	}
	return seq, nil
}

// rebuildDerived recomputes every derived record from the stored entities,
// links and transactions: the totals and neighbour rows of all entities, the
// search-doc snapshot and the statistics. It is the Finish of an import that
// follows a killed one, whose touched entities are unknown.
func (db *DB) rebuildDerived(ctx context.Context, progress func(string, int64, int64)) error {
	if err := db.bdb.DropPrefix([]byte{pfxTxnAgg}, []byte{pfxNbr}, []byte{pfxDocs}); err != nil {
		return fmt.Errorf("rebuild derived records of %s: %w", db.dir, err)
	}
	// With no touched entities and a negative threshold, reindex scans every
	// transaction and writes the totals and neighbour rows of every owner.
	return db.reindex(ctx, nil, -1, progress)
}
