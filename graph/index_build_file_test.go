package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// heapFile is an alloc for BuildFile: zeroed, 8-byte aligned heap memory.
func heapFile(size int) ([]byte, error) {
	words := make([]uint64, (size+7)/8)
	if size == 0 {
		return nil, nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size), nil
}

func buildFileBytes(t testing.TB, b *IndexBuilder, stamp [32]byte) []byte {
	t.Helper()
	var data []byte
	err := b.BuildFile(context.Background(), stamp, func(size int) ([]byte, error) {
		var err error
		data, err = heapFile(size)
		return data, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestBuildFileMatches: the file BuildFile lays out is byte for byte the
// file of the index Build makes from the same records, and opens as that
// index.
func TestBuildFileMatches(t *testing.T) {
	if !IndexFileSupported {
		t.Skip("graph index files are not supported on this host")
	}
	type shape struct{ np, nc, nl, nt int }
	shapes := []shape{{0, 0, 0, 0}, {3, 4, 2, 5}, {1, 1, 0, 0}, {2000, 5000, 8000, 300000}}
	r := rand.New(rand.NewPCG(11, 12))
	for range 12 {
		shapes = append(shapes, shape{1 + r.IntN(30), 1 + r.IntN(60), r.IntN(80), r.IntN(400)})
	}
	for i, s := range shapes {
		seed := uint64(100 + i)
		heap := richBuilder(rand.New(rand.NewPCG(seed, 1)), s.np, s.nc, s.nl, s.nt).Build()
		want := writeIndexFile(t, heap, fileStamp)
		got := buildFileBytes(t, richBuilder(rand.New(rand.NewPCG(seed, 1)), s.np, s.nc, s.nl, s.nt), fileStamp)
		if !bytes.Equal(got, want) {
			at := 0
			for at < min(len(got), len(want)) && got[at] == want[at] {
				at++
			}
			t.Fatalf("case %d %+v: BuildFile wrote %d bytes, Build and WriteFile %d; first difference at %d", i, s, len(got), len(want), at)
		}
		ix, err := mapIndexFile(t, got, fileStamp)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		requireSameIndex(t, heap, ix)
	}
}

// TestBuildFileReserveIn: a builder whose columns lie in memory ReserveIn
// was given builds the same file, also when the records outgrow the room
// the statistics made (more transactions, longer ids: the columns move to
// the heap).
func TestBuildFileReserveIn(t *testing.T) {
	if !IndexFileSupported {
		t.Skip("graph index files are not supported on this host")
	}
	for i, txns := range []int{0, 1, 4000, 20000, 40000} {
		seed := uint64(200 + i)
		want := writeIndexFile(t, richBuilder(rand.New(rand.NewPCG(seed, 1)), 50, 300, 100, 20000).Build(), fileStamp)
		b := NewIndexBuilder()
		asked := -1
		if err := b.ReserveIn(Stats{Txns: txns}, func(size int) ([]byte, error) { asked = size; return heapFile(size) }); err != nil {
			t.Fatal(err)
		}
		if asked != txns*(txColumnBytes+16) {
			t.Fatalf("%d transactions: asked for %d bytes", txns, asked)
		}
		richFeed(b, rand.New(rand.NewPCG(seed, 1)), 50, 300, 100, 20000)
		if got := buildFileBytes(t, b, fileStamp); !bytes.Equal(got, want) {
			t.Fatalf("room for %d transactions: the file differs", txns)
		}
	}
	// Ids longer than the room made for them.
	b := NewIndexBuilder()
	if err := b.ReserveIn(Stats{Txns: 3}, heapFile); err != nil {
		t.Fatal(err)
	}
	h := NewIndexBuilder()
	for _, x := range []*IndexBuilder{b, h} {
		for i := range 3 {
			x.AddTxn(Txn{ID: fmt.Sprintf("a-transaction-id-of-forty-bytes-%08d", 2-i), Time: ixT0, From: icard(i), To: icard(i + 1), Amount: 5})
		}
	}
	if !bytes.Equal(buildFileBytes(t, b, fileStamp), writeIndexFile(t, h.Build(), fileStamp)) {
		t.Fatal("long ids: the file differs")
	}
}

func TestBuildFileStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := richBuilder(rand.New(rand.NewPCG(1, 2)), 5, 5, 5, 50).BuildFile(ctx, fileStamp, func(size int) ([]byte, error) {
		called = true
		return heapFile(size)
	})
	if !errors.Is(err, context.Canceled) || called {
		t.Fatalf("cancelled: err %v, memory asked for: %v", err, called)
	}
	// Cancelled once the file's memory is given: the layout stops.
	ctx, cancel = context.WithCancel(context.Background())
	err = richBuilder(rand.New(rand.NewPCG(1, 2)), 5, 5, 5, 50).BuildFile(ctx, fileStamp, func(size int) ([]byte, error) {
		cancel()
		return heapFile(size)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while laid out: %v", err)
	}
	boom := fmt.Errorf("no room")
	err = richBuilder(rand.New(rand.NewPCG(1, 2)), 5, 5, 5, 50).BuildFile(context.Background(), fileStamp, func(int) ([]byte, error) {
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("alloc failing: %v", err)
	}
}
