package workbench

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// importTestdata imports the files of testdata/NAME into a new database
// through the workbench, as casegraph import does, and returns its folder.
func importTestdata(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	importInto(t, dir, filepath.Join("..", "testdata", name))
	return dir
}

// analyticsBackend imports the hand-made case in testdata/rules (a layering
// chain 0007 → 0005 → 0003 → ATM, structured top-ups, an unlicensed
// exchange) and opens a TUI backend on it.
func analyticsBackend(t *testing.T) *Workbench {
	t.Helper()
	s, err := store.Open(importTestdata(t, "rules"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return New(s, "test")
}

var (
	chainA = graph.Ref{Kind: graph.KindCard, Key: "440043100000007"}
	chainB = graph.Ref{Kind: graph.KindCard, Key: "440043100100005"}
	chainC = graph.Ref{Kind: graph.KindCard, Key: "440043100200003"}
	victim = graph.Ref{Kind: graph.KindCard, Key: "5177920000000005"}
)

func TestBackendAnalyticsNeedsAnalyzeAndCancels(t *testing.T) {
	b := analyticsBackend(t)
	ctx := context.Background()
	if _, err := b.Flags(ctx, "", 10); !errors.Is(err, tui.ErrNotAnalyzed) {
		t.Fatalf("Flags before Analyze: %v", err)
	}
	if _, err := b.Trace(ctx, tui.TraceQuery{Ref: chainA}); !errors.Is(err, tui.ErrNotAnalyzed) {
		t.Fatalf("Trace before Analyze: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Analyze(cancelled, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Analyze with a cancelled context: %v", err)
	}
	if b.analysis() != nil {
		t.Fatal("a cancelled analysis was kept")
	}
	var stages []string
	err := b.Analyze(ctx, func(stage string, done, total int) {
		if done > total {
			t.Errorf("%s: done %d > total %d", stage, done, total)
		}
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// The index comes from the snapshot the import stored, or is rebuilt
	// ("indexing graph") when there is none.
	if !slices.Equal(stages, []string{"loading graph", "red-flag rules"}) &&
		!slices.Equal(stages, []string{"loading graph", "indexing graph", "red-flag rules"}) {
		t.Fatalf("progress stages %v", stages)
	}
	first := b.analysis()
	if err := b.Analyze(ctx, func(string, int, int) { t.Error("second Analyze reported progress") }); err != nil || b.analysis() != first {
		t.Fatalf("second Analyze should return at once: %v", err)
	}
}

func TestBackendFlagsAndEvidence(t *testing.T) {
	b := analyticsBackend(t)
	ctx := context.Background()
	if err := b.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	all, err := b.Flags(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if all.Flagged == 0 || all.Matching != all.Flagged || len(all.Rows) != all.Flagged {
		t.Fatalf("all flags: flagged %d matching %d rows %d", all.Flagged, all.Matching, len(all.Rows))
	}
	for i := 1; i < len(all.Rows); i++ {
		if all.Rows[i].Score > all.Rows[i-1].Score {
			t.Fatal("rows not ranked by risk")
		}
	}
	r13, err := b.Flags(ctx, "R13", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(r13.Rows) != 2 || r13.Matching < 3 || r13.Flagged != all.Flagged {
		t.Fatalf("R13 with limit 2: rows %d matching %d flagged %d", len(r13.Rows), r13.Matching, r13.Flagged)
	}
	// A larger limit lists the rows of a smaller one first, in order: the
	// Flags screen appends the rows past those it loaded (tui.moreFlags).
	for _, limit := range []int{1, 2, len(all.Rows) / 2} {
		part, err := b.Flags(ctx, "", limit)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range part.Rows {
			if r.Ref != all.Rows[i].Ref {
				t.Fatalf("limit %d: row %d is %v, with no limit %v", limit, i, r.Ref, all.Rows[i].Ref)
			}
		}
	}
	row, ok, err := b.EntityFlags(ctx, chainB)
	if err != nil || !ok {
		t.Fatalf("EntityFlags(%s): ok %v err %v", chainB, ok, err)
	}
	var evidence []string
	for _, h := range row.Hits {
		if h.Rule == "R13" {
			evidence = h.Evidence
			if h.Reason == "" || h.From.IsZero() {
				t.Errorf("R13 hit lacks reason or window: %+v", h)
			}
		}
	}
	for _, id := range []string{"T0008", "T0009"} {
		if !slices.Contains(evidence, id) {
			t.Errorf("R13 evidence of %s lacks %s: %v", chainB, id, evidence)
		}
	}
	if _, ok, err := b.EntityFlags(ctx, graph.Ref{Kind: graph.KindCard, Key: "0000"}); ok || err != nil {
		t.Fatalf("unknown entity: ok %v err %v", ok, err)
	}
}

func TestBackendClustersPathsTrace(t *testing.T) {
	b := analyticsBackend(t)
	ctx := context.Background()
	if err := b.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	groups, err := b.Clusters(ctx, tui.ByRisk, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range groups {
		var refs []graph.Ref
		for _, mb := range g.Members {
			refs = append(refs, mb.Ref)
		}
		if slices.Contains(refs, chainA) && slices.Contains(refs, chainC) {
			found = true
			if g.Persons < 2 || g.Members[0].Ref.Kind != graph.KindPerson || g.Flagged == 0 {
				t.Errorf("chain group: %+v", g)
			}
		}
	}
	if !found {
		t.Fatalf("no risk group holds the chain cards: %+v", groups)
	}
	comms, err := b.Clusters(ctx, tui.ByTurnover, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(comms); i++ {
		if comms[i].Turnover > comms[i-1].Turnover {
			t.Fatal("communities not ranked by turnover")
		}
	}
	if _, err := b.Clusters(ctx, "size", 0); err == nil {
		t.Fatal("an unknown order was accepted")
	}

	paths, err := b.Paths(ctx, victim, chainC, 3, 4)
	if err != nil || len(paths) == 0 {
		t.Fatalf("paths: %v %v", paths, err)
	}
	p := paths[0]
	if p.Steps[0].Ref != victim || p.Steps[len(p.Steps)-1].Ref != chainC || p.Hops() > 3 {
		t.Fatalf("shortest path: %+v", p.Steps)
	}
	for _, s := range p.Steps[1:] {
		if s.Relation == "" || s.Money && s.TxID == "" {
			t.Fatalf("step without relation or transaction: %+v", s)
		}
	}

	// The victim's 1,000,000 ₸ (T0007) went down the chain: 880,000 ₸ was
	// cashed out at the ATM and FIFO accounts for every tenge.
	tr, err := b.Trace(ctx, tui.TraceQuery{Ref: victim, TxID: "T0007"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Nodes) == 0 || tr.Nodes[0].Amount != 100_000_000 || tr.Nodes[0].Ref != chainA {
		t.Fatalf("trace root: %+v", tr.Nodes)
	}
	var sum, cash int64
	for _, e := range tr.Ends {
		sum += e.Amount
		if e.End == "cash" {
			cash = e.Amount
		}
	}
	if sum != tr.Nodes[0].Amount || cash != 88_000_000 {
		t.Fatalf("trace ends %+v: sum %d cash %d", tr.Ends, sum, cash)
	}
	for i, n := range tr.Nodes[1:] {
		if n.Parent < 0 || n.Depth != tr.Nodes[n.Parent].Depth+1 || n.TxID == "" || n.Time.IsZero() {
			t.Fatalf("node %d: %+v", i+1, n)
		}
	}
	back, err := b.Trace(ctx, tui.TraceQuery{Ref: chainC, Backward: true})
	if err != nil || !back.Backward || len(back.Nodes) < 2 {
		t.Fatalf("backward trace: %+v %v", back, err)
	}
	if _, err := b.Trace(ctx, tui.TraceQuery{Ref: victim, TxID: "nope"}); !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("unknown transaction: %v", err)
	}
}
