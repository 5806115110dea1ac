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
	Move, Copy, Merge                                                             key.Binding
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
		Undo:     key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo a change")),
		Move:     key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "move bookmark to a case")),
		Copy:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy bookmark to a case")),
		Merge:    key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "merge case into another")),
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
	keep   string // a part of status to shorten from the middle, not lose (a folder)
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

// openBookmark opens the bookmark dialog on t, titled "Bookmark <title>",
// its case picker on the current case (else on a new case). The focus
// always starts on the picker, whether or not a case is remembered.
func (m *Model) openBookmark(t graph.Target, title string) tea.Cmd {
	cs := &m.cs
	d := newBookmarkDialog(m.st, t, title, cs.current, cs.cases)
	d.setWidth(m.dialogWidth())
	cmd := d.focusField(0)
	m.push(&dialogScreen{m: m, d: d})
	// The case list may be stale or not loaded yet: refresh it for ↑/↓.
	return tea.Batch(cmd, loadCases(m.ctx, m.b))
}

// bookmarkListed opens the bookmark dialog on every entity l lists (the
// filter's matches), as one group whose query says what was listed: what a
// case export (x on the Cases screen) then writes is what was on the list.
// A list that loads its rows as it is scrolled files the rows loaded, and
// the query says so: "… · first 1,000 of 1,203 rows".
func (m *Model) bookmarkListed(what string, l *list.Model, refs func(i int) []graph.Ref) tea.Cmd {
	query := what
	if l.Total() > l.Loaded() {
		query += fmt.Sprintf(" · first %s of %s rows", fmtInt(l.Loaded()), fmtInt(l.Total()))
	}
	if q := l.Query(); q != "" {
		query += fmt.Sprintf(" filtered %q", q)
	}
	return m.bookmarkRows(query, l.Listed(), refs)
}

// bookmarkRows opens the bookmark dialog on the entities of rows, each
// once, as one group with query; its title says how many entities.
func (m *Model) bookmarkRows(query string, rows []int, refs func(i int) []graph.Ref) tea.Cmd {
	var out []graph.Ref
	seen := map[graph.Ref]bool{}
	for _, i := range rows {
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
	n := countOf(len(out), "entity", "entities")
	t := graph.Target{Kind: graph.TargetCluster, Refs: out, Query: query, Label: query + " · " + n}
	return m.openBookmark(t, t.Label)
}

// bookmarkSearch opens the bookmark dialog on the search hits listed: the
// hits loaded so far, the query and the kind filter saying what they are.
func (m *Model) bookmarkSearch() tea.Cmd {
	res := m.search.Result()
	query := fmt.Sprintf("search %q", res.Query)
	if k := m.search.Kind(); k != graph.KindUnknown {
		query += " among " + k.String() + "s"
	}
	if res.Total > len(res.Hits) {
		query += fmt.Sprintf(" · first %s of %s matches", fmtInt(len(res.Hits)), fmtInt(res.Total))
	}
	rows := make([]int, len(res.Hits))
	for i := range rows {
		rows[i] = i
	}
	return m.bookmarkRows(query, rows, func(i int) []graph.Ref { return []graph.Ref{res.Hits[i].Doc.Ref} })
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

// reselect puts the cursor back on the bookmark bmID of case caseID, else
// on that case's row; nothing when the case is gone.
func (cs *casesState) reselect(caseID, bmID string) {
	if caseID == "" {
		return
	}
	caseRowAt := -1
	for i, r := range cs.rows {
		c := cs.cases[r.c]
		if c.ID != caseID {
			continue
		}
		if r.bm < 0 {
			caseRowAt = i
		} else if c.Bookmarks[r.bm].ID == bmID {
			cs.list.Select(i)
			return
		}
	}
	if caseRowAt >= 0 {
		cs.list.Select(caseRowAt)
	}
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
		// The cursor stays on the case or bookmark it was on: the list
		// reorders (most recently changed first) under it.
		selCase, selBM := "", ""
		if c, bm, ok := cs.selected(); ok {
			selCase = c.ID
			if bm >= 0 {
				selBM = c.Bookmarks[bm].ID
			}
		}
		cs.cases = msg.cases
		if _, ok := cs.caseByID(cs.current); !ok && len(cs.cases) > 0 {
			cs.current = cs.cases[0].ID
		}
		if d := m.dialog(); d != nil && d.hasPicker {
			others := cs.cases
			if d.kind != dialogBookmark {
				others = slices.DeleteFunc(slices.Clone(cs.cases), func(c graph.Case) bool { return c.ID == d.caseID })
			}
			d.setCases(others, cs.current)
		}
		cs.rebuild()
		cs.reselect(selCase, selBM)
		return nil, true
	case caseChangedMsg:
		if msg.err != nil {
			m.setStatus(msg.err.Error(), true)
		} else {
			m.setStatus(msg.status, false)
			m.keepInStatus(msg.keep)
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

func casesHelp(g globalKeys, k casesKeys) keyHelp {
	return keyHelp{
		short: []key.Binding{k.Enter, k.List.Filter, k.Rename, k.Tag, k.Note, k.Delete, k.Undo, k.Status, k.Close},
		full: [][]key.Binding{
			append(k.List.Bindings(), k.Enter, k.Close),
			{k.Rename, k.Tag, k.Note, k.Status, k.Delete, k.Undo, k.Export, defaultTimelineKeys().Open},
			{k.Move, k.Copy, k.Merge},
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
		return pane.Box(st, "Cases", countOf(len(cs.cases), "case", "cases"), lines, b.W, b.H, true)
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
				st.Muted.Render("  "+countOf(len(c.Bookmarks), "bookmark", "bookmarks"))
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
	footer := countOf(len(cs.cases), "case", "cases")
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

// countOf says n things: "1 case", "2 cases", "1,203 entities".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmtInt(n) + " " + many
}
