package graph

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCombineRiskProperties holds the promises of docs/DETECTION.md "How
// signals combine" over random inputs: context alone stays below the
// threshold whatever its strength; the risk is never below the typology
// part; it grows with each part; it reaches the threshold whenever the
// typology part alone does.
func TestCombineRiskProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		s, w, t0 := rng.Float64(), rng.Float64(), 0.05+0.95*rng.Float64()
		r := CombineRisk(s, w, t0)
		if r < s-1e-12 || r > 1 {
			t.Fatalf("CombineRisk(%v, %v, %v) = %v, outside [s, 1]", s, w, t0, r)
		}
		if z := CombineRisk(0, w, t0); z >= t0 {
			t.Fatalf("context %v alone reached %v ≥ threshold %v", w, z, t0)
		}
		if s >= t0 && r < t0 {
			t.Fatalf("typology %v ≥ threshold %v, risk %v below", s, t0, r)
		}
		ds, dw := rng.Float64()*(1-s), rng.Float64()*(1-w)
		if CombineRisk(s+ds, w, t0) < r-1e-12 || CombineRisk(s, w+dw, t0) < r-1e-12 {
			t.Fatalf("CombineRisk not monotone at s=%v w=%v t=%v", s, w, t0)
		}
	}
	if CombineRisk(1, 0, 0.5) != 1 || CombineRisk(0.99, 1, 0.5) >= 1 {
		t.Error("risk 1 must need typology evidence 1")
	}
}

// TestContextAloneNeverFlags: a holder with cards in many banks, a device
// shared with two others, night cash and a single purchase on an
// unlicensed exchange — every context rule at once — stays below the
// threshold, and is still listed with its signals.
func TestContextAloneNeverFlags(t *testing.T) {
	r := newRB()
	dev := Ref{Kind: KindDevice, Key: "DEV-FAMILY"}
	banks := []string{"Kaspi Bank", "Halyk", "ForteBank", "Jusan"}
	for j, b := range banks {
		r.b.AddLink(Link{From: r.card(10+j, 1, b, ""), To: dev, Type: LinkUsesDevice})
	}
	r.b.AddLink(Link{From: r.card(20, 2, "Halyk", ""), To: dev, Type: LinkUsesDevice})
	r.b.AddLink(Link{From: r.card(21, 3, "Halyk", ""), To: dev, Type: LinkUsesDevice})
	x := Ref{Kind: KindExchange, Key: "EX-GREY"}
	r.b.AddEntity(Entity{Ref: x, Name: "Grey Exchange"})
	r.tx(rCard(10), x, 0, 6600, ChannelTrade)
	for i := 0; i < 4; i++ { // cash at night (Almaty 02:00)
		r.tx(rCard(11), rATM(1), time.Duration(i)*day+14*time.Hour, 20000, ChannelCashOut)
	}
	ix, f := r.run(t)
	id, _ := ix.Lookup(rPerson(1))
	var got *Risk
	for i := range f.Risks {
		if f.Risks[i].Node == id {
			got = &f.Risks[i]
		}
	}
	if got == nil {
		t.Fatal("the holder has no risk at all; context signals should still be listed")
	}
	rules := map[string]bool{}
	for _, rs := range got.Rules {
		rules[rs.Rule] = true
	}
	for _, want := range []string{"R4", "R5", "R11"} {
		if !rules[want] {
			t.Errorf("holder lacks context rule %s: %+v", want, got.Rules)
		}
	}
	if got.Score >= f.Threshold || got.Typology != 0 {
		t.Fatalf("context alone flagged: risk %.2f typology %.2f (%s)", got.Score, got.Typology, got.Explanation)
	}
	if len(f.Flagged()) != 0 {
		t.Fatalf("flagged %d entities on context alone: %s", len(f.Flagged()), f.Flagged()[0].Explanation)
	}
}

// TestRepeatedUnlicensedDealingIsATypology: the same unlicensed exchange,
// used from two cards on three days, flags the holder; one purchase does not.
func TestRepeatedUnlicensedDealingIsATypology(t *testing.T) {
	r := newRB()
	x := Ref{Kind: KindExchange, Key: "EX-GREY"}
	r.b.AddEntity(Entity{Ref: x, Name: "Grey Exchange"})
	r.card(1, 1, "Kaspi Bank", "")
	r.card(2, 1, "Halyk", "")
	r.tx(rCard(1), x, 0, 300000, ChannelTrade)
	r.tx(rCard(2), x, 2*day, 280000, ChannelTrade)
	r.tx(rCard(1), x, 5*day, 310000, ChannelTrade)
	r.card(3, 2, "Kaspi Bank", "")
	r.tx(rCard(3), x, 0, 6600, ChannelTrade)
	ix, f := r.run(t)
	if s := riskOf(ix, f, rPerson(1)); s < f.Threshold {
		t.Errorf("holder dealing on 3 days from 2 cards: risk %.2f, want flagged", s)
	}
	if s := riskOf(ix, f, rPerson(2)); s >= f.Threshold {
		t.Errorf("one-off buyer flagged: risk %.2f", s)
	}
}

