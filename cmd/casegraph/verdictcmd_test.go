package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/workbench"
)

// TestVerdictsAndCalibrate runs the verdict and calibrate commands on the
// hand-made case in testdata/rules: verdicts are listed and journalled,
// calibration refuses too few of them, fits on enough, and --apply changes
// what flags reports until --revert.
func TestVerdictsAndCalibrate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "rules"))

	out := runCmd(t, "verdict", "confirm", "--db", db, "iin:990101 300201", "--note", "dropper, case 12")
	if !strings.Contains(out, "confirmed") || !strings.Contains(out, "iin:990101300201") {
		t.Errorf("verdict confirm printed %q", out)
	}
	runCmd(t, "verdict", "dismiss", "--db", db, "exchange:EX-0001", "--note", "licence pending")
	if err := runErr("verdict", "confirm", "--db", db, "iin:990101399999"); err == nil {
		t.Error("a verdict on an entity not in the database was accepted")
	}
	if err := runErr("verdict", "clear", "--db", db, "iin:990101300300"); err == nil || !strings.Contains(err.Error(), "no verdict") {
		t.Errorf("clearing a missing verdict: %v", err)
	}
	var list []verdictOut
	if err := json.Unmarshal([]byte(runCmd(t, "verdict", "list", "--db", db, "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Ref != "iin:990101300201" || list[0].Verdict != "confirmed" || list[0].Note != "dropper, case 12" ||
		list[1].Ref != "exchange:EX-0001" || list[1].Verdict != "dismissed" || list[1].User == "" {
		t.Fatalf("verdict list: %+v", list)
	}

	// The verdicts show in flags; the rule hits do not change.
	flags := runCmd(t, "flags", "--db", db, "--all")
	if !strings.Contains(flags, "exchange:EX-0001  ✗ dismissed: licence pending") || !strings.Contains(flags, "iin:990101300201  ✓ confirmed: dropper, case 12") {
		t.Errorf("flags does not show the verdicts:\n%s", flags)
	}
	if !strings.Contains(flags, "4 shown · 3 subjects") {
		t.Errorf("verdicts changed the flags:\n%s", flags)
	}
	var fj struct {
		Entities []struct {
			Ref, Verdict string
		} `json:"entities"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "flags", "--db", db, "--json")), &fj); err != nil {
		t.Fatal(err)
	}
	for _, e := range fj.Entities {
		if e.Ref == "iin:990101300201" && e.Verdict != "confirmed" {
			t.Errorf("flags --json: the dropper's verdict %q", e.Verdict)
		}
	}

	err := runErr("calibrate", "--db", db)
	if err == nil || !strings.Contains(err.Error(), "at least 5 confirmed and 5 dismissed") || !strings.Contains(err.Error(), "1 confirmed and 1 dismissed") {
		t.Fatalf("calibrate with 2 verdicts: %v", err)
	}

	// The analyst holds the third dropper and the end of the layering chain
	// to be false positives.
	for _, r := range []string{"iin:990101300102", "card:440043100100005", "card:440043100000007", "card:440043100102001"} {
		runCmd(t, "verdict", "confirm", "--db", db, r)
	}
	for _, r := range []string{"iin:990101300300", "card:440043100200003", "card:440043100201001", "iin:990101301001", "iin:990101301100"} {
		runCmd(t, "verdict", "dismiss", "--db", db, r)
	}
	runCmd(t, "verdict", "clear", "--db", db, "iin:990101301100")

	out = runCmd(t, "calibrate", "--db", db, "--l2", "1")
	for _, want := range []string{"5 confirmed, 5 dismissed", "5-fold cross-validation at threshold 0.50", "current ", "fitted ", "R13 ", "not applied"} {
		if !strings.Contains(out, want) {
			t.Errorf("calibrate output lacks %q:\n%s", want, out)
		}
	}
	before := runCmd(t, "flags", "--db", db)
	if !strings.Contains(before, "iin:990101300300") {
		t.Fatal("calibrate without --apply changed the flags")
	}

	var cal workbench.CalibrationOut
	if err := json.Unmarshal([]byte(runCmd(t, "calibrate", "--db", db, "--l2", "1", "--json")), &cal); err != nil {
		t.Fatal(err)
	}
	if cal.Confirmed != 5 || cal.Dismissed != 5 || cal.Folds != 5 || cal.CVCurrent.TP+cal.CVCurrent.FN != 5 || len(cal.Weights) == 0 || cal.Applied != 0 {
		t.Errorf("calibrate --json: %+v", cal)
	}
	out = runCmd(t, "calibrate", "--db", db, "--l2", "1", "--apply")
	if !strings.Contains(out, "applied as rule config version 1") {
		t.Fatalf("calibrate --apply:\n%s", out)
	}
	t.Log(out)
	after := runCmd(t, "flags", "--db", db)
	if strings.Contains(after, "iin:990101300300") || !strings.Contains(after, "2 shown") {
		t.Errorf("after --apply the dismissed dropper is still flagged:\n%s", after)
	}
	if !strings.Contains(after, "iin:990101300201  ✓ confirmed") || !strings.Contains(after, "iin:990101300102  ✓ confirmed") {
		t.Errorf("after --apply a confirmed dropper is no longer flagged:\n%s", after)
	}

	out = runCmd(t, "calibrate", "--db", db, "--revert")
	if !strings.Contains(out, "built-in defaults") {
		t.Errorf("calibrate --revert: %q", out)
	}
	if back := runCmd(t, "flags", "--db", db); back != before {
		t.Errorf("after --revert flags differ from before --apply:\n%s\nwant\n%s", back, before)
	}
	if err := runErr("calibrate", "--db", db, "--revert"); err == nil || !strings.Contains(err.Error(), "nothing to revert") {
		t.Errorf("second revert: %v", err)
	}
	hist := runCmd(t, "calibrate", "--db", db, "--history")
	if !strings.Contains(hist, "apply") || !strings.Contains(hist, "revert") {
		t.Errorf("history:\n%s", hist)
	}

	journal := runCmd(t, "journal", "--db", db)
	for _, want := range []string{"verdict.set", "verdict.clear", "rules.apply", "rules.revert"} {
		if !strings.Contains(journal, want) {
			t.Errorf("journal lacks %s:\n%s", want, journal)
		}
	}
	if out := runCmd(t, "journal", "--db", db, "verify"); !strings.Contains(out, "journal OK") {
		t.Errorf("journal verify: %q", out)
	}
}

// TestBackendVerdicts is the TUI's side: verdicts through the backend show
// in Flags and EntityFlags, with the CLI's notes, and the analysis runs with
// the database's rule config.
func TestBackendVerdicts(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "rules"))
	runCmd(t, "verdict", "confirm", "--db", db, chainB.String(), "--note", "case 12")
	// A stored configuration that switches R13 off.
	cfg := graph.DefaultRuleConfig()
	cfg.R13.Enabled = false
	var buf bytes.Buffer
	if err := cfg.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	s, err := (&dbFlags{dir: db}).open(false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ApplyRuleConfig(ctx, actor(), buf.Bytes(), "test", nil); err != nil {
		t.Fatal(err)
	}
	b := newBackend(s)
	if err := b.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	l, err := b.Flags(ctx, "R13", 0)
	if err != nil || l.Matching != 0 {
		t.Fatalf("R13 rows with R13 switched off in the stored config: %d, %v", l.Matching, err)
	}
	row, ok, err := b.EntityFlags(ctx, chainB)
	if err != nil || !ok || row.Verdict != graph.VerdictConfirmed || row.VerdictNote != "case 12" {
		t.Fatalf("EntityFlags: %+v %v %v", row, ok, err)
	}
	if v, err := b.SetVerdict(ctx, chainB, graph.VerdictDismissed, "second look"); err != nil || v.User == "" {
		t.Fatalf("SetVerdict: %+v, %v", v, err)
	}
	row, ok, err = b.EntityFlags(ctx, chainB)
	if err != nil || !ok || row.Verdict != graph.VerdictDismissed || row.VerdictNote != "second look" {
		t.Fatalf("EntityFlags: %+v %v %v", row, ok, err)
	}
	dropper := graph.Ref{Kind: graph.KindPerson, Key: "990101300201"}
	if _, err := b.SetVerdict(ctx, dropper, graph.VerdictConfirmed, ""); err != nil {
		t.Fatal(err)
	}
	l, err = b.Flags(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range l.Rows {
		found = found || r.Ref == dropper && r.Verdict == graph.VerdictConfirmed
	}
	if !found {
		t.Errorf("Flags rows lack the verdict: %+v", l.Rows)
	}
	if err := b.ClearVerdict(ctx, chainB); err != nil {
		t.Fatal(err)
	}
	if err := b.ClearVerdict(ctx, chainB); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("second clear: %v, want ErrNotFound", err)
	}
}

// A note is the analyst's free text: on the one line of a flags row or a
// verdict list it is escaped, newline and controls included.
func TestVerdictNoteEscaped(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "rules"))
	runCmd(t, "verdict", "confirm", "--db", db, "iin:990101300201", "--note", "first\nsecond \x1b[2J\u202e")
	for _, out := range []string{runCmd(t, "flags", "--db", db), runCmd(t, "verdict", "list", "--db", db)} {
		if strings.Contains(out, "first\nsecond") || strings.ContainsAny(out, "\x1b\u202e") || !strings.Contains(out, "first␊second ␛[2J") {
			t.Errorf("note not escaped on its line:\n%q", out)
		}
	}
}
