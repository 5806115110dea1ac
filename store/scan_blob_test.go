package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func readBlob(t *testing.T, db *DB, name string) ([]byte, error) {
	t.Helper()
	rc, err := db.Blob(context.Background(), name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestBlobRoundTripAndStale(t *testing.T) {
	dir := t.TempDir()
	db := openAt(t, dir)
	ctx := context.Background()
	load(t, db, dataset(5, 20))
	if _, err := db.Blob(ctx, "ix"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing blob: err = %v, want ErrNotFound", err)
	}
	st, err := db.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	// Two full chunks and a part: a long blob, then a shorter one over it.
	long := randomBytes(2*blobChunk + 12345)
	if n, err := db.PutBlob(ctx, "ix", st, bytes.NewReader(long)); err != nil || n != int64(len(long)) {
		t.Fatalf("PutBlob = %d, %v", n, err)
	}
	if got, err := readBlob(t, db, "ix"); err != nil || !bytes.Equal(got, long) {
		t.Fatalf("read long blob: %d bytes, %v", len(got), err)
	}
	short := []byte("short blob")
	if _, err := db.PutBlob(ctx, "ix", st, bytes.NewReader(short)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutBlob(ctx, "other", st, bytes.NewReader(nil)); err != nil {
		t.Fatal(err)
	}
	if got, err := readBlob(t, db, "ix"); err != nil || !bytes.Equal(got, short) {
		t.Fatalf("read short blob: %q, %v", got, err)
	}
	if got, err := readBlob(t, db, "other"); err != nil || len(got) != 0 {
		t.Fatalf("read empty blob: %q, %v", got, err)
	}
	// Only the short blob's chunk is left.
	chunks := 0
	_ = db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxBlob}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			chunks++
		}
		return nil
	})
	if chunks != 1 {
		t.Errorf("%d chunks stored, want 1", chunks)
	}

	// Reopened read-only, the blob is still fresh but cannot be written.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := readBlob(t, ro, "ix"); err != nil || !bytes.Equal(got, short) {
		t.Fatalf("read-only: %q, %v", got, err)
	}
	if ro.Writable() {
		t.Error("read-only database reports writable")
	}
	if _, err := ro.PutBlob(ctx, "ix", st, bytes.NewReader(short)); err == nil {
		t.Error("PutBlob on a read-only database succeeded")
	}
	ro.Close()

	// A later import makes the blob stale; a new stamp freshens it.
	db = openAt(t, dir)
	more := dataset(6, 5)
	for i := range more.txns {
		more.txns[i].ID = "N" + more.txns[i].ID
	}
	load(t, db, more)
	if _, err := readBlob(t, db, "ix"); !errors.Is(err, ErrStale) {
		t.Fatalf("after import: err = %v, want ErrStale", err)
	}
	st2, err := db.Stamp()
	if err != nil || st2 == st {
		t.Fatalf("stamp did not change: %v", err)
	}
	if _, err := db.PutBlob(ctx, "ix", st2, bytes.NewReader(short)); err != nil {
		t.Fatal(err)
	}
	if _, err := readBlob(t, db, "ix"); err != nil {
		t.Fatalf("after rewrite: %v", err)
	}
	// Writing a blob does not change the stamp.
	if st3, _ := db.Stamp(); st3 != st2 {
		t.Error("PutBlob changed the stamp")
	}
}

func TestBlobStaleAfterAbort(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	load(t, db, dataset(5, 20))
	st, _ := db.Stamp()
	if _, err := db.PutBlob(ctx, "ix", st, bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	l.BeginBatch("half.csv", "sha-half", "transactions")
	// Enough rows that part of the import is committed before the abort.
	for i := range 3000 {
		x := graph.Txn{ID: fmt.Sprintf("HALF%d", i), Time: t0, From: cardRef(1), To: cardRef(2), Amount: 5, Channel: graph.ChannelTransfer}
		if err := l.PutTxn(x); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Txn(ctx, "HALF0"); err != nil {
		t.Fatalf("the aborted import left nothing behind (%v): the test needs it to", err)
	}
	if _, err := readBlob(t, db, "ix"); !errors.Is(err, ErrStale) {
		t.Fatalf("after aborted import: err = %v, want ErrStale", err)
	}
}

func TestBlobDamage(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	st, _ := db.Stamp()
	data := randomBytes(blobChunk + 10)
	if _, err := db.PutBlob(ctx, "ix", st, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	// A lost chunk is an error, not a short blob.
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete(blobKey("ix", 1)) }); err != nil {
		t.Fatal(err)
	}
	if got, err := readBlob(t, db, "ix"); err == nil {
		t.Fatalf("read %d bytes of a blob missing a chunk without error", len(got))
	}
	// A failing reader leaves no blob behind.
	boom := errors.New("boom")
	if _, err := db.PutBlob(ctx, "ix", st, io.MultiReader(bytes.NewReader(data[:100]), errReader{boom})); !errors.Is(err, boom) {
		t.Fatalf("PutBlob err = %v, want boom", err)
	}
	if _, err := db.Blob(ctx, "ix"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after a failed write: err = %v, want ErrNotFound", err)
	}
	if _, err := db.PutBlob(ctx, "", st, bytes.NewReader(nil)); err == nil {
		t.Error("PutBlob accepted an empty name")
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func FuzzParseBlobKey(f *testing.F) {
	f.Add(blobKey("graph-index", 3))
	f.Add([]byte{pfxBlob, 0})
	f.Fuzz(func(t *testing.T, k []byte) {
		name, chunk, err := parseBlobKey(k)
		if err == nil && !bytes.Equal(blobKey(name, chunk), k) {
			t.Fatalf("parse(%x) = %q %d does not round-trip", k, name, chunk)
		}
	})
}

// TestDeleteBlob: a deleted blob reads as missing and leaves no chunk; other
// blobs stay; deleting a missing one is not an error.
func TestDeleteBlob(t *testing.T) {
	db := openAt(t, t.TempDir())
	ctx := context.Background()
	load(t, db, dataset(3, 10))
	st, err := db.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutBlob(ctx, "ix", st, bytes.NewReader(randomBytes(blobChunk+7))); err != nil {
		t.Fatal(err)
	}
	keep := []byte("kept")
	if _, err := db.PutBlob(ctx, "ixx", st, bytes.NewReader(keep)); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteBlob(ctx, "ix"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Blob(ctx, "ix"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted blob: %v, want ErrNotFound", err)
	}
	chunks := 0
	err = db.bdb.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = appendField([]byte{pfxBlob}, "ix")
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			chunks++
		}
		return nil
	})
	if err != nil || chunks != 0 {
		t.Fatalf("%d chunks left (%v)", chunks, err)
	}
	if got, err := readBlob(t, db, "ixx"); err != nil || !bytes.Equal(got, keep) {
		t.Fatalf("other blob: %q, %v", got, err)
	}
	if err := db.DeleteBlob(ctx, "missing"); err != nil {
		t.Fatalf("deleting a missing blob: %v", err)
	}
}
