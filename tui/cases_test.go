package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"casegraph/graph"
)

var ctrlS = tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}

// bookmarkCard opens the card, bookmarks it into caseName with tags and a
// two-line note.
func bookmarkCard(t *testing.T, m *Model, caseName string) {
	t.Helper()
	press(t, m, "b")
	requireContains(t, m, "Bookmark", "entity|card:4400430012347894")
	press(t, m, "tab") // from the case picker (on a new case: none yet) to its name
	typeText(t, m, caseName)
	press(t, m, "tab")
	typeText(t, m, "mule, Organiser")
	press(t, m, "tab")
	typeText(t, m, "topped up at ATM-ALA-0042")
	press(t, m, "enter")
	typeText(t, m, "then cashed out")
	run(t, m, ctrlS)
}

func TestBookmarkDialogCreatesCaseAndBookmark(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refCard})
	bookmarkCard(t, m, "Almaty cash-out")
	if m.dialog() != nil {
		t.Fatal("dialog still open after ctrl+s")
	}
	cs, _ := f.Cases(context.Background())
	if len(cs) != 1 || cs[0].Name != "Almaty cash-out" || len(cs[0].Bookmarks) != 1 {
		t.Fatalf("cases: %+v", cs)
	}
	b := cs[0].Bookmarks[0]
	if b.Target.Refs[0] != refCard || strings.Join(b.Tags, ",") != "mule,organiser" ||
		b.Note != "topped up at ATM-ALA-0042\nthen cashed out" {
		t.Errorf("bookmark: %+v", b)
	}
	requireContains(t, m, `bookmarked`, `"Almaty cash-out" (new case)`)
	if m.cs.current != cs[0].ID {
		t.Errorf("current case %q, want %q", m.cs.current, cs[0].ID)
	}

	// The second bookmark goes to the current case by default: the dialog
	// opens on the same field, the picker, now on the current case.
	for _, msg := range expand(m.open(refAkhmetov, false)) {
		run(t, m, msg)
	}
	press(t, m, "b")
	if o, ok := m.dialog().picked(); !ok || o.name != "Almaty cash-out" || m.dialog().focus != 0 {
		t.Fatalf("second dialog: %+v", m.dialog())
	}
	run(t, m, ctrlS)
	cs, _ = f.Cases(context.Background())
	if len(cs) != 1 || len(cs[0].Bookmarks) != 2 {
		t.Fatalf("second bookmark went elsewhere: %+v", cs)
	}
}

func TestBookmarkDialogCancel(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "b", "tab", "tab")
	typeText(t, m, "mule")
	press(t, m, "esc")
	if m.dialog() != nil {
		t.Fatal("esc did not close the dialog")
	}
	if cs, _ := f.Cases(context.Background()); len(cs) != 0 {
		t.Errorf("cases created: %+v", cs)
	}
}

// Saved with no case chosen and no new case named, the bookmark dialog
// refuses and stays open: the tags and note as typed, the reason inside
// the dialog, the focus on the new case's name. Named there, it saves
// the bookmark with them.
func TestBookmarkDialogRefusesNoCaseKeepingInput(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "b", "tab", "tab") // past the picker (on a new case: none yet) and the empty name
	typeText(t, m, "mule, Organiser")
	press(t, m, "tab")
	typeText(t, m, "topped up at ATM-ALA-0042")
	press(t, m, "enter")
	typeText(t, m, "then cashed out")
	run(t, m, ctrlS)
	d := m.dialog()
	if d == nil {
		t.Fatal("ctrl+s with no case closed the dialog")
	}
	if d.value(1) != "mule, Organiser" || d.noteValue() != "topped up at ATM-ALA-0042\nthen cashed out" {
		t.Errorf("fields after the refusal: tags %q, note %q", d.value(1), d.noteValue())
	}
	if !d.pickingNew() || d.focus != d.base() {
		t.Errorf("focus on field %d (new case %v), want the new case's name (%d)", d.focus, d.pickingNew(), d.base())
	}
	const why = "choose a case, or name the new case"
	if box := ansi.Strip(d.view(m.st)); !strings.Contains(box, why) {
		t.Errorf("the dialog does not say why:\n%s", box)
	}
	requireContains(t, m, why, "mule, Organiser", "then cashed out")
	if m.statusErr {
		t.Errorf("status bar error %q: the dialog says why", m.status)
	}
	if cs, _ := f.Cases(context.Background()); len(cs) != 0 {
		t.Errorf("cases created: %+v", cs)
	}

	// The name typed where the focus is; the reason goes with the first key.
	typeText(t, m, "Almaty cash-out")
	if strings.Contains(screenText(m), why) {
		t.Error("the reason outlived the fix")
	}
	run(t, m, ctrlS)
	if m.dialog() != nil {
		t.Fatal("named, the dialog did not save")
	}
	cs, _ := f.Cases(context.Background())
	if len(cs) != 1 || cs[0].Name != "Almaty cash-out" || len(cs[0].Bookmarks) != 1 {
		t.Fatalf("cases: %+v", cs)
	}
	if b := cs[0].Bookmarks[0]; strings.Join(b.Tags, ",") != "mule,organiser" || b.Note != "topped up at ATM-ALA-0042\nthen cashed out" {
		t.Errorf("bookmark: %+v", b)
	}
}

