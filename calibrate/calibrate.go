// Package calibrate fits the weights of the red-flag rules to analysts'
// verdicts. It is pure: the caller runs the rules (graph.RunRules) and reads
// the verdicts, this package turns them into samples, fits and
// cross-validates.
//
// The model is the risk score itself. A rule's score on an entity is its
// weight times a strength the rule and the propagation give it (×1.25 for an
// explicit missing IIN, ×0.9 inherited from a holder, …), so the strength is
// the score under the current weights divided by the current weight, and
// under new weights w the score becomes clamp01(w × strength). The risk is
// what graph.RunRules makes of the scores: the noisy-OR of the typology
// rules and that of the context rules, joined by graph.CombineRisk. Read as
// the probability that the entity is confirmed, the weights are fitted by
// maximum likelihood with an L2 penalty that pulls each weight towards its
// current value (few verdicts move the weights a little, rules without
// verdicts not at all), each weight kept in [0, 1] as RuleConfig requires.
// The fit is coordinate ascent with a golden-section search per weight (the
// risk grows with every weight).
//
// Approximations, said plainly: a hit whose score is not proportional to the
// rule's weight (the R15 watch-list hits use list_grey / list_black) is
// scaled as if it were; and the fitted figures are the model's, not a rerun
// of the rules (casegraph calibrate reruns them once with the fitted
// weights as a check).
package calibrate

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"

	"casegraph/graph"
)

// MinPerClass is the fewest confirmed and the fewest dismissed verdicts
// (on entities in the graph) calibration needs.
const MinPerClass = 5

// ErrTooFew means there are not enough verdicts of each kind.
var ErrTooFew = errors.New("too few verdicts")

// Weights returns the weight of every rule of cfg that has one (a RuleBase),
// by rule id; disabled rules are left out.
func Weights(cfg graph.RuleConfig) map[string]float64 {
	out := map[string]float64{}
	v := reflect.ValueOf(cfg)
	for _, id := range graph.RuleIDs {
		if rb, ok := ruleBase(v, id); ok && rb.Enabled {
			out[id] = rb.Weight
		}
	}
	return out
}

// WithWeights returns cfg with the weights of w set (rules not in w keep
// theirs). Weights are clamped to [0, 1].
func WithWeights(cfg graph.RuleConfig, w map[string]float64) graph.RuleConfig {
	v := reflect.ValueOf(&cfg).Elem()
	for id, x := range w {
		f := v.FieldByName(id)
		if !f.IsValid() || f.Kind() != reflect.Struct {
			continue
		}
		rb := f.FieldByName("RuleBase")
		if !rb.IsValid() {
			continue
		}
		rb.FieldByName("Weight").SetFloat(max(0, min(1, x)))
	}
	return cfg
}

func ruleBase(v reflect.Value, id string) (graph.RuleBase, bool) {
	f := v.FieldByName(id)
	if !f.IsValid() || f.Kind() != reflect.Struct {
		return graph.RuleBase{}, false
	}
	rb := f.FieldByName("RuleBase")
	if !rb.IsValid() {
		return graph.RuleBase{}, false
	}
	b, ok := rb.Interface().(graph.RuleBase)
	return b, ok
}

// Sample is one judged entity.
type Sample struct {
	Ref       graph.Ref
	Confirmed bool
	// Rules are the per-rule scores (graph.Risk.Rules) under the current
	// configuration; empty when no rule touched the entity.
	Rules map[string]float64
	// Context marks the rules that count as context signals here
	// (graph.RuleScore.IsContext); the others are typology.
	Context map[string]bool
	// Risk is the entity's risk under the current configuration, as
	// graph.RunRules computed it.
	Risk float64
}

