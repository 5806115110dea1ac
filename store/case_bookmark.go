package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// bookmarkDetail is the journal detail of a bookmark change.
type bookmarkDetail struct {
	Bookmark string   `json:"bookmark"`
	Target   string   `json:"target"`
	Tags     []string `json:"tags,omitempty"`
	Note     string   `json:"note,omitempty"`
}

func detailOf(b graph.Bookmark) bookmarkDetail {
	return bookmarkDetail{Bookmark: b.ID, Target: b.Target.Key(), Tags: b.Tags, Note: b.Note}
}

// AddBookmark adds b to a case and returns it with its id and times set. If
// the case already has a bookmark on the same target, that one gains b's tags
// and note instead (added is false): a case never lists a target twice.
func (db *DB) AddBookmark(ctx context.Context, act Actor, idOrName string, b graph.Bookmark) (_ graph.Bookmark, added bool, _ error) {
	if err := b.Target.Validate(); err != nil {
		return graph.Bookmark{}, false, fmt.Errorf("add bookmark: %w", err)
	}
	id, err := newID("b-")
	if err != nil {
		return graph.Bookmark{}, false, err
	}
	now := act.Time.UTC()
	var out graph.Bookmark
	err = db.commitCase(ctx, act, idOrName, ActBookmarkAdd, func(_ *badger.Txn, old *graph.Case) (*graph.Case, any, error) {
		c := old.Clone()
		nb := b
		nb.ID = id
		o, isNew, err := foldBookmark(&c, nb, now)
		if err != nil {
			return nil, nil, err
		}
		out, added = o, isNew
		if !isNew {
			return &c, struct {
				bookmarkDetail
				Existing bool `json:"existing"`
			}{detailOf(out), true}, nil
		}
		return &c, detailOf(out), nil
	})
	if err != nil {
		return graph.Bookmark{}, false, fmt.Errorf("add bookmark to case %s: %w", db.caseLabel(idOrName), err)
	}
	return out, added, nil
}

// BookmarkEdit changes a bookmark: a nil field is left as it is.
type BookmarkEdit struct {
	Tags    *[]string // replace the tags
	AddTags []string  // add these tags
	Note    *string   // replace the note
}

// UpdateBookmark re-tags or re-notes a bookmark.
func (db *DB) UpdateBookmark(ctx context.Context, act Actor, idOrName, bookmarkID string, ed BookmarkEdit) (graph.Bookmark, error) {
	var out graph.Bookmark
	_, err := db.editCase(ctx, act, idOrName, ActBookmarkUpdate, func(c *graph.Case) (any, error) {
		b, ok := c.Bookmark(bookmarkID)
		if !ok {
			return nil, fmt.Errorf("bookmark %s: %w", bookmarkID, ErrNotFound)
		}
		if err := checkSeen(ctx, graph.SeenBookmark(*b)); err != nil {
			return nil, err
		}
		if ed.Tags != nil {
			b.Tags = graph.NormalizeTags(*ed.Tags)
		}
		if len(ed.AddTags) > 0 {
			b.Tags = graph.NormalizeTags(append(b.Tags, ed.AddTags...))
		}
		if ed.Note != nil {
			b.Note = *ed.Note
		}
		b.Updated = act.Time.UTC()
		out = *b
		return detailOf(*b), nil
	})
	if err != nil {
		return graph.Bookmark{}, fmt.Errorf("update bookmark in case %s: %w", db.caseLabel(idOrName), err)
	}
	return out, nil
}

// DeleteBookmark removes a bookmark from a case.
func (db *DB) DeleteBookmark(ctx context.Context, act Actor, idOrName, bookmarkID string) error {
	_, err := db.editCase(ctx, act, idOrName, ActBookmarkDelete, func(c *graph.Case) (any, error) {
		i := slices.IndexFunc(c.Bookmarks, func(o graph.Bookmark) bool { return o.ID == bookmarkID })
		if i < 0 {
			return nil, fmt.Errorf("bookmark %s: %w", bookmarkID, ErrNotFound)
		}
		d := detailOf(c.Bookmarks[i])
		c.Bookmarks = slices.Delete(c.Bookmarks, i, i+1)
		return d, nil
	})
	if err != nil {
		return fmt.Errorf("delete bookmark from case %s: %w", db.caseLabel(idOrName), err)
	}
	return nil
}

// foldBookmark adds b to c, or, when c already has a bookmark on the same
// target, folds b's tags and note into that one (added is false): a case
// never lists a target twice. b keeps its id unless c has a bookmark with
// that id (or b has none): it then gets a new one. It returns the bookmark
// as c now holds it.
func foldBookmark(c *graph.Case, b graph.Bookmark, now time.Time) (_ graph.Bookmark, added bool, _ error) {
	key := b.Target.Key()
	if i := slices.IndexFunc(c.Bookmarks, func(o graph.Bookmark) bool { return o.Target.Key() == key }); i >= 0 {
		ex := &c.Bookmarks[i]
		ex.Tags = graph.NormalizeTags(append(ex.Tags, b.Tags...))
		if n := strings.TrimSpace(b.Note); n != "" && !hasParagraph(ex.Note, n) {
			if ex.Note != "" {
				ex.Note = strings.TrimRight(ex.Note, "\n") + "\n\n"
			}
			ex.Note += b.Note
		}
		ex.Updated = now
		return *ex, false, nil
	}
	nb := b
	for nb.ID == "" || slices.ContainsFunc(c.Bookmarks, func(o graph.Bookmark) bool { return o.ID == nb.ID }) {
		again, err := newID("b-")
		if err != nil {
			return graph.Bookmark{}, false, err
		}
		nb.ID = again
	}
	nb.Tags = graph.NormalizeTags(b.Tags)
	nb.Target.Refs = slices.Clone(b.Target.Refs)
	if nb.Created.IsZero() {
		nb.Created = now
	}
	nb.Updated = now
	c.Bookmarks = append(c.Bookmarks, nb)
	return nb, true, nil
}

// hasParagraph reports whether note already holds p as whole paragraphs
// (paragraphs are separated by a blank line): a note folded in twice is
// kept once, and one that merely contains the words of another is still
// added.
func hasParagraph(note, p string) bool {
	return strings.Contains("\n\n"+strings.TrimSpace(note)+"\n\n", "\n\n"+p+"\n\n")
}
