package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/internal/safetext"
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
	// focus: the case picker (when hasPicker), then the inputs, then the
	// note, then the check box.
	focus int

	// The case picker, the first field when hasPicker: ↑/↓ choose among
	// opts, letters jump to the first case whose name holds them, and
	// with allowNew the last option is a new case named in the "name"
	// input. It never takes text as a name itself, so the same keys land
	// in the same fields whether or not a case is remembered.
	hasPicker bool
	allowNew  bool
	opts      []pickOpt
	pick      int
	typed     string // the picker's type-ahead

	// dialogMove: the bookmark moved or copied.
	moveIDs []string
	what    string // dialogMove: the bookmark's title
	hint    string // a muted line under the fields
	// dialogConfirm: what yes does.
	confirm func() tea.Cmd
	// dialogBand: the currency of the band being edited ("" for any).
	bandCur string

	// err is why the last save was refused (refuse): shown in the dialog
	// until the next key that is not a move between fields.
	err string

	keys dialogKeys
	w    int
}

// refusal is why a dialog will not save as it is filled in: what to do
// (msg) and the field to do it in (field, a focus index). The dialog
// that gets one stays open with every field as typed.
type refusal struct {
	field int
	msg   string
}

// refuse keeps the dialog open after a refused save: it shows r's
// message and moves the focus to r's field.
func (d *caseDialog) refuse(r *refusal) tea.Cmd {
	d.err = r.msg
	return d.focusField(r.field)
}

type dialogKind int

// pickOpt is one case the picker offers.
type pickOpt struct{ id, name string }

const (
	dialogBookmark     dialogKind = iota // case name, tags, note
	dialogRenameCase                     // name
	dialogTagCase                        // tags
	dialogTagBookmark                    // tags
	dialogNoteCase                       // note
	dialogNoteBookmark                   // note
	dialogExport                         // folder, redact check box
	dialogVerdictNote                    // note on an analyst's verdict (verdict.go)
	dialogMove                           // case picker, copy check box: move or copy a bookmark
	dialogMerge                          // case picker: merge a case into another
	dialogConfirm                        // a question answered y or n (delete)
	dialogBand                           // from, below: the entity's transactions in an amount band (timeline.go)
)

type dialogKeys struct {
	Next, Prev, Save, Cancel, Pick, Editor, Toggle, Yes, No key.Binding
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
		Yes:    key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y", "yes")),
		No:     key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "no")),
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

// newBookmarkDialog asks for the case (a picker on the current case, or
// on "new case" when none is remembered), the name of a new case, tags and
// a note. The fields and their order never change.
func newBookmarkDialog(st theme.Styles, t graph.Target, title, current string, cases []graph.Case) caseDialog {
	d := caseDialog{kind: dialogBookmark, title: "Bookmark " + title, target: t, keys: defaultDialogKeys(), hasNote: true,
		hasPicker: true, allowNew: true}
	d.labels = []string{"name", "tags"}
	d.inputs = []textinput.Model{newInput(st, "", "name of the new case"), newInput(st, "", "tags, separated by spaces or commas")}
	d.note = newNote(st, "")
	d.setCases(cases, current)
	return d
}

// newPickDialog asks for another case than c: to move or copy bookmark
// ids into (move), or to merge c into.
func newPickDialog(kind dialogKind, title string, c graph.Case, cases []graph.Case, ids []string) caseDialog {
	d := caseDialog{kind: kind, title: title, caseID: c.ID, keys: defaultDialogKeys(), hasPicker: true, moveIDs: ids}
	if kind == dialogMove {
		d.hasCheck, d.checkLabel = true, "copy (keep it in "+c.Name+" too)"
	}
	var others []graph.Case
	for _, o := range cases {
		if o.ID != c.ID {
			others = append(others, o)
		}
	}
	d.setCases(others, "")
	return d
}

// newConfirmDialog asks question; y or enter answers yes.
func newConfirmDialog(title, question string) caseDialog {
	return caseDialog{kind: dialogConfirm, title: title, checkLabel: question, keys: defaultDialogKeys()}
}

