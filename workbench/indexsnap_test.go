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
	ix, _ := loadAndCheckBoth(t, db, how)
	return ix
}

// loadAndCheckMsg is loadAndCheck returning what LoadIndex said.
func loadAndCheckMsg(t *testing.T, db *store.DB, how string) string {
	t.Helper()
	_, msg := loadAndCheckBoth(t, db, how)
	return msg
}

func loadAndCheckBoth(t *testing.T, db *store.DB, how string) (*graph.Index, string) {
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
	return ix, msg
}

// TestIndexFileLifecycle: a bulk import (into an empty database) builds the
// index as its last step and keeps it as graph.idx, which the first
// analysis and later loads map; a later import makes it stale and the next
// writable load rebuilds and replaces it; a damaged or truncated file is
// refused and rebuilt; a snapshot an earlier casegraph kept in the store is
// turned into the file.
func TestIndexFileLifecycle(t *testing.T) {
	if !graph.IndexFileSupported {
		t.Skip("this host keeps the snapshot (TestIndexSnapshotEncrypted covers it)")
	}
	ctx := context.Background()
	data := filepath.Join("..", "testdata", "rules")
	dir := filepath.Join(t.TempDir(), "db")
	if res := importIntoRes(t, dir, data); !res.Bulk || !res.Indexed || res.IndexNote != "" {
		t.Fatalf("first import: bulk %v, indexed %v, note %q", res.Bulk, res.Indexed, res.IndexNote)
	}
	path := filepath.Join(dir, IndexFileName)
	built, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the bulk import did not build %s: %v", IndexFileName, err)
	}
	if built.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", IndexFileName, built.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".lean-*")); len(left) != 0 {
		t.Fatalf("the import left its kept records: %v", left)
	}

	// The first analysis (a CLI twin opens the database writable) maps the
	// file the import built rather than building another.
	analyseIn(t, dir)
	if fi, err := os.Stat(path); err != nil || !os.SameFile(fi, built) {
		t.Fatalf("the first analysis replaced the %s the import built (%v)", IndexFileName, err)
	}
	ro, err := store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !HasAnalysis(ctx, ro) {
		t.Fatal("HasAnalysis is false after an analysis")
	}
	ix := loadAndCheck(t, ro, "mapped from "+IndexFileName)
	if ix.TxCount() == 0 || !ix.Mapped() {
		t.Fatalf("index of %d transactions, mapped %v", ix.TxCount(), ix.Mapped())
	}
	if _, err := ro.Blob(ctx, indexBlob); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unencrypted database kept a snapshot in the store too: %v", err)
	}
	ro.Close()

	// A second import of changed data leaves the file stale; the next
	// writable load rebuilds and replaces it.
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
	if res := importIntoRes(t, dir, extra); res.Bulk || res.Indexed {
		t.Fatalf("a second import: bulk %v, indexed %v", res.Bulk, res.Indexed)
	}

	// A read-only opening rebuilds in the heap and writes nothing.
	ro, err = store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if HasAnalysis(ctx, ro) {
		t.Fatal("HasAnalysis is true after an import")
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if stale := loadAndCheck(t, ro, IndexFileName+" stale"); stale.Mapped() {
		t.Fatal("a stale file was used")
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(before, after) {
		t.Fatalf("a read-only load changed %s (%v)", IndexFileName, err)
	}
	ro.Close()

	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Rebuilt straight into the file (never in the heap) and mapped.
	if rebuilt := loadAndCheck(t, db, IndexFileName+" stale); built into "+IndexFileName+" and mapped"); !rebuilt.Mapped() {
		t.Fatal("the rebuilt index is not mapped")
	}
	ix2 := loadAndCheck(t, db, "mapped from "+IndexFileName)
	if bytes.Equal(snapBytes(t, ix), snapBytes(t, ix2)) {
		t.Fatal("the second import changed nothing in the index; the test needs a change")
	}

	// An import that bypasses the analysis (a loader used directly) leaves
	// the file stale: the writable load rebuilds and replaces it.
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
	if err := l.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	loadAndCheck(t, db, IndexFileName+" stale")
	ix3 := loadAndCheck(t, db, "mapped from "+IndexFileName)
	if _, ok := ix3.Lookup(graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}); !ok {
		t.Fatal("rebuilt index lacks the directly imported person")
	}

	// A damaged file and a truncated one (of the current data) are refused
	// with the reason and replaced.
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0x40
	for name, b := range map[string][]byte{"damaged": bad, "truncated": good[:len(good)-100], "cut to its header": good[:200]} {
		// Renamed over it, as casegraph replaces it: writing in place would
		// change the pages ix3 has mapped.
		if err := os.WriteFile(path+".new", b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
		if msg := loadAndCheckMsg(t, db, graph.ErrBadIndexFile.Error()); !strings.Contains(msg, "rebuilt") {
			t.Fatalf("%s file: LoadIndex said %q", name, msg)
		}
		loadAndCheck(t, db, "mapped from "+IndexFileName)
	}

	// A snapshot an earlier casegraph kept in the store, and no file: it is
	// read, turned into the file, and leaves the store.
	st, err := db.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeIndexSnapshot(ctx, db, ix3, st); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if msg := loadAndCheckMsg(t, db, "from snapshot (no "+IndexFileName+")"); !strings.Contains(msg, "saved and mapped") {
		t.Fatalf("LoadIndex said %q, want the file saved", msg)
	}
	if _, err := db.Blob(ctx, indexBlob); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the snapshot is still in the store: %v", err)
	}
	loadAndCheck(t, db, "mapped from "+IndexFileName)
	if tmp, _ := filepath.Glob(path + ".*.tmp"); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
}

