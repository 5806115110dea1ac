package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"casegraph/graph"
)

func TestFlagsScreenRanksAndFiltersByRule(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	press(t, m, "F")
	if f.ana.calls != 1 || !m.ana.ready {
		t.Fatalf("F should run the analysis once: calls %d ready %v", f.ana.calls, m.ana.ready)
	}
	requireContains(t, m, "Flags · all rules · 3 subjects at risk ≥ 0.50", "3 top-ups of 495–499k ₸ without IIN in 3 days",
		"Ахметов Жанболат", "ТенгеОбмен24", "⚑ R3 structuring 0.80", "analysis ready")
	if s := screenText(m); strings.Contains(s, "4400 43•• •••• 0016") {
		t.Errorf("an entity below the threshold is listed:\n%s", s)
	}
	// r cycles to R1 (nobody), then R2 … R3 lists the card and its holder only.
	press(t, m, "r")
	requireContains(t, m, "⚑ R1 fan-in→cash-out", "no flagged entity with a hit of R1")
	press(t, m, "r", "r")
	requireContains(t, m, "Flags · ⚑ R3 structuring", "1–2 of 2")
	if len(m.ana.flags.list.Rows) != 2 || m.ana.flags.list.Rows[1].Ref != refAkhmetov {
		t.Fatalf("R3 rows: %+v", m.ana.flags.list.Rows)
	}
	press(t, m, "R", "R", "R")
	if flagRules[m.ana.flags.rule] != "" {
		t.Fatalf("R three times should be back at all rules, at %q", flagRules[m.ana.flags.rule])
	}
	press(t, m, "R")
	if last := graph.RuleIDs[len(graph.RuleIDs)-1]; flagRules[m.ana.flags.rule] != last {
		t.Fatalf("R from all rules should wrap to %s, at %q", last, flagRules[m.ana.flags.rule])
	}
	// A second open does not analyse again.
	press(t, m, "esc", "F")
	if f.ana.calls != 1 {
		t.Fatalf("analysis ran %d times", f.ana.calls)
	}
}

func TestFlagsEnterOpensEntityWithEvidence(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	press(t, m, "F", "enter")
	if onStack[*anaScreen](m) || m.screenName() != "entity" || m.ent.ref != refCard {
		t.Fatalf("enter: view %v screen %v ref %v", m.screenName(), m.screenName(), m.ent.ref)
	}
	requireContains(t, m, "flags", "⚑ R3 structuring · ⚑ R11 unlic.", "risk")
	// The three structuring top-ups and two trades are evidence: the
	// transaction table marks exactly those rows.
	marked := map[string]bool{}
	for _, id := range m.ana.ent.row.Hits[0].Evidence {
		marked[id] = true
	}
	for _, id := range m.ana.ent.row.Hits[1].Evidence {
		marked[id] = true
	}
	press(t, m, "tab")
	m.ent.sort = graph.SortTimeAsc
	run(t, m, m.reloadTxns()())
	lines := strings.Split(screenText(m), "\n")
	got := 0
	for _, ln := range lines {
		if strings.Contains(ln, "2025-03-") && strings.Contains(ln, "⚑") {
			got++
		}
	}
	if got != len(marked) {
		t.Fatalf("%d rows marked ⚑, want %d:\n%s", got, len(marked), screenText(m))
	}
	// An entity without flags shows none.
	for _, msg := range expand(m.open(refAigerim, false)) {
		run(t, m, msg)
	}
	if s := screenText(m); strings.Contains(s, "⚑") {
		t.Fatalf("unflagged entity shows flags:\n%s", s)
	}
}

func TestEntityFlagsWaitForAnalysis(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refCard})
	if strings.Contains(screenText(m), "⚑") {
		t.Fatal("flags shown before any analysis ran")
	}
	// Running the analysis from another screen fills in the entity's flags.
	press(t, m, "C", "esc")
	requireContains(t, m, "⚑ R3 structuring")
}

