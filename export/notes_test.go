package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/graph"
)

// Every bookmark's note reaches the reports' Notes sections, also when the
// case itself has no notes (the report said "No notes" although every
// bookmark had one).
func TestReportsListEveryBookmarkNote(t *testing.T) {
	pA := ref(graph.KindPerson, iinA)
	cB := ref(graph.KindCard, panB)
	ex := ref(graph.KindExchange, "EX-0001")
	c := graph.Case{ID: "c-1", Name: "Ring", Status: graph.CaseOpen, Bookmarks: []graph.Bookmark{
		{ID: "b-1", Target: graph.EntityTarget(pA, ""), Note: "organiser, met at the ATM"},
		{ID: "b-2", Target: graph.EntityTarget(cB, ""), Note: "dropper card\nsecond line"},
		{ID: "b-3", Target: graph.Target{Kind: graph.TargetPath, Refs: []graph.Ref{pA, cB, ex}, Label: "the cash-out path"}, Note: "money leaves here"},
	}}
	in := Input{Case: FromCase(c), Entities: []graph.Entity{{Ref: pA, Name: "Ахметов"}, {Ref: cB}, {Ref: ex, Name: "ТенгеОбмен24"}}, Version: "test"}
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := Write(dir, in, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.md", "report.html"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		s := string(raw)
		notes := s[strings.Index(s, "Notes</h2>")+1:]
		if name == "report.md" {
			notes = s[strings.Index(s, "## Notes"):]
		}
		if strings.Contains(notes[:min(len(notes), 200)], "No notes") {
			t.Errorf("%s says No notes although every bookmark has one", name)
		}
		for _, want := range []string{"organiser, met at the ATM", "dropper card", "second line", "money leaves here"} {
			if !strings.Contains(notes, want) {
				t.Errorf("%s: Notes section lacks %q", name, want)
			}
		}
	}
}
