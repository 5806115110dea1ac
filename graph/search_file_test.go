package graph

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"testing"
)

var testStamp = [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}

// writeSearchFile returns the file of an index over docs, in memory aligned
// as a mapping is.
func writeSearchFile(t *testing.T, ix *SearchIndex) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := ix.WriteFile(&buf, testStamp)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteFile says %d bytes, wrote %d", n, buf.Len())
	}
	// A []uint64's memory is 8-byte aligned, as a mapping is.
	words := make([]uint64, (buf.Len()+7)/8)
	data := bytesOf(words)[:buf.Len()]
	copy(data, buf.Bytes())
	return data
}

// TestSearchFileSameResults: an index opened from its file answers random
// queries (typed key by key, so the narrowing cache and the memo are used
// too) exactly as the index it was written from, and as one built afresh,
// over several chunks, with the alphabet overflowing.
func TestSearchFileSameResults(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	docs := randomCorpus(rng, 2*searchChunkSize+777)
	// Runes beyond the alphabet's 127 codes share codeOverflow.
	for i := range 200 {
		docs[i].Label += " " + string(rune(0x4E00+i)) + string(rune(0x0530+i%40))
		docs[i].Terms = append(docs[i].Terms, "alias "+string(rune(0x3040+i%80)))
		docs[i].Facts = "facts " + string(rune(0x0400+i%200))
	}
	built := NewSearchIndex(docs)
	if !built.alpha.over {
		t.Fatal("the corpus should overflow the alphabet")
	}
	data := writeSearchFile(t, built)
	released := false
	opened, err := OpenSearchIndex(data, testStamp, func() { released = true })
	if err != nil {
		t.Fatal(err)
	}
	if opened.Len() != len(docs) || !opened.mapped {
		t.Fatalf("opened %d docs, mapped %v", opened.Len(), opened.mapped)
	}
	for i, d := range docs {
		if got := opened.doc(i); !reflect.DeepEqual(got, d) {
			t.Fatalf("doc %d: %+v, want %+v", i, got, d)
		}
	}
	fresh := NewSearchIndex(docs)
	ctx := context.Background()
	for range 300 {
		q := []rune(randomQuery(rng, docs))
		kind := KindUnknown
		if rng.IntN(4) == 0 {
			kind = Kind(1 + rng.IntN(3))
		}
		limit := 1 + rng.IntN(80)
		for i := 1; i <= len(q); i++ {
			p := string(q[:i])
			want := fresh.Search(ctx, p, kind, limit)
			for name, ix := range map[string]*SearchIndex{"opened": opened, "written": built} {
				got := ix.Search(ctx, p, kind, limit)
				if got.Total != want.Total || len(got.Hits) != len(want.Hits) {
					t.Fatalf("%s, query %q: %d of %d hits, want %d of %d", name, p, len(got.Hits), got.Total, len(want.Hits), want.Total)
				}
				for k := range got.Hits {
					if !sameHit(got.Hits[k], want.Hits[k]) || !reflect.DeepEqual(got.Hits[k].Doc, want.Hits[k].Doc) {
						t.Fatalf("%s, query %q, hit %d: %+v, want %+v", name, p, k, got.Hits[k], want.Hits[k])
					}
				}
			}
		}
	}
	// Writing the opened index gives the same bytes.
	if again := writeSearchFile(t, opened); !bytes.Equal(again, data) {
		t.Error("the opened index writes another file")
	}
	if released {
		t.Error("released while the index is in use")
	}
}

