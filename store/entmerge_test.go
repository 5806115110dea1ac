package store

import (
	"context"
	"testing"
	"time"

	"casegraph/graph"
)

// versions are records of one person as several files (or rows of one file)
// give it: each later one lacks something an earlier one gave, and the
// last gives a value of its own.
func versions(ref graph.Ref) []graph.Entity {
	src := func(f string, line int) graph.Provenance {
		return graph.Provenance{File: f, Line: line, Batch: 1}
	}
	return []graph.Entity{
		{Ref: ref, Name: "Ivanov Ivan", Props: map[string]string{"phone": "+77015551234", "birth_date": "1985-03-12"}, Src: src("persons.csv", 2)},
		{Ref: ref, Name: "Ivanov Ivan", Props: map[string]string{"birth_date": "1985-03-12", "email": "ivanov@example.kz"}, Src: src("holders.csv", 5)},
		{Ref: ref, Props: map[string]string{"city": "Алматы", "phone": ""}, Src: src("cards.csv", 9)},
	}
}

// checkKept asserts that ref holds every name and property its versions
// gave, with the last version's provenance.
func checkKept(t *testing.T, db *DB, ref graph.Ref) {
	t.Helper()
	e := mustEntity(t, db, ref)
	want := map[string]string{"phone": "+77015551234", "birth_date": "1985-03-12", "email": "ivanov@example.kz", "city": "Алматы"}
	for k, v := range want {
		if e.Props[k] != v {
			t.Errorf("%s: %s = %q, want %q (props %v)", ref.Key, k, e.Props[k], v, e.Props)
		}
	}
	if e.Stub || e.Name != "Ivanov Ivan" {
		t.Errorf("%s: stub %v, name %q; want the full entity named Ivanov Ivan", ref.Key, e.Stub, e.Name)
	}
	if e.Src.File != "cards.csv" || e.Src.Line != 9 {
		t.Errorf("%s: provenance %s:%d, want the last record's cards.csv:9", ref.Key, e.Src.File, e.Src.Line)
	}
}

