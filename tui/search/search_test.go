package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/tui/theme"
)

var errLoading = errors.New("index loading")

// fakeSearcher answers from a fixed list and records every call.
type fakeSearcher struct {
	docs    []graph.SearchDoc
	loading bool
	fail    error
	calls   []call
}

type call struct {
	q    string
	kind graph.Kind
}

func (f *fakeSearcher) Search(_ context.Context, q string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	f.calls = append(f.calls, call{q, kind})
	if f.loading {
		return graph.SearchResult{Query: q}, errLoading
	}
	if f.fail != nil {
		return graph.SearchResult{Query: q}, f.fail
	}
	res := graph.SearchResult{Query: q}
	for _, d := range f.docs {
		if (kind == graph.KindUnknown || d.Ref.Kind == kind) && strings.Contains(strings.ToLower(d.Label), strings.ToLower(q)) {
			res.Total++
			if len(res.Hits) < limit {
				res.Hits = append(res.Hits, graph.SearchHit{Doc: d})
			}
		}
	}
	return res, nil
}

func newPane(t *testing.T, f *fakeSearcher) Model {
	t.Helper()
	m := New(context.Background(), f, errLoading, theme.New(true))
	m.SetClock(func() time.Time { return time.Unix(0, 0) })
	m.SetSize(80, 12)
	m.Focus()
	return m
}

// typeKey types one character and returns the query command it starts.
func typeKey(t *testing.T, m Model, r rune) (Model, tea.Cmd) {
	t.Helper()
	return m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
}

// results runs the command and returns the ResultsMsg it produced (a
// tea.Batch of the input's own command and the query).
func results(t *testing.T, cmd tea.Cmd) ResultsMsg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command: the query did not run")
	}
	switch msg := cmd().(type) {
	case ResultsMsg:
		return msg
	case tea.BatchMsg:
		for _, c := range msg {
			if c == nil {
				continue
			}
			if r, ok := c().(ResultsMsg); ok {
				return r
			}
		}
	}
	t.Fatal("the command gave no ResultsMsg")
	return ResultsMsg{}
}

func docs() []graph.SearchDoc {
	return []graph.SearchDoc{
		{Ref: graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}, Label: "Нурланов Ерлан"},
		{Ref: graph.Ref{Kind: graph.KindCard, Key: "4400430000007894"}, Label: "4400 4300 0000 7894"},
		{Ref: graph.Ref{Kind: graph.KindExchange, Key: "binance-kz"}, Label: "Binance KZ"},
		{Ref: graph.Ref{Kind: graph.KindPerson, Key: "900101400003"}, Label: "Ерланова Айгерим"},
	}
}

func TestStaleResultsAreDropped(t *testing.T) {
	f := &fakeSearcher{docs: docs()}
	m := newPane(t, f)
	m, first := typeKey(t, m, 'е')
	m, second := typeKey(t, m, 'р')
	old, cur := results(t, first), results(t, second)
	if old.Seq >= cur.Seq || cur.Seq != m.Seq() {
		t.Fatalf("sequence numbers %d then %d, pane at %d", old.Seq, cur.Seq, m.Seq())
	}
	m, _ = m.Update(cur)
	m, _ = m.Update(old) // arrives late
	if got := m.Result().Query; got != "ер" {
		t.Fatalf("applied the result of %q, want the latest query %q", got, "ер")
	}
	if !strings.Contains(m.Footer(), "2 of 2 matches") {
		t.Errorf("footer %q", m.Footer())
	}
}

func TestNotReadyRunsAgainWhenReady(t *testing.T) {
	f := &fakeSearcher{docs: docs(), loading: true}
	m := newPane(t, f)
	m, cmd := typeKey(t, m, 'b')
	m, _ = m.Update(results(t, cmd))
	if !m.Loading() || !strings.Contains(m.View(), "search index loading") {
		t.Fatalf("loading %v, view:\n%s", m.Loading(), m.View())
	}
	f.loading = false
	cmd = m.SetReady()
	m, _ = m.Update(results(t, cmd))
	if m.Loading() || len(m.Result().Hits) != 1 || m.Result().Hits[0].Doc.Label != "Binance KZ" {
		t.Fatalf("after ready: loading %v, hits %+v", m.Loading(), m.Result().Hits)
	}
}