// setCases gives the picker its cases. The first call chooses the case
// with id current (else a new case when allowed, else the first case);
// later calls (the list reloaded while the dialog is open) keep whatever
// is chosen, "new case" included, so the fields never change under the
// keys being typed.
func (d *caseDialog) setCases(cases []graph.Case, current string) {
	first := d.opts == nil
	keep := ""
	if !first && len(d.opts) > 0 {
		keep = d.opts[d.pick].id
	}
	d.opts = make([]pickOpt, 0, len(cases)+1)
	for _, c := range cases {
		d.opts = append(d.opts, pickOpt{id: c.ID, name: c.Name})
	}
	if d.allowNew {
		d.opts = append(d.opts, pickOpt{})
	}
	want := keep
	if first {
		want = current
	}
	d.pick = 0
	if i := slices.IndexFunc(d.opts, func(o pickOpt) bool { return o.id == want }); i >= 0 && (want != "" || d.allowNew) {
		d.pick = i
	} else if d.allowNew {
		d.pick = len(d.opts) - 1 // nothing remembered, or the case is gone: a new case
	}
}

// picked is the chosen case: ok is false when there is none to choose
// (a new case, or no case to pick).
func (d caseDialog) picked() (pickOpt, bool) {
	if !d.hasPicker || len(d.opts) == 0 || d.opts[d.pick].id == "" {
		return pickOpt{}, false
	}
	return d.opts[d.pick], true
}

// pickingNew reports whether the picker is on "new case".
func (d caseDialog) pickingNew() bool {
	return d.allowNew && len(d.opts) > 0 && d.opts[d.pick].id == ""
}

// pickerKey handles a key on the picker.
func (d *caseDialog) pickerKey(k tea.KeyPressMsg) {
	n := len(d.opts)
	if n == 0 {
		return
	}
	switch k.String() {
	case "up":
		d.pick, d.typed = (d.pick+n-1)%n, ""
		return
	case "down":
		d.pick, d.typed = (d.pick+1)%n, ""
		return
	case "backspace":
		if d.typed != "" {
			_, size := utf8.DecodeLastRuneInString(d.typed)
			d.typed = d.typed[:len(d.typed)-size]
		}
	default:
		if k.Text == "" {
			return
		}
		d.typed += k.Text
	}
	if d.typed == "" {
		return
	}
	q := strings.ToLower(d.typed)
	if i := slices.IndexFunc(d.opts, func(o pickOpt) bool { return o.id != "" && strings.Contains(strings.ToLower(o.name), q) }); i >= 0 {
		d.pick = i
	}
}

// newExportDialog asks where to write a case's files and whether to redact
// them. The folder starts as <case>-<time>: a relative name, which the
// export puts under the export folder (hint names it), never under the
// directory the program was started from.
func newExportDialog(st theme.Styles, c graph.Case, now time.Time, hint string) caseDialog {
	d := caseDialog{kind: dialogExport, title: "Export case " + c.Name, caseID: c.ID, keys: defaultDialogKeys(),
		hasCheck: true, checkLabel: "redact: pseudonymise every identifier and name", hint: hint}
	d.labels = []string{"folder"}
	d.inputs = []textinput.Model{newInput(st, defaultExportDir(c.Name, now), "folder to write the case file into")}
	return d
}

