// Package store keeps a casegraph case database in Badger. It is the only
// package that imports Badger and the only one that knows a byte layout (see
// keys.go and docs/adr/0001-key-layout.md). It speaks graph types and returns
// the sentinel errors below, never Badger's.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// Options configure Open.
type Options struct {
	EncryptionKey []byte       // nil = no encryption; 16, 24 or 32 bytes (AES)
	ReadOnly      bool         // open without writing; shares the directory with other readers
	Logger        *slog.Logger // receives Badger's log; nil discards it
	// JournalKey is key material for the journal's HMAC (a journal key
	// file's bytes, at least 16). Without it an encrypted database keys its
	// journal with a key derived from EncryptionKey; an unencrypted one
	// writes an unkeyed journal (see journal.go).
	JournalKey []byte
}

// Sentinel errors. Compare with errors.Is; the returned errors name the directory.
var (
	// ErrNotFound is graph.ErrNotFound: no such entity or transaction.
	ErrNotFound = graph.ErrNotFound
	// ErrLocked means another process has the database open.
	ErrLocked = errors.New("database is in use by another process")
	// ErrBadKey means the encryption key does not open the database: it is
	// wrong, the database is not encrypted, or no key was given for an
	// encrypted database (then the error also wraps ErrKeyRequired).
	ErrBadKey = errors.New("wrong encryption key")
	// ErrKeyRequired means the database is encrypted and no key was given.
	ErrKeyRequired = errors.New("database is encrypted: an encryption key is required")
	// ErrNotDatabase means the folder exists but holds no casegraph
	// database: opening it never writes there.
	ErrNotDatabase = errors.New("not a casegraph database")
)

