package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"

	"casegraph/calibrate"
	"casegraph/graph"
	"casegraph/importers"
	"casegraph/internal/safetext"
	"casegraph/store"
	"casegraph/workbench"
)

// verdictCmd: casegraph verdict confirm|dismiss|clear REF, verdict list.
// Every change is journalled (casegraph journal). Verdicts never change the
// rule hits; casegraph calibrate fits the rule weights to them.
type verdictCmd struct {
	Confirm verdictSetCmd   `cmd:"" help:"the flag is right (a dropper, a mule…)"`
	Dismiss verdictSetCmd   `cmd:"" help:"the flag is a false positive"`
	Clear   verdictClearCmd `cmd:"" help:"withdraw the verdict"`
	List    verdictListCmd  `cmd:"" help:"list the verdicts"`
}

type verdictSetCmd struct {
	DB   dbArgs `embed:""`
	Note string `placeholder:"TEXT" help:"why (kept with the verdict and journalled)"`
	Ref  string `arg:"" help:"the flagged entity, e.g. card:4400430000000015"`
}

// Run is confirm's or dismiss's: the command's own name says which.
func (c *verdictSetCmd) Run(e *env, kctx *kong.Context) error {
	return cmdVerdict(e.ctx, kctx.Selected().Name, c.DB.flags(), c.Note, false, []string{c.Ref}, e.stdout)
}

type verdictClearCmd struct {
	DB  dbArgs `embed:""`
	Ref string `arg:"" help:"the entity whose verdict to withdraw"`
}

func (c *verdictClearCmd) Run(e *env) error {
	return cmdVerdict(e.ctx, "clear", c.DB.flags(), "", false, []string{c.Ref}, e.stdout)
}

type verdictListCmd struct {
	DB   dbArgs `embed:""`
	JSON bool   `name:"json" help:"print JSON"`
}

func (c *verdictListCmd) Run(e *env) error {
	return cmdVerdict(e.ctx, "list", c.DB.flags(), "", c.JSON, nil, e.stdout)
}

// verdictTag is the "  ✓ confirmed" after a listed entity, or nothing.
func verdictTag(vs map[graph.Ref]graph.Verdict, r graph.Ref) string {
	v, ok := vs[r]
	if !ok {
		return ""
	}
	mark := "✓"
	if !v.Confirmed() {
		mark = "✗"
	}
	s := "  " + mark + " " + string(v.Kind)
	if v.Note != "" {
		s += ": " + safetext.Line(v.Note)
	}
	return s
}

type verdictOut struct {
	Ref     string            `json:"ref"`
	Name    string            `json:"name,omitempty"`
	Verdict graph.VerdictKind `json:"verdict"`
	Note    string            `json:"note,omitempty"`
	User    string            `json:"user"`
	Time    string            `json:"time"`
}

func cmdVerdict(ctx context.Context, sub string, dbf dbFlags, note string, asJSON bool, pos []string, stdout io.Writer) error {
	switch sub {
	case "list":
		db, err := dbf.openIn(ctx, false, true)
		if err != nil {
			return err
		}
		defer db.Close()
		return listVerdicts(ctx, backendOf(ctx, db), stdout, asJSON)
	}
	db, wb, ref, err := openRef(ctx, dbf, pos[0], false)
	if err != nil {
		return err
	}
	defer db.Close()
	e, err := wb.Entity(ctx, ref)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, graph.ErrNotFound) {
		return fmt.Errorf("%s is not in the database", ref)
	}
	if err != nil {
		return err
	}
	if sub == "clear" {
		old, err := wb.WithdrawVerdict(ctx, ref)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s has no verdict to clear", ref)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "withdrew the verdict %s on %s %s\n", old.Kind, safetext.Line(graph.Title(e)), safetext.Line(ref.String()))
		return nil
	}
	kind, err := graph.ParseVerdictKind(sub)
	if err != nil {
		return usageError{msg: err.Error()}
	}
	v, err := wb.SetVerdict(ctx, ref, kind, strings.TrimSpace(note))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s %s%s\n", v.Kind, safetext.Line(graph.Title(e)), safetext.Line(ref.String()), noteSuffix(v.Note))
	return nil
}

