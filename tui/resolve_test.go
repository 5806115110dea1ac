package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"casegraph/graph"
)

func sameAsLinks(f *fakeBackend) []graph.Link {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []graph.Link
	for _, l := range f.links {
		if l.Type == graph.LinkSameAs {
			out = append(out, l)
		}
	}
	return out
}

func TestResolveAcceptRejectRevert(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	press(t, m, "R")
	if !onStack[*resolveScreen](m) || !m.rv.loaded || f.res.calls != 1 {
		t.Fatalf("R: open %v loaded %v calls %d", onStack[*resolveScreen](m), m.rv.loaded, f.res.calls)
	}
	requireContains(t, m, "Resolve · [proposals 3] · merged 0", "OMIRBEKOVA ULZHAN", "born 1990-05-15 · iin 900515300008",
		"Akhmetov Zhanbolat", "skeleton+dob", "name omirbek uljan", "resolution ready · 3 to decide")
	// a accepts the selected (first) match: a same_as link with its score
	// and method, and the row leaves the list.
	press(t, m, "a")
	links := sameAsLinks(f)
	if len(links) != 1 || links[0].From != refOmirbekov || links[0].To != refFtmOmirbekova || links[0].Role != "score=1.00;method=iin;decision=accepted" {
		t.Fatalf("links after accept: %+v", links)
	}
	if len(m.rv.list.Rows) != 2 || m.rv.list.Rows[0].Match.A != refAkhmetov || m.rv.list.Linked != 1 {
		t.Fatalf("rows after accept: %+v", m.rv.list)
	}
	requireContains(t, m, "accepted Өмірбекова Ұлжан ~ OMIRBEKOVA ULZHAN · same_as written (import #7)", "merged 1")
	// x rejects the next one; resolving again proposes neither.
	press(t, m, "x")
	if len(m.rv.list.Rows) != 1 || m.rv.list.Rows[0].Match.A != refAigerim || !f.res.rejected[pairOf(refAkhmetov, refFtmAkhmetov)] {
		t.Fatalf("rows after reject: %+v, rejected %v", m.rv.list.Rows, f.res.rejected)
	}
	requireContains(t, m, "not proposed again", "1 linked · 1 rejected")
	// The last one decided: nothing left, and the screen says why.
	press(t, m, "x")
	requireContains(t, m, "nothing to decide: every match is linked or rejected", "1 linked · 2 rejected")
	delete(f.res.rejected, pairOf(refAigerim, refFtmAigerim))
	press(t, m, "ctrl+r")
	if f.res.calls != 2 || len(m.rv.list.Rows) != 1 || m.rv.list.Linked != 1 || m.rv.list.Rejected != 1 {
		t.Fatalf("after resolving again: calls %d list %+v", f.res.calls, m.rv.list)
	}
	// tab lists the link; u reverts it and it is proposed again.
	press(t, m, "tab")
	requireContains(t, m, "Resolve · proposals 1 · [merged 1]", "accepted", "score=1.00;method=iin;decision=accepted", "resolve:0 · import #7")
	press(t, m, "u")
	if len(sameAsLinks(f)) != 0 || len(m.rv.merged) != 0 {
		t.Fatalf("after revert: links %+v merged %+v", sameAsLinks(f), m.rv.merged)
	}
	requireContains(t, m, "reverted same_as Өмірбекова Ұлжан ~ OMIRBEKOVA ULZHAN", "no same_as links yet")
	press(t, m, "tab", "ctrl+r")
	if len(m.rv.list.Rows) != 2 || m.rv.list.Rows[0].Match.A != refOmirbekov {
		t.Fatalf("the reverted match is not proposed again: %+v", m.rv.list.Rows)
	}
	press(t, m, "esc")
	if onStack[*resolveScreen](m) || m.screenName() != "home" {
		t.Fatalf("esc: open %v screen %v", onStack[*resolveScreen](m), m.screenName())
	}
}

func TestResolveAcceptShowsInEntityNeighbours(t *testing.T) {
	// The entity under the screen reloads after a decision on it.
	m, _ := newModel(t, 120, 40, Options{Start: &refAkhmetov})
	if s := screenText(m); strings.Contains(s, "same_as") {
		t.Fatalf("same_as before any decision:\n%s", s)
	}
	press(t, m, "R", "down", "a", "esc")
	if m.screenName() != "entity" || m.ent.ref != refAkhmetov {
		t.Fatalf("esc: screen %v ref %v", m.screenName(), m.ent.ref)
	}
	requireContains(t, m, "same_as      → ftm-7c1e")
	// enter on the merged tab opens the left entity, o the right one.
	press(t, m, "R", "tab", "o")
	if onStack[*resolveScreen](m) || m.ent.ref != refFtmAkhmetov {
		t.Fatalf("o: open %v ref %v", onStack[*resolveScreen](m), m.ent.ref)
	}
	// The screen reopens on the tab it was left on.
	press(t, m, "R", "enter")
	if onStack[*resolveScreen](m) || m.ent.ref != refAkhmetov || m.screenName() != "entity" {
		t.Fatalf("enter: open %v ref %v", onStack[*resolveScreen](m), m.ent.ref)
	}
	// enter on a proposal opens its left entity; after the accept the
	// cursor moved on to the next match.
	press(t, m, "R", "tab", "enter")
	if m.ent.ref != refAigerim {
		t.Fatalf("enter on the proposal after the accepted one opened %v", m.ent.ref)
	}
}

