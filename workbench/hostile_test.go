package workbench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/internal/hostile"
	"casegraph/store"
)

// hostileImport imports the named corpus files into a new database through
// the workbench, as casegraph import does, with --as as given.
func hostileImport(t *testing.T, as string, files map[string][]byte) (*store.DB, error) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	db, err := store.Open(filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = New(db, "test").ImportAs(context.Background(), paths, "", nil, nil, as)
	return db, err
}

// listed counts the entities the database holds with a list_status.
func listed(t *testing.T, db *store.DB) int {
	t.Helper()
	n := 0
	err := db.SearchDocs(context.Background(), func(d graph.SearchDoc) error {
		e, err := db.Entity(context.Background(), d.Ref)
		if err == nil && e.Props["list_status"] != "" {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHostileSniffingInventsNoListHits: binary noise, a doubled byte-order
// mark and a duplicated column are refused with the file and the reason —
// never sniffed into a watch list that flags whatever they seem to name.
func TestHostileSniffingInventsNoListHits(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"garbage.csv", hostile.Garbage(64 << 10), "binary content"},
		{"garbage.txt", hostile.Garbage(64 << 10), "binary content"},
		{"double_bom.csv", hostile.DoubleBOM(), "two byte-order marks"},
		{"duplicate_column.csv", hostile.DuplicateColumn(), `"name" twice`},
		{"suspects.csv", []byte("iin,reason\n" + hostile.IIN(1) + ",x\n"), "list_status"},
	} {
		db, err := hostileImport(t, "", map[string][]byte{c.name: c.data})
		if err == nil || !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming the file and %q", c.name, err, c.want)
		}
		if n := listed(t, db); n != 0 {
			t.Errorf("%s: %d entities flagged by a file that is no list", c.name, n)
		}
	}
}

// TestHostileListSaysSo: a watch list with a list_status column, or any
// list imported with --as list, still imports.
func TestHostileListSaysSo(t *testing.T) {
	db, err := hostileImport(t, "", map[string][]byte{"w.csv": []byte("iin,list_status\n" + hostile.IIN(1) + ",black\n")})
	if err != nil || listed(t, db) != 1 {
		t.Errorf("list_status list: %v, %d listed", err, listed(t, db))
	}
	db, err = hostileImport(t, AsList, map[string][]byte{"suspects.csv": []byte("iin,reason\n" + hostile.IIN(1) + ",x\n")})
	if err != nil || listed(t, db) != 1 {
		t.Errorf("--as list: %v, %d listed", err, listed(t, db))
	}
}
