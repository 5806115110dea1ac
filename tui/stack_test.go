package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/tui/list"
)

// TestDialogKeysNeverReachTheScreenBelow: while a dialog is on top, every
// key is the dialog's: j, g, q, tab and the list keys type into its fields
// or move its focus, and the entity underneath never moves.
func TestDialogKeysNeverReachTheScreenBelow(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "b")
	if m.dialog() == nil {
		t.Fatal("b opened no dialog")
	}
	nbr, tx, focus := m.ent.nbrList.Cursor(), m.ent.txList.Cursor(), m.ent.focus
	for _, k := range []string{"j", "g", "q", "F", "c", "R", "/", "pgdown", "down", "tab", "left"} {
		_, cmd := m.Update(keyPress(k))
		for _, msg := range expand(cmd) {
			if _, ok := msg.(tea.QuitMsg); ok {
				t.Fatalf("%s in the dialog quit the program", k)
			}
			run(t, m, msg)
		}
		if m.dialog() == nil {
			t.Fatalf("%s closed the dialog", k)
		}
	}
	if m.ent.nbrList.Cursor() != nbr || m.ent.txList.Cursor() != tx || m.ent.focus != focus {
		t.Fatal("keys typed into the dialog moved the entity underneath")
	}
	if len(m.stack) != 3 || m.screenName() != "bookmark dialog" {
		t.Fatalf("stack %d screens, top %s", len(m.stack), m.screenName())
	}
	press(t, m, "esc")
	if m.dialog() != nil || m.screenName() != "entity" {
		t.Fatalf("esc: top %s", m.screenName())
	}
}

// TestDialogOverCasesTakesEveryKey: d on the Cases screen deletes; typed
// into a dialog over it, it is a letter of the name.
func TestDialogOverCasesTakesEveryKey(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	seedCases(t, f)
	press(t, m, "c", "r")
	typeText(t, m, "dud")
	if d := m.dialog(); d == nil || !strings.HasSuffix(d.value(0), "dud") {
		t.Fatalf("dialog %+v", m.dialog())
	}
	if n := len(f.cases.list); n != 2 {
		t.Fatalf("d in the dialog reached the Cases screen: %d cases", n)
	}
}

