package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/workbench"
)

// loadIndex returns the in-memory graph index (see workbench.LoadIndex),
// drawing progress on progress and saying there how it got the index.
func loadIndex(ctx context.Context, db *store.DB, progress io.Writer) (*graph.Index, error) {
	start := time.Now()
	p := newProgress(progress)
	ix, how, err := workbench.LoadIndex(ctx, db, func(stage string, done, _ int) {
		if p.due(time.Now(), false) {
			p.draw(fmt.Sprintf("%-22s %s records", stage, count(done)))
		}
	})
	p.Done()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "graph: %s nodes, %s transactions %s in %s\n",
		count(ix.Len()), count(ix.TxCount()), how, time.Since(start).Round(time.Millisecond))
	return ix, nil
}

// ruleFlags are the flags shared by flags, clusters and eval.
type ruleFlags struct {
	Config string `placeholder:"FILE" predictor:"file" help:"rule configuration JSON (see docs/DETECTION.md); default: the database's own (casegraph calibrate --apply), else the built-in thresholds"`
}

// load reads the --config file, or returns the built-in defaults without
// one. Commands that run the rules on a database go through resolve
// instead: there the database's own configuration (casegraph calibrate
// --apply) replaces the defaults.
func (f *ruleFlags) load() (graph.RuleConfig, error) {
	if f.Config == "" {
		return graph.DefaultRuleConfig(), nil
	}
	fh, err := os.Open(f.Config)
	if err != nil {
		return graph.RuleConfig{}, fmt.Errorf("rule config: %w", err)
	}
	defer fh.Close()
	cfg, err := graph.ParseRuleConfig(fh)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", f.Config, err)
	}
	return cfg, nil
}

// resolve is the configuration the rules run with on wb's database: the
// --config file, else the database's own, else the defaults. from says
// which, for stderr.
func (f *ruleFlags) resolve(ctx context.Context, wb *workbench.Workbench) (cfg graph.RuleConfig, from string, err error) {
	f.Config = hostPath(ctx, f.Config)
	if f.Config != "" {
		cfg, err := f.load()
		return cfg, f.Config, err
	}
	return wb.RuleConfig(ctx)
}

// runRules loads the index and runs the rules with progress on stderr, with
// the configuration rf resolves to.
func runRules(ctx context.Context, dbf dbFlags, rf ruleFlags, stderr io.Writer) (*workbench.Analysis, error) {
	return runRulesAfter(ctx, dbf, rf, stderr, nil)
}

// runRulesAfter is runRules calling before, when not nil, on the index
// before the rules run; its error stops the run.
func runRulesAfter(ctx context.Context, dbf dbFlags, rf ruleFlags, stderr io.Writer, before func(*graph.Index) error) (*workbench.Analysis, error) {
	return runRulesThen(ctx, dbf, rf, stderr, before, nil)
}

