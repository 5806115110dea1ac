package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/graph"
)

// dumpOf returns the canonical dump of db.
func dumpOf(t *testing.T, db *DB) string {
	t.Helper()
	var b bytes.Buffer
	if err := db.Dump(context.Background(), &b); err != nil {
		t.Fatalf("dump: %v", err)
	}
	return b.String()
}

// requireSameDump fails with the first lines where two dumps differ.
func requireSameDump(t *testing.T, want, got string) {
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
			diff = append(diff, fmt.Sprintf("line %d:\n  want %s\n  got  %s", i+1, w, g))
		}
	}
	t.Fatalf("databases differ (%d vs %d keys):\n%s", len(wl)-1, len(gl)-1, strings.Join(diff, "\n"))
}

// file is one input file of a simulated import run.
type file struct {
	name string
	recs records
}

// importFile puts the first n records of f (all when n < 0) in a batch of
// its own and ends the batch when all were put. It skips a file the manifest
// already holds, as the import command does.
func importFile(t *testing.T, db *DB, l *Loader, f file, n int) {
	t.Helper()
	sum := "sha-" + f.name
	if _, done, err := db.ImportedFile(sum); err != nil {
		t.Fatal(err)
	} else if done {
		return
	}
	id := l.BeginBatch(f.name, sum, "mixed")
	put := 0
	more := func() bool { put++; return n < 0 || put <= n }
	for _, e := range f.recs.ents {
		if !more() {
			return
		}
		e.Src.Batch = id
		if err := l.PutEntity(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range f.recs.links {
		if !more() {
			return
		}
		k.Src.Batch = id
		if err := l.PutLink(k); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range f.recs.txns {
		if !more() {
			return
		}
		x.Src.Batch = id
		if err := l.PutTxn(x); err != nil {
			t.Fatal(err)
		}
	}
	total := len(f.recs.ents) + len(f.recs.links) + len(f.recs.txns)
	if err := l.EndBatch(graph.Batch{ID: id, Read: total, Imported: total}); err != nil {
		t.Fatal(err)
	}
}

// run imports files into db in one loader and finishes it.
func run(t *testing.T, db *DB, files ...file) {
	t.Helper()
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		importFile(t, db, l, f, -1)
	}
	if err := l.Finish(context.Background(), nil); err != nil {
		t.Fatalf("finish: %v", err)
	}
	if _, ok, err := readMarker(db.dir); err != nil || ok {
		t.Fatalf("import marker after finish: present %v, %v", ok, err)
	}
}

func crashFiles() (base file, more []file) {
	b := dataset(20, 400)
	d := dataset(40, 3000) // overlapping ids at other times and endpoints: moved transactions
	return file{name: "base.csv", recs: b}, []file{
		{name: "entities.csv", recs: records{ents: d.ents, links: d.links}},
		{name: "txns.csv", recs: records{txns: d.txns}},
	}
}

func TestKilledBulkImportIsDiscarded(t *testing.T) {
	base, more := crashFiles()
	clean := openTemp(t)
	run(t, clean, append([]file{base}, more...)...)
	want := dumpOf(t, clean)

	dir := t.TempDir()
	db := openAt(t, dir)
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	if !l.Bulk() {
		t.Fatal("loader on an empty database is not bulk")
	}
	l.spillBytes = 64 << 10
	importFile(t, db, l, base, -1)
	importFile(t, db, l, more[0], -1)
	importFile(t, db, l, more[1], 1000)
	if err := l.waitSpill(); err != nil {
		t.Fatal(err)
	}
	if len(l.runs) == 0 {
		t.Fatal("no runs spilled")
	}
	// The kill: part of the StreamWriter's output has reached the LSM tree,
	// the spilled runs and the marker are left behind.
	w := newKVWriter(db)
	if err := w.set(entityKey(personRef(1), false), []byte("partial")); err != nil {
		t.Fatal(err)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("read-only open of an interrupted bulk import: %v, want ErrInterrupted", err)
	}
	db = openAt(t, dir)
	if empty, err := db.Empty(); err != nil || !empty {
		t.Fatalf("after recovery: empty %v, %v", empty, err)
	}
	if _, err := os.Stat(filepath.Join(dir, tmpDirName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("spilled runs left behind: %v", err)
	}
	if _, ok, _ := readMarker(dir); ok {
		t.Fatal("marker left after recovery")
	}
	run(t, db, append([]file{base}, more...)...)
	requireSameDump(t, want, dumpOf(t, db))
}

func TestKilledIncrementalImportConverges(t *testing.T) {
	base, more := crashFiles()
	clean := openTemp(t)
	run(t, clean, base)
	run(t, clean, more...)
	want := dumpOf(t, clean)

	cases := []struct {
		name string
		ends int // files whose batch was recorded before the kill
		puts int // records of the next file put before the kill (-1: none, no batch begun)
	}{
		{"first file half written", 0, 50},
		{"second file begun", 1, 0},
		{"second file half written", 1, 1500},
		{"during finish", 2, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			db := openAt(t, dir)
			run(t, db, base)
			l, err := db.NewLoader()
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.ends {
				importFile(t, db, l, more[i], -1)
			}
			if c.puts >= 0 {
				importFile(t, db, l, more[c.ends], c.puts)
			}
			// The kill loses what the open transaction holds.
			if err := l.w.commit(); err != nil {
				t.Fatal(err)
			}
			l.w.txn.Discard()
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			db = openAt(t, dir)
			if m, ok, err := readMarker(dir); err != nil || !ok || m.mode != markerIncrement || m.seq != 1 {
				t.Fatalf("marker after the kill: %+v %v %v, want incremental at batch 1", m, ok, err)
			}
			run(t, db, more...)
			requireSameDump(t, want, dumpOf(t, db))
		})
	}
}

func TestAbortRemovesMarker(t *testing.T) {
	db := openTemp(t)
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := readMarker(db.dir); !ok {
		t.Fatal("no marker while a bulk import runs")
	}
	if err := l.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := readMarker(db.dir); ok {
		t.Fatal("marker left after abort")
	}
	base, _ := crashFiles()
	run(t, db, base)
	l, err = db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	if m, ok, _ := readMarker(db.dir); !ok || m.mode != markerIncrement || m.seq != 1 {
		t.Fatalf("incremental marker %+v %v, want incremental at batch 1", m, ok)
	}
	if err := l.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := readMarker(db.dir); ok {
		t.Fatal("marker left after abort")
	}
}

func TestReadMarkerRejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(markerPath(dir), []byte("incremental x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readMarker(dir); err == nil {
		t.Fatal("garbage marker accepted")
	}
	if err := writeMarker(dir, importMarker{mode: markerIncrement, seq: 42}); err != nil {
		t.Fatal(err)
	}
	if m, ok, err := readMarker(dir); err != nil || !ok || m != (importMarker{mode: markerIncrement, seq: 42}) {
		t.Fatalf("read back %+v %v %v", m, ok, err)
	}
}
