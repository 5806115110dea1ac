package graph

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sahilm/fuzzy"
)

// oracleMatches is the brute-force definition of a match: sahilm/fuzzy finds
// the normalised query or its skeleton in the label, a term or the label's
// skeleton.
func oracleMatches(docs []SearchDoc, query string, kind Kind) map[int]bool {
	q := NormalizeQuery(query)
	out := map[int]bool{}
	if q == "" {
		return out
	}
	pats := []string{q}
	if sk := Skeleton(q); sk != "" {
		pats = append(pats, sk)
	}
	for i, d := range docs {
		if kind != KindUnknown && d.Ref.Kind != kind {
			continue
		}
		fields := append([]string{d.Label, Skeleton(d.Label)}, d.Terms...)
	search:
		for _, p := range pats {
			for _, f := range fields {
				if len(fuzzy.Find(p, []string{f})) > 0 {
					out[i] = true
					break search
				}
			}
		}
	}
	return out
}

var (
	cyrSyll = []string{"нур", "лан", "ер", "сер", "ик", "ов", "а", "жан", "бо", "лат", "қа", "сым", "ә", "лия", "юл", "ш", "ын", "ар", "ах", "мет", "цой", "ғ", "ө", "ү", "ё"}
	latSyll = []string{"NUR", "lan", "yer", "ser", "ik", "ov", "a", "zhan", "bo", "lat", "qa", "sym", "ä", "liya", "yu", "ş", "yn", "ar", "akh", "met", "tsoi", "Ğ", "ö", "ü", "K"}
)

func randWord(rng *rand.Rand, syll []string) string {
	var b strings.Builder
	for range 1 + rng.IntN(3) {
		b.WriteString(syll[rng.IntN(len(syll))])
	}
	return b.String()
}

func randDigits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

func randomCorpus(rng *rand.Rand, n int) []SearchDoc {
	docs := make([]SearchDoc, 0, n)
	for i := range n {
		var d SearchDoc
		switch rng.IntN(4) {
		case 0:
			name := randWord(rng, cyrSyll) + " " + randWord(rng, cyrSyll)
			if rng.IntN(2) == 0 {
				name = strings.ToUpper(name[:2]) + name[2:]
			}
			d = DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: randDigits(rng, 12)}, Name: name, Stub: rng.IntN(5) == 0})
		case 1:
			name := randWord(rng, latSyll) + " " + randWord(rng, latSyll)
			d = DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: randDigits(rng, 12)}, Name: name})
		case 2:
			key := "4400" + randDigits(rng, 12)
			if rng.IntN(2) == 0 {
				key = key[:6] + "******" + key[12:]
			}
			d = DocFor(Entity{Ref: Ref{Kind: KindCard, Key: key}, Stub: rng.IntN(3) == 0})
		default:
			d = DocFor(Entity{Ref: Ref{Kind: KindAccount, Key: "KZ" + randDigits(rng, 2) + "722S" + randDigits(rng, 12)}})
		}
		d.Ref.Key += fmt.Sprint("-", i) // unique refs
		docs = append(docs, d)
	}
	return docs
}

func randomQuery(rng *rand.Rand, docs []SearchDoc) string {
	switch rng.IntN(4) {
	case 0: // a subsequence of a random label, lower-cased
		r := []rune(strings.ToLower(docs[rng.IntN(len(docs))].Label))
		var q []rune
		for _, c := range r {
			if rng.IntN(3) == 0 {
				q = append(q, c)
			}
			if len(q) >= 5 {
				break
			}
		}
		return string(q)
	case 1:
		return strings.ToLower(randWord(rng, cyrSyll))
	case 2:
		return strings.ToLower(randWord(rng, latSyll))
	default:
		return randDigits(rng, 1+rng.IntN(4))
	}
}

func TestSearchMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for round := range 8 {
		docs := randomCorpus(rng, 300+rng.IntN(400))
		ix := NewSearchIndex(docs)
		pos := map[Ref]int{}
		for i, d := range docs {
			pos[d.Ref] = i
		}
		for range 60 {
			q := randomQuery(rng, docs)
			kind := KindUnknown
			if rng.IntN(4) == 0 {
				kind = KindCard
			}
			want := oracleMatches(docs, q, kind)
			res := ix.Search(context.Background(), q, kind, len(docs))
			if res.Total != len(want) {
				t.Fatalf("round %d query %q kind %v: Total %d, oracle %d", round, q, kind, res.Total, len(want))
			}
			if len(res.Hits) != len(want) {
				t.Fatalf("query %q: %d hits, oracle %d", q, len(res.Hits), len(want))
			}
			for _, h := range res.Hits {
				if !want[pos[h.Doc.Ref]] {
					t.Fatalf("query %q: hit %q not in oracle", q, h.Doc.Label)
				}
			}
			if !slices.IsSortedFunc(res.Hits, compareHits) {
				t.Fatalf("query %q: hits not ordered", q)
			}
		}
	}
}

// TestSearchNarrowingCache types queries key by key (which uses the previous
// query's survivors) and compares with a fresh index each time.
func TestSearchNarrowingCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	docs := randomCorpus(rng, 2000)
	ix := NewSearchIndex(docs)
	for _, typed := range []string{"нурлан", "zhanbol", "4400 43", "serik", "жан", "ахмет", "yuliya", "qasym"} {
		r := []rune(typed)
		for i := 1; i <= len(r); i++ {
			q := string(r[:i])
			got := ix.Search(context.Background(), q, KindUnknown, 20)
			fresh := NewSearchIndex(docs).Search(context.Background(), q, KindUnknown, 20)
			if got.Total != fresh.Total || !slices.EqualFunc(got.Hits, fresh.Hits, sameHit) {
				t.Fatalf("typing %q at %q: cached %d hits %v, fresh %d hits %v", typed, q, got.Total, labels(got), fresh.Total, labels(fresh))
			}
			if want := len(oracleMatches(docs, q, KindUnknown)); got.Total != want {
				t.Fatalf("typing %q at %q: Total %d, oracle %d", typed, q, got.Total, want)
			}
		}
	}
}

// TestSearchMemo types forward, deletes back and types again, in two kinds:
// remembered answers, and the narrowing cache they restore, must give what
// a fresh index gives.
func TestSearchMemo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	docs := randomCorpus(rng, 3000)
	ix := NewSearchIndex(docs)
	var seq []string
	for _, typed := range []string{"4400 43", "44001", "нурлан", "нур", "нурж"} {
		r := []rune(typed)
		for i := 1; i <= len(r); i++ {
			seq = append(seq, string(r[:i]))
		}
		for i := len(r) - 1; i >= 1; i-- {
			seq = append(seq, string(r[:i]))
		}
	}
	for _, kind := range []Kind{KindUnknown, KindCard, KindUnknown} {
		for _, q := range seq {
			got := ix.Search(context.Background(), q, kind, 20)
			fresh := NewSearchIndex(docs).Search(context.Background(), q, kind, 20)
			if got.Query != q || got.Total != fresh.Total || !slices.EqualFunc(got.Hits, fresh.Hits, sameHit) {
				t.Fatalf("kind %v at %q: remembered %q %d hits %v, fresh %d hits %v", kind, q, got.Query, got.Total, labels(got), fresh.Total, labels(fresh))
			}
			if want := len(oracleMatches(docs, q, kind)); got.Total != want {
				t.Fatalf("kind %v at %q: Total %d, oracle %d", kind, q, got.Total, want)
			}
		}
	}
	for i := range 2 * memoEntries {
		ix.Search(context.Background(), fmt.Sprint(i), KindUnknown, 20)
	}
	if n := len(ix.memo.entries); n != memoEntries {
		t.Errorf("memo holds %d answers, want the last %d", n, memoEntries)
	}
	held := 0
	for _, e := range ix.memo.entries {
		held += e.held
	}
	if held != ix.memo.held || held > memoHeld {
		t.Errorf("memo holds %d survivors, counted %d, bound %d", held, ix.memo.held, memoHeld)
	}
	// A caller changing its hits must not change a remembered answer.
	a := ix.Search(context.Background(), "44", KindUnknown, 20)
	a.Hits[0].Score = -1
	if b := ix.Search(context.Background(), "44", KindUnknown, 20); b.Hits[0].Score == -1 {
		t.Error("a remembered answer shares its hits with the caller")
	}
}

