package store

import (
	"context"
	"testing"

	"casegraph/graph"
)

// listed is a stub as a watch list leaves it for an entity the case does
// not hold yet.
func listed(ref graph.Ref) graph.Entity {
	return graph.Entity{Ref: ref, Stub: true, Props: map[string]string{"list_status": "black", "birth_date": "1901-01-01"},
		Src: graph.Provenance{File: "list.csv", Line: 2}}
}

func full(ref graph.Ref) graph.Entity {
	return graph.Entity{Ref: ref, Name: "Ахметов Ерлан", Props: map[string]string{"birth_date": "1985-03-12"},
		Src: graph.Provenance{File: "persons.csv", Line: 7}}
}

func checkListed(t *testing.T, db *DB, ref graph.Ref) {
	t.Helper()
	e := mustEntity(t, db, ref)
	if e.Stub || e.Name != "Ахметов Ерлан" || e.Props["list_status"] != "black" || e.Props["birth_date"] != "1985-03-12" {
		t.Errorf("entity %+v: want the full entity, its own birth date, and the list's status", e)
	}
}

// TestStubPropertiesPassToFullEntity: a watch list imported before the
// entities it names leaves stubs with list_status; the full entities
// imported later keep it, in one bulk import (through the merge, with the
// stub in another spilled run) and in a later incremental one.
func TestStubPropertiesPassToFullEntity(t *testing.T) {
	a, b, c := personRef(1), personRef(2), personRef(3)
	t.Run("bulk", func(t *testing.T) {
		db := openTemp(t)
		l, err := db.NewLoader()
		if err != nil {
			t.Fatal(err)
		}
		l.spillBytes = 4 << 10
		put(t, l, records{ents: []graph.Entity{listed(a), listed(b)}})
		put(t, l, dataset(5, 200)) // spills in between
		if err := l.PutEntity(full(a)); err != nil {
			t.Fatal(err)
		}
		if err := l.PutEntity(full(b)); err != nil {
			t.Fatal(err)
		}
		if len(l.runs) < 2 {
			t.Fatalf("%d runs: the stub and the full entity should be in different runs", len(l.runs))
		}
		if err := l.Finish(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		checkListed(t, db, a)
		checkListed(t, db, b)
		if s, _ := db.Stats(ctx); s.Stubs != 1 {
			t.Errorf("%d stubs counted, want only the data set's ATM (the listed persons are held in full)", s.Stubs)
		}
	})
	t.Run("incremental", func(t *testing.T) {
		db := openTemp(t)
		load(t, db, records{ents: []graph.Entity{listed(c)}})
		load(t, db, records{ents: []graph.Entity{full(c)}})
		checkListed(t, db, c)
		// and a stub put and overtaken within one incremental import
		load(t, db, records{ents: []graph.Entity{listed(a), full(a)}})
		checkListed(t, db, a)
	})
}
