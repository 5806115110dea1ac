package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
	"casegraph/internal/fuzzbudget"
)

// hostileNotes is a case.json in the export layout with n notes, all on one
// entity, and a case note.
func hostileNotes(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"format":"casegraph-case/1","name":"x","description":"about","bookmarks":[{"ref":"iin:850312300002","note":"first"}],"notes":[{"text":"on the case"}`)
	for range n {
		b.WriteString(`,{"ref":"iin:850312300002","time":"2025-03-15","text":"note text number one two three"}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// TestImportCaseNotesAreLinear: an imported case.json with 40,000 notes on
// one entity decodes in bounded time (each note was joined to the text so
// far: quadratic, 34 s for these 2.7 MB), every note kept in order.
func TestImportCaseNotesAreLinear(t *testing.T) {
	const n = 40000
	raw := hostileNotes(n)
	var err error
	var notes, caseNotes string
	fuzzbudget.Within(t, 5*time.Second, func() {
		c, derr := decodeCaseJSON(raw)
		err = derr
		if derr == nil && len(c.Bookmarks) == 1 {
			notes, caseNotes = c.Bookmarks[0].Note, c.Notes
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(notes, "note text number"); got != n || !strings.HasPrefix(notes, "first\n\n2025-03-15  note text") {
		t.Errorf("%d notes on the bookmark, want %d after its own: %.80q", got, n, notes)
	}
	if caseNotes != "about\n\non the case" {
		t.Errorf("case notes %q", caseNotes)
	}
}

// FuzzDecodeCaseJSON feeds arbitrary case.json to import-case's decoder
// with the fuzz size and time budget (internal/fuzzbudget).
func FuzzDecodeCaseJSON(f *testing.F) {
	f.Add(hostileNotes(3))
	f.Add([]byte(`{"name":"c","bookmarks":[{"id":"b1","target":{"ref":{"kind":1,"key":"850312300002"}}}]}`))
	f.Add([]byte(`{"format":"casegraph-case/1","notes":[{"ref":"bad"}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		defer fuzzbudget.Start(t, len(raw))()
		_, _ = decodeCaseJSON(raw)
	})
}

// TestImportCaseStopsWhenCancelled: import-case of a 200,000-bookmark
// folder stops soon after its context is cancelled — what SIGTERM and
// Ctrl-C do through main's signal.NotifyContext — and writes no case (it
// once ran > 676 s in one write transaction, ignoring SIGTERM).
func TestImportCaseStopsWhenCancelled(t *testing.T) {
	const n = 200000
	c := graph.Case{Name: "big", Status: graph.CaseOpen, Bookmarks: make([]graph.Bookmark, n)}
	for i := range n {
		c.Bookmarks[i] = graph.Bookmark{Target: graph.EntityTarget(graph.Ref{Kind: graph.KindCard, Key: fmt.Sprintf("44004300%08d", i)}, ""),
			Note: "seen", Tags: []string{"mule"}}
	}
	dir := caseFolder(t, c)
	db := filepath.Join(t.TempDir(), "db")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errOut bytes.Buffer
	var err error
	fuzzbudget.Within(t, 5*time.Second, func() {
		err = run(ctx, []string{"import-case", "--db", db, dir}, &out, &errOut)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("import-case returned %v, want it cancelled", err)
	}
	t.Logf("cancelled: %v", err)
	out.Reset()
	if err := run(context.Background(), []string{"case", "list", "--db", db, "--json"}, &out, &errOut); err != nil {
		if strings.Contains(err.Error(), "the folder is empty") {
			return // cancelled before the database was opened: nothing written
		}
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "big") {
		t.Errorf("a cancelled import-case wrote a case: %s", out.String())
	}
}
