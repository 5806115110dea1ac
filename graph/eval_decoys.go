package graph

// TruthDecoy is one decoy person of an evaluation world (casegraph
// generate --world decoys): an honest person whose behaviour looks like a
// red flag taken alone, with the type of decoy and their cards.
type TruthDecoy struct {
	Type  string   `json:"type"`
	Unit  string   `json:"unit"`
	IIN   string   `json:"iin"`
	Cards []string `json:"cards"` // PANs
}

// DecoyTypeEval counts the decoys of one type that the flags and the
// suspected groups catch.
type DecoyTypeEval struct {
	Type           string `json:"type"`
	Persons        int    `json:"persons"`
	Cards          int    `json:"cards"`
	FlaggedPersons int    `json:"flagged_persons"` // the person or any of their cards at risk ≥ threshold
	FlaggedCards   int    `json:"flagged_cards"`
	InGroups       int    `json:"in_groups"` // persons inside a suspected group
}

// DecoyReport is what EvaluateDecoys measures: decoys flagged by type,
// organisers' risk and the size of the largest suspected group.
type DecoyReport struct {
	Threshold      float64         `json:"threshold"`
	Decoys         int             `json:"decoys"`
	DecoyCards     int             `json:"decoy_cards"`
	FlaggedPersons int             `json:"flagged_persons"`
	FlaggedCards   int             `json:"flagged_cards"`
	InGroups       int             `json:"in_groups"`
	PerType        []DecoyTypeEval `json:"per_type"`

	Organisers            int `json:"organisers"`
	OrganisersFlagged     int `json:"organisers_flagged"`      // the organiser (person) at risk ≥ threshold
	OrganisersCardFlagged int `json:"organisers_card_flagged"` // an organiser's own card at risk ≥ threshold

	LargestGroup int `json:"largest_group"` // persons in the largest suspected group
	GroupPersons int `json:"group_persons"` // persons in any suspected group
}

// EvaluateDecoys scores the decoys of the ground truth against the flags
// (risk ≥ flags.Threshold, on the person or one of their cards) and the
// suspected groups (persons only). Types are reported in their order of
// first appearance in the truth.
func EvaluateDecoys(flags Flags, truth GroundTruth, clusters [][]Ref) DecoyReport {
	rep := DecoyReport{Threshold: flags.Threshold}
	flagged := map[Ref]bool{}
	for _, r := range flags.Risks {
		if r.Score >= flags.Threshold {
			flagged[r.Ref] = true
		}
	}
	inGroup := map[string]bool{}
	for _, c := range clusters {
		n := 0
		for _, r := range c {
			if r.Kind == KindPerson {
				n++
				inGroup[r.Key] = true
			}
		}
		rep.LargestGroup = max(rep.LargestGroup, n)
	}
	rep.GroupPersons = len(inGroup)
	personFlagged := func(iin string, cards []string) (bool, int) {
		fc := 0
		for _, p := range cards {
			if flagged[Ref{Kind: KindCard, Key: p}] {
				fc++
			}
		}
		return fc > 0 || flagged[Ref{Kind: KindPerson, Key: iin}], fc
	}
	var order []string
	per := map[string]*DecoyTypeEval{}
	for _, d := range truth.Decoys {
		te := per[d.Type]
		if te == nil {
			te = &DecoyTypeEval{Type: d.Type}
			per[d.Type] = te
			order = append(order, d.Type)
		}
		f, fc := personFlagged(d.IIN, d.Cards)
		te.Persons++
		te.Cards += len(d.Cards)
		te.FlaggedCards += fc
		if f {
			te.FlaggedPersons++
		}
		if inGroup[d.IIN] {
			te.InGroups++
		}
	}
	for _, t := range order {
		te := *per[t]
		rep.Decoys += te.Persons
		rep.DecoyCards += te.Cards
		rep.FlaggedPersons += te.FlaggedPersons
		rep.FlaggedCards += te.FlaggedCards
		rep.InGroups += te.InGroups
		rep.PerType = append(rep.PerType, te)
	}
	for _, g := range truth.Groups {
		if g.Organiser == "" {
			continue
		}
		rep.Organisers++
		if flagged[Ref{Kind: KindPerson, Key: g.Organiser}] {
			rep.OrganisersFlagged++
		}
		if _, fc := personFlagged(g.Organiser, g.OrganiserCards); fc > 0 {
			rep.OrganisersCardFlagged++
		}
	}
	return rep
}
