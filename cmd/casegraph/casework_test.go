package main

import (
	"strings"
	"testing"
)

// The case commands: a referred case is read-only until reopened; mv and
// merge move bookmarks; undo steps back one change at a time, saying what
// it undid; a rename refusal names the case, not its id.
func TestCaseCommandsMoveMergeUndoReadOnly(t *testing.T) {
	db := fixtureDB(t)
	runCmd(t, "case", "new", "--db", db, "Almaty")
	runCmd(t, "case", "new", "--db", db, "Shymkent")
	runCmd(t, "case", "add", "--db", db, "Almaty", "iin:850312300002", "card:4400430000000015", "--note", "ring")
	a, s := caseJSON(t, db, "Almaty"), caseJSON(t, db, "Shymkent")

	if err := runErr("case", "rename", "--db", db, a.ID, "shymkent"); err == nil || strings.Contains(err.Error(), a.ID) ||
		strings.Contains(err.Error(), s.ID) || !strings.Contains(err.Error(), `"Shymkent"`) {
		t.Errorf("rename refusal: %v", err)
	}

	out := runCmd(t, "case", "mv", "--db", db, "Almaty", "card:4400430000000015", "--to", "Shymkent")
	if !strings.Contains(out, `moved 1 bookmarks from "Almaty" to "Shymkent"`) {
		t.Errorf("mv: %s", out)
	}
	if len(caseJSON(t, db, "Almaty").Bookmarks) != 1 || len(caseJSON(t, db, "Shymkent").Bookmarks) != 1 {
		t.Fatal("mv did not move")
	}
	out = runCmd(t, "case", "merge", "--db", db, "Shymkent", "Almaty")
	if !strings.Contains(out, `merged "Almaty" into "Shymkent"`) || len(caseJSON(t, db, "Shymkent").Bookmarks) != 2 {
		t.Errorf("merge: %s", out)
	}
	if err := runErr("case", "show", "--db", db, "Almaty"); err == nil {
		t.Error("the merged case is still there")
	}
	out = runCmd(t, "case", "undo", "--db", db)
	if !strings.Contains(out, `undid: merged case "Almaty"`) {
		t.Errorf("first undo: %s", out)
	}
	out = runCmd(t, "case", "undo", "--db", db)
	if !strings.Contains(out, `undid: moved bookmark`) || len(caseJSON(t, db, "Almaty").Bookmarks) != 2 {
		t.Errorf("second undo: %s", out)
	}

	runCmd(t, "case", "status", "--db", db, "Almaty", "referred")
	if err := runErr("case", "add", "--db", db, "Almaty", "exchange:EX-0001"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("add to a referred case: %v", err)
	}
	if err := runErr("case", "note", "--db", db, "Almaty", "x"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("note on a referred case: %v", err)
	}
	runCmd(t, "case", "status", "--db", db, "Almaty", "open")
	runCmd(t, "case", "note", "--db", db, "Almaty", "x")
	out = runCmd(t, "journal", "--db", db, "verify")
	if !strings.Contains(strings.ToLower(out), "ok") {
		t.Errorf("journal verify: %s", out)
	}
}
