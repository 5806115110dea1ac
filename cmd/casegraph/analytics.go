package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
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

// load reads the --config file, or returns the built-in defaults without
// one. Commands that run the rules on a database go through resolve
// instead: there the database's own configuration (casegraph calibrate
// --apply) replaces the defaults.
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

// resolve is the configuration the rules run with on db: the --config file,
// else the database's own, else the defaults. from says which, for stderr.
func (f *ruleFlags) resolve(ctx context.Context, db *store.DB) (cfg graph.RuleConfig, from string, err error) {
	if f.config != "" {
		cfg, err := f.load()
		return cfg, f.config, err
	}
	cfg, v, ok, err := dbRuleConfig(ctx, db)
	if err != nil || !ok || v.Defaults() {
		return cfg, "", err
	}
	return cfg, fmt.Sprintf("the database's rule config, version %d (%s)", v.Seq, v.Note), nil
}

// dbRuleConfig is the database's own rule configuration, or the defaults
// (ok false) when none was applied.
func dbRuleConfig(ctx context.Context, db *store.DB) (graph.RuleConfig, store.RuleConfigVersion, bool, error) {
	v, ok, err := db.RuleConfig(ctx)
	if err != nil || !ok || v.Defaults() {
		return graph.DefaultRuleConfig(), v, ok, err
	}
	cfg, err := graph.ParseRuleConfig(bytes.NewReader(v.Config))
	if err != nil {
		return cfg, v, ok, fmt.Errorf("rule config version %d stored in %s: %w", v.Seq, db.Dir(), err)
	}
	return cfg, v, ok, nil
}

// runRules loads the index and runs the rules with progress on stderr, with
// the configuration rf resolves to.
func runRules(ctx context.Context, dbf dbFlags, rf ruleFlags, stderr io.Writer) (*graph.Index, graph.Flags, error) {
	return runRulesAfter(ctx, dbf, rf, stderr, nil)
}

// runRulesAfter is runRules calling before, when not nil, on the index
// before the rules run; its error stops the run.
func runRulesAfter(ctx context.Context, dbf dbFlags, rf ruleFlags, stderr io.Writer, before func(*graph.Index) error) (*graph.Index, graph.Flags, error) {
	return runRulesThen(ctx, dbf, rf, stderr, before, nil)
}

