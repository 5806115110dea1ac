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

// ruleAcc keeps the best score per rule for one entity (a few rules at
// most, so a slice searched in order).
type ruleAcc []RuleScore

// put returns a with r, when r is the best of its rule so far.
func (a ruleAcc) put(r RuleScore) ruleAcc {
	i := slices.IndexFunc(a, func(x RuleScore) bool { return x.Rule == r.Rule })
	if i < 0 {
		return append(a, r)
	}
	old := a[i]
	switch {
	case old.IsContext() && !r.IsContext():
	case r.IsContext() && !old.IsContext():
		return a
	case r.Score > old.Score, r.Score == old.Score && r.Via < old.Via:
	default:
		return a
	}
	a[i] = r
	return a
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
// last (the last scoring of a run) writes each risk's Explanation, counts
// its Evidence (what the list shows and ranks ties by), fills Refs and ranks
// the risks; the collector rounds, which read only each entity's score, get
// the risks unranked and skip the rest.
func (rr *ruleRun) score(hits []Hit, last bool) Flags {
	cfg := rr.cfg
	ix := rr.ix
	sc := rr.scoreScratch()
	defer sc.reset()
	// Own rules: hits are sorted by node, so each node's hits are one run.
	type own struct {
		node   NodeID
		acc    ruleAcc
		lo, hi int // its hits, hits[lo:hi]
	}
	var owns []own
	for lo := 0; lo < len(hits); {
		hi := lo + 1
		for hi < len(hits) && hits[hi].Node == hits[lo].Node {
			hi++
		}
		var acc ruleAcc
		for _, h := range hits[lo:hi] {
			acc = acc.put(RuleScore{Rule: h.Rule, Score: h.Score, Via: NoNode, Strong: h.Strong, Weak: h.Weak})
		}
		owns = append(owns, own{hits[lo].Node, acc, lo, hi})
		lo = hi
	}
	// Holders: own rules plus their instruments' rules.
	for _, o := range owns {
		if h := rr.holder[o.node]; h != NoNode && isInstrument(ix.Kind(o.node)) {
			a := sc.holder.at(h)
			for _, r := range o.acc {
				*a = a.put(RuleScore{Rule: r.Rule, Score: r.Score * cfg.CardToHolder, Via: o.node, Strong: r.Strong, Weak: r.Weak})
			}
		}
	}
	for _, o := range owns {
		if ix.Kind(o.node) == KindPerson {
			a := sc.holder.at(o.node)
			for _, r := range o.acc {
				*a = a.put(r)
			}
		}
	}
	// Every entity's rules: a holder's are its accumulated ones; any other
	// entity's its own; an instrument's also what its holders carry.
	for i, h := range sc.holder.nodes {
		*sc.final.at(h) = sc.holder.accs[i]
	}
	for _, o := range owns {
		if ix.Kind(o.node) != KindPerson {
			*sc.final.at(o.node) = slices.Clone(o.acc)
		}
	}
	for i, h := range sc.holder.nodes {
		acc := sc.holder.accs[i]
		for _, l := range ix.Links(h) {
			if !l.Out || l.Type != LinkHolds || !isInstrument(ix.Kind(l.Other)) {
				continue
			}
			f := sc.final.at(l.Other)
			for _, r := range acc {
				if r.Via == l.Other {
					continue // the card's own rule coming back
				}
				*f = f.put(RuleScore{Rule: r.Rule, Score: r.Score * cfg.HolderToCard, Via: h, Strong: r.Strong, Weak: r.Weak})
			}
		}
	}
	ownOf := make(map[NodeID]int, len(owns))
	for i, o := range owns {
		ownOf[o.node] = i
	}

	// Evidence per subject: the distinct transactions of its own hits and of
	// its instruments' hits.
	var evid map[NodeID]int
	if last {
		var pairs []subjectTx
		for _, h := range hits {
			s := rr.subject(h.Node)
			for _, t := range h.Evidence {
				pairs = append(pairs, subjectTx{s, t})
			}
		}
		slices.SortFunc(pairs, func(a, b subjectTx) int {
			if c := cmp.Compare(a.subj, b.subj); c != 0 {
				return c
			}
			return cmp.Compare(a.tx, b.tx)
		})
		pairs = slices.Compact(pairs)
		evid = map[NodeID]int{}
		for _, p := range pairs {
			evid[p.subj]++
		}
	}

	out := Flags{Hits: hits, Threshold: cfg.FlagThreshold}
	if last {
		out.Refs = make(map[NodeID]Ref, len(sc.final.nodes))
	}
	// Each entity's risk is its own work (the explanation most of it), so
	// the entities are shared out among the workers in chunks, each writing
	// its own slots; Refs, a map, is filled after.
	out.Risks = make([]Risk, len(sc.final.nodes))
	const chunk = 4096
	nChunks := (len(sc.final.nodes) + chunk - 1) / chunk
	parallelChunks(nChunks, min(rr.workers(), nChunks), func(_, c int) {
		for i := c * chunk; i < min((c+1)*chunk, len(sc.final.nodes)); i++ {
			n := sc.final.nodes[i]
			rs := []RuleScore(sc.final.accs[i])
			slices.SortFunc(rs, func(a, b RuleScore) int {
				if c := cmp.Compare(b.Score, a.Score); c != 0 {
					return c
				}
				return cmp.Compare(ruleNumber(a.Rule), ruleNumber(b.Rule))
			})
			s, w, typ := parts(rs)
			subj := rr.subject(n)
			var idx []int
			if o, ok := ownOf[n]; ok {
				for j := owns[o].lo; j < owns[o].hi; j++ {
					idx = append(idx, j)
				}
			}
			r := Risk{Node: n, Ref: ix.Ref(n), Kind: ix.Kind(n),
				Score: CombineRisk(s, w, cfg.FlagThreshold), Typology: s, Context: w, Typologies: typ,
				Evidence: evid[subj], Subject: subj, Rules: rs, Hits: idx}
			if last {
				r.Explanation = rr.explain(n, rs, hits, idx)
			}
			out.Risks[i] = r
		}
	})
	if last {
		for _, r := range out.Risks {
			out.Refs[r.Node] = r.Ref
		}
	}
	if last {
		sortRisks(out.Risks)
	}
	return out
}

type subjectTx struct {
	subj NodeID
	tx   uint32
}

// sortRisks orders risks by compareRisks. A Risk is large, so the sort
// moves small keys and the risks are placed once.
func sortRisks(rs []Risk) {
	type key struct {
		score, typology float64
		typologies      int
		evidence        int
		node            NodeID
		i               int32
	}
	keys := make([]key, len(rs))
	for i, r := range rs {
		keys[i] = key{r.Score, r.Typology, r.Typologies, r.Evidence, r.Node, int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int { // compareRisks on the keys
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.typology, a.typology); c != 0 {
			return c
		}
		if c := cmp.Compare(b.typologies, a.typologies); c != 0 {
			return c
		}
		if c := cmp.Compare(b.evidence, a.evidence); c != 0 {
			return c
		}
		return cmp.Compare(a.node, b.node)
	})
	sorted := make([]Risk, len(rs))
	for i, k := range keys {
		sorted[i] = rs[k.i]
	}
	copy(rs, sorted)
}

// scoreScratch returns the run's scoring scratch (dense per-node slots,
// allocated once per run and cleared after each scoring).
func (rr *ruleRun) scoreScratch() *scoring {
	if rr.scoring == nil {
		n := rr.ix.Len()
		rr.scoring = &scoring{holder: newSlots(n), final: newSlots(n)}
	}
	return rr.scoring
}

// scoring is score's scratch: the holders' accumulated rules and every
// entity's final rules, each in node slots.
type scoring struct {
	holder, final slots
}

func (s *scoring) reset() {
	s.holder.reset()
	s.final.reset()
}

// slots maps nodes to accumulators without a map: slot[n] is 1 + the
// accumulator's position in accs, 0 when n has none.
type slots struct {
	slot  []int32
	nodes []NodeID
	accs  []ruleAcc
}

func newSlots(n int) slots { return slots{slot: make([]int32, n)} }

// at returns n's accumulator, adding an empty one.
func (s *slots) at(n NodeID) *ruleAcc {
	if p := s.slot[n]; p > 0 {
		return &s.accs[p-1]
	}
	s.nodes = append(s.nodes, n)
	s.accs = append(s.accs, nil)
	s.slot[n] = int32(len(s.accs))
	return &s.accs[len(s.accs)-1]
}

// reset clears the slots used (the accumulators are handed out to the
// risks, so they are dropped, not reused).
func (s *slots) reset() {
	for _, n := range s.nodes {
		s.slot[n] = 0
	}
	s.nodes, s.accs = s.nodes[:0:0], s.accs[:0:0]
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
