package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"

	"casegraph/importers"
	"casegraph/internal/safetext"
	"casegraph/workbench"
)

// progress reports long work on stderr: a redrawn bar with rows/s on a
// terminal, plain lines every few seconds otherwise (logs, CI, pipes).
// What stays on the screen is a summary: one line per file and per stage
// with its count and time, never a bar left half-drawn.
type progress struct {
	w        io.Writer
	tty      bool
	name     string
	size     int64
	start    time.Time
	last     time.Time
	lastLine string
	// staged: a Stage is running; done is its last count.
	staged bool
	done   int64
}

// progress draws imports (workbench.ImportProgress) as well as the stages
// of other long work.
var _ workbench.ImportProgress = (*progress)(nil)

func newProgress(w io.Writer) *progress {
	// The bar redraws itself with "\r\x1b[2K": it writes to the terminal
	// underneath run's sanitising writer and sanitises its own text (file
	// names) in draw.
	if u, ok := w.(interface{ Unwrap() io.Writer }); ok {
		w = u.Unwrap()
	}
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		p.tty = term.IsTerminal(f.Fd())
	}
	return p
}

func (p *progress) StartFile(name string, size int64) {
	p.endStage()
	p.name, p.size = name, size
	p.start, p.last = time.Now(), time.Time{}
	p.Update(0, 0)
}

// Update is importers.Options.Progress.
func (p *progress) Update(bytesRead int64, rows int) {
	if p == nil {
		return
	}
	now := time.Now()
	if !p.due(now, false) {
		return
	}
	rate := 0.0
	if el := now.Sub(p.start).Seconds(); el > 0 {
		rate = float64(rows) / el
	}
	frac := 0.0
	if p.size > 0 {
		frac = min(1, float64(bytesRead)/float64(p.size))
	}
	p.draw(fmt.Sprintf("%-22s %s %3.0f%%  %s rows  %s rows/s", p.name, bar(frac, 24), frac*100,
		count(rows), count(int(rate))))
}

// due reports whether a line should be drawn now: ten times a second on a
// terminal, every five seconds in a log, always for the first and last.
func (p *progress) due(now time.Time, final bool) bool {
	every := 100 * time.Millisecond
	if !p.tty {
		every = 5 * time.Second
	}
	if !final && !p.last.IsZero() && now.Sub(p.last) < every {
		return false
	}
	p.last = now
	return true
}

func (p *progress) EndFile(r importers.Report) {
	if p == nil {
		return
	}
	el := time.Since(p.start)
	rate := float64(r.Read) / max(el.Seconds(), 1e-9)
	p.draw(fmt.Sprintf("%-22s %12s rows  %s rejected  in %s (%s rows/s)", p.name,
		count(r.Read), count(r.Rejected), took(el), count(int(rate))))
	p.newline()
}

// Stage is the store's progress callback for the work after parsing
// (sorting, writing, indexing), and the generator's. A stage ends when
// another begins, a file starts, or Done.
func (p *progress) Stage(stage string, done, total int64) {
	if p == nil {
		return
	}
	if !p.staged || p.name != stage {
		p.endStage()
		p.name, p.staged = stage, true
		p.start, p.last = time.Now(), time.Time{}
	}
	p.done = done
	if !p.due(time.Now(), done == total) {
		return
	}
	frac := 0.0
	if total > 0 {
		frac = min(1, float64(done)/float64(total))
	}
	p.draw(fmt.Sprintf("%-22s %s %3.0f%%  %s of %s", stage, bar(frac, 24), frac*100,
		count(int(done)), count(int(total))))
}

// endStage replaces a running stage's bar by its summary: the count it
// reached and how long it took. (A stage's total may be an estimate that
// moves as it runs, and a bar may not have been drawn at its end.)
func (p *progress) endStage() {
	if !p.staged {
		return
	}
	p.staged = false
	p.draw(fmt.Sprintf("%-22s %12s done  in %s", p.name, count(int(p.done)), took(time.Since(p.start))))
	p.newline()
}

// Done ends the last stage, leaving the cursor on a fresh line.
func (p *progress) Done() {
	if p == nil {
		return
	}
	p.endStage()
	if p.tty && p.lastLine != "" {
		p.newline()
	}
}

// took rounds a duration for a summary line.
func took(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func (p *progress) draw(line string) {
	line = safetext.Line(line)
	p.lastLine = line
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[2K%s", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) newline() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
	p.lastLine = ""
}

func bar(frac float64, width int) string {
	n := int(frac * float64(width))
	return "[" + strings.Repeat("█", n) + strings.Repeat("·", width-n) + "]"
}
