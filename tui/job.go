package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"
)

// progressUpdate is one progress report of a background job.
type progressUpdate struct {
	stage       string
	done, total int
}

// bgJob is a cancellable background run that reports progress: the
// analysis and its screens' queries, the Resolve screen's resolution.
type bgJob struct {
	busy   bool
	seq    int // of the latest job; results of earlier ones are dropped
	cancel context.CancelFunc
	progCh chan progressUpdate
	prog   progressUpdate
}

// start cancels the running job, if any, and starts a new one: its
// context (cancelled by stop or the next start) and sequence number.
func (j *bgJob) start(parent context.Context) (context.Context, int) {
	if j.cancel != nil {
		j.cancel()
	}
	ctx, cancel := context.WithCancel(parent)
	j.seq++
	j.busy, j.cancel, j.progCh = true, cancel, nil
	j.prog = progressUpdate{}
	return ctx, j.seq
}

// reportTo gives the running job a progress channel, showing stage until
// the first report.
func (j *bgJob) reportTo(stage string) chan progressUpdate {
	j.progCh = make(chan progressUpdate, 1)
	j.prog = progressUpdate{stage: stage}
	return j.progCh
}

// end marks job seq finished; false when a newer job replaced it (its
// result no longer applies).
func (j *bgJob) end(seq int) bool {
	if seq != j.seq {
		return false
	}
	j.stop()
	return true
}

// abandon stops the running job at the user's request; whatever it still
// returns is dropped.
func (j *bgJob) abandon() {
	j.stop()
	j.seq++
}

func (j *bgJob) stop() {
	if j.cancel != nil {
		j.cancel()
	}
	j.busy, j.cancel, j.progCh = false, nil, nil
}

// current reports whether a progress report on ch is the running job's.
func (j *bgJob) current(ch chan progressUpdate) bool { return j.busy && ch == j.progCh }

// progressTo returns a progress callback that never blocks the job: a
// report the TUI has not read yet is replaced by the newer one.
func progressTo(ch chan progressUpdate) func(stage string, done, total int) {
	return func(stage string, done, total int) {
		p := progressUpdate{stage: stage, done: done, total: total}
		for range 2 {
			select {
			case ch <- p:
				return
			default:
			}
			select {
			case <-ch:
			default:
			}
		}
	}
}

// waitFor reads the next progress report of ch and wraps it in the
// screen's message; nil once the job closed ch.
func waitFor(ch chan progressUpdate, wrap func(chan progressUpdate, progressUpdate) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		p, ok := <-ch
		if !ok {
			return nil
		}
		return wrap(ch, p)
	}
}
