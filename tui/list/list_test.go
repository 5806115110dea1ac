package list

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"

	"casegraph/tui/theme"
)

func press(s string) tea.KeyPressMsg {
	switch s {
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func names(n int) func(int) string {
	return func(i int) string { return fmt.Sprintf("row %02d", i) }
}

// TestPageDownSeesEveryRow: pgdn moves exactly one screenful, so the rows
// on screen, page after page, are every row once.
func TestPageDownSeesEveryRow(t *testing.T) {
	for _, h := range []int{1, 7, 21, 50, 60} {
		l := New(theme.New(true))
		l.SetHeight(h)
		l.Reset(50, 50, names(50))
		seen := map[int]bool{}
		for range 60 {
			for _, i := range l.Visible() {
				seen[i] = true
			}
			l.Update(press("pgdown"))
		}
		if len(seen) != 50 {
			t.Errorf("height %d: saw %d of 50 rows", h, len(seen))
		}
		if i, _ := l.Index(); i != 49 {
			t.Errorf("height %d: cursor on %d after paging down, want 49", h, i)
		}
		l.Update(press("home"))
		if i, _ := l.Index(); i != 0 || l.Offset() != 0 {
			t.Errorf("home: row %d offset %d", i, l.Offset())
		}
	}
}

func TestNeedMoreBeforeTheLoadedRowsRunOut(t *testing.T) {
	l := New(theme.New(true))
	l.SetHeight(20)
	l.Reset(50, 130, names(50))
	if l.NeedMore() {
		t.Fatal("asked for more on the first page")
	}
	l.Update(press("pgdown"))
	if !l.NeedMore() {
		t.Fatal("did not ask for more a screenful before the end")
	}
	l.SetRows(100, names(100))
	if i, _ := l.Index(); i != 20 {
		t.Fatalf("appending moved the cursor to %d", i)
	}
	if got := l.Footer(); got != "21–40 of 130" {
		t.Fatalf("footer %q", got)
	}
}

func TestFilter(t *testing.T) {
	l := New(theme.New(true))
	l.SetHeight(10)
	l.Reset(30, 30, names(30))
	l.Update(press("/"))
	for _, r := range "ROW 1" {
		l.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	if got := l.Listed(); len(got) != 12 || got[0] != 1 || got[1] != 10 || got[11] != 21 {
		t.Fatalf("filter listed %v", got)
	}
	if !l.ShowFilter() || l.Rows() != 9 {
		t.Fatalf("filter line: show %v rows %d", l.ShowFilter(), l.Rows())
	}
	l.Update(press("enter"))
	if _, handled := l.Update(press("j")); !handled {
		t.Fatal("j after enter is not a move")
	}
	if i, _ := l.Index(); i != 10 {
		t.Fatalf("cursor on %d, want 10", i)
	}
	if _, handled := l.Update(press("esc")); !handled || l.Len() != 30 {
		t.Fatalf("esc did not clear the filter: %d listed", l.Len())
	}
	if i, _ := l.Index(); i != 10 {
		t.Fatalf("clearing the filter lost the selection: %d", i)
	}
	if _, handled := l.Update(press("esc")); handled {
		t.Fatal("esc without a filter should go to the owner")
	}
}

func TestWheel(t *testing.T) {
	l := New(theme.New(true))
	l.SetHeight(5)
	l.Reset(10, 10, names(10))
	l.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if i, _ := l.Index(); i != WheelStep {
		t.Fatalf("wheel: row %d", i)
	}
}
