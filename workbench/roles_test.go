package workbench

import (
	"context"
	"errors"
	"testing"
	"time"

	"casegraph/graph"
	"casegraph/store"
)

func writableBackend(t *testing.T) *Workbench {
	t.Helper()
	s, err := store.Open(importTestdata(t, "rules"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return New(s, "test")
}

// TestRolesEnforcedInTheSession: a viewer's session refuses a bookmark and
// an unredacted export and journals the refusal; an analyst bookmarks but
// does not create cases; another session hears of the bookmark.
func TestRolesEnforcedInTheSession(t *testing.T) {
	wb := writableBackend(t)
	ctx := context.Background()
	inv := wb.AsRole("ivan", RoleInvestigator, t.TempDir())
	ana := wb.AsRole("alice", RoleAnalyst, t.TempDir())
	view := wb.AsRole("victor", RoleViewer, t.TempDir())
	changes, stop := view.Subscribe()
	defer stop()

	c, err := inv.CreateCase(ctx, "Almaty")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ana.CreateCase(ctx, "other"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("analyst created a case: %v", err)
	}
	bm := graph.EntityTarget(chainA, "")
	if _, err := view.AddBookmark(ctx, c.ID, graph.Bookmark{Target: bm}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("viewer bookmarked: %v", err)
	}
	if _, err := ana.AddBookmark(ctx, c.ID, graph.Bookmark{Target: bm}); err != nil {
		t.Fatal(err)
	}
	if _, err := view.ExportCase(ctx, c.ID, "out", false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("viewer exported unredacted: %v", err)
	}
	if _, err := view.ExportCase(ctx, c.ID, "/tmp/x", true); err == nil {
		t.Fatal("a team session exported to an absolute folder")
	}
	if _, err := view.ExportCase(ctx, c.ID, "../x", true); err == nil {
		t.Fatal("a team session exported out of its export root")
	}
	res, err := view.ExportCase(ctx, c.ID, "out", true)
	if err != nil {
		t.Fatalf("viewer's redacted export: %v", err)
	}
	if want := view.exportRoot + "/victor/out"; res.Dir != want {
		t.Errorf("export went to %s, want %s", res.Dir, want)
	}
	// The analyst may not undo the investigator's change.
	if _, err := inv.SetCaseStatus(ctx, c.ID, graph.CaseStatuses[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := ana.UndoLast(ctx); !errors.Is(err, ErrForbidden) {
		t.Fatalf("analyst undid the investigator's change: %v", err)
	}

	if _, err := view.SetVerdict(ctx, chainB, graph.VerdictConfirmed, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("viewer recorded a verdict: %v", err)
	}
	if _, err := ana.SetVerdict(ctx, chainB, graph.VerdictConfirmed, "mule"); err != nil {
		t.Fatal(err)
	}

	var got []Change
	timeout := time.After(5 * time.Second)
	for len(got) < 4 {
		select {
		case ch := <-changes:
			got = append(got, ch)
		case <-timeout:
			t.Fatalf("changes heard: %+v", got)
		}
	}
	if got[0].User != "ivan" || got[0].Action != store.ActCaseCreate || got[1].User != "alice" || got[1].Action != store.ActBookmarkAdd || got[1].CaseID != c.ID ||
		got[3].User != "alice" || got[3].Ref != chainB {
		t.Errorf("changes: %+v", got)
	}
	j, err := wb.db.Journal(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	denied := map[string]int{}
	for _, e := range j {
		if e.Action == ActAccessDenied {
			denied[e.User]++
		}
	}
	if denied["victor"] != 3 || denied["alice"] != 2 {
		t.Errorf("refusals journalled: %v", denied)
	}
	if rep, err := wb.db.VerifyJournal(ctx); err != nil || !rep.OK {
		t.Fatalf("journal: %+v %v", rep, err)
	}
}

// TestStaleEditRefused: bob began editing the notes as they were; alice
// saved hers in between; bob's save is refused naming alice, and the notes
// stay hers. A change begun on the current value goes through.
func TestStaleEditRefused(t *testing.T) {
	wb := writableBackend(t)
	ctx := context.Background()
	alice := wb.AsRole("alice", RoleInvestigator, "")
	bob := wb.AsRole("bob", RoleAnalyst, "")
	c, err := alice.CreateCase(ctx, "Almaty")
	if err != nil {
		t.Fatal(err)
	}
	seen := graph.WithSeen(ctx, c.Notes)
	if _, err := alice.SetCaseNotes(seen, c.ID, "alice's notes"); err != nil {
		t.Fatal(err)
	}
	_, err = bob.SetCaseNotes(seen, c.ID, "bob's notes")
	var se *StaleError
	if !errors.As(err, &se) || !errors.Is(err, graph.ErrStale) || se.By != "alice" || se.What != "the notes" || se.Case != "Almaty" {
		t.Fatalf("stale save: %v", err)
	}
	t.Log(err)
	got, _ := wb.db.Case(ctx, c.ID)
	if got.Notes != "alice's notes" {
		t.Fatalf("notes after the refused save: %q", got.Notes)
	}
	if _, err := bob.SetCaseNotes(graph.WithSeen(ctx, got.Notes), c.ID, "bob's notes"); err != nil {
		t.Fatalf("a save begun on the current notes: %v", err)
	}
	if _, err := alice.SetCaseStatus(graph.WithSeen(ctx, string(graph.CaseOpen)), c.ID, graph.CaseStatuses[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SetCaseStatus(graph.WithSeen(ctx, string(graph.CaseOpen)), c.ID, graph.CaseStatuses[2]); !errors.Is(err, graph.ErrStale) {
		t.Fatalf("a status change begun on the old status: %v", err)
	}
}
