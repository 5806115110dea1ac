package workbench

import (
	"go/ast"
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"casegraph/tui"
)

// tuiOn is the TUI of a real workbench driven by pure Update/View: every
// command runs to its message at once, so what a screen shows after a key
// is what it shows once everything it asked for arrived.
type tuiOn struct {
	t *testing.T
	m tea.Model
}

func newTUI(t *testing.T, wb *Workbench, opts tui.Options, w, h int) *tuiOn {
	t.Helper()
	d := &tuiOn{t: t, m: tui.New(wb, opts)}
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	for _, msg := range d.expand(d.m.Init()) {
		d.send(msg)
	}
	return d
}

// send delivers msg and every message its commands produce, depth first.
func (d *tuiOn) send(msg tea.Msg) {
	d.t.Helper()
	queue := []tea.Msg{msg}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 2000 {
			d.t.Fatal("message loop did not settle")
		}
		msg := queue[0]
		queue = queue[1:]
		if _, ok := msg.(tea.QuitMsg); ok {
			continue
		}
		var cmd tea.Cmd
		d.m, cmd = d.m.Update(msg)
		queue = append(d.expand(cmd), queue...)
	}
}

func (d *tuiOn) expand(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, d.expand(c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	// Bubble Tea's own requests are answered by the runtime.
	if typ := reflect.TypeOf(msg); strings.HasPrefix(typ.PkgPath(), "charm.land/bubbletea") && !ast.IsExported(typ.Name()) {
		return nil
	}
	return []tea.Msg{msg}
}

// keys types each key: a name (enter) or text.
func (d *tuiOn) keys(keys ...string) {
	d.t.Helper()
	for _, k := range keys {
		switch k {
		case "enter":
			d.send(tea.KeyPressMsg{Code: tea.KeyEnter})
		case "ctrl+f":
			d.send(tea.KeyPressMsg{Code: 'f', Mod: tea.ModCtrl})
		default:
			for _, r := range k {
				d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
			}
		}
	}
}

func (d *tuiOn) screen() string { return ansi.Strip(d.m.View().Content) }

// requires fails unless the screen shows every one of want.
func (d *tuiOn) requires(want ...string) {
	d.t.Helper()
	s := d.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			d.t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
}
