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

// TestHostileConflictWithEarlierImport: a second import that gives a
// stored transaction id or exchange different data is rejected naming both
// places; the stored records are kept, and identical records pass.
func TestHostileConflictWithEarlierImport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := []string{
		write("ex1.csv", "exchange_id,name\nEX-1,ТенгеОбмен\n"),
		write("tx1.csv", hostile.TxnHeader+hostile.Txn("T1", "2025-03-15 10:00", 1, 2, "100")),
	}
	second := []string{
		write("ex2.csv", "exchange_id,name\nEX-1,Renamed\nEX-2,New One\n"),
		write("tx2.csv", hostile.TxnHeader+hostile.Txn("T1", "2025-03-15 10:00", 1, 3, "100")+
			hostile.Txn("T2", "2025-03-15 10:00", 1, 3, "7")),
		// T1 again as stored (with an empty extra column): idempotent.
		write("tx3.csv", "tx_id,time,from,to,amount,reference\n"+strings.TrimSuffix(hostile.Txn("T1", "2025-03-15 10:00", 1, 2, "100"), "\n")+",\n"),
	}
	db, err := store.Open(filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := New(db, "test")
	if _, err := b.Import(context.Background(), first, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	res, err := b.Import(context.Background(), second, filepath.Join(dir, "rejects.csv"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, f := range res.Files {
		for _, r := range f.Report.Rejects {
			reasons = append(reasons, r.Reason)
		}
	}
	if len(reasons) != 2 || !strings.Contains(reasons[0], "ex2.csv:2") || !strings.Contains(reasons[0], "ex1.csv:2") ||
		!strings.Contains(reasons[1], "tx2.csv:2") || !strings.Contains(reasons[1], "tx1.csv:2") {
		t.Errorf("rejects %q: want EX-1 and T1 refused naming both files and lines", reasons)
	}
	if e, _ := db.Entity(context.Background(), graph.Ref{Kind: graph.KindExchange, Key: "EX-1"}); e.Name != "ТенгеОбмен" {
		t.Errorf("EX-1 renamed to %q", e.Name)
	}
	if tx, _ := db.Txn(context.Background(), "T1"); tx.To.Key != hostile.PAN(2) {
		t.Errorf("T1 overwritten: %+v", tx)
	}
	if _, err := db.Txn(context.Background(), "T2"); err != nil {
		t.Errorf("T2 not imported: %v", err)
	}
}

// TestHostileCorpus imports every file of the corpus (hostile.Write) on its
// own, as casegraph import does: none flags a list hit, every error names
// its file and stays short, and every import that runs reconciles.
func TestHostileCorpus(t *testing.T) {
	dir, err := hostile.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files, err := ExpandInputs([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(hostile.Files()) {
		t.Fatalf("%d corpus files found, want %d", len(files), len(hostile.Files()))
	}
	for _, path := range files {
		name := filepath.Base(path)
		db, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := New(db, "test").Import(context.Background(), []string{path}, filepath.Join(t.TempDir(), "rejects.csv"), nil, nil)
		if err != nil && (!strings.Contains(err.Error(), name) || len(err.Error()) > 2000) {
			t.Errorf("%s: error of %d bytes not naming the file: %.300s", name, len(err.Error()), err)
		}
		for _, f := range res.Files {
			if err == nil && !f.Report.Reconciles() {
				t.Errorf("%s: does not reconcile: %+v", name, f.Report)
			}
		}
		if n := listed(t, db); n != 0 {
			t.Errorf("%s: %d list hits invented", name, n)
		}
		t.Logf("%s: err=%.120v", name, err)
		db.Close()
	}
}
