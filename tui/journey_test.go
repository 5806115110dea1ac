package tui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// TestJourney drives the real program: search a person, open them, open
// their card from the neighbours, go back.
func TestJourney(t *testing.T) {
	m := New(newFake(), Options{})
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	wait := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	wait("press / to search")
	tm.Type("/")
	wait("Latin and Cyrillic")
	tm.Type("ахмет")
	wait("1 of 1 matches")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("persons.csv:2")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter}) // first neighbour: the card the person holds
	wait("page 1/3")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyLeft})
	wait("persons.csv:2")
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm, ok := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if !ok {
		t.Fatal("final model is not *Model")
	}
	if fm.ent.ref != refAkhmetov || fm.pos != 0 || len(fm.hist) != 2 || fm.hist[1].Ref != refCard {
		t.Fatalf("final state: ref %v pos %d hist %+v", fm.ent.ref, fm.pos, fm.hist)
	}
}
