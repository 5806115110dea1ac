package tui

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/sahilm/fuzzy"

	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui/list"
	"casegraph/tui/pane"
	"casegraph/tui/theme"
)

// The Cases screen lists cases and their bookmarks with a fuzzy filter and
// exports a case (x), and the bookmark dialog (b on the entity screen, and
// on the Flags, Clusters, Path and Trace screens) files an entity, cluster,
// path or trace into a case. Both talk to the store only through Backend's
// CaseStore.

// casesState is the root model's state for cases: the loaded cases (the
// bookmark dialog needs them too) and the Cases screen's list.
type casesState struct {
	cases   []graph.Case
	loaded  bool
	err     error
	current string // id of the case new bookmarks go to by default

	rows []caseRow  // every case and bookmark, in list order
	list list.Model // over rows; its filter keeps a case with its matches

	keys casesKeys
}

// caseRow is one line of the list: a case, or one of its bookmarks.
type caseRow struct {
	c  int // index into cases
	bm int // index into the case's bookmarks, or -1 for the case itself
}

type casesKeys struct {
	List                                                                          list.KeyMap
	Open, Bookmark, Enter, Rename, Tag, Note, Delete, Undo, Status, Export, Close key.Binding
}

func defaultCasesKeys() casesKeys {
	return casesKeys{
		Open:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cases")),
		Bookmark: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "bookmark")),
		List:     list.DefaultKeys(),
		Enter:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open / make current")),
		Rename:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rename case")),
		Tag:      key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "re-tag")),
		Note:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "edit note")),
		Delete:   key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete")),
		Undo:     key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo last change")),
		Status:   key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "next status")),
		Export:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "export case")),
		Close:    key.NewBinding(key.WithKeys("esc", "c"), key.WithHelp("esc", "close")),
	}
}

func newCasesState(st theme.Styles) casesState {
	cs := casesState{keys: defaultCasesKeys(), list: list.New(st)}
	cs.list.Hint = st.Muted.Render("/ filter · enter opens · x exports the case · b on an entity bookmarks it")
	return cs
}

// setSize gives the list the body's rows.
func (cs *casesState) setSize(l layout) {
	cs.list.SetHeight(pane.ContentHeight(l.Body.H))
	cs.list.SetWidth(pane.ContentWidth(l.Body.W))
}

type casesLoadedMsg struct {
	cases []graph.Case
	err   error
}

// caseChangedMsg reports a finished case change; the list reloads after it.
type caseChangedMsg struct {
	status string
	caseID string // the case to make current, if any
	err    error
}

func loadCases(ctx context.Context, b Backend) tea.Cmd {
	return func() tea.Msg {
		cs, err := b.Cases(ctx)
		if err != nil {
			err = fmt.Errorf("load cases: %w", err)
		}
		return casesLoadedMsg{cases: cs, err: err}
	}
}

// changeCase runs one case change in a command.
func changeCase(fn func() (status, caseID string, err error)) tea.Cmd {
	return func() tea.Msg {
		s, id, err := fn()
		return caseChangedMsg{status: s, caseID: id, err: err}
	}
}

// saveBookmark files target into the case named name, creating the case
// when no case has that name.
func saveBookmark(ctx context.Context, b Backend, cases []graph.Case, name string, bm graph.Bookmark) tea.Cmd {
	return changeCase(func() (string, string, error) {
		name = strings.Join(strings.Fields(name), " ")
		if name == "" {
			return "", "", fmt.Errorf("bookmark: choose or name a case")
		}
		id := ""
		for _, c := range cases {
			if strings.EqualFold(c.Name, name) {
				id = c.ID
			}
		}
		created := ""
		if id == "" {
			c, err := b.CreateCase(ctx, name)
			if err != nil {
				return "", "", err
			}
			id, created = c.ID, " (new case)"
		}
		out, err := b.AddBookmark(ctx, id, bm)
		if err != nil {
			return "", "", err
		}
		return fmt.Sprintf("bookmarked %s in %q%s", out.Target.Title(), name, created), id, nil
	})
}

