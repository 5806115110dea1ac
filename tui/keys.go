package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// globalKeys work on every screen unless a text input or dialog has focus.
type globalKeys struct {
	ForceQuit, Quit, Help, Search, Back, Forward, Resolve key.Binding
}

func defaultGlobalKeys() globalKeys {
	return globalKeys{
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "force quit")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Search:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		Back:      key.NewBinding(key.WithKeys("left", "backspace", "alt+left"), key.WithHelp("←/bksp", "back")),
		Forward:   key.NewBinding(key.WithKeys("right", "alt+right"), key.WithHelp("→", "forward")),
		Resolve:   key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "resolve entities")),
	}
}

// entityKeys work on the entity screen.
type entityKeys struct {
	navKeys
	Focus, Open, Graph, Sort, PageUp, PageDown key.Binding
}

func defaultEntityKeys() entityKeys {
	return entityKeys{
		navKeys:  defaultNavKeys(),
		Focus:    key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "switch pane")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Graph:    key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "graph")),
		Sort:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "previous page")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "next page")),
	}
}

// keyHelp is a help.KeyMap assembled for one screen.
type keyHelp struct {
	short []key.Binding
	full  [][]key.Binding
}

func (k keyHelp) ShortHelp() []key.Binding  { return k.short }
func (k keyHelp) FullHelp() [][]key.Binding { return k.full }

func (g globalKeys) column() []key.Binding {
	return []key.Binding{g.Search, g.Back, g.Forward, g.Resolve, g.Help, g.Quit, g.ForceQuit}
}

func homeHelp(g globalKeys) keyHelp {
	return keyHelp{
		short: []key.Binding{g.Search, g.Back, g.Forward, g.Help, g.Quit},
		full:  [][]key.Binding{g.column()},
	}
}

func entityHelp(g globalKeys, e entityKeys) keyHelp {
	return keyHelp{
		short: []key.Binding{e.Open, e.Focus, e.Graph, e.Sort, e.PageDown, g.Back, g.Forward, g.Search},
		full: [][]key.Binding{
			{e.Up, e.Down, e.Top, e.Bottom, e.Focus},
			{e.Open, e.Graph, e.Sort, e.PageUp, e.PageDown},
			g.column(),
		},
	}
}

// navKeys move the selection of a list screen.
type navKeys struct {
	Up, Down, Top, Bottom key.Binding
}

func defaultNavKeys() navKeys {
	return navKeys{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:    key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "first row")),
		Bottom: key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last row")),
	}
}

// navKey moves the selection by one row or to either end when msg is one of
// k, and reports whether it was, so that it can stand as a case of a key
// switch without changing which case wins.
func navKey(msg tea.KeyPressMsg, k navKeys, move func(int)) bool {
	switch {
	case key.Matches(msg, k.Up):
		move(-1)
	case key.Matches(msg, k.Down):
		move(1)
	case key.Matches(msg, k.Top):
		move(-1 << 30)
	case key.Matches(msg, k.Bottom):
		move(1 << 30)
	default:
		return false
	}
	return true
}