func sameHit(a, b SearchHit) bool {
	return a.Doc.Ref == b.Doc.Ref && a.Score == b.Score && a.Term == b.Term && slices.Equal(a.Matched, b.Matched)
}

func labels(r SearchResult) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.Doc.Label)
	}
	return out
}

func fixedDocs() []SearchDoc {
	return []SearchDoc{
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "850312300002"}, Name: "Нурланов Ерлан Серикович", Props: map[string]string{"phone": "+77011234567"}}),
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "900101400003"}, Name: "ZHANBOLATOV ARMAN"}),
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "910202400004"}, Name: "Жанболат Қасымов"}),
		DocFor(Entity{Ref: Ref{Kind: KindCard, Key: "4400430000007894"}}),
		DocFor(Entity{Ref: Ref{Kind: KindCard, Key: "440043******7894"}, Stub: true}),
		DocFor(Entity{Ref: Ref{Kind: KindAccount, Key: "KZ45722S000054326792"}}),
		DocFor(Entity{Ref: Ref{Kind: KindExchange, Key: "binance-kz"}, Name: "Binance KZ", Props: map[string]string{"domain": "binance.kz"}}),
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "880808300005"}, Name: "Ахметов Цой"}),
	}
}

func TestSearchHighlightsRunes(t *testing.T) {
	ix := NewSearchIndex(fixedDocs())
	res := ix.Search(context.Background(), "ерл", KindUnknown, 10)
	if len(res.Hits) == 0 || res.Hits[0].Doc.Label != "Нурланов Ерлан Серикович" {
		t.Fatalf("hits %v", labels(res))
	}
	if got := res.Hits[0].Matched; !slices.Equal(got, []int{9, 10, 11}) {
		t.Errorf("Matched = %v, want [9 10 11]", got)
	}
	// Latin query on a Cyrillic label: highlighted through the skeleton.
	res = ix.Search(context.Background(), "zhanbol", KindUnknown, 10)
	var found bool
	for _, h := range res.Hits {
		if h.Doc.Label == "Жанболат Қасымов" {
			found = true
			if !slices.Equal(h.Matched, []int{0, 1, 2, 3, 4, 5}) {
				t.Errorf("skeleton Matched = %v", h.Matched)
			}
		}
		if h.Doc.Label == "ZHANBOLATOV ARMAN" && !slices.Equal(h.Matched, []int{0, 1, 2, 3, 4, 5, 6}) {
			t.Errorf("direct Matched = %v", h.Matched)
		}
	}
	if !found || res.Total != 2 {
		t.Errorf("zhanbol: total %d, hits %v", res.Total, labels(res))
	}
	// Cyrillic query finds the Latin spelling.
	res = ix.Search(context.Background(), "Жанбол", KindUnknown, 10)
	if res.Total != 2 || !slices.Contains(labels(res), "ZHANBOLATOV ARMAN") {
		t.Errorf("Жанбол: %v", labels(res))
	}
	// ts ≡ ц, kh ≡ х.
	res = ix.Search(context.Background(), "akhmetov tsoi", KindUnknown, 10)
	if res.Total != 1 || res.Hits[0].Doc.Label != "Ахметов Цой" || len(res.Hits[0].Matched) == 0 {
		t.Errorf("akhmetov tsoi: %+v", res)
	}
	for _, h := range res.Hits {
		for _, m := range h.Matched {
			if m < 0 || m >= len([]rune(h.Doc.Label)) {
				t.Errorf("Matched %v outside %q", h.Matched, h.Doc.Label)
			}
		}
	}
}