func TestKindFilterRunsTheQueryAgain(t *testing.T) {
	f := &fakeSearcher{docs: docs()}
	m := newPane(t, f)
	m, cmd := typeKey(t, m, '4')
	m, _ = m.Update(results(t, cmd))
	for m.Kind() != graph.KindCard {
		m, cmd = m.Update(tea.KeyPressMsg{Code: tea.KeyTab})
		m, _ = m.Update(results(t, cmd))
		if len(f.calls) > len(Filters)+2 {
			t.Fatal("tab never reached the card filter")
		}
	}
	if last := f.calls[len(f.calls)-1]; last.kind != graph.KindCard || last.q != "4" {
		t.Errorf("last search %+v, want 4 among cards", last)
	}
	if len(m.Result().Hits) != 1 || m.Result().Hits[0].Doc.Ref.Kind != graph.KindCard {
		t.Errorf("hits %+v", m.Result().Hits)
	}
}

func TestEnterOpensTheSelectedHit(t *testing.T) {
	f := &fakeSearcher{docs: docs()}
	m := newPane(t, f)
	m, cmd := typeKey(t, m, 'е')
	m, _ = m.Update(results(t, cmd))
	m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyDown}) // stays on the last of two
	m, cmd = m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if cmd == nil {
		t.Fatal("enter did nothing")
	}
	open, ok := cmd().(OpenMsg)
	if want := m.Result().Hits[1].Doc.Ref; !ok || open.Ref != want {
		t.Fatalf("enter gave %#v, want OpenMsg for %v", open, want)
	}
	if _, cmd = m.Update(tea.KeyPressMsg{Code: tea.KeyEscape}); cmd == nil {
		t.Fatal("esc did nothing")
	} else if _, ok := cmd().(ClosedMsg); !ok {
		t.Error("esc did not close the pane")
	}
}

func TestClearingTheQueryClearsResults(t *testing.T) {
	f := &fakeSearcher{docs: docs()}
	m := newPane(t, f)
	m, cmd := typeKey(t, m, 'b')
	m, _ = m.Update(results(t, cmd))
	calls := len(f.calls)
	m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
	if len(m.Result().Hits) != 0 || m.Footer() != "" {
		t.Errorf("after clearing: %d hits, footer %q", len(m.Result().Hits), m.Footer())
	}
	if len(f.calls) != calls {
		t.Error("an empty query was searched")
	}
}

func TestSearchErrorIsShown(t *testing.T) {
	f := &fakeSearcher{docs: docs(), fail: errors.New("disk gone")}
	m := newPane(t, f)
	m, cmd := typeKey(t, m, 'x')
	m, _ = m.Update(results(t, cmd))
	if m.Footer() != "search failed" || !strings.Contains(m.View(), "disk gone") {
		t.Errorf("footer %q, view:\n%s", m.Footer(), m.View())
	}
}

func TestViewFitsItsSize(t *testing.T) {
	f := &fakeSearcher{docs: docs()}
	m := newPane(t, f)
	m, cmd := typeKey(t, m, 'е')
	m, _ = m.Update(results(t, cmd))
	lines := m.Lines()
	if len(lines) != 12 {
		t.Fatalf("%d lines, want 12", len(lines))
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > 80 {
			t.Errorf("line %d is %d cells wide: %q", i, w, l)
		}
	}
	if !strings.Contains(m.View(), "Ерланова Айгерим") {
		t.Errorf("a hit is missing:\n%s", m.View())
	}
}

// typeText types each rune of s, applying the results.
func typeText(t *testing.T, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		var cmd tea.Cmd
		m, cmd = typeKey(t, m, r)
		m, _ = m.Update(results(t, cmd))
	}
	return m
}