// exportCase writes a case's files in a command; the status bar shows
// what was written.
func exportCase(ctx context.Context, b Backend, caseID, name, dir string, redact bool) tea.Cmd {
	return changeCase(func() (string, string, error) {
		dir = strings.TrimSpace(dir)
		if dir == "" {
			return "", "", fmt.Errorf("export %q: name a folder", name)
		}
		res, err := b.ExportCase(ctx, caseID, dir, redact)
		if err != nil {
			return "", "", fmt.Errorf("export %q: %w", name, err)
		}
		what := "files"
		if redact {
			what = "redacted files"
		}
		s := fmt.Sprintf("exported %d %s to %s · %d entities, %d transactions", res.Files, what, res.Dir, res.Entities, res.Transactions)
		if res.Flags > 0 {
			s += fmt.Sprintf(", %d red flags", res.Flags)
		}
		return s, "", nil
	})
}

// openBookmark opens the bookmark dialog on t, titled "Bookmark <title>",
// with the current case filled in (focus then starts on the tags).
func (m *Model) openBookmark(t graph.Target, title string) tea.Cmd {
	cs := &m.cs
	names := make([]string, len(cs.cases))
	for i, c := range cs.cases {
		names[i] = c.Name
	}
	currentName := ""
	if c, ok := cs.caseByID(cs.current); ok {
		currentName = c.Name
	}
	d := newBookmarkDialog(m.st, t, title, currentName, names)
	d.setWidth(m.dialogWidth())
	focus := 0
	if currentName != "" {
		focus = 1
	}
	cmd := d.focusField(focus)
	m.push(&dialogScreen{m: m, d: d})
	// The case list may be stale or not loaded yet: refresh it for ↑/↓.
	return tea.Batch(cmd, loadCases(m.ctx, m.b))
}

