package profile

import (
	"casegraph/internal/fuzzbudget"

	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/importers"
)

// FuzzParse feeds the profile loader arbitrary YAML: it must never panic,
// and a profile it accepts must import a small file without panicking and
// with counts that reconcile.
func FuzzParse(f *testing.F) {
	ents, _ := builtinFS.ReadDir("builtin")
	for _, e := range ents {
		b, _ := builtinFS.ReadFile("builtin/" + e.Name())
		f.Add(b, []byte("a;b;c\n1;2;3\n"))
	}
	f.Add([]byte("name: x\nfiles:\n  - records:\n      - txn: {time: \"{a}\", from: {kind: account, key: \"{b}\"}, to: {kind: cash}, amount: \"{c}\"}\n"),
		[]byte("a,b,c\n2025-01-01 10:00,acc1,1 000,50\n"))
	f.Fuzz(func(t *testing.T, y, csv []byte) {
		defer fuzzbudget.Start(t, len(y)+len(csv))()
		p, err := Parse(y)
		if err != nil {
			return
		}
		if len(p.Files) == 0 || p.Files[0].Match != "" {
			return
		}
		rep, err := p.Import(context.Background(), bytes.NewReader(csv), newSink(), Options{Options: importers.Options{Name: "f.csv"}})
		if err == nil && !rep.Reconciles() {
			t.Fatalf("does not reconcile: %+v", rep)
		}
	})
}

// FuzzStatementImport runs arbitrary files through the generic
// bank-statement profile: no panic, and the counts always reconcile.
func FuzzStatementImport(f *testing.F) {
	var buf bytes.Buffer
	_ = writeStatement(&buf, 5)
	f.Add(buf.Bytes())
	f.Add([]byte("Счёт:;KZ\n;;\nДата;Дебет;Кредит\n01.01.2025;1;\nИтого;1;\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzzbudget.Start(t, len(b))()
		p, err := Builtin("bank-statement")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := p.Import(context.Background(), bytes.NewReader(b), newSink(), Options{Options: importers.Options{Name: "s.csv"}})
		if err == nil && !rep.Reconciles() {
			t.Fatalf("does not reconcile: %+v", rep)
		}
	})
}

func TestLoad(t *testing.T) {
	if p, err := Load("berka"); err != nil || p.Name != "berka" {
		t.Fatalf("builtin: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	y := "name: mine\nfiles:\n  - match: \"*.csv\"\n    records:\n      - entity: {ref: {kind: person, key: \"x:{id}\"}, name: \"{n}\"}\n"
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil || !p.Matches("a.CSV") || p.Matches("a.txt") {
		t.Fatalf("load file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file should fail")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ y, want string }{
		{"", "empty"},
		{"name: x\n", "at least one file"},
		{"name: x\nfiles: [{records: []}]\n", "at least one record"},
		{"name: x\nbogus: 1\nfiles: []\n", "bogus"},
		{"name: x\nfiles: [{records: [{entity: {ref: {kind: planet, key: a}}}]}]\n", "planet"},
		{"name: x\nfiles: [{records: [{entity: {ref: {kind: person, key: \"{is_sar}\"}}}]}]\n", "ground-truth"},
		{"name: x\nlabels: [secret]\nfiles: [{records: [{entity: {ref: {kind: person, key: \"{Secret}\"}}}]}]\n", "ground-truth"},
		{"name: x\nlabels: [fraudStep]\nfiles: [{rename: {FRAUDSTEP: step}, records: [{entity: {ref: {kind: person, key: \"{step}\"}}}]}]\n", "ground-truth"},
		{"name: x\nlabels: [\" \"]\nfiles: [{records: [{entity: {ref: {kind: person, key: a}}}]}]\n", "labels[0]"},
		{"name: x\nfiles: [{records: [{entity: {ref: {kind: person, key: \"{a\"}}}]}]\n", "unclosed"},
		{"name: x\nfiles: [{records: [{link: {from: {kind: person, key: a}, to: {kind: card, key: b}, type: likes}}]}]\n", "likes"},
		{"name: x\nfiles: [{records: [{txn: {time: a, from: {kind: cash}, to: {kind: cash}, amount: {value: a, debit: b}}}]}]\n", "amount"},
		{"name: x\nfiles: [{records: [{txn: {time: {value: a, format: step}, from: {kind: cash}, to: {kind: cash}, amount: a}}]}]\n", "base"},
		{"name: x\nfiles: [{separator: \"#\", records: [{entity: {ref: {kind: person, key: a}}}]}]\n", "separator"},
		{"name: x\nfiles: [{records: [{entity: {ref: {kind: person, key: \"{a|shout}\"}}}]}]\n", "shout"},
		{"name: x\nfiles: [{records: [{entity: {ref: {kind: person, key: a}}, txn: {}}]}]\n", "exactly one"},
	} {
		_, err := Parse([]byte(tc.y))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error about %q", tc.y, err, tc.want)
		}
	}
}

func TestImportErrors(t *testing.T) {
	p, err := Parse([]byte("name: x\nfiles:\n  - match: \"*.csv\"\n    records:\n      - entity: {ref: {kind: person, key: \"{id}\"}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Import(ctx, strings.NewReader("id\n1\n"), newSink(), Options{Options: importers.Options{Name: "a.txt"}}); err == nil {
		t.Error("a file the profile does not map should fail")
	}
	_, err = p.Import(ctx, strings.NewReader("name\n1\n"), newSink(), Options{Options: importers.Options{Name: "a.csv"}})
	if err == nil || !strings.Contains(err.Error(), `"id" is not in the header`) {
		t.Errorf("missing column: %v", err)
	}
	rep, err := p.Import(ctx, strings.NewReader("id,x\n1,a\n,b\n2,c,d\n"), newSink(), Options{Options: importers.Options{Name: "a.csv"}})
	if err != nil || rep.Imported != 1 || rep.Rejected != 2 || rep.Rejects[0].Line != 3 || rep.Rejects[1].Line != 4 {
		t.Errorf("rejects: %+v, %v", rep, err)
	}
}
