package graph

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestEvaluateDecoys(t *testing.T) {
	card := func(k string) Ref { return Ref{Kind: KindCard, Key: k} }
	person := func(k string) Ref { return Ref{Kind: KindPerson, Key: k} }
	flags := Flags{Threshold: 0.5, Risks: []Risk{
		{Node: 1, Ref: card("f1"), Kind: KindCard, Score: 0.7},
		{Node: 2, Ref: card("f2"), Kind: KindCard, Score: 0.4},
		{Node: 3, Ref: person("s1"), Kind: KindPerson, Score: 0.6},
		{Node: 4, Ref: card("o1"), Kind: KindCard, Score: 0.9},
		{Node: 5, Ref: person("org2"), Kind: KindPerson, Score: 0.5},
	}}
	truth := GroundTruth{
		Groups: []TruthGroup{
			{GroupID: "A", Organiser: "org1", OrganiserCards: []string{"o1"}},
			{GroupID: "B", Organiser: "org2"},
		},
		Decoys: []TruthDecoy{
			{Type: "family", Unit: "family-001", IIN: "f", Cards: []string{"f1", "f2"}},
			{Type: "family", Unit: "family-001", IIN: "g", Cards: []string{"g1"}},
			{Type: "cash_shop", Unit: "cash_shop-001", IIN: "s1", Cards: []string{"s1c"}},
		},
	}
	clusters := [][]Ref{{person("f"), person("g"), person("x"), card("f1")}, {person("s1")}}
	rep := EvaluateDecoys(flags, truth, clusters)
	if rep.Decoys != 3 || rep.DecoyCards != 4 || rep.FlaggedPersons != 2 || rep.FlaggedCards != 1 || rep.InGroups != 3 {
		t.Errorf("totals %+v", rep)
	}
	if len(rep.PerType) != 2 || rep.PerType[0].Type != "family" || rep.PerType[0].FlaggedPersons != 1 || rep.PerType[1].FlaggedPersons != 1 {
		t.Errorf("per type %+v", rep.PerType)
	}
	if rep.Organisers != 2 || rep.OrganisersFlagged != 1 || rep.OrganisersCardFlagged != 1 {
		t.Errorf("organisers %d, flagged %d, by card %d", rep.Organisers, rep.OrganisersFlagged, rep.OrganisersCardFlagged)
	}
	if rep.LargestGroup != 3 || rep.GroupPersons != 4 {
		t.Errorf("largest group %d, persons in groups %d", rep.LargestGroup, rep.GroupPersons)
	}
}

// A ground truth with decoys and organiser cards parses; one without keeps
// parsing as before.
func TestParseGroundTruthDecoys(t *testing.T) {
	raw := `{"seed":1,"scale":"decoys","groups":[{"group_id":"OPG-01","organiser":"1","members":["1"],"organiser_cards":["c"]}],
	"mule_cards":["m"],"decoys":[{"type":"office","unit":"office-001","iin":"2","cards":["d"]}]}`
	tr, err := ParseGroundTruth(bytes.NewReader([]byte(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Decoys) != 1 || tr.Decoys[0].Type != "office" || tr.Groups[0].OrganiserCards[0] != "c" {
		t.Fatalf("parsed %+v", tr)
	}
	b, _ := json.Marshal(GroundTruth{MuleCards: []string{"m"}})
	if bytes.Contains(b, []byte("decoys")) || bytes.Contains(b, []byte("organiser_cards")) {
		t.Errorf("a truth without decoys marshals them: %s", b)
	}
}
