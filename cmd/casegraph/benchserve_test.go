package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchServeSessions: the team-server load test runs end to end on a
// small database — real SSH clients type and page, every keystroke's
// results are found on their screens — without asserting times.
func TestBenchServeSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs SSH sessions for a few seconds")
	}
	db := fixtureDB(t)
	out := runCmd(t, "bench", "--db", db, "--serve-sessions", "2", "--duration", "2s", "--single", "1s", "--json")
	var r serveBenchReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Sessions != 2 || r.Keystroke.N == 0 || r.SingleKey.N == 0 || r.Errors != 0 {
		t.Fatalf("report: %+v", r)
	}
	if r.SingleRSSMiB <= 0 || r.ManyPeakMiB <= 0 {
		t.Errorf("memory not measured: %+v", r)
	}
	if err := runErr("bench", "--db", db, "--serve-sessions", "2", "--duration", "0s"); err == nil || !strings.Contains(err.Error(), "--duration must be positive") {
		t.Errorf("zero duration: %v", err)
	}
}
