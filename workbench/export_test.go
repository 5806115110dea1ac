package workbench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"casegraph/export"
	"casegraph/graph"
	"casegraph/store"
)

// canonicalCase imports testdata/canonical and makes a case bookmarking
// the organiser of group G-ALA-3, a dropper's card and the exchange.
func canonicalCase(t *testing.T) (*Workbench, graph.Case) {
	t.Helper()
	s, err := store.Open(importTestdata(t, "canonical"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := New(s, "test").As("aigerim")
	ctx := context.Background()
	c, err := b.CreateCase(ctx, "Ring")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []graph.Ref{{Kind: graph.KindPerson, Key: "850312300002"}, {Kind: graph.KindCard, Key: "4400430000000015"},
		{Kind: graph.KindExchange, Key: "EX-0001"}} {
		if _, err := b.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.EntityTarget(r, ""), Note: "note on " + r.String()}); err != nil {
			t.Fatal(err)
		}
	}
	return b, c
}

func readManifest(t *testing.T, dir string) export.Manifest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, export.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m export.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The sources of an export name every imported file its records came
// from: the group memberships are links, and their file was missing.
func TestExportSourcesIncludeLinkFiles(t *testing.T) {
	b, c := canonicalCase(t)
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := b.Export(context.Background(), ExportRequest{Case: c.ID, Out: dir}); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, s := range readManifest(t, dir).Sources {
		files = append(files, filepath.Base(s.File))
	}
	for _, want := range []string{"persons.csv", "cards.csv", "transactions.csv", "memberships.csv", "groups.csv", "exchanges.csv"} {
		if !slices.Contains(files, want) {
			t.Errorf("sources %v lack %s", files, want)
		}
	}
}
