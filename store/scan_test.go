package store

import (
	"context"
	"errors"
	"maps"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"casegraph/graph"
)

func TestScanAll(t *testing.T) {
	db := openTemp(t)
	r := dataset(20, 300)
	// A stub of an entity that also has a full record: the scan reports the full one only.
	r.ents = append(r.ents, graph.Entity{Ref: cardRef(3), Stub: true, Src: graph.Provenance{File: "x.csv", Line: 9, Batch: 1}})
	// A self-transfer is stored under one owner twice, and must be reported once.
	self := r.txns[5]
	self.ID, self.From, self.To = "SELF", cardRef(1), cardRef(1)
	r.txns = append(r.txns, self)
	load(t, db, r)

	ents := map[graph.Ref]graph.Entity{}
	var links []graph.Link
	txns := map[string]graph.Txn{}
	err := db.ScanAll(context.Background(),
		func(e graph.Entity) error {
			if _, dup := ents[e.Ref]; dup {
				t.Errorf("entity %s reported twice", e.Ref)
			}
			ents[e.Ref] = e
			return nil
		},
		func(l graph.Link) error { links = append(links, l); return nil },
		func(x graph.Txn) error {
			if _, dup := txns[x.ID]; dup {
				t.Errorf("transaction %s reported twice", x.ID)
			}
			txns[x.ID] = x
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.ents {
		got, ok := ents[e.Ref]
		if !ok {
			t.Fatalf("entity %s missing", e.Ref)
		}
		if !e.Stub && (got.Stub || got.Name != e.Name || !maps.Equal(got.Props, e.Props)) {
			t.Errorf("entity %s = %+v, want the full record %+v", e.Ref, got, e)
		}
	}
	if c := ents[cardRef(3)]; c.Stub {
		t.Errorf("card 3 reported as its stub")
	}
	// Transactions create stubs for references without a record: every
	// endpoint must be among the entities.
	for _, x := range r.txns {
		got, ok := txns[x.ID]
		if !ok {
			t.Fatalf("transaction %s missing", x.ID)
		}
		if got.From != x.From || got.To != x.To || got.Amount != x.Amount || !got.Time.Equal(x.Time) ||
			got.Channel != x.Channel || got.Device != x.Device || got.Reference != x.Reference || got.IINProvided != x.IINProvided {
			t.Errorf("transaction %s = %+v, want %+v", x.ID, got, x)
		}
		for _, ref := range []graph.Ref{x.From, x.To} {
			if _, ok := ents[ref]; !ok {
				t.Errorf("endpoint %s of %s has no entity", ref, x.ID)
			}
		}
	}
	if len(txns) != len(r.txns) {
		t.Errorf("%d transactions, want %d", len(txns), len(r.txns))
	}
	want := map[[2]graph.Ref]bool{}
	for _, l := range r.links {
		want[[2]graph.Ref{l.From, l.To}] = true
	}
	got := map[[2]graph.Ref]bool{}
	for _, l := range links {
		if l.Type == graph.LinkHolds {
			got[[2]graph.Ref{l.From, l.To}] = true
		}
	}
	for p := range want {
		if !got[p] {
			t.Errorf("link %s → %s missing", p[0], p[1])
		}
	}

	// The index built from the store agrees with the scan.
	ix, err := graph.BuildIndex(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	// The transactions' device is a node of the index, though the store holds no entity for it.
	if ix.TxCount() != len(r.txns) || ix.Len() != len(ents)+1 {
		t.Errorf("index: %d txns, %d nodes; want %d, %d", ix.TxCount(), ix.Len(), len(r.txns), len(ents)+1)
	}
	if d, ok := ix.Lookup(graph.Ref{Kind: graph.KindDevice, Key: "DEV-9F3A"}); !ok || !ix.Stub(d) {
		t.Errorf("device node: ok=%v", ok)
	}
	c1, ok := ix.Lookup(cardRef(1))
	if !ok || ix.Prop(c1, graph.PropBank) != "Kaspi Bank" || ix.Stub(c1) {
		t.Errorf("card 1 in index: ok=%v bank=%q", ok, ix.Prop(c1, graph.PropBank))
	}
	if i, ok := ix.LookupTx("T0000001"); !ok || !ix.TxFlags(i).Has(graph.TxP2PText|graph.TxIINMissing) {
		t.Errorf("T0000001 flags wrong")
	}
}

func TestScanAllStops(t *testing.T) {
	db := openTemp(t)
	load(t, db, dataset(5, 50))
	boom := errors.New("boom")
	n := 0
	err := db.ScanAll(context.Background(), nil, nil, func(graph.Txn) error {
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
	if err := db.ScanAll(ctx, func(graph.Entity) error { return nil }, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
}

// BenchmarkBuildIndexFromDB measures building the graph index from a real
// case database: CASEGRAPH_BENCH_DB names it (copy /tmp/cgm/db first; the
// store opens it for writing).
func BenchmarkBuildIndexFromDB(b *testing.B) {
	dir := os.Getenv("CASEGRAPH_BENCH_DB")
	if dir == "" {
		b.Skip("set CASEGRAPH_BENCH_DB to a case database directory")
	}
	db, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start, cpu0 := time.Now(), cpuTime()
		n := 0
		if err := db.ScanAll(context.Background(), func(graph.Entity) error { n++; return nil },
			func(graph.Link) error { n++; return nil }, func(graph.Txn) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		scan, scanCPU := time.Since(start), cpuTime()-cpu0
		start, cpu0 = time.Now(), cpuTime()
		ix, err := graph.BuildIndex(context.Background(), db)
		if err != nil {
			b.Fatal(err)
		}
		build, buildCPU := time.Since(start), cpuTime()-cpu0
		runtime.GC()
		runtime.ReadMemStats(&after)
		// The machine is shared: CPU seconds are steadier than wall time.
		b.ReportMetric(scanCPU.Seconds(), "scan-cpu-s")
		b.ReportMetric(buildCPU.Seconds(), "scan+build-cpu-s")
		b.ReportMetric(scan.Seconds(), "scan-s")
		b.ReportMetric(build.Seconds(), "scan+build-s")
		b.ReportMetric(float64(ix.Len()), "nodes")
		b.ReportMetric(float64(ix.TxCount()), "txns")
		b.ReportMetric(float64(ix.Bytes())/(1<<20), "index-MiB")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MiB")
		runtime.KeepAlive(ix)
	}
}

// cpuTime returns the user and system CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
