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
	// Strong marks a hit of a context rule that is a typology in itself
	// (Hit.Strong), e.g. trading through unlicensed exchanges on many days;
	// Weak a hit of a typology rule that is only context (Hit.Weak), e.g.
	// strangers at one busy ATM.
	Strong, Weak bool
}

// Risk is one entity's combined risk.
type Risk struct {
	Node NodeID
	Ref  Ref
	Kind Kind
	// Score is the risk, 0–1 (see CombineRisk): the typology evidence,
	// raised by context signals in proportion to it.
	Score float64
	// Typology and Context are the two parts Score combines: the noisy-OR of
	// the typology rules and of the context rules (RuleScore.IsContext).
	Typology, Context float64
	// Typologies counts the distinct typology rules behind Score.
	Typologies int
	// Evidence counts the distinct transactions named by the subject's own
	// hits (the holder's and every held instrument's), a tie-breaker.
	Evidence int
	// Subject is who the risk is about: the holder of an instrument, or the
	// entity itself (persons, instruments nobody is known to hold). The
	// flag list shows one row per subject (Flags.Subjects).
	Subject     NodeID
	Rules       []RuleScore // by score descending
	Hits        []int       // indexes into Flags.Hits of the entity's own hits
	Explanation string      // the strongest reasons in words
}

// contextRules are the weak signals of docs/DETECTION.md ("How signals
// combine"): facts that many honest people share — cards in several banks
// (R4), a device, IP or phone shared by a family or an office (R5), night
// activity (R9), a P2P or crypto reference (R10), a trade with an exchange
// missing from the licence register (R11). They raise an entity that a
// typology rule already points at; they never flag one alone.
var contextRules = map[string]bool{"R4": true, "R5": true, "R9": true, "R10": true, "R11": true}

// contextCeiling is the share of the flag threshold that context signals
// alone can reach: even every context rule at full strength leaves an entity
// at 0.6 × threshold.
const contextCeiling = 0.6

// CombineRisk turns the typology part s and the context part w (each a
// noisy-OR, 0–1) into a risk for the flag threshold t:
//
//	risk = s + (1 − s) · w · max(s, 0.6·t)
//
// Context fills part of the distance that the typology evidence leaves, in
// proportion to that evidence, so: with s = 0 the risk stays below 0.6·t
// whatever w is; the risk never falls below s; it grows with both parts; and
// it reaches 1 only when s does. Held by property tests (score_test.go).
func CombineRisk(s, w, t float64) float64 {
	s, w = clamp01(s), clamp01(w)
	return clamp01(s + (1-s)*w*max(s, contextCeiling*t))
}

// ruleAcc keeps the best score per rule for one entity.
type ruleAcc map[string]RuleScore

func (a ruleAcc) put(r RuleScore) {
	old, ok := a[r.Rule]
	switch {
	case !ok, old.IsContext() && !r.IsContext():
	case r.IsContext() && !old.IsContext():
		return
	case r.Score > old.Score, r.Score == old.Score && r.Via < old.Via:
	default:
		return
	}
	a[r.Rule] = r
}

// IsContext reports whether a rule score counts as context (docs/DETECTION.md "How signals combine").
func (r RuleScore) IsContext() bool { return r.Weak || contextRules[r.Rule] && !r.Strong }

// parts splits rule scores into the noisy-OR of typology rules and of
// context rules, and counts the typology rules.
func parts(rs []RuleScore) (s, w float64, typologies int) {
	ps, pw := 1.0, 1.0
	for _, r := range rs {
		if r.IsContext() {
			pw *= 1 - clamp01(r.Score)
		} else {
			ps *= 1 - clamp01(r.Score)
			typologies++
		}
	}
	return 1 - ps, 1 - pw, typologies
}

// subject returns who an entity's risk is about: an instrument's holder, or
// the entity itself.
func (rr *ruleRun) subject(n NodeID) NodeID {
	if isInstrument(rr.ix.Kind(n)) {
		return rr.holderOrSelf(n)
	}
	return n
}

// score turns sorted hits into ranked risks. A rule counts once per entity
// (its strongest hit). Instruments pass their rules to their holder scaled by
// CardToHolder; a holder passes every rule (its own and its other
// instruments') to each instrument scaled by HolderToCard, so the unused
// cards of a dropper are flagged with the active ones. Each entity's rules
// then combine by CombineRisk.
//
// last (the last scoring of a run) writes each risk's Explanation and counts its Evidence (what the
// list shows and ranks ties by); the collector rounds, which read only the
// scores, skip both.
func (rr *ruleRun) score(hits []Hit, last bool) Flags {
	cfg := rr.cfg
	own := map[NodeID]ruleAcc{}
	hitIdx := map[NodeID][]int{}
	for i, h := range hits {
		if own[h.Node] == nil {
			own[h.Node] = ruleAcc{}
		}
		own[h.Node].put(RuleScore{Rule: h.Rule, Score: h.Score, Via: NoNode, Strong: h.Strong, Weak: h.Weak})
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
				holderAcc[h].put(RuleScore{Rule: r.Rule, Score: r.Score * cfg.CardToHolder, Via: n, Strong: r.Strong, Weak: r.Weak})
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
				f.put(RuleScore{Rule: r.Rule, Score: r.Score * cfg.HolderToCard, Via: h, Strong: r.Strong, Weak: r.Weak})
			}
		}
	}

	// Evidence per subject: the distinct transactions of its own hits and of
	// its instruments' hits.
	evid := map[NodeID]map[uint32]struct{}{}
	for _, h := range hits {
		if !last {
			break
		}
		s := rr.subject(h.Node)
		if evid[s] == nil {
			evid[s] = map[uint32]struct{}{}
		}
		for _, t := range h.Evidence {
			evid[s][t] = struct{}{}
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
		s, w, typ := parts(rs)
		subj := rr.subject(n)
		out.Risks = append(out.Risks, Risk{Node: n, Ref: ref, Kind: rr.ix.Kind(n),
			Score: CombineRisk(s, w, cfg.FlagThreshold), Typology: s, Context: w, Typologies: typ,
			Evidence: len(evid[subj]), Subject: subj, Rules: rs,
			Hits: hitIdx[n]})
		if last {
			out.Risks[len(out.Risks)-1].Explanation = rr.explain(n, rs, hits, hitIdx[n])
		}
	}
	slices.SortFunc(out.Risks, compareRisks)
	return out
}

// compareRisks ranks risks: by score, then by the typology evidence alone,
// the number of typologies and of evidence transactions, so that equal
// scores at the top of the list are ordered by what distinguishes them.
func compareRisks(a, b Risk) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Typology, a.Typology); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Typologies, a.Typologies); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Evidence, a.Evidence); c != 0 {
		return c
	}
	return cmp.Compare(a.Node, b.Node)
}

// Subjects returns one risk per subject, ranked: persons (carrying the
// rules of the instruments they hold) and instruments nobody is known to
// hold. The held instruments of a listed person are not listed again.
func (f Flags) Subjects() []Risk {
	out := make([]Risk, 0, len(f.Risks))
	for _, r := range f.Risks {
		if r.Subject == r.Node {
			out = append(out, r)
		}
	}
	return out
}

// FlaggedSubjects returns the subjects at or above the threshold.
func (f Flags) FlaggedSubjects() []Risk {
	s := f.Subjects()
	n := 0
	for n < len(s) && s[n].Score >= f.Threshold {
		n++
	}
	return s[:n]
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
