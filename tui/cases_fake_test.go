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

// fakeCases keeps cases in memory for the fake backend, with an undo
// stack like the store's.
type fakeCases struct {
	list  []graph.Case
	seq   int
	undo  []fakeUndo
	clock time.Time

	exports []fakeExport
}

func (f *fakeBackend) tick() time.Time {
	if f.cases.clock.IsZero() {
		f.cases.clock = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	}
	f.cases.clock = f.cases.clock.Add(time.Second)
	return f.cases.clock
}

type fakeUndo struct {
	cases  []graph.Case
	action string
}

func (f *fakeBackend) snapshot(action string) {
	prev := make([]graph.Case, len(f.cases.list))
	for i, c := range f.cases.list {
		prev[i] = c.Clone()
	}
	f.cases.undo = append(f.cases.undo, fakeUndo{prev, action})
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
	if action != "case.status" {
		if err := readOnly(f.cases.list[i]); err != nil {
			return graph.Case{}, err
		}
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
	n := len(f.cases.undo)
	if n == 0 {
		return "", fmt.Errorf("nothing to undo")
	}
	u := f.cases.undo[n-1]
	f.cases.list, f.cases.undo = u.cases, f.cases.undo[:n-1]
	return fmt.Sprintf("undid: %s · %d earlier changes can be undone", u.action, n-1), nil
}

// readOnly refuses changes to a closed or referred case, as the store does.
func readOnly(c graph.Case) error {
	if c.Status != graph.CaseOpen {
		return fmt.Errorf("case %q is %s: the case is read-only (reopen it to change it)", c.Name, c.Status)
	}
	return nil
}

func (f *fakeBackend) MoveBookmarks(_ context.Context, from, to string, ids []string, copy bool) (CaseMove, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(from)
	if err != nil {
		return CaseMove{}, err
	}
	j, err := f.find(to)
	if err != nil {
		return CaseMove{}, err
	}
	if err := readOnly(f.cases.list[j]); err != nil {
		return CaseMove{}, err
	}
	if err := readOnly(f.cases.list[i]); err != nil && !copy {
		return CaseMove{}, err
	}
	action := "bookmark.move"
	if copy {
		action = "bookmark.copy"
	}
	f.snapshot(action)
	src, dst := f.cases.list[i].Clone(), f.cases.list[j].Clone()
	res := CaseMove{From: src.Name, To: dst.Name}
	for _, id := range ids {
		b, ok := src.Bookmark(id)
		if !ok {
			return CaseMove{}, fmt.Errorf("bookmark %s: %w", id, graph.ErrNotFound)
		}
		if slices.ContainsFunc(dst.Bookmarks, func(o graph.Bookmark) bool { return o.Target.Key() == b.Target.Key() }) {
			res.Folded++
		} else {
			nb := *b
			if copy {
				f.cases.seq++
				nb.ID = fmt.Sprintf("b-%d", f.cases.seq)
			}
			dst.Bookmarks = append(dst.Bookmarks, nb)
			res.Moved++
		}
		if !copy {
			src.Bookmarks = slices.DeleteFunc(src.Bookmarks, func(o graph.Bookmark) bool { return o.ID == id })
		}
	}
	now := f.tick()
	src.Updated, dst.Updated = now, now
	f.cases.list[i], f.cases.list[j] = src, dst
	return res, nil
}

func (f *fakeBackend) MergeCases(_ context.Context, into, from string) (CaseMove, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(from)
	if err != nil {
		return CaseMove{}, err
	}
	j, err := f.find(into)
	if err != nil {
		return CaseMove{}, err
	}
	for _, k := range []int{i, j} {
		if err := readOnly(f.cases.list[k]); err != nil {
			return CaseMove{}, err
		}
	}
	f.snapshot("case.merge")
	src, dst := f.cases.list[i], f.cases.list[j].Clone()
	dst.Bookmarks = append(dst.Bookmarks, src.Clone().Bookmarks...)
	dst.Updated = f.tick()
	f.cases.list[j] = dst
	f.cases.list = slices.Delete(f.cases.list, i, i+1)
	return CaseMove{From: src.Name, To: dst.Name, Moved: len(src.Bookmarks)}, nil
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