func TestSearchDigitsAndTerms(t *testing.T) {
	ix := NewSearchIndex(fixedDocs())
	res := ix.Search(context.Background(), "7894", KindUnknown, 10)
	if res.Total != 2 {
		t.Fatalf("7894: %v", labels(res))
	}
	// The full card ranks above the stub of equal relevance.
	if res.Hits[0].Score == res.Hits[1].Score && res.Hits[0].Doc.Stub {
		t.Errorf("stub ranked first: %+v", res.Hits)
	}
	res = ix.Search(context.Background(), "4400 4300", KindCard, 10)
	if res.Total != 1 || res.Hits[0].Doc.Ref.Key != "4400430000007894" {
		t.Fatalf("4400 4300: %v", labels(res))
	}
	res = ix.Search(context.Background(), "  4400 43  ", KindCard, 10)
	if res.Total != 2 {
		t.Errorf("4400 43: %d", res.Total)
	}
	// IIN prefix finds the person through a term.
	res = ix.Search(context.Background(), "850312", KindPerson, 10)
	if res.Total != 1 || res.Hits[0].Term != "850312300002" || len(res.Hits[0].Matched) != 0 {
		t.Errorf("IIN prefix: %+v", res.Hits)
	}
	res = ix.Search(context.Background(), "+7701", KindUnknown, 10)
	if res.Total != 1 || res.Hits[0].Term != "+77011234567" {
		t.Errorf("phone: %+v", res)
	}
}

func TestSearchKindFilterAndOrder(t *testing.T) {
	var docs []SearchDoc
	for _, l := range []string{"Серик Б", "Серик А", "Серик В"} {
		docs = append(docs, SearchDoc{Ref: Ref{Kind: KindPerson, Key: l}, Label: l})
	}
	docs = append(docs, SearchDoc{Ref: Ref{Kind: KindGroup, Key: "g"}, Label: "Серик А"},
		SearchDoc{Ref: Ref{Kind: KindPerson, Key: "stub"}, Label: "Серик А", Stub: true})
	ix := NewSearchIndex(docs)
	res := ix.Search(context.Background(), "серик", KindPerson, 10)
	want := []Ref{{KindPerson, "Серик А"}, {KindPerson, "Серик Б"}, {KindPerson, "Серик В"}, {KindPerson, "stub"}}
	var got []Ref
	for _, h := range res.Hits {
		got = append(got, h.Doc.Ref)
	}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	res = ix.Search(context.Background(), "серик", KindUnknown, 2)
	if res.Total != 5 || len(res.Hits) != 2 || res.Hits[0].Doc.Ref.Kind != KindPerson || res.Hits[1].Doc.Ref.Kind != KindGroup {
		t.Errorf("unfiltered: total %d %+v", res.Total, res.Hits)
	}
	// Same query twice gives the same answer.
	again := ix.Search(context.Background(), "серик", KindUnknown, 2)
	if !slices.EqualFunc(res.Hits, again.Hits, sameHit) {
		t.Error("not deterministic")
	}
	if r := ix.Search(context.Background(), "   ", KindUnknown, 10); r.Total != 0 || len(r.Hits) != 0 {
		t.Errorf("blank query: %+v", r)
	}
	if r := ix.Search(context.Background(), "中", KindUnknown, 10); r.Total != 0 {
		t.Errorf("unknown rune: %+v", r)
	}
}

func TestSearchCancelled(t *testing.T) {
	ix := NewSearchIndex(randomCorpus(rand.New(rand.NewPCG(1, 1)), 40000))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := ix.Search(ctx, "нур", KindUnknown, 10)
	if res.Total != 0 || len(res.Hits) != 0 {
		t.Errorf("cancelled search returned %d", res.Total)
	}
	// A cancelled search must not poison the cache.
	if got, want := ix.Search(context.Background(), "нур", KindUnknown, 10).Total, ix.Search(context.Background(), "нур", KindUnknown, 10).Total; got != want || got == 0 {
		t.Errorf("after cancel: %d vs %d", got, want)
	}
}