// seedCases gives the fake two cases with bookmarks.
func seedCases(t *testing.T, f *fakeBackend) {
	t.Helper()
	ctx := context.Background()
	a, _ := f.CreateCase(ctx, "Almaty cash-out")
	b, _ := f.CreateCase(ctx, "Shymkent exchangers")
	f.AddBookmark(ctx, a.ID, graph.Bookmark{Target: graph.EntityTarget(refCard, ""), Tags: []string{"mule"}, Note: "first\nsecond"})
	f.AddBookmark(ctx, a.ID, graph.Bookmark{Target: graph.EntityTarget(refAkhmetov, "Ахметов Жанболат Серікұлы")})
	f.AddBookmark(ctx, b.ID, graph.Bookmark{Target: graph.EntityTarget(refExchange, "ТенгеОбмен24"), Tags: []string{"unlicensed"}})
	f.AddBookmark(ctx, b.ID, graph.Bookmark{Target: graph.Target{Kind: graph.TargetPath,
		Refs: []graph.Ref{refAkhmetov, refCard, refExchange}, Query: "path"}})
}

func TestCasesScreenFilterEditUndo(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	seedCases(t, f)
	press(t, m, "c")
	requireContains(t, m, "Cases", "Shymkent exchangers", "Almaty cash-out", "#mule", "first (+1 lines)", "ТенгеОбмен24")
	if m.cs.list.Len() != 6 {
		t.Fatalf("%d rows, want 6", m.cs.list.Len())
	}

	// Fuzzy filter over names, tags and notes.
	press(t, m, "/")
	typeText(t, m, "unlic")
	if l := m.cs.list.Listed(); len(l) != 2 || m.cs.rows[l[1]].bm != 0 {
		t.Fatalf("filtered rows: %+v", l)
	}
	requireContains(t, m, `2 rows match "unlic"`)
	press(t, m, "esc")
	if m.cs.list.Len() != 6 {
		t.Fatalf("esc did not clear the filter: %d rows", m.cs.list.Len())
	}

	// Rename the first case (most recently updated: Shymkent).
	press(t, m, "r")
	for range len("Shymkent exchangers") {
		press(t, m, "backspace")
	}
	typeText(t, m, "Shymkent OTC")
	press(t, m, "enter")
	requireContains(t, m, "Shymkent OTC", `renamed to "Shymkent OTC"`)

	// Re-tag and re-note a bookmark; statuses cycle.
	sel := func(title string) {
		t.Helper()
		for i, r := range m.cs.rows {
			c := m.cs.cases[r.c]
			if r.bm < 0 && c.Name == title || r.bm >= 0 && bookmarkTitle(c.Bookmarks[r.bm]) == title {
				m.cs.list.Select(i)
				return
			}
		}
		t.Fatalf("no row %q", title)
	}
	sel(refLabel(refCard))
	press(t, m, "t")
	typeText(t, m, " kz")
	press(t, m, "enter")
	sel(refLabel(refCard))
	press(t, m, "n")
	typeText(t, m, "!")
	run(t, m, ctrlS)
	c, _ := f.ViewCase(context.Background(), "c-1")
	if strings.Join(c.Bookmarks[0].Tags, ",") != "mule,kz" || c.Bookmarks[0].Note != "first\nsecond!" {
		t.Errorf("edited bookmark: %+v", c.Bookmarks[0])
	}
	sel("Almaty cash-out")
	press(t, m, "S")
	requireContains(t, m, "[referred]")

	// Delete a bookmark, undo brings it back.
	sel("ТенгеОбмен24")
	press(t, m, "d")
	requireContains(t, m, "Delete the bookmark ТенгеОбмен24 from \"Shymkent OTC\"?")
	press(t, m, "y")
	requireContains(t, m, "deleted bookmark ТенгеОбмен24")
	if strings.Contains(screenText(m), "#unlicensed") {
		t.Fatal("deleted bookmark still listed")
	}
	press(t, m, "u")
	requireContains(t, m, "undid: bookmark.delete", "#unlicensed")

	// Enter on a bookmark opens its entity.
	sel("Ахметов Жанболат Серікұлы")
	press(t, m, "enter")
	if onStack[*casesScreen](m) || m.screenName() != "entity" || m.ent.ref != refAkhmetov {
		t.Fatalf("enter did not open the entity: open %v screen %v ref %v", onStack[*casesScreen](m), m.screenName(), m.ent.ref)
	}
	press(t, m, "c", "esc")
	if onStack[*casesScreen](m) || m.screenName() != "entity" {
		t.Error("esc did not return to the entity")
	}
}

func TestCasesGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {120, 40}, {50, 12}} {
		t.Run(fmt.Sprintf("cases_%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, f := newModel(t, sz[0], sz[1], Options{})
			seedCases(t, f)
			press(t, m, "c")
			golden.RequireEqual(t, []byte(screenText(m)))
		})
		t.Run(fmt.Sprintf("bookmark_%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, f := newModel(t, sz[0], sz[1], Options{Start: &refCard})
			seedCases(t, f)
			run(t, m, loadCases(context.Background(), f)())
			press(t, m, "b", "tab", "tab") // the picker, the new case's name, the tags
			typeText(t, m, "mule")
			golden.RequireEqual(t, []byte(screenText(m)))
		})
	}
}

func TestCasesEveryLineFits(t *testing.T) {
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {133, 41}} {
		m, f := newModel(t, sz[0], sz[1], Options{Start: &refCard})
		seedCases(t, f)
		for _, keys := range [][]string{{"b"}, {"esc", "c"}, {"n"}} {
			press(t, m, keys...)
			lines := strings.Split(screenText(m), "\n")
			if len(lines) != sz[1] {
				t.Errorf("%v after %v: %d lines", sz, keys, len(lines))
			}
			for i, l := range lines {
				if w := len([]rune(l)); w > sz[0] {
					t.Errorf("%v after %v: line %d is %d wide", sz, keys, i, w)
				}
			}
		}
	}
}

// TestBookmarkJourney drives the real program: open a card, bookmark it into
// a new case, then open the Cases screen and add a second line to the note.
func TestBookmarkJourney(t *testing.T) {
	f := newFake()
	m := New(f, Options{Start: &refCard})
	tm, wait := startJourney(t, m)
	wait("of 130 · 50 loaded")
	tm.Type("b")
	wait("Bookmark")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	tm.Type("Almaty cash-out")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	tm.Type("mule")
	tm.Send(ctrlS)
	wait("(new case)")
	tm.Type("c")
	wait("1 bookmark")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Type("n")
	wait("Note on")
	tm.Type("cashed out at ATM-ALA-0042")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.Type("twice")
	tm.Send(ctrlS)
	wait("(+1 lines)")
	fm := endJourney(t, tm)
	if !onStack[*casesScreen](fm) || fm.dialog() != nil {
		t.Errorf("final state: cases open %v dialog %v", onStack[*casesScreen](fm), fm.dialog() != nil)
	}
	cs, _ := f.Cases(context.Background())
	if len(cs) != 1 || len(cs[0].Bookmarks) != 1 || cs[0].Bookmarks[0].Note != "cashed out at ATM-ALA-0042\ntwice" {
		t.Fatalf("cases after the journey: %+v", cs)
	}
}
