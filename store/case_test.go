package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"casegraph/graph"
)

// clock hands out actors one second apart, so journal and Updated times are
// distinct and predictable.
type clock struct{ t time.Time }

func (c *clock) act() Actor {
	c.t = c.t.Add(time.Second)
	return Actor{User: "aigerim", Time: c.t}
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)} }

func mustCase(t *testing.T, db *DB, ck *clock, name string) graph.Case {
	t.Helper()
	c, err := db.CreateCase(context.Background(), ck.act(), name)
	if err != nil {
		t.Fatalf("create %q: %v", name, err)
	}
	return c
}

func TestCaseRoundTripAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ck := newClock()
	c := mustCase(t, db, ck, "  Almaty   cash-out ")
	if c.Name != "Almaty cash-out" || c.Status != graph.CaseOpen || c.ID == "" {
		t.Fatalf("created %+v", c)
	}
	if _, err := db.CreateCase(ctx, ck.act(), "almaty CASH-OUT"); !errors.Is(err, ErrCaseExists) {
		t.Errorf("duplicate name: err = %v, want ErrCaseExists", err)
	}
	b, added, err := db.AddBookmark(ctx, ck.act(), "Almaty cash-out", graph.Bookmark{
		Target: graph.EntityTarget(cardRef(1), ""), Tags: []string{"Mule"}, Note: "topped up at ATM-ALA-0042\nthen cashed out"})
	if err != nil || !added {
		t.Fatalf("add: %v (added %v)", err, added)
	}
	if b.ID == "" || !b.Created.Equal(ck.t) || !slices.Equal(b.Tags, []string{"mule"}) {
		t.Errorf("bookmark %+v", b)
	}
	path := graph.Target{Kind: graph.TargetPath, Refs: []graph.Ref{personRef(1), cardRef(1), exRef}, Query: "path iin:1 exchange:EX-0001"}
	if _, _, err := db.AddBookmark(ctx, ck.act(), c.ID, graph.Bookmark{Target: path}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetCaseNotes(ctx, ck.act(), c.ID, "referred to KNB"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveQuery(ctx, ck.act(), c.ID, graph.SavedQuery{Name: "hubs", Query: "kind:card"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetCaseStatus(ctx, ck.act(), c.ID, graph.CaseReferred); err != nil {
		t.Fatal(err)
	}
	want, err := db.Case(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Bookmarks) != 2 || want.Status != graph.CaseReferred || want.Notes != "referred to KNB" || len(want.Queries) != 1 {
		t.Fatalf("case after edits: %+v", want)
	}
	if !want.Updated.Equal(ck.t) {
		t.Errorf("Updated = %v, want %v", want.Updated, ck.t)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, dir)
	got, err := db.Case(ctx, "ALMATY cash-out")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after reopen:\n got %+v\nwant %+v", got, want)
	}
	if _, err := db.Case(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing case: %v", err)
	}
}

func TestAddBookmarkSameTargetMerges(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	c := mustCase(t, db, ck, "x")
	first, _, err := db.AddBookmark(ctx, ck.act(), c.ID, graph.Bookmark{Target: graph.EntityTarget(cardRef(2), ""), Tags: []string{"a"}, Note: "one"})
	if err != nil {
		t.Fatal(err)
	}
	again, added, err := db.AddBookmark(ctx, ck.act(), c.ID, graph.Bookmark{Target: graph.EntityTarget(cardRef(2), "label"), Tags: []string{"b", "a"}, Note: "two"})
	if err != nil {
		t.Fatal(err)
	}
	if added || again.ID != first.ID || !slices.Equal(again.Tags, []string{"a", "b"}) || again.Note != "one\n\ntwo" {
		t.Errorf("second add: added %v %+v", added, again)
	}
	got, _ := db.Case(ctx, c.ID)
	if len(got.Bookmarks) != 1 {
		t.Errorf("%d bookmarks, want 1", len(got.Bookmarks))
	}
	if _, _, err := db.AddBookmark(ctx, ck.act(), c.ID, graph.Bookmark{Target: graph.Target{Kind: graph.TargetEntity}}); err == nil {
		t.Error("empty target accepted")
	}
}

func TestUpdateDeleteAndUndo(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	c := mustCase(t, db, ck, "ring")
	b, _, err := db.AddBookmark(ctx, ck.act(), c.ID, graph.Bookmark{Target: graph.EntityTarget(cardRef(3), ""), Tags: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	note := "line 1\nline 2"
	tags := []string{"organiser", "KZ"}
	nb, err := db.UpdateBookmark(ctx, ck.act(), c.ID, b.ID, BookmarkEdit{Tags: &tags, Note: &note})
	if err != nil {
		t.Fatal(err)
	}
	if nb.Note != note || !slices.Equal(nb.Tags, []string{"organiser", "kz"}) {
		t.Errorf("updated %+v", nb)
	}
	beforeAddTags, _ := db.Case(ctx, c.ID)
	nb, err = db.UpdateBookmark(ctx, ck.act(), c.ID, b.ID, BookmarkEdit{AddTags: []string{"new"}})
	if err != nil || !slices.Equal(nb.Tags, []string{"organiser", "kz", "new"}) || nb.Note != note {
		t.Errorf("add tags: %v %+v", err, nb)
	}
	if _, err := db.UpdateBookmark(ctx, ck.act(), c.ID, "b-missing", BookmarkEdit{Note: &note}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing bookmark: %v", err)
	}
	before, _ := db.Case(ctx, c.ID)
	if err := db.DeleteBookmark(ctx, ck.act(), c.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Case(ctx, c.ID); len(got.Bookmarks) != 0 {
		t.Fatalf("bookmark not deleted: %+v", got.Bookmarks)
	}
	u, ok, err := db.PendingUndo(ctx)
	if err != nil || !ok || u.Action != ActBookmarkDelete || u.CaseID != c.ID {
		t.Fatalf("pending undo: %+v %v %v", u, ok, err)
	}
	if _, err := db.UndoLast(ctx, ck.act()); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Case(ctx, c.ID); !reflect.DeepEqual(got, before) {
		t.Errorf("undo did not restore:\n got %+v\nwant %+v", got, before)
	}
	// Undo is a stack: the second undo reverts the change before, the tag.
	u, err = db.UndoLast(ctx, ck.act())
	if err != nil || u.Action != ActBookmarkUpdate || !strings.Contains(u.What, "edited bookmark") {
		t.Fatalf("second undo: %+v %v", u, err)
	}
	if got, _ := db.Case(ctx, c.ID); !reflect.DeepEqual(got.Bookmarks, beforeAddTags.Bookmarks) {
		t.Errorf("second undo did not restore the tags:\n got %+v\nwant %+v", got.Bookmarks, beforeAddTags.Bookmarks)
	}
	before, _ = db.Case(ctx, c.ID)

	// Deleting a case and undoing brings it back; undoing a creation removes it.
	if err := db.DeleteCase(ctx, ck.act(), "ring"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Case(ctx, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted case still there: %v", err)
	}
	if _, err := db.UndoLast(ctx, ck.act()); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Case(ctx, c.ID); err != nil || !reflect.DeepEqual(got, before) {
		t.Errorf("undelete: %v %+v", err, got)
	}
	d := mustCase(t, db, ck, "typo")
	if _, err := db.UndoLast(ctx, ck.act()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Case(ctx, d.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("undone creation still there: %v", err)
	}
	rep, err := db.VerifyJournal(ctx)
	if err != nil || !rep.OK {
		t.Errorf("journal after undo: %+v %v", rep, err)
	}
}

func TestRenameAndStatus(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	a := mustCase(t, db, ck, "a")
	mustCase(t, db, ck, "b")
	if _, err := db.RenameCase(ctx, ck.act(), "a", "B"); !errors.Is(err, ErrCaseExists) {
		t.Errorf("rename onto b: %v", err)
	}
	if _, err := db.RenameCase(ctx, ck.act(), "a", "A"); err != nil {
		t.Errorf("rename to own name in other case: %v", err)
	}
	r, err := db.RenameCase(ctx, ck.act(), a.ID, "Shymkent exchangers")
	if err != nil || r.Name != "Shymkent exchangers" || r.ID != a.ID {
		t.Fatalf("rename: %v %+v", err, r)
	}
	if _, err := db.SetCaseStatus(ctx, ck.act(), a.ID, "done"); err == nil {
		t.Error("bad status accepted")
	}
	list, err := db.Cases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != a.ID {
		t.Errorf("Cases not most recently updated first: %+v", list)
	}
}

// An imported case is always a new case: the id, name and dates in the
// file choose nothing local.
func TestImportCaseIsAlwaysNew(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	local := mustCase(t, db, ck, "Almaty cash-out")
	if _, _, err := db.AddBookmark(ctx, ck.act(), local.ID, graph.Bookmark{Target: graph.EntityTarget(cardRef(9), "")}); err != nil {
		t.Fatal(err)
	}
	forged := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	theirs := graph.Case{ID: local.ID, Name: "Almaty cash-out", Status: graph.CaseOpen, Created: forged, Updated: forged,
		Bookmarks: []graph.Bookmark{
			{ID: "b-1", Target: graph.EntityTarget(cardRef(1), ""), Tags: []string{"mule"}, Note: "from Daniyar", Created: forged},
			{ID: "b-1", Target: graph.EntityTarget(cardRef(2), ""), Created: forged},
			{Target: graph.EntityTarget(cardRef(1), ""), Tags: []string{"organiser"}},
		}}
	src := ImportSource{Folder: "/tmp/x", ManifestSHA256: strings.Repeat("ab", 32)}
	res, err := db.ImportCase(ctx, ck.act(), theirs, src)
	if err != nil {
		t.Fatal(err)
	}
	if res.Case.ID == local.ID || res.SourceID != local.ID || res.Added != 2 || res.Changed != 1 ||
		!res.Case.Created.After(forged) || res.Case.Name == local.Name || !strings.HasPrefix(res.Case.Name, local.Name+" (imported ") {
		t.Fatalf("import: %+v", res)
	}
	if res.Case.Bookmarks[0].ID == res.Case.Bookmarks[1].ID {
		t.Errorf("bookmark ids clash: %+v", res.Case.Bookmarks)
	}
	if got, _ := db.Case(ctx, local.ID); len(got.Bookmarks) != 1 || got.Name != local.Name {
		t.Errorf("local case touched by the import: %+v", got)
	}
	es, _ := db.Journal(ctx, res.Case.ID)
	if len(es) != 1 || es[0].Action != ActCaseImport || !strings.Contains(string(es[0].Detail), src.ManifestSHA256) ||
		!strings.Contains(string(es[0].Detail), `"source_id":"`+local.ID+`"`) {
		t.Errorf("journal: %+v", es)
	}
	if _, err := db.ImportCase(ctx, ck.act(), theirs, src); !errors.Is(err, ErrAlreadyImported) {
		t.Errorf("second import of the same folder: %v", err)
	}
	if rep, err := db.VerifyJournal(ctx); err != nil || !rep.OK {
		t.Errorf("verify: %+v %v", rep, err)
	}
	// Undo removes the imported case.
	if _, err := db.UndoLast(ctx, ck.act()); err != nil {
		t.Fatal(err)
	}
	if all, _ := db.Cases(ctx); len(all) != 1 {
		t.Errorf("%d cases after undo, want 1", len(all))
	}
	bad := theirs
	bad.Bookmarks = []graph.Bookmark{{Target: graph.Target{Kind: "blob"}}}
	if _, err := db.ImportCase(ctx, ck.act(), bad, ImportSource{}); err == nil {
		t.Error("invalid bookmark imported")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.ImportCase(cancelled, ck.act(), theirs, ImportSource{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled import: %v", err)
	}
}

func bigCase(n int) graph.Case {
	c := graph.Case{ID: "c-big", Name: "big", Status: graph.CaseOpen, Bookmarks: make([]graph.Bookmark, n)}
	for i := range n {
		c.Bookmarks[i] = graph.Bookmark{Target: graph.EntityTarget(cardRef(i), ""), Note: "n", Tags: []string{"t"}}
	}
	return c
}

// BenchmarkImportCase shows the import is linear in the bookmarks: compare
// ns/op of /bookmarks=50000 and /bookmarks=100000 (bookmarks without ids,
// which made the merge quadratic before).
func BenchmarkImportCase(b *testing.B) {
	for _, n := range []int{25000, 50000, 100000, 200000} {
		b.Run(fmt.Sprintf("bookmarks=%d", n), func(b *testing.B) {
			in := bigCase(n)
			ck := newClock()
			for range b.N {
				b.StopTimer()
				db := openTemp(b)
				b.StartTimer()
				if _, err := db.ImportCase(context.Background(), ck.act(), in, ImportSource{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
		})
	}
}

func TestConcurrentCaseWritesKeepJournalChain(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	c := mustCase(t, db, ck, "busy")
	var wg sync.WaitGroup
	at := ck.act()
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := Actor{User: "u", Time: at.Time.Add(time.Duration(i) * time.Millisecond)}
			if _, _, err := db.AddBookmark(ctx, a, c.ID, graph.Bookmark{Target: graph.EntityTarget(cardRef(100+i), "")}); err != nil {
				t.Error(err)
			}
			if _, err := db.ViewCase(ctx, a, c.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := db.Case(ctx, c.ID)
	if len(got.Bookmarks) != 8 {
		t.Errorf("%d bookmarks, want 8 (a lost update)", len(got.Bookmarks))
	}
	rep, err := db.VerifyJournal(ctx)
	if err != nil || !rep.OK || rep.Entries != 17 {
		t.Errorf("journal: %+v %v", rep, err)
	}
}

func TestCaseKeyParse(t *testing.T) {
	for _, id := range []string{"c-0a1b2c3d", "", "имя"} {
		got, err := parseCaseKey(caseKey(id))
		if err != nil || got != id {
			t.Errorf("parseCaseKey(caseKey(%q)) = %q, %v", id, got, err)
		}
	}
	for _, k := range [][]byte{nil, {pfxCase}, {pfxCase, 0, 5, 'a'}, {pfxJournal, 0, 0}, append(caseKey("a"), 'x')} {
		if _, err := parseCaseKey(k); err == nil {
			t.Errorf("parseCaseKey(%q) accepted", k)
		}
	}
	if s, err := parseJournalKey(journalKey(1 << 40)); err != nil || s != 1<<40 {
		t.Errorf("journal key: %d %v", s, err)
	}
	if _, err := parseJournalKey([]byte{pfxJournal, 1}); err == nil {
		t.Error("short journal key accepted")
	}
	// Case and journal prefixes must sort before the neighbour rows (see pfxNbr).
	if pfxCase >= pfxNbr || pfxJournal >= pfxNbr {
		t.Error("case or journal prefix sorts after pfxNbr")
	}
}