func TestResolveProgressAndCancel(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	f.res.block = true
	_, cmd := m.Update(keyPress("R"))
	if !onStack[*resolveScreen](m) || !m.rv.busy {
		t.Fatalf("R: open %v busy %v", onStack[*resolveScreen](m), m.rv.busy)
	}
	var runCmd, progCmd tea.Cmd
	for _, c := range cmd().(tea.BatchMsg) {
		if b, ok := c().(tea.BatchMsg); ok && len(b) == 2 {
			runCmd, progCmd = b[0], b[1]
		}
	}
	if runCmd == nil {
		t.Fatal("R did not start resolution with progress")
	}
	msgs := make(chan tea.Msg, 1)
	go func() { msgs <- runCmd() }()
	if _, next := m.Update(progCmd()); next == nil {
		t.Fatal("a progress report should wait for the next")
	}
	requireContains(t, m, "reading entities", "3 of 6", "█", "esc cancels")
	if s := screenText(m); !strings.Contains(s, "esc cancel") {
		t.Fatalf("help bar lacks esc cancel:\n%s", s)
	}
	press(t, m, "esc")
	var done tea.Msg
	select {
	case done = <-msgs:
	case <-time.After(5 * time.Second):
		t.Fatal("esc did not cancel resolution")
	}
	run(t, m, done) // the cancelled run's answer is dropped
	if m.rv.busy || m.rv.loaded || onStack[*resolveScreen](m) {
		t.Fatalf("after cancel: busy %v loaded %v open %v", m.rv.busy, m.rv.loaded, onStack[*resolveScreen](m))
	}
	requireContains(t, m, "resolution cancelled")
	f.res.block = false
	press(t, m, "R")
	if !m.rv.loaded || len(m.rv.list.Rows) != 3 || f.res.calls != 2 {
		t.Fatalf("second run: loaded %v rows %d calls %d", m.rv.loaded, len(m.rv.list.Rows), f.res.calls)
	}
}

func TestResolveDropsStaleResults(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	press(t, m, "R")
	run(t, m, proposalsLoadedMsg{seq: m.rv.seq - 1, list: ProposalList{}})
	run(t, m, mergedLoadedMsg{seq: m.rv.mSeq - 1, links: []MergedLink{{Link: graph.Link{From: refATM, To: refCard}}}})
	if len(m.rv.list.Rows) != 3 || len(m.rv.merged) != 0 {
		t.Fatalf("stale results taken: %d rows, %d merged", len(m.rv.list.Rows), len(m.rv.merged))
	}
}

func TestResolveDecisionErrorKeepsRow(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	press(t, m, "R")
	f.res.fail = errors.New("database is open read-only")
	press(t, m, "a")
	if len(m.rv.list.Rows) != 3 || len(m.rv.pending) != 0 {
		t.Fatalf("a failed accept changed the list: %d rows, pending %v", len(m.rv.list.Rows), m.rv.pending)
	}
	requireContains(t, m, "accept iin:900515300008 ~ iin:ftm-0b44: database is open read-only")
	// A key on a pair whose decision is still being written does nothing.
	_, cmd := m.Update(keyPress("x"))
	if cmd == nil || !m.rv.pending[pairOf(refOmirbekov, refFtmOmirbekova)] {
		t.Fatal("x should start writing a rejection")
	}
	if _, again := m.Update(keyPress("a")); again != nil {
		t.Fatal("a second decision on a pending pair was sent")
	}
	requireContains(t, m, "writing…", "still writing the last decision")
}

