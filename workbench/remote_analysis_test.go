package workbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/internal/dgraphtest"
	"casegraph/store"
	"casegraph/tui"
)

// TestDgraphTUIAnalysis: on a cluster the TUI's F, t and C run on the
// neighbourhood of the entity on screen, pulled in the background: the
// flags screen lists the flagged person as a folder's does, the trace
// starts as on a folder, and the risks are written back to the cluster.
// Without an entity or a current case the analysis says what it needs.
func TestDgraphTUIAnalysis(t *testing.T) {
	c := dgraphtest.StartT(t)
	ctx := context.Background()
	dg, err := dgraphdb.Open(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dg.Close() })
	local, err := store.Open(filepath.Join(t.TempDir(), "local"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	wb := NewRemote(local, dg)
	files, err := ExpandInputs([]string{filepath.Join("..", "testdata", "rules")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wb.Import(ctx, files, filepath.Join(t.TempDir(), "rejects.csv"), nil, nil); err != nil {
		t.Fatal(err)
	}
	folder := analyticsBackend(t)
	if err := folder.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want, ok, err := folder.EntityFlags(ctx, dropper1)
	if err != nil || !ok || want.Score < 0.5 {
		t.Fatalf("the folder does not flag %s: %+v %v", dropper1, want, err)
	}

	// No entity on screen, no case: the analysis says what it needs.
	home := newTUI(t, wb, tui.Options{}, 120, 40)
	home.keys("F")
	home.requires("open an entity or make a case current")

	start := dropper1
	d := newTUI(t, wb, tui.Options{Start: &start}, 160, 45)
	// The timeline before an analysis: refused, saying how to get one.
	d.keys("T")
	d.requires("press F first")
	d.send(tea.KeyPressMsg{Code: tea.KeyEscape})
	// F: the neighbourhood's analysis. The score is that of 2 hops
	// around the person, not of the whole graph (the folder's %.2f).
	d.keys("F")
	d.requires("Дроппер 1", "1 subjects at risk", "analysis ready: 2 hops around "+dropper1.String())
	if strings.Contains(d.screen(), "load activity") {
		t.Errorf("the sparklines are refused after the analysis:\n%s", d.screen())
	}
	// The pulled neighbourhood is at hand for the local search: a card
	// of the person's that nothing opened or searched.
	wb.local.settle()
	if res, _ := wb.SearchLocal(ctx, "440043100001005", graph.KindCard, 5); len(res.Hits) == 0 ||
		res.Hits[0].Doc.Ref != (graph.Ref{Kind: graph.KindCard, Key: "440043100001005"}) {
		t.Errorf("the pulled card is not in the local search index (%d documents): %+v", wb.LocalSearchDocs(), res.Hits)
	}
	_ = want
	// The timeline of the person: from the pulled folder, as the folder's.
	ft := newTUI(t, folder, tui.Options{Start: &start}, 160, 45)
	ft.keys("T")
	d3 := newTUI(t, wb, tui.Options{Start: &start}, 160, 45)
	d3.keys("T")
	if a, b := chartOf(ft.screen()), chartOf(d3.screen()); a != b || a == "" {
		t.Errorf("timeline:\n folder %s\n dgraph %s", ft.screen(), d3.screen())
	}
	if s := wb.AnalysisScope(); !strings.Contains(s, dropper1.String()) {
		t.Errorf("scope %q", s)
	}
	got, _, ok, err := RemoteRisk(ctx, dg, dropper1)
	if err != nil || !ok || !got.Flagged {
		t.Errorf("the risk was not written back: %+v %v %v", got, ok, err)
	}
	// The same neighbourhood again: no new pull.
	if scoped, changed := wb.FocusAnalysis([]graph.Ref{dropper1}, dropper1.String()); !scoped || changed {
		t.Errorf("the same focus again: scoped %v changed %v", scoped, changed)
	}
	// The trace of the person on screen, as on a folder.
	f := newTUI(t, folder, tui.Options{Start: &start}, 160, 45)
	f.keys("t")
	f.requires("Where the money went", "traced 950,000 ₸")
	d2 := newTUI(t, wb, tui.Options{Start: &start}, 160, 45)
	d2.keys("t")
	d2.requires("Where the money went", "▾ Дроппер 1", "traced 950,000 ₸")
	// The graph view draws the cluster's neighbours.
	g := newTUI(t, wb, tui.Options{Start: &start}, 160, 45)
	g.keys("g")
	if s := g.screen(); strings.Contains(s, "not available") || !strings.Contains(s, "4400 43") {
		t.Errorf("graph view on a cluster:\n%s", s)
	}
	// Another entity: the analysis runs again around it.
	other := graph.Ref{Kind: graph.KindCard, Key: "4400430000000007"}
	if scoped, changed := wb.FocusAnalysis([]graph.Ref{other}, other.String()); !scoped || !changed {
		t.Errorf("another focus: scoped %v changed %v", scoped, changed)
	}
	// A folder's analysis is of the whole graph: focus changes nothing.
	if scoped, changed := folder.FocusAnalysis([]graph.Ref{other}, ""); scoped || changed {
		t.Errorf("a folder's focus: scoped %v changed %v", scoped, changed)
	}

	// Another program on the cluster, before any analysis of its own: the
	// search hit and the entity page carry the risk written back, marked
	// as the folder's kept analysis is; an import into the cluster makes
	// it stale on both.
	testWrittenBackOnPages(t, NewRemote(local, dg), got.Score, false)
	late := filepath.Join(t.TempDir(), "late.csv")
	csv := "tx_id,time,from,to,amount,channel\nLATE1,2025-04-01 10:00:00,card:440043100000007,card:440043100100005,1000,transfer\n"
	if err := os.WriteFile(late, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := wb.Import(ctx, []string{late}, filepath.Join(t.TempDir(), "rejects2.csv"), nil, nil); err != nil {
		t.Fatal(err)
	}
	testWrittenBackOnPages(t, NewRemote(local, dg), got.Score, true)
	stale, _, ok, err := RemoteRisk(ctx, dg, dropper1)
	if err != nil || !ok || !stale.Analysis.Stale || !strings.Contains(strings.Join(stale.Lines(), "\n"), "stale: the cluster imported data after the analysis") {
		t.Errorf("show after an import: %v %+v\n%s", err, stale.Analysis, strings.Join(stale.Lines(), "\n"))
	}
	// A new analysis writes fresh risks: no longer stale.
	fresh := NewRemote(local, dg)
	fresh.FocusAnalysis([]graph.Ref{dropper1}, dropper1.String())
	if err := fresh.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	testWrittenBackOnPages(t, NewRemote(local, dg), got.Score, false)
}

// testWrittenBackOnPages: on wb, a program that ran no analysis, the search
// hit of dropper 1 and their entity page show the written-back score,
// flagged, stale or not as asked.
func testWrittenBackOnPages(t *testing.T, wb *Workbench, score float64, stale bool) {
	t.Helper()
	ctx := context.Background()
	res, err := wb.Search(ctx, "Дроппер 1", graph.KindUnknown, 5)
	if err != nil || len(res.Hits) == 0 || res.Hits[0].Doc.Ref != dropper1 {
		t.Fatalf("search: %+v %v", res, err)
	}
	if m := res.Hits[0].Risk; !m.Known || m.Score != score || !m.Flagged || m.Stale != stale {
		t.Errorf("the search hit's risk: %+v, want %.2f flagged, stale %v", m, score, stale)
	}
	row, ok, err := wb.EntityFlags(ctx, dropper1)
	if err != nil || !ok || row.Kept == nil || row.Kept.Stale != stale || row.Score != score || !row.Flagged || len(row.Hits) == 0 {
		t.Errorf("the entity's flags: ok %v err %v score %.2f kept %+v", ok, err, row.Score, row.Kept)
	}
	d := newTUI(t, wb, tui.Options{}, 160, 45)
	d.send(tui.SearchReadyMsg{Server: true})
	d.keys("/", "Дроппер 1")
	if stale {
		d.requires("⚑~0.") // the hit's risk column, marked stale as a folder's
	} else {
		d.requires("⚑ 0.")
	}
	d.keys("enter")
	d.requires(fmt.Sprintf("%.2f ⚑ flagged", score))
	if stale {
		d.requires("stale  press F to refresh · risk from analysis of")
	} else {
		d.requires("as of", "F lists all")
		if strings.Contains(d.screen(), "press F to refresh") {
			t.Errorf("a current written-back risk reads stale:\n%s", d.screen())
		}
	}
}

// chartOf is a screen without its status line (the database's name).
func chartOf(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) < 2 {
		return ""
	}
	return strings.Join(lines[:len(lines)-2], "\n")
}
