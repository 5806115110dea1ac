package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"casegraph/internal/dgraphtest"
)

// TestDgraphCommands runs import, stats, search and show with --db
// dgraph://… against a two-group cluster and with --db DIR on the same
// files: the JSON answers are the same (the import summary differs only in
// its timing line), and the cases stay in a local store beside the cluster.
func TestDgraphCommands(t *testing.T) {
	c := dgraphtest.StartT(t)
	t.Setenv("CASEGRAPH_HOME", t.TempDir())
	canonical := filepath.Join("..", "..", "testdata", "canonical")
	dir := filepath.Join(t.TempDir(), "db")
	runOut := func(args ...string) string {
		t.Helper()
		var out, errBuf bytes.Buffer
		if err := run(context.Background(), args, &out, &errBuf); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errBuf.String())
		}
		return out.String()
	}
	summary := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "took ") && !strings.Contains(l, "rejected rows with file") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	ib := runOut("import", "--db", dir, canonical)
	id := runOut("import", "--db", c.URL(), canonical)
	if summary(ib) != summary(id) || !strings.Contains(id, "bad_transactions.csv") {
		t.Errorf("import summaries differ:\n%s\n---\n%s", ib, id)
	}
	if _, err := os.Stat(filepath.Join(remoteLocalDir(c.URL()), "rejects")); err != nil {
		t.Errorf("the rejects of a cluster import are not beside its local store: %v", err)
	}
	again := runOut("import", "--db", c.URL(), canonical)
	if !strings.Contains(again, "already imported as batch") {
		t.Errorf("a second import was not skipped:\n%s", again)
	}
	for _, args := range [][]string{
		{"stats", "--json"},
		{"search", "--json", "Ахметов"},
		{"search", "--json", "--kind", "card", "4400"},
		{"show", "--json", "card:4400430000000015"},
		// A band and a range are kept by the cluster as by the store.
		{"show", "--json", "--min-amount", "450k", "--max-amount", "1.5m", "card:4400430000000015"},
		{"show", "--json", "--from", "2025-03-14", "--max-amount", "1m", "card:4400431234567894"},
		// A person's page adds up everything they hold, on a cluster as on
		// a folder.
		{"show", "--json", "iin:850312300002"},
		{"show", "--json", "--min-amount", "1k", "--limit", "3", "iin:850312300002"},
	} {
		b := runOut(append(args, "--db", dir)...)
		d := runOut(append(args, "--db", c.URL())...)
		if args[0] == "stats" {
			b, d = dropTimes(b), dropTimes(d)
		}
		if b != d {
			t.Errorf("%v differ:\n badger %s\n dgraph %s", args, b, d)
		}
		if len(d) < 40 {
			t.Errorf("%v: answer too short: %s", args, d)
		}
		if slices.Contains(args, "iin:850312300002") && !strings.Contains(d, `"holdings"`) {
			t.Errorf("%v: no holdings: %s", args, d)
		}
	}
	// bench measures the cluster like a folder.
	var rep benchReport
	if err := json.Unmarshal([]byte(runOut("bench", "--json", "--samples", "5", "--db", c.URL())), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Entities != 24 || rep.Txns != 7 || rep.FirstPage.N != 5 || rep.Neighbors.N != 5 || rep.HubFirstPage.N != 3 ||
		rep.KeystrokeCount == 0 {
		t.Errorf("bench on the cluster: %+v", rep)
	}
	// and the same keystrokes through the search pane: the local hits,
	// then the cluster's merged after the debounce.
	if rep.KeystrokeLocal.N != rep.KeystrokeCount || rep.KeystrokeMerged.N != rep.KeystrokeCount ||
		rep.DebounceMS != 200 || rep.KeystrokeMerged.P50 < rep.DebounceMS || rep.KeystrokeLocal.P50 >= rep.DebounceMS ||
		rep.LocalDocs == 0 {
		t.Errorf("bench through the pane on the cluster: local %+v merged %+v debounce %v, %d local documents",
			rep.KeystrokeLocal, rep.KeystrokeMerged, rep.DebounceMS, rep.LocalDocs)
	}
	var folder benchReport
	if err := json.Unmarshal([]byte(runOut("bench", "--json", "--samples", "5", "--db", dir)), &folder); err != nil {
		t.Fatal(err)
	}
	if folder.KeystrokeMerged.N != 0 || folder.KeystrokeLocal.N != 0 || folder.KeystrokeCount == 0 {
		t.Errorf("bench on a folder measured a cluster's tiers: %+v", folder)
	}
	// Commands that read the whole graph locally refuse a cluster; the
	// analyses ask for a neighbourhood to pull (TestDgraphPull).
	var out bytes.Buffer
	err := run(context.Background(), []string{"export", "--db", c.URL(), "--out", t.TempDir(), "x"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "does not work on one yet") {
		t.Errorf("export --db dgraph://: %v", err)
	}
	err = run(context.Background(), []string{"flags", "--db", c.URL()}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--seed REF, --case NAME, --list NAME or --search QUERY") {
		t.Errorf("flags --db dgraph://: %v", err)
	}
	// A band of one currency: a folder only.
	err = run(context.Background(), []string{"show", "--currency", "KZT", "--min-amount", "1k", "--db", c.URL(), "card:4400430000000015"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "a currency filter works on a folder only") {
		t.Errorf("show --currency --db dgraph://: %v", err)
	}
}

// dropTimes removes the import times ("at") from stats JSON.
func dropTimes(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, `"at"`) && !strings.Contains(l, `"At"`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestDgraphBulkOut: import --bulk-out reads the files as an import into a
// folder does (the same summary and rejects), writes the bulk loader's
// input and prints the command and the steps; it refuses a --db and
// --groups without --bulk-out.
func TestDgraphBulkOut(t *testing.T) {
	canonical := filepath.Join("..", "..", "testdata", "canonical")
	out := filepath.Join(t.TempDir(), "bulk")
	var so, se bytes.Buffer
	if err := run(context.Background(), []string{"import", "--bulk-out", out, "--groups", "2", "--zero", "10.0.0.5:5080", canonical}, &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	var fo bytes.Buffer
	if err := run(context.Background(), []string{"import", "--db", filepath.Join(t.TempDir(), "db"), canonical}, &fo, &se); err != nil {
		t.Fatal(err)
	}
	keep := func(s string) string {
		var lines []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "took ") || strings.Contains(l, "rejected rows with file") {
				continue
			}
			lines = append(lines, l)
		}
		return strings.Join(lines, "\n")
	}
	got := so.String()
	if !strings.HasPrefix(keep(got), keep(fo.String())) {
		t.Errorf("bulk summary:\n%s\nfolder summary:\n%s", got, fo.String())
	}
	for _, want := range []string{
		"dgraph bulk --files " + filepath.Join(out, "data.rdf.gz") + " --schema " + filepath.Join(out, "schema") +
			" --zero 10.0.0.5:5080 --out " + filepath.Join(out, "out") + " --map_shards 2 --reduce_shards 2",
		filepath.Join(out, "out", "1", "p") + " → the p folder (-p) of group 2's alpha",
		filepath.Join(out, "rejects"),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, f := range []string{"data.rdf.gz", "schema"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, args := range [][]string{
		{"import", "--bulk-out", filepath.Join(t.TempDir(), "b"), "--db", "dgraph://127.0.0.1:9080", canonical},
		{"import", "--db", filepath.Join(t.TempDir(), "db2"), "--groups", "2", canonical},
		{"import", "--bulk-out", filepath.Join(t.TempDir(), "b"), "--groups", "0", canonical},
	} {
		if err := run(context.Background(), args, &so, &se); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
