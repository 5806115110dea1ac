package graph

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleCase() Case {
	t0 := time.Date(2026, 11, 27, 9, 30, 0, 123, time.UTC)
	return Case{
		ID: "c-01", Name: "Almaty cash-out", Status: CaseOpen, Notes: "first look",
		Tags: []string{"dropper"}, Created: t0, Updated: t0,
		Bookmarks: []Bookmark{
			{ID: "b-1", Target: EntityTarget(Ref{Kind: KindCard, Key: "4400430000000015"}, "Visa …0015"),
				Tags: []string{"mule"}, Note: "line one\nline two", Created: t0, Updated: t0},
			{ID: "b-2", Target: Target{Kind: TargetPath, Refs: []Ref{{Kind: KindPerson, Key: "850312300002"}, CashRef},
				Query: "path iin:850312300002 cash"}, Created: t0.Add(time.Minute), Updated: t0.Add(time.Minute)},
		},
		Queries: []SavedQuery{{Name: "big", Query: "amount>1M", Created: t0}},
	}
}

func TestCaseJSONRoundTrip(t *testing.T) {
	c := sampleCase()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"refs":["card:4400430000000015"]`) || !strings.Contains(string(b), `"cash"`) {
		t.Errorf("refs not in input form: %s", b)
	}
	var got Case
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
	if err := json.Unmarshal([]byte(`{"kind":"entity","refs":["nope"]}`), new(Target)); err == nil {
		t.Error("bad ref accepted")
	}
}

func TestTargetValidate(t *testing.T) {
	card := Ref{Kind: KindCard, Key: "1"}
	for _, tc := range []struct {
		t  Target
		ok bool
	}{
		{EntityTarget(card, ""), true},
		{Target{Kind: TargetEntity, Refs: []Ref{card, card}}, false},
		{Target{Kind: TargetCluster, Refs: []Ref{card, CashRef}}, true},
		{Target{Kind: TargetCluster}, false},
		{Target{Kind: "blob", Refs: []Ref{card}}, false},
		{Target{Kind: TargetTrace, Refs: []Ref{{}}}, false},
	} {
		if err := tc.t.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tc.t, err, tc.ok)
		}
	}
}

func TestParseCaseStatus(t *testing.T) {
	for _, s := range []string{"open", " Referred", "CLOSED"} {
		if _, err := ParseCaseStatus(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := ParseCaseStatus("done"); err == nil {
		t.Error("done accepted")
	}
}

func TestNormalizeTags(t *testing.T) {
	got := NormalizeTags([]string{" Mule", "#mule", "", "cash out", "KZ"})
	want := []string{"mule", "cash-out", "kz"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMergeCase(t *testing.T) {
	mine := sampleCase()
	theirs := sampleCase()
	theirs.ID, theirs.Name, theirs.Status = "c-99", "other name", CaseClosed
	theirs.Bookmarks[0].Tags = []string{"mule", "organiser"}
	theirs.Bookmarks[0].Updated = mine.Bookmarks[0].Updated.Add(time.Hour)
	theirs.Bookmarks[1].Note = "seen by colleague"
	extra := Bookmark{ID: "b-1", Target: EntityTarget(Ref{Kind: KindExchange, Key: "coinkz"}, ""), Created: mine.Created}
	theirs.Bookmarks = append(theirs.Bookmarks, extra)
	theirs.Tags = []string{"crypto"}
	theirs.Notes = "colleague notes"
	theirs.Queries = append(theirs.Queries, SavedQuery{Name: "x", Query: "y"})

	got, added, changed := MergeCase(mine, theirs)
	if added != 1 || changed != 2 {
		t.Fatalf("added %d changed %d, want 1 and 2", added, changed)
	}
	if got.ID != "c-01" || got.Name != "Almaty cash-out" || got.Status != CaseOpen {
		t.Errorf("identity not kept: %s %s %s", got.ID, got.Name, got.Status)
	}
	if len(got.Bookmarks) != 3 || !reflect.DeepEqual(got.Bookmarks[0].Tags, []string{"mule", "organiser"}) {
		t.Errorf("bookmarks: %+v", got.Bookmarks)
	}
	if got.Bookmarks[2].ID != "b-1-2" {
		t.Errorf("clashing id kept: %q", got.Bookmarks[2].ID)
	}
	if got.Bookmarks[1].Note != "seen by colleague" {
		t.Errorf("note: %q", got.Bookmarks[1].Note)
	}
	if got.Notes != "first look\n\ncolleague notes" || !reflect.DeepEqual(got.Tags, []string{"dropper", "crypto"}) {
		t.Errorf("case notes %q tags %q", got.Notes, got.Tags)
	}
	if len(got.Queries) != 2 {
		t.Errorf("queries: %+v", got.Queries)
	}
	if len(mine.Bookmarks) != 2 || len(mine.Bookmarks[0].Tags) != 1 {
		t.Error("MergeCase changed its argument")
	}
	again, added, changed := MergeCase(got, theirs)
	if added != 0 || changed != 0 || !reflect.DeepEqual(again, got) {
		t.Errorf("second merge not idempotent: added %d changed %d", added, changed)
	}
}

func TestMergeCaseWithoutCreationTimes(t *testing.T) {
	mine := sampleCase()
	theirs := Case{Name: "x", Bookmarks: []Bookmark{
		{ID: "z", Target: EntityTarget(Ref{Kind: KindCard, Key: "4400430000000015"}, ""), Tags: []string{"new"}},
		{ID: "y", Target: EntityTarget(Ref{Kind: KindCard, Key: "4400430000000023"}, "")},
	}}
	got, added, changed := MergeCase(mine, theirs)
	if added != 1 || changed != 1 || len(got.Bookmarks) != 3 || !reflect.DeepEqual(got.Bookmarks[0].Tags, []string{"mule", "new"}) {
		t.Fatalf("added %d changed %d: %+v", added, changed, got.Bookmarks)
	}
	if _, added, changed := MergeCase(got, theirs); added != 0 || changed != 0 {
		t.Errorf("second merge: added %d changed %d", added, changed)
	}
}

func TestTargetTitle(t *testing.T) {
	p := Target{Kind: TargetPath, Refs: []Ref{{Kind: KindPerson, Key: "850312300002"}, {Kind: KindExchange, Key: "coinkz"}}}
	if got := p.Title(); got != "path of 2: IIN 850312 300002 … coinkz" {
		t.Errorf("Title = %q", got)
	}
}
