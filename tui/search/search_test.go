package search

import (
	"context"
	"errors"
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
