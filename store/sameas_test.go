package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
)

var analyst = Actor{User: "analyst", Time: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}

func sameAsRows(t *testing.T, db *DB, ref graph.Ref) []graph.Neighbor {
	t.Helper()
	rows, _, err := db.Neighbors(context.Background(), ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []graph.Neighbor
	for _, r := range rows {
		if r.Relation == "same_as" {
			out = append(out, r)
		}
	}
	return out
}

func TestAddAndRemoveLinkBothDirections(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openAt(t, dir)
	load(t, db, dataset(3, 10))
	st0, err := db.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := db.Stats(ctx)

	a, b := personRef(0), personRef(1)
	l := graph.Link{From: a, To: b, Type: graph.LinkSameAs, Role: "score=0.93;method=skeleton+dob;decision=accepted",
		Src: graph.Provenance{File: "resolve"}}
	got, err := db.AddLink(ctx, analyst, l)
	if err != nil {
		t.Fatal(err)
	}
	if got.Src.Batch != uint32(len(before.Batches))+1 || got.Src.File != "resolve" {
		t.Errorf("added link provenance = %+v, want batch %d of file resolve", got.Src, len(before.Batches)+1)
	}
	if rows := sameAsRows(t, db, a); len(rows) != 1 || rows[0].Ref != b || rows[0].Dir != graph.DirOut || rows[0].Name != "Ахметов 1" {
		t.Errorf("same_as rows of A = %+v", rows)
	}
	if rows := sameAsRows(t, db, b); len(rows) != 1 || rows[0].Ref != a || rows[0].Dir != graph.DirIn {
		t.Errorf("same_as rows of B = %+v", rows)
	}
	s, _ := db.Stats(ctx)
	if s.Links[graph.LinkSameAs] != 1 || s.Links[graph.LinkHolds] != before.Links[graph.LinkHolds] {
		t.Errorf("links after add = %v", s.Links)
	}
	if n := len(s.Batches); n != len(before.Batches)+1 || s.Batches[n-1].Format != "same_as" || s.Batches[n-1].Imported != 1 {
		t.Errorf("batches after add = %+v", s.Batches)
	}
	st1, _ := db.Stamp()
	if st1 == st0 {
		t.Error("stamp unchanged by AddLink")
	}
	// Writing the same link again replaces it, it does not count twice.
	if _, err := db.AddLink(ctx, analyst, l); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Stats(ctx); s.Links[graph.LinkSameAs] != 1 {
		t.Errorf("same_as count after re-add = %d", s.Links[graph.LinkSameAs])
	}
	links, err := db.Links(ctx, graph.LinkSameAs)
	if err != nil || len(links) != 1 || links[0].Role != l.Role || links[0].From != a {
		t.Fatalf("Links(same_as) = %+v, %v", links, err)
	}

	st2, _ := db.Stamp()
	old, err := db.RemoveLink(ctx, analyst, graph.Link{From: a, To: b, Type: graph.LinkSameAs})
	if err != nil {
		t.Fatal(err)
	}
	if old.Role != l.Role || old.Src.File != "resolve" {
		t.Errorf("removed link = %+v", old)
	}
	if rows := sameAsRows(t, db, a); len(rows) != 0 {
		t.Errorf("A still has same_as rows %+v", rows)
	}
	if rows := sameAsRows(t, db, b); len(rows) != 0 {
		t.Errorf("B still has same_as rows %+v", rows)
	}
	s, _ = db.Stats(ctx)
	if _, ok := s.Links[graph.LinkSameAs]; ok || s.Links[graph.LinkHolds] != before.Links[graph.LinkHolds] {
		t.Errorf("links after remove = %v", s.Links)
	}
	if st3, _ := db.Stamp(); st3 == st2 || st3 == st0 {
		t.Error("stamp after RemoveLink equals an earlier one")
	}
	if _, err := db.RemoveLink(ctx, analyst, graph.Link{From: a, To: b, Type: graph.LinkSameAs}); !errors.Is(err, ErrNotFound) {
		t.Errorf("second remove: %v, want ErrNotFound", err)
	}
	// The other links are untouched.
	if rows, _, _ := db.Neighbors(ctx, a, 0); len(rows) == 0 || rows[0].Relation != "holds" {
		t.Errorf("neighbours of A after remove = %+v", rows)
	}

	j, err := db.Journal(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range j {
		acts = append(acts, e.Action)
	}
	if strings.Join(acts, ",") != "link.add,link.add,link.remove" {
		t.Errorf("journal actions = %v", acts)
	}
	var d linkDetail
	if err := json.Unmarshal(j[2].Detail, &d); err != nil || d.Role != l.Role || d.From != a.String() || d.Type != "same_as" {
		t.Errorf("remove detail = %+v, %v", d, err)
	}
	if rep, err := db.VerifyJournal(ctx); err != nil || !rep.OK {
		t.Errorf("journal verify = %+v, %v", rep, err)
	}

	// Everything survives a reopen.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, dir)
	if links, err := db.Links(ctx, graph.LinkSameAs); err != nil || len(links) != 0 {
		t.Errorf("same_as links after reopen = %+v, %v", links, err)
	}
	if s, _ := db.Stats(ctx); len(s.Batches) != len(before.Batches)+2 {
		t.Errorf("%d batches after reopen, want %d", len(s.Batches), len(before.Batches)+2)
	}
}

func TestLinkEditsAfterImportKeepCountsRight(t *testing.T) {
	// A later incremental import recounts the links from the rows: the
	// counts an edit wrote must agree with that.
	ctx := context.Background()
	db := openTemp(t)
	load(t, db, dataset(3, 10))
	if _, err := db.AddLink(ctx, analyst, graph.Link{From: personRef(0), To: personRef(2), Type: graph.LinkSameAs, Role: "score=1.00;method=phone"}); err != nil {
		t.Fatal(err)
	}
	edited, _ := db.Stats(ctx)
	load(t, db, records{ents: []graph.Entity{{Ref: personRef(9), Name: "Ахметов 9"}}})
	after, _ := db.Stats(ctx)
	if after.Links[graph.LinkSameAs] != edited.Links[graph.LinkSameAs] || after.Links[graph.LinkHolds] != edited.Links[graph.LinkHolds] {
		t.Errorf("links after edit %v, after recount %v", edited.Links, after.Links)
	}
	if len(after.Batches) != len(edited.Batches)+1 {
		t.Errorf("batches after edit %d, after import %d", len(edited.Batches), len(after.Batches))
	}
}

func TestLinkEditErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openAt(t, dir)
	load(t, db, dataset(2, 2))
	if _, err := db.AddLink(ctx, analyst, graph.Link{From: personRef(0), Type: graph.LinkSameAs}); err == nil {
		t.Error("link without a target accepted")
	}
	if _, err := db.AddLink(ctx, analyst, graph.Link{From: personRef(0), To: personRef(1), Type: graph.LinkType(200)}); err == nil {
		t.Error("unknown link type accepted")
	}
	if _, err := db.AddLink(ctx, Actor{}, graph.Link{From: personRef(0), To: personRef(1), Type: graph.LinkSameAs}); err == nil {
		t.Error("link without an actor accepted (journal needs a user)")
	}
	if links, _ := db.Links(ctx, graph.LinkSameAs); len(links) != 0 {
		t.Errorf("a failed add left links %+v", links)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.RemoveLink(cctx, analyst, graph.Link{From: personRef(0), To: cardRef(0), Type: graph.LinkHolds}); !errors.Is(err, context.Canceled) {
		t.Errorf("remove with a cancelled context: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.RemoveLink(ctx, analyst, graph.Link{From: personRef(0), To: cardRef(0), Type: graph.LinkHolds}); err == nil {
		t.Error("remove on a read-only database succeeded")
	}
	if _, err := ro.RejectMatch(ctx, analyst, Rejection{A: personRef(0), B: personRef(1)}); err == nil {
		t.Error("reject on a read-only database succeeded")
	}
}

func TestRejectionsPersistInPairOrder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openAt(t, dir)
	a, b, c := personRef(1), personRef(0), personRef(2)
	got, err := db.RejectMatch(ctx, analyst, Rejection{A: a, B: b, Score: 0.91, Method: "skeleton+dob"})
	if err != nil {
		t.Fatal(err)
	}
	if got.A != b || got.B != a || got.User != "analyst" {
		t.Errorf("rejection = %+v, want the pair ordered and the user set", got)
	}
	if _, err := db.RejectMatch(ctx, analyst, Rejection{A: c, B: a, Score: 0.88, Method: "skeleton+dob"}); err != nil {
		t.Fatal(err)
	}
	// The same pair in the other order replaces the first record.
	if _, err := db.RejectMatch(ctx, analyst, Rejection{A: b, B: a, Score: 0.95, Method: "skeleton+dob"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, dir)
	rs, err := db.Rejections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].A != b || rs[0].B != a || rs[0].Score != 0.95 || rs[1].A != a || rs[1].B != c {
		t.Fatalf("rejections = %+v", rs)
	}
	if !rs[0].Time.Equal(analyst.Time) || rs[0].Method != "skeleton+dob" {
		t.Errorf("rejection record = %+v", rs[0])
	}
	j, _ := db.Journal(ctx, "")
	if len(j) != 3 || j[0].Action != ActMatchReject {
		t.Errorf("journal = %+v", j)
	}
	// Rejections are not data: the stamp of derived snapshots ignores them.
	st, _ := db.Stamp()
	if _, err := db.RejectMatch(ctx, analyst, Rejection{A: a, B: personRef(5)}); err != nil {
		t.Fatal(err)
	}
	if st2, _ := db.Stamp(); st2 != st {
		t.Error("a rejection changed the data stamp")
	}
}

func TestNotSameKeyParse(t *testing.T) {
	a, b := personRef(7), graph.Ref{Kind: graph.KindOrganisation, Key: "Q-1"}
	k := notSameKey(b, a)
	ga, gb, err := parseNotSameKey(k)
	if err != nil || ga != a || gb != b {
		t.Errorf("parse(notSameKey) = %v %v %v", ga, gb, err)
	}
	for _, bad := range [][]byte{nil, {pfxNotSame}, {pfxEntity, 1, 0, 1, 'x'}, append(k[:len(k):len(k)], 0), k[:len(k)-1]} {
		if _, _, err := parseNotSameKey(bad); err == nil {
			t.Errorf("parseNotSameKey(%q) accepted", bad)
		}
	}
}

func FuzzParseNotSameKey(f *testing.F) {
	f.Add(notSameKey(personRef(1), personRef(2)))
	f.Add([]byte{pfxNotSame, 1, 0})
	f.Fuzz(func(t *testing.T, k []byte) {
		a, b, err := parseNotSameKey(k)
		if err != nil {
			return
		}
		if b.Less(a) {
			return // a key this package never writes, still parsed without panicking
		}
		if got := notSameKey(a, b); string(got) != string(k) {
			t.Errorf("re-encoded %q as %q", k, got)
		}
	})
}

func TestEntitiesOfReadsOnlyThoseKinds(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	r := dataset(4, 3)
	// A stub of a person that also has a full record is not seen twice.
	r.ents = append(r.ents, graph.Entity{Ref: personRef(1), Stub: true}, graph.Entity{Ref: personRef(7), Stub: true})
	load(t, db, r)
	var got []string
	err := db.EntitiesOf(ctx, []graph.Kind{graph.KindExchange, graph.KindPerson}, func(e graph.Entity) error {
		got = append(got, fmt.Sprintf("%s/%s/%v", e.Ref, e.Name, e.Stub))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "exchange:EX-0001/ТенгеОбмен24/false iin:850312300000/Ахметов 0/false iin:850312300001/Ахметов 1/false " +
		"iin:850312300002/Ахметов 2/false iin:850312300003/Ахметов 3/false iin:850312300007//true"
	if strings.Join(got, " ") != want {
		t.Errorf("EntitiesOf =\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	stop := errors.New("stop")
	n := 0
	err = db.EntitiesOf(ctx, []graph.Kind{graph.KindPerson}, func(graph.Entity) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("callback error: %v after %d calls, want it returned as is after 1", err, n)
	}
	holds, err := db.Links(ctx, graph.LinkHolds)
	if err != nil || len(holds) != 4 || holds[0].From != personRef(0) || holds[0].Src.File != "seed.csv" {
		t.Errorf("Links(holds) = %+v, %v", holds, err)
	}
	if same, err := db.Links(ctx, graph.LinkSameAs); err != nil || len(same) != 0 {
		t.Errorf("Links(same_as) = %+v, %v", same, err)
	}
}
