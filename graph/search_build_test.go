package graph

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBuildSearchIndexInBatches builds an index from a source read twice,
// in batches of a chunk per core, over several batches: every document is
// where it was read, named by its reference, and found as the oracle finds
// it.
func TestBuildSearchIndexInBatches(t *testing.T) {
	const n = 3*searchChunkSize + 1234 // several batches on any number of cores
	corpus := func() []SearchDoc { return randomCorpus(rand.New(rand.NewPCG(3, 5)), n) }
	docs := corpus()
	passes := 0
	ix, err := BuildSearchIndex(func(fn func(SearchDoc) error) error {
		passes++
		for _, d := range corpus() { // fresh strings each pass, as a store reads them
			if err := fn(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if passes != 2 || ix.Len() != n {
		t.Fatalf("%d passes, %d documents", passes, ix.Len())
	}
	first := map[Ref]int{}
	for i, d := range docs {
		if _, ok := first[d.Ref]; !ok {
			first[d.Ref] = i
		}
		got := ix.doc(i)
		if got.Ref != d.Ref || got.Label != d.Label || got.Facts != d.Facts || !slices.Equal(got.Terms, d.Terms) {
			t.Fatalf("document %d is %+v, read %+v", i, got, d)
		}
	}
	for r, i := range first {
		if l, ok := ix.Label(r); !ok || l != docs[i].Label {
			t.Fatalf("Label(%v) = %q, %v; want %q", r, l, ok, docs[i].Label)
		}
	}
	rng := rand.New(rand.NewPCG(11, 13))
	for range 20 {
		q := randomQuery(rng, docs)
		if want, res := oracleMatches(docs, q, KindUnknown), ix.Search(context.Background(), q, KindUnknown, 10); res.Total != len(want) {
			t.Fatalf("query %q: Total %d, oracle %d", q, res.Total, len(want))
		}
	}
}

// TestBuildSearchIndexSourceErrors: a source's error is returned, and a
// second pass that reads another number of documents is an error, not an
// index with missing or invented documents.
func TestBuildSearchIndexSourceErrors(t *testing.T) {
	docs := randomCorpus(rand.New(rand.NewPCG(1, 2)), 100)
	boom := errors.New("boom")
	for name, tc := range map[string]struct {
		second []SearchDoc
		err    error
		want   error
	}{
		"one fewer":  {second: docs[:99], want: errDocsChanged},
		"one more":   {second: append(slices.Clone(docs), docs[0]), want: errDocsChanged},
		"read error": {second: docs, err: boom, want: boom},
	} {
		pass := 0
		_, err := BuildSearchIndex(func(fn func(SearchDoc) error) error {
			pass++
			src := docs
			if pass == 2 {
				if tc.err != nil {
					return tc.err
				}
				src = tc.second
			}
			for _, d := range src {
				if err := fn(d); err != nil {
					return err
				}
			}
			return nil
		})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
