package pane

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"casegraph/tui/theme"
)

func TestFitMeasuresCells(t *testing.T) {
	st := theme.New(true)
	for _, tc := range []struct {
		in   string
		w    int
		want string
	}{
		{"Ахметов Жанболат", 10, "Ахметов Ж…"},
		{"Өмір", 6, "Өмір  "},
		{st.Accent.Render("4400 43•• •••• 7894"), 12, "4400 43•• •…"},
		{"", 3, "   "},
	} {
		got := Fit(tc.in, tc.w)
		if ansi.Strip(got) != tc.want || ansi.StringWidth(got) != tc.w {
			t.Errorf("Fit(%q, %d) = %q, want %q", ansi.Strip(tc.in), tc.w, ansi.Strip(got), tc.want)
		}
	}
	if got := Right("495,000 ₸", 12); got != "   495,000 ₸" {
		t.Errorf("Right = %q", got)
	}
}

func TestBoxIsExactSize(t *testing.T) {
	st := theme.New(false)
	lines := Box(st, "Транзакции · sort time ↓ and a very long title that must be cut", "1–50 of 130",
		[]string{"ТенгеОбмен24 ⚠ a line that is far too long for the frame it sits in", "short"}, 30, 6, true)
	if len(lines) != 6 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != 30 {
			t.Errorf("line %d is %d wide: %q", i, w, ansi.Strip(l))
		}
	}
	if s := ansi.Strip(lines[0]); !strings.HasPrefix(s, "╭─ Транзакции") || !strings.HasSuffix(s, "╮") {
		t.Errorf("top = %q", s)
	}
	if s := ansi.Strip(lines[5]); !strings.Contains(s, "1–50 of 130") {
		t.Errorf("bottom = %q", s)
	}
}

// TestFitMiddleKeepsTheEnd: an identifier cut from the middle keeps its
// distinguishing end, styled or not, at exactly w cells.
func TestFitMiddleKeepsTheEnd(t *testing.T) {
	for _, tc := range []struct {
		s    string
		w    int
		want string
	}{
		{"4400 43•• •••• 0016", 12, "440…••• 0016"},
		{"KZ38 722S 8687 5237 1234", 14, "KZ38…5237 1234"},
		{"DEV-E633C400", 8, "DE…3C400"},
		{"short", 8, "short   "},
		{"abcdef", 2, "ef"},
	} {
		for _, styled := range []bool{false, true} {
			s := tc.s
			if styled {
				s = "\x1b[1m" + s + "\x1b[0m"
			}
			got := FitMiddle(s, tc.w)
			if w := ansi.StringWidth(got); w != tc.w {
				t.Errorf("FitMiddle(%q, %d) is %d cells: %q", s, tc.w, w, got)
			}
			if plain := ansi.Strip(got); plain != tc.want {
				t.Errorf("FitMiddle(%q, %d) = %q, want %q", s, tc.w, plain, tc.want)
			}
		}
	}
}
