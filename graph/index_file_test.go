package graph

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"casegraph/internal/mapfile"
)

var fileStamp = [32]byte{1, 2, 3}

// writeIndexFile writes ix as a graph index file and returns its bytes.
func writeIndexFile(t testing.TB, ix *Index, stamp [32]byte) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "graph.idx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ix.WriteFile(f, stamp)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != n {
		t.Fatalf("WriteFile reported %d bytes, the file has %d", n, len(b))
	}
	return b
}

// mapIndexFile writes b to a file, maps it and opens it as an index.
func mapIndexFile(t testing.TB, b []byte, stamp [32]byte) (*Index, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "graph.idx")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	data, release, err := mapfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := OpenIndexFile(data, stamp, release)
	if err != nil {
		release()
	}
	return ix, err
}

// requireSameColumns compares every column of two indexes, the derived
// ones (txOutPos, zones, time unit) included.
func requireSameColumns(t *testing.T, want, got *Index) {
	t.Helper()
	eq := func(name string, a, b any) {
		t.Helper()
		av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
		if av.Kind() == reflect.Slice && av.Len() == 0 && bv.Len() == 0 {
			return // nil and empty are the same column
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("column %s differs", name)
		}
	}
	eq("kinds", want.kinds, got.kinds)
	eq("keyOff", want.keyOff, got.keyOff)
	eq("keys", want.keys, got.keys)
	eq("nameOff", want.nameOff, got.nameOff)
	eq("names", want.names, got.names)
	eq("stub", want.stub, got.stub)
	eq("props", want.props, got.props)
	eq("outOff", want.outOff, got.outOff)
	eq("inOff", want.inOff, got.inOff)
	eq("out", want.out, got.out)
	eq("in", want.in, got.in)
	eq("linkOff", want.linkOff, got.linkOff)
	eq("links", want.links, got.links)
	eq("txIDOff", want.txIDOff, got.txIDOff)
	eq("txIDs", want.txIDs, got.txIDs)
	eq("txFrom", want.txFrom, got.txFrom)
	eq("txOutPos", want.txOutPos, got.txOutPos)
	eq("txFlags", want.txFlags, got.txFlags)
	eq("txATM", want.txATM, got.txATM)
	eq("txDev", want.txDev, got.txDev)
	eq("txIP", want.txIP, got.txIP)
	eq("curs", want.curs, got.curs)
	eq("zones", want.Zones(), got.Zones())
	eq("txZone", want.txZone, got.txZone)
	eq("timeUnit", want.timeUnit, got.timeUnit)
}

func TestIndexFileRoundTrip(t *testing.T) {
	if !IndexFileSupported {
		t.Skip("graph index files are not supported on this host")
	}
	r := rand.New(rand.NewPCG(7, 9))
	cases := []*Index{NewIndexBuilder().Build(), richIndex(r, 3, 4, 2, 5)}
	for range 10 {
		cases = append(cases, richIndex(r, 1+r.IntN(30), 1+r.IntN(60), r.IntN(80), r.IntN(400)))
	}
	cases = append(cases, richIndex(r, 2000, 5000, 8000, 300000)) // more than one 4 MiB block
	for i, ix := range cases {
		b := writeIndexFile(t, ix, fileStamp)
		got, err := mapIndexFile(t, b, fileStamp)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !got.Mapped() || ix.Mapped() {
			t.Fatalf("case %d: Mapped() = %v for the file, %v for the built index", i, got.Mapped(), ix.Mapped())
		}
		requireSameColumns(t, ix, got)
		requireSameIndex(t, ix, got)
		// The same file again from the mapped index, and the same snapshot.
		if !bytes.Equal(writeIndexFile(t, got, fileStamp), b) {
			t.Fatalf("case %d: the file of the mapped index differs", i)
		}
		if !bytes.Equal(snapshotBytes(t, got), snapshotBytes(t, ix)) {
			t.Fatalf("case %d: the snapshot of the mapped index differs", i)
		}
		if got.TxCount() > 0 {
			if id, ok := got.LookupTx(ix.TxID(uint32(got.TxCount() - 1))); !ok || int(id) != got.TxCount()-1 {
				t.Fatalf("case %d: LookupTx = %d, %v", i, id, ok)
			}
		}
	}
}

// rulesWorld is a smaller BenchmarkRunRules graph: cards held in pairs,
// transfers, cash-outs and top-ups, where many rules fire.
func rulesWorld(cards, txns int) *Index {
	r := newRB()
	banks := []string{"Kaspi Bank", "Halyk", "ForteBank", "Bank CenterCredit"}
	for i := range cards {
		r.card(i, i/2, banks[i%len(banks)], "2024-01-01")
	}
	x := uint64(1)
	next := func(n int) int { x = x*6364136223846793005 + 1442695040888963407; return int(x>>33) % n }
	for range txns {
		at := time.Duration(next(120*24*3600)) * time.Second
		switch k := next(10); {
		case k < 7:
			r.tx(rCard(next(cards)), rCard(next(cards)), at, int64(1000+next(500000)), ChannelTransfer,
				withDevice(fmt.Sprintf("D%d", next(cards))), withRef([]string{"", "USDT p2p", "за обед"}[next(3)]))
		case k < 9:
			r.tx(rCard(next(cards)), rATM(next(50)), at, int64(5000+next(300000)), ChannelCashOut)
		default:
			r.tx(rATM(next(50)), rCard(next(cards)), at, int64(5000+next(600000)), ChannelTopup)
		}
	}
	return r.b.Build()
}