func putEntities(t *testing.T, l *Loader, es ...graph.Entity) {
	t.Helper()
	for _, e := range es {
		if err := l.PutEntity(e); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBulkKeepsWhatALaterRecordLacks: within one bulk import a later record
// of an entity that lacks a name or a property an earlier record gave keeps
// it, wherever the records meet: in one spilled run, across runs, in the
// last buffer (sorted whole or in halves). The later record's values and
// provenance win. Before, the last record replaced the others whole.
func TestBulkKeepsWhatALaterRecordLacks(t *testing.T) {
	finish := func(t *testing.T, l *Loader) {
		t.Helper()
		if err := l.Finish(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("across files and runs", func(t *testing.T) {
		db := openTemp(t)
		l, err := db.NewLoader()
		if err != nil {
			t.Fatal(err)
		}
		l.spillBytes = 4 << 10
		a, b, c := personRef(90001), personRef(90002), personRef(90003)
		va, vb, vc := versions(a), versions(b), versions(c)
		// a: two versions in the first run, the third in a later run;
		// b: one version per run; c: the first in a run, the others in the
		// last buffer.
		put(t, l, records{ents: []graph.Entity{va[0], va[1], vb[0], vc[0]}})
		put(t, l, dataset(5, 200))
		put(t, l, records{ents: []graph.Entity{vb[1]}})
		put(t, l, dataset(5, 200))
		put(t, l, records{ents: []graph.Entity{va[2], vb[2], vc[1], vc[2]}})
		if len(l.runs) < 2 {
			t.Fatalf("%d runs: the versions should be spread over several", len(l.runs))
		}
		finish(t, l)
		for _, r := range []graph.Ref{a, b, c} {
			checkKept(t, db, r)
		}
	})
	t.Run("one file, one buffer", func(t *testing.T) {
		db := openTemp(t)
		l, err := db.NewLoader()
		if err != nil {
			t.Fatal(err)
		}
		a := personRef(90001)
		putEntities(t, l, versions(a)...)
		put(t, l, dataset(5, 20))
		if len(l.runs) != 0 {
			t.Fatalf("%d runs, want none", len(l.runs))
		}
		finish(t, l)
		checkKept(t, db, a)
	})
	t.Run("one buffer sorted in halves", func(t *testing.T) {
		// Over 1<<14 keys make the sort cut the buffer (memRun.sort); the
		// versions are put first, in the middle and last.
		db := openTemp(t)
		l, err := db.NewLoader()
		if err != nil {
			t.Fatal(err)
		}
		a := personRef(90001)
		v := versions(a)
		putEntities(t, l, v[0])
		put(t, l, dataset(4000, 4000))
		putEntities(t, l, v[1])
		put(t, l, dataset(4000, 4000))
		putEntities(t, l, v[2])
		if len(l.runs) != 0 || len(l.buf.ents) < 1<<14 {
			t.Fatalf("%d runs, %d keys buffered: want one buffer of over %d", len(l.runs), len(l.buf.ents), 1<<14)
		}
		finish(t, l)
		checkKept(t, db, a)
	})
	t.Run("identical and later-wins", func(t *testing.T) {
		db := openTemp(t)
		l, err := db.NewLoader()
		if err != nil {
			t.Fatal(err)
		}
		a := personRef(90001)
		e := graph.Entity{Ref: a, Name: "Ivanov Ivan", Props: map[string]string{"list_status": "grey"}, Src: graph.Provenance{File: "a.csv", Line: 2}}
		later := e
		later.Props = map[string]string{"list_status": "black"}
		later.Src.Line = 3
		putEntities(t, l, e, e, later)
		finish(t, l)
		got := mustEntity(t, db, a)
		if got.Props["list_status"] != "black" || got.Src.Line != 3 || len(got.Props) != 1 {
			t.Errorf("got %+v: want the later record's list_status and line", got)
		}
	})
}

// TestIncrementalKeepsWhatALaterRecordLacks: the same within one
// incremental import, whose earlier record is not committed yet when the
// later one comes (one file), or is (another import).
func TestIncrementalKeepsWhatALaterRecordLacks(t *testing.T) {
	db := openTemp(t)
	load(t, db, dataset(5, 20))
	a, b := personRef(90001), personRef(90002)
	va, vb := versions(a), versions(b)
	load(t, db, records{ents: va})
	checkKept(t, db, a)
	load(t, db, records{ents: vb[:1]})
	load(t, db, records{ents: vb[1:]})
	checkKept(t, db, b)
	if l, err := db.NewLoader(); err != nil || l.Bulk() {
		t.Fatalf("loader %v, err %v: want an incremental one", l, err)
	} else {
		_ = l.Abort()
	}
}

// repeated is n persons, each given twice: by a first record and by a
// later one that lacks its phone and gives an email (the worst case of the
// combining merge: every entity key repeats with other data).
func repeated(n int) records {
	var r records
	for i := range n {
		p := personRef(i)
		r.ents = append(r.ents, graph.Entity{Ref: p, Name: "Ахметов", Props: map[string]string{"phone": "+77015551234", "birth_date": "1985-03-12"},
			Src: graph.Provenance{File: "persons.csv", Line: i + 2, Batch: 1}})
	}
	for i := range n {
		p := personRef(i)
		r.ents = append(r.ents, graph.Entity{Ref: p, Name: "Ахметов", Props: map[string]string{"email": "a@example.kz", "birth_date": "1985-03-12"},
			Src: graph.Provenance{File: "holders.csv", Line: i + 2, Batch: 1}})
	}
	return r
}

// BenchmarkBulkLoadRepeatedEntities bulk-loads 200k records of 100k
// persons, each person twice with other properties (spilled in runs of
// 4 MiB, so the records meet within runs and across them).
func BenchmarkBulkLoadRepeatedEntities(b *testing.B) {
	r := repeated(100_000)
	benchEntities(b, r, false)
}

// BenchmarkIncrementalLoadEntities loads 40k records of 20k persons, each
// twice, into a non-empty database.
func BenchmarkIncrementalLoadEntities(b *testing.B) {
	benchEntities(b, repeated(20_000), true)
}

func benchEntities(b *testing.B, r records, incremental bool) {
	var total time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		db, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		if incremental {
			load(b, db, dataset(5, 20))
		}
		l, err := db.NewLoader()
		if err != nil {
			b.Fatal(err)
		}
		l.spillBytes = 4 << 20
		b.StartTimer()
		start := time.Now()
		put(b, l, r)
		if err := l.Finish(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		n++
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(r.ents)*n)/total.Seconds(), "rows/s")
}