// TestFilterIsNeverSilent: the kind filter shows in the prompt, and a
// query without matches under it says so and how to clear it.
func TestFilterIsNeverSilent(t *testing.T) {
	f := &fakeSearcher{docs: docs()}
	m := newPane(t, f)
	m, cmd := m.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	if cmd != nil {
		t.Fatal("a filter change on an empty query ran a search")
	}
	if l := m.Lines()[0]; !strings.Contains(l, "/ [person]") {
		t.Errorf("prompt %q does not show the filter", l)
	}
	m = typeText(t, m, "4003")
	view := m.View()
	if !strings.Contains(view, `no matches for "4003" among persons — shift+tab clears the filter`) {
		t.Errorf("no-match line does not name the filter:\n%s", view)
	}
	m, cmd = m.Update(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
	m, _ = m.Update(results(t, cmd))
	if m.Kind() != graph.KindUnknown || strings.Contains(ansi.Strip(m.Lines()[0]), "[") {
		t.Errorf("shift+tab left the filter: %v %q", m.Kind(), m.Lines()[0])
	}
	if plural("address") != "addresses" || plural("card") != "cards" {
		t.Error("plural")
	}
}

// TestReopenedSearchKeepsTheQueryUntilTyping: opened again, the pane shows
// the last query and its results; the first typed character replaces the
// query instead of being appended to it; an edit key keeps it.
func TestReopenedSearchKeepsTheQueryUntilTyping(t *testing.T) {
	f := &fakeSearcher{docs: docs()}
	m := newPane(t, f)
	m = typeText(t, m, "4400")
	m.Blur()
	m.Focus()
	if l := m.Lines()[0]; !strings.Contains(l, "4400") || !strings.Contains(l, "typing replaces it") {
		t.Errorf("reopened prompt %q", l)
	}
	if len(m.Result().Hits) != 1 {
		t.Errorf("the kept query lost its results")
	}
	m = typeText(t, m, "ерл")
	if q := m.Query(); q != "ерл" {
		t.Errorf("query %q, want the typed text alone", q)
	}
	if strings.Contains(m.Lines()[0], "typing replaces it") {
		t.Error("the hint stays after typing")
	}
	// Backspace edits a kept query.
	m.Blur()
	m.Focus()
	m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
	if q := m.Query(); q != "ер" {
		t.Errorf("backspace on the kept query: %q", q)
	}
	// A fresh pane keeps nothing.
	m = newPane(t, f)
	if strings.Contains(m.Lines()[0], "typing replaces it") {
		t.Error("hint on an empty query")
	}
}

// TestQuestionMarkIsText: "?" typed into the query is part of it, also
// as the first character of a kept query's replacement.
func TestQuestionMarkIsText(t *testing.T) {
	f := &fakeSearcher{docs: docs()}
	m := newPane(t, f)
	m = typeText(t, m, "a?b")
	if q := m.Query(); q != "a?b" {
		t.Errorf("query %q", q)
	}
	m.Blur()
	m.Focus()
	m = typeText(t, m, "?")
	if q := m.Query(); q != "?" {
		t.Errorf("query %q after typing ? over a kept query", q)
	}
}

// TestFramesShowTheCurrentHits: the hit lines kept between frames are
// those of the results, size and selection on screen: new results with
// other labels at the same positions, a move of the selection and a new
// width all show at once.
func TestFramesShowTheCurrentHits(t *testing.T) {
	f := &fakeSearcher{docs: docs()}
	m := newPane(t, f)
	m, cmd := typeKey(t, m, 'е')
	m, _ = m.Update(results(t, cmd))
	first := m.View()
	if !strings.Contains(first, "Нурланов Ерлан") {
		t.Fatalf("first results:\n%s", first)
	}
	if m.View() != first {
		t.Fatal("the same frame drawn twice differs")
	}
	m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	if moved := m.View(); moved == first {
		t.Error("the selection moved but the frame did not change")
	}
	f.docs = []graph.SearchDoc{{Ref: graph.Ref{Kind: graph.KindPerson, Key: "111"}, Label: "Ерболов Сакен"}}
	m, cmd = typeKey(t, m, 'р')
	m, _ = m.Update(results(t, cmd))
	if v := m.View(); !strings.Contains(v, "Ерболов Сакен") || strings.Contains(v, "Нурланов Ерлан") {
		t.Errorf("new results at the same positions:\n%s", v)
	}
	m.SetSize(60, 12)
	for i, l := range m.Lines() {
		if w := lipgloss.Width(l); w > 60 {
			t.Errorf("after narrowing, line %d is %d cells wide", i, w)
		}
	}
}

// BenchmarkSearchFrame is one frame of the search screen with a page of
// hits: what a team server draws for every message of every session.
func BenchmarkSearchFrame(b *testing.B) {
	var ds []graph.SearchDoc
	for i := range 100 {
		ds = append(ds, graph.SearchDoc{Ref: graph.Ref{Kind: graph.KindPerson, Key: strings.Repeat("8", 11) + string(rune('0'+i%10))},
			Label: "Ерланов Нурлан Сакенович", Facts: "IIN 850312 300002 · born 1985-03-12"})
	}
	m := New(context.Background(), &fakeSearcher{docs: ds}, errLoading, theme.New(true))
	m.SetSize(118, 36)
	m.Focus()
	m, cmd := m.Update(tea.KeyPressMsg{Code: 'е', Text: "е"})
	m, _ = m.Update(results(&testing.T{}, cmd))
	if !strings.Contains(m.View(), "Ерланов") {
		b.Fatal("no hits on the screen")
	}
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkSearchFrameNewHits is the first frame of a new result set: every
// visible hit styled (what each keystroke costs a team server).
func BenchmarkSearchFrameNewHits(b *testing.B) {
	var ds []graph.SearchDoc
	for i := range 100 {
		ds = append(ds, graph.SearchDoc{Ref: graph.Ref{Kind: graph.KindPerson, Key: strings.Repeat("8", 11) + string(rune('0'+i%10))},
			Label: "Ерланов Нурлан Сакенович", Facts: "IIN 850312 300002 · born 1985-03-12"})
	}
	m := New(context.Background(), &fakeSearcher{docs: ds}, errLoading, theme.New(true))
	m.SetSize(118, 36)
	m.Focus()
	m, cmd := m.Update(tea.KeyPressMsg{Code: 'е', Text: "е"})
	m, _ = m.Update(results(&testing.T{}, cmd))
	b.ResetTimer()
	for b.Loop() {
		m.hits = newHitCache()
		_ = m.View()
	}
}

// apply delivers msg and then every ResultsMsg its commands produce.
func apply(t *testing.T, m Model, msg tea.Msg) Model {
	t.Helper()
	var cmd tea.Cmd
	m, cmd = m.Update(msg)
	for steps := 0; cmd != nil; steps++ {
		if steps > 100 {
			t.Fatal("the loads never settle")
		}
		var next tea.Cmd
		for _, msg := range flatten(cmd) {
			if r, ok := msg.(ResultsMsg); ok {
				var c tea.Cmd
				m, c = m.Update(r)
				next = tea.Batch(next, c)
			}
		}
		cmd = next
	}
	return m
}

func flatten(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, flatten(c)...)
		}
		return out
	case nil:
		return nil
	default:
		return []tea.Msg{msg}
	}
}