// Samples joins verdicts and flags. An entity the rules did not touch is a
// sample without rule scores (risk 0) when inGraph says the graph holds it;
// verdicts on entities the graph does not hold are returned as missing.
func Samples(f graph.Flags, verdicts []graph.Verdict, inGraph func(graph.Ref) bool) (samples []Sample, missing []graph.Ref) {
	byRef := make(map[graph.Ref]int, len(f.Risks))
	for i, r := range f.Risks {
		byRef[r.Ref] = i
	}
	for _, v := range verdicts {
		s := Sample{Ref: v.Ref, Confirmed: v.Confirmed(), Rules: map[string]float64{}, Context: map[string]bool{}}
		if i, ok := byRef[v.Ref]; ok {
			r := f.Risks[i]
			s.Risk = r.Score
			for _, rs := range r.Rules {
				s.Rules[rs.Rule] = rs.Score
				if rs.IsContext() {
					s.Context[rs.Rule] = true
				}
			}
		} else if inGraph != nil && !inGraph(v.Ref) {
			missing = append(missing, v.Ref)
			continue
		}
		samples = append(samples, s)
	}
	return samples, missing
}

// Options tune the fit.
type Options struct {
	// L2 is the penalty per unit squared distance of a weight from its
	// current value, against the log-likelihood summed over the samples: a
	// Gaussian prior around the current weight with variance 1/(2·L2), so
	// few verdicts move a weight a little and many move it further. 0
	// means 10 (a standard deviation of about 0.22).
	L2 float64
	// Folds of the cross-validation; 0 means 5 (fewer when a class has
	// fewer samples).
	Folds int
}

func (o Options) withDefaults() Options {
	if o.L2 <= 0 {
		o.L2 = 10
	}
	if o.Folds <= 0 {
		o.Folds = 5
	}
	return o
}

// model is the samples as strengths: x[i][k] is sample i's strength on
// rules[k] (score / current weight); ctx[i][k] whether it counts as context.
type model struct {
	rules     []string
	base      []float64
	x         [][]float64
	ctx       [][]bool
	y         []bool
	threshold float64
}

func newModel(samples []Sample, base map[string]float64, threshold float64) *model {
	m := &model{threshold: threshold}
	for _, id := range graph.RuleIDs {
		if w, ok := base[id]; ok && w > 0 {
			m.rules = append(m.rules, id)
			m.base = append(m.base, w)
		}
	}
	for _, s := range samples {
		row := make([]float64, len(m.rules))
		cx := make([]bool, len(m.rules))
		for k, id := range m.rules {
			row[k] = s.Rules[id] / m.base[k]
			cx[k] = s.Context[id]
		}
		m.x = append(m.x, row)
		m.ctx = append(m.ctx, cx)
		m.y = append(m.y, s.Confirmed)
	}
	return m
}

const eps = 1e-6

// predict is the risk of sample i under weights w, with weight wk in place
// of w[k] when k ≥ 0.
func (m *model) predict(i int, w []float64, k int, wk float64) float64 {
	qs, qw := 1.0, 1.0
	for kk, xv := range m.x[i] {
		if xv <= 0 {
			continue
		}
		wv := w[kk]
		if kk == k {
			wv = wk
		}
		if m.ctx[i][kk] {
			qw *= 1 - clamp01(wv*xv)
		} else {
			qs *= 1 - clamp01(wv*xv)
		}
	}
	return graph.CombineRisk(1-qs, 1-qw, m.threshold)
}

func clamp01(v float64) float64 { return max(0, min(1, v)) }

func logLik(p float64, y bool) float64 {
	p = max(eps, min(1-eps, p))
	if y {
		return math.Log(p)
	}
	return math.Log(1 - p)
}

