package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
		key := b.Target.Key()
		if i := slices.IndexFunc(c.Bookmarks, func(o graph.Bookmark) bool { return o.Target.Key() == key }); i >= 0 {
			ex := &c.Bookmarks[i]
			ex.Tags = graph.NormalizeTags(append(ex.Tags, b.Tags...))
			if n := strings.TrimSpace(b.Note); n != "" && !strings.Contains(ex.Note, n) {
				if ex.Note != "" {
					ex.Note = strings.TrimRight(ex.Note, "\n") + "\n\n"
				}
				ex.Note += b.Note
			}
			ex.Updated = now
			out = *ex
			d := detailOf(out)
			return &c, struct {
				bookmarkDetail
				Existing bool `json:"existing"`
			}{d, true}, nil
		}
		nb := b
		nb.ID = id
		for slices.ContainsFunc(c.Bookmarks, func(o graph.Bookmark) bool { return o.ID == nb.ID }) {
			again, err := newID("b-")
			if err != nil {
				return nil, nil, err
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
		out, added = nb, true
		return &c, detailOf(nb), nil
	})
	if err != nil {
		return graph.Bookmark{}, false, fmt.Errorf("add bookmark to case %q: %w", idOrName, err)
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
		return graph.Bookmark{}, fmt.Errorf("update bookmark in case %q: %w", idOrName, err)
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
		return fmt.Errorf("delete bookmark from case %q: %w", idOrName, err)
	}
	return nil
}