// runRulesThen is runRulesAfter calling then, when not nil, with the
// database still open after the rules ran; its error is returned.
func runRulesThen(ctx context.Context, dbf dbFlags, rf ruleFlags, stderr io.Writer, before func(*graph.Index) error,
	then func(db *store.DB, ix *graph.Index, flags graph.Flags, cfg graph.RuleConfig) error) (*graph.Index, graph.Flags, error) {
	// Writable, so that a rebuilt graph index is stored for the next run.
	db, err := dbf.open(false, false)
	if err != nil {
		return nil, graph.Flags{}, err
	}
	defer db.Close()
	cfg, from, err := rf.resolve(ctx, db)
	if err != nil {
		return nil, graph.Flags{}, err
	}
	ix, err := loadIndex(ctx, db, stderr)
	if err != nil {
		return nil, graph.Flags{}, err
	}
	if before != nil {
		if err := before(ix); err != nil {
			return nil, graph.Flags{}, err
		}
	}
	if from != "" {
		fmt.Fprintf(stderr, "rules: configuration from %s\n", from)
	}
	start := time.Now()
	p := newProgress(stderr)
	flags, err := graph.RunRules(ctx, ix, cfg, func(done, total int) { p.stage("red-flag rules", int64(done), int64(total)) })
	p.done()
	if err != nil {
		return nil, graph.Flags{}, err
	}
	fmt.Fprintf(stderr, "rules: %s hits, %s subjects (%s entities) at risk ≥ %.2f in %s\n", count(len(flags.Hits)),
		count(len(flags.FlaggedSubjects())), count(len(flags.Flagged())), flags.Threshold, time.Since(start).Round(time.Millisecond))
	if then != nil {
		if err := then(db, ix, flags, cfg); err != nil {
			return nil, graph.Flags{}, err
		}
	}
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
			return usageError{fmt.Sprintf("unknown rule %q (want R1 … R23)", *rule)}
		}
	}
	if _, err := rf.load(); err != nil {
		return err
	}
	var verdicts map[graph.Ref]graph.Verdict
	ix, flags, err := runRulesThen(ctx, dbf, rf, stderr, nil, func(db *store.DB, _ *graph.Index, _ graph.Flags, _ graph.RuleConfig) error {
		var err error
		verdicts, err = verdictMap(ctx, db)
		return err
	})
	if err != nil {
		return err
	}
	// One row per subject: a person carries the rules of the cards they
	// hold, which are not listed again.
	var rows []graph.Risk
	for _, r := range flags.Subjects() {
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
		return writeJSON(stdout, flagsJSON(ix, flags, rows, *rule, verdicts))
	}
	held := heldRisks(flags)
	for _, r := range rows {
		fmt.Fprintf(stdout, "%.2f  %-8s %-36s %s%s\n", r.Score, r.Kind, graph.RefTitle(r.Ref), r.Ref, verdictTag(verdicts, r.Ref))
		fmt.Fprintf(stdout, "      %s · typology %.2f, context %.2f · %d evidence transactions\n",
			typologyWords(r), r.Typology, r.Context, r.Evidence)
		fmt.Fprintf(stdout, "      %s\n", r.Explanation)
		if *rule != "" {
			for _, k := range subjectHits(flags, held, r) {
				h := flags.Hits[k]
				if h.Rule == *rule {
					on := ""
					if h.Node != r.Node {
						on = " · on " + graph.RefTitle(flags.Refs[h.Node])
					}
					fmt.Fprintf(stdout, "      %s %.2f %s · %d transactions%s\n", h.Rule, h.Score, h.Reason, len(h.Evidence), on)
				}
			}
		}
	}
	fmt.Fprintf(stdout, "%d shown · %s subjects at risk ≥ %.2f\n", len(rows), count(len(flags.FlaggedSubjects())), flags.Threshold)
	return nil
}

// heldRisks maps each subject to the risks of the instruments it holds.
func heldRisks(flags graph.Flags) map[graph.NodeID][]graph.Risk {
	held := map[graph.NodeID][]graph.Risk{}
	for _, o := range flags.Risks {
		if o.Subject != o.Node {
			held[o.Subject] = append(held[o.Subject], o)
		}
	}
	return held
}

// subjectHits lists a subject's own hits and those of the instruments it
// holds.
func subjectHits(flags graph.Flags, held map[graph.NodeID][]graph.Risk, r graph.Risk) []int {
	hits := slices.Clone(r.Hits)
	for _, o := range held[r.Node] {
		hits = append(hits, o.Hits...)
	}
	return hits
}

// typologyWords says how many typologies stand behind a risk, and which
// context signals raise it.
func typologyWords(r graph.Risk) string {
	var ctx []string
	for _, rs := range r.Rules {
		if rs.IsContext() {
			ctx = append(ctx, rs.Rule)
		}
	}
	w := fmt.Sprintf("%d typologies", r.Typologies)
	if r.Typologies == 1 {
		w = "1 typology"
	}
	if len(ctx) > 0 {
		w += " + context " + strings.Join(ctx, " ")
	}
	return w
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
	On       string   `json:"on,omitempty"` // the held instrument the hit is on, in a person's row
}

type riskOut struct {
	Ref         string             `json:"ref"`
	Kind        string             `json:"kind"`
	Name        string             `json:"name,omitempty"`
	Score       float64            `json:"score"`
	Typology    float64            `json:"typology"`
	Context     float64            `json:"context"`
	Typologies  int                `json:"typologies"`
	Evidence    int                `json:"evidence_transactions"`
	Holds       []string           `json:"holds,omitempty"` // a person's instruments at risk
	Rules       map[string]float64 `json:"rules"`
	Explanation string             `json:"explanation"`
	Hits        []hitOut           `json:"hits"`
	Verdict     graph.VerdictKind  `json:"verdict,omitempty"` // an analyst's verdict, if any
	VerdictNote string             `json:"verdict_note,omitempty"`
}

