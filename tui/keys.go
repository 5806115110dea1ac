package tui

import (
	"charm.land/bubbles/v2/key"

	"casegraph/tui/list"
)

// globalKeys work on every screen unless a text input or dialog has focus.
type globalKeys struct {
	ForceQuit, Quit, Help, Search, SearchAnywhere, Back, Forward, Resolve key.Binding
}

func defaultGlobalKeys() globalKeys {
	return globalKeys{
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "force quit")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Search:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		// Inside a list / filters the list: ctrl+f searches from anywhere.
		SearchAnywhere: key.NewBinding(key.WithKeys("ctrl+f"), key.WithHelp("ctrl+f", "search")),
		Back:           key.NewBinding(key.WithKeys("left", "backspace", "alt+left"), key.WithHelp("←/bksp", "back")),
		Forward:        key.NewBinding(key.WithKeys("right", "alt+right"), key.WithHelp("→", "forward")),
		Resolve:        key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "resolve entities")),
	}
}

// entityKeys work on the entity screen; its two panes are lists.
type entityKeys struct {
	List                     list.KeyMap
	Focus, Open, Graph, Sort key.Binding
	// Timeline opens the activity chart; AllDates drops the range brushed
	// on it and the amount band chosen on its histogram from the
	// transaction list.
	Timeline, AllDates key.Binding
	// Instrument steps a person's or organisation's page through the
	// instruments they hold, one at a time, and back to all of them.
	Instrument key.Binding
	// Band asks for an amount band of the transaction list (a dialog; the
	// histogram on the timeline chooses one too).
	Band key.Binding
}

func defaultEntityKeys() entityKeys {
	return entityKeys{
		List:       list.DefaultKeys(),
		Focus:      key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "switch pane")),
		Open:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Graph:      key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "graph")),
		Sort:       key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Timeline:   key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "timeline & amounts")),
		AllDates:   key.NewBinding(key.WithKeys("X"), key.WithHelp("X", "every date & amount (drop range and band)")),
		Instrument: key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "one instrument / all")),
		Band:       key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "amount band…")),
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
	return []key.Binding{g.Search, g.SearchAnywhere, g.Back, g.Forward, g.Resolve, g.Help, g.Quit, g.ForceQuit}
}

func homeHelp(g globalKeys) keyHelp {
	return keyHelp{
		short: []key.Binding{g.Search, g.Back, g.Forward, g.Help, g.Quit},
		full:  [][]key.Binding{g.column()},
	}
}

func entityHelp(g globalKeys, e entityKeys) keyHelp {
	return keyHelp{
		short: []key.Binding{e.Open, e.Focus, e.Graph, e.Timeline, e.Sort, e.List.PageDown, e.List.Filter, g.Back, g.SearchAnywhere},
		full: [][]key.Binding{
			append(e.List.Bindings(), e.Focus),
			{e.Open, e.Graph, e.Sort, e.Timeline, e.Band, e.AllDates, e.Instrument, e.List.Export},
			{g.SearchAnywhere, g.Back, g.Forward, g.Resolve, g.Help, g.Quit, g.ForceQuit},
		},
	}
}
