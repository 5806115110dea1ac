package graph

import (
	"context"
	"math"
	"testing"
)

func TestJaroWinkler(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.961},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.813},
		{"abc", "abc", 1},
		{"abc", "xyz", 0},
		{"", "abc", 0},
	} {
		if got := JaroWinkler(c.a, c.b); math.Abs(got-c.want) > 0.001 {
			t.Errorf("JaroWinkler(%q, %q) = %.4f, want %.3f", c.a, c.b, got, c.want)
		}
		if got, rev := JaroWinkler(c.a, c.b), JaroWinkler(c.b, c.a); math.Abs(got-rev) > 1e-9 {
			t.Errorf("JaroWinkler not symmetric for %q, %q: %v vs %v", c.a, c.b, got, rev)
		}
	}
}

func TestTokenSetScoreAcrossScripts(t *testing.T) {
	score := func(a, b string) float64 { return TokenSetScore(SkeletonTokens(a), SkeletonTokens(b)) }
	high := [][2]string{
		{"Ахметов Жанболат Серікұлы", "Zhanbolat Akhmetov Serikuly"},
		{"Ахметов Жанболат", "AKHMETOV ZHANBOLAT SERIKOVICH"},
		{"Şynar Qasymova", "Шынар Касымова"},
		{"Юлия Сергеевна Ким", "Iuliia Kim"},
		{"Айдар К.", "Айдар Калиев"},
	}
	for _, c := range high {
		if s := score(c[0], c[1]); s < 0.85 {
			t.Errorf("score(%q, %q) = %.2f, want ≥ 0.85", c[0], c[1], s)
		}
	}
	low := [][2]string{
		{"Иванов Сергей", "Иванова Светлана"},
		{"Ахметов Жанболат", "Нурланов Ерлан"},
	}
	for _, c := range low {
		if s := score(c[0], c[1]); s >= 0.85 {
			t.Errorf("score(%q, %q) = %.2f, want < 0.85", c[0], c[1], s)
		}
	}
}

func pref(key string) Ref { return Ref{Kind: KindPerson, Key: key} }

func TestResolveDeterministicAndProposals(t *testing.T) {
	ps := []Party{
		// Two FtM records of one person sharing a phone, one also with an IIN.
		{Ref: pref("ftm:a"), Names: []string{"Zhanbolat Akhmetov"}, BirthDate: "1985-03-12",
			IDs: []Ident{{"phone", "+77015551234"}}},
		{Ref: pref("850312300002"), Names: []string{"Ахметов Жанболат Серікұлы"}, BirthDate: "1985-03-12",
			IDs: []Ident{{"iin", "850312300002"}, {"phone", "+77015551234"}}},
		// Another IIN on the same phone: never merged with the first IIN.
		{Ref: pref("900101400005"), Names: []string{"Ахметова Айгерим"}, BirthDate: "1990-01-01",
			IDs: []Ident{{"iin", "900101400005"}, {"phone", "+77015551234"}}},
		// Same name and birth date, no identifiers: a proposal.
		{Ref: pref("goaml:x"), Names: []string{"AKHMETOV ZHANBOLAT"}, BirthDate: "1985-03-12"},
		// Same name, other birth date: nothing.
		{Ref: pref("goaml:y"), Names: []string{"Akhmetov Zhanbolat"}, BirthDate: "1986-03-12"},
		// Shared IBAN.
		PartyOf(Entity{Ref: Ref{Kind: KindAccount, Key: "KZ45722S000054326792"}}),
		{Ref: Ref{Kind: KindOrganisation, Key: "ftm:acc-holder"}, Names: []string{"TOO Example"},
			IDs: []Ident{{"iban", "KZ45722S000054326792"}}},
	}
	res, err := Resolve(context.Background(), ps, ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]Ref]Match{}
	for _, m := range res.Merges {
		if !m.Deterministic || m.Score != 1 {
			t.Errorf("merge %+v: want deterministic score 1", m)
		}
		got[[2]Ref{m.A, m.B}] = m
	}
	if len(res.Merges) != 2 {
		t.Fatalf("merges = %+v, want 2", res.Merges)
	}
	if m, ok := got[[2]Ref{pref("850312300002"), pref("ftm:a")}]; !ok || m.Method != "phone" {
		t.Errorf("want phone merge of ftm:a and the IIN, got %+v", res.Merges)
	}
	if _, ok := got[[2]Ref{{Kind: KindAccount, Key: "KZ45722S000054326792"}, {Kind: KindOrganisation, Key: "ftm:acc-holder"}}]; !ok {
		t.Errorf("want iban merge, got %+v", res.Merges)
	}
	for _, m := range append(res.Merges, res.Proposals...) {
		if (m.A == pref("900101400005")) != (m.B == pref("900101400005")) {
			t.Errorf("second IIN must stay apart: %+v", m)
		}
	}
	// goaml:x is proposed against the component of the first person; it
	// may pair with either member, but exactly one proposal names it.
	n := 0
	for _, p := range res.Proposals {
		if p.Deterministic || p.Method != "skeleton+dob" {
			t.Errorf("proposal %+v: want skeleton+dob", p)
		}
		if p.A == pref("goaml:x") || p.B == pref("goaml:x") {
			n++
		}
		if p.A == pref("goaml:y") || p.B == pref("goaml:y") {
			t.Errorf("different birth date proposed: %+v", p)
		}
	}
	if n == 0 {
		t.Errorf("want a proposal for goaml:x, got %+v", res.Proposals)
	}
	l := res.Proposals[0].Link("accepted", Provenance{})
	if l.Type != LinkSameAs || !l.From.Less(l.To) {
		t.Errorf("link %+v", l)
	}
	s, method, err := ParseSameAsRole(l.Role)
	if err != nil || method != "skeleton+dob" || s != res.Proposals[0].Score {
		t.Errorf("ParseSameAsRole(%q) = %v, %q, %v", l.Role, s, method, err)
	}
}

