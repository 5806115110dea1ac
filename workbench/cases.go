package workbench

import (
	"context"
	"fmt"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// The case methods of tui.CaseStore: each journals the session's user (the
// OS user for a plain Workbench) and the time of the call.

func (b *Workbench) Cases(ctx context.Context) ([]graph.Case, error) { return b.db.Cases(ctx) }

func (b *Workbench) ViewCase(ctx context.Context, caseID string) (graph.Case, error) {
	return b.db.ViewCase(ctx, b.actor(), caseID)
}

func (b *Workbench) CreateCase(ctx context.Context, name string) (graph.Case, error) {
	return b.db.CreateCase(ctx, b.actor(), name)
}

func (b *Workbench) RenameCase(ctx context.Context, caseID, name string) (graph.Case, error) {
	return b.db.RenameCase(ctx, b.actor(), caseID, name)
}

func (b *Workbench) SetCaseStatus(ctx context.Context, caseID string, st graph.CaseStatus) (graph.Case, error) {
	return b.db.SetCaseStatus(ctx, b.actor(), caseID, st)
}

func (b *Workbench) SetCaseNotes(ctx context.Context, caseID, notes string) (graph.Case, error) {
	return b.db.SetCaseNotes(ctx, b.actor(), caseID, notes)
}

func (b *Workbench) SetCaseTags(ctx context.Context, caseID string, tags []string) (graph.Case, error) {
	return b.db.SetCaseTags(ctx, b.actor(), caseID, tags)
}

func (b *Workbench) DeleteCase(ctx context.Context, caseID string) error {
	return b.db.DeleteCase(ctx, b.actor(), caseID)
}

func (b *Workbench) AddBookmark(ctx context.Context, caseID string, bm graph.Bookmark) (graph.Bookmark, error) {
	out, _, err := b.db.AddBookmark(ctx, b.actor(), caseID, bm)
	return out, err
}

func (b *Workbench) UpdateBookmark(ctx context.Context, caseID, bookmarkID string, tags []string, note string) (graph.Bookmark, error) {
	return b.db.UpdateBookmark(ctx, b.actor(), caseID, bookmarkID, store.BookmarkEdit{Tags: &tags, Note: &note})
}

func (b *Workbench) DeleteBookmark(ctx context.Context, caseID, bookmarkID string) error {
	return b.db.DeleteBookmark(ctx, b.actor(), caseID, bookmarkID)
}

func (b *Workbench) UndoLast(ctx context.Context) (string, error) {
	u, err := b.db.UndoLast(ctx, b.actor())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("undid %s (journal #%d)", u.Action, u.Seq), nil
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
