package tui

import (
	"testing"

	"casegraph/graph"
)

// TestSearchLeftoversAreShown: at 80×24, a kind filter and a query left
// from the last search show when search opens again; the first typed
// character replaces the old query (before, "4400" typed again gave
// "44004400"); a query without matches under the filter says so; "?" in
// the query is text, not the help.
func TestSearchLeftoversAreShown(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 45}} {
		m, _ := newModel(t, sz[0], sz[1], Options{})
		press(t, m, "/")
		typeText(t, m, "жанбол")
		press(t, m, "tab") // person
		press(t, m, "esc")
		press(t, m, "/")
		requireContains(t, m, "/ [person] жанбол", "typing replaces it")
		typeText(t, m, "4400")
		if q := m.search.Query(); q != "4400" {
			t.Fatalf("%v: query %q, want 4400", sz, q)
		}
		requireContains(t, m, `no matches for "4400" among persons — shift+tab clears the filter`)
		press(t, m, "shift+tab")
		if m.search.Kind() != graph.KindUnknown || len(m.search.Result().Hits) == 0 {
			t.Fatalf("%v: shift+tab: kind %v, %d hits", sz, m.search.Kind(), len(m.search.Result().Hits))
		}
		typeText(t, m, "?")
		if q := m.search.Query(); q != "4400?" || m.screenName() != "search" {
			t.Fatalf("%v: ? typed: query %q, screen %s", sz, q, m.screenName())
		}
	}
}
