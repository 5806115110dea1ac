package workbench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/internal/dgraphtest"
	"casegraph/store"
	"casegraph/tui"
	"casegraph/tui/search"
	"casegraph/tui/theme"
)

// TestDgraphSearchLocalFirst: the search pane over a workbench on a real
// cluster shows the hits of the entities at hand (here the one a case
// bookmarks) at once and the cluster's merged after the debounce, each
// entity once; what the cluster returned, and what is opened, is at hand
// for the next search.
func TestDgraphSearchLocalFirst(t *testing.T) {
	c := dgraphtest.StartT(t)
	ctx := context.Background()
	dg, err := dgraphdb.Open(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dg.Close() })
	local, err := store.Open(filepath.Join(t.TempDir(), "local"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	wb := NewRemote(local, dg)
	files, err := ExpandInputs([]string{filepath.Join("..", "testdata", "rules")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wb.Import(ctx, files, filepath.Join(t.TempDir(), "rejects.csv"), nil, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := wb.CreateCase(ctx, "drops")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wb.AddBookmark(ctx, cs.ID, graph.Bookmark{Target: graph.EntityTarget(dropper1, "")}); err != nil {
		t.Fatal(err)
	}
	// A fresh workbench on the same stores: only the bookmark is at hand.
	wb = NewRemote(local, dg)
	if wb.SearchServer() != "cluster" {
		t.Fatalf("SearchServer %q on a cluster", wb.SearchServer())
	}
	n, _, err := wb.LoadSearch(ctx)
	if err != nil || n != 1 {
		t.Fatalf("LoadSearch: %d documents, %v; want the bookmarked entity", n, err)
	}

	m := search.New(ctx, wb, tui.ErrSearchNotReady, theme.New(true))
	m.SetSize(100, 20)
	m.Focus()
	msgs := make(chan tea.Msg, 64)
	for _, r := range "дроппер" {
		var cmd tea.Cmd
		m, cmd = m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		runAll(cmd, msgs)
	}
	// The answers to the last keystroke, in the order they arrive.
	var order []bool // Server of each
	start := time.Now()
	for len(order) < 2 {
		select {
		case msg := <-msgs:
			r, ok := msg.(search.ResultsMsg)
			if !ok {
				continue
			}
			m, _ = m.Update(r)
			if r.Seq != m.Seq() {
				continue
			}
			order = append(order, r.Server)
			if r.Err != nil {
				t.Fatalf("search: %v", r.Err)
			}
			if !r.Server {
				if got := hitRefs(m.Result().Hits); !slices.Equal(got, []graph.Ref{dropper1}) {
					t.Fatalf("local hits %v, want the bookmarked %v", got, dropper1)
				}
				if f := m.Footer(); !strings.HasSuffix(f, "cluster…") {
					t.Errorf("footer while the cluster is asked: %q", f)
				}
				if took := time.Since(start); took >= search.Debounce {
					t.Errorf("the local hits took %v", took)
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no answer from the cluster")
		}
	}
	if order[0] || !order[1] {
		t.Fatalf("answers arrived in the order %v (server?), want the local one first", order)
	}
	got := hitRefs(m.Result().Hits)
	want := []graph.Ref{dropper1, {Kind: graph.KindPerson, Key: "990101300201"}, {Kind: graph.KindPerson, Key: "990101300300"}}
	if !slices.Equal(got, want) {
		t.Fatalf("merged hits %v, want %v", got, want)
	}
	if f := m.Footer(); !strings.Contains(f, "3 of 3 matches") || !strings.Contains(f, "+2 from cluster") {
		t.Errorf("footer after the merge: %q", f)
	}

	// The cluster's hits are at hand now, and so is an entity opened.
	card := graph.Ref{Kind: graph.KindCard, Key: "440043100000007"}
	if _, err := wb.Entity(ctx, card); err != nil {
		t.Fatal(err)
	}
	if n := wb.LocalSearchDocs(); n != 4 {
		t.Errorf("%d documents at hand, want the 3 found and the card opened", n)
	}
	res, err := wb.SearchLocal(ctx, "дроппер", graph.KindUnknown, 10)
	if err != nil || !slices.Equal(hitRefs(res.Hits), want) {
		t.Errorf("local search after the cluster's answer: %v %v, want %v", hitRefs(res.Hits), err, want)
	}
	if res, _ := wb.SearchLocal(ctx, "0007", graph.KindCard, 10); !slices.Equal(hitRefs(res.Hits), []graph.Ref{card}) {
		t.Errorf("the card opened is not at hand: %v", hitRefs(res.Hits))
	}
}

// runAll runs cmd and every command of its batches concurrently, as the
// Bubble Tea runtime does, sending their messages to out.
func runAll(cmd tea.Cmd, out chan<- tea.Msg) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				runAll(c, out)
			}
			return
		}
		if msg != nil {
			out <- msg
		}
	}()
}

func hitRefs(hits []graph.SearchHit) []graph.Ref {
	out := make([]graph.Ref, len(hits))
	for i, h := range hits {
		out[i] = h.Doc.Ref
	}
	return out
}

// TestLocalIndexBounded: the local index keeps the most recently added
// documents within its bound, and a document added again is refreshed.
func TestLocalIndexBounded(t *testing.T) {
	l := newLocalIndex(100)
	doc := func(i int) graph.SearchDoc {
		return graph.SearchDoc{Ref: graph.Ref{Kind: graph.KindPerson, Key: fmt.Sprintf("%012d", i)}, Label: fmt.Sprintf("Житель %03d", i)}
	}
	for i := range 150 {
		l.add(doc(i))
	}
	l.settle()
	if n := l.len(); n > 100 || n < 90 {
		t.Fatalf("%d documents kept, bound 100", n)
	}
	ctx := context.Background()
	if res := l.search(ctx, doc(149).Label, graph.KindUnknown, 5); len(res.Hits) == 0 || res.Hits[0].Doc.Ref != doc(149).Ref {
		t.Errorf("the newest document is not found: %v", hitRefs(res.Hits))
	}
	if res := l.search(ctx, doc(0).Label, graph.KindUnknown, 5); len(res.Hits) > 0 && res.Hits[0].Doc.Ref == doc(0).Ref {
		t.Error("the oldest document was kept past the bound")
	}
	d := doc(149)
	d.Label = "Житель переименован"
	l.add(d)
	l.settle()
	if res := l.search(ctx, "переименован", graph.KindUnknown, 5); len(res.Hits) != 1 || res.Hits[0].Doc.Ref != d.Ref {
		t.Errorf("the refreshed document is not found: %v", hitRefs(res.Hits))
	}
}