func TestAnalysisProgressAndCancel(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	f.ana.block = true
	// Start the analysis by hand: its command blocks until cancelled, so
	// run it in the background the way Bubble Tea does.
	_, cmd := m.Update(keyPress("F"))
	if !m.ana.busy || m.screenName() != "flags" {
		t.Fatalf("F: busy %v view %v", m.ana.busy, m.screenName())
	}
	msgs := make(chan tea.Msg, 4)
	b, ok := cmd().(tea.BatchMsg)
	if !ok || len(b) != 2 {
		t.Fatalf("analysis command: want a batch of run and progress, got %T", cmd())
	}
	go func() { msgs <- b[0]() }()
	// Deliver one progress report; the command it returns waits for the
	// next one, which never comes, so it is not run.
	if _, next := m.Update(b[1]()); next == nil {
		t.Fatal("a progress report should wait for the next")
	}
	requireContains(t, m, "loading graph", "1 of 3", "esc cancels", "█")
	if s := screenText(m); !strings.Contains(s, "esc cancel") {
		t.Fatalf("help bar lacks esc cancel:\n%s", s)
	}
	press(t, m, "esc")
	var done tea.Msg
	select {
	case done = <-msgs:
	case <-time.After(5 * time.Second):
		t.Fatal("esc did not cancel the analysis")
	}
	run(t, m, done)
	if m.ana.busy || m.ana.ready || onStack[*anaScreen](m) {
		t.Fatalf("after cancel: busy %v ready %v view %v", m.ana.busy, m.ana.ready, m.screenName())
	}
	requireContains(t, m, "analysis cancelled")
	// It can run again and then finishes.
	f.ana.block = false
	press(t, m, "F")
	if !m.ana.ready || f.ana.calls != 2 {
		t.Fatalf("second run: ready %v calls %d", m.ana.ready, f.ana.calls)
	}
}

func TestLateResultsAreDropped(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	press(t, m, "F")
	// A result of an older query (another rule) arrives after the filter
	// changed: it must not replace the rows.
	stale := flagsLoadedMsg{seq: m.ana.seq - 1, rule: "R11", list: FlagList{Rows: []FlagRow{{Ref: refATM}}}}
	run(t, m, stale)
	if len(m.ana.flags.list.Rows) != 3 {
		t.Fatalf("stale flags replaced the rows: %+v", m.ana.flags.list.Rows)
	}
	run(t, m, entityFlagsLoadedMsg{ref: refATM, ok: true, row: FlagRow{Ref: refATM, Score: 1}})
	if m.ana.ent.ref == refATM {
		t.Fatal("flags of an entity not on screen were taken")
	}
}

func TestClustersScreen(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	press(t, m, "C")
	requireContains(t, m, "Clusters · suspected groups by turnover", "Members of group 1")
	v := m.ana.clusters
	if len(v.rows) != 2 || v.rows[0].Turnover < v.rows[1].Turnover {
		t.Fatalf("clusters by turnover: %+v", v.rows)
	}
	press(t, m, "o")
	requireContains(t, m, "by risk", "1–1 of 1")
	// tab to the members, second member, enter opens it.
	press(t, m, "tab", "down", "enter")
	if m.screenName() != "entity" || m.ent.ref != refOmirbekov {
		t.Fatalf("member enter: screen %v ref %v", m.screenName(), m.ent.ref)
	}
	// enter on a group opens it as a graph around its riskiest person.
	press(t, m, "C", "enter")
	if m.screenName() != "graph" || m.gv.Center() != refAkhmetov {
		t.Fatalf("group enter: screen %v centre %v", m.screenName(), m.gv.Center())
	}
}

func TestPathFinderMarksAndWalks(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refAkhmetov})
	press(t, m, "m")
	requireContains(t, m, "path from Ахметов Жанболат Серікұлы: press m on another entity")
	if onStack[*anaScreen](m) {
		t.Fatal("the first mark opened a screen")
	}
	press(t, m, "m")
	requireContains(t, m, "already marked")
	for _, msg := range expand(m.open(refOmirbekov, false)) {
		run(t, m, msg)
	}
	press(t, m, "m")
	if m.screenName() != "path" || len(m.ana.paths.rows) == 0 {
		t.Fatalf("second mark: view %v rows %d", m.screenName(), len(m.ana.paths.rows))
	}
	first := m.ana.paths.rows[0]
	if first.Hops() != 2 || first.Steps[1].Ref != refPhone && first.Steps[1].Ref != refGroup {
		t.Fatalf("shortest path: %+v", first.Steps)
	}
	for i := 1; i < len(m.ana.paths.rows); i++ {
		if m.ana.paths.rows[i].Hops() < m.ana.paths.rows[i-1].Hops() {
			t.Fatal("paths not shortest first")
		}
	}
	requireContains(t, m, "Paths · A", "2 hops", "Hops of path 1")
	// Fewer hops: one hop is not enough.
	press(t, m, "-")
	if m.ana.paths.maxHops != pathsMaxHops-1 {
		t.Fatalf("max hops %d", m.ana.paths.maxHops)
	}
	press(t, m, "-", "-")
	requireContains(t, m, "no path within 1 hops")
	press(t, m, "+", "s")
	if m.ana.paths.a != refOmirbekov || m.ana.paths.b != refAkhmetov {
		t.Fatal("s did not swap the ends")
	}
	// Walk a hop: enter focuses the hops, down, enter opens the middle one.
	press(t, m, "enter", "down", "enter")
	if m.screenName() != "entity" || (m.ent.ref != refPhone && m.ent.ref != refGroup) {
		t.Fatalf("walk hop: screen %v ref %v", m.screenName(), m.ent.ref)
	}
	// A new m starts a new path.
	press(t, m, "m")
	if m.ana.paths.a != m.ent.ref || !m.ana.paths.b.IsZero() {
		t.Fatalf("new mark: a %v b %v", m.ana.paths.a, m.ana.paths.b)
	}
}

