package workbench

import (
	"bytes"
	"context"
	"fmt"

	"casegraph/calibrate"
	"casegraph/graph"
	"casegraph/store"
)

// Calibration is a fit of the rule weights to the analysts' verdicts
// (casegraph calibrate), not yet applied.
type Calibration struct {
	Out     CalibrationOut
	Report  calibrate.Report
	Missing []graph.Ref // verdicts on entities not in the graph, left out
	fitted  graph.RuleConfig
}

// Calibrate fits the weights of cfg, the configuration a ran with, to the
// verdicts: cross-validated, then checked by running the rules again with
// the fitted weights. Missing is filled even when the fit fails.
func (b *Workbench) Calibrate(ctx context.Context, a *Analysis, cfg graph.RuleConfig, opt calibrate.Options) (Calibration, error) {
	ix, flags := a.ix, a.flags
	var c Calibration
	vs, err := b.db.Verdicts(ctx)
	if err != nil {
		return c, err
	}
	inGraph := func(r graph.Ref) bool { _, ok := ix.Lookup(r); return ok }
	samples, missing := calibrate.Samples(flags, vs, inGraph)
	c.Missing = missing
	base := calibrate.Weights(cfg)
	rep, err := calibrate.Calibrate(samples, base, cfg.FlagThreshold, opt)
	if err != nil {
		return c, err
	}
	fitted := calibrate.WithWeights(cfg, rep.Proposed())
	// The check: the rules themselves with the fitted weights.
	after, err := graph.RunRules(ctx, ix, fitted, nil)
	if err != nil {
		return c, err
	}
	checked, _ := calibrate.Samples(after, vs, inGraph)
	var inCur, inFit calibrate.PR
	for i, s := range samples {
		inCur.Add(s.Risk, cfg.FlagThreshold, s.Confirmed)
		inFit.Add(checked[i].Risk, fitted.FlagThreshold, checked[i].Confirmed)
	}
	c.Out = CalibrationOut{Confirmed: rep.Confirmed, Dismissed: rep.Dismissed, LeftOut: len(missing), Folds: rep.Folds,
		Threshold: rep.Threshold, CVCurrent: rep.Current, CVFitted: rep.Fitted,
		CVCurrentLogLoss: rep.CurrentLogLoss, CVFittedLogLoss: rep.FittedLogLoss, Weights: rep.Weights,
		CheckCurrent: inCur, CheckFitted: inFit,
		FlaggedCurrent: len(flags.FlaggedSubjects()), FlaggedFitted: len(after.FlaggedSubjects())}
	c.Report, c.fitted = rep, fitted
	return c, nil
}

// ApplyCalibration stores the fitted configuration of c as the database's
// rule config, journalled; the analysis ran with the old one, so the
// workbench drops it and the next Analyze runs the rules again.
func (b *Workbench) ApplyCalibration(ctx context.Context, c Calibration) (store.RuleConfigVersion, error) {
	if err := b.allow(ctx, OpConfig, ""); err != nil {
		return store.RuleConfigVersion{}, err
	}
	rep := c.Report
	var buf bytes.Buffer
	if err := c.fitted.WriteJSON(&buf); err != nil {
		return store.RuleConfigVersion{}, err
	}
	note := fmt.Sprintf("calibrate: %d confirmed, %d dismissed", rep.Confirmed, rep.Dismissed)
	detail := map[string]any{"weights": rep.Proposed(), "threshold": rep.Threshold, "folds": rep.Folds,
		"cv_current": map[string]float64{"precision": rep.Current.Precision, "recall": rep.Current.Recall},
		"cv_fitted":  map[string]float64{"precision": rep.Fitted.Precision, "recall": rep.Fitted.Recall}}
	defer b.dropAnalysis()
	return b.db.ApplyRuleConfig(ctx, b.actor(), buf.Bytes(), note, detail)
}

// RevertRuleConfig goes back to the rule config the current one replaced
// (the built-in defaults at the start), journalled; the workbench drops the
// analysis, which ran with the withdrawn one.
func (b *Workbench) RevertRuleConfig(ctx context.Context) (store.RuleConfigVersion, error) {
	if err := b.allow(ctx, OpConfig, ""); err != nil {
		return store.RuleConfigVersion{}, err
	}
	defer b.dropAnalysis()
	return b.db.RevertRuleConfig(ctx, b.actor())
}

// CalibrationOut is calibrate --json.
type CalibrationOut struct {
	Confirmed        int                    `json:"confirmed"`
	Dismissed        int                    `json:"dismissed"`
	LeftOut          int                    `json:"left_out"` // verdicts on entities not in the graph
	Folds            int                    `json:"folds"`
	Threshold        float64                `json:"threshold"`
	CVCurrent        calibrate.PR           `json:"cv_current"`
	CVFitted         calibrate.PR           `json:"cv_fitted"`
	CVCurrentLogLoss float64                `json:"cv_current_log_loss"`
	CVFittedLogLoss  float64                `json:"cv_fitted_log_loss"`
	Weights          []calibrate.RuleWeight `json:"weights"`
	CheckCurrent     calibrate.PR           `json:"check_current"` // in-sample, the rules as they ran
	CheckFitted      calibrate.PR           `json:"check_fitted"`  // in-sample, the rules rerun with the fitted weights
	FlaggedCurrent   int                    `json:"flagged_subjects_current"`
	FlaggedFitted    int                    `json:"flagged_subjects_fitted"`
	Applied          uint64                 `json:"applied_version,omitempty"`
}