// TestIndexSnapshotEncrypted: an encrypted database keeps the index as a
// snapshot in its encrypted store, never as a file (every key, name and
// amount would be in the clear), and never reads a graph.idx put in its
// folder; a later import makes the snapshot stale, a damaged one is rebuilt.
func TestIndexSnapshotEncrypted(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	opts := store.Options{EncryptionKey: bytes.Repeat([]byte{7}, 32)}
	db, err := store.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files, err := ExpandInputs([]string{filepath.Join("..", "testdata", "rules")})
	if err != nil {
		t.Fatal(err)
	}
	wb := New(db, "test")
	if _, err := wb.Import(ctx, files, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	loadAndCheck(t, db, "rebuilt (no snapshot)")
	ix := loadAndCheck(t, db, "from snapshot")
	if ix.Mapped() {
		t.Fatal("an encrypted database's index is mapped")
	}
	if err := wb.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, IndexFileName+"*")); len(ents) != 0 {
		t.Fatalf("an encrypted database got %v", ents)
	}
	if !HasAnalysis(ctx, db) {
		t.Fatal("HasAnalysis is false after an analysis")
	}

	// A graph.idx of the right data put in its folder is not read.
	if graph.IndexFileSupported {
		st, err := db.Stamp()
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, IndexFileName))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ix.WriteFile(f, st); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got := loadAndCheck(t, db, "from snapshot"); got.Mapped() {
			t.Fatal("a planted graph.idx was mapped")
		}
	}

	// A damaged snapshot with a current stamp is detected and replaced.
	st, err := db.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	bad := snapBytes(t, ix)
	bad[len(bad)/2] ^= 0x40
	if _, err := db.PutBlob(ctx, indexBlob, st, bytes.NewReader(bad)); err != nil {
		t.Fatal(err)
	}
	loadAndCheck(t, db, graph.ErrBadSnapshot.Error())
	loadAndCheck(t, db, "from snapshot")

	// An import makes it stale.
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
	if err := l.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if HasAnalysis(ctx, db) {
		t.Fatal("HasAnalysis is true after an import")
	}
	loadAndCheck(t, db, "snapshot stale")
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
	importIntoRes(t, dir, data)
}

// importIntoRes is importInto returning what the import said.
func importIntoRes(t *testing.T, dir, data string) ImportResult {
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
	res, err := New(db, "test").Import(context.Background(), files, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A bulk import whose graph index cannot be built (here: a folder stands
// where graph.idx goes) still succeeds, says why in IndexNote, removes the
// records it kept, and leaves the index for the first analysis to build.
func TestImportIndexFailureIsANote(t *testing.T) {
	if !graph.IndexFileSupported {
		t.Skip("this host keeps the snapshot")
	}
	dir := filepath.Join(t.TempDir(), "db")
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := os.MkdirAll(filepath.Join(dir, IndexFileName, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	files, err := ExpandInputs([]string{filepath.Join("..", "testdata", "rules")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := New(db, "test").Import(context.Background(), files, "", nil, nil)
	if err != nil {
		t.Fatalf("the import failed with its index: %v", err)
	}
	if res.Indexed || !strings.Contains(res.IndexNote, "graph index not built") {
		t.Fatalf("indexed %v, note %q", res.Indexed, res.IndexNote)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".lean-*")); len(left) != 0 {
		t.Fatalf("the failed build left its kept records: %v", left)
	}
	if st, err := db.Stats(context.Background()); err != nil || st.Txns == 0 {
		t.Fatalf("the import did not stand: %+v, %v", st, err)
	}
	// With the folder gone, the first analysis builds the index.
	if err := os.RemoveAll(filepath.Join(dir, IndexFileName)); err != nil {
		t.Fatal(err)
	}
	loadAndCheck(t, db, "rebuilt")
}