// TestSearchFileHitsOutliveMapping: the hits of a mapped index hold no
// memory of the mapping, which is unmapped once the index is unreachable.
func TestSearchFileHitsOutliveMapping(t *testing.T) {
	docs := fixedDocs()
	data := writeSearchFile(t, NewSearchIndex(docs))
	ix, err := OpenSearchIndex(data, testStamp, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := ix.Search(context.Background(), "a", KindUnknown, 50)
	if len(res.Hits) == 0 {
		t.Fatal("no hits")
	}
	want := make([]SearchDoc, len(res.Hits))
	for i, h := range res.Hits {
		want[i] = cloneDoc(h.Doc)
	}
	clear(data) // what an unmapped file would be to a hit that pointed into it
	for i, h := range res.Hits {
		if !reflect.DeepEqual(h.Doc, want[i]) {
			t.Fatalf("hit %d changed with the file: %+v, was %+v", i, h.Doc, want[i])
		}
	}
}

func TestSearchFileEmpty(t *testing.T) {
	data := writeSearchFile(t, NewSearchIndex(nil))
	ix, err := OpenSearchIndex(data, testStamp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 0 || ix.Search(context.Background(), "a", KindUnknown, 5).Total != 0 {
		t.Error("empty index matched")
	}
}

// TestSearchFileStale: a sound file of other data, another version or
// another chunk size is stale; nothing is released.
func TestSearchFileStale(t *testing.T) {
	data := writeSearchFile(t, NewSearchIndex(fixedDocs()))
	other := testStamp
	other[31] = 9
	if _, err := OpenSearchIndex(data, other, func() { t.Error("released") }); !errors.Is(err, ErrStaleSearchFile) {
		t.Errorf("other stamp: %v", err)
	}
	for _, off := range []int{8, 12} { // version, chunk size
		d := bytes.Clone(data)
		binary.LittleEndian.PutUint32(d[off:], binary.LittleEndian.Uint32(d[off:])+1)
		binary.LittleEndian.PutUint32(d[124:], crc32.Checksum(d[:124], castagnoli))
		if _, err := OpenSearchIndex(alignedCopy(d), testStamp, nil); !errors.Is(err, ErrStaleSearchFile) {
			t.Errorf("header field at %d changed: %v", off, err)
		}
	}
}

func alignedCopy(b []byte) []byte {
	words := make([]uint64, (len(b)+7)/8+1)
	d := bytesOf(words)[:len(b)]
	copy(d, b)
	return d
}

// TestSearchFileDamaged: every truncation and every flipped byte of a file
// over more than one chunk is an error, never a panic or a wrong index.
func TestSearchFileDamaged(t *testing.T) {
	docs := randomCorpus(rand.New(rand.NewPCG(3, 4)), searchChunkSize+50)
	data := writeSearchFile(t, NewSearchIndex(docs))
	for n := 0; n < len(data); n += 1 + n/64 {
		if _, err := OpenSearchIndex(alignedCopy(data[:n]), testStamp, nil); !errors.Is(err, ErrBadSearchFile) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(data), err)
		}
	}
	if _, err := OpenSearchIndex(alignedCopy(append(bytes.Clone(data), 0, 0, 0, 0, 0, 0, 0, 0)), testStamp, nil); !errors.Is(err, ErrBadSearchFile) {
		t.Fatalf("8 bytes appended: %v", err)
	}
	d := alignedCopy(data)
	for i := 0; i < len(d); i += 1 + i/256 {
		d[i] ^= 0x5a
		_, err := OpenSearchIndex(d, testStamp, nil)
		if err == nil {
			t.Fatalf("byte %d of %d flipped: opened", i, len(d))
		}
		if !errors.Is(err, ErrBadSearchFile) && !errors.Is(err, ErrStaleSearchFile) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
		d[i] ^= 0x5a
	}
}

