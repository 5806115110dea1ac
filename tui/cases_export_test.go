package tui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
)

// saveInto types a case name into the open bookmark dialog and saves it.
func saveInto(t *testing.T, m *Model, caseName string) {
	t.Helper()
	if m.dialog() == nil || m.dialog().kind != dialogBookmark {
		t.Fatalf("no bookmark dialog open")
	}
	if d := m.dialog(); d.pickingNew() {
		press(t, m, "tab")
		typeText(t, m, caseName)
	} else if o, _ := d.picked(); o.name != caseName {
		t.Fatalf("picker on %q, want %q", o.name, caseName)
	}
	run(t, m, ctrlS)
}

func onlyBookmark(t *testing.T, f *fakeBackend) graph.Bookmark {
	t.Helper()
	cs, _ := f.Cases(context.Background())
	if len(cs) != 1 || len(cs[0].Bookmarks) != 1 {
		t.Fatalf("cases: %+v", cs)
	}
	return cs[0].Bookmarks[0]
}

func TestClustersBookmarkTheCluster(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	press(t, m, "C", "b")
	c := m.ana.clusters.rows[0]
	requireContains(t, m, "Bookmark cluster #1 · "+fmtInt(len(c.Members))+" members", "cluster|")
	saveInto(t, m, "Ring")
	b := onlyBookmark(t, f)
	if b.Target.Kind != graph.TargetCluster || len(b.Target.Refs) != len(c.Members) || b.Target.Refs[0] != c.Members[0].Ref ||
		b.Target.Query != "clusters by turnover #1" || !strings.HasPrefix(b.Target.Label, "cluster #1 · ") {
		t.Fatalf("cluster bookmark: %+v", b)
	}
	if c.TxCount > 0 && !strings.HasSuffix(b.Target.Label, graph.FormatShortMoney(c.Turnover)) {
		t.Errorf("label %q lacks the turnover", b.Target.Label)
	}
	requireContains(t, m, `bookmarked cluster #1`, `(new case)`)
	// With the members pane focused, b bookmarks the member.
	press(t, m, "tab", "down", "b")
	if d := m.dialog(); d == nil || d.target.Kind != graph.TargetEntity || d.target.Refs[0] != c.Members[1].Ref ||
		func() bool { o, _ := d.picked(); return o.name != "Ring" }() {
		t.Fatalf("member dialog: %+v", m.dialog())
	}
}

func TestPathBookmarkThePath(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refAkhmetov})
	press(t, m, "m")
	for _, msg := range expand(m.open(refOmirbekov, false)) {
		run(t, m, msg)
	}
	press(t, m, "m", "b")
	p := m.ana.paths.rows[0]
	requireContains(t, m, "Bookmark path Ахметов Ж. → Өмірбекова Ұ. · 2 hops")
	saveInto(t, m, "Paths")
	b := onlyBookmark(t, f)
	if b.Target.Kind != graph.TargetPath || len(b.Target.Refs) != 3 || b.Target.Refs[0] != refAkhmetov ||
		b.Target.Refs[1] != p.Steps[1].Ref || b.Target.Refs[2] != refOmirbekov ||
		b.Target.Query != "path "+refAkhmetov.String()+" → "+refOmirbekov.String()+" ≤ 4 hops #1" {
		t.Fatalf("path bookmark: %+v", b)
	}
	// On the hops, b bookmarks the hop.
	press(t, m, "tab", "down", "b")
	if d := m.dialog(); d == nil || d.target.Kind != graph.TargetEntity || d.target.Refs[0] != p.Steps[1].Ref {
		t.Fatalf("hop dialog: %+v", m.dialog())
	}
}

