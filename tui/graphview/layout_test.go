package graphview

import (
	"testing"

	"casegraph/graph"
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

func TestBuildPrint(t *testing.T) {
	l := Build(sampleHood(), 2, FitSizes(120, 2), 2)
	t.Log("\n" + Build(sampleHood(), 1, FitSizes(80, 1), 2).Text())
	t.Log("\n" + Build(sampleHood(), 2, FitSizes(200, 2), 2).Text())
	t.Log("\n" + l.Text())
}
