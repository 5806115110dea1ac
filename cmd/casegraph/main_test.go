package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/store"
)

// runCmd runs the command line in-process and returns stdout.
func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("casegraph %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func statsOf(t *testing.T, db string) map[string]any {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal([]byte(runCmd(t, "stats", "--db", db, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestGenerateImportTwiceSearchShow is the demo pipeline end to end: the
// generator's files go through the real importers into a real Badger, a
// second import changes nothing, and search and show find the planted data.
func TestGenerateImportTwiceSearchShow(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end import of the small demo data set")
	}
	tmp := t.TempDir()
	data, db := filepath.Join(tmp, "data"), filepath.Join(tmp, "db")
	runCmd(t, "generate", "--out", data, "--scale", "small", "--seed", "7")

	out := runCmd(t, "import", "--db", db, data)
	if !strings.Contains(out, "total") {
		t.Fatalf("import printed no summary:\n%s", out)
	}
	first := statsOf(t, db)
	if n := first["transactions"].(float64); n < 100_000 {
		t.Fatalf("small demo imported only %v transactions", n)
	}

	out = runCmd(t, "import", "--db", db, data)
	if strings.Count(out, "already imported") != 6 {
		t.Fatalf("second import should skip all 6 files:\n%s", out)
	}
	second := statsOf(t, db)
	delete(first, "batches")
	delete(second, "batches")
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if !bytes.Equal(a, b) {
		t.Fatalf("importing twice changed the database:\n%s\n%s", a, b)
	}

	var truth struct {
		Groups []struct {
			GroupID string   `json:"group_id"`
			Members []string `json:"members"`
			Cards   []string `json:"cards"`
		} `json:"groups"`
	}
	raw, err := os.ReadFile(filepath.Join(data, "truth", "ground_truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	if len(truth.Groups) == 0 || len(truth.Groups[0].Cards) == 0 {
		t.Fatal("ground truth has no planted group with cards")
	}
	card := truth.Groups[0].Cards[0]

	var found struct {
		Hits []struct{ Ref string } `json:"hits"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "search", "--db", db, "--json", "--kind", "card", card)), &found); err != nil {
		t.Fatal(err)
	}
	if len(found.Hits) == 0 || found.Hits[0].Ref != "card:"+card {
		t.Fatalf("search for planted card %s found %v", card, found.Hits)
	}

	var shown struct {
		Ref        string `json:"ref"`
		Neighbours []struct {
			Ref      string `json:"ref"`
			Relation string `json:"relation"`
		} `json:"neighbours"`
		Total int `json:"transactions_total"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "show", "--db", db, "--json", "card:"+card)), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Total == 0 {
		t.Fatalf("planted card %s shows no transactions", card)
	}
	holder := false
	for _, n := range shown.Neighbours {
		if n.Relation == "holds" && strings.HasPrefix(n.Ref, "iin:") {
			holder = true
		}
	}
	if !holder {
		t.Fatalf("planted card %s shows no holder among %v", card, shown.Neighbours)
	}
}

func TestImportRejectsReconcile(t *testing.T) {
	tmp := t.TempDir()
	db := filepath.Join(tmp, "db")
	rejects := filepath.Join(tmp, "rejects.csv")
	src := filepath.Join("..", "..", "testdata", "canonical")
	out := runCmd(t, "import", "--db", db, "--rejects", rejects, src)
	if !strings.Contains(out, "rejected rows with file, line, column and reason: "+rejects) {
		t.Fatalf("summary does not point at the rejects file:\n%s", out)
	}
	raw, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "bad_transactions.csv") {
		t.Fatalf("rejects file does not name the bad file:\n%s", raw)
	}
	st := statsOf(t, db)
	for _, b := range st["batches"].([]any) {
		m := b.(map[string]any)
		if m["read"].(float64) != m["imported"].(float64)+m["rejected"].(float64)+m["skipped"].(float64) {
			t.Fatalf("batch does not reconcile: %v", m)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"import"},
		{"search", "--db", t.TempDir()},
		{"show", "--db", t.TempDir(), "nonsense"},
		{"generate"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("casegraph %v: want an error", args)
		}
	}
}

func TestMissingDatabaseIsAClearError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"stats", "--db", missing}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("want an error naming %s, got %v", missing, err)
	}
}

func TestBenchMeasuresADatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, "--rejects", filepath.Join(t.TempDir(), "r.csv"),
		filepath.Join("..", "..", "testdata", "canonical"))
	var r benchReport
	if err := json.Unmarshal([]byte(runCmd(t, "bench", "--db", db, "--json")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Entities == 0 || r.SearchDocs != r.Entities || r.KeystrokeCount == 0 || r.FirstPage.N == 0 {
		t.Fatalf("bench measured nothing useful: %+v", r)
	}
	if r.FirstFrameMS <= 0 || r.SearchReadyMS < r.FirstFrameMS {
		t.Fatalf("start-up figures out of order: %+v", r)
	}
}

// TestDBThatIsNotADatabase: importing into, or reading, a folder of evidence
// files refuses with a clear message and writes nothing there; a URL is
// never taken for a path.
func TestDBThatIsNotADatabase(t *testing.T) {
	evidence := t.TempDir()
	csv := filepath.Join(evidence, "persons.csv")
	if err := os.WriteFile(csv, []byte("iin,name\n900515300008,Test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", "--db", evidence, csv}, {"stats", "--db", evidence}, {"search", "--db", evidence, "test"}} {
		var out, errBuf bytes.Buffer
		err := run(context.Background(), args, &out, &errBuf)
		errOut := errBuf.String()
		if err == nil || !strings.Contains(err.Error()+errOut, "not a casegraph database") {
			t.Errorf("%v: err %v, stderr %q; want 'not a casegraph database'", args, err, errOut)
		}
	}
	if ents, _ := os.ReadDir(evidence); len(ents) != 1 {
		t.Errorf("the evidence folder holds %d entries, want only persons.csv", len(ents))
	}
	dir := t.TempDir()
	t.Chdir(dir)
	for _, args := range [][]string{{"calibrate", "--db", "dgraph://127.0.0.1:9080"}, {"stats", "--db", "mysql://127.0.0.1:9080"}} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "is a URL") {
			t.Errorf("%v: %v", args, err)
		}
	}
	// flags on a cluster runs on a pulled neighbourhood: it asks for one.
	err := run(context.Background(), []string{"flags", "--db", "dgraph://127.0.0.1:9080"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--seed REF, --case NAME, --list NAME or --search QUERY") {
		t.Errorf("flags --db dgraph://: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dgraph:")); err == nil {
		t.Error("a folder named dgraph: was created")
	}
}

// TestReadersDoNotLockEachOtherOut: while another reader has the database
// open (read-only, as show and stats open it), the analysis and search
// commands still run: they fall back to a read-only open.
func TestReadersDoNotLockEachOtherOut(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "rules"))
	reader, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for _, args := range [][]string{{"flags", "--db", db}, {"clusters", "--db", db}, {"stats", "--db", db}, {"search", "--db", db, "4400"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err != nil {
			t.Errorf("%v beside another reader: %v\n%s", args, err, errOut.String())
		}
	}
}