func TestTraceBookmarkTheTrace(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{Start: &refCard})
	press(t, m, "t", "d", "down", "b")
	tree := m.ana.trace.tree
	requireContains(t, m, "Bookmark trace backward from 4400 43•• •••• 7894 · ")
	saveInto(t, m, "Traces")
	b := onlyBookmark(t, f)
	if b.Target.Kind != graph.TargetTrace || b.Target.Refs[0] != refCard ||
		b.Target.Query != "trace backward fifo from "+refCard.String()+" ≤ 6 hops" {
		t.Fatalf("trace bookmark: %+v", b)
	}
	seen := map[graph.Ref]bool{}
	for _, n := range tree.Nodes {
		seen[n.Ref] = true
	}
	if len(b.Target.Refs) != len(seen) {
		t.Errorf("trace bookmark has %d refs, the trace %d entities", len(b.Target.Refs), len(seen))
	}
}

func TestBookmarkDialogsShareOneOpener(t *testing.T) {
	// The Flags screen and the entity screen open the same dialog, filled
	// in the same way.
	m, _ := newModel(t, 120, 40, Options{Start: &refAkhmetov})
	press(t, m, "b")
	fromEntity := *m.dialog()
	press(t, m, "esc", "F")
	for i, r := range m.ana.flags.list.Rows {
		if r.Ref == refAkhmetov {
			m.ana.flags.nav.Select(i)
		}
	}
	press(t, m, "b")
	fromFlags := *m.dialog()
	if fromEntity.title != fromFlags.title || fromEntity.target.Key() != fromFlags.target.Key() ||
		fromEntity.target.Label != "Ахметов Жанболат Серікұлы" || fromFlags.target.Label != fromEntity.target.Label {
		t.Errorf("entity dialog %q %+v, flags dialog %q %+v", fromEntity.title, fromEntity.target, fromFlags.title, fromFlags.target)
	}
}

