package search

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/tui/theme"
)

// tieredSearcher is a LocalFirst: a local fakeSearcher over a few documents
// and a server one over more. Search may block until release is closed or
// its context ends; it records how each call's context ended.
type tieredSearcher struct {
	local, server *fakeSearcher
	name          string
	score         map[graph.Ref]int

	mu         sync.Mutex
	localCalls []string
	entered    chan string   // receives the query of each server call
	release    chan struct{} // nil: the server answers at once
	ended      []error       // ctx.Err() of each server call when it returned
}

func (s *tieredSearcher) scored(res graph.SearchResult) graph.SearchResult {
	for i := range res.Hits {
		res.Hits[i].Score = s.score[res.Hits[i].Doc.Ref]
	}
	slices.SortStableFunc(res.Hits, graph.CompareHits)
	return res
}

func (s *tieredSearcher) SearchLocal(ctx context.Context, q string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	s.mu.Lock()
	s.localCalls = append(s.localCalls, q)
	s.mu.Unlock()
	res, err := s.local.Search(ctx, q, kind, limit)
	return s.scored(res), err
}

func (s *tieredSearcher) Search(ctx context.Context, q string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	if s.entered != nil {
		s.entered <- q
	}
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
		}
	}
	s.mu.Lock()
	s.ended = append(s.ended, ctx.Err())
	s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return graph.SearchResult{Query: q}, err
	}
	res, err := s.server.Search(ctx, q, kind, limit)
	return s.scored(res), err
}

func (s *tieredSearcher) SearchServer() string { return s.name }

var (
	refA = graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	refB = graph.Ref{Kind: graph.KindPerson, Key: "900101400003"}
	refC = graph.Ref{Kind: graph.KindPerson, Key: "910202500004"}
	refD = graph.Ref{Kind: graph.KindPerson, Key: "920303600005"}
	refE = graph.Ref{Kind: graph.KindPerson, Key: "930404700006"}
)

// tiered has A, B and C locally; the cluster has all five. Every label
// contains "ер"; the scores rank D, A, B, E, C.
func tiered() *tieredSearcher {
	all := []graph.SearchDoc{
		{Ref: refA, Label: "Нурланов Ерлан"},
		{Ref: refB, Label: "Ерланова Айгерим"},
		{Ref: refC, Label: "Серикова Ерке"},
		{Ref: refD, Label: "Ерболов Ерлан"},
		{Ref: refE, Label: "Берикова Ерназ"},
	}
	return &tieredSearcher{
		local:  &fakeSearcher{docs: all[:3]},
		server: &fakeSearcher{docs: all},
		name:   "cluster",
		score:  map[graph.Ref]int{refD: 95, refA: 90, refB: 80, refE: 75, refC: 70},
	}
}

func newTieredPane(t *testing.T, s *tieredSearcher, debounce time.Duration) Model {
	t.Helper()
	m := New(context.Background(), s, errLoading, theme.New(true))
	m.SetClock(func() time.Time { return time.Unix(0, 0) })
	m.SetDebounce(debounce)
	m.SetSize(100, 12)
	m.Focus()
	return m
}

// split runs the local search of a keystroke's batch and returns its
// answer and the server's command (not run). The batch is the input's
// command and the query's batch (local, then server), or the query's batch
// alone when the input has none.
func split(t *testing.T, cmd tea.Cmd) (local ResultsMsg, server tea.Cmd) {
	t.Helper()
	batch, ok := cmd().(tea.BatchMsg)
	if !ok || len(batch) != 2 {
		t.Fatal("a keystroke over a server gave no batch of two commands")
	}
	if r, ok := batch[0]().(ResultsMsg); ok {
		local, server = r, batch[1]
	} else {
		q, ok := batch[1]().(tea.BatchMsg)
		if !ok || len(q) != 2 {
			t.Fatal("no batch of the local query and the server's")
		}
		local, ok = q[0]().(ResultsMsg)
		if !ok {
			t.Fatal("the first query command gave no ResultsMsg")
		}
		server = q[1]
	}
	if local.Server {
		t.Fatalf("the first query command gave the server's answer %#v", local)
	}
	return local, server
}

func refsOf(hits []graph.SearchHit) []graph.Ref {
	out := make([]graph.Ref, len(hits))
	for i, h := range hits {
		out[i] = h.Doc.Ref
	}
	return out
}

