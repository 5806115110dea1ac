package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"casegraph/backend"
	"casegraph/graph"
	"casegraph/tui/graphview"
)

// prefetchFake is the fake backend with backend.Prefetcher: it records
// every prefetch and answers fail.
type prefetchFake struct {
	*fakeBackend
	pmu   sync.Mutex
	calls [][]graph.Ref
	fail  error
}

func (p *prefetchFake) PrefetchNeighbors(_ context.Context, refs []graph.Ref) error {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	p.calls = append(p.calls, slices.Clone(refs))
	return p.fail
}

var _ backend.Prefetcher = (*prefetchFake)(nil)

func newPrefetchModel(t *testing.T, fail error, start graph.Ref) (*Model, *prefetchFake) {
	t.Helper()
	p := &prefetchFake{fakeBackend: newFake(), fail: fail}
	m := New(p, Options{Start: &start})
	fixed := time.Date(2025, 3, 20, 9, 0, 0, 0, time.UTC)
	m.search.SetClock(func() time.Time { return fixed })
	run(t, m, tea.WindowSizeMsg{Width: 140, Height: 40})
	for _, msg := range expand(m.Init()) {
		run(t, m, msg)
	}
	return m, p
}

// TestEntityPagePrefetchesNeighbours: once an entity page's neighbours
// arrive, one prefetch names them (each once, the entity itself never), in
// a command; a failed prefetch leaves the page as it is.
func TestEntityPagePrefetchesNeighbours(t *testing.T) {
	for _, fail := range []error{nil, errors.New("cluster unreachable")} {
		m, p := newPrefetchModel(t, fail, refCard)
		rows, _, err := p.Neighbors(context.Background(), refCard, 0)
		if err != nil || len(rows) == 0 {
			t.Fatalf("the fixture's card has no neighbours: %v", err)
		}
		var want []graph.Ref
		for _, r := range rows {
			if r.Ref != refCard && !slices.Contains(want, r.Ref) {
				want = append(want, r.Ref)
			}
		}
		if len(p.calls) != 1 || !slices.Equal(p.calls[0], want) {
			t.Fatalf("prefetches %v, want one of the page's neighbours %v", p.calls, want)
		}
		if m.statusErr {
			t.Errorf("prefetch error %v broke the page: status %q", fail, m.status)
		}
		requireContains(t, m, "Neighbours", "Kaspi Bank")
	}
}

// TestPrefetchIsACommand: the prefetch runs in the command the neighbours'
// message returns, never inside Update, bounded to PrefetchLimit
// neighbours; neighbours of a page no longer shown, an error, or a backend
// without backend.Prefetcher prefetch nothing.
func TestPrefetchIsACommand(t *testing.T) {
	m, p := newPrefetchModel(t, nil, refCard)
	p.calls = nil
	var rows []graph.Neighbor
	for i := range 3 * PrefetchLimit {
		rows = append(rows, graph.Neighbor{Ref: graph.Ref{Kind: graph.KindCard, Key: fmt.Sprintf("%016d", i)}})
	}
	_, cmd := m.Update(neighborsLoadedMsg{ref: refCard, rows: rows, total: len(rows)})
	if len(p.calls) != 0 {
		t.Fatal("Update prefetched itself")
	}
	if cmd == nil {
		t.Fatal("no prefetch command")
	}
	if msg := cmd(); msg != nil {
		t.Errorf("the prefetch answered %#v; nothing waits for it", msg)
	}
	if len(p.calls) != 1 || len(p.calls[0]) != PrefetchLimit || p.calls[0][0] != rows[0].Ref {
		t.Fatalf("prefetched %d calls (%v…), want one of the first %d", len(p.calls), p.calls, PrefetchLimit)
	}
	other := graph.Ref{Kind: graph.KindCard, Key: "4400430000000007"}
	for _, msg := range []neighborsLoadedMsg{
		{ref: other, rows: rows, total: len(rows)},
		{ref: refCard, err: errors.New("timeout")},
	} {
		if _, cmd := m.Update(msg); cmd != nil {
			t.Errorf("%+v gave a command", msg.ref)
		}
	}
	plain, _ := newModel(t, 140, 40, Options{Start: &refCard})
	if _, cmd := plain.Update(neighborsLoadedMsg{ref: refCard, rows: rows, total: len(rows)}); cmd != nil {
		t.Error("a backend without backend.Prefetcher got a prefetch command")
	}
}

// TestGraphExpandPrefetches: expanding a node in the graph view prefetches,
// on a backend that can, the nodes of each hop after the first in one call
// before reading them; a backend without backend.Prefetcher expands alike.
func TestGraphExpandPrefetches(t *testing.T) {
	p := &prefetchFake{fakeBackend: newFake()}
	req := graphview.RequestMsg{Center: refCard, Opts: graph.HoodOptions{Hops: 2}}
	msg, ok := expandHood(context.Background(), p, req)().(hoodLoadedMsg)
	if !ok || msg.err != nil {
		t.Fatalf("expand: %+v", msg)
	}
	var hop1 []graph.Ref
	for _, n := range msg.hood.Nodes {
		if n.Hop == 1 && n.Folded == 0 && n.Ref.Kind != graph.KindCash {
			hop1 = append(hop1, n.Ref)
		}
	}
	if len(hop1) == 0 || len(p.calls) != 1 || !slices.Equal(p.calls[0], hop1) {
		t.Fatalf("prefetches %v, want one of the first hop's nodes %v", p.calls, hop1)
	}
	plain, ok := expandHood(context.Background(), p.fakeBackend, req)().(hoodLoadedMsg)
	if !ok || plain.err != nil || len(plain.hood.Nodes) != len(msg.hood.Nodes) {
		t.Errorf("without a prefetcher: %+v", plain)
	}
}
