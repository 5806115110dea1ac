package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// GroundTruth is the demo generator's ground_truth.json: the planted groups
// and the droppers' cards. Only Evaluate reads it; the rules never do.
type GroundTruth struct {
	Seed      int64        `json:"seed"`
	Scale     string       `json:"scale"`
	Start     string       `json:"start"`
	Days      int          `json:"days"`
	Groups    []TruthGroup `json:"groups"`
	MuleCards []string     `json:"mule_cards"` // PANs
	// Decoy worlds only (casegraph generate --world decoys): the world's
	// name, currency and size, and the decoys, honest persons built to
	// look suspicious (EvaluateDecoys reads them).
	World    string       `json:"world,omitempty"`
	Currency string       `json:"currency,omitempty"`
	Persons  int          `json:"persons,omitempty"`
	Decoys   []TruthDecoy `json:"decoys,omitempty"`
}

// TruthGroup is one planted group.
type TruthGroup struct {
	GroupID    string   `json:"group_id"`
	Name       string   `json:"name"`
	CaseRef    string   `json:"case_ref"`
	Typologies []string `json:"typologies"`
	Organiser  string   `json:"organiser"`
	Members    []string `json:"members"` // IINs
	Cards      []string `json:"cards"`   // PANs of every member
	Exchanges  []string `json:"exchanges"`
	ATMs       []string `json:"atms"`
	Devices    []string `json:"devices"`
	IPs        []string `json:"ips"`
	Phones     []string `json:"phones"`
	Wallet     string   `json:"wallet"`
	// Decoy worlds only: the organiser's own cards, the couriers, the
	// group's mule cards and those of them that barely move, and whether
	// groups.csv names the group (a known case with part of its people).
	OrganiserCards   []string `json:"organiser_cards,omitempty"`
	Couriers         []string `json:"couriers,omitempty"`
	GroupMuleCards   []string `json:"mule_cards,omitempty"`
	DormantMuleCards []string `json:"dormant_mule_cards,omitempty"`
	Known            bool     `json:"known,omitempty"`
}

// ParseGroundTruth reads a ground_truth.json and refuses what is not one:
// another JSON shape (an array, unknown keys such as another data set's
// summary), trailing data, no groups and no mule cards, a group with
// neither members nor cards, an empty member or card.
func ParseGroundTruth(r io.Reader) (GroundTruth, error) {
	var t GroundTruth
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field == "" {
			return t, fmt.Errorf("parse ground truth: a JSON %s, want an object with groups and mule_cards as casegraph generate writes", ute.Value)
		}
		if strings.Contains(err.Error(), "unknown field") {
			return t, fmt.Errorf("parse ground truth: %w: not a casegraph ground truth (want seed, scale, start, days, groups, mule_cards)", err)
		}
		return t, fmt.Errorf("parse ground truth: %w", err)
	}
	if dec.More() {
		return t, errors.New("parse ground truth: data after the JSON object")
	}
	if len(t.MuleCards) == 0 && len(t.Groups) == 0 {
		return t, errors.New("parse ground truth: no groups and no mule cards")
	}
	for i, g := range t.Groups {
		id := g.GroupID
		if id == "" {
			id = fmt.Sprintf("#%d", i+1)
		}
		if len(g.Members) == 0 && len(g.Cards) == 0 {
			return t, fmt.Errorf("parse ground truth: group %s has no members and no cards", id)
		}
		for _, m := range g.Members {
			if strings.TrimSpace(m) == "" {
				return t, fmt.Errorf("parse ground truth: group %s has an empty member", id)
			}
		}
	}
	for _, c := range t.MuleCards {
		if strings.TrimSpace(c) == "" {
			return t, errors.New("parse ground truth: an empty mule card")
		}
	}
	return t, nil
}

