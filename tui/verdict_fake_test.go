package tui

import (
	"context"
	"fmt"

	"casegraph/graph"
)

func (f *fakeBackend) Verdict(_ context.Context, ref graph.Ref) (graph.Verdict, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.verdicts[ref]
	return v, ok, nil
}

func (f *fakeBackend) SetVerdict(_ context.Context, ref graph.Ref, kind graph.VerdictKind, note string) (graph.Verdict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.verdicts == nil {
		f.verdicts = map[graph.Ref]graph.Verdict{}
	}
	v := graph.Verdict{Ref: ref, Kind: kind, Note: note, User: "aigerim", Time: f.tick()}
	f.verdicts[ref] = v
	return v, nil
}

func (f *fakeBackend) ClearVerdict(_ context.Context, ref graph.Ref) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.verdicts[ref]; !ok {
		return fmt.Errorf("verdict on %s: %w", ref, graph.ErrNotFound)
	}
	delete(f.verdicts, ref)
	return nil
}

func (f *fakeBackend) withVerdict(r FlagRow) FlagRow {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.verdicts[r.Ref]; ok {
		r.Verdict, r.VerdictNote = v.Kind, v.Note
	}
	return r
}