func TestTraceFromEntityAndTransaction(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "t")
	if m.screenName() != "trace" || !m.ana.trace.loaded {
		t.Fatalf("t: view %v loaded %v", m.screenName(), m.ana.trace.loaded)
	}
	q := f.ana.queries[len(f.ana.queries)-1]
	if q.Ref != refCard || q.TxID != "" || q.Backward {
		t.Fatalf("entity trace query %+v", q)
	}
	v := &m.ana.trace
	if len(v.visible) != 1+len(v.tree.Nodes[0].Children) {
		t.Fatalf("root should start expanded: %d visible", len(v.visible))
	}
	requireContains(t, m, "Trace forward", "Where the money went", "traced")
	// Expand hop by hop, then all, then collapse all.
	n := len(v.visible)
	press(t, m, "down", "space")
	if len(v.visible) <= n && len(v.tree.Nodes[v.visible[1]].Children) > 0 {
		t.Fatal("space did not expand the hop")
	}
	press(t, m, "e")
	if len(v.visible) != len(v.tree.Nodes) {
		t.Fatalf("e: %d of %d visible", len(v.visible), len(v.tree.Nodes))
	}
	press(t, m, "e")
	if len(v.visible) != 1+len(v.tree.Nodes[0].Children) {
		t.Fatalf("second e should collapse: %d visible", len(v.visible))
	}
	press(t, m, "d")
	requireContains(t, m, "Trace backward", "Where the money came from")
	press(t, m, "p")
	requireContains(t, m, "proportional")
	if q := f.ana.queries[len(f.ana.queries)-1]; !q.Backward || !q.Proportional {
		t.Fatalf("toggles not passed on: %+v", q)
	}
	press(t, m, "esc", "d", "p") // keys on the entity screen again: d, p do nothing there
	// t on a selected transaction traces that transaction's money.
	press(t, m, "tab", "t")
	q = f.ana.queries[len(f.ana.queries)-1]
	if q.TxID == "" || q.TxID != m.ana.trace.tree.Nodes[0].TxID {
		t.Fatalf("transaction trace query %+v", q)
	}
	requireContains(t, m, "transaction "+q.TxID)
}

func TestAnalyticsHelpListsEveryKey(t *testing.T) {
	m, _ := newModel(t, 160, 50, Options{Start: &refCard})
	press(t, m, "?")
	requireContains(t, m, "F", "flags", "C", "clusters", "mark path end", "trace money")
	press(t, m, "esc")
	for _, v := range []string{"F", "C"} {
		press(t, m, v, "?")
		for _, b := range m.top().(*helpScreen).of.FullHelp() {
			for _, k := range b {
				if !strings.Contains(screenText(m), k.Help().Desc) {
					t.Errorf("%s help lacks %q", v, k.Help().Desc)
				}
			}
		}
		press(t, m, "esc", "esc")
	}
}

