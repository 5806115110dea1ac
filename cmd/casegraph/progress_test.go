package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"casegraph/store"
	"casegraph/workbench"
)

// screen is what a terminal shows after out: each "\r\x1b[2K" redraw
// replaces the line it is on.
func screen(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if i := strings.LastIndex(l, "\r\x1b[2K"); i >= 0 {
			l = l[i+len("\r\x1b[2K"):]
		}
		lines = append(lines, l)
	}
	return lines
}

var stageLine = regexp.MustCompile(`^(\S+(?: \S+)*)\s+([\d,]+) done  in \S+$`)

// TestProgressLeavesASummary: after an import on a terminal, the screen
// holds one line per file and one per stage with its count and time: no
// bar (a "totals 0% 0 of 1" was left after the demo), each stage once.
// Both the bulk import into an empty database and the incremental one
// that follows are checked.
func TestProgressLeavesASummary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files, err := workbench.ExpandInputs([]string{filepath.Join("..", "..", "testdata", "canonical")})
	if err != nil {
		t.Fatal(err)
	}
	for round, fs := range [][]string{files[:len(files)-1], files[len(files)-1:]} {
		var buf bytes.Buffer
		p := newProgress(&buf)
		p.tty = true
		if _, err := newBackend(db).Import(context.Background(), fs, filepath.Join(t.TempDir(), "r.csv"), p, nil); err != nil {
			t.Fatal(err)
		}
		lines := screen(buf.String())
		seen := map[string]int{}
		for _, l := range lines {
			if strings.Contains(l, "%") || strings.Contains(l, "[") {
				t.Errorf("round %d: a bar is left on the screen: %q", round, l)
			}
			if m := stageLine.FindStringSubmatch(l); m != nil {
				seen[m[1]]++
				if m[2] == "0" {
					t.Errorf("round %d: stage with nothing done: %q", round, l)
				}
			}
		}
		for stage, n := range seen {
			if n != 1 {
				t.Errorf("round %d: stage %s summarised %d times:\n%s", round, stage, n, strings.Join(lines, "\n"))
			}
		}
		if seen["search"] != 1 {
			t.Errorf("round %d: no search stage summary:\n%s", round, strings.Join(lines, "\n"))
		}
		if round == 0 && seen["write"] != 1 {
			t.Errorf("bulk import: no write stage summary:\n%s", strings.Join(lines, "\n"))
		}
		if round == 0 && seen["totals"] != 0 {
			t.Errorf("bulk import: a totals stage (written within the write stage):\n%s", strings.Join(lines, "\n"))
		}
		if round == 1 && seen["totals"] != 1 {
			t.Errorf("incremental import: no totals summary:\n%s", strings.Join(lines, "\n"))
		}
		if !strings.HasSuffix(buf.String(), "\n") {
			t.Errorf("round %d: the cursor is left on a progress line", round)
		}
	}
}

// TestProgressStageSummaryCountsTheEnd: a stage whose total is an
// estimate that moves (the bulk write) is summarised with the count it
// reached, and a stage that never reported its end still gets one line.
func TestProgressStageSummaryCountsTheEnd(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.tty = true
	p.Stage("write", 10, 100)
	p.Stage("write", 150, 150)
	p.Stage("write", 170, 170)
	p.Stage("totals", 0, 5)
	p.Stage("totals", 3, 5)
	p.Done()
	got := screen(buf.String())
	if len(got) != 2 || !strings.HasPrefix(got[0], "write") || !strings.Contains(got[0], " 170 done") ||
		!strings.HasPrefix(got[1], "totals") || !strings.Contains(got[1], " 3 done") {
		t.Errorf("summary:\n%q", got)
	}
}
