package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
)

// cardRun is a sorted run shaped like an import's: transaction keys of a
// few hundred cards, each with many rows, and values that repeat their
// fields.
func cardRun() *memRun {
	m := &memRun{}
	for c := range 300 {
		for i := range 40 {
			k := fmt.Appendf(nil, "t\x02\x00\x104400430000%06d%016d", c, i)
			v := fmt.Appendf(nil, "KZT|%d|ATM-%04d|Алматы, ул. Абая %d", 1000*(i%7), c%50, i%9)
			m.add(k, v)
		}
	}
	m.sort()
	return m
}

// TestRunBlocksCompressed checks that a run is stored in compressed blocks,
// each beginning at a mark, and reads back whole from every mark.
func TestRunBlocksCompressed(t *testing.T) {
	m := cardRun()
	run, err := m.writeFile(t.TempDir()+"/run", 4096, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(run.path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != run.stored || run.stored*2 > run.size {
		t.Fatalf("%d plaintext bytes stored in %d (file %d): want under half", run.size, run.stored, fi.Size())
	}
	if len(run.marks) < 10 {
		t.Fatalf("%d marks", len(run.marks))
	}
	var all []string
	if err := m.each(func(k, _ []byte) error { all = append(all, string(k)); return nil }); err != nil {
		t.Fatal(err)
	}
	for i, mk := range run.marks {
		if i > 0 && (mk.at <= run.marks[i-1].at || mk.off <= run.marks[i-1].off) {
			t.Fatalf("mark %d at %d/%d after %d/%d", i, mk.at, mk.off, run.marks[i-1].at, run.marks[i-1].off)
		}
		it, err := openRun(run, mk.key)
		if err != nil {
			t.Fatal(err)
		}
		got := runKeys(t, it)
		from := len(all) - len(got)
		if from < 0 || got[0] != string(mk.key) || strings.Join(got, ",") != strings.Join(all[from:], ",") {
			t.Fatalf("from mark %d (%q): %d keys, not the run's tail", i, mk.key, len(got))
		}
	}
}

// TestRunDamaged checks that a cut or damaged run is an error naming the
// file, never a panic or a short read taken for the end.
func TestRunDamaged(t *testing.T) {
	run, err := cardRun().writeFile(t.TempDir()+"/run", 4096, nil)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(run.path)
	if err != nil {
		t.Fatal(err)
	}
	second := run.marks[1].at
	for name, damage := range map[string]func([]byte) []byte{
		"cut in a block":        func(b []byte) []byte { return b[:second+runBlockHeader+10] },
		"cut in a header":       func(b []byte) []byte { return b[:second+3] },
		"a huge block":          func(b []byte) []byte { binary.LittleEndian.PutUint32(b[second:], 1<<30); return b },
		"stored longer than S2": func(b []byte) []byte { binary.LittleEndian.PutUint32(b[second+4:], 1<<20); return b },
		"another length":        func(b []byte) []byte { b[second]++; return b },
	} {
		b := damage(append([]byte(nil), good...))
		if err := os.WriteFile(run.path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		it, err := openRun(run, nil)
		if err != nil {
			t.Fatal(err)
		}
		for {
			_, _, ok, err := it.next()
			if err != nil {
				if !strings.Contains(err.Error(), run.path) {
					t.Errorf("%s: %v does not name the run", name, err)
				}
				break
			}
			if !ok {
				t.Errorf("%s: read to the end without an error", name)
				break
			}
		}
		_ = it.close()
	}
}
