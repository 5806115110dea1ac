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

// MoveResult says what MoveBookmarks or MergeCases did.
type MoveResult struct {
	From, To graph.Case // both cases after the change (From is the zero Case when a merge deleted it)
	Moved    int        // bookmarks that arrived as new bookmarks of To
	Folded   int        // bookmarks whose target To already had: their tags and notes joined that one
}

// loadTwo reads the two cases of a move or merge, refusing the same case
// twice.
func loadTwo(ctx context.Context, txn *badger.Txn, from, to string) (graph.Case, graph.Case, error) {
	src, err := findCase(ctx, txn, from)
	if err != nil {
		return graph.Case{}, graph.Case{}, fmt.Errorf("case %q: %w", from, err)
	}
	dst, err := findCase(ctx, txn, to)
	if err != nil {
		return graph.Case{}, graph.Case{}, fmt.Errorf("case %q: %w", to, err)
	}
	if src.ID == dst.ID {
		return graph.Case{}, graph.Case{}, fmt.Errorf("%q is both the source and the destination", src.Name)
	}
	return src, dst, nil
}

// MoveBookmarks moves (or, with copy, copies) the bookmarks ids of case from
// into case to, in one transaction journalled on both cases (bookmark.move
// or bookmark.copy) and undone as one step. A bookmark whose target to
// already has is folded into that one (tags and note joined), as
// AddBookmark does. The destination must be open; so must the source of a
// move (a copy only reads it).
func (db *DB) MoveBookmarks(ctx context.Context, act Actor, from, to string, ids []string, copy bool) (MoveResult, error) {
	action, op, verb := ActBookmarkMove, "move", "moved"
	if copy {
		action, op, verb = ActBookmarkCopy, "copy", "copied"
	}
	if len(ids) == 0 {
		return MoveResult{}, fmt.Errorf("%s: no bookmarks named", action)
	}
	now := act.Time.UTC()
	var res MoveResult
	err := db.commitCases(ctx, act, action, func(txn *badger.Txn) ([]caseWrite, string, error) {
		src, dst, err := loadTwo(ctx, txn, from, to)
		if err != nil {
			return nil, "", err
		}
		if err := writable(dst); err != nil {
			return nil, "", err
		}
		if !copy {
			if err := writable(src); err != nil {
				return nil, "", err
			}
		}
		nsrc, ndst := src.Clone(), dst.Clone()
		var titles, moved []string
		for _, id := range ids {
			b, ok := src.Bookmark(id)
			if !ok {
				return nil, "", fmt.Errorf("bookmark %s of case %q: %w", id, src.Name, ErrNotFound)
			}
			if slices.Contains(moved, id) {
				continue
			}
			moved = append(moved, id)
			nb := *b
			nb.Target.Refs = slices.Clone(b.Target.Refs)
			nb.Tags = slices.Clone(b.Tags)
			if copy {
				nb.ID, nb.Created = "", time.Time{}
			}
			if _, added, err := foldBookmark(&ndst, nb, now); err != nil {
				return nil, "", err
			} else if added {
				res.Moved++
			} else {
				res.Folded++
			}
			titles = append(titles, b.Target.Title())
			if !copy {
				nsrc.Bookmarks = slices.DeleteFunc(nsrc.Bookmarks, func(o graph.Bookmark) bool { return o.ID == id })
			}
		}
		detail := map[string]any{"from": src.ID, "from_name": src.Name, "to": dst.ID, "to_name": dst.Name, "bookmarks": moved}
		what := fmt.Sprintf("%s %s from %q to %q", verb, countOrTitle(titles), src.Name, dst.Name)
		ws := []caseWrite{{Before: ptr(dst.Clone()), Next: &ndst, Detail: detail}}
		if !copy {
			ws = append(ws, caseWrite{Before: ptr(src.Clone()), Next: &nsrc, Detail: detail})
		}
		res.From, res.To = nsrc, ndst
		return ws, what, nil
	})
	if err != nil {
		return MoveResult{}, fmt.Errorf("%s bookmarks from %s to %s: %w", op, db.caseLabel(from), db.caseLabel(to), err)
	}
	res.To.Updated = now
	if !copy {
		res.From.Updated = now
	}
	return res, nil
}

// MergeCases moves every bookmark of case from into case into (folding
// those on a target into already has), joins from's notes, tags and saved
// queries into into's and deletes from: one transaction, journalled on
// both (case.merge) and undone as one step. Both must be open.
func (db *DB) MergeCases(ctx context.Context, act Actor, into, from string) (MoveResult, error) {
	now := act.Time.UTC()
	var res MoveResult
	err := db.commitCases(ctx, act, ActCaseMerge, func(txn *badger.Txn) ([]caseWrite, string, error) {
		src, dst, err := loadTwo(ctx, txn, from, into)
		if err != nil {
			return nil, "", err
		}
		for _, c := range []graph.Case{dst, src} {
			if err := writable(c); err != nil {
				return nil, "", err
			}
		}
		ndst := dst.Clone()
		for _, b := range src.Clone().Bookmarks {
			if _, added, err := foldBookmark(&ndst, b, now); err != nil {
				return nil, "", err
			} else if added {
				res.Moved++
			} else {
				res.Folded++
			}
		}
		if n := strings.TrimSpace(src.Notes); n != "" {
			ndst.Notes = strings.TrimLeft(strings.TrimRight(ndst.Notes, "\n")+"\n\n", "\n") + fmt.Sprintf("From case %q:\n%s", src.Name, src.Notes)
		}
		ndst.Tags = graph.NormalizeTags(append(slices.Clone(ndst.Tags), src.Tags...))
		for _, q := range src.Queries {
			if !slices.ContainsFunc(ndst.Queries, func(o graph.SavedQuery) bool { return o.Name == q.Name }) {
				ndst.Queries = append(ndst.Queries, q)
			}
		}
		detail := map[string]any{"into": dst.ID, "into_name": dst.Name, "from": src.ID, "from_name": src.Name,
			"bookmarks": len(src.Bookmarks)}
		what := fmt.Sprintf("merged case %q (%d bookmarks) into %q", src.Name, len(src.Bookmarks), dst.Name)
		res.To = ndst
		return []caseWrite{
			{Before: ptr(dst.Clone()), Next: &ndst, Detail: detail},
			{Before: ptr(src.Clone()), Next: nil, Detail: detail},
		}, what, nil
	})
	if err != nil {
		return MoveResult{}, fmt.Errorf("merge case %s into %s: %w", db.caseLabel(from), db.caseLabel(into), err)
	}
	res.To.Updated = now
	return res, nil
}

func ptr[T any](v T) *T { return &v }

// countOrTitle names one bookmark by its title, several by their number.
func countOrTitle(titles []string) string {
	if len(titles) == 1 {
		return "bookmark " + titles[0]
	}
	return fmt.Sprintf("%d bookmarks", len(titles))
}