// TestSearchAlphabetOverflow uses more distinct non-ASCII runes than the
// one-byte alphabet holds, so rare runes share a code and need confirming.
func TestSearchAlphabetOverflow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var docs []SearchDoc
	for i := range 600 {
		var b strings.Builder
		for range 3 {
			b.WriteRune(rune(0x4E00 + rng.IntN(300)))
		}
		docs = append(docs, SearchDoc{Ref: Ref{Kind: KindGroup, Key: fmt.Sprint(i)}, Label: b.String()})
	}
	ix := NewSearchIndex(docs)
	if !ix.alpha.over {
		t.Fatal("alphabet did not overflow")
	}
	for range 200 {
		l := []rune(docs[rng.IntN(len(docs))].Label)
		q := string(l[rng.IntN(3)])
		if rng.IntN(2) == 0 {
			q = string([]rune{l[0], l[2]})
		}
		want := oracleMatches(docs, q, KindUnknown)
		if got := ix.Search(context.Background(), q, KindUnknown, 5); got.Total != len(want) {
			t.Fatalf("query %q: Total %d, oracle %d", q, got.Total, len(want))
		}
	}
}

func TestSearchConcurrentAndEmpty(t *testing.T) {
	empty := NewSearchIndex(nil)
	if empty.Len() != 0 || empty.Search(context.Background(), "a", KindUnknown, 5).Total != 0 {
		t.Error("empty index matched")
	}
	docs := randomCorpus(rand.New(rand.NewPCG(8, 8)), 3000)
	ix := NewSearchIndex(docs)
	queries := []string{"н", "ну", "нур", "4", "44", "440", "ser", "se", "zhan"}
	want := map[string]SearchResult{}
	for _, q := range queries {
		want[q] = NewSearchIndex(docs).Search(context.Background(), q, KindUnknown, 10)
	}
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range 40 {
				q := queries[(g+i)%len(queries)]
				got := ix.Search(context.Background(), q, KindUnknown, 10)
				if got.Total != want[q].Total || !slices.EqualFunc(got.Hits, want[q].Hits, sameHit) {
					done <- fmt.Errorf("query %q: %d hits, want %d", q, got.Total, want[q].Total)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestFieldBounds checks that fieldBounds bounds fieldScore for every
// pattern of one to three bytes without separators taken from the field
// itself (so most of them match), on random fields with separators.
func TestFieldBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const alphabet = "4400 12.-a/b_c\\"
	var sc boundScratch
	for range 3000 {
		f := make([]byte, 1+rng.IntN(24))
		for i := range f {
			f[i] = alphabet[rng.IntN(len(alphabet))]
		}
		bounds := fieldBounds(f, fieldMask(f), &sc)
		if general := fieldBounds(f, sepBits, &sc); general != bounds {
			t.Fatalf("field %q: bounds %v, the general pass gives %v", f, bounds, general)
		}
		best := [boundedLen]int{-1 << 20, -1 << 20, -1 << 20}
		var walk func(p []byte, from int)
		walk = func(p []byte, from int) {
			if len(p) > 0 {
				if s, ok := fieldScore(f, p); ok {
					best[len(p)-1] = max(best[len(p)-1], s)
					if s > int(bounds[len(p)-1]) {
						t.Fatalf("field %q pattern %q: score %d above bound %d", f, p, s, bounds[len(p)-1])
					}
				}
			}
			if len(p) == boundedLen {
				return
			}
			for i := from; i < len(f); i++ {
				if !isSepByte(f[i]) {
					walk(append(p, f[i]), i+1)
				}
			}
		}
		walk(nil, 0)
	}
	// Tight where it matters: two bytes in a card number's label score at
	// most 13 (index 0 and after the first space: 10+20, minus 17 unmatched).
	if got := fieldBounds([]byte("4400 4301 2345 6789"), fieldMask([]byte("4400 4301 2345 6789")), &sc)[1]; got != 13 {
		t.Errorf("bound for two bytes in a card label = %d, want 13", got)
	}
}

// TestSearchPoolMatchesBruteForce compares the candidates a search picks
// (with its narrowing and its skipping of fields that cannot enter the
// heap) with scoring every document: the hits must be the same.
func TestSearchPoolMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	docs := randomCorpus(rng, 20000)
	ix := NewSearchIndex(docs)
	for _, q := range []string{"4", "44", "440", "4400", "0", "00", "н", "ну", "нур", "e", "er", "a", "kz", "7", "77", "ахм", "z"} {
		for _, kind := range []Kind{KindUnknown, KindCard} {
			got := ix.Search(context.Background(), q, kind, 20)
			want := bruteSearch(ix, q, kind, 20)
			if !slices.EqualFunc(got.Hits, want, sameHit) {
				t.Fatalf("query %q kind %v: hits %v, scoring everything gives %v", q, kind, labels(got), labels(SearchResult{Hits: want}))
			}
		}
	}
}

// bruteSearch scores every matching document (its first matching field, as
// scanChunk does), keeps the best pool by the heap's order and re-ranks them.
func bruteSearch(ix *SearchIndex, query string, kind Kind, limit int) []SearchHit {
	q := ix.prepare(query, kind)
	var cands []candidate
	for ci := range ix.chunks {
		ch := &ix.chunks[ci]
		for i := range ch.mask {
			k := ch.kind[i]
			if kind != KindUnknown && Kind(k&^stubFlag) != kind {
				continue
			}
		pats:
			for pi, p := range q.pats {
				for f := ch.first[i]; f < ch.first[i+1]; f++ {
					if ch.fmask[f]&q.masks[pi] != q.masks[pi] {
						continue
					}
					if s, ok := fieldScore(ch.blob[ch.foff[f]:ch.foff[f+1]], p); ok {
						cands = append(cands, candidate{score: int32(s), stub: k&stubFlag != 0, idx: uint32(ch.base + i)})
						break pats
					}
				}
			}
		}
	}
	sortCandidates(cands)
	cands = cands[:min(len(cands), max(searchPoolMin, 4*limit))]
	return ix.rerank(q, cands, limit)
}

// TestSearchPhoneSpellings: a phone number is found however an
// investigator types it — with the domestic 8, with spaces, brackets and
// dashes, or as stored — and the person who uses it too.
func TestSearchPhoneSpellings(t *testing.T) {
	person := Entity{Ref: Ref{Kind: KindPerson, Key: "850312300002"}, Name: "Ахметов Есен",
		Props: map[string]string{"phone": "+77788945477"}}
	docs := []SearchDoc{DocFor(Entity{Ref: Ref{Kind: KindPhone, Key: "+77788945477"}}), DocFor(person),
		DocFor(Entity{Ref: Ref{Kind: KindCard, Key: "4400430000000016"}})}
	ix := NewSearchIndex(docs)
	for _, q := range []string{"+77788945477", "87788945477", "77788945477", "+7 778 894 54 77", "8 (778) 894-54-77", "8-778-894-54-77"} {
		res := ix.Search(context.Background(), q, KindUnknown, 10)
		found := false
		for _, h := range res.Hits {
			found = found || h.Doc.Ref.Kind == KindPhone
		}
		if !found {
			t.Errorf("%q does not find the phone +77788945477 (normalised to %q)", q, NormalizeQuery(q))
		}
	}
	// Card digits keep working with any grouping.
	for _, q := range []string{"4400 43", "4400-4300", "4400.4300.0000.0016"} {
		if res := ix.Search(context.Background(), q, KindCard, 10); len(res.Hits) != 1 {
			t.Errorf("%q finds %d cards, want 1", q, len(res.Hits))
		}
	}
}

// TestSearchGivenNameFirst: "Есен Ахметов" and "esen ahmetov" find the
// person stored as "Ахметов Есен …".
func TestSearchGivenNameFirst(t *testing.T) {
	docs := []SearchDoc{
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "850312300002"}, Name: "Ахметов Есен Айдарұлы"}),
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "900515300008"}, Name: "Сериков Нурлан"}),
	}
	ix := NewSearchIndex(docs)
	for _, q := range []string{"Ахметов Есен", "Есен Ахметов", "esen ahmetov"} {
		res := ix.Search(context.Background(), q, KindUnknown, 10)
		if len(res.Hits) == 0 || res.Hits[0].Doc.Ref.Key != "850312300002" || res.Query != q {
			t.Errorf("%q: %d hits, query %q", q, len(res.Hits), res.Query)
		}
	}
}
