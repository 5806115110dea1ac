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
	var found struct {
		Hits []struct {
			Ref  string `json:"ref"`
			Risk *struct {
				Score   float64 `json:"score"`
				Flagged bool    `json:"flagged"`
			} `json:"risk"`
		} `json:"hits"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "search", "--db", db, "--json", "--kind", "person", "Дроппер 1")), &found); err != nil {
		t.Fatal(err)
	}
	if len(found.Hits) == 0 || found.Hits[0].Ref != dropper || found.Hits[0].Risk == nil || found.Hits[0].Risk.Score != s.Risk.Score || !found.Hits[0].Risk.Flagged {
		t.Errorf("search hit without the kept risk: %+v", found.Hits)
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

// show of a person prints the money of everything they hold: the combined
// totals equal the sum of their cards' totals, and every transaction names
// the card it is on; trace starts from all of their cards.
func TestShowAndTracePersonCombineHoldings(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "rules"))
	type page struct {
		Total    int    `json:"transactions_total"`
		In       string `json:"in"`
		Out      string `json:"out"`
		Holdings *struct {
			Instruments  int `json:"instruments"`
			Transactions int `json:"transactions"`
			Listed       []struct {
				Ref          string `json:"ref"`
				Transactions int    `json:"transactions"`
			} `json:"listed"`
		} `json:"holdings"`
		Txns []struct {
			ID  string `json:"tx_id"`
			Via string `json:"via"`
		} `json:"transactions"`
	}
	show := func(ref string) page {
		t.Helper()
		var p page
		if err := json.Unmarshal([]byte(runCmd(t, "show", "--db", db, "--json", "--limit", "1000", ref)), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	person := show("iin:990101300102")
	if person.Holdings == nil || person.Holdings.Instruments != 3 || len(person.Holdings.Listed) != 3 {
		t.Fatalf("holdings: %+v", person.Holdings)
	}
	sum := 0
	for _, h := range person.Holdings.Listed {
		card := show(h.Ref)
		if card.Total != h.Transactions {
			t.Errorf("%s: listed with %d transactions, its own page has %d", h.Ref, h.Transactions, card.Total)
		}
		sum += card.Total
	}
	if sum == 0 || person.Total != sum || person.Holdings.Transactions != sum || len(person.Txns) != sum {
		t.Fatalf("person: %d transactions (%d listed, holdings say %d), the cards add up to %d", person.Total, len(person.Txns), person.Holdings.Transactions, sum)
	}
	for _, tx := range person.Txns {
		if !strings.HasPrefix(tx.Via, "card:") {
			t.Fatalf("transaction %s names no card: %q", tx.ID, tx.Via)
		}
	}
	if text := runCmd(t, "show", "--db", db, "iin:990101300102"); !strings.Contains(text, "holds          3 instruments · combined ") {
		t.Errorf("show does not print the combined totals:\n%s", text)
	}

	// Forward and backward traces from the person start from their cards.
	var tr struct {
		Hops []struct {
			Ref    string `json:"ref"`
			Amount int64  `json:"amount_minor"`
			Depth  int    `json:"depth"`
		} `json:"hops"`
	}
	for _, dir := range [][]string{nil, {"--backward"}} {
		args := append([]string{"trace", "--db", db, "--json", "iin:990101300102"}, dir...)
		if err := json.Unmarshal([]byte(runCmd(t, args...)), &tr); err != nil {
			t.Fatal(err)
		}
		if len(tr.Hops) < 2 || tr.Hops[0].Ref != "iin:990101300102" || tr.Hops[0].Amount <= 0 {
			t.Fatalf("trace %v from the person: %+v", dir, tr.Hops)
		}
		var cards int64
		for _, h := range tr.Hops {
			if h.Depth == 1 {
				if !strings.HasPrefix(h.Ref, "card:") {
					t.Errorf("trace %v: first level %s is not one of the cards", dir, h.Ref)
				}
				cards += h.Amount
			}
		}
		if cards != tr.Hops[0].Amount {
			t.Errorf("trace %v: the cards carry %d, the person %d", dir, cards, tr.Hops[0].Amount)
		}
	}
}

// The demo opens with the risk on every page: it runs the rules once after
// its import and keeps them, so show (and search, and the TUI before F)
// carry the risk of a planted mule card.
func TestDemoKeepsItsAnalysis(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and imports the small demo")
	}
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "demo", "--no-tui", "--db", db)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(db), "data-small-1", "truth", "ground_truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth struct {
		Mules []string `json:"mule_cards"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil || len(truth.Mules) == 0 {
		t.Fatalf("ground truth: %v %+v", err, truth)
	}
	flagged := 0
	for _, pan := range truth.Mules[:min(5, len(truth.Mules))] {
		var s struct {
			Risk *struct {
				Flagged  bool `json:"flagged"`
				Analysis struct {
					Stale bool `json:"stale"`
				} `json:"analysis"`
			} `json:"risk"`
		}
		if err := json.Unmarshal([]byte(runCmd(t, "show", "--db", db, "--json", "--limit", "1", "card:"+pan)), &s); err != nil {
			t.Fatal(err)
		}
		if s.Risk == nil || s.Risk.Analysis.Stale {
			t.Fatalf("mule card %s after the demo: risk %+v", pan, s.Risk)
		}
		if s.Risk.Flagged {
			flagged++
		}
	}
	if flagged == 0 {
		t.Error("none of the first mule cards is flagged after the demo")
	}
}
