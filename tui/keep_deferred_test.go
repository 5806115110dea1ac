package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// keepingFake is the fake backend keeping its analyses the way the
// workbench does (DeferredKeeper).
type keepingFake struct {
	*fakeBackend
	kept    int
	keepErr error
	onKeep  func() // called as the keep starts
}

func (k *keepingFake) AnalyzeDeferred(ctx context.Context, progress func(stage string, done, total int)) (func(context.Context) error, error) {
	if err := k.fakeBackend.Analyze(ctx, progress); err != nil {
		return nil, err
	}
	return func(context.Context) error {
		k.onKeep()
		k.kept++
		return k.keepErr
	}, nil
}

// A backend that keeps its analyses has the flags on screen before the
// keep runs; the status says when it is kept, or that it was not.
func TestFlagsShownBeforeTheKeep(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "analysis ready · kept in the database"},
		{errors.New("disk full"), "the analysis ran but was not kept in the database: disk full"},
	} {
		m, f := newModel(t, 120, 40, Options{})
		k := &keepingFake{fakeBackend: f, keepErr: tc.err}
		m.b = k
		var ready bool
		var screen string
		k.onKeep = func() { ready, screen = m.ana.ready, screenText(m) }
		press(t, m, "F")
		if k.kept != 1 {
			t.Fatalf("kept %d times", k.kept)
		}
		if !ready || !strings.Contains(screen, "Flags · all rules") || !strings.Contains(screen, "analysis ready"+keepingStatus) {
			t.Fatalf("the flags were not on screen when the keep started (ready %v):\n%s", ready, screen)
		}
		requireContains(t, m, tc.want)
	}
}
