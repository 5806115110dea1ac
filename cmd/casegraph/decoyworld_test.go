package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/importers/gen/decoy"
)

// TestDecoyWorldImportsAndEvaluates generates a small decoy world, imports
// it through the real importers (no row rejected) and runs eval, which
// reports the decoys by type. Detection quality is not asserted: the world
// exists to measure it.
func TestDecoyWorldImportsAndEvaluates(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end import of a decoy world")
	}
	tmp := t.TempDir()
	data, db := filepath.Join(tmp, "data"), filepath.Join(tmp, "db")
	out := runCmd(t, "generate", "--out", data, "--world", "decoys", "--persons", "1200", "--seed", "3")
	if !strings.Contains(out, "decoy world") || !strings.Contains(out, "in KZT") {
		t.Fatalf("generate printed %q", out)
	}
	runCmd(t, "import", "--db", db, data)
	st := statsOf(t, db)
	for _, b := range st["batches"].([]any) {
		m := b.(map[string]any)
		if m["rejected"].(float64) != 0 || m["read"].(float64) != m["imported"].(float64) {
			t.Errorf("batch with rejects: %v", m)
		}
	}

	var rep graph.EvalReport
	if err := json.Unmarshal([]byte(runCmd(t, "eval", "--db", db, "--truth", filepath.Join(data, "truth", "ground_truth.json"), "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.MuleCards == 0 || rep.TruthGroups == 0 || rep.Decoys == nil {
		t.Fatalf("eval: %d mule cards, %d groups, decoys %v", rep.MuleCards, rep.TruthGroups, rep.Decoys)
	}
	d := rep.Decoys
	if d.Decoys < 50 || len(d.PerType) != len(decoy.DecoyTypes) || d.Organisers != rep.TruthGroups {
		t.Errorf("decoy report: %d decoys, %d types, %d organisers", d.Decoys, len(d.PerType), d.Organisers)
	}
	// What the truth names is in the database: the organisers, a mule card
	// of each group and one decoy of each type with a card.
	var truth graph.GroundTruth
	raw, err := os.ReadFile(filepath.Join(data, "truth", "ground_truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	refs := []string{}
	for _, g := range truth.Groups {
		refs = append(refs, "iin:"+g.Organiser, "card:"+g.GroupMuleCards[0])
	}
	seen := map[string]bool{}
	for _, dc := range truth.Decoys {
		if !seen[dc.Type] && len(dc.Cards) > 0 {
			seen[dc.Type] = true
			refs = append(refs, "iin:"+dc.IIN, "card:"+dc.Cards[0])
		}
	}
	for _, ref := range refs {
		var shown struct {
			Ref   string `json:"ref"`
			Total int    `json:"transactions_total"`
		}
		if err := json.Unmarshal([]byte(runCmd(t, "show", "--db", db, "--json", ref)), &shown); err != nil {
			t.Fatalf("show %s: %v", ref, err)
		}
		if shown.Ref != ref {
			t.Errorf("show %s found %q", ref, shown.Ref)
		}
	}

	text := runCmd(t, "eval", "--db", db, "--truth", filepath.Join(data, "truth", "ground_truth.json"))
	for _, want := range []string{"largest suspected group", "decoys ", "cash_shop", "oneoff_buyer"} {
		if !strings.Contains(text, want) {
			t.Errorf("eval text lacks %q:\n%s", want, text)
		}
	}

	for _, args := range [][]string{
		{"generate", "--out", tmp, "--world", "nope"},
		{"generate", "--out", tmp, "--world", "decoys", "--currency", "EUR"},
		{"generate", "--out", tmp, "--persons", "2000"},
	} {
		if err := runErr(args...); err == nil {
			t.Errorf("casegraph %v: want an error", args)
		}
	}
}

// TestDecoyWorldDetection holds the defaults to the floors measured on decoy
// worlds the rules were never looked at against (seeds 6 and 7 of
// docs/DETECTION.md; the rules were shaped on seeds 1–5): few decoys flagged,
// most mule cards found at a precision an analyst can work, groups that stay
// within one planted group, every organiser flagged. A rule change that
// floods the list with families, offices or shops fails here.
func TestDecoyWorldDetection(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end import and analysis of a decoy world")
	}
	for _, seed := range []string{"6", "7"} {
		tmp := t.TempDir()
		data, db := filepath.Join(tmp, "data"), filepath.Join(tmp, "db")
		runCmd(t, "generate", "--out", data, "--world", "decoys", "--persons", "3000", "--seed", seed)
		runCmd(t, "import", "--db", db, data)
		var rep graph.EvalReport
		if err := json.Unmarshal([]byte(runCmd(t, "eval", "--db", db, "--truth", filepath.Join(data, "truth", "ground_truth.json"), "--json")), &rep); err != nil {
			t.Fatal(err)
		}
		d := rep.Decoys
		t.Logf("seed %s: mule recall %.3f precision %.3f; decoys flagged %d of %d; pairwise precision %.3f recall %.3f; largest group %d; organisers %d of %d",
			seed, rep.Recall, rep.Precision, d.FlaggedPersons, d.Decoys, rep.PairPrecision, rep.PairRecall, d.LargestGroup, d.OrganisersFlagged, d.Organisers)
		// Measured (seed 6 / 7): recall 0.907 / 0.942, precision 0.892 /
		// 0.904, decoys 7 of 267 / 7 of 280, pairwise precision 1.000 /
		// 1.000, largest group 43 / 28 persons (planted at most 43 / 45),
		// organisers 4 of 4.
		if rep.Recall < 0.8 || rep.Precision < 0.8 {
			t.Errorf("seed %s: mule recall %.3f, precision %.3f; want ≥ 0.8 each", seed, rep.Recall, rep.Precision)
		}
		if 20*d.FlaggedPersons > d.Decoys {
			t.Errorf("seed %s: %d of %d decoys flagged, want ≤ 5%%", seed, d.FlaggedPersons, d.Decoys)
		}
		if rep.PairPrecision < 0.9 || d.LargestGroup > 60 {
			t.Errorf("seed %s: pairwise precision %.3f, largest group %d persons; want ≥ 0.9 and ≤ 60", seed, rep.PairPrecision, d.LargestGroup)
		}
		if d.OrganisersFlagged < d.Organisers-1 {
			t.Errorf("seed %s: %d of %d organisers flagged", seed, d.OrganisersFlagged, d.Organisers)
		}
	}
}
