package workbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"casegraph/graph"
)

// BenchmarkLocalIndexFull: the local search index beside a cluster at its
// bound (LocalSearchMax documents: names in both scripts, cards,
// accounts): how long a rebuild takes in the background, and each
// keystroke of typed words on it, which must stay within a frame
// (docs/PERFORMANCE.md, "Search on a cluster").
func BenchmarkLocalIndexFull(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 1))
	sur := []string{"Нурланов", "Ахметов", "Ерланова", "Серикова", "Жанболатов", "Nurlanov", "Akhmetov", "Zhanbolatov", "Berikova"}
	first := []string{"Ерлан", "Айгерим", "Жанболат", "Есен", "Dana", "Erlan", "Asel"}
	docs := make([]graph.SearchDoc, LocalSearchMax)
	for i := range docs {
		var e graph.Entity
		switch i % 4 {
		case 0, 1:
			e = graph.Entity{Ref: graph.Ref{Kind: graph.KindPerson, Key: fmt.Sprintf("%012d", i)},
				Name: sur[rng.IntN(len(sur))] + " " + first[rng.IntN(len(first))]}
		case 2:
			e = graph.Entity{Ref: graph.Ref{Kind: graph.KindCard, Key: fmt.Sprintf("440043%010d", rng.Int64N(1e10))}}
		default:
			e = graph.Entity{Ref: graph.Ref{Kind: graph.KindAccount, Key: fmt.Sprintf("KZ86722S%012d", rng.Int64N(1e12))}}
		}
		docs[i] = graph.DocFor(e)
	}
	ctx := context.Background()
	var builds, keys []time.Duration
	for b.Loop() {
		l := newLocalIndex(LocalSearchMax)
		t0 := time.Now()
		l.add(docs...)
		l.settle()
		builds = append(builds, time.Since(t0))
		for _, w := range []string{"нурлан", "ерлан", "zhanbol", "akhmet", "44001", "kz86"} {
			r := []rune(w)
			for i := 1; i <= len(r); i++ {
				t0 := time.Now()
				l.search(ctx, string(r[:i]), graph.KindUnknown, 100)
				keys = append(keys, time.Since(t0))
			}
		}
	}
	slices.Sort(builds)
	slices.Sort(keys)
	b.ReportMetric(float64(builds[len(builds)/2].Microseconds())/1000, "build-p50-ms")
	b.ReportMetric(float64(keys[len(keys)/2].Microseconds())/1000, "key-p50-ms")
	b.ReportMetric(float64(keys[len(keys)*95/100].Microseconds())/1000, "key-p95-ms")
	b.ReportMetric(float64(keys[len(keys)-1].Microseconds())/1000, "key-max-ms")
}