// TestWheelGoesToTheTopScreenOnly is the Cases-screen bug: the wheel over
// the Cases screen moved the entity view hidden underneath.
func TestWheelGoesToTheTopScreenOnly(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refCard})
	seedCases(t, f)
	press(t, m, "tab") // the transactions pane
	press(t, m, "c")
	for range 3 {
		run(t, m, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	}
	if got := m.ent.txList.Cursor(); got != 0 {
		t.Fatalf("the wheel on Cases moved the entity's transactions to row %d", got)
	}
	if got := m.cs.list.Cursor(); got != 5 {
		t.Fatalf("the wheel on Cases left its cursor on %d, want the last of 6 rows", got)
	}
	press(t, m, "esc")
	run(t, m, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if got := m.ent.txList.Cursor(); got != list.WheelStep {
		t.Fatalf("the wheel on the entity: row %d", got)
	}
	// The help overlay takes the wheel too.
	press(t, m, "?")
	run(t, m, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if got := m.ent.txList.Cursor(); got != list.WheelStep {
		t.Fatalf("the wheel on the help moved the entity to %d", got)
	}
}

// TestHelpScrollsAt80x24: the entity's keys do not fit in 24 lines; the
// help says which lines show and scrolls to the last key.
func TestHelpScrollsAt80x24(t *testing.T) {
	m, _ := newModel(t, 80, 24, Options{Start: &refCard})
	press(t, m, "?")
	requireContains(t, m, "Keys — entity", "lines 1–")
	if strings.Contains(screenText(m), "global keys") {
		t.Fatal("the last line shows before scrolling: nothing to test")
	}
	if n := len(strings.Split(m.View().Content, "\n")); n != 24 {
		t.Fatalf("help overlay has %d lines", n)
	}
	press(t, m, "pgdown", "pgdown")
	requireContains(t, m, "note on the verdict", "global keys")
	if strings.Contains(screenText(m), "Keys — entity") {
		t.Fatal("pgdn did not scroll the help")
	}
	press(t, m, "home")
	requireContains(t, m, "Keys — entity")
	for _, l := range strings.Split(m.View().Content, "\n") {
		if !strings.Contains(l, "│") && strings.TrimSpace(l) != "" && !strings.Contains(l, "─") && !strings.Contains(l, "casegraph") && !strings.Contains(l, "demo.db") && !strings.Contains(l, "scroll") {
			t.Errorf("stray line %q", l)
		}
	}
	press(t, m, "esc")
	if m.screenName() != "entity" {
		t.Fatalf("esc left %s on top", m.screenName())
	}
}

// TestEveryListFilters: / in each list filters the loaded rows, esc
// brings them back.
func TestEveryListFilters(t *testing.T) {
	cases := []struct {
		name  string
		start *graph.Ref
		keys  []string
		l     func(m *Model) *list.Model
		query string
		want  string // shown after filtering
		gone  string // hidden after filtering
	}{
		{"neighbours", &refCard, nil, func(m *Model) *list.Model { return &m.ent.nbrList }, "cash", "ATM-ALA-0042", "uses_device"},
		{"transactions", &refCard, []string{"tab"}, func(m *Model) *list.Model { return &m.ent.txList }, "trade", "ТенгеОбмен24", "no IIN · not confirmed"},
		{"flags", nil, []string{"F"}, func(m *Model) *list.Model { return &m.ana.flags.nav }, "afsa", "not in the AFSA register", "holds a card"},
		{"clusters", nil, []string{"C"}, func(m *Model) *list.Model { return &m.ana.clusters.nav }, "Өмірбекова", "Өмірбекова", ""},
		{"members", nil, []string{"C", "tab"}, func(m *Model) *list.Model { return &m.ana.clusters.mnav }, "card", "4400", ""},
		{"trace", &refCard, []string{"t", "e"}, func(m *Model) *list.Model { return &m.ana.trace.nav }, "exchange", "ТенгеОбмен24", ""},
		{"resolve", nil, []string{"R"}, func(m *Model) *list.Model { return &m.rv.pnav }, "omirbek", "OMIRBEKOVA", "Akhmetov Zhanbolat"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newModel(t, 120, 40, Options{Start: tc.start})
			press(t, m, tc.keys...)
			l := tc.l(m)
			all := l.Len()
			if all == 0 {
				t.Fatal("nothing listed")
			}
			press(t, m, "/")
			typeText(t, m, tc.query)
			press(t, m, "enter")
			if n := l.Len(); n == 0 || n > all {
				t.Fatalf("filter %q: %d of %d", tc.query, n, all)
			}
			if tc.name != "clusters" && l.Len() == all {
				t.Fatalf("filter %q kept every row", tc.query)
			}
			requireContains(t, m, tc.want)
			if tc.gone != "" && strings.Contains(screenText(m), tc.gone) {
				t.Errorf("%q still shows:\n%s", tc.gone, screenText(m))
			}
			press(t, m, "esc")
			if l.Len() != all {
				t.Fatalf("esc: %d of %d listed", l.Len(), all)
			}
		})
	}
}

// TestPathListsFilter: the Path screen's paths and hops filter too.
func TestPathListsFilter(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{Start: &refAkhmetov})
	press(t, m, "m")
	for _, msg := range expand(m.open(refOmirbekov, false)) {
		run(t, m, msg)
	}
	press(t, m, "m")
	all := m.ana.paths.nav.Len()
	if all < 2 {
		t.Fatalf("%d paths", all)
	}
	press(t, m, "/")
	typeText(t, m, "phone")
	press(t, m, "enter")
	if n := m.ana.paths.nav.Len(); n == 0 || n == all {
		t.Fatalf("path filter: %d of %d", n, all)
	}
	requireContains(t, m, "paths match")
	press(t, m, "tab", "/")
	typeText(t, m, "person")
	if n := m.ana.paths.hnav.Len(); n != 2 {
		t.Fatalf("hop filter: %d hops are persons, want 2", n)
	}
}

// TestBookmarkWhatIsListed: B files the rows a list shows (the filter's
// matches) into a case as one group, which the case export then writes.
func TestBookmarkWhatIsListed(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	press(t, m, "F", "/")
	typeText(t, m, "R11")
	press(t, m, "enter", "B")
	d := m.dialog()
	if d == nil {
		t.Fatal("B opened no dialog")
	}
	want := []graph.Ref{refCard, refAkhmetov, refExchange}
	if d.target.Kind != graph.TargetCluster || len(d.target.Refs) != len(want) || d.target.Query != `flags · all rules filtered "R11"` {
		t.Fatalf("target %+v", d.target)
	}
	for i, r := range want {
		if d.target.Refs[i] != r {
			t.Fatalf("ref %d is %v, want %v", i, d.target.Refs[i], r)
		}
	}
	press(t, m, "tab") // the picker starts on a new case (none yet): its name
	typeText(t, m, "listed")
	run(t, m, ctrlS)
	if m.dialog() != nil {
		t.Fatal("ctrl+s did not save")
	}
	if len(f.cases.list) != 1 || len(f.cases.list[0].Bookmarks) != 1 || len(f.cases.list[0].Bookmarks[0].Target.Refs) != 3 {
		t.Fatalf("cases %+v", f.cases.list)
	}

	// The entity's neighbours, filtered.
	m, _ = newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "/")
	typeText(t, m, "cash")
	press(t, m, "enter", "B")
	if d := m.dialog(); d == nil || len(d.target.Refs) != 2 || !strings.HasPrefix(d.target.Label, "neighbours of ") {
		t.Fatalf("neighbours: %+v", m.dialog())
	}
}