// bookmarkListed opens the bookmark dialog on every entity l lists (the
// filter's matches), as one group whose query says what was listed: what a
// case export (x on the Cases screen) then writes is what was on the list.
func (m *Model) bookmarkListed(what string, l *list.Model, refs func(i int) []graph.Ref) tea.Cmd {
	var out []graph.Ref
	seen := map[graph.Ref]bool{}
	for _, i := range l.Listed() {
		for _, r := range refs(i) {
			if !seen[r] && !r.IsZero() {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 {
		m.setStatus("nothing listed to bookmark", false)
		return nil
	}
	query := what
	if q := l.Query(); q != "" {
		query += fmt.Sprintf(" filtered %q", q)
	}
	t := graph.Target{Kind: graph.TargetCluster, Refs: out, Query: query, Label: fmt.Sprintf("%s · %d entities", query, len(out))}
	return m.openBookmark(t, t.Label)
}

// bookmarkRef opens the bookmark dialog on one entity, labelled with its
// name when it has one.
func (m *Model) bookmarkRef(ref graph.Ref) tea.Cmd {
	label := ""
	if t := m.titleOf(ref); t != refLabel(ref) {
		label = t
	}
	return m.openBookmark(graph.EntityTarget(ref, label), m.titleOf(ref))
}

// caseByID returns the loaded case with id.
func (cs *casesState) caseByID(id string) (graph.Case, bool) {
	i := slices.IndexFunc(cs.cases, func(c graph.Case) bool { return c.ID == id })
	if i < 0 {
		return graph.Case{}, false
	}
	return cs.cases[i], true
}

// rowText is what the fuzzy filter matches for a row.
func (cs *casesState) rowText(c graph.Case, bm int) string {
	if bm < 0 {
		return c.Name + " " + string(c.Status) + " " + strings.Join(c.Tags, " ") + " " + c.Notes
	}
	b := c.Bookmarks[bm]
	refs := make([]string, len(b.Target.Refs))
	for i, r := range b.Target.Refs {
		refs[i] = r.String()
	}
	return b.Target.Title() + " " + strings.Join(refs, " ") + " " + strings.Join(b.Tags, " ") + " " + b.Note
}

type rowSource []string

func (s rowSource) String(i int) string { return s[i] }
func (s rowSource) Len() int            { return len(s) }

// rebuild lists every case and its bookmarks and hands them to the list.
func (cs *casesState) rebuild() {
	cs.rows = cs.rows[:0]
	for ci, c := range cs.cases {
		cs.rows = append(cs.rows, caseRow{c: ci, bm: -1})
		for bi := range c.Bookmarks {
			cs.rows = append(cs.rows, caseRow{c: ci, bm: bi})
		}
	}
	cs.list.SetMatcher(cs.match)
	cs.list.SetRows(len(cs.rows), func(i int) string {
		r := cs.rows[i]
		return cs.rowText(cs.cases[r.c], r.bm)
	})
}

// match is the Cases filter, fuzzy over names, tags and notes: a case
// shows when it or one of its bookmarks matches; its bookmarks show when
// the case itself matches or they do.
func (cs *casesState) match(q string, n int) []int {
	out := []int{}
	q = strings.ToLower(q)
	for start := 0; start < n; {
		end := start + 1
		for end < n && cs.rows[end].bm >= 0 {
			end++
		}
		texts := make(rowSource, 0, end-start)
		for _, r := range cs.rows[start:end] {
			texts = append(texts, strings.ToLower(cs.rowText(cs.cases[r.c], r.bm)))
		}
		hit := make([]bool, len(texts))
		for _, mt := range fuzzy.FindFromNoSort(q, texts) {
			hit[mt.Index] = true
		}
		if slices.Contains(hit, true) {
			out = append(out, start)
			for i := 1; i < len(hit); i++ {
				if hit[0] || hit[i] {
					out = append(out, start+i)
				}
			}
		}
		start = end
	}
	return out
}

// selected returns the case and bookmark index (-1 for the case row) under
// the cursor.
func (cs *casesState) selected() (graph.Case, int, bool) {
	i, ok := cs.list.Index()
	if !ok || i >= len(cs.rows) {
		return graph.Case{}, -1, false
	}
	r := cs.rows[i]
	return cs.cases[r.c], r.bm, true
}

// updateCases handles the cases messages; ok reports whether msg was one.
func (m *Model) updateCases(msg tea.Msg) (tea.Cmd, bool) {
	cs := &m.cs
	switch msg := msg.(type) {
	case casesLoadedMsg:
		cs.loaded, cs.err = true, msg.err
		if msg.err != nil {
			m.setStatus(msg.err.Error(), true)
			return nil, true
		}
		cs.cases = msg.cases
		if _, ok := cs.caseByID(cs.current); !ok && len(cs.cases) > 0 {
			cs.current = cs.cases[0].ID
		}
		if d := m.dialog(); d != nil && d.kind == dialogBookmark {
			d.cases = d.cases[:0]
			for _, c := range cs.cases {
				d.cases = append(d.cases, c.Name)
			}
		}
		cs.rebuild()
		return nil, true
	case caseChangedMsg:
		if msg.err != nil {
			m.setStatus(msg.err.Error(), true)
		} else {
			m.setStatus(msg.status, false)
			if msg.caseID != "" {
				cs.current = msg.caseID
			}
		}
		return loadCases(m.ctx, m.b), true
	}
	if msg, ok := msg.(noteEditedMsg); ok {
		if msg.err != nil {
			m.setStatus("editor: "+msg.err.Error(), true)
		} else if d := m.dialog(); d != nil && d.hasNote {
			d.note.SetValue(msg.text)
			m.setStatus("note taken from the editor", false)
		}
		return nil, true
	}
	return nil, false
}

// openCases shows the Cases screen and reloads the cases.
func (m *Model) openCases() tea.Cmd {
	m.push(&casesScreen{m: m})
	return loadCases(m.ctx, m.b)
}

// casesScreen lists the cases and their bookmarks; it takes every key.
type casesScreen struct{ m *Model }

func (s *casesScreen) isLayer()                  {}
func (s *casesScreen) Title() string             { return "cases" }
func (s *casesScreen) SetSize(w, h int)          { s.m.cs.setSize(s.m.lay) }
func (s *casesScreen) View() []string            { return s.m.renderCases() }
func (s *casesScreen) ShortHelp() []key.Binding  { return casesHelp(s.m.keys, s.m.cs.keys).ShortHelp() }
func (s *casesScreen) FullHelp() [][]key.Binding { return casesHelp(s.m.keys, s.m.cs.keys).FullHelp() }

func (s *casesScreen) Update(msg tea.Msg) tea.Cmd {
	if cmd, ok := s.m.cs.list.Update(msg); ok {
		return cmd
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		return s.m.casesScreenKey(k)
	}
	return nil
}

func (m *Model) dialogWidth() int { return min(72, max(30, m.w-6)) }

// saveDialog turns a saved dialog into the backend call it stands for.
func (m *Model) saveDialog(d caseDialog) tea.Cmd {
	ctx, b := m.ctx, m.b
	switch d.kind {
	case dialogBookmark:
		bm := graph.Bookmark{Target: d.target, Tags: splitTags(d.value(1)), Note: d.noteValue()}
		return saveBookmark(ctx, b, slices.Clone(m.cs.cases), d.value(0), bm)
	case dialogRenameCase, dialogTagCase, dialogNoteCase, dialogTagBookmark, dialogNoteBookmark:
		ctx = graph.WithSeen(ctx, d.seen)
	}
	switch d.kind {
	case dialogRenameCase:
		id, name := d.caseID, d.value(0)
		return changeCase(func() (string, string, error) {
			c, err := b.RenameCase(ctx, id, name)
			return fmt.Sprintf("renamed to %q", c.Name), "", err
		})
	case dialogTagCase:
		id, tags := d.caseID, splitTags(d.value(0))
		return changeCase(func() (string, string, error) {
			_, err := b.SetCaseTags(ctx, id, tags)
			return "case tags saved", "", err
		})
	case dialogNoteCase:
		id, note := d.caseID, d.noteValue()
		return changeCase(func() (string, string, error) {
			_, err := b.SetCaseNotes(ctx, id, note)
			return "case notes saved", "", err
		})
	case dialogExport:
		c, ok := m.cs.caseByID(d.caseID)
		if !ok {
			return nil
		}
		dir, redact := d.value(0), d.checked
		m.setStatus(fmt.Sprintf("exporting %q to %s…", c.Name, dir), false)
		return exportCase(ctx, b, c.ID, c.Name, dir, redact)
	case dialogVerdictNote:
		return m.judgeWithNote(d.verdictRef, d.verdict, d.noteValue())
	case dialogTagBookmark, dialogNoteBookmark:
		c, ok := m.cs.caseByID(d.caseID)
		if !ok {
			return nil
		}
		bp, ok := c.Bookmark(d.bmID)
		if !ok {
			return nil
		}
		tags, note := bp.Tags, bp.Note
		if d.kind == dialogTagBookmark {
			tags = splitTags(d.value(0))
		} else {
			note = d.noteValue()
		}
		id, bmID := d.caseID, d.bmID
		return changeCase(func() (string, string, error) {
			out, err := b.UpdateBookmark(ctx, id, bmID, tags, note)
			return "saved " + out.Target.Title(), "", err
		})
	}
	return nil
}

func (m *Model) casesScreenKey(msg tea.KeyPressMsg) tea.Cmd {
	cs := &m.cs
	k := cs.keys
	c, bm, ok := cs.selected()
	ctx, b := m.ctx, m.b
	edit := func(kind dialogKind, title, label, value string, multiline bool) tea.Cmd {
		d := newFieldDialog(m.st, kind, title, label, value, multiline)
		d.caseID, d.seen = c.ID, value
		if bm >= 0 {
			d.bmID, d.seen = c.Bookmarks[bm].ID, graph.SeenBookmark(c.Bookmarks[bm])
		}
		return m.openDialog(d, 0)
	}
	switch {
	case key.Matches(msg, m.keys.Quit) && msg.String() == "q":
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.openHelp()
	case key.Matches(msg, k.Close):
		m.pop()
	case key.Matches(msg, k.Undo):
		return changeCase(func() (string, string, error) {
			s, err := b.UndoLast(ctx)
			return s, "", err
		})
	case !ok:
		return nil
	case key.Matches(msg, m.tkeys.Open):
		return m.openTimeline(caseTimeline(c, bm))
	case key.Matches(msg, k.Enter):
		if bm < 0 {
			id := c.ID
			return changeCase(func() (string, string, error) {
				vc, err := b.ViewCase(ctx, id)
				return fmt.Sprintf("current case: %q · %d bookmarks", vc.Name, len(vc.Bookmarks)), vc.ID, err
			})
		}
		cs.current = c.ID
		return m.open(c.Bookmarks[bm].Target.Refs[0], false)
	case key.Matches(msg, k.Rename):
		return edit(dialogRenameCase, "Rename case", "name", c.Name, false)
	case key.Matches(msg, k.Tag) && bm < 0:
		return edit(dialogTagCase, "Tags of "+c.Name, "tags", strings.Join(c.Tags, " "), false)
	case key.Matches(msg, k.Tag):
		return edit(dialogTagBookmark, "Tags of "+c.Bookmarks[bm].Target.Title(), "tags", strings.Join(c.Bookmarks[bm].Tags, " "), false)
	case key.Matches(msg, k.Note) && bm < 0:
		return edit(dialogNoteCase, "Notes of "+c.Name, "", c.Notes, true)
	case key.Matches(msg, k.Note):
		return edit(dialogNoteBookmark, "Note on "+c.Bookmarks[bm].Target.Title(), "", c.Bookmarks[bm].Note, true)
	case key.Matches(msg, k.Export):
		return m.openDialog(newExportDialog(m.st, c), 0)
	case key.Matches(msg, k.Status):
		next := graph.CaseStatuses[(slices.Index(graph.CaseStatuses, c.Status)+1)%len(graph.CaseStatuses)]
		id := c.ID
		ctx := graph.WithSeen(ctx, string(c.Status))
		return changeCase(func() (string, string, error) {
			vc, err := b.SetCaseStatus(ctx, id, next)
			return fmt.Sprintf("%q is %s", vc.Name, vc.Status), "", err
		})
	case key.Matches(msg, k.Delete) && bm < 0:
		id, name := c.ID, c.Name
		return changeCase(func() (string, string, error) {
			return fmt.Sprintf("deleted case %q · u undoes", name), "", b.DeleteCase(ctx, id)
		})
	case key.Matches(msg, k.Delete):
		id, bmID, title := c.ID, c.Bookmarks[bm].ID, c.Bookmarks[bm].Target.Title()
		return changeCase(func() (string, string, error) {
			return fmt.Sprintf("deleted bookmark %s · u undoes", title), "", b.DeleteBookmark(ctx, id, bmID)
		})
	}
	return nil
}

func casesHelp(g globalKeys, k casesKeys) keyHelp {
	return keyHelp{
		short: []key.Binding{k.Enter, k.List.Filter, k.Rename, k.Tag, k.Note, k.Delete, k.Undo, k.Status, k.Close},
		full: [][]key.Binding{
			append(k.List.Bindings(), k.Enter, k.Close),
			{k.Rename, k.Tag, k.Note, k.Status, k.Delete, k.Undo, k.Export, defaultTimelineKeys().Open},
			{g.Help, g.Quit, g.ForceQuit},
		},
	}
}

// withCaseKeys adds the cases keys (c, and b where an entity is on screen)
// to a screen's full help.
func withCaseKeys(h keyHelp, k casesKeys, bookmark bool) keyHelp {
	col := []key.Binding{k.Open}
	if bookmark {
		col = append(col, k.Bookmark)
	}
	h.full = append(slices.Clone(h.full), col)
	return h
}

func dialogHelp(d *caseDialog) keyHelp {
	k := d.keys
	col := []key.Binding{k.Next, k.Prev}
	switch {
	case d.kind == dialogBookmark:
		col = append(col, k.Pick, k.Editor)
	case d.hasNote:
		col = append(col, k.Editor)
	}
	if d.hasCheck {
		col = append(col, k.Toggle)
	}
	return keyHelp{short: []key.Binding{k.Next, k.Save, k.Cancel}, full: [][]key.Binding{append(col, k.Save, k.Cancel)}}
}

// renderCases draws the Cases screen: the filter line, then cases and their
// bookmarks, with the selected row highlighted.
func (m *Model) renderCases() []string {
	st, cs, b := m.st, &m.cs, m.lay.Body
	cw := pane.ContentWidth(b.W)
	var lines []string
	notice := func(s ...string) { lines = append(append(lines, cs.list.FilterView()), s...) }
	switch {
	case !cs.loaded:
		notice(st.Muted.Render("loading cases…"))
	case cs.err != nil:
		notice(st.Err.Render(cs.err.Error()))
	case len(cs.cases) == 0:
		notice("", st.Muted.Render("No cases yet. Open an entity and press b to bookmark it into a new case."))
	case cs.list.Len() == 0:
		notice("", st.Muted.Render("nothing matches the filter"))
	}
	if lines != nil {
		return pane.Box(st, "Cases", fmt.Sprintf("%d cases", len(cs.cases)), lines, b.W, b.H, true)
	}
	lines = cs.list.Lines(func(i int, selected bool) string {
		r := cs.rows[i]
		c := cs.cases[r.c]
		var line string
		if r.bm < 0 {
			mark := "  "
			if c.ID == cs.current {
				mark = st.Accent.Render("● ")
			}
			line = mark + st.Bold.Render(safetext.Line(c.Name)) + "  " + statusStyle(m, c.Status).Render("["+string(c.Status)+"]") +
				st.Muted.Render(fmt.Sprintf("  %d bookmarks", len(c.Bookmarks)))
			if len(c.Tags) > 0 {
				line += "  " + st.Accent.Render("#"+safetext.Line(strings.Join(c.Tags, " #")))
			}
			if c.Notes != "" {
				line += st.Muted.Render("  · " + firstLine(c.Notes))
			}
		} else {
			bm := c.Bookmarks[r.bm]
			kind := string(bm.Target.Kind)
			if bm.Target.Kind == graph.TargetEntity {
				kind = bm.Target.Refs[0].Kind.String()
			}
			line = "      " + st.Kind(bm.Target.Refs[0].Kind).Render(padRight(kind, 9)) + st.Text.Render(bookmarkTitle(bm))
			if len(bm.Tags) > 0 {
				line += "  " + st.Accent.Render("#"+strings.Join(bm.Tags, " #"))
			}
			if bm.Note != "" {
				n := firstLine(bm.Note)
				if lc := strings.Count(strings.TrimRight(bm.Note, "\n"), "\n"); lc > 0 {
					n += fmt.Sprintf(" (+%d lines)", lc)
				}
				line += st.Muted.Render("  · " + n)
			}
		}
		line = ansi.Truncate(line, cw, "…")
		if selected {
			line = st.Selected.Render(pane.Fit(ansi.Strip(line), cw))
		}
		return line
	})
	footer := fmt.Sprintf("%d cases", len(cs.cases))
	if q := cs.list.Query(); q != "" {
		footer = fmt.Sprintf("%d rows match %q", cs.list.Len(), q)
	}
	return pane.Box(st, "Cases", footer, lines, b.W, b.H, true)
}

// bookmarkTitle names a bookmark in the list, card numbers masked.
func bookmarkTitle(b graph.Bookmark) string {
	if b.Target.Label != "" {
		return safetext.Line(b.Target.Label)
	}
	if len(b.Target.Refs) == 1 {
		return refLabel(b.Target.Refs[0])
	}
	return b.Target.Title()
}

func statusStyle(m *Model, s graph.CaseStatus) lipgloss.Style {
	switch s {
	case graph.CaseReferred:
		return m.st.Warn
	case graph.CaseClosed:
		return m.st.Muted
	}
	return m.st.OK
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// noteEditedMsg carries the note back from $EDITOR.
type noteEditedMsg struct {
	text string
	err  error
}

// editNote writes the note to a temporary file, suspends the TUI to run
// $VISUAL or $EDITOR (else vi) on it and reads it back.
func editNote(text string) tea.Cmd {
	return func() tea.Msg {
		f, err := os.CreateTemp("", "casegraph-note-*.txt")
		if err != nil {
			return noteEditedMsg{err: fmt.Errorf("note file: %w", err)}
		}
		path := f.Name()
		_, werr := f.WriteString(text)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(path)
			return noteEditedMsg{err: fmt.Errorf("write note file: %w", werr)}
		}
		editor := cmp.Or(os.Getenv("VISUAL"), os.Getenv("EDITOR"), "vi")
		args := strings.Fields(editor)
		c := exec.Command(args[0], append(args[1:], path)...)
		return tea.ExecProcess(c, func(err error) tea.Msg {
			defer os.Remove(path)
			if err != nil {
				return noteEditedMsg{err: fmt.Errorf("run %s: %w", editor, err)}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return noteEditedMsg{err: fmt.Errorf("read note file: %w", err)}
			}
			return noteEditedMsg{text: strings.TrimRight(string(b), "\n")}
		})()
	}
}
