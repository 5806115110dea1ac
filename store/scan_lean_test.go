package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"casegraph/graph"
	"casegraph/internal/mapfile"
)

// leanDataset is dataset plus what the lean decoder must get right: kept
// and dropped properties, ATMs and IPs, Cyrillic P2P references, times
// before 1970 with a fraction of a second, and a link of another type.
func leanDataset() records {
	r := dataset(30, 400)
	r.ents = append(r.ents,
		graph.Entity{Ref: exRef, Name: "late", Stub: true}, // a stub after the full record is ignored
		graph.Entity{Ref: graph.Ref{Kind: graph.KindExchange, Key: "EX-2"}, Name: "Обменник",
			Props: map[string]string{graph.PropAFSALicence: "", graph.PropIssued: "2023", "zzz": "x"}})
	r.links = append(r.links, graph.Link{From: personRef(1), To: graph.Ref{Kind: graph.KindPhone, Key: "+77011234567"},
		Type: graph.LinkUsesPhone, Role: "own"})
	for i := range r.txns {
		switch i % 7 {
		case 2:
			r.txns[i].ATM, r.txns[i].IP = "ATM-7", "10.0.0.1"
			r.txns[i].Reference = "оплата ОРДЕР №554433"
		case 3:
			r.txns[i].Reference, r.txns[i].Device = "за обед", ""
			r.txns[i].AppConfirmed = graph.TriYes
		case 5:
			r.txns[i].Currency, r.txns[i].DateOnly = "USD", true
		case 4:
			r.txns[i].Time = time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC).Add(-time.Duration(i) * time.Second)
			r.txns[i].IINProvided = graph.TriYes
		}
	}
	return r
}

