package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
)

// The sizes the case tests run at.
var caseSizes = [][2]int{{80, 24}, {160, 45}}

// selectRow puts the Cases list's cursor on the row of a case (title is
// its name) or of a bookmark (title is its list title).
func selectRow(t *testing.T, m *Model, title string) {
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

func caseNamed(t *testing.T, f *fakeBackend, name string) graph.Case {
	t.Helper()
	cs, _ := f.Cases(context.Background())
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %q in %+v", name, cs)
	return graph.Case{}
}

// The same keys do the same whether or not a case is remembered: they
// never put text meant for the tags or the note into a new case's name.
func TestBookmarkDialogFieldsAreStable(t *testing.T) {
	for _, sz := range caseSizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			// No case yet: the keys name nothing, and nothing is created.
			m, f := newModel(t, sz[0], sz[1], Options{Start: &refCard})
			press(t, m, "b")
			first := m.dialog().focus
			typeText(t, m, "topped up at the ATM")
			run(t, m, ctrlS)
			if cs, _ := f.Cases(context.Background()); len(cs) != 0 {
				t.Fatalf("the typed text made a case: %+v", cs)
			}
			// With a remembered case: the same field has the focus, and the
			// same keys leave the case's name alone.
			seedCases(t, f)
			m, _ = newModel(t, sz[0], sz[1], Options{Start: &refCard})
			m.b = f
			run(t, m, loadCases(context.Background(), f)())
			m.cs.current = caseNamed(t, f, "Almaty cash-out").ID
			press(t, m, "b")
			if m.dialog().focus != first {
				t.Fatalf("first field %d, was %d without a case", m.dialog().focus, first)
			}
			requireContains(t, m, "case", "name", "tags", "‹ Almaty cash-out ›")
			typeText(t, m, "topped up at the ATM")
			run(t, m, ctrlS)
			cs, _ := f.Cases(context.Background())
			if len(cs) != 2 {
				t.Fatalf("cases after the same keys: %+v", cs)
			}
			for _, c := range cs {
				if strings.Contains(c.Name, "topped") {
					t.Fatalf("text went into a case name: %q", c.Name)
				}
			}
			// tab, tab, text: always the tags.
			press(t, m, "b", "tab", "tab")
			typeText(t, m, "mule")
			if d := m.dialog(); d.value(1) != "mule" || d.value(0) != "" {
				t.Fatalf("tab tab typed into name %q tags %q", d.value(0), d.value(1))
			}
			// ↓ reaches "new case", and only then does the name take text.
			press(t, m, "shift+tab", "shift+tab", "down", "down")
			if !m.dialog().pickingNew() {
				o, _ := m.dialog().picked()
				t.Fatalf("picker on %q, want a new case", o.name)
			}
			press(t, m, "tab")
			typeText(t, m, "Taraz")
			run(t, m, ctrlS)
			if c := caseNamed(t, f, "Taraz"); len(c.Bookmarks) != 1 || strings.Join(c.Bookmarks[0].Tags, ",") != "mule" {
				t.Errorf("new case: %+v", c)
			}
		})
	}
}

func TestCasesMoveCopyMergeAndUndo(t *testing.T) {
	for _, sz := range caseSizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, f := newModel(t, sz[0], sz[1], Options{})
			seedCases(t, f)
			press(t, m, "c")
			// Move the card's bookmark from Almaty to Shymkent.
			selectRow(t, m, refLabel(refCard))
			press(t, m, "m")
			requireContains(t, m, "Move "+refLabel(refCard)+" to", "‹ Shymkent exchangers ›")
			run(t, m, ctrlS)
			if want := "moved " + refLabel(refCard) + ` from "Almaty cash-out" to "Shymkent exchangers"`; !strings.Contains(m.status, want) {
				t.Fatalf("status %q, want %q", m.status, want)
			}
			if a, s := caseNamed(t, f, "Almaty cash-out"), caseNamed(t, f, "Shymkent exchangers"); len(a.Bookmarks) != 1 || len(s.Bookmarks) != 3 {
				t.Fatalf("after move: %d and %d bookmarks", len(a.Bookmarks), len(s.Bookmarks))
			}
			// Copy Akhmetov's bookmark: it stays in Almaty too.
			selectRow(t, m, "Ахметов Жанболат Серікұлы")
			press(t, m, "y")
			requireContains(t, m, "[x] copy")
			run(t, m, ctrlS)
			if a, s := caseNamed(t, f, "Almaty cash-out"), caseNamed(t, f, "Shymkent exchangers"); len(a.Bookmarks) != 1 || len(s.Bookmarks) != 4 {
				t.Fatalf("after copy: %d and %d bookmarks", len(a.Bookmarks), len(s.Bookmarks))
			}
			// Merge Almaty into Shymkent, then undo the merge, the copy and
			// the move, each saying what it undid.
			selectRow(t, m, "Almaty cash-out")
			press(t, m, "M")
			requireContains(t, m, `Merge "Almaty cash-out" (1 bookmark) into`)
			run(t, m, ctrlS)
			if cs, _ := f.Cases(context.Background()); len(cs) != 1 || len(cs[0].Bookmarks) != 5 {
				t.Fatalf("after merge: %+v", cs)
			}
			for _, want := range []string{"case.merge", "bookmark.copy", "bookmark.move"} {
				press(t, m, "u")
				if !strings.Contains(m.status, "undid: "+want) {
					t.Fatalf("undo status %q, want it to name %s", m.status, want)
				}
			}
			if a, s := caseNamed(t, f, "Almaty cash-out"), caseNamed(t, f, "Shymkent exchangers"); len(a.Bookmarks) != 2 || len(s.Bookmarks) != 2 {
				t.Errorf("after three undos: %d and %d bookmarks", len(a.Bookmarks), len(s.Bookmarks))
			}
		})
	}
}

