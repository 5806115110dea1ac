package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/tui/theme"
)

// caseDialog is the small form used to bookmark an entity, cluster, path or
// trace, to rename, re-tag and re-note cases and bookmarks, and to export a
// case. Its fields are single-line inputs, at most one multi-line note
// (bubbles textarea) and at most one check box. It receives every key while
// open and reports through the action value of update.
type caseDialog struct {
	kind   dialogKind
	title  string
	target graph.Target // bookmark dialogs: what is bookmarked
	caseID string       // edit dialogs: the case edited
	bmID   string       // edit dialogs: the bookmark edited, if any
	// edit dialogs: the field as it was when the dialog opened
	// (graph.WithSeen), so a change someone made since is not overwritten.
	seen string
	// dialogVerdictNote: the entity and its verdict.
	verdictRef graph.Ref
	verdict    graph.VerdictKind

	labels  []string
	inputs  []textinput.Model // single-line fields
	note    textarea.Model    // the multi-line field, when hasNote
	hasNote bool
	// The check box, after the inputs and the note: space toggles it.
	hasCheck   bool
	checkLabel string
	checked    bool
	focus      int // index into inputs, then the note, then the check box

	cases []string // case names to cycle through with ↑/↓ in a case field
	pick  int

	keys dialogKeys
	w    int
}

type dialogKind int

const (
	dialogBookmark     dialogKind = iota // case name, tags, note
	dialogRenameCase                     // name
	dialogTagCase                        // tags
	dialogTagBookmark                    // tags
	dialogNoteCase                       // note
	dialogNoteBookmark                   // note
	dialogExport                         // folder, redact check box
	dialogVerdictNote                    // note on an analyst's verdict (verdict.go)
)

type dialogKeys struct {
	Next, Prev, Save, Cancel, Pick, Editor, Toggle key.Binding
}

func defaultDialogKeys() dialogKeys {
	return dialogKeys{
		Next:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		Save:   key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "save")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Pick:   key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "pick case")),
		Editor: key.NewBinding(key.WithKeys("ctrl+e"), key.WithHelp("ctrl+e", "$EDITOR")),
		Toggle: key.NewBinding(key.WithKeys("space", "x"), key.WithHelp("space", "toggle")),
	}
}

// dialogAction is what a key did to the dialog.
type dialogAction int

const (
	dialogNone dialogAction = iota
	dialogSaved
	dialogCancelled
	dialogEditor // edit the note in $EDITOR
)

func newInput(st theme.Styles, value, placeholder string) textinput.Model {
	in := textinput.New()
	in.Prompt = ""
	in.Placeholder = placeholder
	in.SetStyles(st.Input())
	in.SetValue(value)
	in.CursorEnd()
	return in
}

func newNote(st theme.Styles, value string) textarea.Model {
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.Prompt = "│ "
	ta.Placeholder = "note: several lines are fine; enter starts a new line"
	ta.CharLimit = 0
	ta.MaxHeight = 0
	s := textarea.DefaultStyles(st.IsDark)
	s.Cursor.Blink = false
	s.Cursor.Color = st.Cursor.GetForeground()
	s.Focused.Text = st.Text
	s.Focused.Placeholder = st.Muted
	s.Blurred.Placeholder = st.Muted
	s.Focused.CursorLine = st.Text
	ta.SetStyles(s)
	ta.SetValue(value)
	ta.SetHeight(5)
	return ta
}

// newBookmarkDialog asks for the case (prefilled with current, ↑/↓ cycles
// through cases, a new name creates one), tags and a note.
func newBookmarkDialog(st theme.Styles, t graph.Target, title, current string, cases []string) caseDialog {
	d := caseDialog{kind: dialogBookmark, title: "Bookmark " + title, target: t, cases: cases, keys: defaultDialogKeys(), hasNote: true}
	d.labels = []string{"case", "tags"}
	d.inputs = []textinput.Model{newInput(st, current, "case name (new or existing)"), newInput(st, "", "tags, separated by spaces or commas")}
	d.note = newNote(st, "")
	for i, c := range cases {
		if c == current {
			d.pick = i
		}
	}
	return d
}