// manyDocs are n persons whose labels all hold "ер".
func manyDocs(n int) []graph.SearchDoc {
	out := make([]graph.SearchDoc, n)
	for i := range out {
		out[i] = graph.SearchDoc{Ref: graph.Ref{Kind: graph.KindPerson, Key: fmt.Sprintf("%012d", i)},
			Label: fmt.Sprintf("Ерланов %04d", i)}
	}
	return out
}

// TestScrollingLoadsMoreHits: a query with more matches than one load
// gives loads more as the cursor nears the last hit, in the background,
// the cursor staying on its row; down and pgdn reach row 150 of 1,234.
func TestScrollingLoadsMoreHits(t *testing.T) {
	f := &fakeSearcher{docs: manyDocs(1234)}
	m := newPane(t, f)
	m = apply(t, m, tea.KeyPressMsg{Code: 'е', Text: "е"})
	m = apply(t, m, tea.KeyPressMsg{Code: 'р', Text: "р"})
	if n := len(m.Result().Hits); n != Limit {
		t.Fatalf("%d hits after the query, want %d", n, Limit)
	}
	if f := m.Footer(); !strings.Contains(f, "100 of 1,234 matches") || !strings.Contains(f, "more load as you scroll") {
		t.Errorf("footer %q", f)
	}
	for range 8 {
		m = apply(t, m, tea.KeyPressMsg{Code: tea.KeyPgDown})
	}
	before, _ := m.Selected()
	for range 150 {
		m = apply(t, m, tea.KeyPressMsg{Code: tea.KeyDown})
		if m.list.Cursor() >= 150 {
			break
		}
	}
	if c := m.list.Cursor(); c != 150 {
		t.Fatalf("cursor at row %d, want 150 (%d hits loaded)", c, len(m.Result().Hits))
	}
	h, _ := m.Selected()
	if h.Doc.Label != "Ерланов 0150" {
		t.Errorf("row 150 is %q", h.Doc.Label)
	}
	if before.Doc.Label != "Ерланов 0072" {
		t.Errorf("row 72 was %q", before.Doc.Label)
	}
	if n := len(m.Result().Hits); n <= 150 || n > MaxLimit {
		t.Errorf("%d hits loaded", n)
	}
	if !strings.Contains(m.View(), "Ерланов 0150") {
		t.Errorf("row 150 is not on screen:\n%s", m.View())
	}
	for _, c := range f.calls[2:] {
		if c.q != "ер" {
			t.Errorf("a load of more asked for %q", c.q)
		}
	}
}