func TestResolveNeverJoinsTwoIINsTransitively(t *testing.T) {
	// A (IIN 1) and C (IIN 2) both share identifiers with B: B may join one,
	// never both, and no proposal may bridge them either.
	ps := []Party{
		{Ref: pref("ftm:b"), Names: []string{"Serik"}, BirthDate: "1970-01-01",
			IDs: []Ident{{"phone", "+77010000001"}, {"iban", "KZ00X"}}},
		{Ref: pref("850312300002"), Names: []string{"Serik"}, BirthDate: "1970-01-01",
			IDs: []Ident{{"iin", "850312300002"}, {"phone", "+77010000001"}}},
		{Ref: pref("900101400005"), Names: []string{"Serik"}, BirthDate: "1970-01-01",
			IDs: []Ident{{"iin", "900101400005"}, {"iban", "KZ00X"}}},
	}
	res, err := Resolve(context.Background(), ps, ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parent := map[Ref]Ref{}
	var find func(Ref) Ref
	find = func(r Ref) Ref {
		if p, ok := parent[r]; ok && p != r {
			return find(p)
		}
		return r
	}
	for _, m := range append(res.Merges, res.Proposals...) {
		parent[find(m.A)] = find(m.B)
	}
	if find(pref("850312300002")) == find(pref("900101400005")) {
		t.Fatalf("two IINs joined: merges %+v proposals %+v", res.Merges, res.Proposals)
	}
	if len(res.Merges) != 1 {
		t.Errorf("merges = %+v, want exactly one", res.Merges)
	}
}

func TestPartyOf(t *testing.T) {
	e := Entity{Ref: Ref{Kind: KindPerson, Key: "ftm:1"}, Name: "Maria Osetrova",
		Props: map[string]string{"alias": "Мария Осетрова; Maria Osetrova", "birth_date": "1988-01-07; 1988-01-08",
			"phone": "+77015551234", "wallet": "ETH:0xAbC", "iin": "123"}}
	p := PartyOf(e)
	if len(p.Names) != 2 || p.BirthDate != "1988-01-07" {
		t.Errorf("names %q birth %q", p.Names, p.BirthDate)
	}
	want := map[Ident]bool{{"phone", "+77015551234"}: true, {"wallet", "0xabc"}: true}
	if len(p.IDs) != len(want) {
		t.Errorf("ids %+v, want %v", p.IDs, want)
	}
	for _, id := range p.IDs {
		if !want[id] {
			t.Errorf("unexpected id %+v", id)
		}
	}
}

func TestResolveCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ps := []Party{{Ref: pref("a"), Names: []string{"x"}, BirthDate: "2000-01-01"}, {Ref: pref("b"), Names: []string{"x"}, BirthDate: "2000-01-01"}}
	if _, err := Resolve(ctx, ps, ResolveOptions{}); err == nil {
		t.Fatal("want an error from a cancelled context")
	}
}
