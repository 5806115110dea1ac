package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/store"
)

// loadIndex returns the in-memory graph index (see obtainIndex), drawing
// progress on progress and saying there how it got the index.
func loadIndex(ctx context.Context, db *store.DB, progress io.Writer) (*graph.Index, error) {
	start := time.Now()
	p := newProgress(progress)
	ix, how, err := obtainIndex(ctx, db, func(stage string, done, _ int) {
		if p.due(time.Now(), false) {
			p.draw(fmt.Sprintf("%-22s %s records", stage, count(done)))
		}
	})
	p.done()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "graph: %s nodes, %s transactions %s in %s\n",
		count(ix.Len()), count(ix.TxCount()), how, time.Since(start).Round(time.Millisecond))
	return ix, nil
}

// ruleFlags are the flags shared by flags, clusters and eval.
type ruleFlags struct {
	config string
}

func (f *ruleFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "rule configuration JSON (see docs/DETECTION.md); default: built-in thresholds")
}

func (f *ruleFlags) load() (graph.RuleConfig, error) {
	if f.config == "" {
		return graph.DefaultRuleConfig(), nil
	}
	fh, err := os.Open(f.config)
	if err != nil {
		return graph.RuleConfig{}, fmt.Errorf("rule config: %w", err)
	}
	defer fh.Close()
	cfg, err := graph.ParseRuleConfig(fh)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", f.config, err)
	}
	return cfg, nil
}

// runRules loads the index and runs the rules with progress on stderr.
func runRules(ctx context.Context, dbf dbFlags, cfg graph.RuleConfig, stderr io.Writer) (*graph.Index, graph.Flags, error) {
	// Writable, so that a rebuilt graph index is stored for the next run.
	db, err := dbf.open(false, false)
	if err != nil {
		return nil, graph.Flags{}, err
	}
	defer db.Close()
	ix, err := loadIndex(ctx, db, stderr)
	if err != nil {
		return nil, graph.Flags{}, err
	}
	start := time.Now()
	p := newProgress(stderr)
	flags, err := graph.RunRules(ctx, ix, cfg, func(done, total int) { p.stage("red-flag rules", int64(done), int64(total)) })
	p.done()
	if err != nil {
		return nil, graph.Flags{}, err
	}
	fmt.Fprintf(stderr, "rules: %s hits, %s entities at risk ≥ %.2f in %s\n", count(len(flags.Hits)),
		count(len(flags.Flagged())), flags.Threshold, time.Since(start).Round(time.Millisecond))
	return ix, flags, nil
}

func cmdFlags(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flags", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	var rf ruleFlags
	rf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	rule := fs.String("rule", "", "only hits of this rule, e.g. R3")
	limit := fs.Int("limit", 30, "at most this many entities (0: all)")
	printConfig := fs.Bool("print-config", false, "print the default rule configuration as JSON and exit")
	all := fs.Bool("all", false, "list entities below the flag threshold too")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *printConfig {
		return graph.DefaultRuleConfig().WriteJSON(stdout)
	}
	if *rule != "" {
		*rule = strings.ToUpper(*rule)
		known := false
		for _, id := range graph.RuleIDs {
			known = known || id == *rule
		}
		if !known {
			return usageError{fmt.Sprintf("unknown rule %q (want R1 … R22)", *rule)}
		}
	}
	cfg, err := rf.load()
	if err != nil {
		return err
	}
	ix, flags, err := runRules(ctx, dbf, cfg, stderr)
	if err != nil {
		return err
	}
	var rows []graph.Risk
	for _, r := range flags.Risks {
		if !*all && r.Score < flags.Threshold {
			break
		}
		if *rule != "" && !hasRule(r, *rule) {
			continue
		}
		rows = append(rows, r)
		if *limit > 0 && len(rows) == *limit {
			break
		}
	}
	if *asJSON {
		return writeJSON(stdout, flagsJSON(ix, flags, rows, *rule))
	}
	for _, r := range rows {
		fmt.Fprintf(stdout, "%.2f  %-8s %-36s %s\n", r.Score, r.Kind, graph.RefTitle(r.Ref), r.Ref)
		fmt.Fprintf(stdout, "      %s\n", r.Explanation)
		if *rule != "" {
			for _, k := range r.Hits {
				h := flags.Hits[k]
				if h.Rule == *rule {
					fmt.Fprintf(stdout, "      %s %.2f %s · %d transactions\n", h.Rule, h.Score, h.Reason, len(h.Evidence))
				}
			}
		}
	}
	fmt.Fprintf(stdout, "%d shown · %s at risk ≥ %.2f\n", len(rows), count(len(flags.Flagged())), flags.Threshold)
	return nil
}

func hasRule(r graph.Risk, rule string) bool {
	for _, rs := range r.Rules {
		if rs.Rule == rule {
			return true
		}
	}
	return false
}

