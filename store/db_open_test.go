package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir)
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second open: %v, want ErrLocked naming %s", err, dir)
	}
}

func TestEncryption(t *testing.T) {
	dir := t.TempDir()
	key := []byte("0123456789abcdef0123456789abcdef")
	db, err := Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	load(t, db, dataset(2, 5))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wrong := []byte("fedcba9876543210fedcba9876543210")
	if _, err := Open(dir, Options{EncryptionKey: wrong}); !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), dir) {
		t.Errorf("wrong key: %v, want ErrBadKey naming the dir", err)
	}
	_, err = Open(dir, Options{})
	if !errors.Is(err, ErrKeyRequired) || !errors.Is(err, ErrBadKey) {
		t.Errorf("missing key: %v, want ErrKeyRequired and ErrBadKey", err)
	}
	if _, err := Open(dir, Options{EncryptionKey: []byte("short")}); !errors.Is(err, ErrBadKey) {
		t.Errorf("short key: %v, want ErrBadKey", err)
	}
	db, err = Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatalf("right key: %v", err)
	}
	defer db.Close()
	if e := mustEntity(t, db, personRef(1)); e.Name != "Ахметов 1" {
		t.Errorf("entity after reopen: %+v", e)
	}
	plain := t.TempDir()
	pdb := openAt(t, plain)
	load(t, pdb, dataset(1, 1))
	pdb.Close()
	if _, err := Open(plain, Options{EncryptionKey: key}); !errors.Is(err, ErrBadKey) {
		t.Errorf("key for an unencrypted db: %v, want ErrBadKey", err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	db, _ := Open(dir, Options{})
	load(t, db, dataset(2, 4))
	db.Close()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.NewLoader(); err == nil {
		t.Error("loader on a read-only db")
	}
	if s, err := ro.Stats(ctx); err != nil || s.Txns != 4 {
		t.Errorf("read-only stats %+v %v", s, err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	raw := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7}
	if k, err := LoadKeyFile(write("raw24", raw)); err != nil || !reflect.DeepEqual(k, raw) {
		t.Errorf("raw: %x %v", k, err)
	}
	if k, err := LoadKeyFile(write("hex", []byte("000102030405060708090a0b0c0d0e0f\n"))); err != nil || !reflect.DeepEqual(k, raw[:16]) {
		t.Errorf("hex: %x %v", k, err)
	}
	for name, b := range map[string][]byte{"short": []byte("abc\n"), "hex10": []byte("00010203040506070809"), "empty": nil} {
		if _, err := LoadKeyFile(write(name, b)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
	if _, err := LoadKeyFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

// TestLoadKeyFileRefusesShared: a key file its group or others may read is
// refused with a message that names the file and the fix; 0600 and 0400 load.
func TestLoadKeyFileRefusesShared(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix mode bits")
	}
	dir := t.TempDir()
	key := []byte("000102030405060708090a0b0c0d0e0f\n")
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o666, 0o444} {
		p := filepath.Join(dir, fmt.Sprintf("key%04o", mode))
		if err := os.WriteFile(p, key, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKeyFile(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: %v, want a refusal naming the file and chmod 600", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		p := filepath.Join(dir, fmt.Sprintf("ok%04o", mode))
		if err := os.WriteFile(p, key, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFile(p); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}

// recordHandler collects log records. Badger logs from several goroutines.
type recordHandler struct {
	mu   *sync.Mutex
	msgs *[]string
}

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.msgs = append(*h.msgs, r.Level.String()+" "+r.Message)
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

func TestBadgerLogsGoToSlog(t *testing.T) {
	var msgs []string
	db, err := Open(t.TempDir(), Options{Logger: slog.New(recordHandler{new(sync.Mutex), &msgs})})
	if err != nil {
		t.Fatal(err)
	}
	load(t, db, dataset(2, 2))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 {
		t.Fatal("no Badger log lines reached the slog handler")
	}
	for _, m := range msgs {
		if strings.HasSuffix(m, "\n") {
			t.Errorf("log line keeps its newline: %q", m)
		}
	}
}

// TestOpenRefusesFoldersThatAreNotDatabases: an evidence folder of CSVs is
// refused and nothing is written into it; read-only opens of a missing or
// empty folder say "not a casegraph database", not Badger's words; a new or
// empty folder still becomes a database.
func TestOpenRefusesFoldersThatAreNotDatabases(t *testing.T) {
	evidence := t.TempDir()
	if err := os.WriteFile(filepath.Join(evidence, "cards.csv"), []byte("pan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		if _, err := Open(evidence, Options{ReadOnly: ro}); !errors.Is(err, ErrNotDatabase) || !strings.Contains(err.Error(), "cards.csv") {
			t.Fatalf("read-only %v: err = %v, want ErrNotDatabase naming cards.csv", ro, err)
		}
	}
	ents, _ := os.ReadDir(evidence)
	if len(ents) != 1 {
		t.Fatalf("the evidence folder holds %d files after the refusals, want only cards.csv", len(ents))
	}
	empty := t.TempDir()
	if _, err := Open(empty, Options{ReadOnly: true}); !errors.Is(err, ErrNotDatabase) {
		t.Fatalf("read-only open of an empty folder: %v", err)
	}
	if _, err := Open(filepath.Join(empty, "missing"), Options{ReadOnly: true}); !errors.Is(err, ErrNotDatabase) {
		t.Fatalf("read-only open of a missing folder: %v", err)
	}
	db, err := Open(filepath.Join(empty, "new"), Options{})
	if err != nil {
		t.Fatalf("a new folder must become a database: %v", err)
	}
	db.Close()
	db, err = Open(filepath.Join(empty, "new"), Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("reopening the new database read-only: %v", err)
	}
	db.Close()
}

// TestOpenAfterKillDuringMemtableCreation: a kill between Badger creating a
// memtable file and sizing it leaves a zero-byte .mem file; the database
// still opens, with everything it held.
func TestOpenAfterKillDuringMemtableCreation(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "00042.mem"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("open with an empty memtable file left by a kill: %v", err)
	}
	db.Close()
}
