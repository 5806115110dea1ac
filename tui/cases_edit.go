package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
)

// The case changes: the commands that save a dialog and the Cases
// screen's keys (move, copy, merge, delete after asking, status, export,
// undo), split from cases.go, which lists and draws.

// changeCase runs one case change in a command.
func changeCase(fn func() (status, caseID string, err error)) tea.Cmd {
	return func() tea.Msg {
		s, id, err := fn()
		return caseChangedMsg{status: s, caseID: id, err: err}
	}
}

// saveBookmark files target into the case id (picked in the dialog), or,
// when id is empty, into a new case called name (the case of that name
// when one exists); the dialog has refused to save with neither.
func saveBookmark(ctx context.Context, b Backend, cases []graph.Case, id, name string, bm graph.Bookmark) tea.Cmd {
	return changeCase(func() (string, string, error) {
		name = strings.Join(strings.Fields(name), " ")
		for _, c := range cases {
			if id == "" && strings.EqualFold(c.Name, name) {
				id = c.ID
			}
			if c.ID == id {
				name = c.Name
			}
		}
		created := ""
		if id == "" {
			c, err := b.CreateCase(ctx, name)
			if err != nil {
				return "", "", err
			}
			id, created = c.ID, " (new case)"
		}
		out, err := b.AddBookmark(ctx, id, bm)
		if err != nil {
			return "", "", err
		}
		return fmt.Sprintf("bookmarked %s in %q%s", out.Target.Title(), name, created), id, nil
	})
}

// exportCase writes a case's files into dir (named: the dialog has
// refused an empty one) in a command; the status bar shows what was
// written.
func exportCase(ctx context.Context, b Backend, caseID, name, dir string, redact bool) tea.Cmd {
	return func() tea.Msg {
		res, err := b.ExportCase(ctx, caseID, dir, redact)
		if err != nil {
			return caseChangedMsg{err: fmt.Errorf("export %q: %w", name, err)}
		}
		what := "files"
		if redact {
			what = "redacted files"
		}
		s := fmt.Sprintf("exported to %s · %d %s, %d entities, %d transactions", res.Dir, res.Files, what, res.Entities, res.Transactions)
		if res.Flags > 0 {
			s += fmt.Sprintf(", %d red flags", res.Flags)
		}
		return caseChangedMsg{status: s, keep: res.Dir}
	}
}

