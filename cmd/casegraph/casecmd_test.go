package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"casegraph/export"
	"casegraph/graph"
	"casegraph/store"
)

// fixtureDB imports the canonical test fixtures into a fresh database.
func fixtureDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "canonical"))
	return db
}

func runErr(args ...string) error {
	var out, errOut bytes.Buffer
	return run(context.Background(), args, &out, &errOut)
}

func caseJSON(t *testing.T, db, name string) graph.Case {
	t.Helper()
	var c graph.Case
	if err := json.Unmarshal([]byte(runCmd(t, "case", "show", "--db", db, "--json", name)), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCaseCommandsEndToEnd(t *testing.T) {
	db := fixtureDB(t)
	out := runCmd(t, "case", "new", "--db", db, "Almaty", "cash-out")
	if !strings.Contains(out, `"Almaty cash-out"`) {
		t.Fatalf("new: %s", out)
	}
	// PAN with spaces and an IIN are normalised; each becomes an entity bookmark.
	out = runCmd(t, "case", "add", "--db", db, "Almaty cash-out", "card:4400 4300 0000 0015", "iin:850312300002",
		"--tag", "mule", "--note", "first card")
	if strings.Count(out, "bookmarked") != 2 || !strings.Contains(out, "Ахметов") {
		t.Fatalf("add: %s", out)
	}
	if err := runErr("case", "add", "--db", db, "Almaty cash-out", "card:4400430000000023"); err == nil ||
		!strings.Contains(err.Error(), "--force") {
		t.Errorf("unknown card: %v", err)
	}
	runCmd(t, "case", "add", "--db", db, "Almaty cash-out", "--target", "path", "--query", "path a b",
		"iin:850312300002", "card:4400430000000015", "exchange:EX-0001")
	runCmd(t, "case", "tag", "--db", db, "Almaty cash-out", "card:4400430000000015", "organiser", "KZ")
	runCmd(t, "case", "tag", "--db", db, "Almaty cash-out", "card:4400430000000015", "kz", "--remove")
	runCmd(t, "case", "note", "--db", db, "Almaty cash-out", "card:4400430000000015", "line 1\nline 2")
	runCmd(t, "case", "note", "--db", db, "Almaty cash-out", "case-level note")
	runCmd(t, "case", "status", "--db", db, "Almaty cash-out", "referred")

	c := caseJSON(t, db, "almaty cash-out")
	if c.Status != graph.CaseReferred || c.Notes != "case-level note" || len(c.Bookmarks) != 3 {
		t.Fatalf("case: %+v", c)
	}
	card := c.Bookmarks[0]
	if card.Target.Refs[0].String() != "card:4400430000000015" || card.Note != "line 1\nline 2" ||
		strings.Join(card.Tags, ",") != "mule,organiser" {
		t.Errorf("card bookmark: %+v", card)
	}
	if p := c.Bookmarks[2]; p.Target.Kind != graph.TargetPath || len(p.Target.Refs) != 3 || p.Target.Query != "path a b" {
		t.Errorf("path bookmark: %+v", p)
	}
	// A referred case is read-only until reopened.
	runCmd(t, "case", "status", "--db", db, "Almaty cash-out", "open")
	// The card is in two bookmarks; the entity one wins for tag/note. The
	// exchange is only in the path.
	runCmd(t, "case", "tag", "--db", db, "Almaty cash-out", "exchange:EX-0001", "unlicensed")
	if c := caseJSON(t, db, c.ID); strings.Join(c.Bookmarks[2].Tags, ",") != "unlicensed" {
		t.Errorf("tag via path member: %+v", c.Bookmarks[2])
	}

	text := runCmd(t, "case", "show", "--db", db, c.ID)
	for _, want := range []string{"[open]", "#mule #organiser", "│ line 2", "path", "card:4400430000000015 → exchange:EX-0001"} {
		if !strings.Contains(text, want) {
			t.Errorf("show lacks %q:\n%s", want, text)
		}
	}
	var list []graph.Case
	if err := json.Unmarshal([]byte(runCmd(t, "case", "list", "--db", db, "--json")), &list); err != nil || len(list) != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}

	runCmd(t, "case", "rm", "--db", db, c.ID, card.ID)
	if got := caseJSON(t, db, c.ID); len(got.Bookmarks) != 2 {
		t.Errorf("rm bookmark: %d left", len(got.Bookmarks))
	}
	runCmd(t, "case", "undo", "--db", db)
	if got := caseJSON(t, db, c.ID); len(got.Bookmarks) != 3 {
		t.Errorf("undo: %d bookmarks", len(got.Bookmarks))
	}
	runCmd(t, "case", "rename", "--db", db, c.ID, "Almaty ring")
	runCmd(t, "case", "rm", "--db", db, "Almaty ring")
	if err := runErr("case", "show", "--db", db, "Almaty ring"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted case: %v", err)
	}

	// Every change and view is in the journal, and the chain verifies.
	var entries []store.JournalEntry
	if err := json.Unmarshal([]byte(runCmd(t, "journal", "--db", db, "--json", "--case", c.ID)), &entries); err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action]++
		if e.User == "" || e.Time.IsZero() {
			t.Errorf("entry without user or time: %+v", e)
		}
	}
	for _, a := range []string{store.ActCaseCreate, store.ActBookmarkAdd, store.ActBookmarkUpdate, store.ActCaseNotes,
		store.ActCaseStatus, store.ActCaseView, store.ActBookmarkDelete, store.ActUndo, store.ActCaseRename, store.ActCaseDelete} {
		if actions[a] == 0 {
			t.Errorf("journal has no %s: %v", a, actions)
		}
	}
	if out := runCmd(t, "journal", "--db", db, "verify"); !strings.Contains(out, "journal OK") {
		t.Errorf("verify: %s", out)
	}
}

