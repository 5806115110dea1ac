package store

import (
	"context"
	"reflect"
	"testing"

	"casegraph/graph"
)

// labels is a NameSource of fixed labels, counting its answers.
type labels struct {
	m     map[graph.Ref]string
	asked int
}

func (l *labels) Label(r graph.Ref) (string, bool) {
	l.asked++
	s, ok := l.m[r]
	return s, ok
}

// TestNamesFromSource: with a name source of the data the database holds,
// neighbour and holding rows are named from it, and the same as from the
// store when it is the search index; an entity it lacks is named from the
// store; after an import changes the data, the store names them again.
func TestNamesFromSource(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	r := dataset(12, 200)
	r.ents = append(r.ents, graph.Entity{Ref: cardRef(3), Name: graph.RefTitle(cardRef(3))}) // a name that is only its reference
	load(t, db, r)
	person := personRef(4)
	read := func() ([]graph.Neighbor, graph.Holdings) {
		t.Helper()
		nbs, _, err := db.Neighbors(ctx, cardRef(1), 0)
		if err != nil {
			t.Fatal(err)
		}
		h, err := db.Holdings(ctx, person, 10)
		if err != nil {
			t.Fatal(err)
		}
		return nbs, h
	}
	fromStore, heldStore := read()
	named := 0
	for _, n := range fromStore {
		if n.Name != "" {
			named++
		}
		if n.Ref == cardRef(3) && n.Name != "" {
			t.Errorf("%s is named %q, only its reference", n.Ref, n.Name)
		}
	}
	if named == 0 || len(heldStore.Items) == 0 {
		t.Fatalf("nothing named: %+v %+v", fromStore, heldStore)
	}

	stamp, err := db.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	var docs []graph.SearchDoc
	if err := db.SearchDocs(ctx, func(d graph.SearchDoc) error { docs = append(docs, d); return nil }); err != nil {
		t.Fatal(err)
	}
	db.UseNames(graph.NewSearchIndex(docs), stamp)
	nbs, held := read()
	if !reflect.DeepEqual(nbs, fromStore) || !reflect.DeepEqual(held, heldStore) {
		t.Fatalf("named from the search index:\n%+v\n%+v\nfrom the store:\n%+v\n%+v", nbs, held, fromStore, heldStore)
	}

	// A source that says otherwise is what names the rows; what it lacks
	// comes from the store.
	src := &labels{m: map[graph.Ref]string{}}
	for _, n := range fromStore {
		if n.Ref.Kind == graph.KindPerson {
			src.m[n.Ref] = "from the source " + n.Ref.Key
		}
	}
	db.UseNames(src, stamp)
	nbs, _ = read()
	for i, n := range nbs {
		want := fromStore[i].Name
		if s, ok := src.m[n.Ref]; ok {
			want = s
		}
		if n.Name != want {
			t.Errorf("row %d %s: %q, want %q", i, n.Ref, n.Name, want)
		}
	}
	if src.asked == 0 || len(src.m) == 0 {
		t.Fatalf("source asked %d times for %d persons", src.asked, len(src.m))
	}

	// Another import: the source is of other data now.
	more := records{ents: []graph.Entity{{Ref: personRef(900), Name: "Новый"}}}
	load(t, db, more)
	asked := src.asked
	nbs, _ = read()
	if src.asked != asked {
		t.Errorf("the source of older data was asked %d times", src.asked-asked)
	}
	if !reflect.DeepEqual(nbs, fromStore) {
		t.Errorf("after the import:\n%+v\nwant\n%+v", nbs, fromStore)
	}
	db.UseNames(nil, Stamp{})
	if nbs, _ = read(); !reflect.DeepEqual(nbs, fromStore) {
		t.Error("without a source the rows differ")
	}
}
