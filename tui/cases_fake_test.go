package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"casegraph/export"
	"casegraph/graph"
)

// fakeCases keeps cases in memory for the fake backend, with a one-step
// undo like the store's.
type fakeCases struct {
	list   []graph.Case
	seq    int
	undo   *[]graph.Case
	action string
	clock  time.Time

	exports []fakeExport
}

func (f *fakeBackend) tick() time.Time {
	if f.cases.clock.IsZero() {
		f.cases.clock = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	}
	f.cases.clock = f.cases.clock.Add(time.Second)
	return f.cases.clock
}

func (f *fakeBackend) snapshot(action string) {
	prev := make([]graph.Case, len(f.cases.list))
	for i, c := range f.cases.list {
		prev[i] = c.Clone()
	}
	f.cases.undo, f.cases.action = &prev, action
}

func (f *fakeBackend) find(id string) (int, error) {
	i := slices.IndexFunc(f.cases.list, func(c graph.Case) bool { return c.ID == id })
	if i < 0 {
		return -1, fmt.Errorf("case %s: %w", id, graph.ErrNotFound)
	}
	return i, nil
}

func (f *fakeBackend) edit(id, action string, fn func(c *graph.Case) error) (graph.Case, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(id)
	if err != nil {
		return graph.Case{}, err
	}
	f.snapshot(action)
	c := f.cases.list[i].Clone()
	if err := fn(&c); err != nil {
		return graph.Case{}, err
	}
	c.Updated = f.tick()
	f.cases.list[i] = c
	return c.Clone(), nil
}

func (f *fakeBackend) Cases(context.Context) ([]graph.Case, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]graph.Case, len(f.cases.list))
	for i, c := range f.cases.list {
		out[i] = c.Clone()
	}
	slices.SortStableFunc(out, func(a, b graph.Case) int { return b.Updated.Compare(a.Updated) })
	return out, nil
}

func (f *fakeBackend) ViewCase(_ context.Context, id string) (graph.Case, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(id)
	if err != nil {
		return graph.Case{}, err
	}
	return f.cases.list[i].Clone(), nil
}

func (f *fakeBackend) CreateCase(_ context.Context, name string) (graph.Case, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.cases.list {
		if strings.EqualFold(c.Name, name) {
			return graph.Case{}, fmt.Errorf("case %q exists", name)
		}
	}
	f.snapshot("case.create")
	f.cases.seq++
	now := f.tick()
	c := graph.Case{ID: fmt.Sprintf("c-%d", f.cases.seq), Name: name, Status: graph.CaseOpen, Created: now, Updated: now, Bookmarks: []graph.Bookmark{}}
	f.cases.list = append(f.cases.list, c)
	return c, nil
}

func (f *fakeBackend) RenameCase(_ context.Context, id, name string) (graph.Case, error) {
	return f.edit(id, "case.rename", func(c *graph.Case) error { c.Name = name; return nil })
}

func (f *fakeBackend) SetCaseStatus(_ context.Context, id string, st graph.CaseStatus) (graph.Case, error) {
	return f.edit(id, "case.status", func(c *graph.Case) error { c.Status = st; return nil })
}

func (f *fakeBackend) SetCaseNotes(_ context.Context, id, notes string) (graph.Case, error) {
	return f.edit(id, "case.notes", func(c *graph.Case) error { c.Notes = notes; return nil })
}

func (f *fakeBackend) SetCaseTags(_ context.Context, id string, tags []string) (graph.Case, error) {
	return f.edit(id, "case.tags", func(c *graph.Case) error { c.Tags = graph.NormalizeTags(tags); return nil })
}

func (f *fakeBackend) DeleteCase(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(id)
	if err != nil {
		return err
	}
	f.snapshot("case.delete")
	f.cases.list = slices.Delete(f.cases.list, i, i+1)
	return nil
}

func (f *fakeBackend) AddBookmark(_ context.Context, id string, b graph.Bookmark) (graph.Bookmark, error) {
	var out graph.Bookmark
	_, err := f.edit(id, "bookmark.add", func(c *graph.Case) error {
		f.cases.seq++
		b.ID = fmt.Sprintf("b-%d", f.cases.seq)
		b.Tags = graph.NormalizeTags(b.Tags)
		b.Created, b.Updated = f.cases.clock, f.cases.clock
		c.Bookmarks = append(c.Bookmarks, b)
		out = b
		return nil
	})
	return out, err
}

func (f *fakeBackend) UpdateBookmark(_ context.Context, id, bmID string, tags []string, note string) (graph.Bookmark, error) {
	var out graph.Bookmark
	_, err := f.edit(id, "bookmark.update", func(c *graph.Case) error {
		b, ok := c.Bookmark(bmID)
		if !ok {
			return fmt.Errorf("bookmark %s: %w", bmID, graph.ErrNotFound)
		}
		b.Tags, b.Note = graph.NormalizeTags(tags), note
		out = *b
		return nil
	})
	return out, err
}

func (f *fakeBackend) DeleteBookmark(_ context.Context, id, bmID string) error {
	_, err := f.edit(id, "bookmark.delete", func(c *graph.Case) error {
		i := slices.IndexFunc(c.Bookmarks, func(b graph.Bookmark) bool { return b.ID == bmID })
		if i < 0 {
			return fmt.Errorf("bookmark %s: %w", bmID, graph.ErrNotFound)
		}
		c.Bookmarks = slices.Delete(c.Bookmarks, i, i+1)
		return nil
	})
	return err
}

func (f *fakeBackend) UndoLast(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cases.undo == nil {
		return "", fmt.Errorf("nothing to undo")
	}
	f.cases.list, f.cases.undo = *f.cases.undo, nil
	return "undid " + f.cases.action, nil
}

// fakeExport is one export the fake was asked for: its journal.
type fakeExport struct {
	caseID, dir string
	redact      bool
}

// ExportCase writes a real case file with the export package from the
// fake's entities, and records the export as the backend's journal would.
func (f *fakeBackend) ExportCase(_ context.Context, id, dir string, redact bool) (ExportResult, error) {
	f.mu.Lock()
	i, err := f.find(id)
	if err != nil {
		f.mu.Unlock()
		return ExportResult{}, err
	}
	c := f.cases.list[i].Clone()
	in := export.Input{Case: export.FromCase(c), Version: "fake"}
	for _, b := range in.Case.Bookmarks {
		if e, ok := f.ents[b.Ref]; ok {
			in.Entities = append(in.Entities, e)
		}
	}
	f.mu.Unlock()
	if len(in.Case.Bookmarks) == 0 {
		return ExportResult{}, fmt.Errorf("export: the case has no bookmarked entities")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ExportResult{}, err
	}
	m, err := export.Write(abs, in, export.Options{Redact: redact})
	if err != nil {
		return ExportResult{}, err
	}
	f.mu.Lock()
	f.cases.exports = append(f.cases.exports, fakeExport{caseID: id, dir: abs, redact: redact})
	f.mu.Unlock()
	return ExportResult{Dir: abs, Files: len(m.Files) + 1, Entities: m.Counts.Entities, Links: m.Counts.Links,
		Transactions: m.Counts.Transactions, Flags: m.Counts.Flags}, nil
}
