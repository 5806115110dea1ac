package chart

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/tui/theme"
)

func TestSparkline(t *testing.T) {
	for _, c := range []struct {
		counts []int
		w      int
		want   string
	}{
		{[]int{0, 1, 2, 4, 8}, 5, " ▁▂▄█"},
		{[]int{3, 0, 0, 3}, 4, "█  █"},
		{[]int{1, 1, 0, 0, 2, 2}, 3, "▄ █"}, // two periods a cell
		{nil, 3, "   "},
	} {
		if got := Sparkline(c.counts, c.w); got != c.want {
			t.Errorf("Sparkline(%v, %d) = %q, want %q", c.counts, c.w, got, c.want)
		}
	}
}

// structured is an activity with a cliff: many amounts just under the
// threshold, few just over.
func structured() graph.Activity {
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	a := graph.NewActivity(from, from.AddDate(0, 0, 30), 60, nil)
	th := map[string]int64{"KZT": 500_000_00}
	add := func(n int, amount int64, day int) {
		for range n {
			a.Add(from.AddDate(0, 0, day), graph.DirIn, amount, graph.ThresholdOf(th, "KZT"), graph.Ref{}, false)
		}
	}
	add(40, 495_000_00, 3)
	add(5, 420_000_00, 5)
	add(2, 520_000_00, 9)
	add(10, 30_000_00, 20)
	return a
}

// The row of amounts in [90 %, 100 %) is the one marked, at every height;
// the threshold rule sits right under it.
func TestHistogramMarksCliff(t *testing.T) {
	st := theme.New(true)
	a := structured()
	for _, h := range []int{3, 5, 8, 12, 24, 40} {
		for _, w := range []int{40, 76, 120} {
			lines := Histogram(st, a.Hist, 500_000_00, "KZT", w, h)
			if len(lines) != h {
				t.Fatalf("%dx%d: %d lines", w, h, len(lines))
			}
			marked := -1
			for i, l := range lines {
				l = ansi.Strip(l)
				if ansi.StringWidth(l) != w {
					t.Fatalf("%dx%d line %d is %d wide: %q", w, h, i, ansi.StringWidth(l), l)
				}
				if strings.Contains(l, "◀") {
					if marked >= 0 {
						t.Fatalf("%dx%d: two rows marked", w, h)
					}
					marked = i
				}
			}
			if marked < 0 {
				t.Fatalf("%dx%d: the cliff is not marked:\n%s", w, h, ansi.Strip(strings.Join(lines, "\n")))
			}
			row := ansi.Strip(lines[marked])
			if !strings.Contains(row, "450k–500k") || !strings.Contains(row, "40") {
				t.Fatalf("%dx%d: marked row %q is not the 40 amounts of 450k–500k", w, h, row)
			}
			if marked+1 < h && !strings.Contains(ansi.Strip(lines[marked+1]), "reporting threshold 500,000 ₸") {
				t.Fatalf("%dx%d: no threshold rule under the cliff: %q", w, h, ansi.Strip(lines[marked+1]))
			}
			if !strings.Contains(ansi.Strip(lines[0]), "40 of 57 amounts in [90 %, 100 %)") {
				t.Fatalf("%dx%d heading %q", w, h, ansi.Strip(lines[0]))
			}
		}
	}
}