func TestCasesDeleteAsksFirst(t *testing.T) {
	for _, sz := range caseSizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, f := newModel(t, sz[0], sz[1], Options{})
			seedCases(t, f)
			press(t, m, "c")
			selectRow(t, m, "Almaty cash-out")
			press(t, m, "d")
			requireContains(t, m, `Delete case "Almaty cash-out" with its 2 bookmarks`)
			press(t, m, "n")
			if cs, _ := f.Cases(context.Background()); len(cs) != 2 || m.dialog() != nil {
				t.Fatalf("n deleted or left the question open: %+v", cs)
			}
			selectRow(t, m, refLabel(refCard))
			press(t, m, "d")
			requireContains(t, m, "Delete the bookmark "+refLabel(refCard)+" and its note")
			press(t, m, "esc")
			selectRow(t, m, "Almaty cash-out")
			press(t, m, "d", "y")
			if cs, _ := f.Cases(context.Background()); len(cs) != 1 {
				t.Fatalf("y did not delete: %+v", cs)
			}
			requireContains(t, m, `deleted case "Almaty cash-out"`)
		})
	}
}

func TestClosedCaseIsReadOnlyOnTheCasesScreen(t *testing.T) {
	for _, sz := range caseSizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, f := newModel(t, sz[0], sz[1], Options{})
			seedCases(t, f)
			a := caseNamed(t, f, "Almaty cash-out")
			f.SetCaseStatus(context.Background(), a.ID, graph.CaseClosed)
			press(t, m, "c")
			for _, k := range []string{"n", "r", "d", "M"} {
				selectRow(t, m, "Almaty cash-out")
				press(t, m, k)
				if m.dialog() != nil || !m.statusErr || !strings.Contains(m.status, `"Almaty cash-out" is closed: read-only`) {
					t.Fatalf("%s on a closed case: dialog %v status %q", k, m.dialog() != nil, m.status)
				}
			}
			selectRow(t, m, refLabel(refCard))
			press(t, m, "m")
			if m.dialog() != nil {
				t.Fatal("m on a bookmark of a closed case opened a dialog")
			}
			// Copying out of it still works; S reopens it.
			press(t, m, "y")
			run(t, m, ctrlS)
			if s := caseNamed(t, f, "Shymkent exchangers"); len(s.Bookmarks) != 3 {
				t.Errorf("copy out of a closed case: %d bookmarks", len(s.Bookmarks))
			}
			if c := caseNamed(t, f, "Almaty cash-out"); len(c.Bookmarks) != 2 {
				t.Errorf("closed case changed: %+v", c)
			}
		})
	}
}