func TestAnalyticsLinesFit(t *testing.T) {
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {133, 41}} {
		m, _ := newModel(t, sz[0], sz[1], Options{Start: &refCard})
		for _, keys := range [][]string{{"F"}, {"C"}, {"C", "tab"}, {"t", "e"}, {"m"}} {
			press(t, m, keys...)
			if keys[0] == "m" {
				for _, msg := range expand(m.open(refAkhmetov, false)) {
					run(t, m, msg)
				}
				press(t, m, "m")
			}
			lines := strings.Split(screenText(m), "\n")
			if len(lines) != sz[1] {
				t.Fatalf("%v at %v: %d lines", keys, sz, len(lines))
			}
			for i, ln := range lines {
				if w := ansi.StringWidth(ln); w != sz[0] {
					t.Fatalf("%v at %v: line %d is %d wide: %q", keys, sz, i, w, ln)
				}
			}
			press(t, m, "esc")
		}
	}
}

func TestAnalyticsGolden(t *testing.T) {
	sizes := [][2]int{{80, 24}, {120, 40}}
	screens := []struct {
		name string
		keys []string
	}{
		{name: "flags", keys: []string{"F"}},
		// Backwards from all rules to R11.
		{name: "flags_rule", keys: append([]string{"F"}, slices.Repeat([]string{"R"}, len(graph.RuleIDs)-10)...)},
		{name: "clusters", keys: []string{"C"}},
		{name: "trace", keys: []string{"t", "e"}},
		{name: "paths", keys: []string{"m", "open", "m"}},
		{name: "entity_flagged", keys: []string{"F", "enter"}},
	}
	for _, sc := range screens {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				m, _ := newModel(t, sz[0], sz[1], Options{Start: &refCard})
				for _, k := range sc.keys {
					if k == "open" {
						for _, msg := range expand(m.open(refOmirbekov, false)) {
							run(t, m, msg)
						}
						continue
					}
					press(t, m, k)
				}
				golden.RequireEqual(t, []byte(screenText(m)))
			})
		}
	}
}

// TestAnalyticsJourney drives the real program: flags → entity with
// evidence → trace → path.
func TestAnalyticsJourney(t *testing.T) {
	f := newFake()
	m := New(f, Options{})
	tm, wait := startJourney(t, m)
	wait("press / to search")
	tm.Type("F")
	wait("subjects at risk")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown}) // Ахметов, flagged through his card
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("persons.csv:2")
	tm.Type("m")
	wait("press m on another entity")
	tm.Type("F")
	wait("subjects at risk")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter}) // the card
	wait("cards.csv:2")
	tm.Type("t")
	// The summary pane's title shows while the trace still runs, and esc
	// then cancels the job instead of closing the screen: wait for the
	// finished summary.
	wait("traced")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	wait("cards.csv:2")
	tm.Type("m")
	// The Hops pane's title was drawn while the paths were being found, and
	// the renderer sends only the cells that change: wait for the new part.
	wait("of path 1")
	fm := endJourney(t, tm)
	p := fm.ana.paths
	if fm.screenName() != "path" || p.a != refAkhmetov || p.b != refCard || len(p.rows) == 0 || p.rows[0].Hops() != 1 {
		t.Fatalf("final path state: view %v a %v b %v rows %+v", fm.screenName(), p.a, p.b, p.rows)
	}
	if len(f.ana.queries) != 1 || f.ana.queries[0].Ref != refCard {
		t.Fatalf("trace queries: %+v", f.ana.queries)
	}
	if _, _, err := f.EntityFlags(context.Background(), refCard); err != nil {
		t.Fatal(err)
	}
}

// newKeptModel is newModel on a fake whose database keeps an analysis from
// an earlier session (stale when the data changed since), before any F.
func newKeptModel(t *testing.T, w, h int, stale bool, opts Options) *Model {
	t.Helper()
	f := newFake()
	f.ana.kept = &KeptInfo{At: time.Date(2025, 3, 20, 4, 0, 0, 0, time.UTC), Stale: stale, Threshold: fakeThreshold}
	m := New(f, opts)
	m.search.SetClock(func() time.Time { return time.Date(2025, 3, 20, 9, 0, 0, 0, time.UTC) })
	run(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	for _, msg := range expand(m.Init()) {
		run(t, m, msg)
	}
	return m
}

// Before F, an entity page, a search hit and a graph node carry the risk
// the database kept, and say when the data changed since.
func TestKeptRiskBeforeAnalyze(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m := newKeptModel(t, sz[0], sz[1], false, Options{Start: &refCard})
			requireContains(t, m, "0.92 ⚑ flagged", "as of", "F lists all", "hit ")
			if strings.Contains(screenText(m), "press F to refresh") {
				t.Errorf("a current kept analysis reads stale:\n%s", screenText(m))
			}

			m = newKeptModel(t, sz[0], sz[1], true, Options{Start: &refCard})
			requireContains(t, m, "0.92 ⚑ flagged", "stale", "press F to refresh")

			press(t, m, "ctrl+f")
			typeText(t, m, "Ахметов")
			requireContains(t, m, "⚑~0.82")

			m = newKeptModel(t, sz[0], sz[1], false, Options{Start: &refCard})
			press(t, m, "g")
			requireContains(t, m, "⚑CARD")
		})
	}
}

