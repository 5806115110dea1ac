package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"casegraph/graph"
)

// chainB is the middle card of the layering chain in testdata/rules.
var chainB = graph.Ref{Kind: graph.KindCard, Key: "440043100100005"}

// TestFlagsAndEvalEndToEnd imports the hand-made case in testdata/rules
// (three droppers with cards in three banks, a layering chain to an ATM,
// structured top-ups and an unlicensed exchange, six ordinary card holders)
// and checks what flags and eval report.
func TestFlagsAndEvalEndToEnd(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "rules")
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, data)

	var cfg graph.RuleConfig
	if err := json.Unmarshal([]byte(runCmd(t, "flags", "--print-config")), &cfg); err != nil {
		t.Fatalf("--print-config is not JSON: %v", err)
	}
	if cfg.R3.ThresholdKZT != 500000 {
		t.Fatalf("printed config R3 threshold %d, want 500000", cfg.R3.ThresholdKZT)
	}

	var fl struct {
		Flagged  int `json:"flagged"`
		Entities []struct {
			Ref   string             `json:"ref"`
			Rules map[string]float64 `json:"rules"`
			Hits  []struct {
				Rule     string   `json:"rule"`
				Evidence []string `json:"evidence"`
				On       string   `json:"on"`
			} `json:"hits"`
		} `json:"entities"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "flags", "--db", db, "--json", "--rule", "R13", "--limit", "0")), &fl); err != nil {
		t.Fatal(err)
	}
	chain := map[string]bool{}
	for _, e := range fl.Entities {
		for _, h := range e.Hits {
			if h.Rule == "R13" {
				on := e.Ref
				if h.On != "" {
					on = h.On // a hit on a card the listed person holds
				}
				chain[on] = true
				if len(h.Evidence) < 3 {
					t.Errorf("R13 hit on %s has %d evidence transactions, want the chain", e.Ref, len(h.Evidence))
				}
			}
		}
	}
	for _, want := range []string{"card:440043100000007", "card:440043100100005", "card:440043100200003"} {
		if !chain[want] {
			t.Errorf("R13 did not flag %s; flagged %v", want, chain)
		}
	}
	if chain["card:5177920000000005"] {
		t.Error("R13 flagged the victim who paid into the chain")
	}

	var rep graph.EvalReport
	out := runCmd(t, "eval", "--db", db, "--truth", filepath.Join(data, "truth", "ground_truth.json"), "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.MuleCards != 9 || rep.Recall != 1 || rep.Precision != 1 {
		t.Errorf("eval: %d mule cards, recall %.2f, precision %.2f; want 9, 1, 1", rep.MuleCards, rep.Recall, rep.Precision)
	}
	if rep.PairF1 != 1 {
		t.Errorf("eval: pairwise F1 %.2f, want 1", rep.PairF1)
	}

	// The graph twins: the chain is a path, and a forward trace from the
	// victim's payment ends in cash.
	var paths struct {
		Paths [][]struct {
			Ref string `json:"ref"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "path", "--db", db, "--json", "--directed",
		"card:5177920000000005", "card:440043100200003")), &paths); err != nil {
		t.Fatal(err)
	}
	if len(paths.Paths) != 1 || len(paths.Paths[0]) != 4 {
		t.Errorf("path victim → last mule: %+v, want one path of 3 hops", paths.Paths)
	}
	tr := runCmd(t, "trace", "--db", db, "T0007", "--max-dwell", "6h")
	if !strings.Contains(tr, "[cash]") {
		t.Errorf("trace from the victim's payment does not end in cash:\n%s", tr)
	}
	var cl struct {
		Clusters []struct {
			Flagged int `json:"flagged"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "clusters", "--db", db, "--json", "--by", "risk")), &cl); err != nil {
		t.Fatal(err)
	}
	if len(cl.Clusters) == 0 || cl.Clusters[0].Flagged == 0 {
		t.Errorf("clusters by risk: %+v, want a flagged community first", cl.Clusters)
	}
	text := runCmd(t, "eval", "--db", db, "--truth", filepath.Join(data, "truth", "ground_truth.json"))
	if !strings.Contains(text, "recall 1.000") {
		t.Errorf("eval text report:\n%s", text)
	}
}

// TestClustersJSONListsEveryMember checks that both clustering methods list
// the instruments of a cluster with their refs, not only its persons.
func TestClustersJSONListsEveryMember(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "rules")
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, data)
	for _, method := range []string{"groups", "louvain"} {
		var cl struct {
			Clusters []struct {
				Members     []string `json:"members"`
				Persons     int      `json:"persons"`
				Instruments int      `json:"instruments"`
			} `json:"clusters"`
		}
		out := runCmd(t, "clusters", "--db", db, "--json", "--method", method, "--limit", "0")
		if err := json.Unmarshal([]byte(out), &cl); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if len(cl.Clusters) == 0 {
			t.Fatalf("%s: no clusters", method)
		}
		instruments := 0
		for i, c := range cl.Clusters {
			if len(c.Members) != c.Persons+c.Instruments {
				t.Errorf("%s cluster %d: %d members listed, %d persons + %d instruments", method, i+1, len(c.Members), c.Persons, c.Instruments)
			}
			persons := 0
			for j, m := range c.Members {
				ref, err := graph.ParseRef(m)
				if err != nil {
					t.Errorf("%s cluster %d: member %q is not a ref: %v", method, i+1, m, err)
					continue
				}
				if ref.Kind == graph.KindPerson {
					persons++
					if j >= c.Persons {
						t.Errorf("%s cluster %d: person %s listed after the instruments", method, i+1, m)
					}
				} else {
					instruments++
				}
			}
			if persons != c.Persons {
				t.Errorf("%s cluster %d: %d persons listed, count says %d", method, i+1, persons, c.Persons)
			}
		}
		if instruments == 0 {
			t.Errorf("%s: no cluster lists an instrument:\n%s", method, out)
		}
	}
}

// TestEvalRefusesForeignTruth: a ground truth whose members are named
// otherwise than the database's persons (account ids, a scheme prefix) is
// refused with an error naming the file and examples from both sides,
// instead of a report of recall 0; so is a file that is no ground truth.
func TestEvalRefusesForeignTruth(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "rules")
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, data)
	raw, err := os.ReadFile(filepath.Join(data, "truth", "ground_truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth graph.GroundTruth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, v any) string {
		path := filepath.Join(dir, name)
		var b []byte
		if s, ok := v.(string); ok {
			b = []byte(s)
		} else if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	prefixed := truth
	prefixed.Groups = slices.Clone(truth.Groups)
	prefixed.MuleCards = nil
	for i, g := range prefixed.Groups {
		g.Members = slices.Clone(g.Members)
		for j, m := range g.Members {
			g.Members[j] = "iin:" + m
		}
		prefixed.Groups[i] = g
	}
	accounts := truth
	accounts.MuleCards = nil
	for i := range truth.MuleCards {
		accounts.MuleCards = append(accounts.MuleCards, fmt.Sprintf("acct-%d", i))
	}
	for _, tc := range []struct {
		file string
		want []string
	}{
		{write("prefixed.json", prefixed), []string{"prefixed.json", "does not describe", `member "iin:`, "persons such as iin:"}},
		{write("accounts.json", accounts), []string{"accounts.json", `mule card "acct-0"`, "cards such as card:"}},
		{write("summary.json", `{"total_attempts": 370}`), []string{"summary.json", "not a casegraph ground truth"}},
		{write("empty.json", `{"groups": [], "mule_cards": []}`), []string{"empty.json", "no groups and no mule cards"}},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"eval", "--db", db, "--truth", tc.file}, &out, &errOut)
		if err == nil {
			t.Errorf("%s: eval succeeded:\n%s", tc.file, out.String())
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q: %v", tc.file, w, err)
			}
		}
	}
}