// Enter on a path bookmark opens the Path screen on both ends with the
// bookmarked path and its hops, not the entity at one end.
func TestEnterOnPathBookmarkOpensThePath(t *testing.T) {
	for _, sz := range caseSizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, f := newModel(t, sz[0], sz[1], Options{})
			ctx := context.Background()
			if err := f.Analyze(ctx, func(string, int, int) {}); err != nil {
				t.Fatal(err)
			}
			rows, err := f.Paths(ctx, refAkhmetov, refOmirbekov, pathsK, pathsMaxHops)
			if err != nil || len(rows) < 2 {
				t.Fatalf("paths: %v %d", err, len(rows))
			}
			p := rows[len(rows)-1] // not the first: the screen must select it
			refs := make([]graph.Ref, len(p.Steps))
			for i, s := range p.Steps {
				refs[i] = s.Ref
			}
			c, _ := f.CreateCase(ctx, "Paths")
			f.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.Target{Kind: graph.TargetPath, Refs: refs, Label: "the long way"}})
			press(t, m, "c")
			selectRow(t, m, "the long way")
			_, cmd := m.Update(keyPress("enter"))
			for _, msg := range expand(cmd) {
				run(t, m, msg)
			}
			v := &m.ana.paths
			if !m.pathsOnTop() || v.a != refAkhmetov || v.b != refOmirbekov {
				t.Fatalf("enter opened %s, ends %v → %v", m.screenName(), v.a, v.b)
			}
			sel, ok := v.selected()
			if !ok || !slices.EqualFunc(sel.Steps, refs, func(s PathStep, r graph.Ref) bool { return s.Ref == r }) || !v.hopFocus {
				t.Fatalf("selected path %+v, want %v", sel, refs)
			}
			requireContains(t, m, "Hops of path", "the bookmarked path")
		})
	}
}

// The TUI's export goes under the export folder, never the directory the
// program was started from, and the status line says where.
func TestExportGoesUnderTheExportFolder(t *testing.T) {
	wd, _ := os.Getwd()
	before, _ := os.ReadDir(wd)
	for _, sz := range caseSizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			exports := t.TempDir()
			m, f := newModel(t, sz[0], sz[1], Options{ExportDir: exports})
			seedCases(t, f)
			press(t, m, "c")
			selectRow(t, m, "Almaty cash-out")
			press(t, m, "x")
			requireContains(t, m, "a relative folder goes under")
			name := m.dialog().value(0)
			_, cmd := m.Update(ctrlS)
			for _, msg := range expand(cmd) {
				run(t, m, msg)
			}
			want := filepath.Join(exports, name)
			if len(f.cases.exports) != 1 || f.cases.exports[0].dir != want {
				t.Fatalf("exports %+v, want %s", f.cases.exports, want)
			}
			if !strings.Contains(m.status, "to "+want) {
				t.Errorf("status %q does not say where", m.status)
			}
			// However narrow the window, the status line keeps the end of
			// the folder's name, its time (the path is shortened in the
			// middle); a wide one shows the whole name.
			lines := strings.Split(screenText(m), "\n")
			last, end := lines[len(lines)-1], name[len(name)-15:]
			if sz[0] >= 160 {
				end = "/" + name
			}
			if !strings.Contains(last, end) || !strings.Contains(last, "exported to") {
				t.Errorf("status line %q lacks %s", last, end)
			}
			// Without an export folder a relative name is refused: the
			// dialog stays, with the name, and says why.
			m, f = newModel(t, sz[0], sz[1], Options{})
			seedCases(t, f)
			press(t, m, "c")
			selectRow(t, m, "Almaty cash-out")
			press(t, m, "x", "tab") // the focus on the check box
			name = m.dialog().value(0)
			run(t, m, ctrlS)
			d := m.dialog()
			if len(f.cases.exports) != 0 || d == nil || d.value(0) != name || d.focus != 0 {
				t.Fatalf("relative export without a folder: exports %+v, dialog %+v", f.cases.exports, d)
			}
			requireContains(t, m, "no export folder is configured")
		})
	}
	if after, _ := os.ReadDir(wd); len(after) != len(before) {
		t.Errorf("the export wrote into the working directory")
	}
}

// The case list arriving while the bookmark dialog is open keeps the
// picker where it is, "new case" included.
func TestBookmarkPickerKeepsItsChoiceOnReload(t *testing.T) {
	for _, sz := range caseSizes {
		m, f := newModel(t, sz[0], sz[1], Options{Start: &refCard})
		press(t, m, "b")
		if !m.dialog().pickingNew() {
			t.Fatal("no case yet, but the picker is not on a new case")
		}
		press(t, m, "tab")
		typeText(t, m, "Taraz")
		seedCases(t, f)
		run(t, m, loadCases(context.Background(), f)())
		if d := m.dialog(); !d.pickingNew() || d.value(0) != "Taraz" {
			o, _ := d.picked()
			t.Fatalf("%v: after the reload the picker is on %q, name %q", sz, o.name, d.value(0))
		}
		run(t, m, ctrlS)
		if c := caseNamed(t, f, "Taraz"); len(c.Bookmarks) != 1 {
			t.Errorf("%v: %+v", sz, c)
		}
	}
}

