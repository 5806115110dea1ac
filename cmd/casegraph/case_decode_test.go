package main

import (
	"strings"
	"testing"
	"time"

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