// TestOrganiserCollectsFromMules: three droppers each structure top-ups and
// pass the money to one card of an organiser who has no hit of their own;
// the organiser (and the card) are flagged by R23 with the transfers as
// evidence. A shop where two droppers buy, among many honest customers, is
// not; nor is the victim who paid one of them.
func TestOrganiserCollectsFromMules(t *testing.T) {
	r := newRB()
	boss := r.card(100, 100, "Kaspi Bank", "")
	shop := r.card(200, 200, "Halyk", "")
	for p := 1; p <= 3; p++ {
		c := r.card(p*10, p, "Kaspi Bank", "")
		for i, a := range []int64{495000, 497000, 499000} {
			r.tx(rATM(1), c, time.Duration(i)*day+time.Duration(p)*time.Hour, a, ChannelTopup, withIIN(TriNo))
		}
		r.tx(c, boss, 3*day+time.Duration(p)*time.Hour, 1400000, ChannelTransfer)
		if p < 3 {
			r.tx(c, shop, 4*day, 5000, ChannelTransfer)
		}
	}
	// Regular customers over three months.
	for i := 0; i < 30; i++ {
		c := r.card(300+i, 300+i, "Halyk", "")
		for m := 0; m < 3; m++ {
			r.tx(c, shop, time.Duration(m)*30*day+time.Duration(i)*time.Hour, 7000, ChannelTransfer)
		}
	}
	r.tx(r.card(99, 99, "Halyk", ""), rCard(10), 0, 50000, ChannelTransfer)
	// The honest population's own payments (the flagged share of all money
	// is the base rate a collector must stand out from).
	for i := 0; i < 40; i++ {
		r.tx(r.card(700+i, 700+i, "Halyk", ""), r.card(800+i, 800+i, "Kaspi Bank", ""), time.Duration(i)*time.Hour, 900000, ChannelTransfer)
	}
	ix, f := r.run(t)
	if s := riskOf(ix, f, rPerson(100)); s < f.Threshold {
		t.Fatalf("organiser risk %.2f, want flagged", s)
	}
	bid, _ := ix.Lookup(boss)
	found := false
	for _, h := range f.Hits {
		if h.Node == bid && h.Rule == "R23" {
			found = true
			if len(h.Evidence) != 3 || !strings.Contains(h.Reason, "collects from 3 flagged subjects") {
				t.Errorf("R23 hit: %q with %d evidence transactions, want the 3 transfers", h.Reason, len(h.Evidence))
			}
		}
	}
	if !found {
		t.Fatal("no R23 hit on the organiser's card")
	}
	for _, p := range []int{200, 99} {
		if s := riskOf(ix, f, rPerson(p)); s >= f.Threshold {
			t.Errorf("person %d (shop or victim) flagged: %.2f", p, s)
			for _, r := range f.Risks {
				if r.Ref == rPerson(p) {
					t.Log(r.Explanation)
				}
			}
		}
	}
	// One row per subject: the organiser's card is not listed beside them.
	for _, r := range f.FlaggedSubjects() {
		if r.Ref == boss {
			t.Error("the organiser's card is listed as a subject of its own")
		}
	}
}

// TestRankingBreaksTies: two subjects at the same risk are ordered by their
// typology evidence, so equal scores at the top are not arbitrary.
func TestRankingBreaksTies(t *testing.T) {
	a := Risk{Node: 1, Score: 0.9, Typology: 0.9, Typologies: 1, Evidence: 3}
	b := Risk{Node: 2, Score: 0.9, Typology: 0.9, Typologies: 2, Evidence: 1}
	c := Risk{Node: 3, Score: 0.9, Typology: 0.9, Typologies: 2, Evidence: 7}
	rs := []Risk{a, b, c}
	slices.SortFunc(rs, compareRisks)
	if rs[0].Node != 3 || rs[1].Node != 2 || rs[2].Node != 1 {
		t.Fatalf("order %d %d %d, want 3 2 1", rs[0].Node, rs[1].Node, rs[2].Node)
	}
}

