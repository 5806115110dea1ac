package graph

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// RuleScore is the strongest contribution of one rule to an entity's risk,
// either from its own hits or passed on from a holder or a held instrument.
type RuleScore struct {
	Rule  string
	Score float64
	Via   NodeID // NoNode for the entity's own hits; else the holder or instrument it came through
}

// Risk is one entity's combined risk.
type Risk struct {
	Node        NodeID
	Ref         Ref
	Kind        Kind
	Score       float64     // 0–1: 1 − Π(1 − rule score), over Rules
	Rules       []RuleScore // by score descending
	Hits        []int       // indexes into Flags.Hits of the entity's own hits
	Explanation string      // the strongest reasons in words
}

// ruleAcc keeps the best score per rule for one entity.
type ruleAcc map[string]RuleScore

func (a ruleAcc) put(r RuleScore) {
	if old, ok := a[r.Rule]; !ok || r.Score > old.Score || r.Score == old.Score && r.Via < old.Via {
		a[r.Rule] = r
	}
}

// noisyOr combines independent risks.
func noisyOr(rs []RuleScore) float64 {
	p := 1.0
	for _, r := range rs {
		p *= 1 - clamp01(r.Score)
	}
	return 1 - p
}

// score turns sorted hits into ranked risks. A rule counts once per entity
// (its strongest hit). Instruments pass their rules to their holder scaled by
// CardToHolder; a holder passes every rule (its own and its other
// instruments') to each instrument scaled by HolderToCard, so the unused
// cards of a dropper are flagged with the active ones.
func (rr *ruleRun) score(hits []Hit) Flags {
	cfg := rr.cfg
	own := map[NodeID]ruleAcc{}
	hitIdx := map[NodeID][]int{}
	for i, h := range hits {
		if own[h.Node] == nil {
			own[h.Node] = ruleAcc{}
		}
		own[h.Node].put(RuleScore{Rule: h.Rule, Score: h.Score, Via: NoNode})
		hitIdx[h.Node] = append(hitIdx[h.Node], i)
	}
	// Holders: own rules plus their instruments' rules.
	holderAcc := map[NodeID]ruleAcc{}
	for n, acc := range own {
		if h := rr.holder[n]; h != NoNode && isInstrument(rr.ix.Kind(n)) {
			if holderAcc[h] == nil {
				holderAcc[h] = ruleAcc{}
			}
			for _, r := range acc {
				holderAcc[h].put(RuleScore{Rule: r.Rule, Score: r.Score * cfg.CardToHolder, Via: n})
			}
		}
	}
	for n, acc := range own {
		if rr.ix.Kind(n) == KindPerson {
			if holderAcc[n] == nil {
				holderAcc[n] = ruleAcc{}
			}
			for _, r := range acc {
				holderAcc[n].put(r)
			}
		}
	}
	final := map[NodeID]ruleAcc{}
	for n, acc := range holderAcc {
		final[n] = acc
	}
	// Instruments: own rules plus what their holder carries.
	for n, acc := range own {
		if rr.ix.Kind(n) == KindPerson {
			continue
		}
		f := ruleAcc{}
		for _, r := range acc {
			f.put(r)
		}
		final[n] = f
	}
	for h, acc := range holderAcc {
		for _, l := range rr.ix.Links(h) {
			if !l.Out || l.Type != LinkHolds || !isInstrument(rr.ix.Kind(l.Other)) {
				continue
			}
			f := final[l.Other]
			if f == nil {
				f = ruleAcc{}
				final[l.Other] = f
			}
			for _, r := range acc {
				if r.Via == l.Other {
					continue // the card's own rule coming back
				}
				f.put(RuleScore{Rule: r.Rule, Score: r.Score * cfg.HolderToCard, Via: h})
			}
		}
	}

	out := Flags{Hits: hits, Threshold: cfg.FlagThreshold, Refs: make(map[NodeID]Ref, len(final))}
	for n, acc := range final {
		rs := make([]RuleScore, 0, len(acc))
		for _, r := range acc {
			rs = append(rs, r)
		}
		slices.SortFunc(rs, func(a, b RuleScore) int {
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			return cmp.Compare(ruleNumber(a.Rule), ruleNumber(b.Rule))
		})
		ref := rr.ix.Ref(n)
		out.Refs[n] = ref
		out.Risks = append(out.Risks, Risk{Node: n, Ref: ref, Kind: rr.ix.Kind(n), Score: noisyOr(rs), Rules: rs,
			Hits: hitIdx[n], Explanation: rr.explain(n, rs, hits, hitIdx[n])})
	}
	slices.SortFunc(out.Risks, func(a, b Risk) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Node, b.Node)
	})
	return out
}

// explain lists the strongest rules with the reason of the best own hit, or
// where an inherited rule came from.
func (rr *ruleRun) explain(n NodeID, rs []RuleScore, hits []Hit, idx []int) string {
	var parts []string
	for i, r := range rs {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("+%d more", len(rs)-i))
			break
		}
		if r.Via == NoNode {
			reason := ""
			for _, k := range idx {
				if hits[k].Rule == r.Rule && hits[k].Score == r.Score {
					reason = hits[k].Reason
					break
				}
			}
			parts = append(parts, fmt.Sprintf("%s %s", r.Rule, reason))
			continue
		}
		rel := "via holder"
		if rr.ix.Kind(n) == KindPerson {
			rel = "via card"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", r.Rule, rel, RefTitle(rr.ix.Ref(r.Via))))
	}
	return strings.Join(parts, "; ")
}