func snapshotOf(t *testing.T, ix *graph.Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLeanScanBuildsTheSameIndex(t *testing.T) {
	db := openTemp(t)
	load(t, db, leanDataset())
	// A second, incremental import: stubs, new transactions on old cards.
	more := dataset(35, 60)
	for i := range more.txns {
		more.txns[i].ID = "B" + more.txns[i].ID
		more.txns[i].Reference = "USDT p2p"
	}
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	more.ents = more.ents[:4]
	put(t, l, more)
	if err := l.Finish(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	full, err := graph.BuildIndex(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	lean, err := leanIndex(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if full.TxCount() != 460 || full.Len() < 70 {
		t.Fatalf("full index: %d txns, %d nodes", full.TxCount(), full.Len())
	}
	// The snapshot holds every column of the index, so equal bytes mean equal indexes.
	if !bytes.Equal(snapshotOf(t, full), snapshotOf(t, lean)) {
		t.Fatal("lean index differs from the index built from ScanAll")
	}
	requireBuildFileSame(t, db, lean)
	ex2, ok := lean.Lookup(graph.Ref{Kind: graph.KindExchange, Key: "EX-2"})
	if !ok || lean.Prop(ex2, graph.PropIssued) != "2023" || lean.Name(ex2) != "Обменник" {
		t.Errorf("EX-2 in lean index: ok=%v issued=%q name=%q", ok, lean.Prop(ex2, graph.PropIssued), lean.Name(ex2))
	}
}

func TestLeanScanStops(t *testing.T) {
	db := openTemp(t)
	load(t, db, dataset(5, 50))
	boom := errors.New("boom")
	n := 0
	err := db.ScanLean(context.Background(), nil, nil, func(*graph.ScanTxn) error {
		if n++; n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 3 {
		t.Errorf("err = %v after %d, want boom after 3", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.ScanLean(ctx, func(*graph.ScanEntity) error { return nil }, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
}

func TestUnixSeconds(t *testing.T) {
	for _, at := range []time.Time{
		time.Unix(0, 0), time.Unix(-1, 999_999_999), time.Unix(-2, 1), time.Unix(1_700_000_000, 5),
		time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got := unixSeconds(encodeTime(at)); got != at.Unix() {
			t.Errorf("unixSeconds(%v) = %d, want %d", at, got, at.Unix())
		}
	}
}

// BenchmarkLeanIndexFromDB measures the lean rebuild and the snapshot of a
// real case database named by CASEGRAPH_BENCH_DB (a copy: the store opens it
// for writing and stores the snapshot in it).
func BenchmarkLeanIndexFromDB(b *testing.B) {
	dir := os.Getenv("CASEGRAPH_BENCH_DB")
	if dir == "" {
		b.Skip("set CASEGRAPH_BENCH_DB to a case database directory")
	}
	db, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start, cpu0 := time.Now(), cpuTime()
		n := 0
		if err := db.ScanLean(ctx, func(*graph.ScanEntity) error { n++; return nil },
			func(*graph.ScanLink) error { n++; return nil }, func(*graph.ScanTxn) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		scan, scanCPU := time.Since(start), cpuTime()-cpu0
		start, cpu0 = time.Now(), cpuTime()
		st, err := db.Stamp()
		if err != nil {
			b.Fatal(err)
		}
		ix, err := leanIndex(ctx, db)
		if err != nil {
			b.Fatal(err)
		}
		build, buildCPU := time.Since(start), cpuTime()-cpu0
		runtime.GC()
		runtime.ReadMemStats(&after)

		start, cpu0 = time.Now(), cpuTime()
		pr, pw := io.Pipe()
		go func() { _, err := ix.WriteTo(pw); pw.CloseWithError(err) }()
		size, err := db.PutBlob(ctx, "bench-index", st, pr)
		if err != nil {
			b.Fatal(err)
		}
		put, putCPU := time.Since(start), cpuTime()-cpu0

		start, cpu0 = time.Now(), cpuTime()
		rc, err := db.Blob(ctx, "bench-index")
		if err != nil {
			b.Fatal(err)
		}
		ix2, err := graph.ReadIndex(rc)
		rc.Close()
		if err != nil {
			b.Fatal(err)
		}
		load, loadCPU := time.Since(start), cpuTime()-cpu0
		if ix2.TxCount() != ix.TxCount() {
			b.Fatal("snapshot lost transactions")
		}

		b.ReportMetric(scanCPU.Seconds(), "scan-cpu-s")
		b.ReportMetric(scan.Seconds(), "scan-s")
		b.ReportMetric(buildCPU.Seconds(), "scan+build-cpu-s")
		b.ReportMetric(build.Seconds(), "scan+build-s")
		b.ReportMetric(putCPU.Seconds(), "save-cpu-s")
		b.ReportMetric(put.Seconds(), "save-s")
		b.ReportMetric(loadCPU.Seconds(), "load-cpu-s")
		b.ReportMetric(load.Seconds(), "load-s")
		b.ReportMetric(float64(size)/(1<<20), "snapshot-MiB")
		b.ReportMetric(float64(ix.Len()), "nodes")
		b.ReportMetric(float64(ix.Bytes())/(1<<20), "index-MiB")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MiB")
		runtime.KeepAlive(ix)
	}
}

// BenchmarkIndexRebuildPaired alternates the full-decode rebuild (ScanAll +
// BuildIndex) and the lean one (ScanLean + graph.LeanBuilder) three times on the
// database CASEGRAPH_BENCH_DB names, and reports the least CPU time of each:
// on a shared machine the minimum is the figure least disturbed by others.
func BenchmarkIndexRebuildPaired(b *testing.B) {
	dir := os.Getenv("CASEGRAPH_BENCH_DB")
	if dir == "" {
		b.Skip("set CASEGRAPH_BENCH_DB to a case database directory")
	}
	db, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for b.Loop() {
		best := [2]time.Duration{time.Hour, time.Hour}
		bestWall := [2]time.Duration{time.Hour, time.Hour}
		for range 3 {
			for i, build := range []func() (*graph.Index, error){
				func() (*graph.Index, error) { return graph.BuildIndex(ctx, db) },
				func() (*graph.Index, error) { return leanIndex(ctx, db) },
			} {
				runtime.GC()
				start, cpu0 := time.Now(), cpuTime()
				ix, err := build()
				if err != nil {
					b.Fatal(err)
				}
				best[i], bestWall[i] = min(best[i], cpuTime()-cpu0), min(bestWall[i], time.Since(start))
				runtime.KeepAlive(ix)
			}
		}
		b.ReportMetric(best[0].Seconds(), "full-cpu-s")
		b.ReportMetric(best[1].Seconds(), "lean-cpu-s")
		b.ReportMetric(bestWall[0].Seconds(), "full-s")
		b.ReportMetric(bestWall[1].Seconds(), "lean-s")
	}
}

// requireBuildFileSame: the graph index file laid out straight from the
// lean scan (LeanBuilder with its columns in a scratch mapping, BuildFile)
// is byte for byte want's written by WriteFile.
func requireBuildFileSame(t *testing.T, db *DB, want *graph.Index) {
	t.Helper()
	if !graph.IndexFileSupported {
		return
	}
	st, err := db.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "graph.idx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := want.WriteFile(f, st); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wantFile, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := graph.LeanBuilder(context.Background(), db, nil, func(size int) ([]byte, error) {
		data, release, err := mapfile.Scratch(t.TempDir(), size)
		if err == nil {
			t.Cleanup(release)
		}
		return data, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := b.BuildFile(context.Background(), st, func(size int) ([]byte, error) {
		w := make([]uint64, (size+7)/8)
		got = unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), size)
		return got, nil
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wantFile) {
		t.Fatalf("BuildFile from the lean scan: %d bytes, not the %d of the lean index's file", len(got), len(wantFile))
	}
}

// leanIndex builds the index of db in the heap from its lean scan, as an
// encrypted database's analysis does (workbench.buildIndexLean).
func leanIndex(ctx context.Context, db *DB) (*graph.Index, error) {
	b, err := graph.LeanBuilder(ctx, db, nil, nil)
	if err != nil {
		return nil, err
	}
	return b.Build(), nil
}