func TestResolveKeysOnlyWhereTheyBelong(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	// R is the previous-rule key on the Flags screen, not Resolve.
	press(t, m, "F", "R")
	if onStack[*resolveScreen](m) {
		t.Fatal("R opened Resolve over the Flags screen")
	}
	press(t, m, "esc", "/", "R")
	if onStack[*resolveScreen](m) {
		t.Fatal("R typed into search opened Resolve")
	}
	press(t, m, "esc", "R", "/")
	if (m.screenName() == "search") || !onStack[*resolveScreen](m) {
		t.Fatalf("/ on the Resolve screen: search %v open %v", (m.screenName() == "search"), onStack[*resolveScreen](m))
	}
	run(t, m, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if m.rv.pnav.Cursor() != 2 {
		t.Fatalf("wheel down: selection %d, want the last row", m.rv.pnav.Cursor())
	}
}

func TestResolveHelpListsEveryKey(t *testing.T) {
	m, _ := newModel(t, 160, 50, Options{})
	press(t, m, "?")
	requireContains(t, m, "R", "resolve entities")
	press(t, m, "esc", "R", "?")
	requireContains(t, m, "Keys — resolve")
	for _, col := range m.resolveHelp().FullHelp() {
		for _, k := range col {
			if !strings.Contains(screenText(m), k.Help().Desc) {
				t.Errorf("resolve help lacks %q", k.Help().Desc)
			}
		}
	}
	press(t, m, "esc")
	if !onStack[*resolveScreen](m) || (m.screenName() == "help") {
		t.Fatalf("esc closed more than the help: open %v help %v", onStack[*resolveScreen](m), (m.screenName() == "help"))
	}
}

func TestSharedFacts(t *testing.T) {
	l := MatchParty{BirthDate: "1985-03-12", Name: "Ахметов Жанболат Серікұлы",
		IDs: []graph.Ident{{Scheme: "pan", Value: "4400430012347894"}, {Scheme: "phone", Value: "+77015551234"}}}
	r := MatchParty{BirthDate: "1985-03-12", Name: "AKHMETOV ZHANBOLAT",
		IDs: []graph.Ident{{Scheme: "pan", Value: "4400430012347894"}}}
	got := strings.Join(sharedFacts(l, r, [2]string{}), " · ")
	if got != "born 1985-03-12 · pan 4400 43•• •••• 7894 · name ahmet janbolat" {
		t.Errorf("shared facts = %q", got)
	}
	r.BirthDate, r.IDs, r.Name = "1985-03-13", nil, "Omirbekova"
	if got := sharedFacts(l, r, [2]string{}); len(got) != 0 {
		t.Errorf("nothing shared, got %q", got)
	}
}

func TestResolveLinesFit(t *testing.T) {
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {133, 41}} {
		m, _ := newModel(t, sz[0], sz[1], Options{})
		for _, keys := range [][]string{{"R"}, {"a", "tab"}, {"tab"}} {
			press(t, m, keys...)
			lines := strings.Split(screenText(m), "\n")
			if len(lines) != sz[1] {
				t.Fatalf("%v at %v: %d lines", keys, sz, len(lines))
			}
			for i, ln := range lines {
				if w := ansi.StringWidth(ln); w != sz[0] {
					t.Fatalf("%v at %v: line %d is %d wide: %q", keys, sz, i, w, ln)
				}
			}
		}
	}
}

func TestResolveGolden(t *testing.T) {
	for _, sc := range []struct {
		name string
		keys []string
	}{
		{"proposals", []string{"R", "down"}},
		{"merged", []string{"R", "a", "tab"}},
	} {
		for _, sz := range [][2]int{{80, 24}, {120, 40}} {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				m, _ := newModel(t, sz[0], sz[1], Options{})
				press(t, m, sc.keys...)
				golden.RequireEqual(t, []byte(screenText(m)))
			})
		}
	}
}

// TestResolveJourney drives the real program: R → accept one → tab →
// revert it.
func TestResolveJourney(t *testing.T) {
	f := newFake()
	m := New(f, Options{})
	tm, wait := startJourney(t, m)
	wait("press / to search")
	tm.Type("R")
	wait("resolution ready")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.Type("a")
	wait("same_as written")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	wait("[merged 1]")
	tm.Type("u")
	wait("reverted same_as")
	fm := endJourney(t, tm)
	if !onStack[*resolveScreen](fm) || fm.rv.tab != tabMerged || len(fm.rv.merged) != 0 || len(fm.rv.list.Rows) != 2 {
		t.Fatalf("final resolve state: open %v tab %v merged %+v rows %d", onStack[*resolveScreen](fm), fm.rv.tab, fm.rv.merged, len(fm.rv.list.Rows))
	}
	if links := sameAsLinks(f); len(links) != 0 {
		t.Fatalf("links left after revert: %+v", links)
	}
	if f.res.batch != 1 {
		t.Fatalf("%d accepts, want 1", f.res.batch)
	}
}

// With no match at all the list says there is none to propose, not that
// every match was decided.
func TestResolveNoMatchesSaysSo(t *testing.T) {
	m, _ := newModel(t, 120, 40, Options{})
	press(t, m, "R")
	m.rv.list = ProposalList{}
	m.rv.pnav.Reset(0, 0, nil)
	requireContains(t, m, "no proposed matches")
	if strings.Contains(screenText(m), "every match is linked") {
		t.Fatal("no match was ever proposed, yet the screen says every match is decided")
	}
}
