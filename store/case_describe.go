package store

import (
	"fmt"
	"slices"

	"casegraph/graph"
)

// describeChange says in words what a change of one case did, for the undo
// stack ("undid deleted bookmark … from …").
func describeChange(action string, w caseWrite) string {
	name := ""
	switch {
	case w.Next != nil:
		name = w.Next.Name
	case w.Before != nil:
		name = w.Before.Name
	}
	switch action {
	case ActCaseCreate:
		return fmt.Sprintf("created case %q", name)
	case ActCaseImport:
		return fmt.Sprintf("imported case %q", name)
	case ActCaseDelete:
		n := 0
		if w.Before != nil {
			n = len(w.Before.Bookmarks)
		}
		return fmt.Sprintf("deleted case %q with %d bookmarks", name, n)
	case ActCaseRename:
		if w.Before != nil {
			return fmt.Sprintf("renamed %q to %q", w.Before.Name, name)
		}
	case ActCaseStatus:
		if w.Before != nil && w.Next != nil {
			return fmt.Sprintf("set %q from %s to %s", name, w.Before.Status, w.Next.Status)
		}
	case ActCaseNotes:
		return fmt.Sprintf("changed the notes of %q", name)
	case ActCaseTags:
		return fmt.Sprintf("changed the tags of %q", name)
	case ActQuerySave:
		return fmt.Sprintf("saved a query in %q", name)
	case ActBookmarkAdd, ActBookmarkUpdate, ActBookmarkDelete:
		if w.Before == nil || w.Next == nil {
			break
		}
		added, removed, changed := diffBookmarks(w.Before.Bookmarks, w.Next.Bookmarks)
		switch {
		case len(added) > 0:
			return fmt.Sprintf("bookmarked %s in %q", added[0].Target.Title(), name)
		case len(removed) > 0:
			return fmt.Sprintf("deleted bookmark %s from %q", removed[0].Target.Title(), name)
		case len(changed) > 0 && action == ActBookmarkAdd:
			return fmt.Sprintf("added to bookmark %s in %q", changed[0].Target.Title(), name)
		case len(changed) > 0:
			return fmt.Sprintf("edited bookmark %s in %q", changed[0].Target.Title(), name)
		}
	}
	return fmt.Sprintf("%s on %q", action, name)
}

// diffBookmarks returns the bookmarks of next that before lacks, those of
// before that next lacks, and those of next whose content changed (by id).
func diffBookmarks(before, next []graph.Bookmark) (added, removed, changed []graph.Bookmark) {
	for _, n := range next {
		i := slices.IndexFunc(before, func(b graph.Bookmark) bool { return b.ID == n.ID })
		switch {
		case i < 0:
			added = append(added, n)
		case before[i].Note != n.Note || !slices.Equal(before[i].Tags, n.Tags) || before[i].Target.Key() != n.Target.Key():
			changed = append(changed, n)
		}
	}
	for _, b := range before {
		if !slices.ContainsFunc(next, func(n graph.Bookmark) bool { return n.ID == b.ID }) {
			removed = append(removed, b)
		}
	}
	return added, removed, changed
}