// fit returns the weights maximising the penalised log-likelihood of the
// samples idx (all when nil).
func (m *model) fit(idx []int, l2 float64) []float64 {
	if idx == nil {
		idx = make([]int, len(m.x))
		for i := range idx {
			idx[i] = i
		}
	}
	w := slices.Clone(m.base)
	if len(idx) == 0 {
		return w
	}
	for sweep := 0; sweep < 100; sweep++ {
		moved := 0.0
		for k := range m.rules {
			var act []int // positions in idx where rule k has strength
			for j, i := range idx {
				if m.x[i][k] > 0 {
					act = append(act, j)
				}
			}
			if len(act) == 0 {
				continue
			}
			obj := func(wk float64) float64 {
				s := 0.0
				for _, j := range act {
					i := idx[j]
					s += logLik(m.predict(i, w, k, wk), m.y[i])
				}
				d := wk - m.base[k]
				return s - l2*d*d
			}
			nw := goldenMax(obj, 0, 1)
			moved = max(moved, math.Abs(nw-w[k]))
			w[k] = nw
		}
		if moved < 1e-7 {
			break
		}
	}
	return w
}

// goldenMax finds the maximum of a unimodal f on [lo, hi].
func goldenMax(f func(float64) float64, lo, hi float64) float64 {
	const g = 0.6180339887498949
	a, b := lo, hi
	c, d := b-g*(b-a), a+g*(b-a)
	fc, fd := f(c), f(d)
	for b-a > 1e-9 {
		if fc >= fd {
			b, d, fd = d, c, fc
			c = b - g*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + g*(b-a)
			fd = f(d)
		}
	}
	best := (a + b) / 2
	// The ends themselves (a weight of exactly 0 or 1) when they are better.
	for _, e := range []float64{lo, hi} {
		if f(e) > f(best) {
			best = e
		}
	}
	return best
}

// Fit returns the fitted weight of every rule in base (rules with a weight
// of 0 keep it: their scores say nothing about their strength).
func Fit(samples []Sample, base map[string]float64, threshold float64, opt Options) map[string]float64 {
	opt = opt.withDefaults()
	m := newModel(samples, base, threshold)
	w := m.fit(nil, opt.L2)
	out := make(map[string]float64, len(base))
	for id, v := range base {
		out[id] = v
	}
	for k, id := range m.rules {
		out[id] = w[k]
	}
	return out
}

// Predict is the risk the model gives s under weights w (base: the weights
// s was scored with) for the flag threshold.
func Predict(s Sample, base, w map[string]float64, threshold float64) float64 {
	m := newModel([]Sample{s}, base, threshold)
	ws := make([]float64, len(m.rules))
	for k, id := range m.rules {
		ws[k] = m.base[k]
		if v, ok := w[id]; ok {
			ws[k] = v
		}
	}
	return m.predict(0, ws, -1, 0)
}

// PR counts decisions at a threshold against the verdicts.
type PR struct {
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	TN        int     `json:"tn"`
	Precision float64 `json:"precision"` // TP / (TP + FP); 0 when nothing is flagged
	Recall    float64 `json:"recall"`    // TP / (TP + FN)
}

// Add counts one sample: its risk against the threshold and its verdict;
// Precision and Recall stay up to date.
func (p *PR) Add(score, threshold float64, confirmed bool) {
	switch flagged := score >= threshold; {
	case flagged && confirmed:
		p.TP++
	case flagged:
		p.FP++
	case confirmed:
		p.FN++
	default:
		p.TN++
	}
	p.Precision, p.Recall = 0, 0
	if p.TP+p.FP > 0 {
		p.Precision = float64(p.TP) / float64(p.TP+p.FP)
	}
	if p.TP+p.FN > 0 {
		p.Recall = float64(p.TP) / float64(p.TP+p.FN)
	}
}

// RuleWeight is one rule's current and proposed weight.
type RuleWeight struct {
	Rule      string  `json:"rule"`
	Current   float64 `json:"current"`
	Fitted    float64 `json:"fitted"`
	Confirmed int     `json:"confirmed"` // confirmed samples the rule touches
	Dismissed int     `json:"dismissed"` // dismissed samples the rule touches
}

