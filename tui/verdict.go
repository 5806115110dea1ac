package tui

import (
	"context"
	"errors"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui/pane"
)

// Verdicts is what the Flags screen and the entity view ask of the
// database: the analyst's verdict on an entity. Verdicts never change the
// rule hits; `casegraph calibrate` fits the rule weights to them. Every
// change is journalled by the implementation with the OS user and the time.
type Verdicts interface {
	// Verdict returns the verdict on ref; ok is false when there is none.
	Verdict(ctx context.Context, ref graph.Ref) (v graph.Verdict, ok bool, err error)
	// SetVerdict records a verdict (confirmed or dismissed) with a note.
	SetVerdict(ctx context.Context, ref graph.Ref, kind graph.VerdictKind, note string) (graph.Verdict, error)
	// ClearVerdict withdraws the verdict on ref; an error wrapping
	// graph.ErrNotFound when there is none.
	ClearVerdict(ctx context.Context, ref graph.Ref) error
}

// verdictKeys are the keys that judge the selected entity (Flags screen) or
// the entity on screen.
type verdictKeys struct {
	Confirm, Dismiss, Withdraw, Note key.Binding
}

func defaultVerdictKeys() verdictKeys {
	return verdictKeys{
		Confirm:  key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "verdict: confirm")),
		Dismiss:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "verdict: dismiss")),
		Withdraw: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "withdraw verdict")),
		Note:     key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "note on the verdict")),
	}
}

func (k verdictKeys) list() []key.Binding {
	return []key.Binding{k.Confirm, k.Dismiss, k.Withdraw, k.Note}
}

// entityVerdict is the verdict on the entity on screen.
type entityVerdict struct {
	ref    graph.Ref
	v      graph.Verdict
	ok     bool
	loaded bool
}

type verdictLoadedMsg struct {
	ref graph.Ref
	v   graph.Verdict
	ok  bool
	err error
}

// verdictSetMsg reports a verdict change: ok false means withdrawn.
type verdictSetMsg struct {
	ref graph.Ref
	v   graph.Verdict
	ok  bool
	err error
}

// loadVerdict reads the verdict on the entity on screen.
func (m *Model) loadVerdict(ref graph.Ref) tea.Cmd {
	m.ana.verdict = entityVerdict{ref: ref}
	if ref.IsZero() {
		return nil
	}
	ctx, b := m.ctx, m.b
	return func() tea.Msg {
		v, ok, err := b.Verdict(ctx, ref)
		if err != nil {
			err = fmt.Errorf("verdict on %s: %w", ref, err)
		}
		return verdictLoadedMsg{ref: ref, v: v, ok: ok, err: err}
	}
}

// knownVerdict is the verdict on ref as the screens last heard of it.
func (m *Model) knownVerdict(ref graph.Ref) (kind graph.VerdictKind, note string) {
	if ev := m.ana.verdict; ev.ref == ref && ev.loaded && ev.ok {
		return ev.v.Kind, ev.v.Note
	}
	for _, r := range m.ana.flags.list.Rows {
		if r.Ref == ref {
			return r.Verdict, r.VerdictNote
		}
	}
	return "", ""
}

// judge records kind on ref, keeping the note of the verdict it replaces,
// or withdraws the verdict when kind is empty.
func (m *Model) judge(ref graph.Ref, kind graph.VerdictKind) tea.Cmd {
	_, note := m.knownVerdict(ref)
	return m.judgeWithNote(ref, kind, note)
}

// openVerdictNote opens the note dialog on ref's verdict.
func (m *Model) openVerdictNote(ref graph.Ref) tea.Cmd {
	kind, note := m.knownVerdict(ref)
	if kind == "" {
		m.setStatus(m.titleOf(ref)+" has no verdict yet: y confirms, n dismisses, then N adds a note", false)
		return nil
	}
	d := newFieldDialog(m.st, dialogVerdictNote, fmt.Sprintf("Note on %s · %s", m.titleOf(ref), kind), "note", note, true)
	d.verdictRef, d.verdict = ref, kind
	return m.openDialog(d, 0)
}

// judgeWithNote records kind with note on ref, or withdraws the verdict
// when kind is empty.
func (m *Model) judgeWithNote(ref graph.Ref, kind graph.VerdictKind, note string) tea.Cmd {
	ctx, b := m.ctx, m.b
	return func() tea.Msg {
		if kind == "" {
			err := b.ClearVerdict(ctx, ref)
			return verdictSetMsg{ref: ref, err: err}
		}
		v, err := b.SetVerdict(ctx, ref, kind, note)
		return verdictSetMsg{ref: ref, v: v, ok: err == nil, err: err}
	}
}

