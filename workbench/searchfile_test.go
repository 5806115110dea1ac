package workbench

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/internal/hostile"
	"casegraph/store"
)

// loadSearchIn opens the database in dir, loads its search index and checks
// that LoadSearch says where it came from and that it answers every query as
// an index built afresh from the store does.
func loadSearchIn(t *testing.T, dir string, opts store.Options, how string) *Workbench {
	t.Helper()
	db, err := store.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := New(db, "test")
	ctx := context.Background()
	n, _, err := b.LoadSearch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if src := b.SearchSource(); !strings.Contains(src, how) {
		t.Fatalf("search index %q, want it %q", src, how)
	}
	fresh, err := buildSearch(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n != fresh.Len() || n == 0 {
		t.Fatalf("%d documents loaded, %d built", n, fresh.Len())
	}
	var docs []graph.SearchDoc
	if err := db.SearchDocs(ctx, func(d graph.SearchDoc) error { docs = append(docs, d); return nil }); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(len(docs)), 5))
	queries := []string{"4", "44", "440043", "kz", "ах", "жан", "zhan", "binance", "x", "+7701", "Есен Ахметов"}
	for range 200 {
		// A random subsequence of a random label or term.
		d := docs[rng.IntN(len(docs))]
		s := []rune(strings.ToLower(d.Label))
		if len(d.Terms) > 0 && rng.IntN(2) == 0 {
			s = []rune(d.Terms[rng.IntN(len(d.Terms))])
		}
		var q []rune
		for _, r := range s {
			if rng.IntN(3) == 0 && len(q) < 6 {
				q = append(q, r)
			}
		}
		queries = append(queries, string(q))
	}
	for _, q := range queries {
		for _, kind := range []graph.Kind{graph.KindUnknown, graph.KindCard} {
			got, err := b.Search(ctx, q, kind, 20)
			if err != nil {
				t.Fatal(err)
			}
			want := fresh.Search(ctx, q, kind, 20)
			if got.Total != want.Total || !reflect.DeepEqual(got.Hits, want.Hits) {
				t.Fatalf("query %q (%s): %d of %d hits, a fresh index %d of %d", q, how, len(got.Hits), got.Total, len(want.Hits), want.Total)
			}
		}
	}
	return b
}

func hasPerson(t *testing.T, b *Workbench, name string) bool {
	t.Helper()
	res, err := b.Search(context.Background(), name, graph.KindPerson, 5)
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Hits) > 0 && res.Hits[0].Doc.Label == name
}

