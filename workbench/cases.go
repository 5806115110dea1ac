package workbench

import (
	"context"
	"fmt"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// The case methods of tui.CaseStore: each checks the session's role
// (roles.go), journals the session's user (the OS user for a plain
// Workbench) and the time of the call, and tells the other sessions
// (changes.go).

func (b *Workbench) Cases(ctx context.Context) ([]graph.Case, error) { return b.db.Cases(ctx) }

// Case reads a case by id or name without journalling a view.
func (b *Workbench) Case(ctx context.Context, idOrName string) (graph.Case, error) {
	return b.db.Case(ctx, idOrName)
}

func (b *Workbench) ViewCase(ctx context.Context, caseID string) (graph.Case, error) {
	return b.db.ViewCase(ctx, b.actor(), caseID)
}

// caseChange checks op, runs fn and publishes what it changed.
func caseChange[T any](ctx context.Context, b *Workbench, op Op, caseID, action string, fn func() (T, error), what func(T) (string, string)) (T, error) {
	var zero T
	if err := b.allow(ctx, op, caseID); err != nil {
		return zero, err
	}
	out, err := fn()
	if err != nil {
		return zero, b.stale(ctx, caseID, action, err)
	}
	id, desc := caseID, ""
	if what != nil {
		id, desc = what(out)
	}
	b.publish(Change{Action: action, CaseID: id, What: desc})
	return out, nil
}

func caseWhat(verb string) func(graph.Case) (string, string) {
	return func(c graph.Case) (string, string) { return c.ID, fmt.Sprintf("%s %q", verb, c.Name) }
}

func (b *Workbench) CreateCase(ctx context.Context, name string) (graph.Case, error) {
	return caseChange(ctx, b, OpEditCase, "", store.ActCaseCreate, func() (graph.Case, error) {
		return b.db.CreateCase(ctx, b.actor(), name)
	}, caseWhat("created case"))
}

func (b *Workbench) RenameCase(ctx context.Context, caseID, name string) (graph.Case, error) {
	return caseChange(ctx, b, OpEditCase, caseID, store.ActCaseRename, func() (graph.Case, error) {
		return b.db.RenameCase(ctx, b.actor(), caseID, name)
	}, caseWhat("renamed a case to"))
}

func (b *Workbench) SetCaseStatus(ctx context.Context, caseID string, st graph.CaseStatus) (graph.Case, error) {
	return caseChange(ctx, b, OpEditCase, caseID, store.ActCaseStatus, func() (graph.Case, error) {
		return b.db.SetCaseStatus(ctx, b.actor(), caseID, st)
	}, func(c graph.Case) (string, string) { return c.ID, fmt.Sprintf("set %q to %s", c.Name, c.Status) })
}

func (b *Workbench) SetCaseNotes(ctx context.Context, caseID, notes string) (graph.Case, error) {
	return caseChange(ctx, b, OpCaseNotes, caseID, store.ActCaseNotes, func() (graph.Case, error) {
		return b.db.SetCaseNotes(ctx, b.actor(), caseID, notes)
	}, caseWhat("wrote the notes of"))
}

func (b *Workbench) SetCaseTags(ctx context.Context, caseID string, tags []string) (graph.Case, error) {
	return caseChange(ctx, b, OpEditCase, caseID, store.ActCaseTags, func() (graph.Case, error) {
		return b.db.SetCaseTags(ctx, b.actor(), caseID, tags)
	}, caseWhat("re-tagged"))
}

func (b *Workbench) DeleteCase(ctx context.Context, caseID string) error {
	_, err := caseChange(ctx, b, OpEditCase, caseID, store.ActCaseDelete, func() (struct{}, error) {
		return struct{}{}, b.db.DeleteCase(ctx, b.actor(), caseID)
	}, func(struct{}) (string, string) { return caseID, "deleted a case" })
	return err
}

func (b *Workbench) AddBookmark(ctx context.Context, caseID string, bm graph.Bookmark) (graph.Bookmark, error) {
	out, _, err := b.AddBookmarkReport(ctx, caseID, bm)
	return out, err
}

// AddBookmarkReport is AddBookmark saying whether the bookmark is new
// (false: an existing bookmark of the same target took the tags and note).
func (b *Workbench) AddBookmarkReport(ctx context.Context, caseID string, bm graph.Bookmark) (graph.Bookmark, bool, error) {
	type added struct {
		b  graph.Bookmark
		ok bool
	}
	out, err := caseChange(ctx, b, OpBookmark, caseID, store.ActBookmarkAdd, func() (added, error) {
		out, ok, err := b.db.AddBookmark(ctx, b.actor(), caseID, bm)
		return added{out, ok}, err
	}, func(out added) (string, string) { return caseID, "bookmarked " + out.b.Target.Title() })
	return out.b, out.ok, err
}

func (b *Workbench) UpdateBookmark(ctx context.Context, caseID, bookmarkID string, tags []string, note string) (graph.Bookmark, error) {
	return b.EditBookmark(ctx, caseID, bookmarkID, store.BookmarkEdit{Tags: &tags, Note: &note})
}

// EditBookmark changes what ed sets of a bookmark (its tags, its note, or
// both; AddTags adds to them).
func (b *Workbench) EditBookmark(ctx context.Context, caseID, bookmarkID string, ed store.BookmarkEdit) (graph.Bookmark, error) {
	return caseChange(ctx, b, OpBookmark, caseID, store.ActBookmarkUpdate, func() (graph.Bookmark, error) {
		return b.db.UpdateBookmark(ctx, b.actor(), caseID, bookmarkID, ed)
	}, func(out graph.Bookmark) (string, string) { return caseID, "edited the bookmark " + out.Target.Title() })
}

func (b *Workbench) DeleteBookmark(ctx context.Context, caseID, bookmarkID string) error {
	_, err := caseChange(ctx, b, OpBookmark, caseID, store.ActBookmarkDelete, func() (struct{}, error) {
		return struct{}{}, b.db.DeleteBookmark(ctx, b.actor(), caseID, bookmarkID)
	}, func(struct{}) (string, string) { return caseID, "deleted a bookmark" })
	return err
}

func (b *Workbench) UndoLast(ctx context.Context) (string, error) {
	u, err := b.Undo(ctx)
	if err != nil {
		return "", err
	}
	return UndoText(u), nil
}

// UndoText says what an undo reverted and how many earlier changes can
// still be undone.
func UndoText(u store.Undo) string {
	more := "nothing more to undo"
	switch {
	case u.Left == 1:
		more = "1 earlier change can be undone"
	case u.Left > 1:
		more = fmt.Sprintf("%d earlier changes can be undone", u.Left)
	}
	return fmt.Sprintf("undid: %s (journal #%d) · %s", undoWhat(u), u.Seq, more)
}

// undoWhat is what the undone change did, or its action for a change
// recorded before the words were kept.
func undoWhat(u store.Undo) string {
	if u.What != "" {
		return u.What
	}
	return u.Action
}

// Undo reverts the newest case change the session may undo (undoAllowed;
// undo is a stack) and says which.
func (b *Workbench) Undo(ctx context.Context) (store.Undo, error) {
	seq, err := b.undoAllowed(ctx)
	if err != nil {
		return store.Undo{}, err
	}
	u, err := b.db.UndoSeq(ctx, b.actor(), seq)
	if err != nil {
		return store.Undo{}, err
	}
	b.publish(Change{Action: store.ActUndo, CaseID: u.CaseID, What: "undid " + undoWhat(u)})
	return u, nil
}

// MoveBookmarks moves (or, with copy, copies) bookmarks of case from into
// case to (tui.CaseStore): one journalled change of both cases that one
// undo reverts. Moving needs the bookmark right on both cases.
func (b *Workbench) MoveBookmarks(ctx context.Context, from, to string, bookmarkIDs []string, copy bool) (tui.CaseMove, error) {
	res, err := b.Move(ctx, from, to, bookmarkIDs, copy)
	if err != nil {
		return tui.CaseMove{}, err
	}
	return tui.CaseMove{From: res.From.Name, To: res.To.Name, Moved: res.Moved, Folded: res.Folded}, nil
}

// Move is MoveBookmarks with the store's result (both cases as they are
// now), for the CLI.
func (b *Workbench) Move(ctx context.Context, from, to string, bookmarkIDs []string, copy bool) (store.MoveResult, error) {
	action, verb := store.ActBookmarkMove, "moved"
	if copy {
		action, verb = store.ActBookmarkCopy, "copied"
	}
	res, err := caseChange(ctx, b, OpBookmark, from, action, func() (store.MoveResult, error) {
		return b.db.MoveBookmarks(ctx, b.actor(), from, to, bookmarkIDs, copy)
	}, func(r store.MoveResult) (string, string) {
		return r.To.ID, fmt.Sprintf("%s %d bookmarks from %q to %q", verb, len(bookmarkIDs), r.From.Name, r.To.Name)
	})
	if err != nil {
		return store.MoveResult{}, err
	}
	if !copy {
		b.publish(Change{Action: action, CaseID: res.From.ID, What: fmt.Sprintf("%s %d bookmarks to %q", verb, len(bookmarkIDs), res.To.Name)})
	}
	return res, nil
}

// MergeCases folds case from into case into and deletes from
// (tui.CaseStore); one undo brings it back.
func (b *Workbench) MergeCases(ctx context.Context, into, from string) (tui.CaseMove, error) {
	res, fromName, err := b.Merge(ctx, into, from)
	if err != nil {
		return tui.CaseMove{}, err
	}
	return tui.CaseMove{From: fromName, To: res.To.Name, Moved: res.Moved, Folded: res.Folded}, nil
}

// Merge is MergeCases with the store's result and the merged case's name,
// for the CLI.
func (b *Workbench) Merge(ctx context.Context, into, from string) (store.MoveResult, string, error) {
	fromName := from
	if c, err := b.db.Case(ctx, from); err == nil {
		fromName = c.Name
	}
	res, err := caseChange(ctx, b, OpEditCase, from, store.ActCaseMerge, func() (store.MoveResult, error) {
		return b.db.MergeCases(ctx, b.actor(), into, from)
	}, func(r store.MoveResult) (string, string) {
		return r.To.ID, fmt.Sprintf("merged case %q into %q", fromName, r.To.Name)
	})
	if err != nil {
		return store.MoveResult{}, fromName, err
	}
	b.publish(Change{Action: store.ActCaseMerge, CaseID: from, What: fmt.Sprintf("merged case %q into %q", fromName, res.To.Name)})
	return res, fromName, nil
}

// ExportCase writes the case file the way `casegraph export` does, with the
// red flags of the analysis when it has run, and journals the export. The
// dialog's folder is the investigator's explicit choice and defaults to the
// case's own export folder, so an earlier export there is replaced (only an
// earlier export: a folder holding anything else is still refused).
func (b *Workbench) ExportCase(ctx context.Context, caseID, dir string, redact bool) (tui.ExportResult, error) {
	req := ExportRequest{Case: caseID, Out: dir, Redact: redact, Replace: true}
	if a := b.analysis(); a != nil {
		req.Flags, req.WithFlags = a.ExportFlags(), true
	}
	res, err := b.Export(ctx, req)
	if err != nil {
		return tui.ExportResult{}, err
	}
	c := res.Manifest.Counts
	return tui.ExportResult{Dir: res.Dir, Files: len(res.Manifest.Files) + 1, Entities: c.Entities, Links: c.Links,
		Transactions: c.Transactions, Flags: c.Flags}, nil
}