var ctrlB = tea.KeyPressMsg{Code: 'b', Mod: tea.ModCtrl}

// addDroppers adds n persons named "Дроп 0001" on to the fake.
func addDroppers(f *fakeBackend, n int) {
	for i := range n {
		ref := graph.Ref{Kind: graph.KindPerson, Key: fmt.Sprintf("99%010d", i+1)}
		f.ents[ref] = graph.Entity{Ref: ref, Name: fmt.Sprintf("Дроп %04d", i+1)}
	}
}

// TestBookmarkSearchHits: ctrl+b on the search results (B is text there)
// files the hits loaded into a case, the query, the kind filter and how
// many of the matches saying what they are; search shows again after.
func TestBookmarkSearchHits(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	addDroppers(f, 250)
	press(t, m, "/")
	typeText(t, m, "дроп")
	requireContains(t, m, "100 of 250 matches · 0 µs · more load as you scroll")
	run(t, m, ctrlB)
	d := m.dialog()
	if d == nil {
		t.Fatal("ctrl+b opened no dialog")
	}
	if want := `search "дроп" · first 100 of 250 matches`; d.target.Kind != graph.TargetCluster || d.target.Query != want || len(d.target.Refs) != 100 {
		t.Fatalf("target %q with %d refs, want %q with 100", d.target.Query, len(d.target.Refs), want)
	}
	requireContains(t, m, `search "дроп" · first 100 of 250 matches · 100 entities`)
	press(t, m, "esc")
	if m.screenName() != "search" {
		t.Fatalf("esc on the dialog left %q", m.screenName())
	}
	// Scrolled, more hits load: ctrl+b files them all.
	for range 3 {
		press(t, m, "pgdown")
	}
	if n := len(m.search.Result().Hits); n != 200 {
		t.Fatalf("%d hits after scrolling, want 200", n)
	}
	run(t, m, ctrlB)
	if d := m.dialog(); d == nil || len(d.target.Refs) != 200 || d.target.Refs[150] != (graph.Ref{Kind: graph.KindPerson, Key: "990000000151"}) {
		t.Fatalf("after scrolling: %+v", m.dialog())
	}
	press(t, m, "tab")
	typeText(t, m, "droppers")
	run(t, m, ctrlS)
	if m.dialog() != nil || m.screenName() != "search" {
		t.Fatalf("after saving: dialog %v, screen %q", m.dialog() != nil, m.screenName())
	}
	if len(f.cases.list) != 1 || len(f.cases.list[0].Bookmarks) != 1 || len(f.cases.list[0].Bookmarks[0].Target.Refs) != 200 {
		t.Fatalf("cases %+v", f.cases.list)
	}

	// Among one kind, all of it loaded.
	m, _ = newModel(t, 120, 40, Options{})
	press(t, m, "/")
	typeText(t, m, "жанбол")
	press(t, m, "tab")
	run(t, m, ctrlB)
	if d := m.dialog(); d == nil || d.target.Label != `search "жанбол" among persons · 1 entity` || d.target.Refs[0] != refAkhmetov {
		t.Fatalf("person filter: %+v", m.dialog())
	}
	// B is a letter of the query.
	m, _ = newModel(t, 120, 40, Options{})
	press(t, m, "/")
	typeText(t, m, "B")
	if m.dialog() != nil || m.search.Query() != "B" {
		t.Fatalf("B in search: query %q, dialog %v", m.search.Query(), m.dialog() != nil)
	}
}

// TestBookmarkListedSaysHowMany: B on the Flags list files every loaded
// row, not the page on screen, and says how many of how many.
func TestBookmarkListedSaysHowMany(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	f.ana.many = 1200
	press(t, m, "F", "B")
	d := m.dialog()
	if d == nil || len(d.target.Refs) != 500 || d.target.Label != "flags · all rules · first 500 of 1,203 rows · 500 entities" {
		t.Fatalf("B on 500 of 1,203: %+v", d)
	}
	press(t, m, "esc")
	for range 30 {
		press(t, m, "pgdown")
	}
	press(t, m, "B")
	if d := m.dialog(); d == nil || len(d.target.Refs) != 1000 || d.target.Label != "flags · all rules · first 1,000 of 1,203 rows · 1,000 entities" {
		t.Fatalf("B on 1,000 of 1,203: %+v", d)
	}
}
