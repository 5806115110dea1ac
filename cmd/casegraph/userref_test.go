package main

import (
	"testing"

	"casegraph/graph"
)

func TestUserRef(t *testing.T) {
	foreign := graph.Ref{Kind: graph.KindAccount, Key: "berka:2378"}
	known := func(r graph.Ref) bool { return r == foreign }
	for _, c := range []struct {
		in   string
		want graph.Ref
		ok   bool
	}{
		{"card:4400 4300 0000 0015", graph.Ref{Kind: graph.KindCard, Key: "4400430000000015"}, true},
		{"iban:kz45 722s 0000 5432 6792", graph.Ref{Kind: graph.KindAccount, Key: "KZ45722S000054326792"}, true},
		{"iban:berka:2378", foreign, true}, // refused by the KZ validators, held by the case
		{"iban:berka:9999", graph.Ref{}, false},
		{"card:4400430000000016", graph.Ref{}, false}, // Luhn fails and the case does not hold it
		{"nonsense", graph.Ref{}, false},
	} {
		got, err := userRef(c.in, known)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("userRef(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