// TestLoadMoreStaysPut: the hit under the cursor when the load of more
// is asked for is still under it when the hits arrive, and a load of more
// for an older query is dropped.
func TestLoadMoreStaysPut(t *testing.T) {
	f := &fakeSearcher{docs: manyDocs(400)}
	m := newPane(t, f)
	m = apply(t, m, tea.KeyPressMsg{Code: 'е', Text: "е"})
	var cmd tea.Cmd
	for cmd == nil {
		if m.list.Cursor() >= Limit-1 {
			t.Fatal("no load of more near the end")
		}
		m, cmd = m.Update(tea.KeyPressMsg{Code: tea.KeyPgDown})
	}
	// The cursor moves on while the hits are on their way.
	m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	msgs := flatten(cmd)
	sel, _ := m.Selected()
	if !strings.Contains(m.Footer(), "loading more") {
		t.Errorf("footer while loading %q", m.Footer())
	}
	for _, msg := range msgs {
		m, _ = m.Update(msg)
	}
	if got, _ := m.Selected(); got.Doc.Ref != sel.Doc.Ref {
		t.Errorf("the cursor moved from %q to %q", sel.Doc.Label, got.Doc.Label)
	}
	if n := len(m.Result().Hits); n != 200 {
		t.Errorf("%d hits after one load of more, want 200", n)
	}

	// A load of more that arrives after a new query is dropped.
	m = newPane(t, f)
	m = apply(t, m, tea.KeyPressMsg{Code: 'е', Text: "е"})
	var more tea.Cmd
	for more == nil {
		m, more = m.Update(tea.KeyPressMsg{Code: tea.KeyPgDown})
	}
	m = apply(t, m, tea.KeyPressMsg{Code: '1', Text: "1"}) // "е1": 100 matches of 400
	for _, msg := range flatten(more) {
		m, _ = m.Update(msg)
	}
	if r := m.Result(); r.Query != "е1" || len(r.Hits) != r.Total {
		t.Errorf("after a late load of more: %q, %d of %d", r.Query, len(r.Hits), r.Total)
	}
}

// stingySearcher has more matches than it ever returns (a Dgraph cluster
// ranks at most so many candidates).
type stingySearcher struct{ calls int }

func (s *stingySearcher) Search(_ context.Context, q string, _ graph.Kind, limit int) (graph.SearchResult, error) {
	s.calls++
	res := graph.SearchResult{Query: q, Total: 10000}
	for i := range min(limit, 150) {
		res.Hits = append(res.Hits, graph.SearchHit{Doc: graph.SearchDoc{Ref: graph.Ref{Kind: graph.KindPerson, Key: fmt.Sprint(i)}, Label: fmt.Sprint("hit ", i)}})
	}
	return res, nil
}