type hitOut struct {
	Rule     string   `json:"rule"`
	Score    float64  `json:"score"`
	Reason   string   `json:"reason"`
	Evidence []string `json:"evidence"`
	From     string   `json:"from,omitempty"`
	To       string   `json:"to,omitempty"`
}

type riskOut struct {
	Ref         string             `json:"ref"`
	Kind        string             `json:"kind"`
	Name        string             `json:"name,omitempty"`
	Score       float64            `json:"score"`
	Rules       map[string]float64 `json:"rules"`
	Explanation string             `json:"explanation"`
	Hits        []hitOut           `json:"hits"`
}

func flagsJSON(ix *graph.Index, flags graph.Flags, rows []graph.Risk, rule string) any {
	out := make([]riskOut, 0, len(rows))
	for _, r := range rows {
		ro := riskOut{Ref: r.Ref.String(), Kind: r.Kind.String(), Name: ix.Name(r.Node), Score: r.Score,
			Rules: map[string]float64{}, Explanation: r.Explanation, Hits: []hitOut{}}
		for _, rs := range r.Rules {
			ro.Rules[rs.Rule] = rs.Score
		}
		for _, k := range r.Hits {
			h := flags.Hits[k]
			if rule != "" && h.Rule != rule {
				continue
			}
			ho := hitOut{Rule: h.Rule, Score: h.Score, Reason: h.Reason, Evidence: make([]string, 0, len(h.Evidence))}
			for _, t := range h.Evidence {
				ho.Evidence = append(ho.Evidence, ix.TxID(t))
			}
			if h.Window.From != 0 || h.Window.To != 0 {
				ho.From = time.Unix(h.Window.From, 0).UTC().Format(time.RFC3339)
				ho.To = time.Unix(h.Window.To, 0).UTC().Format(time.RFC3339)
			}
			ro.Hits = append(ro.Hits, ho)
		}
		out = append(out, ro)
	}
	return map[string]any{"threshold": flags.Threshold, "flagged": len(flags.Flagged()), "hits": len(flags.Hits), "entities": out}
}

func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	var rf ruleFlags
	rf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	truthPath := fs.String("truth", "", "ground_truth.json written by casegraph generate")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *truthPath == "" {
		return usageError{"eval needs --truth FILE"}
	}
	fh, err := os.Open(*truthPath)
	if err != nil {
		return fmt.Errorf("ground truth: %w", err)
	}
	truth, err := graph.ParseGroundTruth(fh)
	fh.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", *truthPath, err)
	}
	cfg, err := rf.load()
	if err != nil {
		return err
	}
	ix, flags, err := runRules(ctx, dbf, cfg, stderr)
	if err != nil {
		return err
	}
	groups, err := graph.SuspectedGroups(ctx, ix, flags)
	if err != nil {
		return err
	}
	rep := graph.Evaluate(flags, truth, groupRefs(ix, groups))
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	printEval(stdout, rep)
	return nil
}

func groupRefs(ix *graph.Index, groups []graph.SuspectedGroup) [][]graph.Ref {
	out := make([][]graph.Ref, 0, len(groups))
	for _, g := range groups {
		refs := make([]graph.Ref, 0, len(g.Persons)+len(g.Instruments))
		for _, n := range g.Persons {
			refs = append(refs, ix.Ref(n))
		}
		for _, n := range g.Instruments {
			refs = append(refs, ix.Ref(n))
		}
		out = append(out, refs)
	}
	return out
}

func printEval(w io.Writer, r graph.EvalReport) {
	fmt.Fprintf(w, "mule cards     %d planted, %d flagged at risk ≥ %.2f, %d correct\n", r.MuleCards, r.FlaggedCards, r.Threshold, r.Correct)
	fmt.Fprintf(w, "               recall %.3f  precision %.3f  F1 %.3f\n", r.Recall, r.Precision, r.F1)
	fmt.Fprintf(w, "groups         %d suspected, %d planted, %d persons\n", r.PredictedGroups, r.TruthGroups, r.GroupPersons)
	fmt.Fprintf(w, "               pairwise precision %.3f  recall %.3f  F1 %.3f  ARI %.3f\n", r.PairPrecision, r.PairRecall, r.PairF1, r.ARI)
	fmt.Fprintln(w, "threshold  flagged  recall  precision")
	for _, p := range r.Curve {
		fmt.Fprintf(w, "  %.1f     %7d  %.3f   %.3f\n", p.Threshold, p.Flagged, p.Recall, p.Precision)
	}
	fmt.Fprintln(w, "rule  hits    cards  correct  precision  recall")
	for _, re := range r.PerRule {
		fmt.Fprintf(w, "%-4s %6d %7d %8d    %.3f    %.3f\n", re.Rule, re.OwnHits, re.Cards, re.Correct, re.Precision, re.Recall)
	}
}
