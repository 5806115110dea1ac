package tui

import (
	"strings"
	"testing"

	"casegraph/graph"
)

// Two persons of one name are told apart by their IINs in a group's
// members and in a path's hops, at 80×24 and 160×45.
func TestNamesakesShowTheirIINs(t *testing.T) {
	k1 := graph.Ref{Kind: graph.KindPerson, Key: "870101300011"}
	k2 := graph.Ref{Kind: graph.KindPerson, Key: "910202300022"}
	long := "KARIMOV TALANT NURLANOVICH-ABDRAKHMANOV"
	for _, sz := range [][2]int{{80, 24}, {160, 45}} {
		m, _ := newModel(t, sz[0], sz[1], Options{})
		press(t, m, "C")
		v := &m.ana.clusters
		v.rows = []Cluster{{Members: []ClusterMember{{Ref: k1, Name: long}, {Ref: k2, Name: long}, {Ref: refCard}}, Persons: 2, Instruments: 1}}
		v.nav.Reset(1, 1, v.rowText)
		v.showMembers()
		requireContains(t, m, "IIN 870101 300011", "IIN 910202 300022")

		m.ana.paths = newPathsView(m.st)
		p := &m.ana.paths
		p.a, p.b, p.loaded = k1, k2, true
		p.rows = []PathRow{{Steps: []PathStep{{Ref: k1, Name: long}, {Ref: refCard, Relation: "holds", Forward: true}, {Ref: k2, Name: long, Relation: "holds"}}}}
		p.nav.Reset(1, 1, nil)
		p.showHops()
		m.replaceTop(&anaScreen{m: m, view: anaPaths})
		s := screenText(m)
		if !strings.Contains(s, "IIN 870101 300011") || !strings.Contains(s, "IIN 910202 300022") {
			t.Fatalf("%dx%d: path hops lack the IINs:\n%s", sz[0], sz[1], s)
		}
	}
}