// TestLoadMoreStops: a backend that gives no more than it gave is not
// asked again, and the footer says the rest needs a narrower query; so
// does a query at MaxLimit.
func TestLoadMoreStops(t *testing.T) {
	s := &stingySearcher{}
	m := New(context.Background(), s, errLoading, theme.New(true))
	m.SetSize(80, 12)
	m.Focus()
	m = apply(t, m, tea.KeyPressMsg{Code: 'h', Text: "h"})
	for range 40 {
		m = apply(t, m, tea.KeyPressMsg{Code: tea.KeyPgDown})
	}
	if n := len(m.Result().Hits); n != 150 {
		t.Fatalf("%d hits, want the 150 the backend gives", n)
	}
	if s.calls != 3 { // 100, 200 (150), 400 (nothing new)
		t.Errorf("%d searches, want 3", s.calls)
	}
	if f := m.Footer(); !strings.Contains(f, "150 of 10,000 matches") || !strings.Contains(f, "narrow the query for the rest") {
		t.Errorf("footer %q", f)
	}
	if nextLimit(Limit) != 200 || nextLimit(4000) != MaxLimit || nextLimit(MaxLimit) != MaxLimit {
		t.Error("nextLimit")
	}
}

// indexSearcher is a real search index as a Searcher.
type indexSearcher struct{ ix *graph.SearchIndex }

func (s indexSearcher) Search(ctx context.Context, q string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	return s.ix.Search(ctx, q, kind, limit), nil
}

// TestLoadMoreOnARealIndex: the index re-ranks a candidate pool that grows
// with the limit, so a larger limit's first hits are not always a smaller
// one's; the rows listed keep their places all the same, the cursor its
// row, and no hit is listed twice.
func TestLoadMoreOnARealIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	syll := []string{"ер", "ан", "бол", "жан", "нур", "сай", "ас", "ка", "ль", "ым", "ай", "гер", "им", "ту", "ген"}
	word := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		return b.String()
	}
	var ds []graph.SearchDoc
	for i := range 20000 {
		name := strings.ToUpper(word()[:2]) + word() + " " + word()
		ds = append(ds, graph.DocFor(graph.Entity{Ref: graph.Ref{Kind: graph.KindPerson, Key: fmt.Sprintf("%012d", i)}, Name: name}))
	}
	ix := graph.NewSearchIndex(ds)
	src := indexSearcher{ix}
	reordered := 0
	for _, q := range []string{"ерж", "анбо", "нурс", "гим"} {
		small := ix.Search(context.Background(), q, graph.KindUnknown, Limit)
		if small.Total <= 2*Limit {
			t.Fatalf("%q: %d matches, want more than %d", q, small.Total, 2*Limit)
		}
		large := ix.Search(context.Background(), q, graph.KindUnknown, 2*Limit)
		for i, h := range small.Hits {
			if large.Hits[i].Doc.Ref != h.Doc.Ref {
				reordered++
				break
			}
		}

		m := New(context.Background(), src, errLoading, theme.New(true))
		m.SetSize(80, 12)
		m.Focus()
		for _, r := range q {
			m = apply(t, m, tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		first := slices.Clone(m.Result().Hits)
		var at graph.SearchHit
		for m.list.Cursor() < 150 {
			m = apply(t, m, tea.KeyPressMsg{Code: tea.KeyDown})
			if m.list.Cursor() == 95 {
				at, _ = m.Selected()
			}
		}
		hits := m.Result().Hits
		if len(hits) <= 150 {
			t.Fatalf("%q: %d hits loaded", q, len(hits))
		}
		for i, h := range first {
			if hits[i].Doc.Ref != h.Doc.Ref {
				t.Fatalf("%q: row %d was %q, is %q", q, i, h.Doc.Label, hits[i].Doc.Label)
			}
		}
		if hits[95].Doc.Ref != at.Doc.Ref {
			t.Errorf("%q: row 95 was %q", q, at.Doc.Label)
		}
		seen := map[graph.Ref]bool{}
		for _, h := range hits {
			if seen[h.Doc.Ref] {
				t.Fatalf("%q: %q listed twice", q, h.Doc.Label)
			}
			seen[h.Doc.Ref] = true
		}
	}
	t.Logf("%d of 4 queries rank their first %d differently with a limit of %d", reordered, Limit, 2*Limit)
}