// newExportDialog asks where to write a case's files and whether to redact
// them.
func newExportDialog(st theme.Styles, c graph.Case) caseDialog {
	d := caseDialog{kind: dialogExport, title: "Export case " + c.Name, caseID: c.ID, keys: defaultDialogKeys(),
		hasCheck: true, checkLabel: "redact PANs, IINs and phone numbers"}
	d.labels = []string{"folder"}
	d.inputs = []textinput.Model{newInput(st, defaultExportDir(c.Name), "folder to write the case file into")}
	return d
}

// defaultExportDir is ./casegraph-export-<case name>, the name made safe
// for a folder: spaces become dashes, path and shell-hostile characters go.
func defaultExportDir(name string) string {
	clean := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|'`+"`$", r) {
			return -1
		}
		return r
	}, name)
	slug := strings.Join(strings.Fields(clean), "-")
	if slug == "" {
		slug = "case"
	}
	return "./casegraph-export-" + slug
}

// newFieldDialog edits one value: a single line, or a note when multiline.
func newFieldDialog(st theme.Styles, kind dialogKind, title, label, value string, multiline bool) caseDialog {
	d := caseDialog{kind: kind, title: title, keys: defaultDialogKeys()}
	if multiline {
		d.hasNote = true
		d.note = newNote(st, value)
		return d
	}
	d.labels = []string{label}
	d.inputs = []textinput.Model{newInput(st, value, "")}
	return d
}

// fields is how many focusable fields the dialog has.
func (d caseDialog) fields() int {
	n := len(d.inputs)
	if d.hasNote {
		n++
	}
	if d.hasCheck {
		n++
	}
	return n
}

// onNote and onCheck report where the focus is.
func (d caseDialog) onNote() bool  { return d.hasNote && d.focus == len(d.inputs) }
func (d caseDialog) onCheck() bool { return d.hasCheck && d.focus == d.fields()-1 }

func (d *caseDialog) setWidth(w int) {
	d.w = w
	for i := range d.inputs {
		d.inputs[i].SetWidth(max(4, w-12))
	}
	if d.hasNote {
		d.note.SetWidth(max(4, w-4))
	}
}

// focusField moves the focus and returns the focus command of the field.
func (d *caseDialog) focusField(i int) tea.Cmd {
	n := d.fields()
	d.focus = ((i % n) + n) % n
	for j := range d.inputs {
		d.inputs[j].Blur()
	}
	d.note.Blur()
	switch {
	case d.focus < len(d.inputs):
		return d.inputs[d.focus].Focus()
	case d.onNote():
		return d.note.Focus()
	}
	return nil
}

func (d caseDialog) value(i int) string { return strings.TrimSpace(d.inputs[i].Value()) }

func (d caseDialog) noteValue() string { return strings.TrimRight(d.note.Value(), "\n ") }

// splitTags splits "mule, organiser kz" into tags.
func splitTags(s string) []string {
	return graph.NormalizeTags(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }))
}

func (d caseDialog) update(msg tea.Msg) (caseDialog, tea.Cmd, dialogAction) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, d.keys.Cancel):
			return d, nil, dialogCancelled
		case key.Matches(k, d.keys.Save):
			return d, nil, dialogSaved
		case key.Matches(k, d.keys.Editor) && d.hasNote:
			return d, nil, dialogEditor
		case key.Matches(k, d.keys.Next):
			return d, d.focusField(d.focus + 1), dialogNone
		case key.Matches(k, d.keys.Prev):
			return d, d.focusField(d.focus - 1), dialogNone
		case d.onCheck() && key.Matches(k, d.keys.Toggle):
			d.checked = !d.checked
			return d, nil, dialogNone
		case d.onCheck() && k.String() == "enter":
			return d, nil, dialogSaved
		case k.String() == "enter" && d.focus < len(d.inputs):
			// Enter in a single-line field moves on; in the last field it saves.
			if d.focus == d.fields()-1 {
				return d, nil, dialogSaved
			}
			return d, d.focusField(d.focus + 1), dialogNone
		case key.Matches(k, d.keys.Pick) && d.kind == dialogBookmark && d.focus == 0 && len(d.cases) > 0:
			if k.String() == "up" {
				d.pick = (d.pick + len(d.cases) - 1) % len(d.cases)
			} else {
				d.pick = (d.pick + 1) % len(d.cases)
			}
			d.inputs[0].SetValue(d.cases[d.pick])
			d.inputs[0].CursorEnd()
			return d, nil, dialogNone
		}
	}
	var cmd tea.Cmd
	switch {
	case d.focus < len(d.inputs):
		d.inputs[d.focus], cmd = d.inputs[d.focus].Update(msg)
	case d.onNote():
		d.note, cmd = d.note.Update(msg)
	}
	return d, cmd, dialogNone
}