// saveDialog turns a saved dialog into the backend call it stands for,
// or refuses it, before anything is changed, when what is typed cannot
// be saved: the dialog then stays open on the field to fix (dialogScreen).
func (m *Model) saveDialog(d caseDialog) (tea.Cmd, *refusal) {
	ctx, b := m.ctx, m.b
	switch d.kind {
	case dialogBookmark:
		bm := graph.Bookmark{Target: d.target, Tags: splitTags(d.value(1)), Note: d.noteValue()}
		id, name := "", d.value(0)
		if o, ok := d.picked(); ok {
			id, name = o.id, o.name
		}
		if id == "" && name == "" {
			return nil, &refusal{field: d.base(), msg: "choose a case, or name the new case"}
		}
		return saveBookmark(ctx, b, slices.Clone(m.cs.cases), id, name, bm), nil
	case dialogMove, dialogMerge:
		o, ok := d.picked()
		if !ok {
			return nil, &refusal{field: 0, msg: "no other case to choose"}
		}
		from, ids, copy := d.caseID, d.moveIDs, d.checked
		if d.kind == dialogMerge {
			return changeCase(func() (string, string, error) {
				r, err := b.MergeCases(ctx, o.id, from)
				return fmt.Sprintf("merged %q into %q: %d bookmarks moved, %d joined ones it had · u undoes", r.From, r.To, r.Moved, r.Folded), o.id, err
			}), nil
		}
		return changeCase(func() (string, string, error) {
			r, err := b.MoveBookmarks(ctx, from, o.id, ids, copy)
			verb := "moved"
			if copy {
				verb = "copied"
			}
			s := fmt.Sprintf("%s %s from %q to %q · u undoes", verb, d.what, r.From, r.To)
			if r.Folded > 0 {
				s += fmt.Sprintf(" (joined the bookmark %q had on the same target)", r.To)
			}
			return s, "", err
		}), nil
	case dialogConfirm:
		if d.confirm != nil {
			return d.confirm(), nil
		}
		return nil, nil
	case dialogBand:
		return m.saveBandDialog(d)
	case dialogRenameCase, dialogTagCase, dialogNoteCase, dialogTagBookmark, dialogNoteBookmark:
		ctx = graph.WithSeen(ctx, d.seen)
	}
	switch d.kind {
	case dialogRenameCase:
		id, name := d.caseID, d.value(0)
		if name == "" {
			return nil, &refusal{field: 0, msg: "name the case"}
		}
		return changeCase(func() (string, string, error) {
			c, err := b.RenameCase(ctx, id, name)
			return fmt.Sprintf("renamed to %q", c.Name), "", err
		}), nil
	case dialogTagCase:
		id, tags := d.caseID, splitTags(d.value(0))
		return changeCase(func() (string, string, error) {
			_, err := b.SetCaseTags(ctx, id, tags)
			return "case tags saved", "", err
		}), nil
	case dialogNoteCase:
		id, note := d.caseID, d.noteValue()
		return changeCase(func() (string, string, error) {
			_, err := b.SetCaseNotes(ctx, id, note)
			return "case notes saved", "", err
		}), nil
	case dialogExport:
		c, ok := m.cs.caseByID(d.caseID)
		if !ok {
			return nil, nil
		}
		dir, redact := d.value(0), d.checked
		if dir == "" {
			return nil, &refusal{field: 0, msg: "name a folder"}
		}
		if !filepath.IsAbs(dir) {
			switch {
			case m.exportDir != "":
				dir = filepath.Join(m.exportDir, dir)
			case !m.remote:
				// Never the directory the program was started from.
				return nil, &refusal{field: 0, msg: "no export folder is configured (casegraph --exports DIR): give an absolute folder"}
			}
		}
		m.setStatus(fmt.Sprintf("exporting %q to %s…", c.Name, dir), false)
		return exportCase(ctx, b, c.ID, c.Name, dir, redact), nil
	case dialogVerdictNote:
		return m.judgeWithNote(d.verdictRef, d.verdict, d.noteValue()), nil
	case dialogTagBookmark, dialogNoteBookmark:
		c, ok := m.cs.caseByID(d.caseID)
		if !ok {
			return nil, nil
		}
		bp, ok := c.Bookmark(d.bmID)
		if !ok {
			return nil, nil
		}
		tags, note := bp.Tags, bp.Note
		if d.kind == dialogTagBookmark {
			tags = splitTags(d.value(0))
		} else {
			note = d.noteValue()
		}
		id, bmID := d.caseID, d.bmID
		return changeCase(func() (string, string, error) {
			out, err := b.UpdateBookmark(ctx, id, bmID, tags, note)
			return "saved " + out.Target.Title(), "", err
		}), nil
	}
	return nil, nil
}

