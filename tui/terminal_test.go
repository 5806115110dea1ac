package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
)

// hostileName would write the clipboard (OSC 52), clear the screen and
// reverse the rest of the line if it reached the terminal raw.
const hostileName = "Evil\x1b]52;c;cm0gLXJmIH4K\a\x1b[2J\u009b31m\u202egpj.exe"

func rawControl(s string) string {
	for _, bad := range []string{"\x1b]", "\x1b[2J", "\a", "\u009b", "\u202e", "\r"} {
		if strings.Contains(s, bad) {
			return bad
		}
	}
	return ""
}

// TestViewAndTitleAreInert: a hostile name on the entity screen, in the
// neighbours, in a payment reference and in the window title reaches the
// terminal only as visible escapes.
func TestViewAndTitleAreInert(t *testing.T) {
	f := newFake()
	for _, r := range []graph.Ref{refAkhmetov, refCard2} {
		e := f.ents[r]
		e.Name = hostileName
		e.Props = map[string]string{"note\x1b[2J": "x\x1b]0;title\a\u202e"}
		f.ents[r] = e
	}
	for i := range f.txns {
		f.txns[i].Reference = "\x1b]52;c;eA==\a ref"
	}
	for _, start := range []graph.Ref{refAkhmetov, refCard} {
		m := New(f, Options{Start: &start})
		run(t, m, tea.WindowSizeMsg{Width: 160, Height: 50})
		for _, msg := range expand(m.Init()) {
			run(t, m, msg)
		}
		v := m.View()
		if bad := rawControl(v.Content); bad != "" {
			t.Errorf("%s: screen holds raw %q", start, bad)
		}
		if strings.ContainsAny(v.WindowTitle, "\x1b\a\u009b\u202e") {
			t.Errorf("%s: window title %q holds a control", start, v.WindowTitle)
		}
		if start == refAkhmetov && !strings.Contains(v.WindowTitle, "Evil␛]52;c;") {
			t.Errorf("window title %q does not show the name escaped", v.WindowTitle)
		}
		if !strings.Contains(screenText(m), "Evil␛]52;c;") {
			t.Errorf("%s: the hostile name is not shown escaped:\n%s", start, screenText(m))
		}
	}
}
