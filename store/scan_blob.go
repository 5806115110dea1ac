package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4"
)

// Blobs are large derived values (the graph index snapshot) that the store
// keeps for a caller without knowing their format. A blob is stored in
// chunks under [g][name][chunk]; its meta row names the chunk count, the
// size and the Stamp of the data it was derived from, so a blob written
// before a later import reads as stale.
//
// pfxBlob: [g][len uint16 BE][name][chunk uint32 BE] → up to blobChunk bytes
// meta "blob:"+name: [stamp 32 bytes][chunks uvarint][size uvarint]
const (
	pfxBlob   byte = 'g'
	blobChunk      = 4 << 20
)

// ErrStale is returned by Blob when the blob was derived from data that a
// later import (or aborted import) has changed.
var ErrStale = errors.New("stale: the data changed since it was written")

// Stamp identifies the state of the imported data: it changes whenever an
// import finishes or is aborted, and not when cases, journals or blobs are
// written.
type Stamp [sha256.Size]byte

// Stamp returns the stamp of the data as it is now. It hashes the statistics
// (rewritten by every Finish and Abort, and listing every batch) and the
// batch sequence (bumped by every begun batch).
func (db *DB) Stamp() (Stamp, error) {
	h := sha256.New()
	for _, name := range []string{metaStats, metaBatchSeq} {
		v, err := db.getValue(metaKey(name))
		switch {
		case errors.Is(err, ErrNotFound):
			v = nil
		case err != nil:
			return Stamp{}, fmt.Errorf("stamp %s: read %s: %w", db.dir, name, err)
		}
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write(v)
	}
	var s Stamp
	h.Sum(s[:0])
	return s, nil
}

// Writable reports whether the database was opened for writing.
func (db *DB) Writable() bool { return !db.readOnly }

func blobMetaKey(name string) []byte { return metaKey("blob:" + name) }

// blobKey: [g][len uint16 BE][name][chunk uint32 BE]
func blobKey(name string, chunk uint32) []byte {
	k := appendField(append(make([]byte, 0, 7+len(name)), pfxBlob), name)
	return binary.BigEndian.AppendUint32(k, chunk)
}

func parseBlobKey(k []byte) (name string, chunk uint32, err error) {
	if len(k) < 1 || k[0] != pfxBlob {
		return "", 0, fmt.Errorf("blob key: wrong prefix")
	}
	name, rest, err := readField(k[1:])
	if err != nil {
		return "", 0, fmt.Errorf("blob key: %w", err)
	}
	if len(rest) != 4 {
		return "", 0, fmt.Errorf("blob key: want a 4-byte chunk number, have %d bytes", len(rest))
	}
	return name, binary.BigEndian.Uint32(rest), nil
}

type blobMeta struct {
	stamp  Stamp
	chunks uint64
	size   uint64
}

func encodeBlobMeta(m blobMeta) []byte {
	b := append([]byte(nil), m.stamp[:]...)
	b = binary.AppendUvarint(b, m.chunks)
	return binary.AppendUvarint(b, m.size)
}

func decodeBlobMeta(v []byte) (blobMeta, error) {
	var m blobMeta
	if len(v) < len(m.stamp) {
		return m, fmt.Errorf("decode blob meta: %w", errShortValue)
	}
	copy(m.stamp[:], v)
	r := reader{b: v[len(m.stamp):]}
	m.chunks, m.size = r.uvarint(), r.uvarint()
	if r.err != nil {
		return m, fmt.Errorf("decode blob meta: %w", r.err)
	}
	return m, nil
}

