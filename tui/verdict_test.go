package tui

import (
	"strings"
	"testing"

	"casegraph/graph"
)

func TestFlagsScreenVerdictKeys(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	press(t, m, "F")
	if row, _ := m.ana.flags.selected(); row.Ref != refCard {
		t.Fatalf("first row %v, want the card", row.Ref)
	}
	press(t, m, "y")
	if v := f.verdicts[refCard]; v.Kind != graph.VerdictConfirmed {
		t.Fatalf("y on the card: backend has %+v", v)
	}
	if m.ana.flags.list.Rows[0].Verdict != graph.VerdictConfirmed {
		t.Fatal("the row does not carry the verdict")
	}
	requireContains(t, m, "✓ 4400", "verdict ✓ confirmed", "confirmed 4400 43•• •••• 7894 (journalled; u withdraws)")

	// n on the next row dismisses it; the scores stay as they were.
	press(t, m, "down", "n")
	if v := f.verdicts[refAkhmetov]; v.Kind != graph.VerdictDismissed {
		t.Fatalf("n on the holder: backend has %+v", v)
	}
	requireContains(t, m, "✗ Ахметов")
	if r := m.ana.flags.list.Rows[1]; r.Score != 0.82 || len(r.Rules) != 2 {
		t.Errorf("a verdict changed the row's risk: %+v", r)
	}
	// A reload (r then R) keeps the verdicts: they come from the backend.
	press(t, m, "r", "R")
	if m.ana.flags.list.Rows[0].Verdict != graph.VerdictConfirmed || m.ana.flags.list.Rows[1].Verdict != graph.VerdictDismissed {
		t.Fatalf("after reload: %+v / %+v", m.ana.flags.list.Rows[0].Verdict, m.ana.flags.list.Rows[1].Verdict)
	}
	// u withdraws; a second u says there is nothing to withdraw.
	press(t, m, "down", "u")
	if _, ok := f.verdicts[refAkhmetov]; ok {
		t.Fatal("u did not withdraw the verdict")
	}
	if s := screenText(m); strings.Contains(s, "✗ Ахметов") {
		t.Errorf("the withdrawn verdict is still shown:\n%s", s)
	}
	press(t, m, "u")
	requireContains(t, m, "has no verdict to withdraw")
	if m.statusErr {
		t.Error("withdrawing nothing is not an error")
	}
	// The help lists the keys.
	press(t, m, "?")
	requireContains(t, m, "verdict: confirm", "verdict: dismiss", "withdraw verdict")
}

func TestEntityViewVerdictKeys(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refAkhmetov})
	if s := screenText(m); strings.Contains(s, "verdict") {
		t.Fatalf("an entity without a verdict shows one:\n%s", s)
	}
	press(t, m, "n")
	if v := f.verdicts[refAkhmetov]; v.Kind != graph.VerdictDismissed {
		t.Fatalf("n on the entity view: backend has %+v", v)
	}
	requireContains(t, m, "verdict", "✗ dismissed · aigerim")
	press(t, m, "y")
	requireContains(t, m, "✓ confirmed · aigerim")
	// The verdict is read again when the entity is opened again.
	m.ana.verdict = entityVerdict{}
	run(t, m, m.loadVerdict(refAkhmetov)())
	requireContains(t, m, "✓ confirmed")
	press(t, m, "u")
	if _, ok := f.verdicts[refAkhmetov]; ok {
		t.Fatal("u did not withdraw the verdict")
	}
	if s := screenText(m); strings.Contains(s, "confirmed ·") {
		t.Errorf("withdrawn verdict still on the page:\n%s", s)
	}
	press(t, m, "?")
	requireContains(t, m, "verdict: confirm", "withdraw verdict")
}

func TestVerdictNoteDialog(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	press(t, m, "F", "N")
	requireContains(t, m, "has no verdict yet")
	if m.dialog() != nil {
		t.Fatal("N without a verdict opened the note dialog")
	}
	press(t, m, "y", "N")
	if m.dialog() == nil || m.dialog().kind != dialogVerdictNote {
		t.Fatal("N did not open the note dialog")
	}
	requireContains(t, m, "Note on 4400 43•• •••• 7894 · confirmed")
	typeText(t, m, "seen at ATM-ALA-0042")
	run(t, m, ctrlS)
	if m.dialog() != nil {
		t.Fatal("dialog still open after ctrl+s")
	}
	if v := f.verdicts[refCard]; v.Kind != graph.VerdictConfirmed || v.Note != "seen at ATM-ALA-0042" {
		t.Fatalf("after the note: %+v", v)
	}
	requireContains(t, m, "verdict ✓ confirmed — seen at ATM-ALA-0042")
	// Changing the verdict keeps the note; the dialog reopens with it.
	press(t, m, "n")
	if v := f.verdicts[refCard]; v.Kind != graph.VerdictDismissed || v.Note != "seen at ATM-ALA-0042" {
		t.Fatalf("n after the note: %+v", v)
	}
	press(t, m, "N")
	if m.dialog() == nil || m.dialog().noteValue() != "seen at ATM-ALA-0042" {
		t.Fatal("the note dialog does not start from the note")
	}
	press(t, m, "esc")
	if m.dialog() != nil || m.screenName() != "flags" {
		t.Fatal("esc should close the dialog and stay on the Flags screen")
	}
}
