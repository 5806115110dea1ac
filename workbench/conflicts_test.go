package workbench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/importers/profile"
	"casegraph/internal/hostile"
	"casegraph/store"
)

// conflictRun is a database and a folder to write input files into.
type conflictRun struct {
	t   *testing.T
	dir string
	db  *store.DB
	b   *Workbench
}

func newConflictRun(t *testing.T) *conflictRun {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &conflictRun{t: t, dir: dir, db: db, b: New(db, "test")}
}

// write writes the files (name, content, name, content…) and returns their
// paths in that order.
func (r *conflictRun) write(kv ...string) []string {
	var paths []string
	for i := 0; i+1 < len(kv); i += 2 {
		p := filepath.Join(r.dir, kv[i])
		if err := os.WriteFile(p, []byte(kv[i+1]), 0o600); err != nil {
			r.t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// run imports paths in one run (through prof when not nil) and returns the
// rejects by file, after checking that every file reconciles.
func (r *conflictRun) run(prof *profile.Profile, paths ...string) (ImportResult, map[string][]string) {
	r.t.Helper()
	res, err := r.b.Import(context.Background(), paths, filepath.Join(r.t.TempDir(), "rejects.csv"), nil, prof)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string][]string{}
	for _, f := range res.Files {
		rep := f.Report
		if !rep.Reconciles() || rep.Read != rep.Imported+rep.Rejected+rep.Skipped {
			r.t.Errorf("%s does not reconcile: %+v", f.Path, rep)
		}
		for _, rj := range rep.Rejects {
			out[filepath.Base(f.Path)] = append(out[filepath.Base(f.Path)], rj.Reason)
		}
	}
	return res, out
}

// wantRejects checks that file has exactly the rejects given, each holding
// both places (file:line).
func wantRejects(t *testing.T, got map[string][]string, file string, places ...[2]string) {
	t.Helper()
	if len(got[file]) != len(places) {
		t.Errorf("%s: rejects %q, want %d", file, got[file], len(places))
		return
	}
	for i, p := range places {
		r := got[file][i]
		if !strings.Contains(r, "conflicting duplicate") || !strings.Contains(r, p[0]) || !strings.Contains(r, p[1]) {
			t.Errorf("%s: reject %q, want it naming %s and %s", file, r, p[0], p[1])
		}
	}
}

func (r *conflictRun) name(ref graph.Ref) string {
	e, err := r.db.Entity(context.Background(), ref)
	if err != nil {
		r.t.Fatalf("%s: %v", ref, err)
	}
	return e.Name
}

func (r *conflictRun) amount(id string) int64 {
	tx, err := r.db.Txn(context.Background(), id)
	if err != nil {
		r.t.Fatalf("%s: %v", id, err)
	}
	return tx.Amount
}

// TestConflictAcrossFilesOfOneRun: in one bulk import into an empty
// database, a person, a transaction, an FtM person and a goAML transaction
// that a later file gives different data are rejected naming both files and
// lines; the first is kept; identical records in another file pass.
func TestConflictAcrossFilesOfOneRun(t *testing.T) {
	r := newConflictRun(t)
	x, y := hostile.IIN(1), hostile.IIN(2)
	paths := r.write(
		"a_persons.csv", "iin,name\n"+x+",Ivanov Ivan\n",
		"b_persons.csv", "iin,name\n"+y+",Other Person\n"+x+",Petrov Petr\n",
		"c_persons.csv", "iin,name\n"+x+",Ivanov Ivan\n"+hostile.IIN(3)+",Third\n", // x identical: passes
		"a_tx.csv", hostile.TxnHeader+hostile.Txn("T1", "2025-03-15 10:00", 1, 2, "100"),
		"b_tx.csv", hostile.TxnHeader+hostile.Txn("T2", "2025-03-15 10:00", 1, 2, "5")+hostile.Txn("T1", "2025-03-15 10:00", 1, 2, "999"),
		"f1.json", hostile.FtMPerson("p1", 5, "Name A"),
		"f2.json", hostile.FtMPerson("q1", 5, "Name B"), // another FtM id, the same IIN
		"g1.xml", string(hostile.GoAML(hostile.GoAMLTxn("7", "100"))),
		"g2.xml", string(hostile.GoAML(hostile.GoAMLTxn("8", "1")+hostile.GoAMLTxn("7", "999"))),
	)
	res, got := r.run(nil, paths...)
	if !res.Bulk {
		t.Fatal("want a bulk import into the empty database")
	}
	wantRejects(t, got, "b_persons.csv", [2]string{"b_persons.csv:3", "a_persons.csv:2"})
	wantRejects(t, got, "c_persons.csv")
	wantRejects(t, got, "b_tx.csv", [2]string{"b_tx.csv:3", "a_tx.csv:2"})
	wantRejects(t, got, "f2.json", [2]string{"f2.json:1", "f1.json:1"})
	wantRejects(t, got, "g2.xml", [2]string{"g2.xml:4", "g1.xml:3"})
	if n := r.name(graph.Ref{Kind: graph.KindPerson, Key: x}); n != "IVANOV IVAN" && n != "Ivanov Ivan" {
		t.Errorf("person renamed to %q", n)
	}
	if n := r.name(graph.Ref{Kind: graph.KindPerson, Key: hostile.IIN(5)}); !strings.EqualFold(n, "Name A") {
		t.Errorf("FtM person renamed to %q", n)
	}
	if a := r.amount("T1"); a != 10000 {
		t.Errorf("T1 amount %d, want the first file's", a)
	}
	if a := r.amount("goaml:1:7"); a != 10000 {
		t.Errorf("goAML transaction 7 amount %d, want the first file's", a)
	}
}

// TestConflictWithEarlierImportEveryFormat: FtM and goAML records that an
// earlier import stored are checked too: different data is rejected naming
// both places and the stored record kept; identical records pass.
func TestConflictWithEarlierImportEveryFormat(t *testing.T) {
	r := newConflictRun(t)
	first := r.write(
		"f1.json", hostile.FtMPerson("p1", 5, "Name A")+hostile.FtMPerson("p2", 6, "Name C")+hostile.FtMPayment("pay1", "100")+"\n",
		"g1.xml", string(hostile.GoAML(hostile.GoAMLTxn("7", "100"))),
	)
	r.run(nil, first...)
	second := r.write(
		"f2.json", hostile.FtMPerson("p1", 5, "Name B")+hostile.FtMPerson("p2", 6, "Name C")+hostile.FtMPayment("pay1", "999")+"\n",
		"g2.xml", string(hostile.GoAML(hostile.GoAMLTxn("7", "999")+hostile.GoAMLTxn("8", "1"))),
		"g3.xml", string(hostile.GoAML(hostile.GoAMLTxn("7", "100")+hostile.GoAMLTxn("9", "1"))), // 7 identical: passes
	)
	res, got := r.run(nil, second...)
	if res.Bulk {
		t.Fatal("want an incremental import")
	}
	wantRejects(t, got, "f2.json", [2]string{"f2.json:1", "f1.json:1"}, [2]string{"f2.json:3", "f1.json:3"})
	wantRejects(t, got, "g2.xml", [2]string{"g2.xml:3", "g1.xml:3"})
	wantRejects(t, got, "g3.xml")
	if n := r.name(graph.Ref{Kind: graph.KindPerson, Key: hostile.IIN(5)}); !strings.EqualFold(n, "Name A") {
		t.Errorf("FtM person renamed to %q", n)
	}
	if a := r.amount("ftm:pay1"); a != 10000 {
		t.Errorf("FtM payment amount %d, want the stored one", a)
	}
	if a := r.amount("goaml:1:7"); a != 10000 {
		t.Errorf("goAML transaction 7 amount %d, want the stored one", a)
	}
}

const conflictProfile = `name: conflicts
files:
  - match: "*.csv"
    records:
      - txn:
          id: "{id}"
          time: {value: "{date}", format: iso}
          from: {kind: person, key: "{iin}", validate: true}
          to: {kind: account, key: "p:{to}"}
          amount: {value: "{amount}"}
      - entity:
          ref: {kind: person, key: "{iin}", validate: true}
          name: "{name}"
`

// TestConflictThroughProfile: a mapping profile's entities and transactions
// are checked within a file, across the files of one run and against an
// earlier import.
func TestConflictThroughProfile(t *testing.T) {
	prof, err := profile.Parse([]byte(conflictProfile))
	if err != nil {
		t.Fatal(err)
	}
	r := newConflictRun(t)
	x, y := hostile.IIN(1), hostile.IIN(2)
	const head = "id,date,iin,name,to,amount\n"
	row := func(id, iin, name, amount string) string {
		return id + ",2025-03-15 10:00," + iin + "," + name + ",b," + amount + "\n"
	}
	_, got := r.run(prof, r.write(
		"p1.csv", head+row("T1", x, "Ivanov Ivan", "100")+row("T2", x, "Petrov Petr", "5")+row("T3", x, "Ivanov Ivan", "6"),
		"p2.csv", head+row("T4", x, "Sidorov Sid", "7")+row("T1", x, "Ivanov Ivan", "999")+row("T5", y, "Y Person", "8"),
	)...)
	wantRejects(t, got, "p1.csv", [2]string{"p1.csv:3", "p1.csv:2"})
	wantRejects(t, got, "p2.csv", [2]string{"p2.csv:2", "p1.csv:2"}, [2]string{"p2.csv:3", "p1.csv:2"})
	_, got = r.run(prof, r.write(
		"p3.csv", head+row("T6", y, "Changed Name", "9")+row("T5", y, "Y Person", "8")+row("T1", x, "Ivanov Ivan", "100"),
	)...)
	wantRejects(t, got, "p3.csv", [2]string{"p3.csv:2", "p2.csv:4"})
	if n := r.name(graph.Ref{Kind: graph.KindPerson, Key: x}); !strings.EqualFold(n, "Ivanov Ivan") {
		t.Errorf("person renamed to %q", n)
	}
	if a := r.amount("T1"); a != 10000 {
		t.Errorf("T1 amount %d", a)
	}
}

type discardSink struct{}

func (discardSink) PutEntity(graph.Entity) error { return nil }
func (discardSink) PutLink(graph.Link) error     { return nil }
func (discardSink) PutTxn(graph.Txn) error       { return nil }

// BenchmarkConflictCheckTxn is what the run's conflict check adds to each
// transaction of a bulk import (no store reads): hashing, one map lookup
// and, for the first maxIDs ids, one insert.
func BenchmarkConflictCheckTxn(b *testing.B) {
	c := newConflictCheck(context.Background(), discardSink{}, nil)
	t := graph.Txn{From: graph.Ref{Kind: graph.KindCard, Key: hostile.PAN(1)}, To: graph.Ref{Kind: graph.KindCard, Key: hostile.PAN(2)},
		Amount: 100, Currency: "KZT", Src: graph.Provenance{File: "tx.csv"}}
	ids := make([]string, 1<<20)
	for i := range ids {
		ids[i] = "T" + strconv.Itoa(i)
	}
	i := 0
	for b.Loop() {
		t.ID, t.Src.Line = ids[i&(1<<20-1)], i
		i++
		if err := c.PutTxn(t); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLaterImportKeepsWhatItLacks: an entity imported again by a record
// that lacks some of what is stored (a list's status, a property of the
// earlier file) keeps it: an import adds to what the database holds and
// never drops a value unseen.
func TestLaterImportKeepsWhatItLacks(t *testing.T) {
	r := newConflictRun(t)
	x := hostile.IIN(1)
	r.run(nil, r.write("p1.csv", "iin,name,phone\n"+x+",Ivanov Ivan,+77015551234\n")...)
	r.run(nil, r.write("watch.csv", "iin,list_status\n"+x+",black\n")...)
	_, got := r.run(nil, r.write("p2.csv", "iin,name,email\n"+x+",Ivanov Ivan,ivanov@example.kz\n")...)
	wantRejects(t, got, "p2.csv")
	e, err := r.db.Entity(context.Background(), graph.Ref{Kind: graph.KindPerson, Key: x})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"list_status": "black", "phone": "+77015551234", "email": "ivanov@example.kz"} {
		if e.Props[k] != want {
			t.Errorf("%s = %q, want %q (props %v)", k, e.Props[k], want, e.Props)
		}
	}
}

// TestBulkRunKeepsWhatALaterRecordLacks: within one bulk import into an
// empty database, a later file's record of a person that lacks what an
// earlier file of the run gave keeps it (the store's merge combines them;
// before, the last record replaced the others and the phone was lost
// unseen). Records of one file are combined the same way: two FtM records
// keying one person (a canonical file's rows of one key must be identical
// anyway, TestHostileConflictingDuplicates).
func TestBulkRunKeepsWhatALaterRecordLacks(t *testing.T) {
	r := newConflictRun(t)
	x := hostile.IIN(1)
	files := []string{"p1.csv", "p2.csv", "p3.csv"}
	_, got := r.run(nil, r.write(
		files[0], "iin,name,phone\n"+x+",Ivanov Ivan,+77015551234\n",
		files[1], "iin,name,email\n"+x+",Ivanov Ivan,ivanov@example.kz\n",
		files[2], "iin,name,city\n"+x+",Ivanov Ivan,Алматы\n",
	)...)
	for _, f := range files {
		wantRejects(t, got, f)
	}
	e, err := r.db.Entity(context.Background(), graph.Ref{Kind: graph.KindPerson, Key: x})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"phone": "+77015551234", "email": "ivanov@example.kz", "city": "Алматы"} {
		if e.Props[k] != v {
			t.Errorf("%s = %q, want %q (props %v)", k, e.Props[k], v, e.Props)
		}
	}
	if e.Src.File != "p3.csv" {
		t.Errorf("provenance %s:%d, want the last record's p3.csv", e.Src.File, e.Src.Line)
	}

	// Within one file: two FtM records (two ids) that key one person by
	// IIN, the second without the first's phone.
	r = newConflictRun(t)
	y := hostile.IIN(2)
	person := func(id, prop, v string) string {
		return `{"id":"` + id + `","schema":"Person","properties":{"name":["Petrov Petr"],"idNumber":["` + y +
			`"],"country":["kz"],"` + prop + `":["` + v + `"]}}` + "\n"
	}
	_, got = r.run(nil, r.write("f.json", person("q1", "phone", "+77015551234")+person("q2", "birthDate", "1950-01-01"))...)
	wantRejects(t, got, "f.json")
	e, err = r.db.Entity(context.Background(), graph.Ref{Kind: graph.KindPerson, Key: y})
	if err != nil {
		t.Fatal(err)
	}
	if e.Props["phone"] != "+77015551234" || e.Props["birth_date"] != "1950-01-01" || e.Props["ftm_id"] != "q2" || e.Src.Line != 2 {
		t.Errorf("FtM person %v from %s:%d: want q1's phone and q2's birth date, id and line", e.Props, e.Src.File, e.Src.Line)
	}
}
