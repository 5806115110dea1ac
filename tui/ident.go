package tui

import (
	"casegraph/graph"
	"casegraph/internal/safetext"
)

// identOf is the identifier that tells two entities of the same name
// apart, for lists that show names (group members, path hops, graph
// nodes): "IIN 850312 300002" for a person, "BIN …" for an organisation,
// the masked PAN of a card, the IBAN of an account, else the key. It is
// empty when the entity has no name (the list then shows the identifier
// itself).
func identOf(r graph.Ref, name string) string {
	if name == "" {
		return ""
	}
	switch r.Kind {
	case graph.KindPerson:
		if isDigits(r.Key, 12) {
			return "IIN " + graph.FormatIIN(r.Key)
		}
	case graph.KindOrganisation:
		if isDigits(r.Key, 12) {
			return "BIN " + graph.FormatIIN(r.Key)
		}
	case graph.KindCard:
		return safetext.Line(graph.MaskPAN(r.Key))
	case graph.KindAccount:
		return safetext.Line(graph.FormatIBAN(r.Key))
	}
	return safetext.Line(r.Key)
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