func TestImportCaseCommand(t *testing.T) {
	db := fixtureDB(t)
	runCmd(t, "case", "new", "--db", db, "Shared")
	runCmd(t, "case", "add", "--db", db, "Shared", "card:4400430000000015", "--tag", "mule")
	c := caseJSON(t, db, "Shared")

	// A colleague's folder: the same case with one more bookmark and a new tag.
	theirs := c
	theirs.Bookmarks = append([]graph.Bookmark(nil), c.Bookmarks...)
	theirs.Bookmarks[0].Tags = []string{"mule", "seen-twice"}
	theirs.Bookmarks = append(theirs.Bookmarks, graph.Bookmark{ID: "b-theirs",
		Target: graph.EntityTarget(graph.Ref{Kind: graph.KindExchange, Key: "EX-0001"}, ""), Created: c.Created})
	dir := caseFolder(t, theirs)
	out := runCmd(t, "import-case", "--db", db, dir)
	if !strings.Contains(out, "imported as c-") || !strings.Contains(out, `"Shared (imported `) || !strings.Contains(out, ": 2 bookmarks") {
		t.Fatalf("import-case: %s", out)
	}
	if err := runErr("import-case", "--db", db, dir); err == nil || !strings.Contains(err.Error(), "already imported") {
		t.Fatalf("second import-case: %v", err)
	}
	// Into another database it arrives as a new case under a new id.
	other := filepath.Join(t.TempDir(), "db2")
	runCmd(t, "import", "--db", other, filepath.Join("..", "..", "testdata", "canonical"))
	out = runCmd(t, "import-case", "--db", other, filepath.Join(dir, "case.json"))
	if !strings.Contains(out, "imported as c-") || strings.Contains(out, "imported as "+c.ID) || !strings.Contains(out, `"Shared"`) {
		t.Fatalf("import into a fresh db: %s", out)
	}
	if err := runErr("import-case", "--db", db, t.TempDir()); err == nil {
		t.Error("folder without case.json accepted")
	}
}