// The cursor stays on its case when a change reorders the list (the
// changed case moves to the top): the next key acts on the same case.
func TestCasesCursorFollowsItsRow(t *testing.T) {
	for _, sz := range caseSizes {
		m, f := newModel(t, sz[0], sz[1], Options{})
		seedCases(t, f)
		press(t, m, "c")
		selectRow(t, m, "Almaty cash-out") // second: Shymkent changed last
		_, cmd := m.Update(keyPress("S"))
		for _, msg := range expand(cmd) {
			run(t, m, msg)
		}
		if c, bm, _ := m.cs.selected(); c.Name != "Almaty cash-out" || bm != -1 {
			t.Fatalf("%v: after S the cursor is on %q (bookmark %d)", sz, c.Name, bm)
		}
		selectRow(t, m, "ТенгеОбмен24")
		_, cmd = m.Update(keyPress("S"))
		for _, msg := range expand(cmd) {
			run(t, m, msg)
		}
		if c, bm, _ := m.cs.selected(); c.Name != "Shymkent exchangers" || bm < 0 || bookmarkTitle(c.Bookmarks[bm]) != "ТенгеОбмен24" {
			t.Fatalf("%v: after S the cursor is on %q (bookmark %d)", sz, c.Name, bm)
		}
	}
}

// The delete question is shown whole, the case's name included, at 80×24.
func TestDeleteQuestionIsShownWhole(t *testing.T) {
	m, f := newModel(t, 80, 24, Options{})
	seedCases(t, f)
	f.RenameCase(context.Background(), caseNamed(t, f, "Shymkent exchangers").ID, "Shymkent OTC desks and couriers")
	press(t, m, "c")
	selectRow(t, m, "ТенгеОбмен24")
	press(t, m, "d")
	s := strings.Join(strings.Fields(strings.ReplaceAll(screenText(m), "│", " ")), " ")
	for _, want := range []string{"Delete the bookmark ТенгеОбмен24", `"Shymkent OTC desks and couriers"?`} {
		if !strings.Contains(s, want) {
			t.Errorf("question lacks %q:\n%s", want, screenText(m))
		}
	}
}

func TestMidTrunc(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"short", 10, "short"},
		// A path keeps its last element whole when it fits.
		{"/home/aigerim/.cache/casegraph/exports/Ring-20261207-115301", 30, "/home/ai…/Ring-20261207-115301"},
		// Else two thirds of the room go to the end.
		{"/a/Almaty-cash-out-20261207-115301", 16, "/a/Al…207-115301"},
	} {
		got := midTrunc(c.in, c.w)
		if got != c.want || ansi.StringWidth(got) > c.w {
			t.Errorf("midTrunc(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
	}
}

// What a case dialog cannot save is refused with the dialog left open, as
// typed, the reason in it and the focus on the field to fix: a move with
// no other case to move to (its copy box as ticked), a rename to nothing.
func TestCaseDialogsRefuseAndStayOpen(t *testing.T) {
	for _, sz := range caseSizes {
		m, f := newModel(t, sz[0], sz[1], Options{})
		ctx := context.Background()
		c, _ := f.CreateCase(ctx, "Almaty cash-out")
		f.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.EntityTarget(refCard, "")})
		press(t, m, "c")
		selectRow(t, m, "Almaty cash-out")
		press(t, m, "down", "y", "tab")
		run(t, m, ctrlS)
		d := m.dialog()
		if d == nil || d.kind != dialogMove || !d.checked || d.focus != 0 {
			t.Fatalf("%v: copy with no other case: dialog %+v", sz, d)
		}
		requireContains(t, m, "no other case to choose")
		press(t, m, "esc")

		selectRow(t, m, "Almaty cash-out")
		press(t, m, "r")
		for range len("Almaty cash-out") {
			press(t, m, "backspace")
		}
		typeText(t, m, "  ")
		run(t, m, ctrlS)
		if d := m.dialog(); d == nil || d.kind != dialogRenameCase || d.focus != 0 {
			t.Fatalf("%v: rename to nothing: dialog %+v", sz, d)
		}
		requireContains(t, m, "name the case")
		typeText(t, m, "Taraz")
		run(t, m, ctrlS)
		if m.dialog() != nil || caseNamed(t, f, "Taraz").ID != c.ID {
			t.Fatalf("%v: renamed: dialog %v, status %q", sz, m.dialog() != nil, m.status)
		}
	}
}
