package graphview

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/tui/theme"
)

// The senders' side lists who paid the senders, never a sender's other
// payee: that node is left out and counted.
func TestBuildKeepsSidesWithTheFlow(t *testing.T) {
	a := graph.Ref{Kind: graph.KindCard, Key: "a"}
	x := graph.Ref{Kind: graph.KindCard, Key: "x"}
	y := graph.Ref{Kind: graph.KindCard, Key: "y"}
	h := graph.Hood{
		Center: card,
		Nodes:  []graph.HoodNode{{Ref: card}, {Ref: a, Hop: 1}, {Ref: x, Hop: 2}, {Ref: y, Hop: 2}, {Ref: person, Name: "P", Hop: 2}},
		Edges: []graph.HoodEdge{
			{From: a, To: card, Relation: "transfer", Count: 1, Amount: 900},
			{From: a, To: x, Relation: "transfer", Count: 1, Amount: 800},
			{From: y, To: a, Relation: "transfer", Count: 1, Amount: 700},
			{From: person, To: a, Relation: "holds", Count: 1},
		},
	}
	lay := Build(h, 2, 160, 2)
	cols := map[graph.Ref]int{}
	for _, p := range lay.Nodes {
		cols[p.Node.Ref] = p.Col
	}
	if cols[a] != -1 || cols[y] != -2 || cols[person] != -2 {
		t.Fatalf("columns %v: want a at -1, y and the holder at -2", cols)
	}
	if _, drawn := cols[x]; drawn || lay.Unplaced != 1 {
		t.Fatalf("x (a's other payee) drawn at %d, unplaced %d", cols[x], lay.Unplaced)
	}
	// A group's edges run every way: x is drawn.
	h.Group = true
	if lay := Build(h, 2, 160, 2); len(lay.Nodes) != 5 || lay.Unplaced != 0 {
		t.Fatalf("group drawing: %d nodes, %d unplaced", len(lay.Nodes), lay.Unplaced)
	}
}

// f cycles: all kinds, then each kind only and each kind excluded.
func TestFilterOnlyAndExclude(t *testing.T) {
	m := New(theme.New(true))
	m.SetSize(160, 30)
	req := m.Show(card)().(RequestMsg)
	m.SetHood(req, sampleHood(), nil)
	var names []string
	for range 2*len(m.kinds) + 1 {
		var cmd tea.Cmd
		m, cmd = m.Update(tea.KeyPressMsg{Code: 'f', Text: "f"})
		r := cmd().(RequestMsg)
		names = append(names, m.FilterName())
		k, only, ok := m.filterKind()
		switch {
		case !ok && (len(r.Opts.Kinds) > 0 || len(r.Opts.Exclude) > 0):
			t.Fatalf("all kinds asked %+v", r.Opts)
		case ok && only && (len(r.Opts.Kinds) != 1 || r.Opts.Kinds[0] != k || len(r.Opts.Exclude) > 0):
			t.Fatalf("%s asked %+v", m.FilterName(), r.Opts)
		case ok && !only && (len(r.Opts.Exclude) != 1 || r.Opts.Exclude[0] != k || len(r.Opts.Kinds) > 0):
			t.Fatalf("%s asked %+v", m.FilterName(), r.Opts)
		}
	}
	got := strings.Join(names, ", ")
	if !strings.Contains(got, "person only, no person") || !strings.HasSuffix(got, "all kinds") {
		t.Fatalf("filters: %s", got)
	}
}

// A group is asked for with its members, drawn whole (+/- do nothing), and
// its folded or member nodes open nothing that is not an entity.
func TestShowGroup(t *testing.T) {
	m := New(theme.New(true))
	m.SetSize(160, 30)
	members := []graph.Ref{person, card, card2}
	req := m.ShowGroup("g1", "Group 1", person, members)().(RequestMsg)
	if len(req.Opts.Members) != 3 || req.Center != person || req.Opts.Hops < 2 {
		t.Fatalf("group request %+v", req)
	}
	h := graph.Hood{Center: person, Group: true, Nodes: []graph.HoodNode{{Ref: person, Name: "P"}, {Ref: card, Hop: 1}, {Ref: card2, Hop: 2}},
		Edges: []graph.HoodEdge{{From: person, To: card, Relation: "holds"}, {From: card2, To: card, Relation: "transfer", Amount: 5}}}
	m.SetHood(req, h, nil)
	if len(m.Layout().Nodes) != 3 || !strings.Contains(m.Title(), "Group 1 · 3 members") {
		t.Fatalf("group drawing: %d nodes, title %q", len(m.Layout().Nodes), m.Title())
	}
	if _, cmd := m.Update(tea.KeyPressMsg{Code: '+', Text: "+"}); cmd != nil {
		t.Fatal("+ asked for another depth of a group")
	}
	// Show of an entity leaves the group.
	req = m.Show(card)().(RequestMsg)
	if len(req.Opts.Members) != 0 || m.GroupKey() != "" {
		t.Fatalf("entity request after a group: %+v", req)
	}
}

// The info line of a named node carries its identifier, so two nodes of
// one name are told apart.
func TestInfoLineNamesTheIIN(t *testing.T) {
	m := New(theme.New(true))
	m.SetSize(160, 30)
	req := m.Show(card)().(RequestMsg)
	m.SetHood(req, sampleHood(), nil)
	for i, p := range m.Layout().Nodes {
		if p.Node.Ref == person {
			m.sel = i
		}
	}
	if info := m.infoLine(); !strings.Contains(info, "Ахметов Жанболат Серікұлы") || !strings.Contains(info, "IIN 850312 300002") {
		t.Fatalf("info line %q lacks the IIN", info)
	}
}