// dropEmptyMemtables removes memtable files of zero bytes. A process killed
// between Badger creating a memtable file and sizing it leaves one, and
// Badger then refuses to open the database ("while opening fid: N err:
// Create a new file"); an empty file holds no entry, so removing it loses
// nothing. See docs/adr/0002-empty-memtables.md.
func dropEmptyMemtables(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".mem") || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || fi.Size() != 0 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// checkDatabaseDir refuses a folder that exists and holds files but no
// database (Badger's MANIFEST), such as the evidence folder of CSVs an
// investigator meant to import: opening it would write Badger's files among
// the evidence. A folder that does not exist, or an empty one, may become a
// database unless the open is read-only.
func checkDatabaseDir(dir string, readOnly bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if readOnly {
			return fmt.Errorf("open %s: %w: the folder does not exist", dir, ErrNotDatabase)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("open %s: %w: it is a file, not a folder", dir, ErrNotDatabase)
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err == nil {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	switch {
	case len(names) == 0 && readOnly:
		return fmt.Errorf("open %s: %w: the folder is empty", dir, ErrNotDatabase)
	case len(names) == 0:
		return nil
	}
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	return fmt.Errorf("open %s: %w: the folder holds other files (%s); name a new or empty folder for the database",
		dir, ErrNotDatabase, strings.Join(names, ", "))
}

// gcInterval is how often the value-log GC runs while a database is open.
const gcInterval = 10 * time.Minute

// DB is an open case database. Its methods are safe for concurrent use,
// except that only one Loader may be active at a time.
type DB struct {
	bdb      *badger.DB
	dir      string
	readOnly bool
	log      *slog.Logger
	docCount atomic.Int64

	// journalKey keys the journal's HMAC; journalKeyID names it in entries.
	// Both empty: the journal is unkeyed.
	journalKey   []byte
	journalKeyID string
	// sealKey seals the files an encrypted database writes outside Badger
	// (seal.go); nil when the database is not encrypted.
	sealKey []byte

	// bulkMu is held while a StreamWriter writes; the value-log GC skips its
	// turn rather than run against a half-built LSM tree.
	bulkMu sync.Mutex
	// caseMu serialises case and journal writes (case.go, journal.go):
	// conflict detection is off, so two concurrent updates could otherwise
	// both append the same journal sequence number.
	caseMu sync.Mutex
	// riskMu serialises the writers of kept analyses (risk.go).
	riskMu sync.Mutex
	// names, when set, names neighbour and holding rows from memory
	// (names.go).
	names atomic.Pointer[nameSource]

	stopGC    chan struct{}
	gcDone    sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	// shares counts the users Retain added: each Close of one of them
	// releases it, and only the Close past them all closes Badger.
	shares atomic.Int64
}

// Open opens (creating if needed) the database in dir.
func Open(dir string, opts Options) (*DB, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch n := len(opts.EncryptionKey); n {
	case 0, 16, 24, 32:
	default:
		return nil, fmt.Errorf("open %s: encryption key is %d bytes, want 16, 24 or 32: %w", dir, n, ErrBadKey)
	}
	if err := checkDatabaseDir(dir, opts.ReadOnly); err != nil {
		return nil, err
	}
	if n := len(opts.JournalKey); n > 0 && n < 16 {
		return nil, fmt.Errorf("open %s: journal key is %d bytes, want at least 16", dir, n)
	}
	if !opts.ReadOnly {
		if err := privateDir(dir); err != nil {
			return nil, fmt.Errorf("open %s: %w", dir, err)
		}
		if err := dropEmptyMemtables(dir); err != nil {
			return nil, fmt.Errorf("open %s: %w", dir, err)
		}
	}
	bo := badger.DefaultOptions(dir).
		WithLogger(slogAdapter{log}).
		WithReadOnly(opts.ReadOnly).
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		// The StreamWriter builds bottom-level tables of BaseTableSize×2^5 and
		// each in-flight builder pre-allocates twice that, and a bulk import
		// writes several streams at once (finish_part.go); with up to 16
		// builders in flight the default (64 MiB tables) alone could exceed
		// the import memory budget (T3). 256 KiB gives 8 MiB tables. With
		// 16 MiB ones a two-part merge held the heap at the import's soft
		// limit and the collector ran without pause (295 cycles, the write
		// phase 6 → 14 s); 8 MiB ones keep ~780 MiB live, under the limit.
		// 4 MiB ones imported no faster with less memory (0.95 instead of
		// 1.17 GiB peak on the large demo), but a database then has 4× the
		// tables of 16 MiB ones to open and keep open (first frame 50 →
		// 95 ms on the large demo; 8 MiB: 61–76 ms).
		WithBaseTableSize(256 << 10).
		// 16 KiB blocks instead of 4: a bulk import builds a quarter of the
		// blocks (each compressed, checksummed and indexed), which took
		// 15 % off a 1M-row import, and the tables compress 15 % smaller.
		// Prefix scans read fewer blocks; a point read decompresses a
		// larger one (microseconds).
		WithBlockSize(16 << 10).
		// Badger's default block cache (256 MiB) is the process's own memory,
		// which issue 14 budgets, and every block read stays in it
		// decompressed: while keeping a replaced analysis on the large demo it
		// held 260 MB of a 957 MB heap (the sweep that deletes the previous
		// analysis reads its rows). With 64 MiB the keep's peak own memory
		// fell from 1,134–1,286 to 933–941 MiB and an incremental import's from
		// 1,162–1,190 to 821–840 MiB; page and neighbour p99 are unchanged,
		// since the tables' compressed blocks stay in the kernel's page cache
		// (docs/PERFORMANCE.md, "Badger's block cache"). Smaller memtables
		// (32 MiB) were tried with it and made the keep slower (15.8–20.5 s
		// against 12.2–12.9 s on the large demo, 103 s against 81 s on
		// xlarge) with a higher peak.
		WithBlockCacheSize(64 << 20)
	if len(opts.EncryptionKey) > 0 {
		bo = bo.WithEncryptionKey(opts.EncryptionKey).WithIndexCacheSize(64 << 20)
	}
	bdb, err := badger.Open(bo)
	if err != nil {
		return nil, mapOpenError(dir, opts, err)
	}
	db := &DB{bdb: bdb, dir: dir, readOnly: opts.ReadOnly, log: log, stopGC: make(chan struct{})}
	if len(opts.EncryptionKey) > 0 {
		db.sealKey = deriveSealKey(opts.EncryptionKey)
	}
	switch {
	case len(opts.JournalKey) > 0:
		db.journalKey, db.journalKeyID = deriveJournalKey(opts.JournalKey)
	case len(opts.EncryptionKey) > 0:
		db.journalKey, db.journalKeyID = deriveJournalKey(opts.EncryptionKey)
	}
	// An import killed before it finished leaves a marker (recover.go).
	var recoverErr error
	if opts.ReadOnly {
		recoverErr = checkInterrupted(dir)
	} else {
		recoverErr = db.recoverImport()
	}
	if recoverErr != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open %s: %w", dir, recoverErr)
	}
	if err := db.loadDocCount(); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if !opts.ReadOnly {
		db.gcDone.Add(1)
		go db.runGC()
	}
	return db, nil
}

// privateDir creates the database folder with mode 0700, or takes the
// group's and others' access away from an existing one: the tables are
// encrypted only with a key, the folder also holds the import marker, the
// spilled runs and the rejects.
func privateDir(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return err
	}
	if runtime.GOOS != "windows" && st.IsDir() && st.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, st.Mode().Perm()&0o700)
	}
	return nil
}