func TestLocalAtOnceThenServerMerged(t *testing.T) {
	s := tiered()
	m := newTieredPane(t, s, 0)
	m, _ = typeKey(t, m, 'е')
	m, cmd := typeKey(t, m, 'р')
	local, server := split(t, cmd)
	m, _ = m.Update(local)
	if got, want := refsOf(m.Result().Hits), []graph.Ref{refA, refB, refC}; !slices.Equal(got, want) {
		t.Fatalf("local hits %v, want %v", got, want)
	}
	if f := m.Footer(); !strings.Contains(f, "3 of 3 matches") || !strings.HasSuffix(f, "cluster…") {
		t.Errorf("footer while the cluster is awaited: %q", f)
	}
	if len(s.ended) != 0 {
		t.Fatal("the server was asked before its command ran")
	}
	msg, ok := server().(ResultsMsg)
	if !ok || !msg.Server || msg.Seq != m.Seq() {
		t.Fatalf("server command gave %#v", msg)
	}
	m, _ = m.Update(msg)
	if got, want := refsOf(m.Result().Hits), []graph.Ref{refD, refA, refB, refE, refC}; !slices.Equal(got, want) {
		t.Fatalf("merged hits %v, want the union ranked %v", got, want)
	}
	if f := m.Footer(); !strings.Contains(f, "5 of 5 matches") || !strings.Contains(f, "+2 from cluster") {
		t.Errorf("footer after the merge: %q", f)
	}
	if h, _ := m.Selected(); h.Doc.Ref != refD {
		t.Errorf("selected %v, want the best hit of the union", h.Doc.Ref)
	}
}

func TestMergeKeepsTheRowsTheCursorPassed(t *testing.T) {
	s := tiered()
	m := newTieredPane(t, s, 0)
	m, cmd := typeKey(t, m, 'е')
	local, server := split(t, cmd)
	m, _ = m.Update(local)
	m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyDown}) // onto B
	m, _ = m.Update(server())
	if got, want := refsOf(m.Result().Hits), []graph.Ref{refA, refB, refD, refE, refC}; !slices.Equal(got, want) {
		t.Fatalf("merged hits %v, want A and B kept above the rest ranked %v", got, want)
	}
	if h, _ := m.Selected(); h.Doc.Ref != refB {
		t.Errorf("selected %v, want B still under the cursor", h.Doc.Ref)
	}
}

func TestStaleServerAnswerNeverReplacesNewer(t *testing.T) {
	s := tiered()
	m := newTieredPane(t, s, 0)
	m, first := typeKey(t, m, 'е')
	oldLocal, oldServer := split(t, first)
	m, second := typeKey(t, m, 'р')
	local, server := split(t, second)
	// The first keystroke's server query was cancelled by the second.
	if msg := oldServer(); msg != nil {
		t.Fatalf("a cancelled server query answered %#v", msg)
	}
	// Answers of the first keystroke, made up as if they had come back,
	// in every order around the second's.
	stale := ResultsMsg{Seq: oldLocal.Seq, Limit: Limit, Server: true,
		Res: graph.SearchResult{Query: "е", Total: 1, Hits: []graph.SearchHit{{Doc: graph.SearchDoc{Ref: refE, Label: "stale"}}}}}
	m, _ = m.Update(stale)
	m, _ = m.Update(local)
	m, _ = m.Update(stale)
	m, _ = m.Update(oldLocal)
	if got, want := refsOf(m.Result().Hits), []graph.Ref{refA, refB, refC}; !slices.Equal(got, want) || m.Result().Query != "ер" {
		t.Fatalf("hits %v of %q, want the local hits of the latest query %v", got, m.Result().Query, want)
	}
	if !strings.HasSuffix(m.Footer(), "cluster…") {
		t.Errorf("a stale answer ended the wait: footer %q", m.Footer())
	}
	m, _ = m.Update(server())
	m, _ = m.Update(stale)
	m, _ = m.Update(oldLocal)
	if got, want := refsOf(m.Result().Hits), []graph.Ref{refD, refA, refB, refE, refC}; !slices.Equal(got, want) {
		t.Fatalf("hits %v, want the merged %v", got, want)
	}
	for _, h := range m.Result().Hits {
		if h.Doc.Label == "stale" {
			t.Fatal("a stale hit was merged")
		}
	}
}

func TestServerAnswerBeforeLocal(t *testing.T) {
	s := tiered()
	m := newTieredPane(t, s, 0)
	m, cmd := typeKey(t, m, 'е')
	local, server := split(t, cmd)
	m, _ = m.Update(server())
	if got := len(m.Result().Hits); got != 5 {
		t.Fatalf("%d hits from the server's answer, want 5", got)
	}
	m, _ = m.Update(local)
	if got, want := refsOf(m.Result().Hits), []graph.Ref{refD, refA, refB, refE, refC}; !slices.Equal(got, want) {
		t.Fatalf("hits %v, want %v", got, want)
	}
	if f := m.Footer(); !strings.Contains(f, "+2 from cluster") {
		t.Errorf("footer %q: the cluster added D and E to the local hits", f)
	}
}

