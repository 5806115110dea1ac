package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"casegraph/export"
	"casegraph/graph"
	"casegraph/store"
)

// Hostile case folders are made here from a genuine export, the way
// someone with the folder (not the database) would change it.

var (
	hostileCard   = graph.Ref{Kind: graph.KindCard, Key: "4400430000000015"}
	hostilePerson = graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
)

// exportedFolder writes a genuine export of a small case into a new folder.
func exportedFolder(t *testing.T, redact bool) string {
	t.Helper()
	in := export.Input{
		Case: export.Case{Name: "From Daniyar", Tags: []string{"crypto"},
			Bookmarks: []export.Bookmark{{Ref: hostileCard, Note: "cashed out", Tags: []string{"mule"}}},
			Notes:     []export.Note{{Text: "case note"}, {Ref: hostilePerson, Text: "holder"}}},
		Entities: []graph.Entity{{Ref: hostileCard}, {Ref: hostilePerson, Name: "Ахметов"}},
		Version:  "test",
	}
	dir := filepath.Join(t.TempDir(), "export")
	if _, err := export.Write(dir, in, export.Options{Redact: redact}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readManifest and sealFolder: a forger rewrites the manifest so that it
// lists every file of the folder with its real size and SHA-256.
func readManifest(t testing.TB, dir string) export.Manifest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, export.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m export.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sealFolder(t testing.TB, dir string, edit func(m *export.Manifest)) {
	t.Helper()
	m := readManifest(t, dir)
	if m.Format == "" {
		m.Format = "casegraph-case-export/1"
	}
	m.Files = nil
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == export.ManifestName || !e.Type().IsRegular() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		m.Files = append(m.Files, export.FileHash{Name: e.Name(), SHA256: hex.EncodeToString(sum[:]), Bytes: len(raw)})
	}
	if edit != nil {
		edit(&m)
	}
	writeManifest(t, dir, m)
}

func writeManifest(t testing.TB, dir string, m export.Manifest) {
	t.Helper()
	raw, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, export.ManifestName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// caseFolder writes c as the case.json of a sealed folder (a hand-made or
// forged one with a manifest that matches).
func caseFolder(t testing.TB, c any) string {
	t.Helper()
	dir := t.TempDir()
	raw, _ := json.Marshal(c)
	if err := os.WriteFile(filepath.Join(dir, "case.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, export.Manifest{Format: "casegraph-case-export/1"})
	sealFolder(t, dir, nil)
	return dir
}

func TestImportCaseRefusesHostileFolders(t *testing.T) {
	db := fixtureDB(t)
	for _, tc := range []struct {
		name   string
		folder func(t *testing.T) string
		want   string
	}{
		{"manifest deleted", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			os.Remove(filepath.Join(dir, export.ManifestName))
			return dir
		}, "no manifest.json"},
		{"bare case.json", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			os.Remove(filepath.Join(dir, export.ManifestName))
			return filepath.Join(dir, "case.json")
		}, "no manifest.json"},
		{"redacted, manifest deleted", func(t *testing.T) string {
			dir := exportedFolder(t, true)
			os.Remove(filepath.Join(dir, export.ManifestName))
			return dir
		}, "no manifest.json"},
		{"redacted, manifest says not redacted", func(t *testing.T) string {
			dir := exportedFolder(t, true)
			sealFolder(t, dir, func(m *export.Manifest) { m.Redacted = false })
			return dir
		}, "masked identifier"},
		{"redacted, manifest intact", func(t *testing.T) string { return exportedFolder(t, true) }, "redacted"},
		{"case.json edited", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			p := filepath.Join(dir, "case.json")
			raw, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(raw), "cashed out", "cashed in!", 1)), 0o600)
			return dir
		}, "changed after export"},
		{"report edited", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			os.WriteFile(filepath.Join(dir, "report.md"), []byte("# nothing here\n"), 0o600)
			return dir
		}, "report.md does not match"},
		{"file added", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			os.WriteFile(filepath.Join(dir, "extra.csv"), []byte("a,b\n"), 0o600)
			return dir
		}, "extra.csv is not in manifest.json"},
		{"listed file missing", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			os.Remove(filepath.Join(dir, "links.csv"))
			return dir
		}, "links.csv is listed in manifest.json but missing"},
		{"case.json is /dev/zero", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			p := filepath.Join(dir, "case.json")
			os.Remove(p)
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Skip(err)
			}
			return dir
		}, "case.json is not a regular file"},
		{"case.json of 10 GB", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			if err := os.Truncate(filepath.Join(dir, "case.json"), 10<<30); err != nil {
				t.Skip(err)
			}
			m := readManifest(t, dir)
			for i := range m.Files {
				if m.Files[i].Name == "case.json" {
					m.Files[i].Bytes = 10 << 30
				}
			}
			writeManifest(t, dir, m)
			return dir
		}, "more than the 268435456-byte limit"},
		{"a report of 10 GB", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			if err := os.Truncate(filepath.Join(dir, "report.md"), 10<<30); err != nil {
				t.Skip(err)
			}
			return dir
		}, "more than the 4294967296-byte limit"},
		{"a subfolder", func(t *testing.T) string {
			dir := exportedFolder(t, false)
			os.Mkdir(filepath.Join(dir, "more"), 0o700)
			return dir
		}, "more is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.folder(t)
			start := time.Now()
			err := runErr("import-case", "--db", db, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("import-case: %v, want %q", err, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("refusal took %v", d)
			}
		})
	}
	if got := runCmd(t, "case", "list", "--db", db); strings.Contains(got, "Daniyar") {
		t.Errorf("a hostile folder left a case: %s", got)
	}
}

