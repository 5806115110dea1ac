package tui

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"casegraph/graph"
)

// requireEnds fails when a screen line shows the start of one of ids but
// not its end: the distinguishing end of an identifier is never cut.
func requireEnds(t *testing.T, name, screen string, ids map[string]string) {
	t.Helper()
	for _, line := range strings.Split(screen, "\n") {
		for start, end := range ids {
			if strings.Contains(line, start) && !strings.Contains(line, end) {
				t.Errorf("%s: %q shows %q without its end %q", name, line, start, end)
			}
		}
		// A masked PAN cut at its end: "4400 43•• •••…".
		if strings.Contains(line, "•…") || strings.Contains(line, "•• …") {
			t.Errorf("%s: a masked PAN lost its last digits: %q", name, line)
		}
	}
}

// TestSmallScreenKeepsIdentifierEnds: at 80×24 identifiers are cut from the
// middle (a masked PAN keeps its last four, an IBAN its last digits, an
// ATM or device id its tail) and columns give room to what needs it: the
// flags' rule ids and the trace's money column are not cut while free
// space is left elsewhere.
func TestSmallScreenKeepsIdentifierEnds(t *testing.T) {
	ids := map[string]string{
		"4400 43•": "7894", // refCard, masked
		"4400 …":   "0016",
		"KZ45 ":    "6792",
		"ATM-":     "0042",
		"DEV-":     "9F3A",
	}
	t.Run("search", func(t *testing.T) {
		m, _ := newModel(t, 80, 24, Options{})
		press(t, m, "/")
		typeText(t, m, "4400")
		s := screenText(m)
		requireContains(t, m, "7894", "0016")
		requireEnds(t, "search", s, ids)
	})
	t.Run("entity", func(t *testing.T) {
		m, _ := newModel(t, 80, 24, Options{Start: &refCard})
		s := screenText(m)
		requireContains(t, m, "6792", "0016", "ATM-ALA-0042")
		requireEnds(t, "entity", s, ids)
	})
	t.Run("flags", func(t *testing.T) {
		m, _ := newModel(t, 80, 24, Options{Start: &refCard})
		press(t, m, "F")
		// The top risks of the demo hit five or six rules.
		m.ana.flags.list.Rows[0].Rules = []FlagRule{{Rule: "R3"}, {Rule: "R13"}, {Rule: "R2"}, {Rule: "R14"}, {Rule: "R5", Context: true}}
		s := screenText(m)
		requireEnds(t, "flags", s, ids)
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, "R3 R1…") || regexp.MustCompile(`R\d+ …`).MatchString(line) {
				t.Errorf("flags: rule ids cut: %q", line)
			}
		}
		requireContains(t, m, "4400 43•• •••• 7894", "R3 R13 R2 +2", "R3 R11")
		if got := fitIDs([]string{"R3", "R13", "R2"}, 8); got != "R3 +2" {
			t.Errorf("fitIDs: %q", got)
		}
	})
	t.Run("trace", func(t *testing.T) {
		m, _ := newModel(t, 80, 24, Options{Start: &refCard})
		press(t, m, "t", "e")
		s := screenText(m)
		requireEnds(t, "trace", s, ids)
		// The money column names where the money went in full while the
		// end column has room to spare.
		requireContains(t, m, "trade ТенгеОбмен24", "cash_out ATM-ALA-0042", "4400 43•• •••• 7894")
	})
	t.Run("cases", func(t *testing.T) {
		m, f := newModel(t, 80, 24, Options{})
		seedCases(t, f)
		c, _ := f.CreateCase(context.Background(), "Accounts")
		f.AddBookmark(context.Background(), c.ID, graph.Bookmark{Target: graph.EntityTarget(refAccount, "")})
		press(t, m, "c")
		requireEnds(t, "cases", screenText(m), ids)
		requireContains(t, m, "KZ45 722S 0000 5432 6792", "4400 43•• •••• 7894", "tengeobmen24")
	})
}
