package graph

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"casegraph/internal/shareddata"
)

func TestEvaluateCardsAndPairs(t *testing.T) {
	card := func(k string) Ref { return Ref{Kind: KindCard, Key: k} }
	person := func(k string) Ref { return Ref{Kind: KindPerson, Key: k} }
	flags := Flags{Threshold: 0.5, Risks: []Risk{
		{Node: 1, Ref: card("1"), Kind: KindCard, Score: 0.9, Rules: []RuleScore{{Rule: "R1", Score: 0.9}}},
		{Node: 2, Ref: card("2"), Kind: KindCard, Score: 0.6, Rules: []RuleScore{{Rule: "R4", Score: 0.6}}},
		{Node: 3, Ref: card("9"), Kind: KindCard, Score: 0.55, Rules: []RuleScore{{Rule: "R4", Score: 0.55}}},
		{Node: 4, Ref: card("3"), Kind: KindCard, Score: 0.3, Rules: []RuleScore{{Rule: "R6", Score: 0.3}}},
	}}
	truth := GroundTruth{MuleCards: []string{"1", "2", "3", "4"}, Groups: []TruthGroup{
		{GroupID: "A", Members: []string{"a1", "a2", "a3"}},
		{GroupID: "B", Members: []string{"b1", "b2"}},
	}}
	// Predicted: {a1,a2} {a3,b1,b2,x}.
	clusters := [][]Ref{{person("a1"), person("a2"), card("1")}, {person("a3"), person("b1"), person("b2"), person("x")}}
	rep := Evaluate(flags, truth, clusters)
	if rep.FlaggedCards != 3 || rep.Correct != 2 {
		t.Fatalf("flagged %d correct %d, want 3 and 2", rep.FlaggedCards, rep.Correct)
	}
	if rep.Recall != 0.5 || math.Abs(rep.Precision-2.0/3) > 1e-9 {
		t.Errorf("recall %.3f precision %.3f, want 0.5 and 0.667", rep.Recall, rep.Precision)
	}
	// Pairs: predicted 1 + 6 = 7, planted 3 + 1 = 4, shared {a1,a2},{b1,b2} = 2.
	if math.Abs(rep.PairPrecision-2.0/7) > 1e-9 || math.Abs(rep.PairRecall-0.5) > 1e-9 {
		t.Errorf("pair precision %.3f recall %.3f, want 0.286 and 0.5", rep.PairPrecision, rep.PairRecall)
	}
	var r4 RuleEval
	for _, re := range rep.PerRule {
		if re.Rule == "R4" {
			r4 = re
		}
	}
	if r4.Cards != 2 || r4.Correct != 1 {
		t.Errorf("R4 per-rule %+v, want 2 cards, 1 correct", r4)
	}
	// Identical clusterings agree perfectly.
	same := [][]Ref{{person("a1"), person("a2"), person("a3")}, {person("b1"), person("b2")}}
	rep = Evaluate(flags, truth, same)
	if rep.PairF1 != 1 || math.Abs(rep.ARI-1) > 1e-9 {
		t.Errorf("identical clusters: F1 %.3f ARI %.3f, want 1 and 1", rep.PairF1, rep.ARI)
	}
}

