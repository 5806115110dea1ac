package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var testSealKey = deriveSealKey(bytes.Repeat([]byte{7}, 32))

func writeSealed(t *testing.T, plain []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sealed")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newSealWriter(f, testSealKey)
	if err != nil {
		t.Fatal(err)
	}
	// Uneven writes cross the chunk boundaries.
	for rest := plain; len(rest) > 0; {
		n := min(len(rest), 1+rand.IntN(3*sealChunk/2))
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readSealedAt(path string, key []byte, off int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := openSealed(f, key, off)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestSealRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, sealChunk - 1, sealChunk, sealChunk + 1, 3*sealChunk + 5} {
		plain := make([]byte, n)
		for i := range plain {
			plain[i] = byte(i*7 + i/sealChunk)
		}
		path := writeSealed(t, plain)
		raw, _ := os.ReadFile(path)
		if n > 64 && bytes.Contains(raw, plain[:64]) {
			t.Errorf("%d bytes: plaintext in the sealed file", n)
		}
		for _, off := range []int64{0, 1, sealChunk - 1, sealChunk, sealChunk + 3, int64(n)} {
			if off > int64(n) {
				continue
			}
			got, err := readSealedAt(path, testSealKey, off)
			if err != nil || !bytes.Equal(got, plain[off:]) {
				t.Errorf("%d bytes from %d: %d bytes back, %v", n, off, len(got), err)
			}
		}
	}
}

func TestSealDetectsDamage(t *testing.T) {
	plain := bytes.Repeat([]byte("card:4400430000000015,"), 3*sealChunk/22+10)
	path := writeSealed(t, plain)
	raw, _ := os.ReadFile(path)
	full := sealChunk + sealTag
	for name, damaged := range map[string][]byte{
		"final chunk cut": raw[:sealHeader+3*full],
		"cut mid chunk":   raw[:sealHeader+full+100],
		"byte flipped":    func() []byte { b := bytes.Clone(raw); b[sealHeader+full+9] ^= 1; return b }(),
		"chunks swapped":  append(append(append(bytes.Clone(raw[:sealHeader]), raw[sealHeader+full:sealHeader+2*full]...), raw[sealHeader:sealHeader+full]...), raw[sealHeader+2*full:]...),
		"salt changed":    func() []byte { b := bytes.Clone(raw); b[len(sealMagic)] ^= 1; return b }(),
		"not sealed":      plain,
	} {
		p := filepath.Join(t.TempDir(), "x")
		os.WriteFile(p, damaged, 0o600)
		if _, err := readSealedAt(p, testSealKey, 0); !errors.Is(err, ErrSealed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := readSealedAt(path, deriveSealKey(bytes.Repeat([]byte{8}, 32)), 0); !errors.Is(err, ErrSealed) {
		t.Errorf("other key: %v", err)
	}
}

// TestOpenSealedRunAt is TestOpenRunAt with a sealed run of many chunks.
func TestOpenSealedRunAt(t *testing.T) {
	m := &memRun{}
	for i := range 20000 {
		m.add(fmt.Appendf(nil, "k%06d", i*3), bytes.Repeat([]byte{'v'}, i%200))
	}
	m.sort()
	run, err := m.writeFile(t.TempDir()+"/run", 7000, testSealKey)
	if err != nil {
		t.Fatal(err)
	}
	if run.size < 10*sealChunk {
		t.Fatalf("run of %d bytes", run.size)
	}
	for _, lo := range []string{"", "k000000", "k030001", "k059997", "z"} {
		var from []byte
		if lo != "" {
			from = []byte(lo)
		}
		it, err := openRun(run, from)
		if err != nil {
			t.Fatal(err)
		}
		got := runKeys(t, &rangeIter{it: it, lo: from})
		var want []string
		for i := range 20000 {
			if k := fmt.Sprintf("k%06d", i*3); k >= lo {
				want = append(want, k)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("from %q: %d keys, want %d", lo, len(got), len(want))
		}
	}
}

// An encrypted database's bulk import spills sealed runs into a private
// folder, and a folder left by a killed import is removed on open.
func TestEncryptedImportSealsRuns(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{3}, 32)
	db, err := Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	l.spillBytes, l.markBytes = 16<<10, 512
	r := dataset(200, 400)
	put(t, l, r)
	if err := l.waitSpill(); err != nil {
		t.Fatal(err)
	}
	if len(l.runs) < 2 {
		t.Fatalf("%d runs spilled", len(l.runs))
	}
	if st, err := os.Stat(l.tmpDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("temp folder: %v %v", st.Mode(), err)
	}
	for _, run := range l.runs {
		st, err := os.Stat(run.path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", run.path, st.Mode(), err)
		}
		raw, _ := os.ReadFile(run.path)
		if !bytes.HasPrefix(raw, []byte(sealMagic)) || bytes.Contains(raw, []byte("Kaspi Bank")) ||
			bytes.Contains(raw, []byte(personRef(1).Key)) || bytes.Contains(raw, []byte("Ахметов")) {
			t.Errorf("%s is not sealed", run.path)
		}
	}
	if err := l.Finish(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if e, err := db.Entity(context.Background(), personRef(1)); err != nil || e.Name != "Ахметов 1" {
		t.Errorf("entity after a sealed merge: %+v %v", e, err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm()&0o077 != 0 {
		t.Errorf("database folder mode %v %v", st.Mode(), err)
	}
	db.Close()
	// A killed import's runs.
	os.MkdirAll(filepath.Join(dir, tmpDirName), 0o700)
	os.WriteFile(filepath.Join(dir, tmpDirName, "run-00000"), []byte("plain"), 0o600)
	db, err = Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(filepath.Join(dir, tmpDirName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temp folder: %v", err)
	}
}

// BenchmarkRunFile writes and reads back a 64 MiB sorted run (the spill
// buffer's size), plain and sealed.
func BenchmarkRunFile(b *testing.B) {
	m := &memRun{}
	for i := 0; m.used < 64<<20; i++ {
		m.add(fmt.Appendf(nil, "t%012d", i), bytes.Repeat([]byte{byte(i)}, 90))
	}
	m.sort()
	for _, tc := range []struct {
		name string
		key  []byte
	}{{"plain", nil}, {"sealed", testSealKey}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(m.used))
			dir := b.TempDir()
			for i := range b.N {
				run, err := m.writeFile(fmt.Sprintf("%s/run-%d", dir, i), markEvery, tc.key)
				if err != nil {
					b.Fatal(err)
				}
				it, err := openRun(run, nil)
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, _, ok, err := it.next()
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						break
					}
				}
				it.close()
				os.Remove(run.path)
			}
		})
	}
}