func keyMsg(s string) tea.KeyPressMsg {
	switch s {
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	return tea.KeyPressMsg{Code: rune(s[0]), Text: s}
}

// The cursor and the range move by period; enter reports the range's
// times, x clears it.
func TestTimelineBrush(t *testing.T) {
	tl := NewTimeline(theme.New(true), time.UTC)
	tl.SetSize(60, 12)
	a := structured()
	tl.SetActivity(a)
	if lo, hi := tl.Range(); lo != 20 || hi != 20 {
		t.Fatalf("cursor starts at %d…%d, want the last active day 20", lo, hi)
	}
	press := func(keys ...string) tea.Cmd {
		var cmd tea.Cmd
		for _, k := range keys {
			tl, cmd, _ = tl.Update(keyMsg(k))
		}
		return cmd
	}
	press("left", "left", "H", "H", "H")
	if lo, hi := tl.Range(); lo != 15 || hi != 18 || !tl.Ranging() {
		t.Fatalf("range %d…%d, want 15…18", lo, hi)
	}
	msg := press("enter")().(BrushedMsg)
	from, to := a.BucketRange(15, 18)
	if !msg.From.Equal(from) || !msg.To.Equal(to) || to.Sub(from) != 4*24*time.Hour {
		t.Fatalf("brushed %v…%v, want %v…%v", msg.From, msg.To, from, to)
	}
	if _, ok := press("x")().(ClearedMsg); !ok || tl.Ranging() {
		t.Fatal("x did not clear the range")
	}
	lines := tl.Lines()
	if len(lines) != 12 {
		t.Fatalf("%d lines", len(lines))
	}
	text := ansi.Strip(strings.Join(lines, "\n"))
	for _, want := range []string{"in above the axis", "out below", "╵Mar 01", "▸ 2025-03-16"} {
		if !strings.Contains(text, want) {
			t.Fatalf("timeline lacks %q:\n%s", want, text)
		}
	}
}

// The histogram's cursor starts on the cliff; ↑/↓ move it, K/J and space
// make a band, enter reports the buckets, x clears; the window of rows
// follows the cursor when they do not all fit.
func TestHistSelectsBand(t *testing.T) {
	a := structured()
	hs := NewHist(theme.New(true))
	hs.SetSize(60, 8)
	hs.SetData(a.Hist, 500_000_00, "KZT")
	hs.SetFocused(true)
	press := func(keys ...string) tea.Cmd {
		var cmd tea.Cmd
		for _, k := range keys {
			var ok bool
			if hs, cmd, ok = hs.Update(keyMsg(k)); !ok {
				t.Fatalf("key %q not taken", k)
			}
		}
		return cmd
	}
	if msg := press("enter")().(BandMsg); msg.First != graph.HistCliff || msg.Last != graph.HistCliff {
		t.Fatalf("enter at the start: %+v, want the cliff", msg)
	}
	if lo, hi, cur := hs.Amounts(); lo != 450_000_00 || hi != 500_000_00 || cur != "KZT" || hs.Count() != 40 {
		t.Fatalf("the cliff's band: [%d, %d) %s, %d amounts", lo, hi, cur, hs.Count())
	}
	press("up", "J", "J")
	if first, last := hs.Band(); first != graph.HistCliff-1 || last != graph.HistCliff+1 {
		t.Fatalf("band %d…%d, want %d…%d", first, last, graph.HistCliff-1, graph.HistCliff+1)
	}
	if lo, hi, _ := hs.Amounts(); lo != 400_000_00 || hi != 550_000_00 || hs.Count() != 47 {
		t.Fatalf("band [%d, %d) with %d amounts, want [400k, 550k) with 47", lo, hi, hs.Count())
	}
	// marked is the gutter of the row labelled lbl.
	marked := func(lbl string) string {
		for _, l := range hs.Lines() {
			if l = ansi.Strip(l); strings.Contains(l, lbl) {
				return strings.TrimSpace(l[:strings.Index(l, lbl)])
			}
		}
		return "no row"
	}
	for lbl, want := range map[string]string{"500k–550k": "▸", "450k–500k": "┃", "400k–450k": "┃", "550k–625k": ""} {
		if got := marked(lbl); got != want {
			t.Fatalf("row %s is marked %q, want %q:\n%s", lbl, got, want, ansi.Strip(strings.Join(hs.Lines(), "\n")))
		}
	}
	if _, ok := press("x")().(BandClearedMsg); !ok {
		t.Fatal("x did not clear the band")
	}
	if first, last := hs.Band(); first != last {
		t.Fatalf("x left a band %d…%d", first, last)
	}
	press("home")
	lines := hs.Lines()
	if len(lines) != 8 {
		t.Fatalf("%d lines", len(lines))
	}
	if got := marked("0–5,000"); got != "▸" {
		t.Fatalf("home: the smallest row is marked %q, want the cursor:\n%s", got, ansi.Strip(strings.Join(lines, "\n")))
	}
	if lo, hi, _ := hs.Amounts(); lo != 0 || hi != 5_000_00 {
		t.Fatalf("the first bucket is open below: [%d, %d)", lo, hi)
	}
	// Unfocused, the cursor is not drawn.
	hs.SetFocused(false)
	if text := ansi.Strip(strings.Join(hs.Lines(), "\n")); strings.Contains(text, "▸") {
		t.Fatalf("an unfocused histogram draws its cursor:\n%s", text)
	}
}
