package workbench

import (
	"context"
	"errors"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/store"
)

// drain returns the changes published so far.
func drain(ch <-chan Change) []Change {
	var out []Change
	for {
		select {
		case c := <-ch:
			out = append(out, c)
		default:
			return out
		}
	}
}

// Moving bookmarks and merging cases go through the roles, the journal and
// the live changes; one undo reverts each and says what it undid.
func TestMoveMergeThroughTheWorkbench(t *testing.T) {
	wb := writableBackend(t)
	ctx := context.Background()
	inv := wb.AsRole("ivan", RoleInvestigator, t.TempDir())
	ana := wb.AsRole("alice", RoleAnalyst, t.TempDir())
	view := wb.AsRole("victor", RoleViewer, t.TempDir())
	a, _ := inv.CreateCase(ctx, "Almaty")
	b, _ := inv.CreateCase(ctx, "Shymkent")
	bm, err := ana.AddBookmark(ctx, a.ID, graph.Bookmark{Target: graph.EntityTarget(chainA, ""), Note: "first hop"})
	if err != nil {
		t.Fatal(err)
	}
	changes, stop := view.Subscribe()
	defer stop()

	if _, err := view.MoveBookmarks(ctx, a.ID, b.ID, []string{bm.ID}, false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("viewer moved a bookmark: %v", err)
	}
	res, err := ana.MoveBookmarks(ctx, a.ID, b.ID, []string{bm.ID}, false)
	if err != nil || res.Moved != 1 || res.From != "Almaty" || res.To != "Shymkent" {
		t.Fatalf("analyst's move: %+v %v", res, err)
	}
	got := drain(changes)
	cases := map[string]bool{}
	for _, c := range got {
		if c.Action == store.ActBookmarkMove && c.User == "alice" {
			cases[c.CaseID] = true
		}
	}
	if !cases[a.ID] || !cases[b.ID] {
		t.Errorf("the move was not published for both cases: %+v", got)
	}
	msg, err := ana.UndoLast(ctx)
	if err != nil || !strings.Contains(msg, `undid: moved bookmark`) || !strings.Contains(msg, `from "Almaty" to "Shymkent"`) {
		t.Fatalf("undo of the move: %q %v", msg, err)
	}

	if _, err := ana.MergeCases(ctx, b.ID, a.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("analyst merged cases: %v", err)
	}
	if _, err := inv.MergeCases(ctx, b.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := inv.Cases(ctx); len(cs) != 1 || len(cs[0].Bookmarks) != 1 {
		t.Fatalf("after merge: %+v", cs)
	}
	msg, err = inv.UndoLast(ctx)
	if err != nil || !strings.Contains(msg, `undid: merged case "Almaty"`) || !strings.Contains(msg, "earlier changes can be undone") {
		t.Fatalf("undo of the merge: %q %v", msg, err)
	}
	if cs, _ := inv.Cases(ctx); len(cs) != 2 {
		t.Fatalf("undo did not bring the merged case back: %+v", cs)
	}
}

// A closed or referred case is read-only for every role; only an
// investigator may reopen it.
func TestClosedCaseReadOnlyForEveryRole(t *testing.T) {
	wb := writableBackend(t)
	ctx := context.Background()
	inv := wb.AsRole("ivan", RoleInvestigator, t.TempDir())
	ana := wb.AsRole("alice", RoleAnalyst, t.TempDir())
	c, _ := inv.CreateCase(ctx, "Almaty")
	other, _ := inv.CreateCase(ctx, "Other")
	bm, _ := ana.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.EntityTarget(chainA, "")})
	if _, err := inv.SetCaseStatus(ctx, c.ID, graph.CaseReferred); err != nil {
		t.Fatal(err)
	}
	for who, s := range map[string]*Workbench{"investigator": inv, "analyst": ana, "owner": wb} {
		if _, err := s.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.EntityTarget(chainB, "")}); !errors.Is(err, store.ErrCaseReadOnly) {
			t.Errorf("%s bookmarked into a referred case: %v", who, err)
		}
		if _, err := s.SetCaseNotes(ctx, c.ID, "x"); !errors.Is(err, store.ErrCaseReadOnly) {
			t.Errorf("%s wrote notes of a referred case: %v", who, err)
		}
		if _, err := s.MoveBookmarks(ctx, c.ID, other.ID, []string{bm.ID}, false); !errors.Is(err, store.ErrCaseReadOnly) {
			t.Errorf("%s moved out of a referred case: %v", who, err)
		}
	}
	if _, err := ana.SetCaseStatus(ctx, c.ID, graph.CaseOpen); !errors.Is(err, ErrForbidden) {
		t.Errorf("an analyst reopened the case: %v", err)
	}
	if _, err := inv.SetCaseStatus(ctx, c.ID, graph.CaseOpen); err != nil {
		t.Errorf("the investigator could not reopen: %v", err)
	}
	if _, err := ana.SetCaseNotes(ctx, c.ID, "x"); err != nil {
		t.Errorf("notes after reopening: %v", err)
	}
}