// PutBlob stores everything r yields as the blob name, derived from the data
// as of st (take the Stamp before reading what the blob is derived from). It
// replaces any earlier blob of that name. The meta row is removed first and
// written last, so a blob cut short by a crash reads as missing, never as a
// shorter one. It returns the blob's size.
func (db *DB) PutBlob(ctx context.Context, name string, st Stamp, r io.Reader) (int64, error) {
	if db.readOnly {
		return 0, fmt.Errorf("write blob %s to %s: database is open read-only", name, db.dir)
	}
	if name == "" || len(name) > 255 {
		return 0, fmt.Errorf("write blob %q to %s: name must be 1–255 bytes", name, db.dir)
	}
	fail := func(err error) (int64, error) { return 0, fmt.Errorf("write blob %s to %s: %w", name, db.dir, err) }
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete(blobMetaKey(name)) }); err != nil {
		return fail(err)
	}
	wb := db.bdb.NewWriteBatch()
	defer wb.Cancel()
	var size, chunks uint64
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		// Each chunk is a fresh buffer: the write batch keeps it until Flush.
		buf := make([]byte, blobChunk)
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if err := wb.Set(blobKey(name, uint32(chunks)), buf[:n]); err != nil {
				return fail(err)
			}
			chunks++
			size += uint64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fail(err)
	}
	// Chunks of an earlier, longer blob of the same name.
	var stale [][]byte
	err := db.bdb.View(func(txn *badger.Txn) error {
		prefix := appendField([]byte{pfxBlob}, name)
		it := keyIterator(txn, prefix)
		defer it.Close()
		for it.Seek(blobKey(name, uint32(chunks))); it.ValidForPrefix(prefix); it.Next() {
			stale = append(stale, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	err = db.bdb.Update(func(txn *badger.Txn) error {
		for _, k := range stale {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return txn.Set(blobMetaKey(name), encodeBlobMeta(blobMeta{stamp: st, chunks: chunks, size: size}))
	})
	if err != nil {
		return fail(err)
	}
	return int64(size), nil
}

// DeleteBlob removes the blob name and its chunks, if there is one.
func (db *DB) DeleteBlob(ctx context.Context, name string) error {
	if db.readOnly {
		return fmt.Errorf("delete blob %s from %s: database is open read-only", name, db.dir)
	}
	fail := func(err error) error { return fmt.Errorf("delete blob %s from %s: %w", name, db.dir, err) }
	// The meta row first: a blob cut short reads as missing.
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete(blobMetaKey(name)) }); err != nil {
		return fail(err)
	}
	var keys [][]byte
	err := db.bdb.View(func(txn *badger.Txn) error {
		prefix := appendField([]byte{pfxBlob}, name)
		it := keyIterator(txn, prefix)
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	wb := db.bdb.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return fail(err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fail(err)
	}
	return nil
}

// Blob opens the blob name for reading. It returns ErrNotFound when there is
// none and ErrStale when the data changed after it was written. The reader
// holds a read transaction open until Close; it returns an error rather than
// EOF if a chunk is missing or the size disagrees with the meta row.
func (db *DB) Blob(ctx context.Context, name string) (io.ReadCloser, error) {
	v, err := db.getValue(blobMetaKey(name))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("blob %s in %s: %w", name, db.dir, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read blob %s meta in %s: %w", name, db.dir, err)
	}
	m, err := decodeBlobMeta(v)
	if err != nil {
		return nil, fmt.Errorf("blob %s in %s: %w", name, db.dir, err)
	}
	st, err := db.Stamp()
	if err != nil {
		return nil, err
	}
	if st != m.stamp {
		return nil, fmt.Errorf("blob %s in %s: %w", name, db.dir, ErrStale)
	}
	txn := db.bdb.NewTransaction(false)
	prefix := appendField([]byte{pfxBlob}, name)
	it := keyIterator(txn, prefix)
	it.Seek(prefix)
	return &blobReader{ctx: ctx, db: db, name: name, meta: m, txn: txn, it: it}, nil
}

type blobReader struct {
	ctx    context.Context
	db     *DB
	name   string
	meta   blobMeta
	txn    *badger.Txn
	it     *badger.Iterator
	buf    []byte // the current chunk
	rest   []byte // its unread part
	chunk  uint64 // chunks read
	size   uint64 // bytes read
	err    error
	closed bool
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.closed {
		return 0, fmt.Errorf("read blob %s: reader closed", b.name)
	}
	for len(b.rest) == 0 {
		if b.err = b.nextChunk(); b.err != nil {
			return 0, b.err
		}
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

func (b *blobReader) nextChunk() error {
	if err := b.ctx.Err(); err != nil {
		return fmt.Errorf("read blob %s: %w", b.name, err)
	}
	if b.chunk == b.meta.chunks {
		if b.size != b.meta.size {
			return fmt.Errorf("read blob %s in %s: %d bytes, meta says %d", b.name, b.db.dir, b.size, b.meta.size)
		}
		return io.EOF
	}
	if !b.it.ValidForPrefix(appendField([]byte{pfxBlob}, b.name)) {
		return fmt.Errorf("read blob %s in %s: chunk %d of %d missing: %w", b.name, b.db.dir, b.chunk, b.meta.chunks, io.ErrUnexpectedEOF)
	}
	item := b.it.Item()
	_, c, err := parseBlobKey(item.Key())
	if err != nil {
		return fmt.Errorf("read blob %s in %s: %w", b.name, b.db.dir, err)
	}
	if uint64(c) != b.chunk {
		return fmt.Errorf("read blob %s in %s: chunk %d where %d belongs: %w", b.name, b.db.dir, c, b.chunk, io.ErrUnexpectedEOF)
	}
	b.buf, err = item.ValueCopy(b.buf[:0])
	if err != nil {
		return fmt.Errorf("read blob %s chunk %d in %s: %w", b.name, c, b.db.dir, err)
	}
	b.rest = b.buf
	b.chunk++
	b.size += uint64(len(b.buf))
	b.it.Next()
	return nil
}

// Close ends the read transaction.
func (b *blobReader) Close() error {
	if !b.closed {
		b.closed = true
		b.it.Close()
		b.txn.Discard()
	}
	return nil
}