func flagsJSON(ix *graph.Index, flags graph.Flags, rows []graph.Risk, rule string, verdicts map[graph.Ref]graph.Verdict) any {
	out := make([]riskOut, 0, len(rows))
	held := heldRisks(flags)
	for _, r := range rows {
		ro := riskOut{Ref: r.Ref.String(), Kind: r.Kind.String(), Name: ix.Name(r.Node), Score: r.Score,
			Typology: r.Typology, Context: r.Context, Typologies: r.Typologies, Evidence: r.Evidence,
			Rules: map[string]float64{}, Explanation: r.Explanation, Hits: []hitOut{}}
		if v, ok := verdicts[r.Ref]; ok {
			ro.Verdict, ro.VerdictNote = v.Kind, v.Note
		}
		for _, o := range held[r.Node] {
			ro.Holds = append(ro.Holds, o.Ref.String())
		}
		hits := subjectHits(flags, held, r)
		for _, rs := range r.Rules {
			ro.Rules[rs.Rule] = rs.Score
		}
		for _, k := range hits {
			h := flags.Hits[k]
			if rule != "" && h.Rule != rule {
				continue
			}
			ho := hitOut{Rule: h.Rule, Score: h.Score, Reason: h.Reason, Evidence: make([]string, 0, len(h.Evidence))}
			if h.Node != r.Node {
				ho.On = flags.Refs[h.Node].String()
			}
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
	return map[string]any{"threshold": flags.Threshold, "flagged": len(flags.FlaggedSubjects()),
		"flagged_entities": len(flags.Flagged()), "hits": len(flags.Hits), "entities": out}
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
	truth, err := graph.ReadGroundTruth(*truthPath)
	if err != nil {
		return err
	}
	if _, err := rf.load(); err != nil {
		return err
	}
	// A truth whose members and cards the database does not hold would
	// score 0 without saying why: refuse it before the rules run.
	ix, flags, err := runRulesAfter(ctx, dbf, rf, stderr, func(ix *graph.Index) error {
		if err := graph.CheckTruth(ix, truth); err != nil {
			return fmt.Errorf("%s: %w", *truthPath, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	groups, err := graph.SuspectedGroups(ctx, ix, flags)
	if err != nil {
		return err
	}
	refs := groupRefs(ix, groups)
	rep := graph.Evaluate(flags, truth, refs)
	if len(truth.Decoys) > 0 {
		dr := graph.EvaluateDecoys(flags, truth, refs)
		rep.Decoys = &dr
	}
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
	if d := r.Decoys; d != nil {
		fmt.Fprintf(w, "               largest suspected group %d persons; %d persons in suspected groups\n", d.LargestGroup, d.GroupPersons)
		fmt.Fprintf(w, "organisers     %d: %d flagged as persons, %d with an own card flagged\n", d.Organisers, d.OrganisersFlagged, d.OrganisersCardFlagged)
		fmt.Fprintf(w, "decoys         %d persons (%d cards): %d flagged (%d cards), %d in suspected groups\n", d.Decoys, d.DecoyCards, d.FlaggedPersons, d.FlaggedCards, d.InGroups)
		fmt.Fprintln(w, "  type            persons  flagged  cards  flagged  in groups")
		for _, t := range d.PerType {
			fmt.Fprintf(w, "  %-15s %7d  %7d  %5d  %7d  %9d\n", t.Type, t.Persons, t.FlaggedPersons, t.Cards, t.FlaggedCards, t.InGroups)
		}
	}
	fmt.Fprintln(w, "threshold  flagged  recall  precision")
	for _, p := range r.Curve {
		fmt.Fprintf(w, "  %.1f     %7d  %.3f   %.3f\n", p.Threshold, p.Flagged, p.Recall, p.Precision)
	}
	fmt.Fprintln(w, "rule  hits    cards  correct  precision  recall")
	for _, re := range r.PerRule {
		fmt.Fprintf(w, "%-4s %6d %7d %8d    %.3f    %.3f\n", re.Rule, re.OwnHits, re.Cards, re.Correct, re.Precision, re.Recall)
	}
}