func mapOpenError(dir string, opts Options, err error) error {
	switch {
	case strings.Contains(err.Error(), "Cannot acquire directory lock"):
		return fmt.Errorf("open %s: %w", dir, ErrLocked)
	case errors.Is(err, badger.ErrEncryptionKeyMismatch) && len(opts.EncryptionKey) == 0:
		return fmt.Errorf("open %s: %w (%w)", dir, ErrKeyRequired, ErrBadKey)
	case errors.Is(err, badger.ErrEncryptionKeyMismatch):
		return fmt.Errorf("open %s: %w (or the database is not encrypted)", dir, ErrBadKey)
	case errors.Is(err, badger.ErrInvalidEncryptionKey):
		return fmt.Errorf("open %s: %w", dir, ErrBadKey)
	case opts.ReadOnly && (errors.Is(err, badger.ErrTruncateNeeded) || strings.Contains(err.Error(), "truncate required") ||
		strings.Contains(err.Error(), "error while truncation")):
		return fmt.Errorf("open %s: %w", dir, ErrUnclean)
	}
	return fmt.Errorf("open %s: %w", dir, err)
}

// Retain adds a user of this open database who will Close it like its
// opener: the process that holds a database lends it so to the commands it
// runs for the command line (holder/), each of which closes what it
// opened. Only the Close past every Retain closes Badger; the owner must
// not close it while a borrower still works.
func (db *DB) Retain() *DB {
	db.shares.Add(1)
	return db
}

// Close stops the value-log GC, waits for it and closes Badger, unless it
// releases a Retain. Closing again returns the first result.
func (db *DB) Close() error {
	for {
		n := db.shares.Load()
		if n <= 0 {
			break
		}
		if db.shares.CompareAndSwap(n, n-1) {
			return nil
		}
	}
	db.closeOnce.Do(func() {
		close(db.stopGC)
		db.gcDone.Wait()
		if err := db.bdb.Close(); err != nil {
			db.closeErr = fmt.Errorf("close %s: %w", db.dir, err)
		}
	})
	return db.closeErr
}

// Dir returns the directory the database lives in.
func (db *DB) Dir() string { return db.dir }

func (db *DB) runGC() {
	defer db.gcDone.Done()
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	for {
		select {
		case <-db.stopGC:
			return
		case <-t.C:
			if !db.bulkMu.TryLock() {
				continue
			}
			db.collectValueLog()
			db.bulkMu.Unlock()
		}
	}
}

func (db *DB) collectValueLog() {
	for {
		select {
		case <-db.stopGC:
			return
		default:
		}
		// Values are small and live in the LSM tree, so this rarely finds work;
		// it reclaims the value log of large search-doc chunks after re-imports.
		if db.bdb.RunValueLogGC(0.5) != nil {
			return
		}
	}
}

// Empty reports whether the database holds no records at all.
func (db *DB) Empty() (bool, error) {
	empty := true
	err := db.bdb.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		it := txn.NewIterator(o)
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("check %s is empty: %w", db.dir, err)
	}
	return empty, nil
}

