package tui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// startJourney runs m as a real program in a 120×40 terminal without
// colours. wait blocks until s shows up in the program's output.
// journeyWait bounds each wait of a journey: generous, because CI and a
// developer's machine under load (a full go test ./... on two cores) can
// take seconds for a frame; a journey that works finishes in well under one.
const journeyWait = 30 * time.Second

func startJourney(t *testing.T, m *Model) (tm *teatest.TestModel, wait func(s string)) {
	t.Helper()
	tm = teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	wait = func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
			teatest.WithDuration(journeyWait), teatest.WithCheckInterval(20*time.Millisecond))
	}
	return tm, wait
}

// endJourney quits the program and returns its final model.
func endJourney(t *testing.T, tm *teatest.TestModel) *Model {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm, ok := tm.FinalModel(t, teatest.WithFinalTimeout(journeyWait)).(*Model)
	if !ok {
		t.Fatal("final model is not *Model")
	}
	return fm
}

// onStack reports whether a screen of type T is open.
func onStack[T Screen](m *Model) bool {
	_, ok := find[T](m)
	return ok
}
