package mapfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 7, 4096, 1<<20 + 3} {
		path := filepath.Join(dir, "f")
		want := bytes.Repeat([]byte("casegraph"), size/9+1)[:size]
		if err := os.WriteFile(path, want, 0o600); err != nil {
			t.Fatal(err)
		}
		data, release, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, want) {
			t.Errorf("size %d: read %d bytes, not the file", size, len(data))
		}
		if size > 0 && uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
			t.Errorf("size %d: not 8-byte aligned", size)
		}
		release()
	}
	if _, _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestWritable(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4096, 1<<20 + 3} {
		path := filepath.Join(dir, "w")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		data, done, err := Writable(f, size)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != size || size > 0 && uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
			t.Fatalf("size %d: %d bytes, or not 8-byte aligned", size, len(data))
		}
		want := bytes.Repeat([]byte("casegraph"), size/9+1)[:size]
		for i, c := range data {
			if c != 0 {
				t.Fatalf("size %d: byte %d is %d, not zero", size, i, c)
			}
		}
		copy(data, want)
		if err := done(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("size %d: the file has %d bytes, not what was written", size, len(got))
		}
	}
}

func TestScratch(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4096, 1<<20 + 3} {
		data, release, err := Scratch(dir, size)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != size || size > 0 && uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
			t.Fatalf("size %d: %d bytes, or not 8-byte aligned", size, len(data))
		}
		for i := range data {
			if data[i] != 0 {
				t.Fatalf("size %d: byte %d not zero", size, i)
			}
			data[i] = byte(i)
		}
		release()
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("scratch left %d files behind", len(left))
	}
}
