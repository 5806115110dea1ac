package graph

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSearchLongNameIsBounded: an entity with a 10 MB name (a database
// written before the importers bounded names) is indexed by its first
// 4 KiB (MaxSearchField): searches stay fast and find the rest.
func TestSearchLongNameIsBounded(t *testing.T) {
	huge := Entity{Ref: Ref{Kind: KindPerson, Key: "ftm:huge"}, Name: strings.Repeat("a", 10<<20)}
	docs := []SearchDoc{DocFor(huge), DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "ftm:p"}, Name: "Ахметов Жанболат"})}
	if l := len(docs[0].Label); l > 4096 {
		t.Fatalf("label of %d bytes indexed", l)
	}
	ix := NewSearchIndex(docs)
	start := time.Now()
	for range 20 {
		if r := ix.Search(context.Background(), "ахметов", 0, 10); len(r.Hits) != 1 {
			t.Fatalf("hits %+v", r.Hits)
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("20 searches took %v", took)
	}
}
