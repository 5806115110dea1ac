package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An encrypted database's rejects are sealed with its key, private, and
// read back with casegraph rejects; an unencrypted one's are private too.
func TestRejectsOfEncryptedDatabaseAreSealed(t *testing.T) {
	tmp := t.TempDir()
	key := filepath.Join(tmp, "db.key")
	if err := os.WriteFile(key, bytes.Repeat([]byte("ab"), 32), 0o600); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join("..", "..", "testdata", "canonical")
	for _, enc := range []bool{true, false} {
		db := filepath.Join(t.TempDir(), "db")
		args := []string{"import", "--db", db, src}
		if enc {
			args = append(args, "--key-file", key)
		}
		out := runCmd(t, args...)
		if enc != strings.Contains(out, "read it with casegraph rejects") {
			t.Errorf("encrypted %v: summary %s", enc, out)
		}
		dir := filepath.Join(db, "rejects")
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("rejects folder: %v %v", st, err)
		}
		if st, err := os.Stat(db); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("database folder: %v %v", st.Mode(), err)
		}
		all, _ := os.ReadDir(db)
		for _, e := range all {
			if st, err := os.Lstat(filepath.Join(db, e.Name())); err != nil || st.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s: mode %v %v", e.Name(), st.Mode(), err)
			}
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("rejects files: %v", ents)
		}
		name := ents[0].Name()
		path := filepath.Join(dir, name)
		st, _ := os.Stat(path)
		raw, _ := os.ReadFile(path)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("rejects file mode %v", st.Mode())
		}
		if enc != strings.HasSuffix(name, ".csv.sealed") || enc == bytes.Contains(raw, []byte("bad_transactions.csv")) {
			t.Errorf("encrypted %v: rejects file %s holds plaintext: %v", enc, name, !enc)
		}
		list := []string{"rejects", "--db", db}
		if enc {
			list = append(list, "--key-file", key)
		}
		if out := runCmd(t, list...); strings.TrimSpace(out) != name {
			t.Errorf("rejects list: %q", out)
		}
		if out := runCmd(t, append(list, name)...); !strings.Contains(out, "bad_transactions.csv") || !strings.HasPrefix(out, "file,line") {
			t.Errorf("rejects %s: %q", name, out)
		}
	}
}