// A forged case.json with the id of a local case and a 2001 creation date
// is imported as a new case; the local case is untouched and the journal
// records the source id and the manifest hash.
func TestImportCaseNeverMergesByID(t *testing.T) {
	db := fixtureDB(t)
	runCmd(t, "case", "new", "--db", db, "Shared")
	runCmd(t, "case", "add", "--db", db, "Shared", "card:4400430000000015", "--tag", "mule")
	local := caseJSON(t, db, "Shared")
	forged := time.Date(2001, 9, 1, 0, 0, 0, 0, time.UTC)
	theirs := graph.Case{ID: local.ID, Name: "Shared", Status: graph.CaseClosed, Created: forged, Updated: forged,
		Bookmarks: []graph.Bookmark{{ID: local.Bookmarks[0].ID, Target: graph.EntityTarget(graph.Ref{Kind: graph.KindExchange, Key: "EX-0001"}, ""),
			Note: "planted", Created: forged}}}
	dir := caseFolder(t, theirs)
	out := runCmd(t, "import-case", "--db", db, dir)
	if !strings.Contains(out, "imported as c-") || strings.Contains(out, "imported as "+local.ID) || !strings.Contains(out, "source case id "+local.ID) {
		t.Fatalf("import-case: %s", out)
	}
	after := caseJSON(t, db, local.ID)
	if after.Name != "Shared" || len(after.Bookmarks) != 1 || after.Bookmarks[0].Note != "" || !after.Created.Equal(local.Created) {
		t.Errorf("local case changed by the import: %+v", after)
	}
	var cases []graph.Case
	if err := json.Unmarshal([]byte(runCmd(t, "case", "list", "--db", db, "--json")), &cases); err != nil {
		t.Fatal(err)
	}
	var imported *graph.Case
	for i := range cases {
		if cases[i].ID != local.ID {
			imported = &cases[i]
		}
	}
	if len(cases) != 2 || imported == nil || imported.Created.Year() == 2001 || !strings.HasPrefix(imported.Name, "Shared (imported ") {
		t.Fatalf("cases: %+v", cases)
	}
	var es []store.JournalEntry
	if err := json.Unmarshal([]byte(runCmd(t, "journal", "--db", db, "--json", "--case", imported.ID)), &es); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(mustRead(t, filepath.Join(dir, export.ManifestName)))
	if len(es) == 0 || es[0].Action != store.ActCaseImport || !strings.Contains(string(es[0].Detail), hex.EncodeToString(sum[:])) ||
		!strings.Contains(string(es[0].Detail), local.ID) {
		t.Errorf("journal of the import: %+v", es)
	}
	if err := runErr("import-case", "--db", db, dir); !errors.Is(err, store.ErrAlreadyImported) {
		t.Errorf("second import of the same folder: %v", err)
	}
	if out := runCmd(t, "journal", "verify", "--db", db); !strings.Contains(out, "journal OK") {
		t.Errorf("verify: %s", out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// BenchmarkImportCaseCommand runs import-case end to end (manifest check,
// hashing, decoding, building, one write) on folders of 50k, 100k and 200k
// bookmarks without ids or times, the shape that took > 676 s for 100k.
func BenchmarkImportCaseCommand(b *testing.B) {
	for _, n := range []int{50000, 100000, 200000} {
		b.Run(fmt.Sprintf("bookmarks=%d", n), func(b *testing.B) {
			c := graph.Case{Name: "big", Status: graph.CaseOpen, Bookmarks: make([]graph.Bookmark, n)}
			for i := range n {
				c.Bookmarks[i] = graph.Bookmark{Target: graph.EntityTarget(graph.Ref{Kind: graph.KindCard, Key: fmt.Sprintf("44004300%08d", i)}, ""),
					Note: "seen", Tags: []string{"mule"}}
			}
			dir := caseFolder(b, c)
			for range b.N {
				b.StopTimer()
				db := filepath.Join(b.TempDir(), "db")
				var out, errOut bytes.Buffer
				if err := run(context.Background(), []string{"case", "list", "--db", db}, &out, &errOut); err == nil {
					b.Fatal("database exists")
				}
				if err := os.MkdirAll(db, 0o700); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := run(context.Background(), []string{"import-case", "--db", db, dir}, &out, &errOut); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
