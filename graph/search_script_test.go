package graph

import (
	"context"
	"fmt"
	"testing"
)

// TestTransliteratedNamesRankWithLatinOnes: "zhanbol" finds Жанболат…
// through the skeleton; such a match is as good as the Latin spelling's,
// so the two interleave by quality (a shorter name first) instead of every
// Latin spelling coming first, and a Cyrillic name is not pushed out of
// the re-ranked pool by hundreds of Latin ones.
func TestTransliteratedNamesRankWithLatinOnes(t *testing.T) {
	docs := []SearchDoc{
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "900101400003"}, Name: "ZHANBOLAT ERLAN"}),
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "910202400004"}, Name: "Жанболат Ерлан"}),
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "910202400005"}, Name: "Жанболатов Ерлан Серикович"}),
		DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "910202400006"}, Name: "ZHANBOLATOV ERLAN SERIKOVICH"}),
	}
	for _, q := range []string{"zhanbol", "Zhanbolat", "жанбол"} {
		res := NewSearchIndex(docs).Search(context.Background(), q, KindUnknown, 10)
		score := map[string]int{}
		for _, h := range res.Hits {
			score[h.Doc.Label] = h.Score
		}
		if len(score) != 4 {
			t.Fatalf("%s: hits %v", q, labels(res))
		}
		if score["Жанболат Ерлан"] != score["ZHANBOLAT ERLAN"] ||
			score["Жанболатов Ерлан Серикович"] != score["ZHANBOLATOV ERLAN SERIKOVICH"] {
			t.Errorf("%s: the same name scores differently in two scripts: %v", q, score)
		}
		if score["Жанболат Ерлан"] <= score["ZHANBOLATOV ERLAN SERIKOVICH"] {
			t.Errorf("%s: the closer Cyrillic name ranks below a longer Latin one: %v", q, score)
		}
	}

	// Hundreds of longer Latin names before one short Cyrillic name.
	many := []SearchDoc{}
	for i := range 600 {
		many = append(many, DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: fmt.Sprintf("9%011d", i)},
			Name: fmt.Sprintf("ZHANBOLATOV ERLAN SERIKOVICH %d", i)}))
	}
	many = append(many, DocFor(Entity{Ref: Ref{Kind: KindPerson, Key: "800101300001"}, Name: "Жанболат Ерлан"}))
	res := NewSearchIndex(many).Search(context.Background(), "zhanbol", KindUnknown, 10)
	if res.Total != 601 || len(res.Hits) == 0 || res.Hits[0].Doc.Label != "Жанболат Ерлан" {
		t.Errorf("zhanbol among 600 Latin names: total %d, first hits %v", res.Total, labels(res))
	}
}
