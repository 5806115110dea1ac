package workbench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"casegraph/graph"
	"casegraph/tui"
)

// The kept analysis: every analysis the workbench runs for the database's
// own rule configuration (the TUI's F, casegraph flags) is written into the
// store (store.PutAnalysis), so entity pages, search hits, graph nodes and
// casegraph show carry risk and flags from then on without running the
// rules again, marked stale once an import changed the data
// (docs/DETECTION.md, "Kept results").

// KeepAnalysis writes a's risks into the store, stamped with the state of
// the data it read and the database's rule-configuration version, replacing
// the analysis kept before. Call it only for an analysis run with the
// database's own configuration (not casegraph flags --config). The data
// state is the one Analyze saw before loading the index, or, for an
// analysis built by the caller (RunRules), the state now: the caller holds
// the database open for writing, so no import ran in between.
func (b *Workbench) KeepAnalysis(ctx context.Context, a *Analysis) (graph.AnalysisRun, error) {
	if !b.db.Writable() {
		return graph.AnalysisRun{}, fmt.Errorf("keep analysis: database %s is open read-only", b.db.Dir())
	}
	st := a.stamp
	if !a.stamped {
		var err error
		if st, err = b.db.Stamp(); err != nil {
			return graph.AnalysisRun{}, err
		}
	}
	flags := a.flags
	run := graph.AnalysisRun{Time: time.Now(), User: b.actor().User, Threshold: flags.Threshold,
		Entities: len(flags.Risks), Flagged: len(flags.Flagged()), Subjects: len(flags.FlaggedSubjects()), Hits: len(flags.Hits)}
	if v, ok, err := b.db.RuleConfig(ctx); err != nil {
		return run, err
	} else if ok {
		run.RuleConfig, run.RuleConfigNote = v.Seq, v.Note
	}
	return b.db.PutAnalysis(ctx, run, st, func(put func(graph.KeptRisk) error) error {
		for _, r := range flags.Risks {
			if err := put(a.kept(r)); err != nil {
				return err
			}
		}
		return nil
	})
}

// kept turns one risk into what the store keeps: a subject's hits with
// those of the instruments it holds (each naming the instrument), at most
// graph.MaxKeptEvidence transaction ids per hit.
func (a *Analysis) kept(r graph.Risk) graph.KeptRisk {
	ix, flags := a.ix, a.flags
	k := graph.KeptRisk{Ref: r.Ref, Score: r.Score, Typology: r.Typology, Context: r.Context,
		Typologies: r.Typologies, Evidence: r.Evidence, Explanation: r.Explanation,
		Rules: make([]graph.KeptRule, 0, len(r.Rules))}
	if r.Subject != r.Node && r.Subject != graph.NoNode {
		k.Subject = ix.Ref(r.Subject)
	}
	for _, rs := range r.Rules {
		kr := graph.KeptRule{Rule: rs.Rule, Score: rs.Score, Context: rs.IsContext()}
		if rs.Via != graph.NoNode {
			kr.Via = ix.Ref(rs.Via)
		}
		k.Rules = append(k.Rules, kr)
	}
	hits := r.Hits
	if r.Subject == r.Node {
		hits = a.SubjectHits(r)
	}
	for _, i := range hits {
		h := flags.Hits[i]
		kh := graph.KeptHit{Rule: h.Rule, Score: h.Score, Reason: h.Reason, EvidenceTotal: len(h.Evidence)}
		if h.Node != r.Node {
			kh.On = flags.Refs[h.Node]
		}
		for _, t := range h.Evidence[:min(len(h.Evidence), graph.MaxKeptEvidence)] {
			kh.Evidence = append(kh.Evidence, ix.TxID(t))
		}
		if h.Window.From != 0 || h.Window.To != 0 {
			kh.From, kh.To = time.Unix(h.Window.From, 0).UTC(), time.Unix(h.Window.To, 0).UTC()
		}
		k.Hits = append(k.Hits, kh)
	}
	return k
}

// KeptAnalysis describes the analysis kept in the store; ok is false when
// none was ever kept.
func (b *Workbench) KeptAnalysis(ctx context.Context) (graph.AnalysisRun, bool, error) {
	return b.db.Analysis(ctx)
}

// keptRow is ref's flag row from the kept analysis; ok is false when the
// analysis kept no risk for ref or no analysis was kept.
func (b *Workbench) keptRow(ctx context.Context, ref graph.Ref) (tui.FlagRow, bool, error) {
	k, run, has, ok, err := b.db.KeptRisk(ctx, ref)
	if err != nil || !ok || !has {
		return tui.FlagRow{}, false, err
	}
	row := tui.FlagRow{Ref: ref, Score: k.Score, Explanation: k.Explanation, Typologies: k.Typologies, Flagged: k.Score >= run.Threshold,
		Kept: &tui.KeptInfo{At: run.Time, Stale: run.Stale, Threshold: run.Threshold}}
	for _, r := range k.Rules {
		row.Rules = append(row.Rules, tui.FlagRule{Rule: r.Rule, Score: r.Score, Via: r.Via, Context: r.Context})
	}
	for _, h := range k.Hits {
		row.Hits = append(row.Hits, tui.FlagHit{Rule: h.Rule, Score: h.Score, Reason: h.Reason, Evidence: h.Evidence,
			EvidenceTotal: h.EvidenceTotal, From: h.From, To: h.To, On: h.On})
	}
	if e, err := b.db.Entity(ctx, ref); err == nil {
		row.Name = e.Name
	}
	return row, true, nil
}

// RiskMarks implements tui.Analytics: the risk of each of refs from the
// current analysis when it has run, else from the kept one.
func (b *Workbench) RiskMarks(ctx context.Context, refs []graph.Ref) (map[graph.Ref]graph.RiskMark, error) {
	if a := b.analysis(); a != nil {
		out := make(map[graph.Ref]graph.RiskMark, len(refs))
		for _, ref := range refs {
			id, ok := a.ix.Lookup(ref)
			if !ok {
				continue
			}
			if i, ok := a.byNode[id]; ok {
				s := a.flags.Risks[i].Score
				out[ref] = graph.RiskMark{Known: true, Score: s, Flagged: s >= a.flags.Threshold}
			}
		}
		return out, nil
	}
	marks, _, _, err := b.db.RiskMarks(ctx, refs)
	return marks, err
}

// markHits sets the risk marks of search hits (from RiskMarks); a failure
// to read them leaves the hits unmarked rather than failing the search.
func (b *Workbench) markHits(ctx context.Context, res *graph.SearchResult) {
	if len(res.Hits) == 0 {
		return
	}
	refs := make([]graph.Ref, len(res.Hits))
	for i, h := range res.Hits {
		refs[i] = h.Doc.Ref
	}
	marks, err := b.RiskMarks(ctx, refs)
	if err != nil && !errors.Is(err, context.Canceled) {
		return
	}
	// The index remembers its answers: mark a copy, never its hits.
	res.Hits = slices.Clone(res.Hits)
	for i := range res.Hits {
		res.Hits[i].Risk = marks[res.Hits[i].Doc.Ref]
	}
}
