package graph

import (
	"context"
	"testing"
)

// TestListedHolderAndCard is R15's watch-list part: a holder on a black list
// and a card on a grey list are hit with the configured weights; an entity
// with no list status is not, and the black-listed holder's unlisted card
// inherits risk through propagation, not through a hit of its own.
func TestListedHolderAndCard(t *testing.T) {
	b := NewIndexBuilder()
	black := Ref{KindPerson, "850312300002"}
	clean := Ref{KindPerson, "900515300008"}
	greyCard := Ref{KindCard, "4400430000000015"}
	heldCard := Ref{KindCard, "4400431234567894"}
	b.AddEntity(Entity{Ref: black, Name: "Listed", Props: map[string]string{PropListStatus: "black"}})
	b.AddEntity(Entity{Ref: clean, Name: "Clean"})
	b.AddEntity(Entity{Ref: greyCard, Props: map[string]string{PropListStatus: "Grey"}})
	b.AddEntity(Entity{Ref: heldCard})
	b.AddLink(Link{From: black, To: heldCard, Type: LinkHolds})
	b.AddLink(Link{From: clean, To: greyCard, Type: LinkHolds})
	ix := b.Build()
	cfg := DefaultRuleConfig()
	flags, err := RunRules(context.Background(), ix, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	hits := map[Ref]float64{}
	for _, h := range flags.ByRule("R15") {
		hits[ix.Ref(h.Node)] = h.Score
	}
	if hits[black] != cfg.R15.ListBlack || hits[greyCard] != cfg.R15.ListGrey {
		t.Fatalf("R15 list hits %v, want black %v and grey %v", hits, cfg.R15.ListBlack, cfg.R15.ListGrey)
	}
	if _, ok := hits[clean]; ok {
		t.Fatal("an unlisted person was hit")
	}
	if _, ok := hits[heldCard]; ok {
		t.Fatal("the listed holder's card got a list hit of its own")
	}
	risk := map[Ref]float64{}
	for _, r := range flags.Risks {
		risk[r.Ref] = r.Score
	}
	if risk[heldCard] <= 0 {
		t.Fatal("the black-listed holder's card inherited no risk")
	}

	cfg.R15.Enabled = false
	off, err := RunRules(context.Background(), ix, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(off.ByRule("R15")); n != 0 {
		t.Fatalf("R15 disabled but %d hits", n)
	}
}
