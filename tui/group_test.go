package tui

import (
	"testing"

	"casegraph/graph"
)

// g on a suspected group draws the group: every member linked through
// members, not the ego graph of one; esc goes back to the clusters.
func TestClusterGraphDrawsTheGroup(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 45}} {
		m, _ := newModel(t, sz[0], sz[1], Options{})
		press(t, m, "C")
		c, _ := m.ana.clusters.selected()
		press(t, m, "g")
		if m.screenName() != "graph" || m.gv.GroupKey() == "" {
			t.Fatalf("g on a group: screen %s, group %q", m.screenName(), m.gv.GroupKey())
		}
		in := map[graph.Ref]bool{}
		for _, mb := range c.Members {
			in[mb.Ref] = true
		}
		drawn := map[graph.Ref]bool{}
		for _, p := range m.gv.Layout().Nodes {
			if !in[p.Node.Ref] {
				t.Fatalf("non-member %v drawn in the group", p.Node.Ref)
			}
			drawn[p.Node.Ref] = true
		}
		// The fake's first group: a person with no link inside it, and a
		// card trading with an exchange: those two are drawn, and the
		// footer names the one left out.
		if len(drawn) != 2 || !drawn[refCard] || !drawn[refExchange] {
			t.Fatalf("members drawn: %v", drawn)
		}
		requireContains(t, m, "1 member not linked to the rest")
		requireContains(t, m, "Group 1 by turnover")
		press(t, m, "esc")
		if m.screenName() != "clusters" && m.screenName() != "home" {
			t.Fatalf("esc from the group: %s", m.screenName())
		}
	}
}