// TestIndexFileRulesSame: the rules find the same on a mapped index as on
// the index built in the heap.
func TestIndexFileRulesSame(t *testing.T) {
	if !IndexFileSupported {
		t.Skip("graph index files are not supported on this host")
	}
	for i, ix := range []*Index{rulesWorld(400, 20000), richIndex(rand.New(rand.NewPCG(3, 4)), 300, 600, 900, 20000)} {
		got, err := mapIndexFile(t, writeIndexFile(t, ix, fileStamp), fileStamp)
		if err != nil {
			t.Fatal(err)
		}
		want, err := RunRules(context.Background(), ix, DefaultRuleConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		have, err := RunRules(context.Background(), got, DefaultRuleConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && (len(want.Hits) == 0 || len(want.Flagged()) == 0) {
			t.Fatalf("world %d: %d hits, %d flagged: the test needs hits", i, len(want.Hits), len(want.Flagged()))
		}
		if !reflect.DeepEqual(want, have) {
			t.Fatalf("world %d: flags differ on the mapped index (%d hits, %d risks; want %d, %d)",
				i, len(have.Hits), len(have.Risks), len(want.Hits), len(want.Risks))
		}
	}
}

// resum rewrites a file's block checksums and header checksum after a
// deliberate change, so that only the structural checks can catch it.
func resum(b []byte) {
	blocks := int(binary.LittleEndian.Uint32(b[68:]))
	bodyOff := int(binary.LittleEndian.Uint64(b[56:]))
	sums := b[indexFileHeader+16*secCount:]
	for bi := range blocks {
		lo := min(bodyOff+bi*indexFileBlock, len(b))
		hi := min(lo+indexFileBlock, len(b))
		binary.LittleEndian.PutUint32(sums[4*bi:], crc32.Checksum(b[lo:hi], castagnoli))
	}
	meta := b[indexFileHeader : indexFileHeader+16*secCount+4*blocks]
	binary.LittleEndian.PutUint32(b[124:], crc32.Update(crc32.Checksum(b[:124], castagnoli), castagnoli, meta))
}

func sectionOf(b []byte, sec int) []byte {
	off := binary.LittleEndian.Uint64(b[indexFileHeader+16*sec:])
	l := binary.LittleEndian.Uint64(b[indexFileHeader+16*sec+8:])
	return b[off : off+l]
}

func TestIndexFileRefusesDamage(t *testing.T) {
	if !IndexFileSupported {
		t.Skip("graph index files are not supported on this host")
	}
	ix := richIndex(rand.New(rand.NewPCG(9, 9)), 20, 40, 50, 300)
	good := writeIndexFile(t, ix, fileStamp)
	check := func(name string, b []byte, want error) {
		t.Helper()
		got, err := mapIndexFile(t, b, fileStamp)
		if !errors.Is(err, want) || got != nil {
			t.Errorf("%s: err = %v, want %v", name, err, want)
		}
	}
	check("empty", nil, ErrBadIndexFile)
	check("header only", good[:indexFileHeader-1], ErrBadIndexFile)
	for _, cut := range []int{indexFileHeader, indexFileHeader + 40, len(good) / 2, len(good) - 1} {
		check(fmt.Sprintf("truncated at %d", cut), good[:cut], ErrBadIndexFile)
	}
	check("longer", append(slices.Clone(good), 0, 0, 0, 0, 0, 0, 0, 0), ErrBadIndexFile)
	bad := slices.Clone(good)
	bad[0] = 'X'
	check("magic", bad, ErrBadIndexFile)
	bad = slices.Clone(good)
	bad[8]++
	check("version", bad, ErrStaleIndexFile)
	if _, err := mapIndexFile(t, good, [32]byte{9}); !errors.Is(err, ErrStaleIndexFile) {
		t.Errorf("other data's stamp: %v, want ErrStaleIndexFile", err)
	}
	// Every single flipped bit is caught, in the header, the table or the body.
	r := rand.New(rand.NewPCG(1, 1))
	for range 300 {
		bad = slices.Clone(good)
		i := 12 + r.IntN(len(good)-12)
		if i >= 16 && i < 48 {
			continue // the stamp: a flip there is another data's file (stale)
		}
		bad[i] ^= 1 << r.IntN(8)
		got, err := mapIndexFile(t, bad, fileStamp)
		if got != nil || !(errors.Is(err, ErrBadIndexFile) || errors.Is(err, ErrStaleIndexFile)) {
			t.Errorf("bit flip at %d: err = %v", i, err)
		}
	}
	// Hand-made files whose checksums agree: the structural checks refuse them.
	hand := func(name string, change func(b []byte)) {
		t.Helper()
		b := slices.Clone(good)
		change(b)
		resum(b)
		check(name, b, ErrBadIndexFile)
	}
	hand("node offset past the keys", func(b []byte) {
		s := sectionOf(b, secKeyOff)
		binary.LittleEndian.PutUint32(s[4:], 1<<30)
	})
	hand("sender out of range", func(b []byte) {
		binary.LittleEndian.PutUint32(sectionOf(b, secTxFrom), 1<<20)
	})
	hand("device out of range", func(b []byte) {
		binary.LittleEndian.PutUint32(sectionOf(b, secTxDev)[8:], 1<<20)
	})
	hand("out edge to no node", func(b []byte) {
		binary.LittleEndian.PutUint32(sectionOf(b, secOut)[fileEdgeSize+4:], 1<<20)
	})
	hand("in edge of no transaction", func(b []byte) {
		binary.LittleEndian.PutUint32(sectionOf(b, secIn)[fileEdgeSize:], 1<<20)
	})
	hand("edge currency out of range", func(b []byte) {
		sectionOf(b, secOut)[25] = 200
	})
	hand("out position wrong", func(b []byte) {
		s := sectionOf(b, secTxOutPos)
		binary.LittleEndian.PutUint32(s, binary.LittleEndian.Uint32(s)+1)
	})
	hand("in offsets go back", func(b []byte) {
		s := sectionOf(b, secInOff)
		binary.LittleEndian.PutUint32(s[8:], 1<<20)
	})
	hand("link out is not a bool", func(b []byte) {
		sectionOf(b, secLinks)[5] = 2
	})
	hand("link to no node", func(b []byte) {
		binary.LittleEndian.PutUint32(sectionOf(b, secLinks), 1<<20)
	})
	hand("properties out of order", func(b []byte) {
		s := sectionOf(b, secPropNode)
		binary.LittleEndian.PutUint32(s, 1<<10)
	})
	hand("no currencies", func(b []byte) {
		binary.LittleEndian.PutUint32(sectionOf(b, secCurs), 0)
	})
	hand("a section out of place", func(b []byte) {
		binary.LittleEndian.PutUint64(b[indexFileHeader+16*secKeys:], 8)
	})
}

func FuzzOpenIndexFile(f *testing.F) {
	if !IndexFileSupported {
		f.Skip("graph index files are not supported on this host")
	}
	f.Add(writeIndexFile(f, richIndex(rand.New(rand.NewPCG(2, 2)), 3, 5, 4, 10), fileStamp), false)
	f.Fuzz(func(t *testing.T, b []byte, fix bool) {
		if fix && len(b) >= indexFileHeader+16*secCount {
			if blocks := int(binary.LittleEndian.Uint32(b[68:])); blocks < 4 &&
				len(b) >= indexFileHeader+16*secCount+4*blocks && binary.LittleEndian.Uint64(b[56:]) <= uint64(len(b)) {
				resum(b) // let the fuzzer reach the structural checks
			}
		}
		// Aligned memory, as a mapping is.
		words := make([]uint64, (len(b)+7)/8)
		data := bytesOf(words)[:len(b)]
		copy(data, b)
		ix, err := OpenIndexFile(data, fileStamp, nil)
		if err != nil {
			return
		}
		// Whatever opens without error is usable.
		for v := range NodeID(ix.Len()) {
			_, _, _, _ = ix.Ref(v), ix.OutTx(v), ix.InTx(v), ix.Links(v)
		}
		for i := range uint32(ix.TxCount()) {
			_, _, _ = ix.TxID(i), ix.TxTo(i), ix.TxCurrency(i)
		}
	})
}

// TestIndexFileReleased: the mapping is released once the index is
// unreachable (after IndexFileGrace), and not while it is reachable.
func TestIndexFileReleased(t *testing.T) {
	if !IndexFileSupported {
		t.Skip("graph index files are not supported on this host")
	}
	defer func(g time.Duration) { IndexFileGrace = g }(IndexFileGrace)
	IndexFileGrace = 0
	b := writeIndexFile(t, richIndex(rand.New(rand.NewPCG(5, 5)), 10, 20, 10, 50), fileStamp)
	words := make([]uint64, (len(b)+7)/8)
	data := bytesOf(words)[:len(b)]
	copy(data, b)
	released := make(chan struct{})
	ix, err := OpenIndexFile(data, fileStamp, func() { close(released) })
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	select {
	case <-released:
		t.Fatal("released while reachable")
	case <-time.After(50 * time.Millisecond):
	}
	if ix.Len() == 0 {
		t.Fatal("empty index")
	}
	runtime.KeepAlive(ix)
	ix = nil
	deadline := time.After(10 * time.Second)
	for {
		runtime.GC()
		select {
		case <-released:
			return
		case <-deadline:
			t.Fatal("not released once unreachable")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
