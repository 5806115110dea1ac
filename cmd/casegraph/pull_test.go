package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/internal/dgraphtest"
)

// TestDgraphPull: pull brings a neighbourhood of the cluster into a folder
// every command works on, and flags, clusters, path and trace with --db
// dgraph://… and seeds answer what they answer on a folder of the same
// files; flags writes the risks back and show reads them on the cluster.
func TestDgraphPull(t *testing.T) {
	c := dgraphtest.StartT(t)
	t.Setenv("CASEGRAPH_HOME", t.TempDir())
	canonical := filepath.Join("..", "..", "testdata", "canonical")
	dir := filepath.Join(t.TempDir(), "db")
	run2 := func(args ...string) (string, string, error) {
		t.Helper()
		var out, errBuf bytes.Buffer
		err := run(context.Background(), args, &out, &errBuf)
		return out.String(), errBuf.String(), err
	}
	runOut := func(args ...string) string {
		t.Helper()
		out, errs, err := run2(args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errs)
		}
		return out
	}
	runOut("import", "--db", dir, canonical)
	runOut("import", "--db", c.URL(), canonical)

	// The whole case: the persons, 6 hops around them.
	seeds := []string{"--seed", "iin:850312300002", "--seed", "iin:900515300008", "--seed", "iin:920711400122",
		"--seed", "iin:881102300336", "--seed", "iin:781231300664", "--seed", "exchange:EX-0002", "--hops", "6"}
	pulled := filepath.Join(t.TempDir(), "pulled")
	var scope map[string]any
	if err := json.Unmarshal([]byte(runOut(append([]string{"pull", "--json", "--db", c.URL(), "--out", pulled}, seeds...)...)), &scope); err != nil {
		t.Fatal(err)
	}
	if scope["transactions"] != float64(7) || scope["entities"] != float64(24) {
		t.Errorf("pulled %v", scope)
	}
	if b, p := dropTimes(runOut("stats", "--json", "--db", dir)), dropTimes(runOut("stats", "--json", "--db", pulled)); b != p {
		t.Errorf("stats differ:\n folder %s\n pulled %s", b, p)
	}
	for _, args := range [][]string{
		{"flags", "--json", "--all"},
		{"clusters", "--json", "--method", "louvain", "--by", "turnover"},
		{"clusters", "--json", "--method", "louvain"},
		{"path", "--json", "--k", "3", "card:4400430000000015", "card:4003039876543213"},
		{"trace", "--json", "card:4400430000000015"},
		{"trace", "--json", "--backward", "exchange:EX-0001"},
	} {
		b := runOut(append(args, "--db", dir)...)
		if p := runOut(append(args, "--db", pulled)...); b != p {
			t.Errorf("%v on the pulled folder:\n folder %s\n pulled %s", args, b, p)
		}
		extra := seeds
		if args[0] == "path" || args[0] == "trace" {
			extra = nil // their own ends are the seeds
		}
		if d := runOut(append(append(args, "--db", c.URL()), extra...)...); b != d {
			t.Errorf("%v on the cluster:\n folder %s\n dgraph %s", args, b, d)
		}
		if len(b) < 40 {
			t.Errorf("%v: answer too short: %s", args, b)
		}
	}
	// The scratch folders are gone.
	if ents, _ := os.ReadDir(pullScratchDir(c.URL())); len(ents) != 0 {
		t.Errorf("%d scratch folders left", len(ents))
	}

	// flags on the cluster wrote the risks back: show reads them.
	var flags struct {
		Entities []struct {
			Ref string `json:"ref"`
		} `json:"entities"`
	}
	// (Nothing of the canonical files reaches the flag threshold: the
	// risks below it are written back as well; dgraphdb's tests check
	// flagged ones.)
	if err := json.Unmarshal([]byte(runOut("flags", "--json", "--all", "--db", dir)), &flags); err != nil {
		t.Fatal(err)
	}
	if len(flags.Entities) == 0 {
		t.Fatal("no risk in the fixture")
	}
	_, errs, err := run2(append([]string{"flags", "--db", c.URL()}, seeds...)...)
	if err != nil || !strings.Contains(errs, "written back to") {
		t.Errorf("flags on the cluster: %v\n%s", err, errs)
	}
	for _, f := range flags.Entities {
		var b, d map[string]any
		if err := json.Unmarshal([]byte(runOut("show", "--json", "--db", dir, f.Ref)), &b); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(runOut("show", "--json", "--db", c.URL(), f.Ref)), &d); err != nil {
			t.Fatal(err)
		}
		rb, _ := b["risk"].(map[string]any)
		rd, _ := d["risk"].(map[string]any)
		if rb == nil || rd == nil || rd["scope"] == nil {
			t.Errorf("%s: risk on the folder %v, on the cluster %v", f.Ref, rb, rd)
			continue
		}
		delete(rd, "scope")
		for _, r := range []map[string]any{rb, rd} {
			delete(r["analysis"].(map[string]any), "time")
			delete(r["analysis"].(map[string]any), "user")
		}
		jb, _ := json.Marshal(rb)
		jd, _ := json.Marshal(rd)
		if string(jb) != string(jd) {
			t.Errorf("%s risk:\n folder %s\n dgraph %s", f.Ref, jb, jd)
		}
	}
	text := runOut("show", "--db", c.URL(), flags.Entities[0].Ref)
	if !strings.Contains(text, "risk from an analysis of 6 hops around") {
		t.Errorf("show on the cluster does not say where the risk comes from:\n%s", text)
	}

	// Refusals: no seeds, a budget, pull flags on a folder, an --out in use.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"flags", "--db", c.URL()}, "--seed REF, --case NAME, --list NAME or --search QUERY"},
		{[]string{"clusters", "--db", c.URL(), "--seed", "iin:850312300002", "--max-txns", "2"}, "budget of 2 transactions"},
		{[]string{"flags", "--db", dir, "--seed", "iin:850312300002"}, "use them with --db dgraph://"},
		{[]string{"pull", "--db", c.URL(), "--seed", "iin:850312300002", "--out", pulled}, "is not empty"},
		{[]string{"pull", "--db", dir, "--seed", "iin:850312300002", "--out", t.TempDir()}, "pull reads from a Dgraph cluster"},
		{[]string{"pull", "--db", c.URL(), "--case", "nope", "--out", filepath.Join(t.TempDir(), "x")}, "--case nope"},
		{[]string{"calibrate", "--db", c.URL()}, "does not work on one yet"},
	} {
		_, errs, err := run2(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q\n%s", c.args, err, c.want, errs)
		}
	}
}
