package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestJourney drives the real program: search a person, open them, open
// their card from the neighbours, go back.
func TestJourney(t *testing.T) {
	m := New(newFake(), Options{})
	tm, wait := startJourney(t, m)
	wait("press / to search")
	tm.Type("/")
	wait("Latin and Cyrillic")
	tm.Type("ахмет")
	wait("1 of 1 matches")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("persons.csv:2")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter}) // first neighbour: the card the person holds
	// The card's own properties: its transactions' footer reads as the
	// person's did (they hold only this card), so the diff renderer may not
	// draw it again.
	wait("Kaspi Bank")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyLeft})
	wait("persons.csv:2")
	fm := endJourney(t, tm)
	if fm.ent.ref != refAkhmetov || fm.pos != 0 || len(fm.hist) != 2 || fm.hist[1].Ref != refCard {
		t.Fatalf("final state: ref %v pos %d hist %+v", fm.ent.ref, fm.pos, fm.hist)
	}
}
