package graph

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Synthetic benchmark graph: 1M cards, 3M transfers (10 % of them to 1,000
// hub cards), 300k persons holding cards; built once per process.
const (
	benchCards   = 1_000_000
	benchTxns    = 3_000_000
	benchPersons = 300_000
	benchHubs    = 1000
)

var (
	benchOnce sync.Once
	benchIx   *Index
)

func benchFeed(b *IndexBuilder, txns int) {
	r := rand.New(rand.NewPCG(1, 1))
	for i := range benchPersons {
		b.AddEntity(Entity{Ref: iperson(i), Name: fmt.Sprintf("Person %d", i)})
		for j := range 3 {
			b.AddLink(Link{From: iperson(i), To: icard((i*3 + j) % benchCards), Type: LinkHolds})
		}
	}
	for i := range txns {
		to := r.IntN(benchCards)
		if r.IntN(10) == 0 {
			to = r.IntN(benchHubs)
		}
		b.AddTxn(Txn{ID: fmt.Sprintf("T%09d", i), Time: ixT0.Add(time.Duration(r.IntN(90*24*3600)) * time.Second),
			From: icard(r.IntN(benchCards)), To: icard(to), Amount: int64(1000 + r.IntN(5_000_000)), Channel: ChannelTransfer})
	}
}

func benchIndex(b *testing.B) *Index {
	benchOnce.Do(func() {
		ib := NewIndexBuilder()
		benchFeed(ib, benchTxns)
		benchIx = ib.Build()
	})
	return benchIx
}

// BenchmarkIndexBuild1M feeds and builds an index of 1M transactions; it
// reports the index size per node and per transaction.
func BenchmarkIndexBuild1M(b *testing.B) {
	for b.Loop() {
		ib := NewIndexBuilder()
		benchFeedSmall(ib)
		ix := ib.Build()
		b.ReportMetric(float64(ix.Bytes())/float64(ix.Len()), "B/node")
		b.ReportMetric(float64(ix.Bytes())/float64(ix.TxCount()), "B/txn")
	}
}

func benchFeedSmall(ib *IndexBuilder) {
	r := rand.New(rand.NewPCG(2, 2))
	for i := range 1_000_000 {
		ib.AddTxn(Txn{ID: fmt.Sprintf("T%09d", i), Time: ixT0.Add(time.Duration(r.IntN(90*24*3600)) * time.Second),
			From: icard(r.IntN(300_000)), To: icard(r.IntN(300_000)), Amount: 1000, Channel: ChannelTransfer})
	}
}

func BenchmarkIndexHeap(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ib := NewIndexBuilder()
		benchFeed(ib, benchTxns)
		ix := ib.Build()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(ix.Len()), "heapB/node")
		b.ReportMetric(float64(ix.Bytes())/float64(ix.Len()), "B/node")
		runtime.KeepAlive(ix)
	}
}

func BenchmarkShortestPath1M(b *testing.B) {
	ix := benchIndex(b)
	r := rand.New(rand.NewPCG(3, 3))
	ctx := context.Background()
	found := 0
	var slowest time.Duration
	for b.Loop() {
		x, y := NodeID(r.IntN(ix.Len())), NodeID(r.IntN(ix.Len()))
		start := time.Now()
		_, ok, err := ShortestPath(ctx, ix, x, y, PathOptions{MaxHops: 6, Relations: MoneyRelations})
		if err != nil {
			b.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
		if ok {
			found++
		}
	}
	b.ReportMetric(float64(found)/float64(b.N), "found/op")
	b.ReportMetric(float64(slowest.Microseconds())/1000, "max-ms")
}

func BenchmarkKShortestPaths1M(b *testing.B) {
	ix := benchIndex(b)
	r := rand.New(rand.NewPCG(4, 4))
	ctx := context.Background()
	for b.Loop() {
		x, y := NodeID(r.IntN(ix.Len())), NodeID(r.IntN(ix.Len()))
		if _, err := KShortestPaths(ctx, ix, x, y, PathOptions{MaxHops: 4, Relations: MoneyRelations, MaxDegree: 500}, 5); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNeighbourhood3Hop1M(b *testing.B) {
	ix := benchIndex(b)
	r := rand.New(rand.NewPCG(5, 5))
	ctx := context.Background()
	nodes := 0
	for b.Loop() {
		c, _ := ix.Lookup(icard(benchHubs + r.IntN(benchCards-benchHubs)))
		g, err := Neighbourhood(ctx, ix, c, HoodFilter{Hops: 3, MaxNodes: 5000})
		if err != nil {
			b.Fatal(err)
		}
		nodes += len(g.Nodes)
	}
	b.ReportMetric(float64(nodes)/float64(b.N), "nodes/op")
}

func BenchmarkTrace6Hop1M(b *testing.B) {
	ix := benchIndex(b)
	r := rand.New(rand.NewPCG(6, 6))
	ctx := context.Background()
	hops := 0
	for b.Loop() {
		tx := uint32(r.IntN(ix.TxCount() / 2))
		tr, err := Trace(ctx, ix, StartAtTx(tx), TraceOptions{Forward: true, MaxHops: 6, MaxDwell: 30 * 24 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		hops += len(tr.Hops)
	}
	b.ReportMetric(float64(hops)/float64(b.N), "hops/op")
}

func BenchmarkComponents1M(b *testing.B) {
	ix := benchIndex(b)
	for b.Loop() {
		if _, err := Components(context.Background(), ix, 0); err != nil {
			b.Fatal(err)
		}
	}
}
