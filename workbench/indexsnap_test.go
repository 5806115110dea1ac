package workbench

import (
	"casegraph/internal/hostile"

	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/store"
)

func snapBytes(t *testing.T, ix *graph.Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// loadAndCheck loads the index the way every command does and checks it
// equals a fresh rebuild and that LoadIndex says how it was got.
func loadAndCheck(t *testing.T, db *store.DB, how string) *graph.Index {
	t.Helper()
	ix, msg, err := LoadIndex(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, how) {
		t.Fatalf("LoadIndex said %q, want it to say %q", msg, how)
	}
	fresh, _, err := buildIndexLean(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapBytes(t, ix), snapBytes(t, fresh)) {
		t.Fatalf("index loaded (%s) differs from a fresh rebuild", how)
	}
	return ix
}

// TestIndexSnapshotLifecycle: an import stores the snapshot and commands
// load it; a later import makes it stale and the next writable load rebuilds
// and stores it again; a damaged snapshot is detected and rebuilt.
func TestIndexSnapshotLifecycle(t *testing.T) {
	data := filepath.Join("..", "testdata", "rules")
	dir := importTestdata(t, "rules")

	// The import stores no snapshot; the first analysis (a CLI twin opens the
	// database writable) rebuilds the index and stores it, and a read-only
	// command then finds it.
	analyseIn(t, dir)
	ro, err := store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ix := loadAndCheck(t, ro, "from snapshot")
	if ix.TxCount() == 0 {
		t.Fatal("empty index")
	}
	ro.Close()

	// A second import of changed data leaves the snapshot stale; the next
	// writable load rebuilds and stores it.
	extra := t.TempDir()
	persons, err := os.ReadFile(filepath.Join(data, "persons.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// A new person: renaming a stored one is a conflicting duplicate,
	// rejected (docs/SECURITY.md, "Hostile input files").
	lines := strings.SplitAfter(string(persons), "\n")
	changed := lines[0] + hostile.IIN(7) + ",Жаңа Адам,\n"
	if err := os.WriteFile(filepath.Join(extra, "persons.csv"), []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	importInto(t, dir, extra)
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loadAndCheck(t, db, "snapshot stale")
	ix2 := loadAndCheck(t, db, "from snapshot")
	if bytes.Equal(snapBytes(t, ix), snapBytes(t, ix2)) {
		t.Fatal("the second import changed nothing in the index; the test needs a change")
	}

	// An import that bypasses the snapshot refresh (a loader used directly)
	// leaves it stale: the writable load rebuilds and stores it.
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	id := l.BeginBatch("direct", "sha-direct", "persons")
	if err := l.PutEntity(graph.Entity{Ref: graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}, Name: "Direct"}); err != nil {
		t.Fatal(err)
	}
	if err := l.EndBatch(graph.Batch{ID: id, Read: 1, Imported: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Blob(context.Background(), indexBlob); !errors.Is(err, store.ErrStale) {
		t.Fatalf("after a direct import: %v, want stale", err)
	}
	loadAndCheck(t, db, "snapshot stale")
	ix3 := loadAndCheck(t, db, "from snapshot")
	if _, ok := ix3.Lookup(graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}); !ok {
		t.Fatal("rebuilt index lacks the directly imported person")
	}

	// A damaged snapshot with a current stamp is detected and replaced.
	st, err := db.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	good := snapBytes(t, ix3)
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0x40
	if _, err := db.PutBlob(context.Background(), indexBlob, st, bytes.NewReader(bad)); err != nil {
		t.Fatal(err)
	}
	loadAndCheck(t, db, graph.ErrBadSnapshot.Error())
	loadAndCheck(t, db, "from snapshot")
}

// analyseIn runs the analysis on the database in dir, opened writable, as
// the CLI twins do.
func analyseIn(t *testing.T, dir string) {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := New(db, "test").Analyze(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// importInto imports the files of data into the database in dir.
func importInto(t *testing.T, dir, data string) {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files, err := ExpandInputs([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(db, "test").Import(context.Background(), files, "", nil, nil); err != nil {
		t.Fatal(err)
	}
}
