package tui

import (
	"context"
	"testing"
)

func TestBgJobDropsReplacedAndAbandonedRuns(t *testing.T) {
	var j bgJob
	ctx1, s1 := j.start(context.Background())
	ch1 := j.reportTo("starting")
	if !j.busy || !j.current(ch1) || j.prog.stage != "starting" {
		t.Fatalf("after start: %+v", j)
	}
	ctx2, s2 := j.start(context.Background())
	if ctx1.Err() == nil {
		t.Error("a newer start did not cancel the running job")
	}
	if j.current(ch1) {
		t.Error("the replaced job's progress still counts")
	}
	if j.end(s1) {
		t.Error("the replaced job's result was accepted")
	}
	if !j.end(s2) || j.busy || ctx2.Err() == nil {
		t.Errorf("ending the current job: busy %v, ctx %v", j.busy, ctx2.Err())
	}
	_, s3 := j.start(context.Background())
	j.abandon()
	if j.busy || j.end(s3) {
		t.Error("an abandoned job's result was accepted")
	}
}

func TestProgressToNeverBlocksAndKeepsTheLatest(t *testing.T) {
	ch := make(chan progressUpdate, 1)
	report := progressTo(ch)
	for i := range 100 { // nobody reads: must not block
		report("scan", i, 100)
	}
	if p := <-ch; p.done != 99 {
		t.Errorf("kept report %d, want the latest (99)", p.done)
	}
}
