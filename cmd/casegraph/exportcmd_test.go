package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/export"
	"casegraph/graph"
	"casegraph/store"
	"casegraph/workbench"
)

type exportEntry struct {
	Action string `json:"action"`
	CaseID string `json:"case_id"`
	Detail struct {
		Dir            string   `json:"dir"`
		Redact         bool     `json:"redact"`
		ManifestSHA256 string   `json:"manifest_sha256"`
		Files          int      `json:"files"`
		Refs           []string `json:"refs"`
	} `json:"detail"`
}

// exportEntries returns the case.export entries of the journal.
func exportEntries(t *testing.T, db string) []exportEntry {
	t.Helper()
	var all []exportEntry
	if err := json.Unmarshal([]byte(runCmd(t, "journal", "--db", db, "--json")), &all); err != nil {
		t.Fatal(err)
	}
	var out []exportEntry
	for _, e := range all {
		if e.Action == store.ActCaseExport {
			out = append(out, e)
		}
	}
	return out
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestExportIsJournalled(t *testing.T) {
	db := fixtureDB(t)
	runCmd(t, "case", "new", "--db", db, "Ring")
	runCmd(t, "case", "add", "--db", db, "Ring", "--target", "cluster", "--query", "clusters by turnover #1",
		"iin:850312300002", "card:4400430000000015", "exchange:EX-0001", "--note", "cash-out ring")
	c := caseJSON(t, db, "Ring")

	dir := filepath.Join(t.TempDir(), "out")
	out := runCmd(t, "export", "--db", db, "Ring", "--out", dir)
	if !strings.Contains(out, "exported") || !strings.Contains(out, "13 files") {
		t.Fatalf("export: %s", out)
	}
	red := filepath.Join(t.TempDir(), "red")
	runCmd(t, "export", "--db", db, "Ring", "--out", red, "--redact")
	loose := filepath.Join(t.TempDir(), "loose")
	runCmd(t, "export", "--db", db, "--refs", "card:4400430000000015", "--out", loose)

	es := exportEntries(t, db)
	if len(es) != 3 {
		t.Fatalf("%d case.export entries, want 3: %+v", len(es), es)
	}
	for i, want := range []struct {
		dir    string
		redact bool
		caseID string
	}{{dir, false, c.ID}, {red, true, c.ID}, {loose, false, ""}} {
		e := es[i]
		if e.CaseID != want.caseID || e.Detail.Dir != want.dir || e.Detail.Redact != want.redact || e.Detail.Files != 13 {
			t.Errorf("entry %d: %+v, want %+v", i, e, want)
		}
		if got := fileSHA(t, filepath.Join(want.dir, "manifest.json")); e.Detail.ManifestSHA256 != got {
			t.Errorf("entry %d: manifest sha256 %s, file has %s", i, e.Detail.ManifestSHA256, got)
		}
	}
	if strings.Join(es[2].Detail.Refs, ",") != "card:4400430000000015" {
		t.Errorf("loose export refs: %v", es[2].Detail.Refs)
	}
	if out := runCmd(t, "journal", "--db", db, "verify"); !strings.Contains(out, "journal OK") {
		t.Errorf("verify: %s", out)
	}

	// case.json is the stored case with its cluster bookmark; every member
	// was gathered as a bookmarked entity.
	raw, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got graph.Case
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || len(got.Bookmarks) != 1 || got.Bookmarks[0].Target.Kind != graph.TargetCluster ||
		len(got.Bookmarks[0].Target.Refs) != 3 || !got.Created.Equal(c.Created) {
		t.Errorf("case.json: %+v", got)
	}
	ents, err := os.ReadFile(filepath.Join(dir, "entities.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"850312300002", "4400430000000015", "EX-0001"} {
		if !bytes.Contains(ents, []byte(s)) {
			t.Errorf("entities.csv lacks cluster member %s", s)
		}
	}

	// A re-export is byte-identical, case.json and manifest included.
	again := filepath.Join(t.TempDir(), "again")
	runCmd(t, "export", "--db", db, "Ring", "--out", again)
	for _, name := range []string{"case.json", "manifest.json", "report.html", "entities.csv"} {
		if fileSHA(t, filepath.Join(dir, name)) != fileSHA(t, filepath.Join(again, name)) {
			t.Errorf("%s differs on re-export", name)
		}
	}

	// The folder imports into another database as a new case, cluster and
	// all; the source id is recorded, not reused.
	other := fixtureDB(t)
	if out := runCmd(t, "import-case", "--db", other, dir); !strings.Contains(out, "imported as c-") ||
		!strings.Contains(out, "source case id "+c.ID) {
		t.Fatalf("import-case: %s", out)
	}
	if back := caseJSON(t, other, "Ring"); back.ID == c.ID || back.Bookmarks[0].Target.Key() != c.Bookmarks[0].Target.Key() ||
		back.Bookmarks[0].Note != "cash-out ring" {
		t.Errorf("imported case: %+v", back)
	}
	if err := runErr("import-case", "--db", other, dir); !errors.Is(err, store.ErrAlreadyImported) {
		t.Errorf("second import-case: %v", err)
	}
}

// Folders written before case.json became graph.Case still import.
func TestImportCaseReadsOldLayout(t *testing.T) {
	db := fixtureDB(t)
	dir := t.TempDir()
	old := `{
  "format": "casegraph-case/1",
  "name": "Old folder",
  "description": "from last year",
  "tags": ["crypto"],
  "bookmarks": [{"ref": "card:4400430000000015", "id": "card-1", "note": "cashed out", "tags": ["mule"]}],
  "notes": [{"time": "2025-03-15T08:00:00Z", "ref": "iin:850312300002", "text": "holder"}]
}`
	if err := os.WriteFile(filepath.Join(dir, "case.json"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, export.Manifest{Format: "casegraph-case-export/1"})
	sealFolder(t, dir, nil)
	if out := runCmd(t, "import-case", "--db", db, dir); !strings.Contains(out, ": 2 bookmarks") {
		t.Fatalf("import-case of an old folder: %s", out)
	}
	c := caseJSON(t, db, "Old folder")
	if c.Notes != "from last year" || c.Bookmarks[0].Note != "cashed out" ||
		c.Bookmarks[1].Note != "2025-03-15T08:00:00Z  holder" {
		t.Errorf("old layout: %+v", c)
	}
}

func TestBackendExportCase(t *testing.T) {
	dir := fixtureDB(t)
	sdb, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	ctx := context.Background()
	b := newBackend(sdb)
	c, err := b.CreateCase(ctx, "TUI case")
	if err != nil {
		t.Fatal(err)
	}
	path := graph.Target{Kind: graph.TargetPath, Refs: []graph.Ref{{Kind: graph.KindPerson, Key: "850312300002"},
		{Kind: graph.KindCard, Key: "4400430000000015"}, {Kind: graph.KindExchange, Key: "EX-0001"}}, Query: "path a b"}
	if _, err := b.AddBookmark(ctx, c.ID, graph.Bookmark{Target: path}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x")
	res, err := b.ExportCase(ctx, c.ID, out, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Dir != out || res.Files != 13 || res.Entities < 3 || res.Flags != 0 {
		t.Errorf("result %+v", res)
	}
	es, err := sdb.Journal(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-1]
	var d workbench.ExportJournal
	if err := json.Unmarshal(last.Detail, &d); err != nil {
		t.Fatal(err)
	}
	if last.Action != store.ActCaseExport || !d.Redact || d.Dir != out || d.Flags ||
		d.ManifestSHA256 != fileSHA(t, filepath.Join(out, "manifest.json")) {
		t.Errorf("journal entry %+v detail %+v", last, d)
	}
	if _, err := b.ExportCase(ctx, "c-none", t.TempDir(), false); err == nil {
		t.Error("export of an unknown case succeeded")
	}
	rep, err := sdb.VerifyJournal(ctx)
	if err != nil || !rep.OK {
		t.Errorf("verify: %+v %v", rep, err)
	}
}

// TestExportFolderPolicy: export refuses a folder that is not empty unless
// --replace names an earlier export, and never writes through a link.
func TestExportFolderPolicy(t *testing.T) {
	db := fixtureDB(t)
	base := t.TempDir()
	out := filepath.Join(base, "out")
	runCmd(t, "export", "--db", db, "--refs", "card:4400430000000015", "--out", out)
	err := runErr("export", "--db", db, "--refs", "card:4400430000000015", "--out", out)
	if err == nil || !strings.Contains(err.Error(), "--replace") {
		t.Errorf("second export without --replace: %v", err)
	}
	runCmd(t, "export", "--db", db, "--refs", "card:4400430000000015", "--out", out, "--replace")

	victim := filepath.Join(base, "victim.txt")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	trap := filepath.Join(base, "trap")
	if err := os.Mkdir(trap, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(trap, "report.html")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	for _, extra := range [][]string{nil, {"--replace"}} {
		args := append([]string{"export", "--db", db, "--refs", "card:4400430000000015", "--out", trap}, extra...)
		if err := runErr(args...); err == nil {
			t.Errorf("%v: export into a folder holding a link succeeded", extra)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the link's target was overwritten: %q", b)
	}
}