// defaultExportDir is <case name>-<local time>, the name made safe for a
// folder: spaces become dashes, path and shell-hostile characters go.
func defaultExportDir(name string, now time.Time) string {
	clean := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|'`+"`$", r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	slug := strings.Trim(strings.Join(strings.Fields(clean), "-"), ".")
	if slug == "" {
		slug = "case"
	}
	return slug + "-" + now.Format("20060102-150405")
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

// base is the focus index of the first input.
func (d caseDialog) base() int {
	if d.hasPicker {
		return 1
	}
	return 0
}

// input is the index into inputs of the focused input, if one is.
func (d caseDialog) input() (int, bool) {
	i := d.focus - d.base()
	return i, i >= 0 && i < len(d.inputs)
}

// onPicker reports whether the focus is on the case picker.
func (d caseDialog) onPicker() bool { return d.hasPicker && d.focus == 0 }

// fields is how many focusable fields the dialog has.
func (d caseDialog) fields() int {
	n := d.base() + len(d.inputs)
	if d.hasNote {
		n++
	}
	if d.hasCheck {
		n++
	}
	return n
}

// onNote and onCheck report where the focus is.
func (d caseDialog) onNote() bool  { return d.hasNote && d.focus == d.base()+len(d.inputs) }
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
	if n == 0 {
		return nil
	}
	d.focus = ((i % n) + n) % n
	for j := range d.inputs {
		d.inputs[j].Blur()
	}
	d.note.Blur()
	d.typed = ""
	in, isInput := d.input()
	switch {
	case isInput:
		return d.inputs[in].Focus()
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
	if k, ok := msg.(tea.KeyPressMsg); ok && d.kind == dialogConfirm {
		switch {
		case key.Matches(k, d.keys.Yes):
			return d, nil, dialogSaved
		case key.Matches(k, d.keys.No):
			return d, nil, dialogCancelled
		}
		return d, nil, dialogNone
	}
	in, onInput := d.input()
	if k, ok := msg.(tea.KeyPressMsg); ok {
		if !key.Matches(k, d.keys.Next, d.keys.Prev) {
			d.err = ""
		}
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
		case k.String() == "enter" && (onInput || d.onPicker()):
			// Enter in a single-line field moves on; in the last field it saves.
			if d.focus == d.fields()-1 {
				return d, nil, dialogSaved
			}
			return d, d.focusField(d.focus + 1), dialogNone
		case d.onPicker():
			d.pickerKey(k)
			return d, nil, dialogNone
		case onInput && d.hasPicker && in == 0 && d.allowNew && !d.pickingNew():
			// The new case's name is for a new case only: an existing
			// case is chosen, so nothing is typed into a name.
			return d, nil, dialogNone
		}
	}
	var cmd tea.Cmd
	switch {
	case onInput:
		d.inputs[in], cmd = d.inputs[in].Update(msg)
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
	if d.err != "" {
		// Under the title, where a dialog cut short by a small terminal
		// still shows it.
		b.WriteString(st.Err.Render(ansi.Wrap(safetext.Line(d.err), inner, " ")) + "\n")
	}
	b.WriteString("\n")
	if d.kind == dialogConfirm {
		b.WriteString(st.Text.Render(ansi.Wrap(d.checkLabel, inner, " ")) + "\n\n")
		b.WriteString(st.Help.ShortKey.Render("y") + " " + st.Muted.Render("yes") + " · " + st.Help.ShortKey.Render("n/esc") + " " + st.Muted.Render("no"))
		return lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(st.BorderFocus.GetForeground()).
			Padding(0, 2).Width(inner + 6).Render(b.String())
	}
	if d.hasPicker {
		label := st.Muted.Render(padRight("case", 6))
		if d.onPicker() {
			label = st.Accent.Render(padRight("case", 6))
		}
		b.WriteString(label + " " + ansi.Truncate(d.pickerView(st), max(4, inner-7), "…") + "\n")
	}
	in, _ := d.input()
	for i, input := range d.inputs {
		label := st.Muted.Render(padRight(d.labels[i], 6))
		if d.focus == d.base()+i && i == in {
			label = st.Accent.Render(padRight(d.labels[i], 6))
		}
		field := input.View()
		if d.hasPicker && d.allowNew && i == 0 && !d.pickingNew() {
			field = st.Muted.Render("— (an existing case is chosen)")
		}
		b.WriteString(label + " " + field + "\n")
	}
	if d.hint != "" {
		b.WriteString(st.Muted.Render(ansi.Truncate(d.hint, inner, "…")) + "\n")
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
	if d.hasPicker {
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

// pickerView shows the chosen case, its place among the options and the
// type-ahead.
func (d caseDialog) pickerView(st theme.Styles) string {
	if len(d.opts) == 0 {
		return st.Muted.Render("no other case")
	}
	o := d.opts[d.pick]
	name := st.Bold.Render(safetext.Line(o.name))
	if o.id == "" {
		name = st.Accent.Render("＋ new case")
	}
	s := "‹ " + name + " ›" + st.Muted.Render(fmt.Sprintf("  %d of %d", d.pick+1, len(d.opts)))
	if d.typed != "" {
		s += st.Muted.Render(fmt.Sprintf(" · %q", d.typed))
	}
	return s
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

func (s *dialogScreen) Title() string {
	if s.d.kind == dialogBand {
		return "amount band"
	}
	return "bookmark dialog"
}
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
		save, no := m.saveDialog(d)
		if no != nil {
			// Refused: the dialog stays, as typed, on the field to fix.
			return s.d.refuse(no)
		}
		m.pop()
		return save
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