// c opens the cases from the analytics screens as from every browsing
// screen (it did nothing on flags, clusters, paths and traces), and esc
// comes back to the screen it was pressed on.
func TestCasesKeyFromAnalytics(t *testing.T) {
	for _, open := range []string{"F", "C"} {
		m, f := newModel(t, 120, 40, Options{})
		seedCases(t, f)
		press(t, m, open)
		from := m.screenName()
		press(t, m, "c")
		requireContains(t, m, "Cases", "Shymkent exchangers")
		press(t, m, "esc")
		if m.screenName() != from {
			t.Errorf("%s, c, esc: on %q, want back on %q", open, m.screenName(), from)
		}
	}
}

// TestFlagsLoadMoreAsYouScroll: past the first 500 rows the ranking loads
// more in the background as the cursor nears the last loaded row, the
// cursor staying on its row; down and pgdn reach row 600 of 1,203.
func TestFlagsLoadMoreAsYouScroll(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	f.ana.many = 1200
	press(t, m, "F")
	v := &m.ana.flags
	if n := len(v.list.Rows); n != flagsLimit {
		t.Fatalf("%d rows loaded first, want %d", n, flagsLimit)
	}
	requireContains(t, m, "Flags · all rules · 1,203 subjects at risk ≥ 0.50", "of 1,203 · 500 loaded · more load as you scroll")
	for range 25 {
		press(t, m, "pgdown")
	}
	for v.nav.Cursor() < 600 {
		at := v.nav.Cursor()
		press(t, m, "down")
		if v.nav.Cursor() == at {
			t.Fatalf("the cursor stops at row %d of %d loaded", at, len(v.list.Rows))
		}
	}
	row, _ := v.selected()
	if row.Name != "Дроп 0598" { // rows 0–2 are the Almaty case's
		t.Errorf("row 600 is %q", row.Name)
	}
	requireContains(t, m, "601 ", "Дроп 0598")
	if got := f.ana.limits; !slices.Equal(got, []int{500, 1000}) {
		t.Errorf("Flags asked with limits %v, want 500 then 1000", got)
	}
	if n := len(v.list.Rows); n != 1000 {
		t.Errorf("%d rows loaded, want 1000", n)
	}
	requireContains(t, m, "of 1,203 · 1,000 loaded")
	for range 40 {
		press(t, m, "pgdown")
	}
	if n := len(v.list.Rows); n != 1203 {
		t.Errorf("%d rows loaded at the end, want all 1,203", n)
	}
	if s := screenText(m); strings.Contains(s, "loaded ·") || !strings.Contains(s, "Дроп 1200") {
		t.Errorf("the end of the ranking:\n%s", s)
	}
}

// TestFlagsLoadMoreIsDroppedForAnotherRule: a load of more rows that
// arrives after the rule filter changed is not added to the new ranking.
func TestFlagsLoadMoreIsDroppedForAnotherRule(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	f.ana.many = 700
	press(t, m, "F")
	v := &m.ana.flags
	var more tea.Cmd
	for more == nil {
		if v.nav.Cursor() >= flagsLimit-1 {
			t.Fatal("no load of more near the end")
		}
		_, more = m.Update(keyPress("pgdown"))
		more = keepOnly[flagsMoreMsg](more)
	}
	press(t, m, "r", "r", "r") // R3: two rows
	for _, msg := range expand(more) {
		run(t, m, msg)
	}
	if n := len(v.list.Rows); n != 2 || v.list.Matching != 2 {
		t.Fatalf("R3 lists %d rows of %d after a late load of more", n, v.list.Matching)
	}
}

// keepOnly is cmd's messages of type T, as one command.
func keepOnly[T tea.Msg](cmd tea.Cmd) tea.Cmd {
	var keep []tea.Cmd
	for _, msg := range expand(cmd) {
		if _, ok := msg.(T); ok {
			keep = append(keep, func() tea.Msg { return msg })
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return tea.Batch(keep...)
}
