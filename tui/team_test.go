package tui

import (
	"testing"

	"casegraph/graph"
)

// TestChangedMsgShowsAnotherUsersChange: a verdict another user recorded
// reaches the Flags list and the status line names them; the cases are
// read again.
func TestChangedMsgShowsAnotherUsersChange(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Remote: true})
	press(t, m, "F")
	if _, err := f.SetVerdict(m.ctx, refCard, graph.VerdictConfirmed, "seen at the ATM"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CreateCase(m.ctx, "Shared"); err != nil {
		t.Fatal(err)
	}
	run(t, m, ChangedMsg{User: "alice", What: "marked card confirmed", Ref: refCard})
	if m.ana.flags.list.Rows[0].Verdict != graph.VerdictConfirmed {
		t.Fatal("the Flags list does not show alice's verdict")
	}
	if len(m.cs.cases) != 1 || m.cs.cases[0].Name != "Shared" {
		t.Errorf("cases not read again: %+v", m.cs.cases)
	}
	requireContains(t, m, "✓ 4400", "alice marked card confirmed")
}

// TestRemoteHasNoEditor: over the team server, ctrl+e in a note dialog
// says there is no external editor instead of running one on the server.
func TestRemoteHasNoEditor(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Remote: true})
	seedCases(t, f)
	press(t, m, "c", "n")
	d := m.dialog()
	if d == nil || d.kind != dialogNoteCase {
		t.Fatalf("n did not open the notes dialog: %+v", d)
	}
	run(t, m, keyPress("ctrl+e"))
	requireContains(t, m, "no external editor over the team server")
}