// TestSearchFileLifecycle: an import saves the search index file and later
// opens map it, read-only ones too; an import that bypasses the workbench
// makes it stale, a damaged or truncated one is detected; each time the
// index is rebuilt, and saved again when the database is open for writing.
// Every index loaded answers as a fresh one does.
func TestSearchFileLifecycle(t *testing.T) {
	dir := importTestdata(t, "rules")
	path := filepath.Join(dir, SearchFileName)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the import saved no search index file: %v", err)
	}
	ro := store.Options{ReadOnly: true}
	loadSearchIn(t, dir, ro, "from "+SearchFileName).db.Close()

	// A loader used directly (no workbench) leaves the file stale: a
	// read-only open rebuilds and leaves it, a writable one replaces it.
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	id := l.BeginBatch("direct", "sha-direct", "persons")
	if err := l.PutEntity(graph.Entity{Ref: graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}, Name: "Directly Imported"}); err != nil {
		t.Fatal(err)
	}
	if err := l.EndBatch(graph.Batch{ID: id, Read: 1, Imported: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	stale, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := loadSearchIn(t, dir, ro, "rebuilt ("+SearchFileName+" stale)")
	if !hasPerson(t, b, "Directly Imported") {
		t.Fatal("the rebuilt index lacks the new person")
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, stale) {
		t.Fatal("a read-only open changed the search index file")
	}
	b.db.Close()
	loadSearchIn(t, dir, store.Options{}, "rebuilt ("+SearchFileName+" stale); saved").db.Close()
	b = loadSearchIn(t, dir, ro, "from "+SearchFileName)
	if !hasPerson(t, b, "Directly Imported") {
		t.Fatal("the saved index lacks the new person")
	}
	b.db.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// Damaged: truncated, a flipped byte in the chunks, no header.
	for name, bad := range map[string][]byte{
		"truncated": good[:len(good)*2/3],
		"flipped":   append(bytes.Clone(good[:len(good)-10]), good[len(good)-10]^0x20),
		"empty":     {},
	} {
		if name == "flipped" {
			bad = append(bad, good[len(good)-9:]...)
		}
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		loadSearchIn(t, dir, ro, graph.ErrBadSearchFile.Error()).db.Close()
		loadSearchIn(t, dir, store.Options{}, "; saved").db.Close()
		if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
			t.Fatalf("%s: the saved file differs from the good one", name)
		}
	}
	os.Remove(path)
	loadSearchIn(t, dir, store.Options{}, "rebuilt (no "+SearchFileName+"); saved").db.Close()
	if left, _ := filepath.Glob(path + ".*"); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// TestSearchFileAfterImport: a workbench whose search is loaded imports more
// data; the import saves the new file and the workbench maps it, with the
// new entity.
func TestSearchFileAfterImport(t *testing.T) {
	dir := importTestdata(t, "rules")
	b := loadSearchIn(t, dir, store.Options{}, "from "+SearchFileName)
	extra := t.TempDir()
	persons := "iin,name,phone\n" + hostile.IIN(7) + ",Жаңа Адам,\n"
	if err := os.WriteFile(filepath.Join(extra, "persons.csv"), []byte(persons), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := ExpandInputs([]string{extra})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Import(context.Background(), files, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.SearchNote != "" {
		t.Fatalf("import: %s", res.SearchNote)
	}
	if src := b.SearchSource(); src != "from "+SearchFileName {
		t.Fatalf("after the import the search index is %q", src)
	}
	if !hasPerson(t, b, "Жаңа Адам") {
		t.Fatal("the index after the import lacks the imported person")
	}
}

// TestSearchFileEncrypted: an encrypted database keeps no search index file
// (it would hold the names in the clear); its index is built on opening.
func TestSearchFileEncrypted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := store.Options{EncryptionKey: bytes.Repeat([]byte{7}, 32)}
	db, err := store.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	files, err := ExpandInputs([]string{filepath.Join("..", "testdata", "rules")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(db, "test").Import(context.Background(), files, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	loadSearchIn(t, dir, opts, "rebuilt (encrypted database").db.Close()
	if ents, _ := filepath.Glob(filepath.Join(dir, SearchFileName+"*")); len(ents) != 0 {
		t.Fatalf("an encrypted database got %v", ents)
	}
}

// TestNamesFromSearch: once the search index is loaded the store names
// neighbour rows from it, with the same rows as read from the store; an
// import loads the index again and the names follow it; a workbench that
// never loaded it reads them from the store.
func TestNamesFromSearch(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	importInto(t, dir, filepath.Join("..", "testdata", "rules"))
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := New(db, "test")
	card := graph.Ref{Kind: graph.KindCard, Key: "440043100000007"}
	fromStore, _, err := b.Neighbors(ctx, card, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b.NamesFromSearch() {
		t.Fatal("names from a search index that was never loaded")
	}
	if _, _, err := b.LoadSearch(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.NamesFromSearch() {
		t.Fatal("the loaded search index does not name the rows")
	}
	got, _, err := b.Neighbors(ctx, card, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fromStore) {
		t.Fatalf("named from the search index:\n%+v\nfrom the store:\n%+v", got, fromStore)
	}
	named := false
	for _, n := range got {
		named = named || n.Name == "Дроппер 1"
	}
	if !named {
		t.Fatalf("the holder is not named: %+v", got)
	}

	files, err := ExpandInputs([]string{filepath.Join("..", "testdata", "canonical", "persons.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Import(ctx, files, filepath.Join(t.TempDir(), "rejects.csv"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if !b.NamesFromSearch() {
		t.Error("after an import the search index loaded again does not name the rows")
	}
}