// view renders the dialog box, at most w wide.
func (d caseDialog) view(st theme.Styles) string {
	inner := max(10, d.w-6)
	var b strings.Builder
	b.WriteString(st.TitleFocus.Render(ansi.Truncate(d.title, inner, "…")))
	b.WriteString("\n")
	if d.kind == dialogBookmark {
		b.WriteString(st.Muted.Render(ansi.Truncate(d.target.Key(), inner, "…")))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for i, in := range d.inputs {
		label := st.Muted.Render(padRight(d.labels[i], 6))
		if i == d.focus {
			label = st.Accent.Render(padRight(d.labels[i], 6))
		}
		b.WriteString(label + " " + in.View() + "\n")
	}
	if d.hasNote {
		if len(d.inputs) > 0 {
			b.WriteString("\n")
		}
		b.WriteString(d.note.View() + "\n")
	}
	if d.hasCheck {
		box, label := "[ ] ", st.Muted
		if d.checked {
			box = "[x] "
		}
		if d.onCheck() {
			label = st.Accent
		}
		b.WriteString("\n" + label.Render(ansi.Truncate(box+d.checkLabel, inner, "…")) + "\n")
	}
	hints := []key.Binding{d.keys.Next, d.keys.Save, d.keys.Cancel}
	if d.hasCheck {
		hints = append(hints, d.keys.Toggle)
	}
	if d.hasNote {
		hints = append(hints, d.keys.Editor)
	}
	if d.kind == dialogBookmark && len(d.cases) > 0 {
		hints = append(hints, d.keys.Pick)
	}
	parts := make([]string, 0, len(hints))
	for _, h := range hints {
		parts = append(parts, st.Help.ShortKey.Render(h.Help().Key)+" "+st.Muted.Render(h.Help().Desc))
	}
	b.WriteString("\n" + ansi.Truncate(strings.Join(parts, " · "), inner, "…"))
	return lipgloss.NewStyle().
		Border(lipgloss.RoundedBorder()).
		BorderForeground(st.BorderFocus.GetForeground()).
		Padding(0, 2).
		Width(inner + 6).
		Render(b.String())
}

func padRight(s string, n int) string {
	if w := ansi.StringWidth(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// dialogScreen is an open dialog: a box over the screen below that takes
// every key and reports what it did through its action value.
type dialogScreen struct {
	m *Model
	d caseDialog
}

func (s *dialogScreen) Title() string             { return "bookmark dialog" }
func (s *dialogScreen) SetSize(w, h int)          { s.d.setWidth(s.m.dialogWidth()) }
func (s *dialogScreen) View() []string            { return nil }
func (s *dialogScreen) Box() string               { return s.d.view(s.m.st) }
func (s *dialogScreen) ShortHelp() []key.Binding  { return dialogHelp(&s.d).ShortHelp() }
func (s *dialogScreen) FullHelp() [][]key.Binding { return dialogHelp(&s.d).FullHelp() }

func (s *dialogScreen) Update(msg tea.Msg) tea.Cmd {
	m := s.m
	d, cmd, act := s.d.update(msg)
	s.d = d
	switch act {
	case dialogCancelled:
		m.pop()
		return nil
	case dialogSaved:
		m.pop()
		return m.saveDialog(d)
	case dialogEditor:
		if m.remote {
			// The editor would run on the server, with a shell a key away.
			m.setStatus("no external editor over the team server: write the note here", true)
			return nil
		}
		return editNote(d.noteValue())
	}
	return cmd
}

// dialog is the open dialog, if one has the input.
func (m *Model) dialog() *caseDialog {
	if s, ok := m.top().(*dialogScreen); ok {
		return &s.d
	}
	return nil
}

// openDialog shows d with the focus on field focus.
func (m *Model) openDialog(d caseDialog, focus int) tea.Cmd {
	d.setWidth(m.dialogWidth())
	cmd := d.focusField(focus)
	m.push(&dialogScreen{m: m, d: d})
	return cmd
}