func TestSuspectedGroupsJoinSharedDevicesNotVictims(t *testing.T) {
	r := newRB()
	dev := Ref{Kind: KindDevice, Key: "DEV-G"}
	// Three droppers with cards in three banks sharing one device, each
	// structuring top-ups on one card (a typology each).
	for p := 1; p <= 3; p++ {
		for j, bank := range []string{"Kaspi Bank", "Halyk", "ForteBank"} {
			c := r.card(p*10+j, p, bank, "")
			r.b.AddLink(Link{From: c, To: dev, Type: LinkUsesDevice})
		}
		for i, a := range []int64{495000, 497000, 499000} {
			r.tx(rATM(1), rCard(p*10), time.Duration(i)*day+time.Duration(p)*time.Hour, a, ChannelTopup, withIIN(TriNo))
		}
	}
	// A victim pays one of them.
	r.tx(r.card(99, 99, "Halyk", ""), rCard(10), 0, 50000, ChannelTransfer)
	ix, f := r.run(t)
	groups, err := SuspectedGroups(context.Background(), ix, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || len(groups[0].Persons) != 3 {
		t.Fatalf("groups = %+v, want one group of 3 persons", groups)
	}
	if len(groups[0].Instruments) != 9 {
		t.Errorf("group lists %d instruments, want all 9 cards its persons hold", len(groups[0].Instruments))
	}
	for _, p := range groups[0].Persons {
		if ix.Ref(p) == rPerson(99) {
			t.Fatal("the victim joined the group")
		}
	}
}

// TestSuspectedGroupsDoNotChainThroughFamilies: two gangs, each flagged by
// its own typology, whose members also use a family's and an office's
// devices. The family and the office are mostly people nobody flagged, so
// their devices merge nothing and pull none of their users in.
func TestSuspectedGroupsDoNotChainThroughFamilies(t *testing.T) {
	r := newRB()
	home := Ref{Kind: KindDevice, Key: "DEV-HOME"}
	office := Ref{Kind: KindDevice, Key: "DEV-OFFICE"}
	for gang := 0; gang < 2; gang++ {
		dev := Ref{Kind: KindDevice, Key: fmt.Sprintf("DEV-GANG-%d", gang)}
		for p := 1; p <= 3; p++ {
			n := gang*10 + p
			c := r.card(n*10, n, "Kaspi Bank", "")
			r.b.AddLink(Link{From: c, To: dev, Type: LinkUsesDevice})
			for i, a := range []int64{495000, 497000, 499000} {
				r.tx(rATM(1), c, time.Duration(i)*day+time.Duration(n)*time.Hour, a, ChannelTopup, withIIN(TriNo))
			}
		}
		// One member of each gang uses the family's and the office's device.
		r.b.AddLink(Link{From: rCard((gang*10 + 1) * 10), To: home, Type: LinkUsesDevice})
		r.b.AddLink(Link{From: rCard((gang*10 + 1) * 10), To: office, Type: LinkUsesDevice})
	}
	for p := 0; p < 4; p++ {
		r.b.AddLink(Link{From: r.card(500+p, 50+p, "Halyk", ""), To: home, Type: LinkUsesDevice})
	}
	for p := 0; p < 20; p++ {
		r.b.AddLink(Link{From: r.card(600+p, 60+p, "Halyk", ""), To: office, Type: LinkUsesDevice})
	}
	ix, f := r.run(t)
	groups, err := SuspectedGroups(context.Background(), ix, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || len(groups[0].Persons) != 3 || len(groups[1].Persons) != 3 {
		for _, g := range groups {
			t.Logf("group: %d persons", len(g.Persons))
		}
		t.Fatalf("%d groups, want the two gangs of 3 apart", len(groups))
	}
	for _, r := range f.FlaggedSubjects() {
		if r.Kind == KindPerson && (r.Ref.Key >= rPerson(50).Key) {
			t.Errorf("family or office member %s flagged: %s", r.Ref, r.Explanation)
		}
	}
}

// TestBerkaNoMultiBankHits maps the Berka (PKDD'99) Czech bank data into the
// index — client → person, disposition → holds account, card → card of the
// disposition's client — and checks that R4 never fires: every card there is
// in one bank and no client holds many.
func TestBerkaNoMultiBankHits(t *testing.T) {
	dir := shareddata.Dir(t, "berka-pkdd99")
	rows := func(name string) [][]string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out [][]string
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Split(sc.Text(), ";")
			for i := range fs {
				fs[i] = strings.Trim(fs[i], `"`)
			}
			out = append(out, fs)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	b := NewIndexBuilder()
	for _, c := range rows("client.asc") {
		b.AddEntity(Entity{Ref: Ref{Kind: KindPerson, Key: "client-" + c[0]}})
	}
	dispClient := map[string]string{}
	for _, d := range rows("disp.asc") {
		dispClient[d[0]] = d[1]
		b.AddEntity(Entity{Ref: Ref{Kind: KindAccount, Key: "acct-" + d[2]}, Props: map[string]string{"bank": "Berka"}})
		b.AddLink(Link{From: Ref{Kind: KindPerson, Key: "client-" + d[1]}, To: Ref{Kind: KindAccount, Key: "acct-" + d[2]}, Type: LinkHolds})
	}
	cards := 0
	for _, c := range rows("card.asc") {
		client, ok := dispClient[c[1]]
		if !ok {
			t.Fatalf("card %s names unknown disposition %s", c[0], c[1])
		}
		ref := Ref{Kind: KindCard, Key: "card-" + c[0]}
		b.AddEntity(Entity{Ref: ref, Props: map[string]string{"bank": "Berka", "issued": "19" + c[3][:2] + "-" + c[3][2:4] + "-" + c[3][4:6]}})
		b.AddLink(Link{From: Ref{Kind: KindPerson, Key: "client-" + client}, To: ref, Type: LinkHolds})
		cards++
	}
	if cards < 800 {
		t.Fatalf("only %d Berka cards mapped", cards)
	}
	f, err := RunRules(context.Background(), b.Build(), DefaultRuleConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range f.Hits {
		if h.Rule == "R4" {
			t.Errorf("R4 fired on Berka: %s", h.Reason)
		}
	}
}

func TestParseGroundTruthRefuses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "EOF"},
		{"[1, 2]", "a JSON array"},
		{`{"total_attempts": 370, "typologies": {}}`, "not a casegraph ground truth"},
		{`{"groups": [], "mule_cards": []}`, "no groups and no mule cards"},
		{`{"groups": [{"group_id": "G1"}]}`, "group G1 has no members and no cards"},
		{`{"groups": [{"members": ["", "1"]}]}`, "group #1 has an empty member"},
		{`{"mule_cards": [" "]}`, "empty mule card"},
		{`{"mule_cards": ["1"]} {"mule_cards": ["2"]}`, "data after"},
	} {
		_, err := ParseGroundTruth(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseGroundTruth(%q) = %v, want an error about %q", tc.in, err, tc.want)
		}
	}
	if _, err := ParseGroundTruth(strings.NewReader(`{"seed": 1, "groups": [{"group_id": "G", "members": ["1"]}], "mule_cards": ["2"]}`)); err != nil {
		t.Errorf("a good ground truth: %v", err)
	}
	path := filepath.Join(t.TempDir(), "truth.json")
	if err := os.WriteFile(path, []byte(`{"groups": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadGroundTruth(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadGroundTruth error does not name the file: %v", err)
	}
	if _, err := ReadGroundTruth(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("ReadGroundTruth of a missing file: %v", err)
	}
}

// TestCheckTruth: a ground truth whose members or cards mostly do not name
// entities of the index is refused with examples from both sides.
func TestCheckTruth(t *testing.T) {
	b := NewIndexBuilder()
	for _, k := range []string{"850312300002", "900515300008", "920101300009"} {
		b.AddEntity(Entity{Ref: Ref{Kind: KindPerson, Key: k}})
	}
	for _, k := range []string{"4400430000000015", "4400430000000023"} {
		b.AddEntity(Entity{Ref: Ref{Kind: KindCard, Key: k}})
	}
	ix := b.Build()
	good := GroundTruth{Groups: []TruthGroup{{Members: []string{"850312300002", "900515300008", "920101300009"}}},
		MuleCards: []string{"4400430000000015", "4400430000000023"}}
	if err := CheckTruth(ix, good); err != nil {
		t.Fatalf("a truth that resolves: %v", err)
	}
	// Two of three members and one of two cards: enough.
	half := GroundTruth{Groups: []TruthGroup{{Members: []string{"850312300002", "900515300008", "acct-9"}}},
		MuleCards: []string{"4400430000000015", "9999"}}
	if err := CheckTruth(ix, half); err != nil {
		t.Errorf("a truth that half resolves: %v", err)
	}
	for name, bad := range map[string]GroundTruth{
		"account ids": {Groups: []TruthGroup{{Members: []string{"acct-1", "acct-2", "850312300002"}}}},
		"prefixed":    {Groups: []TruthGroup{{Members: []string{"iin:850312300002"}}}, MuleCards: []string{"4400430000000015"}},
		"cards":       {MuleCards: []string{"card:4400430000000015", "card:4400430000000023", "4400430000000015"}},
	} {
		err := CheckTruth(ix, bad)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, want := range []string{"does not describe", "unresolved: ", "persons such as iin:850312300002", "cards such as card:4400430000000015"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error lacks %q: %v", name, want, err)
			}
		}
	}
}
