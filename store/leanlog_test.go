package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"casegraph/graph"
)

// bulkKeepingLean bulk-imports r cut into parts parts, keeping the lean
// scan's records, and returns the database and what was kept.
func bulkKeepingLean(t *testing.T, r records, parts int) (*DB, *LeanLog) {
	t.Helper()
	db := openTemp(t)
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	if !l.KeepLean() {
		t.Fatal("a bulk loader refused to keep the lean records")
	}
	l.spillBytes, l.markBytes, l.parts = 16<<10, 512, parts
	put(t, l, r)
	if err := l.Finish(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	g := l.LeanLog()
	if g == nil {
		t.Fatal("no lean log after a bulk Finish")
	}
	t.Cleanup(func() { g.Close() })
	return db, g
}

// The records a bulk import kept build the index the store's own lean scan
// builds, byte for byte, however the merge was cut into parts.
func TestLeanLogBuildsTheSameIndex(t *testing.T) {
	r := leanDataset()
	p := partDataset()
	r.ents = append(r.ents, p.ents[len(p.ents)-5:]...) // stubs of imported persons
	for _, parts := range []int{1, 3} {
		db, g := bulkKeepingLean(t, r, parts)
		if g.Size() == 0 || len(g.parts) != parts {
			t.Fatalf("%d parts: kept %d bytes in %d parts", parts, g.Size(), len(g.parts))
		}
		want, err := leanIndex(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		b, err := graph.LeanBuilder(ctx, g, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := b.Build()
		if got.TxCount() != len(r.txns) {
			t.Fatalf("%d parts: %d transactions in the index from the log, want %d", parts, got.TxCount(), len(r.txns))
		}
		if !bytes.Equal(snapshotOf(t, got), snapshotOf(t, want)) {
			t.Fatalf("%d parts: the index built from the kept records differs from the store's", parts)
		}
		// Replayed twice, the same.
		b, err = graph.LeanBuilder(ctx, g, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(snapshotOf(t, b.Build()), snapshotOf(t, want)) {
			t.Fatalf("%d parts: a second replay differs", parts)
		}
	}
}

func TestLeanLogStopsAndCloses(t *testing.T) {
	db, g := bulkKeepingLean(t, dataset(5, 200), 2)
	boom := errors.New("boom")
	n := 0
	err := g.ScanLean(ctx, nil, nil, func(*graph.ScanTxn) error {
		if n++; n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 3 {
		t.Errorf("err = %v after %d, want boom after 3", err, n)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.ScanLean(cctx, nil, nil, func(*graph.ScanTxn) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(db.Dir(), ".lean-*"))
	if len(left) != 0 {
		t.Errorf("files left in the database folder: %v", left)
	}
}

// An incremental import keeps nothing, nor an encrypted database's; an
// aborted or failed bulk import leaves no kept records behind.
func TestLeanLogOnlyForBulk(t *testing.T) {
	db := openTemp(t)
	load(t, db, dataset(5, 50))
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	if l.KeepLean() {
		t.Error("an incremental loader said it keeps the lean records")
	}
	put(t, l, dataset(6, 10))
	if err := l.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if l.LeanLog() != nil {
		t.Error("an incremental loader handed over a lean log")
	}

	sealed, err := Open(t.TempDir(), Options{EncryptionKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer sealed.Close()
	if l, err := sealed.NewLoader(); err != nil {
		t.Fatal(err)
	} else if l.KeepLean() {
		t.Error("the loader of an encrypted database said it keeps the lean records in the clear")
	} else {
		l.Abort()
	}

	empty := openTemp(t)
	l, err = empty.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	l.KeepLean()
	put(t, l, dataset(5, 50))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Finish(cctx, nil); err == nil {
		t.Fatal("a cancelled Finish succeeded")
	}
	if l.LeanLog() != nil || l.lean != nil {
		t.Error("a failed bulk import kept its lean records")
	}
	ents, _ := os.ReadDir(empty.Dir())
	for _, e := range ents {
		if bytes.HasPrefix([]byte(e.Name()), []byte(".lean-")) {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
