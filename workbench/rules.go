package workbench

import (
	"bytes"
	"context"
	"fmt"

	"casegraph/graph"
)

// RuleConfig is the configuration the red-flag rules run with on this
// database: its own (casegraph calibrate --apply), else the built-in
// defaults. from describes a stored configuration for the user ("the
// database's rule config, version 3 (…)") and is empty for the defaults.
func (b *Workbench) RuleConfig(ctx context.Context) (cfg graph.RuleConfig, from string, err error) {
	v, ok, err := b.db.RuleConfig(ctx)
	if err != nil || !ok || v.Defaults() {
		return graph.DefaultRuleConfig(), "", err
	}
	cfg, err = graph.ParseRuleConfig(bytes.NewReader(v.Config))
	if err != nil {
		return cfg, "", fmt.Errorf("rule config version %d stored in %s: %w", v.Seq, b.db.Dir(), err)
	}
	return cfg, fmt.Sprintf("the database's rule config, version %d (%s)", v.Seq, v.Note), nil
}

// RunRules runs the red-flag rules with cfg on ix (from LoadIndex), calling
// progress (may be nil) as they go, and returns the analysis. It does not
// replace the workbench's current analysis (Analyze): cfg may be a
// configuration the database does not hold (casegraph flags --config).
func (b *Workbench) RunRules(ctx context.Context, ix *graph.Index, cfg graph.RuleConfig, progress func(done, total int)) (*Analysis, error) {
	vs, err := b.VerdictMap(ctx)
	if err != nil {
		return nil, err
	}
	opt := graph.RunOptions{Verdicts: make(map[graph.Ref]graph.VerdictKind, len(vs))}
	for ref, v := range vs {
		opt.Verdicts[ref] = v.Kind
	}
	// The same data, configuration, verdicts and program give the same
	// run: read it from the results file when it is there (flagsfile.go).
	key, named := resultsKey(ix, cfg, opt.Verdicts)
	if named {
		if flags, ok := readFlagsFile(b.db, ix, key); ok {
			if progress != nil {
				progress(1, 1)
			}
			a := newAnalysis(ix, flags)
			a.results, a.reused = key, true
			return a, nil
		}
	}
	defer limitWorkMemory()()
	flags, err := graph.RunRulesWith(ctx, ix, cfg, opt, progress)
	if err != nil {
		return nil, err
	}
	a := newAnalysis(ix, flags)
	if named {
		// Losing the file costs one run of the rules: an error here is not
		// the analysis's.
		if saveFlagsFile(ctx, b.db, flags, key) == nil {
			a.results = key
		}
	}
	return a, nil
}

// Reused reports whether the run was read from the results file rather than
// computed (the same data, configuration, verdicts and program as the run
// that wrote it).
func (a *Analysis) Reused() bool { return a.reused }

// Index is the graph index the analysis ran on.
func (a *Analysis) Index() *graph.Index { return a.ix }

// Flags is the rules' result.
func (a *Analysis) Flags() graph.Flags { return a.flags }

// VerdictMap reads every analyst's verdict by reference.
func (b *Workbench) VerdictMap(ctx context.Context) (map[graph.Ref]graph.Verdict, error) {
	vs, err := b.db.Verdicts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[graph.Ref]graph.Verdict, len(vs))
	for _, v := range vs {
		out[v.Ref] = v
	}
	return out, nil
}

// Evaluate scores the flags and the suspected groups against a ground
// truth (casegraph eval), with the decoy report when the truth lists decoys.
func (a *Analysis) Evaluate(ctx context.Context, truth graph.GroundTruth) (graph.EvalReport, error) {
	groups, err := graph.SuspectedGroups(ctx, a.ix, a.flags)
	if err != nil {
		return graph.EvalReport{}, err
	}
	refs := groupRefs(a.ix, groups)
	rep := graph.Evaluate(a.flags, truth, refs)
	if len(truth.Decoys) > 0 {
		dr := graph.EvaluateDecoys(a.flags, truth, refs)
		rep.Decoys = &dr
	}
	return rep, nil
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
