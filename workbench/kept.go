package workbench

import (
	"context"
	"encoding/hex"
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
	defer limitWorkMemory()()
	st := a.stamp
	if !a.stamped {
		var err error
		if st, err = b.db.Stamp(); err != nil {
			return graph.AnalysisRun{}, err
		}
	}
	var results string
	if a.results != ([32]byte{}) {
		results = hex.EncodeToString(a.results[:])
		// The same run is kept already (an analysis of unchanged data read
		// back from the results file): writing every risk again would change
		// nothing but the time.
		if kept, ok, err := b.db.Analysis(ctx); err == nil && ok && !kept.Stale && kept.Results == results {
			return kept, nil
		}
	}
	flags := a.flags
	run := graph.AnalysisRun{Results: results, Time: time.Now(), User: b.actor().User, Threshold: flags.Threshold,
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
// analysis kept no risk for ref or no analysis was kept. On a cluster it is
// the risk an analysis of a pulled neighbourhood wrote back, stale once the
// cluster imported data after it (dgraphdb.DB.Risk).
func (b *Workbench) keptRow(ctx context.Context, ref graph.Ref) (tui.FlagRow, bool, error) {
	var k graph.KeptRisk
	var run graph.AnalysisRun
	var has, ok bool
	var err error
	if b.remote != nil {
		k, run, _, has, err = b.remote.Risk(ctx, ref)
		ok = has
	} else {
		k, run, has, ok, err = b.db.KeptRisk(ctx, ref)
	}
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
	if e, err := b.Entity(ctx, ref); err == nil {
		row.Name = e.Name
	}
	return row, true, nil
}

// RiskMarks implements tui.Analytics: the risk of each of refs from the
// current analysis when it has run, else from the kept one. On a cluster
// they are the risks written back, the session's own analysis's among them
// (it writes back the risks of what it read whole).
func (b *Workbench) RiskMarks(ctx context.Context, refs []graph.Ref) (map[graph.Ref]graph.RiskMark, error) {
	if b.remote != nil {
		return b.remote.RiskMarks(ctx, refs)
	}
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

// RuleRow is one rule's contribution in an EntityRisk.
type RuleRow struct {
	Rule    string  `json:"rule"`
	Score   float64 `json:"score"`
	Via     string  `json:"via,omitempty"` // the holder or instrument it came through
	Context bool    `json:"context"`
}

// AnalysisRow describes the analysis an EntityRisk comes from.
type AnalysisRow struct {
	Time           string  `json:"time"` // RFC 3339
	User           string  `json:"user,omitempty"`
	RuleConfig     uint64  `json:"rule_config"` // 0: the built-in defaults
	RuleConfigNote string  `json:"rule_config_note,omitempty"`
	Threshold      float64 `json:"threshold"`
	// Stale: the data changed since (an import after the analysis); run
	// casegraph flags or press F to refresh.
	Stale bool `json:"stale"`
}

// EntityRisk is an entity's risk in casegraph show: from the analysis of
// this workbench when it ran, else the one kept in the database.
type EntityRisk struct {
	Score       float64      `json:"score"`
	Flagged     bool         `json:"flagged"`
	Typology    float64      `json:"typology"`
	Context     float64      `json:"context"`
	Typologies  int          `json:"typologies"`
	Explanation string       `json:"explanation,omitempty"`
	Rules       []RuleRow    `json:"rules"`
	Hits        []FlagHitRow `json:"hits"`
	Analysis    AnalysisRow  `json:"analysis"`
	// Scope is, on a Dgraph cluster, the pulled neighbourhood the analysis
	// ran on (workbench.PullScope.Describe); empty on a folder.
	Scope string `json:"scope,omitempty"`
}

// EntityRisk returns ref's risk; ok is false when no analysis exists (none
// ran here and none was kept). An entity the analysis gave no risk has a
// zero score and the analysis it comes from.
func (b *Workbench) EntityRisk(ctx context.Context, ref graph.Ref) (EntityRisk, bool, error) {
	var k graph.KeptRisk
	var run graph.AnalysisRun
	has := false
	if a := b.analysis(); a != nil {
		flags := a.flags
		run = graph.AnalysisRun{Time: time.Now(), Threshold: flags.Threshold}
		if id, ok := a.ix.Lookup(ref); ok {
			if i, ok := a.byNode[id]; ok {
				k, has = a.kept(flags.Risks[i]), true
			}
		}
	} else if b.remote != nil {
		r, _, ok, err := RemoteRisk(ctx, b.remote, ref)
		return r, ok, err
	} else {
		var ok bool
		var err error
		k, run, has, ok, err = b.db.KeptRisk(ctx, ref)
		if err != nil || !ok {
			return EntityRisk{}, false, err
		}
	}
	return entityRiskOf(k, run, has), true, nil
}

// entityRiskOf is a kept risk as EntityRisk rows; has is false for an
// entity the analysis gave no risk.
func entityRiskOf(k graph.KeptRisk, run graph.AnalysisRun, has bool) EntityRisk {
	out := EntityRisk{Rules: []RuleRow{}, Hits: []FlagHitRow{}, Analysis: AnalysisRow{Time: run.Time.UTC().Format(time.RFC3339),
		User: run.User, RuleConfig: run.RuleConfig, RuleConfigNote: run.RuleConfigNote, Threshold: run.Threshold, Stale: run.Stale}}
	if !has {
		return out
	}
	out.Score, out.Flagged, out.Typology, out.Context = k.Score, k.Score >= run.Threshold, k.Typology, k.Context
	out.Typologies, out.Explanation = k.Typologies, k.Explanation
	for _, r := range k.Rules {
		rr := RuleRow{Rule: r.Rule, Score: r.Score, Context: r.Context}
		if !r.Via.IsZero() {
			rr.Via = r.Via.String()
		}
		out.Rules = append(out.Rules, rr)
	}
	for _, h := range k.Hits {
		hr := FlagHitRow{Rule: h.Rule, Score: h.Score, Reason: h.Reason, Evidence: h.Evidence}
		if hr.Evidence == nil {
			hr.Evidence = []string{}
		}
		if !h.On.IsZero() {
			hr.On = h.On.String()
		}
		if !h.From.IsZero() || !h.To.IsZero() {
			hr.From, hr.To = h.From.Format(time.RFC3339), h.To.Format(time.RFC3339)
		}
		hr.Transactions = max(h.EvidenceTotal, len(h.Evidence))
		out.Hits = append(out.Hits, hr)
	}
	return out
}

// Lines is the risk as casegraph show prints it.
func (r EntityRisk) Lines() []string {
	cfg := "built-in rules"
	if r.Analysis.RuleConfig != 0 {
		cfg = fmt.Sprintf("rule config version %d", r.Analysis.RuleConfig)
	}
	when := r.Analysis.Time
	if t, err := time.Parse(time.RFC3339, when); err == nil {
		when = t.UTC().Format("2006-01-02 15:04 UTC")
	}
	var out []string
	switch {
	case r.Score == 0 && len(r.Rules) == 0:
		out = append(out, fmt.Sprintf("risk           none · analysis of %s, %s", when, cfg))
	default:
		flag := ""
		if r.Flagged {
			flag = " ⚑ flagged"
		}
		out = append(out, fmt.Sprintf("risk           %.2f%s · typology %.2f, context %.2f · analysis of %s, %s",
			r.Score, flag, r.Typology, r.Context, when, cfg))
		if r.Explanation != "" {
			out = append(out, "               "+r.Explanation)
		}
		for _, h := range r.Hits {
			on := ""
			if h.On != "" {
				on = " · on " + h.On
			}
			tx := ""
			if h.Transactions > 0 {
				tx = fmt.Sprintf(" · %d transactions", h.Transactions)
			}
			out = append(out, fmt.Sprintf("  ⚑ %-4s %.2f  %s%s%s", h.Rule, h.Score, h.Reason, tx, on))
		}
	}
	if r.Scope != "" {
		out = append(out, "  risk from an analysis of "+r.Scope)
	}
	switch {
	case r.Analysis.Stale && r.Scope != "":
		out = append(out, fmt.Sprintf("  stale: the cluster imported data after the analysis of %s — run casegraph flags on the neighbourhood again to refresh", when))
	case r.Analysis.Stale:
		out = append(out, fmt.Sprintf("  risk from analysis of %s, data changed since — run casegraph flags to refresh", when))
	}
	return out
}
