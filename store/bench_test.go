package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"casegraph/graph"
)

func rows(r records) int { return len(r.ents) + len(r.links) + len(r.txns) }

// BenchmarkBulkLoad imports 200k transactions (and 4k entities and links)
// into a fresh database: sort, spill if needed, StreamWriter, derived records.
func BenchmarkBulkLoad(b *testing.B) {
	r := dataset(2000, 200_000)
	var total time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		db, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		load(b, db, r)
		total += time.Since(start)
		n++
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows(r)*n)/total.Seconds(), "rows/s")
}

// BenchmarkIncrementalLoad imports 50k new transactions into a non-empty database.
func BenchmarkIncrementalLoad(b *testing.B) {
	seed := dataset(2000, 1000)
	var total time.Duration
	n, nrows := 0, 0
	for b.Loop() {
		b.StopTimer()
		db, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		load(b, db, seed)
		more := dataset(2000, 51_000)
		more.txns = more.txns[1000:]
		more.ents, more.links = nil, nil
		nrows = rows(more)
		b.StartTimer()
		start := time.Now()
		if l := load(b, db, more); l.Bulk() {
			b.Fatal("incremental load ran in bulk mode")
		}
		total += time.Since(start)
		n++
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(nrows*n)/total.Seconds(), "rows/s")
}

// hubDB holds a card with 50k transactions among 1000 counterparties.
func hubDB(b *testing.B) (*DB, graph.Ref) {
	db := openTemp(b)
	hub := cardRef(0)
	var r records
	for i := range 50_000 {
		x := graph.Txn{ID: fmt.Sprintf("H%06d", i), Time: t0.Add(time.Duration(i) * time.Minute),
			From: hub, To: cardRef(1 + i%1000), Amount: int64(i%9973) * 100, Channel: graph.ChannelTransfer,
			Currency: "KZT", Reference: "p2p", Src: graph.Provenance{File: "tx.csv", Line: i + 2, Batch: 1}}
		if i%2 == 0 {
			x.From, x.To = x.To, x.From
		}
		r.txns = append(r.txns, x)
	}
	load(b, db, r)
	return db, hub
}

// BenchmarkTransactionsFirstPage reads the first 50 rows of a 50k-transaction card (T6).
func BenchmarkTransactionsFirstPage(b *testing.B) {
	db, hub := hubDB(b)
	for _, s := range []struct {
		name string
		sort graph.TxSort
	}{{"time-desc", graph.SortTimeDesc}, {"time-asc", graph.SortTimeAsc}, {"amount-desc", graph.SortAmountDesc}} {
		b.Run(s.name, func(b *testing.B) {
			var d time.Duration
			n := 0
			for b.Loop() {
				start := time.Now()
				p, err := db.Transactions(context.Background(), hub, graph.TxQuery{Sort: s.sort, Limit: 50})
				d += time.Since(start)
				n++
				if err != nil || len(p.Txns) != 50 || p.Total != 50_000 {
					b.Fatalf("page: %d rows, total %d, %v", len(p.Txns), p.Total, err)
				}
			}
			b.ReportMetric(float64(d.Microseconds())/1000/float64(n), "ms/op")
		})
	}
}

// BenchmarkNeighborsHub aggregates the neighbours of a 50k-transaction card.
func BenchmarkNeighborsHub(b *testing.B) {
	db, hub := hubDB(b)
	for b.Loop() {
		rows, total, err := db.Neighbors(context.Background(), hub, 500)
		if err != nil || len(rows) != 500 || total != 1000 {
			b.Fatalf("neighbours: %d rows, total %d, %v", len(rows), total, err)
		}
	}
}

// BenchmarkSearchDocs streams the search-doc snapshot of 200k and 1M entities (T7).
func BenchmarkSearchDocs(b *testing.B) {
	for _, persons := range []int{100_000, 500_000} {
		b.Run(fmt.Sprintf("%dk", 2*persons/1000), func(b *testing.B) {
			db := openTemp(b)
			load(b, db, dataset(persons, 0))
			want := 2*persons + 2
			runtime.GC() // keep the setup's garbage out of the timed loop
			for b.Loop() {
				n := 0
				if err := db.SearchDocs(context.Background(), func(graph.SearchDoc) error { n++; return nil }); err != nil || n != want {
					b.Fatalf("docs: %d, %v", n, err)
				}
			}
		})
	}
}

// BenchmarkBulkLoadStream imports 1M transactions generated on the fly (so the
// test's own records do not count) with the default spill buffers (two of
// defaultSpillBytes: one fills while the other is sorted and spilled), and
// reports throughput and the peak Go heap seen while loading (T3).
func BenchmarkBulkLoadStream(b *testing.B) {
	const n = 1_000_000
	var total time.Duration
	var peak uint64
	var disk int64
	for b.Loop() {
		b.StopTimer()
		db, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() {
			var ms runtime.MemStats
			var p uint64
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&ms)
				p = max(p, ms.HeapInuse)
				select {
				case <-stop:
					done <- p
					return
				case <-t.C:
				}
			}
		}()
		b.StartTimer()
		start := time.Now()
		l, err := db.NewLoader()
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			x := graph.Txn{ID: fmt.Sprintf("T%09d", i), Time: t0.Add(time.Duration(i) * time.Second),
				From: cardRef(i % 200_000), To: cardRef((i*7 + 1) % 200_000), Amount: int64(1000 + i%99991),
				Currency: "KZT", Channel: graph.ChannelTransfer, Reference: "p2p",
				Src: graph.Provenance{File: "tx.csv", Line: i + 2, Batch: 1}}
			if err := l.PutTxn(x); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Finish(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		close(stop)
		peak = max(peak, <-done)
		db.Close()
		disk = dirSize(b, db.Dir())
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(disk)/n, "disk-B/txn")
}

func dirSize(b *testing.B, dir string) int64 {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			size += fi.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return size
}

// BenchmarkStreamWriterLimit is the limit the import is measured against
// (docs/PERFORMANCE.md): 5M sorted keys of 40 bytes with 60-byte values, as
// PERF-LIMITS 2b, written with Badger's StreamWriter into a database opened
// with the store's options, through the import's own buffer feed, and
// nothing else. It reports keys/s.
func BenchmarkStreamWriterLimit(b *testing.B) {
	const n = 5_000_000
	val := make([]byte, 60)
	var total time.Duration
	for range b.N {
		db, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		sw := db.bdb.NewStreamWriter()
		if err := sw.Prepare(); err != nil {
			b.Fatal(err)
		}
		feed := newStreamFeed(sw, db.dir, nil)
		key := []byte("t-limit-0000000000000000000000000000000")[:32]
		key = append(key, make([]byte, 8)...)
		for i := range n {
			binary.BigEndian.PutUint64(key[32:], uint64(i))
			if err := feed.add(key, val, 0); err != nil {
				b.Fatal(err)
			}
		}
		if err := feed.close(true); err != nil {
			b.Fatal(err)
		}
		if err := sw.Flush(); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		db.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "keys/s")
}