func noteSuffix(n string) string {
	if n == "" {
		return ""
	}
	return " — " + safetext.Line(n)
}

func listVerdicts(ctx context.Context, wb *workbench.Workbench, stdout io.Writer, asJSON bool) error {
	vs, err := wb.Verdicts(ctx)
	if err != nil {
		return err
	}
	out := make([]verdictOut, 0, len(vs))
	var nc, nd int
	for _, v := range vs {
		o := verdictOut{Ref: v.Ref.String(), Verdict: v.Kind, Note: v.Note, User: v.User,
			Time: v.Time.UTC().Format("2006-01-02T15:04:05Z")}
		if e, err := wb.Entity(ctx, v.Ref); err == nil {
			o.Name = graph.Title(e)
		}
		out = append(out, o)
		if v.Confirmed() {
			nc++
		} else {
			nd++
		}
	}
	if asJSON {
		return writeJSON(stdout, out)
	}
	almaty := importers.Almaty()
	for i, o := range out {
		fmt.Fprintf(stdout, "%-9s %-34s %-30s %s %-10s%s\n", o.Verdict, safetext.Line(o.Ref), safetext.Line(o.Name),
			vs[i].Time.In(almaty).Format("2006-01-02 15:04"), safetext.Line(o.User), noteSuffix(o.Note))
	}
	fmt.Fprintf(stdout, "%d verdicts: %d confirmed, %d dismissed\n", len(out), nc, nd)
	return nil
}

// calibrateCmd: casegraph calibrate.
type calibrateCmd struct {
	DB      dbArgs    `embed:""`
	Rules   ruleFlags `embed:""`
	Apply   bool      `help:"store the fitted weights as the database's rule config (used by flags, eval, clusters and the TUI without --config)"`
	Revert  bool      `help:"go back to the rule config the current one replaced (the built-in defaults at the start)"`
	History bool      `help:"list the database's rule-config versions"`
	JSON    bool      `name:"json" help:"print the calibration as JSON"`
	Folds   int       `default:"5" placeholder:"N" help:"folds of the cross-validation"`
	L2      float64   `name:"l2" default:"10" placeholder:"X" help:"L2 penalty on a weight's squared distance from its current value, against the summed log-likelihood"`
}

func (c *calibrateCmd) Run(e *env) error { return cmdCalibrate(e.ctx, c, e.stdout, e.stderr) }