// Report is the outcome of Calibrate.
type Report struct {
	Confirmed, Dismissed int
	Folds                int
	Threshold            float64
	// Current are the verdicts against the risks RunRules gave with the
	// current weights; Fitted against the held-out predictions of the
	// weights fitted on the other folds. Both pooled over the folds.
	Current, Fitted PR
	// LogLoss of the same predictions (mean negative log-likelihood).
	CurrentLogLoss, FittedLogLoss float64
	// Weights fitted on all samples, in rule order.
	Weights []RuleWeight
}

// Proposed returns the fitted weights by rule id.
func (r Report) Proposed() map[string]float64 {
	out := make(map[string]float64, len(r.Weights))
	for _, w := range r.Weights {
		out[w.Rule] = w.Fitted
	}
	return out
}

// Calibrate cross-validates the fit (stratified folds, in reference order
// so the result does not depend on the order of the verdicts) and fits the
// weights on all samples. threshold is the flag threshold precision and
// recall are measured at. It returns an error wrapping ErrTooFew when either
// class has fewer than MinPerClass samples.
func Calibrate(samples []Sample, base map[string]float64, threshold float64, opt Options) (Report, error) {
	opt = opt.withDefaults()
	rep := Report{Threshold: threshold}
	for _, s := range samples {
		if s.Confirmed {
			rep.Confirmed++
		} else {
			rep.Dismissed++
		}
	}
	if rep.Confirmed < MinPerClass || rep.Dismissed < MinPerClass {
		return rep, fmt.Errorf("%w: calibration needs at least %d confirmed and %d dismissed verdicts on entities in the graph; there are %d confirmed and %d dismissed",
			ErrTooFew, MinPerClass, MinPerClass, rep.Confirmed, rep.Dismissed)
	}
	samples = slices.Clone(samples)
	slices.SortFunc(samples, func(a, b Sample) int {
		if a.Ref.Less(b.Ref) {
			return -1
		}
		if b.Ref.Less(a.Ref) {
			return 1
		}
		return cmp.Compare(btoi(a.Confirmed), btoi(b.Confirmed))
	})
	rep.Folds = min(opt.Folds, rep.Confirmed, rep.Dismissed)
	m := newModel(samples, base, threshold)
	fold := make([]int, len(samples))
	var nc, nd int
	for i, s := range samples {
		if s.Confirmed {
			fold[i] = nc % rep.Folds
			nc++
		} else {
			fold[i] = nd % rep.Folds
			nd++
		}
	}
	for f := 0; f < rep.Folds; f++ {
		var train []int
		for i := range samples {
			if fold[i] != f {
				train = append(train, i)
			}
		}
		w := m.fit(train, opt.L2)
		for i, s := range samples {
			if fold[i] != f {
				continue
			}
			p := m.predict(i, w, -1, 0)
			rep.Fitted.Add(p, threshold, s.Confirmed)
			rep.FittedLogLoss -= logLik(p, s.Confirmed)
			rep.Current.Add(s.Risk, threshold, s.Confirmed)
			rep.CurrentLogLoss -= logLik(s.Risk, s.Confirmed)
		}
	}
	n := float64(len(samples))
	rep.FittedLogLoss /= n
	rep.CurrentLogLoss /= n

	w := m.fit(nil, opt.L2)
	fitted := map[string]float64{}
	for k, id := range m.rules {
		fitted[id] = w[k]
	}
	for _, id := range graph.RuleIDs {
		cur, ok := base[id]
		if !ok {
			continue
		}
		rw := RuleWeight{Rule: id, Current: cur, Fitted: cur}
		if v, ok := fitted[id]; ok {
			rw.Fitted = math.Round(v*1000) / 1000 // as a person would write it in a config
		}
		for _, s := range samples {
			if s.Rules[id] > 0 {
				if s.Confirmed {
					rw.Confirmed++
				} else {
					rw.Dismissed++
				}
			}
		}
		rep.Weights = append(rep.Weights, rw)
	}
	return rep, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
