package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// show carries the risk of the analysis casegraph flags kept, in text and
// JSON, and says when an import changed the data since.
func TestShowCarriesKeptRisk(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "rules"))
	const dropper = "iin:990101300102"
	type shown struct {
		Risk *struct {
			Score    float64 `json:"score"`
			Flagged  bool    `json:"flagged"`
			Hits     []struct{ Rule, On string }
			Analysis struct {
				Time  string `json:"time"`
				Stale bool   `json:"stale"`
			} `json:"analysis"`
		} `json:"risk"`
	}
	showJSON := func() shown {
		t.Helper()
		var s shown
		if err := json.Unmarshal([]byte(runCmd(t, "show", "--db", db, "--json", dropper)), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := showJSON(); s.Risk != nil {
		t.Fatalf("risk before any analysis: %+v", s.Risk)
	}
	if text := runCmd(t, "show", "--db", db, dropper); strings.Contains(text, "risk ") {
		t.Fatalf("show printed a risk before any analysis:\n%s", text)
	}

	runCmd(t, "flags", "--db", db)
	s := showJSON()
	if s.Risk == nil || !s.Risk.Flagged || s.Risk.Score < 0.5 || s.Risk.Analysis.Stale || s.Risk.Analysis.Time == "" || len(s.Risk.Hits) == 0 {
		t.Fatalf("risk after flags: %+v", s.Risk)
	}
	on := false
	for _, h := range s.Risk.Hits {
		on = on || strings.HasPrefix(h.On, "card:")
	}
	if !on {
		t.Errorf("the person's hits name none of the cards they hold: %+v", s.Risk.Hits)
	}
	text := runCmd(t, "show", "--db", db, dropper)
	for _, want := range []string{"risk           0.", "⚑ flagged", "analysis of ", "built-in rules", "  ⚑ R"} {
		if !strings.Contains(text, want) {
			t.Errorf("show lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "data changed since") {
		t.Errorf("a fresh analysis reads stale:\n%s", text)
	}

	// An import after the analysis: still shown, marked stale.
	more := t.TempDir()
	csv := "tx_id,time,from,to,amount,channel\nZ0001,2025-04-01 10:00:00,card:440043100000007,card:440043100100005,1000,transfer\n"
	if err := os.WriteFile(filepath.Join(more, "transactions.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	runCmd(t, "import", "--db", db, more)
	if s := showJSON(); s.Risk == nil || !s.Risk.Analysis.Stale {
		t.Fatalf("risk after an import: %+v", s.Risk)
	}
	if text := runCmd(t, "show", "--db", db, dropper); !strings.Contains(text, "data changed since — run casegraph flags to refresh") {
		t.Errorf("show after an import does not say it is stale:\n%s", text)
	}
}
