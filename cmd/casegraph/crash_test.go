package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"casegraph/importers/gen"
	"casegraph/store"
)

// crashSeed seeds the jitter added to each kill point.
const crashSeed = 20261127

// killPoint says when to SIGKILL an import: once a line of its progress
// output (stderr) contains after ("" = as soon as it starts), plus a seeded
// random delay of up to jitter.
type killPoint struct {
	name   string
	after  string
	jitter time.Duration
	// mayFinish marks a point so late that the import may already have
	// finished when the signal arrives; every other kill must land.
	mayFinish bool
	// twice kills the first rerun as well, at the same point.
	twice bool
}

// TestImportSurvivesSIGKILL kills the importer at points from start-up to
// the graph snapshot, reruns the same command to completion, and requires the
// database to end exactly as after one clean run: for a bulk import into a
// fresh database and for an incremental import into one that holds data.
func TestImportSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a few dozen imports")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "casegraph")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build casegraph: %v\n%s", err, out)
	}
	first, second := crashData(t, tmp)
	rng := rand.New(rand.NewPCG(crashSeed, 1))

	// The clean runs: the bulk import of the first set, then an incremental
	// import of the second set into a copy.
	cleanA := filepath.Join(tmp, "clean-a")
	runImport(t, bin, cleanA, first)
	wantA := dumpDB(t, cleanA)
	cleanB := filepath.Join(tmp, "clean-b")
	copyDB(t, cleanA, cleanB)
	runImport(t, bin, cleanB, second)
	wantB := dumpDB(t, cleanB)
	if wantA == wantB {
		t.Fatal("the second set changed nothing")
	}

	t.Run("bulk", func(t *testing.T) {
		points := []killPoint{
			{name: "parsing", after: "transactions.csv", jitter: 60 * time.Millisecond, twice: true},
			{name: "stream writer", after: "write ", jitter: 30 * time.Millisecond},
			{name: "search docs, stats, graph snapshot", after: "search ", jitter: 400 * time.Millisecond, mayFinish: true},
		}
		for i, p := range points {
			db := filepath.Join(tmp, fmt.Sprintf("bulk-%d", i))
			crashAndRerun(t, bin, db, first, p, rng)
			requireSameDump(t, p.name, wantA, dumpDB(t, db))
		}
	})
	t.Run("incremental", func(t *testing.T) {
		points := []killPoint{
			{name: "corrections", after: "corrections.csv", jitter: 30 * time.Millisecond},
			{name: "transactions", after: "transactions.csv", jitter: 80 * time.Millisecond, twice: true},
			{name: "totals", after: "totals ", jitter: 20 * time.Millisecond},
			{name: "search docs, stats, graph snapshot", after: "search ", jitter: 400 * time.Millisecond, mayFinish: true},
		}
		for i, p := range points {
			db := filepath.Join(tmp, fmt.Sprintf("incr-%d", i))
			copyDB(t, cleanA, db)
			crashAndRerun(t, bin, db, second, p, rng)
			requireSameDump(t, p.name, wantB, dumpDB(t, db))
		}
	})
}

// crashAndRerun kills an import of input into db at p (twice when p.twice)
// and then runs it again to completion.
func crashAndRerun(t *testing.T, bin, db, input string, p killPoint, rng *rand.Rand) {
	t.Helper()
	kills := 1
	if p.twice {
		kills = 2
	}
	for k := range kills {
		delay := time.Duration(rng.Int64N(int64(p.jitter) + 1))
		killed, stderr := killImport(t, bin, db, input, p.after, delay)
		t.Logf("%s: kill %d after %q + %s: killed %v", p.name, k+1, p.after, delay, killed)
		if !killed && !p.mayFinish {
			t.Fatalf("%s: the import finished before the kill landed; stderr:\n%s", p.name, stderr)
		}
	}
	checkReadAfterKill(t, bin, db)
	runImport(t, bin, db, input)
	if _, err := os.Stat(filepath.Join(db, ".import-tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: spilled runs left in the database after the rerun (%v)", p.name, err)
	}
}

// checkReadAfterKill runs a read-only command on a database whose import was
// just killed: it works, or says why not and what to do, in our words.
func checkReadAfterKill(t *testing.T, bin, db string) {
	t.Helper()
	out, err := exec.Command(bin, "stats", "--db", db).CombinedOutput()
	if err == nil {
		return
	}
	for _, want := range []error{store.ErrUnclean, store.ErrInterrupted} {
		if strings.Contains(string(out), want.Error()) {
			return
		}
	}
	t.Errorf("stats after the kill failed without saying what to do (%v):\n%s", err, out)
}