// verdictKey handles the verdict keys for ref; ok is false for other keys.
func (m *Model) verdictKey(msg tea.KeyPressMsg, ref graph.Ref) (tea.Cmd, bool) {
	k := m.ana.vkeys
	switch {
	case key.Matches(msg, k.Confirm):
		return m.judge(ref, graph.VerdictConfirmed), true
	case key.Matches(msg, k.Dismiss):
		return m.judge(ref, graph.VerdictDismissed), true
	case key.Matches(msg, k.Withdraw):
		return m.judge(ref, ""), true
	case key.Matches(msg, k.Note):
		return m.openVerdictNote(ref), true
	}
	return nil, false
}

// updateVerdict handles the verdict messages; ok reports whether msg was one.
func (m *Model) updateVerdict(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case verdictLoadedMsg:
		if msg.ref == m.ana.verdict.ref {
			m.ana.verdict = entityVerdict{ref: msg.ref, v: msg.v, ok: msg.ok, loaded: msg.err == nil}
			if msg.err != nil {
				m.setStatus(msg.err.Error(), true)
			}
		}
		return nil, true
	case verdictSetMsg:
		title := m.titleOf(msg.ref)
		if msg.err != nil {
			if errors.Is(msg.err, graph.ErrNotFound) {
				m.setStatus(title+" has no verdict to withdraw", false)
			} else {
				m.setStatus(fmt.Sprintf("verdict on %s: %v", title, msg.err), true)
			}
			return nil, true
		}
		m.applyVerdict(msg.ref, msg.v, msg.ok)
		if msg.ok {
			m.setStatus(fmt.Sprintf("%s %s (journalled; u withdraws)", msg.v.Kind, title), false)
		} else {
			m.setStatus("verdict on "+title+" withdrawn (journalled)", false)
		}
		return nil, true
	}
	return nil, false
}

// applyVerdict shows the verdict on ref (ok false: none) wherever it is on
// screen: the Flags list, the entity's risk row, the entity's verdict.
func (m *Model) applyVerdict(ref graph.Ref, v graph.Verdict, ok bool) {
	kind, note := graph.VerdictKind(""), ""
	if ok {
		kind, note = v.Kind, v.Note
	}
	rows := m.ana.flags.list.Rows
	for i := range rows {
		if rows[i].Ref == ref {
			rows[i].Verdict, rows[i].VerdictNote = kind, note
		}
	}
	if m.ana.ent.ref == ref {
		m.ana.ent.row.Verdict, m.ana.ent.row.VerdictNote = kind, note
	}
	if m.ana.verdict.ref == ref {
		m.ana.verdict = entityVerdict{ref: ref, v: v, ok: ok, loaded: true}
	}
}

// verdictMark is "✓ " or "✗ " before a judged entity's name, or nothing.
func (m *Model) verdictMark(kind graph.VerdictKind) string {
	switch kind {
	case graph.VerdictConfirmed:
		return m.st.OK.Render("✓") + " "
	case graph.VerdictDismissed:
		return m.st.Muted.Render("✗") + " "
	}
	return ""
}

// verdictText is "✓ confirmed — note" in words.
func (m *Model) verdictText(kind graph.VerdictKind, note string) string {
	if kind == "" {
		return ""
	}
	s := m.verdictMark(kind) + m.st.Text.Render(string(kind))
	if note != "" {
		s += m.st.Muted.Render(" — " + safetext.Line(note))
	}
	return s
}

// verdictPropLines are the "verdict" line of the entity's properties pane.
func (m *Model) verdictPropLines(kw int) []string {
	ev := m.ana.verdict
	if !ev.loaded || ev.ref != m.ent.ref {
		return nil
	}
	if !ev.ok {
		return nil // the keys are in the help (?)
	}
	label := pane.Fit(m.st.Muted.Render("verdict"), kw) + "  "
	who := m.st.Muted.Render(fmt.Sprintf(" · %s %s", safetext.Line(ev.v.User), ev.v.Time.In(m.loc).Format("2006-01-02 15:04")))
	return []string{label + ansi.Truncate(m.verdictText(ev.v.Kind, ev.v.Note)+who, 200, "…")}
}
