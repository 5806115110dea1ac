package workbench

import (
	"slices"
	"time"

	"casegraph/graph"
)

// Subjects lists the rows of casegraph flags: one per subject (a person
// carries the rules of the cards they hold, which are not listed again),
// riskiest first, only those at or above the flag threshold unless all,
// only those with a hit of rule unless it is empty, at most limit (0: all).
func (a *Analysis) Subjects(rule string, all bool, limit int) []graph.Risk {
	var rows []graph.Risk
	for _, r := range a.flags.Subjects() {
		if !all && r.Score < a.flags.Threshold {
			break
		}
		if rule != "" && !hasRule(r, rule) {
			continue
		}
		rows = append(rows, r)
		if limit > 0 && len(rows) == limit {
			break
		}
	}
	return rows
}

// heldRisks maps each subject to the risks of the instruments it holds, as
// indexes into Flags().Risks: at 30M transactions copies of the risks
// themselves took 243 MB of the keep's heap (docs/PERFORMANCE.md).
func (a *Analysis) heldRisks() map[graph.NodeID][]int32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held == nil {
		a.held = map[graph.NodeID][]int32{}
		for i, o := range a.flags.Risks {
			if o.Subject != o.Node {
				a.held[o.Subject] = append(a.held[o.Subject], int32(i))
			}
		}
	}
	return a.held
}

// SubjectHits lists a subject's own hits and those of the instruments it
// holds, as indexes into Flags().Hits.
func (a *Analysis) SubjectHits(r graph.Risk) []int {
	hits := slices.Clone(r.Hits)
	for _, i := range a.heldRisks()[r.Node] {
		hits = append(hits, a.flags.Risks[i].Hits...)
	}
	return hits
}

func hasRule(r graph.Risk, rule string) bool {
	for _, rs := range r.Rules {
		if rs.Rule == rule {
			return true
		}
	}
	return false
}

// FlagHitRow is one rule hit in a FlagReport.
type FlagHitRow struct {
	Rule     string   `json:"rule"`
	Score    float64  `json:"score"`
	Reason   string   `json:"reason"`
	Evidence []string `json:"evidence"`
	From     string   `json:"from,omitempty"`
	To       string   `json:"to,omitempty"`
	On       string   `json:"on,omitempty"` // the held instrument the hit is on, in a person's row
	// Transactions counts the hit's transactions when Evidence names only
	// the first graph.MaxKeptEvidence (casegraph show, from a kept analysis).
	Transactions int `json:"transactions,omitempty"`
}

// RiskRow is one subject of a FlagReport.
type RiskRow struct {
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
	Hits        []FlagHitRow       `json:"hits"`
	Verdict     graph.VerdictKind  `json:"verdict,omitempty"` // an analyst's verdict, if any
	VerdictNote string             `json:"verdict_note,omitempty"`
}

// FlagReport is casegraph flags --json. The fields are in the order of
// their JSON names.
type FlagReport struct {
	Entities        []RiskRow `json:"entities"`
	Flagged         int       `json:"flagged"`
	FlaggedEntities int       `json:"flagged_entities"`
	Hits            int       `json:"hits"`
	Threshold       float64   `json:"threshold"`
}

// Report describes rows (from Subjects) with their hits, only those of rule
// unless it is empty, and the analysts' verdicts on them.
func (a *Analysis) Report(rows []graph.Risk, rule string, verdicts map[graph.Ref]graph.Verdict) FlagReport {
	ix, flags := a.ix, a.flags
	out := make([]RiskRow, 0, len(rows))
	held := a.heldRisks()
	for _, r := range rows {
		ro := RiskRow{Ref: r.Ref.String(), Kind: r.Kind.String(), Name: ix.Name(r.Node), Score: r.Score,
			Typology: r.Typology, Context: r.Context, Typologies: r.Typologies, Evidence: r.Evidence,
			Rules: map[string]float64{}, Explanation: r.Explanation, Hits: []FlagHitRow{}}
		if v, ok := verdicts[r.Ref]; ok {
			ro.Verdict, ro.VerdictNote = v.Kind, v.Note
		}
		for _, i := range held[r.Node] {
			ro.Holds = append(ro.Holds, flags.Risks[i].Ref.String())
		}
		hits := a.SubjectHits(r)
		for _, rs := range r.Rules {
			ro.Rules[rs.Rule] = rs.Score
		}
		for _, k := range hits {
			h := flags.Hits[k]
			if rule != "" && h.Rule != rule {
				continue
			}
			ho := FlagHitRow{Rule: h.Rule, Score: h.Score, Reason: h.Reason, Evidence: make([]string, 0, len(h.Evidence))}
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
	return FlagReport{Threshold: flags.Threshold, Flagged: len(flags.FlaggedSubjects()),
		FlaggedEntities: len(flags.Flagged()), Hits: len(flags.Hits), Entities: out}
}