// killImport starts an import and SIGKILLs it once a line of its stderr
// contains after, delay later. It reports whether the signal killed the
// process (rather than finding it finished) and what it printed.
func killImport(t *testing.T, bin, db, input, after string, delay time.Duration) (bool, string) {
	t.Helper()
	cmd := exec.Command(bin, "import", "--db", db, input)
	cmd.Stdout = io.Discard
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start import: %v", err)
	}
	var stderr bytes.Buffer
	seen := make(chan struct{})
	eof := make(chan struct{})
	go func() {
		defer close(eof)
		fired := false
		fire := func() {
			if !fired {
				fired = true
				close(seen)
			}
		}
		if after == "" {
			fire()
		}
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), after) {
				fire()
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		fire() // the process ended without printing it: the kill finds it finished
	}()
	<-seen
	time.Sleep(delay)
	// A process that has exited but not been waited for can still be
	// signalled; Wait then reports the normal exit, not the kill.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill import: %v", err)
	}
	<-eof
	_ = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	killed := ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
	if !killed && !cmd.ProcessState.Success() {
		t.Fatalf("killed import failed on its own (%v):\n%s", cmd.ProcessState, stderr.String())
	}
	return killed, stderr.String()
}

// runImport runs an import to completion.
func runImport(t *testing.T, bin, db, input string) {
	t.Helper()
	cmd := exec.Command(bin, "import", "--db", db, input)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("import %s into %s: %v\n%s", input, db, err, out.String())
	}
}

// dumpDB is the canonical dump of the database in dir.
func dumpDB(t *testing.T, dir string) string {
	t.Helper()
	db, err := store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	defer db.Close()
	var b bytes.Buffer
	if err := db.Dump(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// requireSameDump fails with the first lines where two dumps differ.
func requireSameDump(t *testing.T, point, want, got string) {
	t.Helper()
	if want == got {
		return
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var diff []string
	for i := 0; i < max(len(wl), len(gl)) && len(diff) < 6; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			diff = append(diff, fmt.Sprintf("line %d:\n  clean %s\n  rerun %s", i+1, w, g))
		}
	}
	t.Errorf("%s: the rerun database differs from the clean one (%d vs %d keys):\n%s",
		point, len(wl)-1, len(gl)-1, strings.Join(diff, "\n"))
}

// copyDB copies a closed database directory.
func copyDB(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatalf("copy database: %v", err)
	}
}

// crashData generates the small demo data set and cuts two import sets from
// it: first, a fresh database's worth (the first persons, cards and
// transactions, and the groups); second, what a later import adds to it (a
// corrections file that moves some of the first set's transactions to other
// receivers, more persons, more transactions).
func crashData(t *testing.T, tmp string) (first, second string) {
	t.Helper()
	all := filepath.Join(tmp, "generated")
	if _, err := gen.Generate(context.Background(), all, gen.Config{Seed: 3, Scale: gen.ScaleSmall}, nil); err != nil {
		t.Fatalf("generate: %v", err)
	}
	first, second = filepath.Join(tmp, "first"), filepath.Join(tmp, "second")
	for _, d := range []string{first, second} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"exchanges.csv", "groups.csv", "memberships.csv"} {
		cutRows(t, filepath.Join(all, name), filepath.Join(first, name), 0, -1)
	}
	cutRows(t, filepath.Join(all, "persons.csv"), filepath.Join(first, "persons.csv"), 0, 1500)
	cutRows(t, filepath.Join(all, "cards.csv"), filepath.Join(first, "cards.csv"), 0, 2500)
	cutRows(t, filepath.Join(all, "transactions.csv"), filepath.Join(first, "transactions.csv"), 0, 8000)
	cutRows(t, filepath.Join(all, "persons.csv"), filepath.Join(second, "persons.csv"), 1500, 1800)
	cutRows(t, filepath.Join(all, "transactions.csv"), filepath.Join(second, "transactions.csv"), 8000, 12000)

	// Corrections: 300 of the first set's transactions, each sent to the
	// receiver of the next one.
	rows := readRows(t, filepath.Join(first, "transactions.csv"), 301)
	to := -1
	for i, h := range rows[0] {
		if h == "to" {
			to = i
		}
	}
	if to < 0 {
		t.Fatalf("transactions.csv has no to column: %v", rows[0])
	}
	fixed := [][]string{rows[0]}
	for i := 1; i < len(rows); i++ {
		r := append([]string(nil), rows[i]...)
		r[to] = rows[1+i%(len(rows)-1)][to]
		fixed = append(fixed, r)
	}
	writeRows(t, filepath.Join(second, "corrections.csv"), fixed)
	return first, second
}

// cutRows copies the header of a CSV file and its data rows from (0-based)
// up to to (-1: all).
func cutRows(t *testing.T, src, dst string, from, to int) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	var rows [][]string
	for i := -1; to < 0 || i < to; i++ {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", src, err)
		}
		if i < 0 || i >= from {
			rows = append(rows, row)
		}
	}
	writeRows(t, dst, rows)
}

func readRows(t *testing.T, path string, n int) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	var rows [][]string
	for len(rows) < n {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		rows = append(rows, row)
	}
	return rows
}

func writeRows(t *testing.T, path string, rows [][]string) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
