package workbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// dropper1 holds three cards of the rules case, with structuring on them.
var dropper1 = graph.Ref{Kind: graph.KindPerson, Key: "990101300102"}

// keptDB imports the rules case and runs one analysis in a workbench that
// is then closed, as a first session (the TUI's F, casegraph flags) would;
// it returns the database folder and the risks that analysis computed.
func keptDB(t *testing.T) (string, map[graph.Ref]tui.FlagRow) {
	t.Helper()
	dir := importTestdata(t, "rules")
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wb := New(db, "first")
	ctx := context.Background()
	if err := wb.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	live := map[graph.Ref]tui.FlagRow{}
	for _, ref := range []graph.Ref{chainA, chainB, dropper1} {
		row, ok, err := wb.EntityFlags(ctx, ref)
		if err != nil || !ok {
			t.Fatalf("live flags of %s: ok %v err %v", ref, ok, err)
		}
		if row.Kept != nil {
			t.Fatalf("the session's own analysis reads as kept: %+v", row.Kept)
		}
		live[ref] = row
	}
	return dir, live
}

func openWB(t *testing.T, dir string, readOnly bool) *Workbench {
	t.Helper()
	db, err := store.Open(dir, store.Options{ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(db, "second")
}

// A later session, before any analysis of its own, reads every entity's
// risk, rules and hits from the kept analysis: the same as the analysis
// computed, for entity pages, search hits, graph nodes and show.
func TestKeptAnalysisServesALaterSession(t *testing.T) {
	dir, live := keptDB(t)
	wb := openWB(t, dir, true)
	ctx := context.Background()
	if _, err := wb.Flags(ctx, "", 10); err == nil {
		t.Fatal("the flag list answered before Analyze: it should still need one")
	}
	for ref, want := range live {
		got, ok, err := wb.EntityFlags(ctx, ref)
		if err != nil || !ok {
			t.Fatalf("kept flags of %s: ok %v err %v", ref, ok, err)
		}
		if got.Kept == nil || got.Kept.Stale || got.Kept.At.IsZero() {
			t.Errorf("%s: kept info %+v, want a current kept analysis", ref, got.Kept)
		}
		if got.Score != want.Score || got.Flagged != want.Flagged || len(got.Rules) != len(want.Rules) || len(got.Hits) != len(want.Hits) {
			t.Errorf("%s: kept row score %.3f flagged %v rules %d hits %d, the analysis had %.3f %v %d %d", ref,
				got.Score, got.Flagged, len(got.Rules), len(got.Hits), want.Score, want.Flagged, len(want.Rules), len(want.Hits))
		}
		for i := range min(len(got.Hits), len(want.Hits)) {
			g, w := got.Hits[i], want.Hits[i]
			if g.Rule != w.Rule || g.On != w.On || g.Transactions() != len(w.Evidence) || strings.Join(g.Evidence, ",") != strings.Join(w.Evidence, ",") {
				t.Errorf("%s hit %d: kept %s on %s %v, analysed %s on %s %v", ref, i, g.Rule, g.On, g.Evidence, w.Rule, w.On, w.Evidence)
			}
		}
	}
	if !live[dropper1].Flagged {
		t.Fatal("the test needs the dropper flagged")
	}
	var heldHit bool
	for _, h := range live[dropper1].Hits {
		heldHit = heldHit || !h.On.IsZero()
	}
	if !heldHit {
		t.Error("the person's row lacks the hits of the cards it holds")
	}

	marks, err := wb.RiskMarks(ctx, []graph.Ref{chainA, dropper1, {Kind: graph.KindCard, Key: "0000"}})
	if err != nil {
		t.Fatal(err)
	}
	if m := marks[dropper1]; !m.Known || m.Score != live[dropper1].Score || !m.Flagged || m.Stale {
		t.Errorf("mark of the dropper: %+v", m)
	}
	if len(marks) != 2 {
		t.Errorf("%d marks, want 2 (an unknown card has none)", len(marks))
	}

	if _, _, err := wb.LoadSearch(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := wb.Search(ctx, "Дроппер 1", graph.KindPerson, 5)
	if err != nil || len(res.Hits) == 0 {
		t.Fatalf("search: %v %+v", err, res)
	}
	if h := res.Hits[0]; h.Doc.Ref != dropper1 || !h.Risk.Flagged || h.Risk.Score != live[dropper1].Score {
		t.Errorf("search hit %s risk %+v", h.Doc.Ref, h.Risk)
	}

	risk, ok, err := wb.EntityRisk(ctx, dropper1)
	if err != nil || !ok || !risk.Flagged || risk.Score != live[dropper1].Score || len(risk.Hits) != len(live[dropper1].Hits) {
		t.Fatalf("show risk: ok %v err %v %+v", ok, err, risk)
	}
	if text := strings.Join(risk.Lines(), "\n"); !strings.Contains(text, "⚑ flagged") || strings.Contains(text, "data changed since") {
		t.Errorf("show's risk lines:\n%s", text)
	}
}

// An import after the analysis leaves the kept risks in place, marked stale
// on every page, until the next analysis keeps fresh ones.
func TestKeptAnalysisStaleAfterImport(t *testing.T) {
	dir, live := keptDB(t)
	extra := filepath.Join(t.TempDir(), "more")
	if err := os.MkdirAll(extra, 0o755); err != nil {
		t.Fatal(err)
	}
	csv := "tx_id,time,from,to,amount,channel\nZ0001,2025-04-01 10:00:00,card:440043100000007,card:440043100100005,1000,transfer\n"
	if err := os.WriteFile(filepath.Join(extra, "transactions.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	importInto(t, dir, extra)
	wb := openWB(t, dir, false)
	ctx := context.Background()
	row, ok, err := wb.EntityFlags(ctx, dropper1)
	if err != nil || !ok || row.Kept == nil || !row.Kept.Stale || row.Score != live[dropper1].Score {
		t.Fatalf("after an import: ok %v err %v row %+v", ok, err, row.Kept)
	}
	marks, err := wb.RiskMarks(ctx, []graph.Ref{dropper1})
	if err != nil || !marks[dropper1].Stale {
		t.Errorf("mark after an import: %+v %v", marks[dropper1], err)
	}
	risk, _, err := wb.EntityRisk(ctx, dropper1)
	if err != nil || !risk.Analysis.Stale || !strings.Contains(strings.Join(risk.Lines(), "\n"), "data changed since — run casegraph flags to refresh") {
		t.Errorf("show after an import: %v %+v", err, risk.Analysis)
	}
	// A new analysis keeps fresh risks: no longer stale.
	if err := wb.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	later := openWBOn(t, wb)
	row, ok, err = later.EntityFlags(ctx, dropper1)
	if err != nil || !ok || row.Kept == nil || row.Kept.Stale {
		t.Errorf("after a new analysis: ok %v err %v kept %+v", ok, err, row.Kept)
	}
}

// openWBOn is a fresh workbench (no analysis of its own) on wb's database.
func openWBOn(t *testing.T, wb *Workbench) *Workbench {
	t.Helper()
	return New(wb.db, "third")
}

// The TUI of a fresh program, before any analysis in it, shows the risk of
// an entity opened from search: the score, ⚑, the hits and the key that
// lists them, at 80×24 and 160×45.
func TestTUIShowsKeptRiskOnAnEntityFromSearch(t *testing.T) {
	dir, live := keptDB(t)
	score := fmt.Sprintf("%.2f ⚑ flagged", live[dropper1].Score)
	for _, size := range [][2]int{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			wb := openWB(t, dir, true)
			if _, _, err := wb.LoadSearch(context.Background()); err != nil {
				t.Fatal(err)
			}
			d := newTUI(t, wb, tui.Options{}, size[0], size[1])
			d.send(tui.SearchReadyMsg{Docs: 1})
			d.keys("/", "Дроппер 1")
			d.requires("⚑ 0.") // the hit's risk column
			d.keys("enter")
			d.requires(score, "as of", "F lists all", "hit ")
			if strings.Contains(d.screen(), "press F to refresh") {
				t.Errorf("a current kept analysis reads stale:\n%s", d.screen())
			}
		})
	}
}

// AnalyzeDeferred makes the analysis current without keeping it; the keep
// it returns keeps it, once; a read-only database gets no keep.
func TestAnalyzeDeferredKeepsAfter(t *testing.T) {
	dir := importTestdata(t, "rules")
	ctx := context.Background()
	wb := openWB(t, dir, false)
	keep, err := wb.AnalyzeDeferred(ctx, nil)
	if err != nil || keep == nil {
		t.Fatalf("keep %v, err %v", keep != nil, err)
	}
	if wb.analysis() == nil {
		t.Fatal("no current analysis before the keep")
	}
	if _, ok, err := wb.KeptAnalysis(ctx); err != nil || ok {
		t.Fatalf("kept before the keep ran: ok %v, err %v", ok, err)
	}
	if err := keep(ctx); err != nil {
		t.Fatal(err)
	}
	run, ok, err := wb.KeptAnalysis(ctx)
	if err != nil || !ok || run.Stale || run.Entities == 0 {
		t.Fatalf("after the keep: %+v ok %v err %v", run, ok, err)
	}
	if again, err := wb.AnalyzeDeferred(ctx, nil); err != nil || again != nil {
		t.Fatalf("a current analysis gave another keep (%v, %v)", again != nil, err)
	}
	wb.db.Close()

	ro := openWB(t, dir, true)
	ro.dropAnalysis()
	if keep, err := ro.AnalyzeDeferred(ctx, nil); err != nil || keep != nil {
		t.Fatalf("read-only: keep %v, err %v", keep != nil, err)
	}
}
