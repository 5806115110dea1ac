package workbench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// TestSessionsShareOneWorkbench: many sessions on one Workbench (what a team
// server does) analyse, list flags and groups, search and trace at the same
// time; the first Analyze builds the one analysis they all read.
func TestSessionsShareOneWorkbench(t *testing.T) {
	b := analyticsBackend(t)
	ctx := context.Background()
	go func() { _, _, _ = b.LoadSearch(ctx) }()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		wg.Go(func() {
			if err := b.Analyze(ctx, nil); err != nil {
				errs <- err
				return
			}
			if _, err := b.Flags(ctx, "", 0); err != nil {
				errs <- err
			}
			if _, err := b.Clusters(ctx, tui.ByRisk, 0); err != nil {
				errs <- err
			}
			if _, err := b.Clusters(ctx, tui.ByTurnover, 0); err != nil {
				errs <- err
			}
			if _, _, err := b.EntityFlags(ctx, chainB); err != nil {
				errs <- err
			}
			if _, err := b.Trace(ctx, tui.TraceQuery{Ref: chainA}); err != nil {
				errs <- err
			}
			if _, err := b.Search(ctx, "card", graph.KindUnknown, 10); err != nil && !errors.Is(err, tui.ErrSearchNotReady) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	first := b.analysis()
	if err := b.Analyze(ctx, nil); err != nil || b.analysis() != first {
		t.Fatalf("a later Analyze rebuilt the shared analysis: %v", err)
	}
}

// TestImportDropsTheAnalysis: an import through the workbench changes the
// data, so the analysis built before it is dropped and the next Analyze
// builds it again on the new data; the search index finds the new entity.
func TestImportDropsTheAnalysis(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(importTestdata(t, "rules"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := New(db, "test")
	if err := b.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	before := b.analysis()
	if _, _, err := b.LoadSearch(ctx); err != nil {
		t.Fatal(err)
	}
	extra := t.TempDir()
	csv := "iin,name,phone\n850312300002,Extra Person,+77015550099\n"
	if err := os.WriteFile(filepath.Join(extra, "persons.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := ExpandInputs([]string{extra})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Import(ctx, files, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.analysis() != nil {
		t.Fatal("the analysis of the data before the import was kept")
	}
	if err := b.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if b.analysis() == before {
		t.Fatal("Analyze after the import did not rebuild the analysis")
	}
	if len(res.Files) != 1 || res.Files[0].Report.Imported == 0 {
		t.Fatalf("import: %+v", res.Files)
	}
	if _, ok := b.analysis().Index().Lookup(graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}); !ok {
		t.Fatal("the rebuilt analysis lacks the imported person")
	}
	found, err := b.Search(ctx, "Extra Person", graph.KindPerson, 5)
	if err != nil || len(found.Hits) == 0 || found.Hits[0].Doc.Ref.Key != "850312300002" {
		t.Fatalf("search after the import: %+v, %v", found.Hits, err)
	}
}

// TestSessionsJournalTheirOwnUser: sessions of one workbench (As) share the
// analysis, and the journal names each session's user for its changes.
func TestSessionsJournalTheirOwnUser(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(importTestdata(t, "rules"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := New(db, "test")
	anna, boris := b.As("anna"), b.As("boris")
	if err := anna.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if boris.analysis() == nil || boris.analysis() != b.analysis() {
		t.Fatal("the sessions do not share the analysis")
	}
	c, err := anna.CreateCase(ctx, "shared case")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := boris.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.EntityTarget(chainB, "")}); err != nil {
		t.Fatal(err)
	}
	v, err := boris.SetVerdict(ctx, chainB, graph.VerdictConfirmed, "")
	if err != nil || v.User != "boris" {
		t.Fatalf("verdict by %q, %v; want boris", v.User, err)
	}
	es, err := db.Journal(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, e := range es {
		users = append(users, e.User)
	}
	if !slices.Equal(users, []string{"anna", "boris"}) {
		t.Fatalf("journal users %v, want anna then boris", users)
	}
}