func TestServerErrorKeepsLocalHits(t *testing.T) {
	s := tiered()
	s.server.fail = errors.New("connection refused")
	m := newTieredPane(t, s, 0)
	m, cmd := typeKey(t, m, 'е')
	local, server := split(t, cmd)
	m, _ = m.Update(local)
	msg := server().(ResultsMsg)
	if msg.Err == nil || !strings.Contains(msg.Err.Error(), "cluster search") {
		t.Fatalf("server error %v", msg.Err)
	}
	m, _ = m.Update(msg)
	if got := len(m.Result().Hits); got != 3 {
		t.Fatalf("%d hits after the cluster failed, want the 3 local ones", got)
	}
	if f := m.Footer(); !strings.HasSuffix(f, "cluster failed") {
		t.Errorf("footer %q", f)
	}
	if v := m.View(); !strings.Contains(v, "Нурланов Ерлан") {
		t.Errorf("the local hits are not drawn after the cluster failed:\n%s", v)
	}
}

func TestNextKeyCancelsTheServerQuery(t *testing.T) {
	t.Run("in flight", func(t *testing.T) {
		s := tiered()
		s.entered, s.release = make(chan string, 1), make(chan struct{})
		m := newTieredPane(t, s, 0)
		m, cmd := typeKey(t, m, 'е')
		_, server := split(t, cmd)
		done := make(chan tea.Msg)
		go func() { done <- server() }()
		if q := <-s.entered; q != "е" {
			t.Fatalf("server asked %q", q)
		}
		m, _ = typeKey(t, m, 'р')
		select {
		case msg := <-done:
			if msg != nil {
				t.Fatalf("the cancelled query answered %#v", msg)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the next key did not cancel the query in flight")
		}
		if !errors.Is(s.ended[0], context.Canceled) {
			t.Errorf("the query's context ended with %v, want cancelled", s.ended[0])
		}
	})
	t.Run("during the debounce", func(t *testing.T) {
		s := tiered()
		s.entered = make(chan string, 1)
		m := newTieredPane(t, s, time.Hour)
		m, cmd := typeKey(t, m, 'е')
		_, server := split(t, cmd)
		done := make(chan tea.Msg)
		go func() { done <- server() }()
		m, _ = typeKey(t, m, 'р')
		select {
		case msg := <-done:
			if msg != nil {
				t.Fatalf("the cancelled wait answered %#v", msg)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the next key did not end the debounce")
		}
		if len(s.entered) != 0 || len(s.ended) != 0 {
			t.Error("the server was asked for a keystroke typed over within the debounce")
		}
	})
}

func TestDebounceWaits(t *testing.T) {
	s := tiered()
	m := newTieredPane(t, s, 150*time.Millisecond)
	m, cmd := typeKey(t, m, 'е')
	_, server := split(t, cmd)
	start := time.Now()
	msg := server()
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("the server was asked after %v, before the debounce", took)
	}
	if r, ok := msg.(ResultsMsg); !ok || !r.Server || len(r.Res.Hits) != 5 {
		t.Errorf("server answer %#v", msg)
	}
}

func TestNoServerOneIndexNoDebounce(t *testing.T) {
	s := tiered()
	s.name = "" // a folder: Search is local already
	m := newTieredPane(t, s, time.Hour)
	m, cmd := typeKey(t, m, 'е')
	msg := results(t, cmd)
	if msg.Server || len(msg.Res.Hits) != 5 {
		t.Fatalf("answer %#v, want Search's own", msg)
	}
	m, _ = m.Update(msg)
	if len(s.localCalls) != 0 {
		t.Errorf("SearchLocal asked %v without a server", s.localCalls)
	}
	if f := m.Footer(); strings.Contains(f, "cluster") || strings.Contains(f, "…") {
		t.Errorf("footer %q", f)
	}
}

func TestMergeHits(t *testing.T) {
	hit := func(r graph.Ref, score int, label string) graph.SearchHit {
		return graph.SearchHit{Doc: graph.SearchDoc{Ref: r, Label: label}, Score: score}
	}
	shown := []graph.SearchHit{hit(refA, 90, "a"), hit(refB, 80, "b"), hit(refC, 70, "c")}
	more := []graph.SearchHit{hit(refD, 95, "d"), hit(refB, 80, "b new"), hit(refE, 75, "e"), hit(refA, 90, "a new")}
	for _, tc := range []struct {
		pin    int
		want   []graph.Ref
		labels string
	}{
		{0, []graph.Ref{refD, refA, refB, refE, refC}, "d a new b new e c"},
		{1, []graph.Ref{refA, refD, refB, refE, refC}, "a d b new e c"},
		{2, []graph.Ref{refA, refB, refD, refE, refC}, "a b d e c"},
		{9, []graph.Ref{refA, refB, refC, refD, refE}, "a b c d e"},
	} {
		hits, added := mergeHits(slices.Clone(shown), more, tc.pin)
		var labels []string
		for _, h := range hits {
			labels = append(labels, h.Doc.Label)
		}
		if got := refsOf(hits); !slices.Equal(got, tc.want) || strings.Join(labels, " ") != tc.labels || added != 2 {
			t.Errorf("pin %d: %v (%s), added %d; want %v (%s), added 2", tc.pin, got, strings.Join(labels, " "), added, tc.want, tc.labels)
		}
	}
}