// ReadGroundTruth reads and checks the ground truth file at path; its
// errors name the file.
func ReadGroundTruth(path string) (GroundTruth, error) {
	fh, err := os.Open(path)
	if err != nil {
		return GroundTruth{}, fmt.Errorf("ground truth: %w", err)
	}
	defer fh.Close()
	t, err := ParseGroundTruth(fh)
	if err != nil {
		return t, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// TruthMinResolved is the least share of a ground truth's group members,
// and of its mule cards, that must name entities of the database for an
// evaluation to mean anything.
const TruthMinResolved = 0.5

// TruthCoverage says how many of a ground truth's group members (person
// keys, IINs) and mule cards (card keys, PANs) name entities of an index.
type TruthCoverage struct {
	Members, MembersFound int
	Cards, CardsFound     int
	Unresolved            []string // up to 5 examples: member "…", mule card "…"
}

// Coverage looks the ground truth's members and mule cards up in ix, as
// Evaluate matches them: a member is a person's key, a card a card's key.
func (t GroundTruth) Coverage(ix *Index) TruthCoverage {
	var c TruthCoverage
	check := func(r Ref, what string) bool {
		if _, ok := ix.Lookup(r); ok {
			return true
		}
		if len(c.Unresolved) < 5 {
			c.Unresolved = append(c.Unresolved, fmt.Sprintf("%s %q", what, r.Key))
		}
		return false
	}
	seen := map[string]bool{}
	for _, g := range t.Groups {
		for _, m := range g.Members {
			if seen[m] {
				continue
			}
			seen[m] = true
			c.Members++
			if check(Ref{Kind: KindPerson, Key: m}, "member") {
				c.MembersFound++
			}
		}
	}
	clear(seen)
	for _, p := range t.MuleCards {
		if seen[p] {
			continue
		}
		seen[p] = true
		c.Cards++
		if check(Ref{Kind: KindCard, Key: p}, "mule card") {
			c.CardsFound++
		}
	}
	return c
}

// CheckTruth refuses a ground truth that does not describe the data in ix:
// fewer than TruthMinResolved of its group members, or of its mule cards,
// name entities there (another data set's truth, or members named by
// account ids or with a prefix the database does not use). Scoring it
// would report a recall of 0 that means nothing. The error gives examples
// of unresolved references and of the database's own.
func CheckTruth(ix *Index, t GroundTruth) error {
	c := t.Coverage(ix)
	low := func(found, total int) bool { return total > 0 && float64(found) < TruthMinResolved*float64(total) }
	if !low(c.MembersFound, c.Members) && !low(c.CardsFound, c.Cards) {
		return nil
	}
	var have []string
	for _, k := range []Kind{KindPerson, KindCard} {
		n, ex := 0, []string{}
		for id := range ix.Len() {
			if ix.Kind(NodeID(id)) != k {
				continue
			}
			n++
			if len(ex) < 3 {
				ex = append(ex, ix.Ref(NodeID(id)).String())
			}
		}
		if n == 0 {
			have = append(have, fmt.Sprintf("no %ss", k))
		} else {
			have = append(have, fmt.Sprintf("%d %ss such as %s", n, k, strings.Join(ex, ", ")))
		}
	}
	var found []string
	if c.Members > 0 {
		found = append(found, fmt.Sprintf("%d of %d group members resolve to persons", c.MembersFound, c.Members))
	}
	if c.Cards > 0 {
		found = append(found, fmt.Sprintf("%d of %d mule cards to cards", c.CardsFound, c.Cards))
	}
	return fmt.Errorf("the ground truth does not describe this database: %s (at least %.0f%% are needed); unresolved: %s; the database holds %s. Members must be person keys (IINs) and mule cards card keys (PANs) exactly as imported, without a scheme prefix",
		strings.Join(found, " and "), TruthMinResolved*100, strings.Join(c.Unresolved, ", "), strings.Join(have, " and "))
}

// RuleEval scores the cards a single rule flags (on the card itself or
// inherited from its holder), as if it were the only rule.
type RuleEval struct {
	Rule      string  `json:"rule"`
	Cards     int     `json:"cards"`     // cards whose risk includes the rule (own or inherited)
	Correct   int     `json:"correct"`   // of them, planted mule cards
	Precision float64 `json:"precision"` // Correct / Cards
	Recall    float64 `json:"recall"`    // Correct / mule cards
	OwnHits   int     `json:"own_hits"`  // hits of the rule on any entity
}

// CurvePoint is recall and precision of mule cards at one risk threshold.
type CurvePoint struct {
	Threshold float64 `json:"threshold"`
	Flagged   int     `json:"flagged"`
	Recall    float64 `json:"recall"`
	Precision float64 `json:"precision"`
}

// EvalReport compares flags and suspected groups with the ground truth.
type EvalReport struct {
	Threshold    float64 `json:"threshold"`
	MuleCards    int     `json:"mule_cards"`
	FlaggedCards int     `json:"flagged_cards"`
	Correct      int     `json:"correct"`
	Recall       float64 `json:"recall"`
	Precision    float64 `json:"precision"`
	F1           float64 `json:"f1"`

	PerRule []RuleEval   `json:"per_rule"`
	Curve   []CurvePoint `json:"curve"`

	// Groups: pairwise agreement over persons between the suspected groups
	// and the planted groups' members. Persons in neither count as
	// singletons and do not affect the pair counts.
	PredictedGroups int     `json:"predicted_groups"`
	TruthGroups     int     `json:"truth_groups"`
	GroupPersons    int     `json:"group_persons"` // persons in a predicted or a planted group
	PairPrecision   float64 `json:"pair_precision"`
	PairRecall      float64 `json:"pair_recall"`
	PairF1          float64 `json:"pair_f1"`
	ARI             float64 `json:"ari"`

	// Decoys is set by the caller from EvaluateDecoys when the truth lists
	// decoys.
	Decoys *DecoyReport `json:"decoys,omitempty"`

	MissedCards []string `json:"missed_cards,omitempty"` // up to 20 mule cards not flagged
	FalseCards  []string `json:"false_cards,omitempty"`  // up to 20 flagged cards not planted
}

// Evaluate scores flags and clusters against the ground truth: recall and
// precision of the planted mule cards among the flagged cards (risk ≥
// flags.Threshold), per rule, along a threshold curve, and the pairwise
// precision/recall/F1 and adjusted Rand index of clusters (persons only)
// against the planted groups' members.
func Evaluate(flags Flags, truth GroundTruth, clusters [][]Ref) EvalReport {
	rep := EvalReport{Threshold: flags.Threshold, MuleCards: len(truth.MuleCards), TruthGroups: len(truth.Groups),
		PredictedGroups: len(clusters)}
	mule := make(map[string]bool, len(truth.MuleCards))
	for _, p := range truth.MuleCards {
		mule[p] = true
	}
	isMule := func(r Ref) bool { return r.Kind == KindCard && mule[r.Key] }

	// Whole-score figures and the curve.
	var cards []Risk
	for _, r := range flags.Risks {
		if r.Kind == KindCard {
			cards = append(cards, r)
		}
	}
	for _, r := range cards {
		if r.Score >= flags.Threshold {
			rep.FlaggedCards++
			if isMule(r.Ref) {
				rep.Correct++
			} else if len(rep.FalseCards) < 20 {
				rep.FalseCards = append(rep.FalseCards, r.Ref.String())
			}
		}
	}
	rep.Recall = ratio(rep.Correct, rep.MuleCards)
	rep.Precision = ratio(rep.Correct, rep.FlaggedCards)
	rep.F1 = harmonic(rep.Precision, rep.Recall)
	flaggedSet := map[string]bool{}
	for _, r := range cards {
		if r.Score >= flags.Threshold {
			flaggedSet[r.Ref.Key] = true
		}
	}
	for _, p := range truth.MuleCards {
		if !flaggedSet[p] && len(rep.MissedCards) < 20 {
			rep.MissedCards = append(rep.MissedCards, "card:"+p)
		}
	}
	for _, th := range []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9} {
		pt := CurvePoint{Threshold: th}
		ok := 0
		for _, r := range cards {
			if r.Score >= th {
				pt.Flagged++
				if isMule(r.Ref) {
					ok++
				}
			}
		}
		pt.Recall, pt.Precision = ratio(ok, rep.MuleCards), ratio(ok, pt.Flagged)
		rep.Curve = append(rep.Curve, pt)
	}

	// Per rule: cards whose risk includes the rule.
	own := map[string]int{}
	for _, h := range flags.Hits {
		own[h.Rule]++
	}
	for _, id := range RuleIDs {
		re := RuleEval{Rule: id, OwnHits: own[id]}
		for _, r := range cards {
			for _, rs := range r.Rules {
				if rs.Rule == id {
					re.Cards++
					if isMule(r.Ref) {
						re.Correct++
					}
					break
				}
			}
		}
		re.Precision, re.Recall = ratio(re.Correct, re.Cards), ratio(re.Correct, rep.MuleCards)
		rep.PerRule = append(rep.PerRule, re)
	}

	// Groups, over persons.
	pred := map[string]int{}
	for i, c := range clusters {
		for _, r := range c {
			if r.Kind == KindPerson {
				pred[r.Key] = i + 1
			}
		}
	}
	planted := map[string]int{}
	for i, g := range truth.Groups {
		for _, m := range g.Members {
			planted[m] = i + 1
		}
	}
	items := make([]string, 0, len(pred)+len(planted))
	for k := range pred {
		items = append(items, k)
	}
	for k := range planted {
		if _, ok := pred[k]; !ok {
			items = append(items, k)
		}
	}
	slices.Sort(items)
	rep.GroupPersons = len(items)
	pp, rr, f1, ari := pairScores(items, pred, planted)
	rep.PairPrecision, rep.PairRecall, rep.PairF1, rep.ARI = pp, rr, f1, ari
	return rep
}

// pairScores compares two labellings of items (label 0 = singleton).
func pairScores(items []string, a, b map[string]int) (prec, rec, f1, ari float64) {
	type cell struct{ x, y int }
	cells := map[cell]int{}
	rowA, rowB := map[int]int{}, map[int]int{}
	for _, it := range items {
		x, y := a[it], b[it]
		if x == 0 || y == 0 {
			// A singleton on either side shares no pair in the contingency
			// table; it still counts in its own side's cluster sizes.
			if x != 0 {
				rowA[x]++
			}
			if y != 0 {
				rowB[y]++
			}
			continue
		}
		cells[cell{x, y}]++
		rowA[x]++
		rowB[y]++
	}
	c2 := func(n int) float64 { return float64(n) * float64(n-1) / 2 }
	var sumIJ, sumA, sumB float64
	for _, n := range cells {
		sumIJ += c2(n)
	}
	for _, n := range rowA {
		sumA += c2(n)
	}
	for _, n := range rowB {
		sumB += c2(n)
	}
	prec = safeDiv(sumIJ, sumA)
	rec = safeDiv(sumIJ, sumB)
	f1 = harmonic(prec, rec)
	total := c2(len(items))
	if total == 0 {
		return prec, rec, f1, 0
	}
	expected := sumA * sumB / total
	maxIdx := (sumA + sumB) / 2
	if math.Abs(maxIdx-expected) < 1e-12 {
		return prec, rec, f1, 1
	}
	ari = (sumIJ - expected) / (maxIdx - expected)
	return prec, rec, f1, ari
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func harmonic(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}
