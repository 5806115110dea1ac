package graph

import (
	"context"
	"errors"
	"strings"
)

// ErrStale is wrapped by a change refused because the field it changes no
// longer holds what the user saw when they began the change: someone else
// changed it in between (a team server's users edit the same cases).
var ErrStale = errors.New("changed by someone else since you opened it")

type seenKey struct{}

// WithSeen says that the case change made with ctx was begun on a field
// that then held seen (Seen* below give the forms); the store refuses the
// change with ErrStale when the field holds something else now.
func WithSeen(ctx context.Context, seen string) context.Context {
	return context.WithValue(ctx, seenKey{}, seen)
}

// Seen is what WithSeen put in ctx.
func Seen(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(seenKey{}).(string)
	return s, ok
}

// SeenTags is the form of a tag list for WithSeen.
func SeenTags(tags []string) string { return strings.Join(tags, " ") }

// SeenBookmark is the form of a bookmark's tags and note for WithSeen.
func SeenBookmark(b Bookmark) string { return SeenTags(b.Tags) + "\x00" + b.Note }