func TestJournalVerifyFailsOnTampering(t *testing.T) {
	dir := fixtureDB(t)
	runCmd(t, "case", "new", "--db", dir, "x")
	runCmd(t, "case", "note", "--db", dir, "x", "hello")
	runCmd(t, "case", "show", "--db", dir, "x")
	if out := runCmd(t, "journal", "--db", dir, "verify", "--json"); !strings.Contains(out, `"OK": true`) {
		t.Errorf("verify --json: %s", out)
	}
	// Remove entry 2 by hand ([j][seq uint64 BE], see store/journal.go).
	bdb, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(txn *badger.Txn) error {
		return txn.Delete(binary.BigEndian.AppendUint64([]byte{'j'}, 2))
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	err = runErr("journal", "--db", dir, "verify")
	if err == nil || !strings.Contains(err.Error(), "broken at entry 2") {
		t.Errorf("verify after deleting entry 2: %v", err)
	}
}

func TestCaseUsageErrors(t *testing.T) {
	dir := fixtureDB(t)
	runCmd(t, "case", "new", "--db", dir, "x")
	for _, args := range [][]string{
		{"case"}, {"case", "bogus", "--db", dir}, {"case", "status", "--db", dir, "x", "done"},
		{"case", "new", "--db", dir}, {"journal", "--db", dir, "check"}, {"case", "undo", "--db", dir, "extra"},
		{"case", "new", "--db", filepath.Join(t.TempDir(), "typo"), "y"}, {"case", "new", "--db", dir, "X"},
		{"case", "add", "--db", dir, "x", "card:123"}, {"case", "add", "--db", dir, "nope", "card:4400430000000015"},
	} {
		if err := runErr(args...); err == nil {
			t.Errorf("casegraph %v: want an error", args)
		}
	}
}

func TestImportCaseFromExportFolder(t *testing.T) {
	db := fixtureDB(t)
	card := graph.Ref{Kind: graph.KindCard, Key: "4400430000000015"}
	person := graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	in := export.Input{
		Case: export.Case{Name: "From Daniyar", Tags: []string{"crypto"},
			Bookmarks: []export.Bookmark{{Ref: card, Note: "cashed out", Tags: []string{"mule"}}},
			Notes:     []export.Note{{Text: "case note"}, {Ref: person, Text: "holder"}}},
		Entities: []graph.Entity{{Ref: card}, {Ref: person, Name: "Ахметов"}},
		Version:  "test",
	}
	dir := t.TempDir()
	if _, err := export.Write(dir, in, export.Options{}); err != nil {
		t.Fatal(err)
	}
	out := runCmd(t, "import-case", "--db", db, dir)
	if !strings.Contains(out, ": 2 bookmarks") {
		t.Fatalf("import-case of an export: %s", out)
	}
	if err := runErr("import-case", "--db", db, dir); !errors.Is(err, store.ErrAlreadyImported) {
		t.Fatalf("second import-case of an export: %v", err)
	}
	c := caseJSON(t, db, "From Daniyar")
	if c.Notes != "case note" || strings.Join(c.Tags, ",") != "crypto" || c.Bookmarks[0].Note != "cashed out" ||
		c.Bookmarks[1].Target.Refs[0] != person || c.Bookmarks[1].Note != "holder" {
		t.Errorf("imported case: %+v", c)
	}

	// A case.json changed after export no longer matches the manifest.
	p := filepath.Join(dir, "case.json")
	raw, _ := os.ReadFile(p)
	if err := os.WriteFile(p, bytes.Replace(raw, []byte("cashed out"), []byte("cashed in!"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runErr("import-case", "--db", db, dir); err == nil || !strings.Contains(err.Error(), "changed after export") {
		t.Errorf("tampered case.json: %v", err)
	}
	red := t.TempDir()
	if _, err := export.Write(red, in, export.Options{Redact: true}); err != nil {
		t.Fatal(err)
	}
	if err := runErr("import-case", "--db", db, red); err == nil || !strings.Contains(err.Error(), "redacted") {
		t.Errorf("redacted export: %v", err)
	}
}

func TestJournalExportAndVerifyHead(t *testing.T) {
	dir := fixtureDB(t)
	jk := filepath.Join(t.TempDir(), "journal.key")
	if err := os.WriteFile(jk, []byte("a journal key kept by the supervisor\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runCmd(t, "case", "new", "--db", dir, "--journal-key", jk, "x")
	head := filepath.Join(t.TempDir(), "head.json")
	if err := os.WriteFile(head, []byte(runCmd(t, "journal", "export", "--db", dir, "--journal-key", jk)), 0o600); err != nil {
		t.Fatal(err)
	}
	runCmd(t, "case", "note", "--db", dir, "--journal-key", jk, "x", "hello")
	out := runCmd(t, "journal", "verify", "--db", dir, "--journal-key", jk, "--head", head)
	if !strings.Contains(out, "journal OK") || !strings.Contains(out, "extends the kept head 1") || !strings.Contains(out, "2 keyed") {
		t.Errorf("verify --head: %s", out)
	}
	if err := runErr("journal", "verify", "--db", dir); err == nil || !strings.Contains(err.Error(), "give the journal key") {
		t.Errorf("keyed journal verified without its key: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "head.json")
	if err := os.WriteFile(bad, []byte(`{"format":"casegraph-journal-head/1","seq":1,"hash":"00"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runErr("journal", "verify", "--db", dir, "--journal-key", jk, "--head", bad); err == nil || !strings.Contains(err.Error(), "kept head") {
		t.Errorf("verify against a head the journal does not extend: %v", err)
	}
}