// runRulesThen is runRulesAfter calling then, when not nil, with the
// database still open after the rules ran; its error is returned.
func runRulesThen(ctx context.Context, dbf dbFlags, rf ruleFlags, stderr io.Writer, before func(*graph.Index) error,
	then func(wb *workbench.Workbench, a *workbench.Analysis, cfg graph.RuleConfig) error) (*workbench.Analysis, error) {
	defer dbf.releasePull()
	db, err := dbf.openToAnalyse(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	wb := backendOf(ctx, db)
	cfg, from, err := rf.resolve(ctx, wb)
	if err != nil {
		return nil, err
	}
	ix, err := loadIndex(ctx, db, stderr)
	if err != nil {
		return nil, err
	}
	if before != nil {
		if err := before(ix); err != nil {
			return nil, err
		}
	}
	if from != "" {
		fmt.Fprintf(stderr, "rules: configuration from %s\n", from)
	}
	start := time.Now()
	p := newProgress(stderr)
	a, err := wb.RunRules(ctx, ix, cfg, func(done, total int) { p.Stage("red-flag rules", int64(done), int64(total)) })
	p.Done()
	if err != nil {
		return nil, err
	}
	flags := a.Flags()
	how := ""
	if a.Reused() {
		how = " (read from " + workbench.FlagsFileName + ": the same data, configuration, verdicts and program as its run)"
	}
	fmt.Fprintf(stderr, "rules: %s hits, %s subjects (%s entities) at risk ≥ %.2f in %s%s\n", count(len(flags.Hits)),
		count(len(flags.FlaggedSubjects())), count(len(flags.Flagged())), flags.Threshold, time.Since(start).Round(time.Millisecond), how)
	if then != nil {
		if err := then(wb, a, cfg); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// flagsCmd: casegraph flags.
type flagsCmd struct {
	DB          dbArgs    `embed:""`
	Pull        pullFlags `embed:""`
	Rules       ruleFlags `embed:""`
	JSON        bool      `name:"json" help:"print JSON"`
	Rule        string    `placeholder:"R3" help:"only hits of this rule, e.g. R3"`
	Limit       int       `default:"30" placeholder:"N" help:"at most this many entities (0: all)"`
	PrintConfig bool      `name:"print-config" help:"print the default rule configuration as JSON and exit"`
	All         bool      `help:"list entities below the flag threshold too"`
}

func (c *flagsCmd) Run(e *env) error { return cmdFlags(e.ctx, c, e.stdout, e.stderr) }

func cmdFlags(ctx context.Context, c *flagsCmd, stdout, stderr io.Writer) error {
	dbf, rf := c.DB.flags(), c.Rules
	if c.PrintConfig {
		return graph.DefaultRuleConfig().WriteJSON(stdout)
	}
	if c.Rule != "" {
		c.Rule = strings.ToUpper(c.Rule)
		known := false
		for _, id := range graph.RuleIDs {
			known = known || id == c.Rule
		}
		if !known {
			return usageError{msg: fmt.Sprintf("unknown rule %q (want R1 … R23)", c.Rule)}
		}
	}
	rf.Config = hostPath(ctx, rf.Config)
	if _, err := rf.load(); err != nil {
		return err
	}
	var err error
	if dbf.pull, err = c.Pull.spec(dbf, 2, stderr); err != nil {
		return err
	}
	var verdicts map[graph.Ref]graph.Verdict
	// runRulesThen calls the closure once the rules ran, with the database
	// still open.
	_, err = runRulesThen(ctx, dbf, rf, stderr, nil, func(wb *workbench.Workbench, a *workbench.Analysis, _ graph.RuleConfig) error {
		if dbf.remote() {
			// A pulled neighbourhood: the verdicts are the team's, in the
			// cluster's local store; the risks go back to the cluster.
			var err error
			if verdicts, err = remoteVerdicts(ctx, dbf.dir, stderr); err != nil {
				return err
			}
			if err := writeBack(ctx, dbf.dir, wb, a, rf, stderr); err != nil {
				return err
			}
		} else {
			var err error
			if verdicts, err = wb.VerdictMap(ctx); err != nil {
				return err
			}
		}
		// The list first: keeping the risks in the database (seconds on a
		// large case) need not hold it back.
		if err := printFlags(stdout, c, a, verdicts); err != nil {
			return err
		}
		if !dbf.remote() {
			keepAnalysis(ctx, wb, a, rf, stderr)
		}
		return nil
	})
	return err
}

// printFlags lists the analysis's subjects as casegraph flags prints them.
func printFlags(stdout io.Writer, c *flagsCmd, a *workbench.Analysis, verdicts map[graph.Ref]graph.Verdict) error {
	// One row per subject: a person carries the rules of the cards they
	// hold, which are not listed again.
	rows := a.Subjects(c.Rule, c.All, c.Limit)
	if c.JSON {
		return writeJSON(stdout, a.Report(rows, c.Rule, verdicts))
	}
	flags := a.Flags()
	for _, r := range rows {
		fmt.Fprintf(stdout, "%.2f  %-8s %-36s %s%s\n", r.Score, r.Kind, graph.RefTitle(r.Ref), r.Ref, verdictTag(verdicts, r.Ref))
		fmt.Fprintf(stdout, "      %s · typology %.2f, context %.2f · %d evidence transactions\n",
			typologyWords(r), r.Typology, r.Context, r.Evidence)
		fmt.Fprintf(stdout, "      %s\n", r.Explanation)
		if c.Rule != "" {
			for _, k := range a.SubjectHits(r) {
				h := flags.Hits[k]
				if h.Rule == c.Rule {
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

// keepAnalysis keeps the risks in the database for show, search and the
// TUI's pages (workbench.KeepAnalysis), unless --config ran other rules
// than the database's; it says on stderr what it did.
func keepAnalysis(ctx context.Context, wb *workbench.Workbench, a *workbench.Analysis, rf ruleFlags, stderr io.Writer) {
	if rf.Config != "" {
		fmt.Fprintf(stderr, "rules: not kept in the database (--config is not the database's rule configuration)\n")
		return
	}
	start := time.Now()
	run, err := wb.KeepAnalysis(ctx, a)
	if err != nil {
		fmt.Fprintf(stderr, "rules: not kept in the database: %v\n", err)
		return
	}
	if run.Time.Before(start) {
		fmt.Fprintf(stderr, "rules: the analysis kept in the database (%s) holds these results already\n", run.Time.Local().Format("2006-01-02 15:04"))
		return
	}
	fmt.Fprintf(stderr, "rules: %s risks kept in the database in %s: show, search and the TUI carry them, marked stale after an import\n",
		count(run.Entities), time.Since(start).Round(time.Millisecond))
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

// evalCmd: casegraph eval --truth FILE.
type evalCmd struct {
	DB    dbArgs    `embed:""`
	Rules ruleFlags `embed:""`
	JSON  bool      `name:"json" help:"print JSON"`
	Truth string    `placeholder:"FILE" predictor:"file" help:"ground_truth.json written by casegraph generate (required)"`
}

func (c *evalCmd) Run(e *env) error { return cmdEval(e.ctx, c, e.stdout, e.stderr) }

func cmdEval(ctx context.Context, c *evalCmd, stdout, stderr io.Writer) error {
	dbf, rf := c.DB.flags(), c.Rules
	if c.Truth == "" {
		return usageError{msg: "eval needs --truth FILE"}
	}
	truth, err := graph.ReadGroundTruth(c.Truth)
	if err != nil {
		return err
	}
	rf.Config = hostPath(ctx, rf.Config)
	if _, err := rf.load(); err != nil {
		return err
	}
	// A truth whose members and cards the database does not hold would
	// score 0 without saying why: refuse it before the rules run.
	a, err := runRulesAfter(ctx, dbf, rf, stderr, func(ix *graph.Index) error {
		if err := graph.CheckTruth(ix, truth); err != nil {
			return fmt.Errorf("%s: %w", c.Truth, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	rep, err := a.Evaluate(ctx, truth)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(stdout, rep)
	}
	printEval(stdout, rep)
	return nil
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
