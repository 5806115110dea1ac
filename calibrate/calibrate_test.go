package calibrate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"casegraph/graph"
)

func ref(i int) graph.Ref { return graph.Ref{Kind: graph.KindCard, Key: fmt.Sprintf("c%04d", i)} }

// synthetic: R1 fires on 80% of the confirmed entities and 10% of the
// dismissed, R2 on 10% and 70%, R3 on 60% and 40%: R1 is the strong
// signal, R3 a weak one, R2 points the wrong way. Every rule starts at 0.5.
func synthetic(n int) ([]Sample, map[string]float64) {
	rng := rand.New(rand.NewPCG(7, 7))
	base := map[string]float64{"R1": 0.5, "R2": 0.5, "R3": 0.5}
	var out []Sample
	fires := func(p float64) bool { return rng.Float64() < p }
	for i := 0; i < n; i++ {
		s := Sample{Ref: ref(i), Confirmed: i%2 == 0, Rules: map[string]float64{}}
		pr := map[bool][3]float64{true: {0.8, 0.1, 0.6}, false: {0.1, 0.7, 0.4}}[s.Confirmed]
		if fires(pr[0]) {
			s.Rules["R1"] = 0.5 * (0.9 + 0.2*rng.Float64())
		}
		if fires(pr[1]) {
			s.Rules["R2"] = 0.5
		}
		if fires(pr[2]) {
			s.Rules["R3"] = 0.45 // inherited: 0.9 of the weight
		}
		s.Risk = Predict(s, base, base, 0.5)
		out = append(out, s)
	}
	return out, base
}

func TestFitRecoversTheOrderOfTheRules(t *testing.T) {
	samples, base := synthetic(200)
	w := Fit(samples, base, 0.5, Options{})
	t.Logf("fitted %v", w)
	if !(w["R1"] > w["R3"] && w["R3"] > w["R2"]) {
		t.Fatalf("fitted weights %v: want R1 > R3 > R2", w)
	}
	if w["R1"] <= base["R1"] || w["R2"] >= base["R2"] {
		t.Errorf("fitted %v: R1 should rise above and R2 fall below their start 0.5", w)
	}
	// With the current weights every R2 entity (0.5) is flagged, mostly
	// falsely; the fitted weights drop most of them, cross-validated.
	rep, err := Calibrate(samples, base, 0.5, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("current %+v fitted %+v", rep.Current, rep.Fitted)
	if rep.Folds != 5 || rep.Confirmed != 100 || rep.Dismissed != 100 {
		t.Errorf("report counts %+v", rep)
	}
	if rep.Fitted.Precision <= rep.Current.Precision || rep.Fitted.FP >= rep.Current.FP {
		t.Errorf("current %+v, fitted %+v: want fewer false positives and a better precision", rep.Current, rep.Fitted)
	}
	if rep.FittedLogLoss >= rep.CurrentLogLoss {
		t.Errorf("log loss fitted %.3f ≥ current %.3f", rep.FittedLogLoss, rep.CurrentLogLoss)
	}
	// Rules without verdicts keep their weight.
	base["R9"] = 0.3
	if w := Fit(samples, base, 0.5, Options{}); w["R9"] != 0.3 {
		t.Errorf("R9 without samples moved to %v", w["R9"])
	}
}

func TestCalibrateRefusesTooFew(t *testing.T) {
	samples, base := synthetic(9) // 5 confirmed, 4 dismissed
	_, err := Calibrate(samples, base, 0.5, Options{})
	if !errors.Is(err, ErrTooFew) {
		t.Fatalf("err = %v, want ErrTooFew", err)
	}
	t.Log(err)
}

func TestWeightsRoundTripThroughRuleConfig(t *testing.T) {
	cfg := graph.DefaultRuleConfig()
	w := Weights(cfg)
	if w["R1"] != cfg.R1.Weight || w["R13"] != cfg.R13.Weight || len(w) != len(graph.RuleIDs) {
		t.Fatalf("Weights = %v", w)
	}
	cfg.R6.Enabled = false
	if _, ok := Weights(cfg)["R6"]; ok {
		t.Error("a disabled rule has a weight to fit")
	}
	out := WithWeights(cfg, map[string]float64{"R1": 0.25, "R4": 1.7})
	if out.R1.Weight != 0.25 || out.R4.Weight != 1 || out.R2.Weight != cfg.R2.Weight {
		t.Errorf("WithWeights: R1 %v R4 %v R2 %v", out.R1.Weight, out.R4.Weight, out.R2.Weight)
	}
	if err := out.Validate(); err != nil {
		t.Error(err)
	}
}

func TestSamplesJoinFlagsAndVerdicts(t *testing.T) {
	f := graph.Flags{Risks: []graph.Risk{{Ref: ref(1), Score: 0.7, Rules: []graph.RuleScore{{Rule: "R1", Score: 0.7}}}}}
	vs := []graph.Verdict{{Ref: ref(1), Kind: graph.VerdictConfirmed}, {Ref: ref(2), Kind: graph.VerdictDismissed},
		{Ref: ref(3), Kind: graph.VerdictDismissed}}
	s, missing := Samples(f, vs, func(r graph.Ref) bool { return r != ref(3) })
	if len(s) != 2 || s[0].Rules["R1"] != 0.7 || s[0].Risk != 0.7 || !s[0].Confirmed || s[1].Risk != 0 || len(missing) != 1 || missing[0] != ref(3) {
		t.Fatalf("samples %+v missing %v", s, missing)
	}
}

// The model's risk under the current weights is the risk RunRules gives:
// typology and context noisy-ORs joined by graph.CombineRisk.
func TestPredictMirrorsCombineRisk(t *testing.T) {
	base := Weights(graph.DefaultRuleConfig())
	f := graph.Flags{Risks: []graph.Risk{{Ref: ref(1), Rules: []graph.RuleScore{
		{Rule: "R2", Score: 0.6}, {Rule: "R13", Score: 0.63}, {Rule: "R4", Score: 0.35}, {Rule: "R11", Score: 0.6, Strong: true}}}}}
	s, _ := Samples(f, []graph.Verdict{{Ref: ref(1), Kind: graph.VerdictConfirmed}}, nil)
	typ := 1 - (1-0.6)*(1-0.63)*(1-0.6) // R11 strong: a typology here
	want := graph.CombineRisk(typ, 0.35, 0.5)
	if got := Predict(s[0], base, base, 0.5); math.Abs(got-want) > 1e-12 {
		t.Fatalf("Predict = %v, want %v", got, want)
	}
	// Context alone never reaches the threshold, whatever its weight.
	ctxOnly := Sample{Ref: ref(2), Rules: map[string]float64{"R4": 0.35, "R5": 0.4}, Context: map[string]bool{"R4": true, "R5": true}}
	if got := Predict(ctxOnly, base, map[string]float64{"R4": 1, "R5": 1}, 0.5); got >= 0.5 {
		t.Errorf("context alone at full weight: risk %v ≥ 0.5", got)
	}
}
