package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"casegraph/graph"
)

func journalOK(t *testing.T, db *DB) {
	t.Helper()
	rep, err := db.VerifyJournal(context.Background())
	if err != nil || !rep.OK {
		t.Fatalf("journal: %+v %v", rep, err)
	}
}

func addEntity(t *testing.T, db *DB, ck *clock, caseID string, r graph.Ref, note string) graph.Bookmark {
	t.Helper()
	b, _, err := db.AddBookmark(context.Background(), ck.act(), caseID, graph.Bookmark{Target: graph.EntityTarget(r, ""), Note: note})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUndoIsAStack(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	c := mustCase(t, db, ck, "Ring")
	var states []graph.Case
	for i := 1; i <= 3; i++ {
		s, _ := db.Case(ctx, c.ID)
		states = append(states, s)
		addEntity(t, db, ck, c.ID, cardRef(i), fmt.Sprintf("note %d", i))
	}
	for i := 3; i >= 1; i-- {
		u, err := db.UndoLast(ctx, ck.act())
		if err != nil {
			t.Fatalf("undo %d: %v", i, err)
		}
		if u.Action != ActBookmarkAdd || !strings.Contains(u.What, "bookmarked") || !strings.Contains(u.What, `"Ring"`) || u.Left != i {
			t.Errorf("undo %d: %+v", i, u)
		}
		if got, _ := db.Case(ctx, c.ID); !reflect.DeepEqual(got.Bookmarks, states[i-1].Bookmarks) {
			t.Errorf("undo %d left %d bookmarks, want %d", i, len(got.Bookmarks), len(states[i-1].Bookmarks))
		}
		journalOK(t, db)
	}
	u, err := db.UndoLast(ctx, ck.act())
	if err != nil || u.Action != ActCaseCreate || u.What != `created case "Ring"` {
		t.Fatalf("undo of the creation: %+v %v", u, err)
	}
	if _, err := db.UndoLast(ctx, ck.act()); !errors.Is(err, ErrNothingToUndo) {
		t.Errorf("undo past the first change: %v", err)
	}
	// Each undo is journalled with what it reverted.
	j, _ := db.Journal(ctx, c.ID)
	undos := 0
	for _, e := range j {
		if e.Action == ActUndo {
			undos++
			if !strings.Contains(string(e.Detail), `"undone":`) {
				t.Errorf("undo entry without what it reverted: %s", e.Detail)
			}
		}
	}
	if undos != 4 {
		t.Errorf("%d undo entries, want 4", undos)
	}
}

func TestUndoStackIsBounded(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	c := mustCase(t, db, ck, "Ring")
	for i := range undoDepth + 10 {
		if _, err := db.SetCaseNotes(ctx, ck.act(), c.ID, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for ; ; n++ {
		if _, err := db.UndoLast(ctx, ck.act()); errors.Is(err, ErrNothingToUndo) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if n != undoDepth {
		t.Errorf("%d undos, want %d", n, undoDepth)
	}
	if got, _ := db.Case(ctx, c.ID); got.Notes != "9" {
		t.Errorf("notes after every undo %q, want 9", got.Notes)
	}
}

func TestMoveCopyMergeBookmarks(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	a, b := mustCase(t, db, ck, "Almaty"), mustCase(t, db, ck, "Shymkent")
	b1 := addEntity(t, db, ck, a.ID, cardRef(1), "one")
	b2 := addEntity(t, db, ck, a.ID, cardRef(2), "two")
	addEntity(t, db, ck, b.ID, cardRef(2), "also two")
	beforeA, _ := db.Case(ctx, a.ID)
	beforeB, _ := db.Case(ctx, b.ID)

	// Move both: card 1 arrives, card 2 folds into b's bookmark.
	res, err := db.MoveBookmarks(ctx, ck.act(), a.ID, "shymkent", []string{b1.ID, b2.ID}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != 1 || res.Folded != 1 || len(res.From.Bookmarks) != 0 || len(res.To.Bookmarks) != 2 {
		t.Fatalf("move: %+v", res)
	}
	gotB, _ := db.Case(ctx, b.ID)
	if bm := gotB.BookmarksOf(cardRef(2)); len(bm) != 1 || bm[0].Note != "also two\n\ntwo" {
		t.Errorf("folded bookmark: %+v", bm)
	}
	if bm, ok := gotB.Bookmark(b1.ID); !ok || bm.Note != "one" || !bm.Created.Equal(b1.Created) {
		t.Errorf("moved bookmark lost its id, note or time: %+v", gotB.Bookmarks)
	}
	journalOK(t, db)
	for _, id := range []string{a.ID, b.ID} {
		j, _ := db.Journal(ctx, id)
		if j[len(j)-1].Action != ActBookmarkMove {
			t.Errorf("case %s: last entry %s, want %s", id, j[len(j)-1].Action, ActBookmarkMove)
		}
	}
	u, err := db.UndoLast(ctx, ck.act())
	if err != nil || u.What != `moved 2 bookmarks from "Almaty" to "Shymkent"` {
		t.Fatalf("undo move: %+v %v", u, err)
	}
	if gotA, _ := db.Case(ctx, a.ID); !reflect.DeepEqual(gotA, beforeA) {
		t.Errorf("undo did not restore the source")
	}
	if gotB, _ := db.Case(ctx, b.ID); !reflect.DeepEqual(gotB, beforeB) {
		t.Errorf("undo did not restore the destination")
	}
	journalOK(t, db)

	// Copy leaves the source as it was and gives the copy a new id.
	res, err = db.MoveBookmarks(ctx, ck.act(), a.ID, b.ID, []string{b1.ID}, true)
	if err != nil || res.Moved != 1 {
		t.Fatalf("copy: %+v %v", res, err)
	}
	if gotA, _ := db.Case(ctx, a.ID); !reflect.DeepEqual(gotA.Bookmarks, beforeA.Bookmarks) {
		t.Errorf("copy changed the source")
	}
	gotB, _ = db.Case(ctx, b.ID)
	if bm := gotB.BookmarksOf(cardRef(1)); len(bm) != 1 || bm[0].ID == b1.ID || bm[0].Note != "one" {
		t.Errorf("copied bookmark: %+v", bm)
	}
	if _, err := db.MoveBookmarks(ctx, ck.act(), a.ID, a.ID, []string{b1.ID}, false); err == nil {
		t.Error("move into the same case accepted")
	}
	if _, err := db.MoveBookmarks(ctx, ck.act(), a.ID, b.ID, []string{"b-missing"}, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing bookmark: %v", err)
	}

	// Merge: every bookmark, the notes and tags go into b; a is gone.
	if _, err := db.SetCaseNotes(ctx, ck.act(), a.ID, "cash-out at ATM-ALA-0042"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetCaseTags(ctx, ck.act(), a.ID, []string{"atm"}); err != nil {
		t.Fatal(err)
	}
	preA, _ := db.Case(ctx, a.ID)
	preB, _ := db.Case(ctx, b.ID)
	res, err = db.MergeCases(ctx, ck.act(), b.ID, "Almaty")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Case(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("merged case still there: %v", err)
	}
	gotB, _ = db.Case(ctx, b.ID)
	if len(gotB.Bookmarks) != 2 || !strings.Contains(gotB.Notes, `From case "Almaty":`) || !strings.Contains(gotB.Notes, "ATM-ALA-0042") ||
		strings.Join(gotB.Tags, ",") != "atm" {
		t.Errorf("merged case: %+v", gotB)
	}
	journalOK(t, db)
	u, err = db.UndoLast(ctx, ck.act())
	if err != nil || u.Action != ActCaseMerge || !strings.Contains(u.What, `merged case "Almaty"`) {
		t.Fatalf("undo merge: %+v %v", u, err)
	}
	if gotA, _ := db.Case(ctx, a.ID); !reflect.DeepEqual(gotA, preA) {
		t.Errorf("undo did not bring the merged case back")
	}
	if gotB, _ := db.Case(ctx, b.ID); !reflect.DeepEqual(gotB, preB) {
		t.Errorf("undo did not restore the case merged into")
	}
	journalOK(t, db)
}

func TestClosedAndReferredCasesAreReadOnly(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	open := mustCase(t, db, ck, "Open one")
	for _, st := range []graph.CaseStatus{graph.CaseClosed, graph.CaseReferred} {
		c := mustCase(t, db, ck, "Case "+string(st))
		bm := addEntity(t, db, ck, c.ID, cardRef(1), "n")
		if _, err := db.SetCaseStatus(ctx, ck.act(), c.ID, st); err != nil {
			t.Fatal(err)
		}
		before, _ := db.Case(ctx, c.ID)
		note, tags := "x", []string{"t"}
		for what, err := range map[string]error{
			"bookmark": func() error {
				_, _, err := db.AddBookmark(ctx, ck.act(), c.ID, graph.Bookmark{Target: graph.EntityTarget(cardRef(2), "")})
				return err
			}(),
			"edit bookmark": func() error {
				_, err := db.UpdateBookmark(ctx, ck.act(), c.ID, bm.ID, BookmarkEdit{Note: &note})
				return err
			}(),
			"delete mark": db.DeleteBookmark(ctx, ck.act(), c.ID, bm.ID),
			"rename":      func() error { _, err := db.RenameCase(ctx, ck.act(), c.ID, "other"); return err }(),
			"notes":       func() error { _, err := db.SetCaseNotes(ctx, ck.act(), c.ID, "x"); return err }(),
			"tags":        func() error { _, err := db.SetCaseTags(ctx, ck.act(), c.ID, tags); return err }(),
			"delete":      db.DeleteCase(ctx, ck.act(), c.ID),
			"move out": func() error {
				_, err := db.MoveBookmarks(ctx, ck.act(), c.ID, open.ID, []string{bm.ID}, false)
				return err
			}(),
			"move in": func() error {
				_, err := db.MoveBookmarks(ctx, ck.act(), open.ID, c.ID, []string{"b-x"}, false)
				return err
			}(),
			"merge": func() error { _, err := db.MergeCases(ctx, ck.act(), open.ID, c.ID); return err }(),
		} {
			if !errors.Is(err, ErrCaseReadOnly) || !strings.Contains(err.Error(), string(st)) || strings.Contains(err.Error(), c.ID) {
				t.Errorf("%s of a %s case: %v", what, st, err)
			}
		}
		if got, _ := db.Case(ctx, c.ID); !reflect.DeepEqual(got, before) {
			t.Errorf("%s case changed", st)
		}
		// Copying out only reads it; reopening makes it editable again.
		if _, err := db.MoveBookmarks(ctx, ck.act(), c.ID, open.ID, []string{bm.ID}, true); err != nil {
			t.Errorf("copy out of a %s case: %v", st, err)
		}
		if _, err := db.SetCaseStatus(ctx, ck.act(), c.ID, graph.CaseOpen); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetCaseNotes(ctx, ck.act(), c.ID, "x"); err != nil {
			t.Errorf("notes after reopening: %v", err)
		}
	}
	journalOK(t, db)
}

func TestRenameRefusalNamesTheCase(t *testing.T) {
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	a := mustCase(t, db, ck, "Almaty cash-out")
	b := mustCase(t, db, ck, "Shymkent OTC")
	_, err := db.RenameCase(ctx, ck.act(), a.ID, "shymkent otc")
	if !errors.Is(err, ErrCaseExists) {
		t.Fatalf("rename onto another case's name: %v", err)
	}
	msg := err.Error()
	if strings.Contains(msg, a.ID) || strings.Contains(msg, b.ID) || !strings.Contains(msg, `"Almaty cash-out"`) || !strings.Contains(msg, `"Shymkent OTC"`) {
		t.Errorf("refusal %q must name both cases by name, never by id", msg)
	}
}