func cmdCalibrate(ctx context.Context, o *calibrateCmd, stdout, stderr io.Writer) error {
	dbf, rf := o.DB.flags(), o.Rules
	if o.Revert && (o.Apply || o.History) || o.Apply && o.History {
		return usageError{msg: "calibrate takes one of --apply, --revert and --history"}
	}
	if o.Folds < 2 || o.L2 < 0 {
		return usageError{msg: "--folds must be ≥ 2 and --l2 ≥ 0"}
	}
	if o.Revert || o.History {
		db, err := dbf.open(false, !o.Revert)
		if err != nil {
			return err
		}
		defer db.Close()
		if o.History {
			return printRuleConfigHistory(ctx, db, stdout)
		}
		v, err := newBackend(db).RevertRuleConfig(ctx)
		if errors.Is(err, store.ErrNothingToRevert) {
			return fmt.Errorf("the database uses the built-in rule config; there is nothing to revert")
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rule config version %d: %s (version %d withdrawn)\n", v.Seq, v.Note, v.Reverted)
		return nil
	}
	if _, err := rf.load(); err != nil {
		return err
	}
	opt := calibrate.Options{Folds: o.Folds, L2: o.L2}
	if o.L2 == 0 {
		opt.L2 = 1e-12 // Options reads 0 as "the default"
	}
	_, err := runRulesThen(ctx, dbf, rf, stderr, nil, func(wb *workbench.Workbench, a *workbench.Analysis, cfg graph.RuleConfig) error {
		c, err := wb.Calibrate(ctx, a, cfg, opt)
		if len(c.Missing) > 0 {
			w := stdout
			if o.JSON {
				w = stderr
			}
			fmt.Fprintf(w, "%d verdicts on entities not in the graph are left out (first: %s)\n", len(c.Missing), c.Missing[0])
		}
		if err != nil {
			return err
		}
		out := c.Out
		if !o.JSON {
			printCalibration(stdout, c.Report, out.CheckCurrent, out.CheckFitted, out.FlaggedCurrent, out.FlaggedFitted)
		}
		if !o.Apply {
			if o.JSON {
				return writeJSON(stdout, out)
			}
			fmt.Fprintln(stdout, "not applied: run again with --apply to make these weights the database's rule config")
			return nil
		}
		v, err := wb.ApplyCalibration(ctx, c)
		if err != nil {
			return err
		}
		if o.JSON {
			out.Applied = v.Seq
			return writeJSON(stdout, out)
		}
		fmt.Fprintf(stdout, "applied as rule config version %d (casegraph calibrate --revert goes back)\n", v.Seq)
		return nil
	})
	return err
}

func printCalibration(w io.Writer, rep calibrate.Report, inCur, inFit calibrate.PR, flaggedCur, flaggedFit int) {
	fmt.Fprintf(w, "verdicts: %d confirmed, %d dismissed on entities in the graph\n", rep.Confirmed, rep.Dismissed)
	fmt.Fprintf(w, "%d-fold cross-validation at threshold %.2f (held-out predictions, pooled):\n", rep.Folds, rep.Threshold)
	fmt.Fprintln(w, "                 precision  recall   TP   FP   FN   TN  log-loss")
	row := func(name string, p calibrate.PR, ll float64) {
		fmt.Fprintf(w, "  %-14s %9.3f %7.3f %4d %4d %4d %4d  %8.3f\n", name, p.Precision, p.Recall, p.TP, p.FP, p.FN, p.TN, ll)
	}
	row("current", rep.Current, rep.CurrentLogLoss)
	row("fitted", rep.Fitted, rep.FittedLogLoss)
	fmt.Fprintln(w, "proposed weights (judged entities the rule touches):")
	fmt.Fprintln(w, "  rule  current  fitted  confirmed  dismissed")
	for _, rw := range rep.Weights {
		mark := ""
		if rw.Confirmed+rw.Dismissed == 0 {
			mark = "  (no verdicts: unchanged)"
		}
		fmt.Fprintf(w, "  %-4s  %7.3f  %6.3f  %9d  %9d%s\n", rw.Rule, rw.Current, rw.Fitted, rw.Confirmed, rw.Dismissed, mark)
	}
	fmt.Fprintf(w, "check, the rules rerun with the fitted weights (all verdicts, in-sample): precision %.3f recall %.3f (current %.3f / %.3f); %d subjects flagged (now %d)\n",
		inFit.Precision, inFit.Recall, inCur.Precision, inCur.Recall, flaggedFit, flaggedCur)
}

func printRuleConfigHistory(ctx context.Context, db *store.DB, w io.Writer) error {
	hist, err := db.RuleConfigHistory(ctx)
	if err != nil {
		return err
	}
	if len(hist) == 0 {
		fmt.Fprintln(w, "no rule config stored: the database uses the built-in defaults")
		return nil
	}
	for _, v := range hist {
		what := "config"
		if v.Defaults() {
			what = "defaults"
		}
		fmt.Fprintf(w, "%4d  %s  %-10s %-6s %-8s %s\n", v.Seq, v.Time, safetext.Line(v.User), v.Action, what, safetext.Line(v.Note))
	}
	return nil
}