// TestVerdictsSteerCollectors: mules the rules did not flag but an analyst
// confirmed pass risk to the card that collects from them; flagged mules an
// analyst dismissed pass none.
func TestVerdictsSteerCollectors(t *testing.T) {
	build := func(structure bool) *Index {
		r := newRB()
		boss := r.card(100, 100, "Kaspi Bank", "")
		for p := 1; p <= 3; p++ {
			c := r.card(p*10, p, "Kaspi Bank", "")
			if structure {
				for i, a := range []int64{495000, 497000, 499000} {
					r.tx(rATM(1), c, time.Duration(i)*day+time.Duration(p)*time.Hour, a, ChannelTopup, withIIN(TriNo))
				}
			} else {
				r.tx(rATM(1), c, time.Duration(p)*time.Hour, 1500000, ChannelTopup)
			}
			r.tx(c, boss, 3*day+time.Duration(p)*time.Hour, 1400000, ChannelTransfer)
		}
		for i := 0; i < 40; i++ {
			r.tx(r.card(700+i, 700+i, "Halyk", ""), r.card(800+i, 800+i, "Kaspi Bank", ""), time.Duration(i)*time.Hour, 900000, ChannelTransfer)
		}
		return r.b.Build()
	}
	run := func(ix *Index, v map[Ref]VerdictKind) Flags {
		f, err := RunRulesWith(context.Background(), ix, DefaultRuleConfig(), RunOptions{Verdicts: v}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	quiet := build(false)
	if s := riskOf(quiet, run(quiet, nil), rPerson(100)); s >= 0.5 {
		t.Fatalf("without verdicts nothing points at the collector, risk %.2f", s)
	}
	confirmed := map[Ref]VerdictKind{rPerson(1): VerdictConfirmed, rCard(20): VerdictConfirmed, rPerson(3): VerdictConfirmed}
	if s := riskOf(quiet, run(quiet, confirmed), rPerson(100)); s < 0.5 {
		t.Errorf("three confirmed mules pay the collector, risk %.2f, want flagged", s)
	}
	loud := build(true)
	if s := riskOf(loud, run(loud, nil), rPerson(100)); s < 0.5 {
		t.Fatalf("flagged mules pay the collector, risk %.2f, want flagged", s)
	}
	dismissed := map[Ref]VerdictKind{rPerson(1): VerdictDismissed, rPerson(2): VerdictDismissed, rPerson(3): VerdictDismissed}
	if s := riskOf(loud, run(loud, dismissed), rPerson(100)); s >= 0.5 {
		t.Errorf("all three mules dismissed, the collector still at %.2f", s)
	}
}

// TestKnownGroupNamesItsMembers: the imported case data names a group with
// three droppers (each structuring top-ups) and an organiser who has no
// money of their own in the data. The organiser is flagged by R23 with the
// group as the reason and joins the droppers' suspected group. A group of
// the case data whose members are all ordinary people flags nobody, and
// neither does a group with one flagged member among many.
func TestKnownGroupNamesItsMembers(t *testing.T) {
	r := newRB()
	gang := Ref{Kind: KindGroup, Key: "G-1"}
	family := Ref{Kind: KindGroup, Key: "G-2"}
	loose := Ref{Kind: KindGroup, Key: "G-3"}
	for _, g := range []Ref{gang, family, loose} {
		r.b.AddEntity(Entity{Ref: g, Name: g.Key})
	}
	member := func(p int, g Ref) {
		r.person(p)
		r.b.AddLink(Link{From: rPerson(p), To: g, Type: LinkMemberOf})
	}
	member(100, gang) // the organiser: no card, no transaction
	for p := 1; p <= 3; p++ {
		c := r.card(p*10, p, "Kaspi Bank", "")
		for i, a := range []int64{495000, 497000, 499000} {
			r.tx(rATM(1), c, time.Duration(i)*day+time.Duration(p)*time.Hour, a, ChannelTopup, withIIN(TriNo))
		}
		r.tx(c, r.card(p*10+1, p*10+1, "Halyk", ""), 3*day+time.Duration(p)*time.Hour, 1400000, ChannelTransfer)
		member(p, gang)
	}
	for p := 200; p < 205; p++ {
		r.tx(r.card(p, p, "Halyk", ""), r.card(p+100, p+100, "Halyk", ""), time.Duration(p)*time.Hour, 20000, ChannelTransfer)
		member(p, family)
		member(p+100, loose)
	}
	member(1, loose)
	ix, f := r.run(t)
	if s := riskOf(ix, f, rPerson(100)); s < f.Threshold {
		t.Fatalf("organiser named with three flagged droppers: risk %.2f, want flagged", s)
	}
	oid, _ := ix.Lookup(rPerson(100))
	found := false
	for _, h := range f.Hits {
		if h.Node == oid && h.Rule == "R23" && strings.Contains(h.Reason, "member of group G-1 with 3 flagged subjects") {
			found = true
		}
	}
	if !found {
		t.Error("no R23 hit naming group G-1 on the organiser")
	}
	for p := 200; p < 205; p++ {
		for _, q := range []int{p, p + 100} {
			if s := riskOf(ix, f, rPerson(q)); s >= f.Threshold {
				t.Errorf("person %d of an unflagged group flagged: %.2f", q, s)
			}
		}
	}
	groups, err := SuspectedGroups(context.Background(), ix, f)
	if err != nil {
		t.Fatal(err)
	}
	var with []int
	for i, g := range groups {
		for _, p := range g.Persons {
			if p == oid {
				with = append(with, i)
			}
		}
	}
	if len(with) != 1 || len(groups[with[0]].Persons) != 4 {
		t.Errorf("organiser in groups %v of %d; want one group with the 3 droppers", with, len(groups))
	}
}