func TestDefaultExportDir(t *testing.T) {
	now := time.Date(2026, 12, 7, 11, 30, 5, 0, time.UTC)
	for in, want := range map[string]string{
		"Almaty cash-out":      "Almaty-cash-out-20261207-113005",
		"AFM/2025: ring \"3\"": "AFM2025-ring-3-20261207-113005",
		"  ":                   "case-20261207-113005",
		"..":                   "case-20261207-113005",
		"Жанболат & Co":        "Жанболат-&-Co-20261207-113005",
	} {
		if got := defaultExportDir(in, now); got != want {
			t.Errorf("defaultExportDir(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCasesExportDialog(t *testing.T) {
	m, f := newModel(t, 120, 40, Options{})
	seedCases(t, f)
	press(t, m, "c", "down", "down", "down", "x") // the Almaty case's second bookmark: x exports its case
	d := m.dialog()
	if d == nil || d.kind != dialogExport || !strings.HasPrefix(d.value(0), "Almaty-cash-out-20") || d.checked {
		t.Fatalf("export dialog: %+v", d)
	}
	requireContains(t, m, "Export case Almaty cash-out", "folder", "[ ] redact")
	// Point it at a temporary folder, tick redact, save.
	dir := filepath.Join(t.TempDir(), "out")
	for range len(d.value(0)) {
		press(t, m, "backspace")
	}
	typeText(t, m, dir)
	press(t, m, "enter") // to the check box
	press(t, m, "space")
	requireContains(t, m, "[x] redact")
	press(t, m, "space", "x")
	if !m.dialog().checked {
		t.Fatal("space, then x did not leave redact ticked")
	}
	_, cmd := m.Update(keyPress("enter"))
	if m.dialog() != nil {
		t.Fatal("enter on the check box did not save")
	}
	requireContains(t, m, "exporting \"Almaty cash-out\" to "+dir)
	for _, msg := range expand(cmd) {
		run(t, m, msg)
	}
	if len(f.cases.exports) != 1 || f.cases.exports[0].dir != dir || !f.cases.exports[0].redact {
		t.Fatalf("exports: %+v", f.cases.exports)
	}
	if !strings.HasPrefix(m.status, "exported to "+dir+" · 13 redacted files") {
		t.Errorf("status %q", m.status)
	}
	if m.statusErr {
		t.Errorf("status is an error: %s", m.status)
	}
	for _, name := range []string{"manifest.json", "case.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}

	// An empty folder is refused: the dialog stays, redact ticked, on
	// the folder, and says why.
	press(t, m, "x")
	for range len(m.dialog().value(0)) {
		press(t, m, "backspace")
	}
	press(t, m, "tab", "space")
	run(t, m, ctrlS)
	if d := m.dialog(); d == nil || !d.checked || d.focus != 0 {
		t.Fatalf("empty folder: dialog %+v", d)
	}
	requireContains(t, m, "name a folder")
	if len(f.cases.exports) != 1 {
		t.Errorf("exports: %+v", f.cases.exports)
	}
	press(t, m, "esc", "esc")
	if onStack[*casesScreen](m) {
		t.Error("esc did not close the Cases screen")
	}
}

func TestCasesHelpListsExport(t *testing.T) {
	m, _ := newModel(t, 160, 50, Options{})
	press(t, m, "c", "?")
	requireContains(t, m, "export case")
	press(t, m, "?")
	m.cs.cases = []graph.Case{{ID: "c-1", Name: "x"}}
	m.cs.rebuild()
	press(t, m, "x")
	requireContains(t, m, "space toggle", "ctrl+s save")
	var descs []string
	for _, col := range dialogHelp(m.dialog()).FullHelp() {
		for _, k := range col {
			descs = append(descs, k.Help().Desc)
		}
	}
	if got := strings.Join(descs, ","); got != "next field,previous field,toggle,save,cancel" {
		t.Errorf("export dialog help: %s", got)
	}
}

func TestExportDialogFits(t *testing.T) {
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {133, 41}} {
		m, f := newModel(t, sz[0], sz[1], Options{})
		seedCases(t, f)
		press(t, m, "c", "x")
		if m.dialog() == nil {
			t.Fatalf("%v: no export dialog", sz)
		}
		lines := strings.Split(screenText(m), "\n")
		if len(lines) != sz[1] {
			t.Errorf("%v: %d lines", sz, len(lines))
		}
		for i, l := range lines {
			if w := len([]rune(l)); w > sz[0] {
				t.Errorf("%v: line %d is %d wide", sz, i, w)
			}
		}
	}
}

// TestBookmarkClusterNoteExportJourney drives the real program: Clusters
// screen → b bookmarks the top cluster into a new case → the Cases screen
// → n adds a note to the case → x exports it into a temporary folder.
func TestBookmarkClusterNoteExportJourney(t *testing.T) {
	f := newFake()
	m := New(f, Options{})
	tm, wait := startJourney(t, m)
	wait("press / to search")
	tm.Type("C")
	wait("Members of group 1")
	tm.Type("b")
	wait("Bookmark cluster #1")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	tm.Type("Almaty ring")
	tm.Send(ctrlS)
	wait("(new case)")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Type("c")
	wait("1 bookmark")
	tm.Type("n")
	wait("Notes of Almaty ring")
	tm.Type("organiser cashes out via EX-0001")
	tm.Send(ctrlS)
	wait("case notes saved")
	tm.Type("x")
	wait("Export case Almaty ring")
	dir := filepath.Join(t.TempDir(), "export")
	tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}) // clear the suggested folder
	tm.Type(dir)
	tm.Send(ctrlS)
	// The status line is redrawn in place over "exporting …": wait for a
	// part that differs from it, then check the whole line on the model.
	wait("13 files")
	fm := endJourney(t, tm)
	if !strings.HasPrefix(fm.status, "exported to "+dir+" · 13 files") || fm.statusErr {
		t.Errorf("final status %q", fm.status)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c graph.Case
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if c.Name != "Almaty ring" || c.Notes != "organiser cashes out via EX-0001" || len(c.Bookmarks) != 1 {
		t.Fatalf("case.json: %+v", c)
	}
	b := c.Bookmarks[0]
	if b.Target.Kind != graph.TargetCluster || !strings.HasPrefix(b.Target.Label, "cluster #1 · ") || len(b.Target.Refs) < 2 {
		t.Errorf("cluster bookmark in case.json: %+v", b)
	}
}