// reseal recomputes every checksum of a search index file, so that damage
// reaches the structural checks.
func reseal(d []byte) {
	nChunks := binary.LittleEndian.Uint64(d[56:])
	alphaOff, tableOff := binary.LittleEndian.Uint64(d[64:]), binary.LittleEndian.Uint64(d[80:])
	table := d[tableOff : tableOff+nChunks*searchTableEntry]
	for ci := range nChunks {
		e := table[ci*searchTableEntry:]
		off := binary.LittleEndian.Uint64(e)
		size := uint64(binary.LittleEndian.Uint32(e[28:]))
		if off+size <= uint64(len(d)) {
			binary.LittleEndian.PutUint32(e[32:], crc32.Checksum(d[off:off+size], castagnoli))
		}
	}
	binary.LittleEndian.PutUint32(d[96:], crc32.Update(crc32.Checksum(d[alphaOff:tableOff], castagnoli), castagnoli, table))
	if refOff := binary.LittleEndian.Uint64(d[100:]); refOff <= uint64(len(d)) {
		binary.LittleEndian.PutUint32(d[116:], crc32.Checksum(d[refOff:], castagnoli))
	}
	binary.LittleEndian.PutUint32(d[124:], crc32.Checksum(d[:124], castagnoli))
}

// TestSearchFileHandMade: a file whose checksums were recomputed after any
// one byte changed (a hand-made file) opens only when its offsets hold, and
// then searches without reading out of bounds.
func TestSearchFileHandMade(t *testing.T) {
	docs := fixedDocs()
	data := writeSearchFile(t, NewSearchIndex(docs))
	ctx := context.Background()
	for i := 0; i < len(data); i++ {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			d := alignedCopy(data)
			d[i] ^= x
			if i < 124 && (i < 96 || i >= 100) {
				binary.LittleEndian.PutUint32(d[124:], crc32.Checksum(d[:124], castagnoli))
			}
			if i >= 56 && i < 96 {
				// The offsets that reseal reads must stay in bounds.
				if binary.LittleEndian.Uint64(d[56:]) > 1<<20 || binary.LittleEndian.Uint64(d[80:]) > uint64(len(d)) ||
					binary.LittleEndian.Uint64(d[64:]) > binary.LittleEndian.Uint64(d[80:]) ||
					binary.LittleEndian.Uint64(d[80:])+binary.LittleEndian.Uint64(d[56:])*searchTableEntry > uint64(len(d)) {
					continue
				}
			}
			if i >= 128 {
				reseal(d)
			}
			ix, err := OpenSearchIndex(d, testStamp, nil)
			if err != nil {
				continue
			}
			for _, q := range []string{"a", "ах", "4400", "kz", "ж", "x"} {
				res := ix.Search(ctx, q, KindUnknown, 10)
				for _, h := range res.Hits {
					_ = h.Doc.Label + h.Doc.Facts + h.Doc.Ref.Key
				}
			}
			for _, doc := range docs {
				ix.Label(doc.Ref)
			}
		}
	}
}

// TestSearchLabel: the index finds every document's label by its
// reference, built and opened from its file, over several chunks; a
// reference it does not hold (another kind with the same key included) is
// not found, and a reference listed twice is found at its first document.
func TestSearchLabel(t *testing.T) {
	docs := randomCorpus(rand.New(rand.NewPCG(5, 6)), 2*searchChunkSize+99)
	dup := docs[17]
	dup.Label = "a second document of the same reference"
	docs = append(docs, dup)
	built := NewSearchIndex(docs)
	opened, err := OpenSearchIndex(writeSearchFile(t, built), testStamp, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, ix := range map[string]*SearchIndex{"built": built, "opened": opened} {
		for i, d := range docs[:len(docs)-1] {
			if got, ok := ix.Label(d.Ref); !ok || got != d.Label {
				t.Fatalf("%s: doc %d %s: label %q %v, want %q", name, i, d.Ref, got, ok, d.Label)
			}
		}
		for _, r := range []Ref{{Kind: KindCard, Key: "no such card"}, {Kind: docs[0].Ref.Kind + 1, Key: docs[0].Ref.Key}, {}} {
			if got, ok := ix.Label(r); ok {
				t.Errorf("%s: %s found: %q", name, r, got)
			}
		}
	}
	if got, ok := NewSearchIndex(nil).Label(docs[0].Ref); ok {
		t.Errorf("the empty index found %q", got)
	}
}
