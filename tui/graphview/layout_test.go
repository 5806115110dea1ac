package graphview

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"casegraph/graph"
	"casegraph/tui/theme"
)

var (
	card   = graph.Ref{Kind: graph.KindCard, Key: "4400430012347894"}
	card2  = graph.Ref{Kind: graph.KindCard, Key: "4400430000000016"}
	person = graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	exch   = graph.Ref{Kind: graph.KindExchange, Key: "tengeobmen24"}
	atm    = graph.Ref{Kind: graph.KindATM, Key: "ATM-ALA-0042"}
	phone  = graph.Ref{Kind: graph.KindPhone, Key: "+77015551234"}
	p2     = graph.Ref{Kind: graph.KindPerson, Key: "900515300008"}
	group  = graph.Ref{Kind: graph.KindGroup, Key: "G-ALA-3"}
)

func sampleHood() graph.Hood {
	return graph.Hood{
		Center: card,
		Nodes: []graph.HoodNode{
			{Ref: card, Hop: 0},
			{Ref: graph.CashRef, Hop: 1, Hub: true},
			{Ref: exch, Name: "ТенгеОбмен24", Hop: 1},
			{Ref: atm, Hop: 1},
			{Ref: card2, Hop: 1},
			{Ref: person, Name: "Ахметов Жанболат Серікұлы", Hop: 1},
			{Ref: phone, Hop: 2},
			{Ref: group, Name: "Жанболат & Co", Hop: 2},
			{Ref: p2, Name: "Өмірбекова Ұлжан", Hop: 2},
		},
		Edges: []graph.HoodEdge{
			{From: graph.CashRef, To: card, Relation: "topup", Count: 3, Amount: 149250000},
			{From: card, To: exch, Relation: "trade", Count: 1, Amount: 140000000},
			{From: card, To: atm, Relation: "cash_out", Count: 1, Amount: 30000000},
			{From: card2, To: card, Relation: "transfer", Count: 1, Amount: 15000000},
			{From: person, To: card, Relation: "holds", Count: 1},
			{From: person, To: phone, Relation: "uses_phone", Count: 1},
			{From: person, To: group, Relation: "member_of", Count: 1},
			{From: p2, To: card2, Relation: "holds", Count: 1},
			{From: p2, To: phone, Relation: "uses_phone", Count: 1},
		},
	}
}

func TestBuildGolden(t *testing.T) {
	for _, tc := range []struct {
		name        string
		hops, width int
	}{{"hops1_80", 1, 80}, {"hops2_120", 2, 120}, {"hops2_200", 2, 200}} {
		t.Run(tc.name, func(t *testing.T) {
			l := Build(sampleHood(), tc.hops, tc.width, 2)
			golden.RequireEqual(t, []byte(l.Text()))
		})
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	want := Build(sampleHood(), 2, 120, 2).Text()
	for range 20 {
		if got := Build(sampleHood(), 2, 120, 2).Text(); got != want {
			t.Fatalf("layout changed between runs:\n%s\n---\n%s", want, got)
		}
	}
}

func TestBuildPlacesSides(t *testing.T) {
	l := Build(sampleHood(), 2, 200, 2)
	col := map[graph.Ref]int{}
	for _, p := range l.Nodes {
		col[p.Node.Ref] = p.Col
	}
	want := map[graph.Ref]int{card: 0, graph.CashRef: -1, card2: -1, person: -1, exch: 1, atm: 1, p2: -2, phone: -2, group: -2}
	for r, c := range want {
		if col[r] != c {
			t.Errorf("%v in column %d, want %d", r, col[r], c)
		}
	}
	// p2 → phone is a cross link: phone hangs under the person, not p2.
	if l.Hidden != 1 {
		t.Errorf("hidden = %d, want 1", l.Hidden)
	}
	for y, row := range l.Grid {
		if len(row) != l.W {
			t.Fatalf("row %d is %d wide, want %d", y, len(row), l.W)
		}
	}
}

func TestModelNavigation(t *testing.T) {
	m := New(theme.New(true))
	m.SetSize(200, 30)
	cmd := m.Show(card)
	req := cmd().(RequestMsg)
	if req.Opts.Hops != 2 || req.Opts.MaxNodes != MaxNodes {
		t.Fatalf("request = %+v", req)
	}
	m.SetHood(req, sampleHood(), nil)
	key := func(s string) {
		m, _ = m.Update(tea.KeyPressMsg{Code: []rune(s)[0], Text: s})
	}
	sel := func() graph.Ref { p, _ := m.Selected(); return p.Node.Ref }
	if sel() != card {
		t.Fatalf("initial selection %v", sel())
	}
	key("l")
	if sel() != exch && sel() != atm {
		t.Fatalf("l selected %v", sel())
	}
	key("j")
	if sel() != atm {
		t.Fatalf("j selected %v", sel())
	}
	key("h")
	key("h")
	if p, _ := m.Selected(); p.Col != -1 {
		t.Fatalf("h h reached column %d", p.Col)
	}
	key("h")
	if p, _ := m.Selected(); p.Col != -2 {
		t.Fatalf("h reached column %d", p.Col)
	}
	// A stale result (other depth) is ignored.
	m.SetHood(RequestMsg{Center: card, Opts: graph.HoodOptions{Hops: 1, MaxNodes: MaxNodes}}, graph.Hood{Center: card}, nil)
	if len(m.Layout().Nodes) != 9 {
		t.Fatalf("stale result replaced the drawing: %d nodes", len(m.Layout().Nodes))
	}
	m, cmd = m.Update(tea.KeyPressMsg{Code: '+', Text: "+"})
	if m.Hops() != 3 || cmd == nil {
		t.Fatal("+ did not ask for 3 hops")
	}
	if r := cmd().(RequestMsg); r.Opts.Hops != 3 {
		t.Fatalf("request %+v", r)
	}
	text := strings.Join(m.Lines(), "\n")
	if !strings.Contains(text, "ТенгеОбмен24") {
		t.Fatalf("drawing lost while reloading:\n%s", text)
	}
}