// getValue returns a copy of the value at key, or ErrNotFound.
func (db *DB) getValue(key []byte) ([]byte, error) {
	var v []byte
	err := db.bdb.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		if err != nil {
			return err
		}
		v, err = it.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	return v, err
}

func (db *DB) loadDocCount() error {
	v, err := db.getValue(metaKey(metaDocs))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read search-doc count: %w", err)
	}
	n, _, err := decodeDocsMeta(v)
	if err != nil {
		return err
	}
	db.docCount.Store(int64(n))
	return nil
}

// docs meta value: [count uvarint][chunks uvarint]
func encodeDocsMeta(count, chunks uint64) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(nil, count), chunks)
}

func decodeDocsMeta(v []byte) (count, chunks uint64, err error) {
	r := reader{b: v}
	count, chunks = r.uvarint(), r.uvarint()
	if r.err != nil {
		return 0, 0, fmt.Errorf("decode search-doc meta: %w", r.err)
	}
	return count, chunks, nil
}

// LoadKeyFile reads an encryption key file: the raw 16, 24 or 32 key bytes, or
// those bytes as hex (surrounding whitespace ignored). A file that is entirely
// hex digits is read as hex.
//
// A key file that its group or other users may read (mode bits 0o044, as a
// plain `touch` or `cp` under umask 022 leaves it) is refused: the key is the
// whole protection of an encrypted database. It is checked on the opened
// file, so a rename between check and read cannot swap it.
func LoadKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	} else if runtime.GOOS != "windows" && fi.Mode().Perm()&0o044 != 0 {
		return nil, fmt.Errorf("key file %s is readable by other users (mode %04o); make it private with chmod 600 %s",
			path, fi.Mode().Perm(), path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && isHex(t) {
		key := make([]byte, hex.DecodedLen(len(t)))
		if _, err := hex.Decode(key, t); err == nil {
			switch len(key) {
			case 16, 24, 32:
				return key, nil
			}
		}
		if len(raw) != 16 && len(raw) != 24 && len(raw) != 32 {
			return nil, fmt.Errorf("key file %s: %d hex digits, want 32, 48 or 64 (a 16, 24 or 32-byte AES key)", path, len(t))
		}
	}
	switch len(raw) {
	case 16, 24, 32:
		return raw, nil
	}
	return nil, fmt.Errorf("key file %s: %d bytes, want a raw 16, 24 or 32-byte AES key or its hex", path, len(raw))
}

// LoadJournalKeyFile reads a journal key file: at least 16 bytes of secret
// (surrounding whitespace ignored, at most 1 KiB), refused like a key file
// when other users may read it.
func LoadJournalKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read journal key file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("read journal key file %s: %w", path, err)
	} else if runtime.GOOS != "windows" && fi.Mode().Perm()&0o044 != 0 {
		return nil, fmt.Errorf("journal key file %s is readable by other users (mode %04o); make it private with chmod 600 %s",
			path, fi.Mode().Perm(), path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, 1025))
	if err != nil {
		return nil, fmt.Errorf("read journal key file %s: %w", path, err)
	}
	if len(raw) > 1024 {
		return nil, fmt.Errorf("journal key file %s is larger than 1 KiB", path)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) < 16 {
		return nil, fmt.Errorf("journal key file %s: %d bytes, want at least 16 (e.g. head -c 32 /dev/urandom | xxd -p > FILE)", path, len(raw))
	}
	return raw, nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// slogAdapter sends Badger's log lines to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) log(level slog.Level, format string, args ...any) {
	if !a.l.Enabled(context.Background(), level) {
		return
	}
	a.l.Log(context.Background(), level, strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "badger")
}

func (a slogAdapter) Errorf(f string, v ...any)   { a.log(slog.LevelError, f, v...) }
func (a slogAdapter) Warningf(f string, v ...any) { a.log(slog.LevelWarn, f, v...) }
func (a slogAdapter) Infof(f string, v ...any)    { a.log(slog.LevelInfo, f, v...) }
func (a slogAdapter) Debugf(f string, v ...any)   { a.log(slog.LevelDebug, f, v...) }