func (m *Model) casesScreenKey(msg tea.KeyPressMsg) tea.Cmd {
	cs := &m.cs
	k := cs.keys
	c, bm, ok := cs.selected()
	ctx, b := m.ctx, m.b
	edit := func(kind dialogKind, title, label, value string, multiline bool) tea.Cmd {
		d := newFieldDialog(m.st, kind, title, label, value, multiline)
		d.caseID, d.seen = c.ID, value
		if bm >= 0 {
			d.bmID, d.seen = c.Bookmarks[bm].ID, graph.SeenBookmark(c.Bookmarks[bm])
		}
		return m.openDialog(d, 0)
	}
	switch {
	case key.Matches(msg, m.keys.Quit) && msg.String() == "q":
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.openHelp()
	case key.Matches(msg, k.Close):
		m.pop()
	case key.Matches(msg, k.Undo):
		return changeCase(func() (string, string, error) {
			s, err := b.UndoLast(ctx)
			return s, "", err
		})
	case !ok:
		return nil
	case key.Matches(msg, m.tkeys.Open):
		return m.openTimeline(caseTimeline(c, bm))
	case c.Status != graph.CaseOpen && (key.Matches(msg, k.Rename, k.Tag, k.Note, k.Delete, k.Move, k.Merge)):
		m.setStatus(fmt.Sprintf("%q is %s: read-only · S reopens it (an investigator's decision)", c.Name, c.Status), true)
		return nil
	case key.Matches(msg, k.Move, k.Copy) && bm >= 0:
		bmk := c.Bookmarks[bm]
		verb := "Move"
		if key.Matches(msg, k.Copy) {
			verb = "Copy"
		}
		d := newPickDialog(dialogMove, verb+" "+bookmarkTitle(bmk)+" to", c, cs.cases, []string{bmk.ID})
		d.what, d.checked = bookmarkTitle(bmk), verb == "Copy"
		return m.openDialog(d, 0)
	case key.Matches(msg, k.Merge) && bm < 0:
		d := newPickDialog(dialogMerge, fmt.Sprintf("Merge %q (%s) into", c.Name, countOf(len(c.Bookmarks), "bookmark", "bookmarks")), c, cs.cases, nil)
		return m.openDialog(d, 0)
	case key.Matches(msg, k.Enter):
		if bm < 0 {
			id := c.ID
			return changeCase(func() (string, string, error) {
				vc, err := b.ViewCase(ctx, id)
				return fmt.Sprintf("current case: %q · %s", vc.Name, countOf(len(vc.Bookmarks), "bookmark", "bookmarks")), vc.ID, err
			})
		}
		cs.current = c.ID
		if t := c.Bookmarks[bm].Target; t.Kind == graph.TargetPath && len(t.Refs) > 1 {
			return m.openPathBookmark(t)
		}
		return m.open(c.Bookmarks[bm].Target.Refs[0], false)
	case key.Matches(msg, k.Rename):
		return edit(dialogRenameCase, "Rename case", "name", c.Name, false)
	case key.Matches(msg, k.Tag) && bm < 0:
		return edit(dialogTagCase, "Tags of "+c.Name, "tags", strings.Join(c.Tags, " "), false)
	case key.Matches(msg, k.Tag):
		return edit(dialogTagBookmark, "Tags of "+c.Bookmarks[bm].Target.Title(), "tags", strings.Join(c.Bookmarks[bm].Tags, " "), false)
	case key.Matches(msg, k.Note) && bm < 0:
		return edit(dialogNoteCase, "Notes of "+c.Name, "", c.Notes, true)
	case key.Matches(msg, k.Note):
		return edit(dialogNoteBookmark, "Note on "+c.Bookmarks[bm].Target.Title(), "", c.Bookmarks[bm].Note, true)
	case key.Matches(msg, k.Export):
		hint := "a relative folder goes under " + m.exportDir
		if m.exportDir == "" {
			hint = "a relative folder goes under your export folder on the server"
		}
		return m.openDialog(newExportDialog(m.st, c, time.Now(), hint), 0)
	case key.Matches(msg, k.Status):
		next := graph.CaseStatuses[(slices.Index(graph.CaseStatuses, c.Status)+1)%len(graph.CaseStatuses)]
		id := c.ID
		ctx := graph.WithSeen(ctx, string(c.Status))
		return changeCase(func() (string, string, error) {
			vc, err := b.SetCaseStatus(ctx, id, next)
			return fmt.Sprintf("%q is %s", vc.Name, vc.Status), "", err
		})
	case key.Matches(msg, k.Delete) && bm < 0:
		id, name := c.ID, c.Name
		q := fmt.Sprintf("Delete case %q with its %s and its notes?", name, countOf(len(c.Bookmarks), "bookmark", "bookmarks"))
		d := newConfirmDialog("Delete case "+name, q)
		d.confirm = func() tea.Cmd {
			return changeCase(func() (string, string, error) {
				return fmt.Sprintf("deleted case %q · u undoes", name), "", b.DeleteCase(ctx, id)
			})
		}
		return m.openDialog(d, 0)
	case key.Matches(msg, k.Delete):
		id, bmID, title := c.ID, c.Bookmarks[bm].ID, bookmarkTitle(c.Bookmarks[bm])
		q := fmt.Sprintf("Delete the bookmark %s from %q?", title, c.Name)
		if c.Bookmarks[bm].Note != "" {
			q = fmt.Sprintf("Delete the bookmark %s and its note from %q?", title, c.Name)
		}
		d := newConfirmDialog("Delete bookmark", q)
		d.confirm = func() tea.Cmd {
			return changeCase(func() (string, string, error) {
				return fmt.Sprintf("deleted bookmark %s from %q · u undoes", title, c.Name), "", b.DeleteBookmark(ctx, id, bmID)
			})
		}
		return m.openDialog(d, 0)
	}
	return nil
}
