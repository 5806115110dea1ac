package graph

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"slices"
	"sync/atomic"
	"unsafe"
)

// The search index file: a built SearchIndex written as its arrays lie in
// memory, so that opening it is mapping it (or one sequential read) and
// pointing the chunks' slices into it, with no per-document decoding. See
// docs/adr/0004-search-index-file.md for why and what it measured.
//
// Layout (every integer little-endian; the file is only written and used on
// little-endian hosts, where the arrays are the same bytes in memory):
//
//	header   [magic 8][version u32][chunk size u32][stamp 32][docs u64]
//	         [chunks u64][alphabet offset u64][alphabet len u64]
//	         [table offset u64][file size u64][alphabet+table crc32c u32]
//	         [by-ref offset u64][by-ref slots u64][by-ref crc32c u32]
//	         [zero 4][header crc32c u32]                               (128 bytes)
//	alphabet lo [0x800]u8 · over u32 · pairs u32 · [pairs]{rune u32, code u32}
//	table    [chunks]{offset u64, docs u32, fields u32, blob u32, strings u32,
//	         string bytes u32, size u32, body crc32c u32, zero u32}    (40 bytes each)
//	chunks   each 8-aligned, one after the other to the end of the file:
//	         mask [docs]u64 · fmask [fields]u64 · first [docs+1]u32 ·
//	         foff [fields+1]u32 · sfirst [docs+1]u32 · soff [strings+1]u32 ·
//	         kind [docs]u8 · dbound [docs][3]i8 · fbound [fields][3]i8 ·
//	         blob · strs · zero padding to 8
//	by-ref   [slots]u32: document index + 1 by reference, 0 empty (Label)
//
// The stamp names the data the index was built from (the store's Stamp); an
// index of other data is ErrStaleSearchFile, a damaged one ErrBadSearchFile.
// Every chunk has its own checksum, verified in parallel on opening, and its
// offsets are checked, so a damaged or hand-made file is an error, never a
// panic or a read out of bounds.
const (
	searchFileMagic = "CGSRCHIX"
	// searchFileVersion changes whenever the encoding changes: the layout,
	// or what encodeChunk, fieldMask, fieldBounds or newAlphabet compute.
	// Version 2 added the by-reference table.
	searchFileVersion = 2
	searchFileHeader  = 128
	searchTableEntry  = 40
	searchAlphaFixed  = 0x800 + 8
)

var (
	// ErrBadSearchFile means the file is not a search index, or is damaged
	// or truncated.
	ErrBadSearchFile = errors.New("bad search index file")
	// ErrStaleSearchFile means the file is a sound index of other data (or
	// of another format version): it must be rebuilt.
	ErrStaleSearchFile = errors.New("search index file is stale")
)

// littleEndian reports whether the host stores integers little-endian, as
// the file does.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// chunkLayout is the size of each of a chunk's arrays.
type chunkLayout struct {
	docs, fields, blob, strs, strBytes int
}

func (l chunkLayout) size() int {
	n := 8*l.docs + 8*l.fields + 4*(l.docs+1) + 4*(l.fields+1) + 4*(l.docs+1) + 4*(l.strs+1) +
		l.docs + 3*l.docs + 3*l.fields + l.blob + l.strBytes
	return align8(n)
}

func align8(n int) int { return (n + 7) &^ 7 }

func (ch *searchChunk) layout() chunkLayout {
	return chunkLayout{docs: len(ch.mask), fields: len(ch.fmask), blob: len(ch.blob), strs: len(ch.soff) - 1, strBytes: len(ch.strs)}
}

// bytesOf returns the memory of a slice as bytes (no copy).
func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// sliceOf returns b as a []T (no copy); b's start must be aligned for T.
func sliceOf[T any](b []byte) []T {
	var z T
	n := len(b) / int(unsafe.Sizeof(z))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// parts returns the chunk's arrays in file order.
func (ch *searchChunk) parts() [][]byte {
	return [][]byte{bytesOf(ch.mask), bytesOf(ch.fmask), bytesOf(ch.first), bytesOf(ch.foff),
		bytesOf(ch.sfirst), bytesOf(ch.soff), bytesOf(ch.kind), bytesOf(ch.dbound), bytesOf(ch.fbound),
		ch.blob, ch.strs}
}

var zeros [8]byte

// WriteFile writes the index as a search index file of the data named by
// stamp and returns the bytes written.
func (ix *SearchIndex) WriteFile(w io.Writer, stamp [32]byte) (int64, error) {
	if !littleEndian {
		return 0, errors.New("search index file: written on little-endian hosts only")
	}
	alpha := ix.alpha.appendTo(nil)
	tableOff := searchFileHeader + len(alpha)
	off := align8(tableOff + searchTableEntry*len(ix.chunks))
	table := make([]byte, 0, searchTableEntry*len(ix.chunks))
	crcs := make([]uint32, len(ix.chunks))
	parallelChunks(len(ix.chunks), max(1, min(runtime.GOMAXPROCS(0), len(ix.chunks))), func(_, ci int) {
		var c uint32
		for _, p := range ix.chunks[ci].parts() {
			c = crc32.Update(c, castagnoli, p)
		}
		l := ix.chunks[ci].layout()
		c = crc32.Update(c, castagnoli, zeros[:l.size()-l.unpadded()])
		crcs[ci] = c
	})
	for ci := range ix.chunks {
		l := ix.chunks[ci].layout()
		table = binary.LittleEndian.AppendUint64(table, uint64(off))
		for _, v := range []int{l.docs, l.fields, l.blob, l.strs, l.strBytes, l.size()} {
			table = binary.LittleEndian.AppendUint32(table, uint32(v))
		}
		table = binary.LittleEndian.AppendUint32(table, crcs[ci])
		table = binary.LittleEndian.AppendUint32(table, 0)
		off += l.size()
	}
	tablePad := align8(tableOff+len(table)) - tableOff - len(table)

	h := make([]byte, searchFileHeader)
	copy(h, searchFileMagic)
	binary.LittleEndian.PutUint32(h[8:], searchFileVersion)
	binary.LittleEndian.PutUint32(h[12:], searchChunkSize)
	copy(h[16:48], stamp[:])
	binary.LittleEndian.PutUint64(h[48:], uint64(ix.n))
	binary.LittleEndian.PutUint64(h[56:], uint64(len(ix.chunks)))
	binary.LittleEndian.PutUint64(h[64:], searchFileHeader)
	binary.LittleEndian.PutUint64(h[72:], uint64(len(alpha)))
	binary.LittleEndian.PutUint64(h[80:], uint64(tableOff))
	binary.LittleEndian.PutUint64(h[88:], uint64(off))
	binary.LittleEndian.PutUint32(h[96:], crc32.Update(crc32.Checksum(alpha, castagnoli), castagnoli, table))
	byRef := bytesOf(ix.byRef)
	binary.LittleEndian.PutUint64(h[100:], uint64(off))
	binary.LittleEndian.PutUint64(h[108:], uint64(len(ix.byRef)))
	binary.LittleEndian.PutUint32(h[116:], crc32.Checksum(byRef, castagnoli))
	binary.LittleEndian.PutUint64(h[88:], uint64(off+len(byRef)))
	binary.LittleEndian.PutUint32(h[124:], crc32.Checksum(h[:124], castagnoli))

	var n int64
	write := func(b []byte) error {
		k, err := w.Write(b)
		n += int64(k)
		return err
	}
	for _, b := range [][]byte{h, alpha, table, zeros[:tablePad]} {
		if err := write(b); err != nil {
			return n, fmt.Errorf("write search index: %w", err)
		}
	}
	for ci := range ix.chunks {
		ch := &ix.chunks[ci]
		for _, p := range ch.parts() {
			if err := write(p); err != nil {
				return n, fmt.Errorf("write search index: %w", err)
			}
		}
		l := ch.layout()
		if err := write(zeros[:l.size()-l.unpadded()]); err != nil {
			return n, fmt.Errorf("write search index: %w", err)
		}
	}
	if err := write(byRef); err != nil {
		return n, fmt.Errorf("write search index: %w", err)
	}
	return n, nil
}

func (l chunkLayout) unpadded() int {
	return 8*l.docs + 8*l.fields + 4*(l.docs+1) + 4*(l.fields+1) + 4*(l.docs+1) + 4*(l.strs+1) +
		l.docs + 3*l.docs + 3*l.fields + l.blob + l.strBytes
}

// appendTo appends the alphabet's section of the file.
func (a *alphabet) appendTo(b []byte) []byte {
	b = append(b, a.lo[:]...)
	over := uint32(0)
	if a.over {
		over = 1
	}
	b = binary.LittleEndian.AppendUint32(b, over)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(a.hi)))
	// In rune order, so that the same index always writes the same bytes.
	runes := make([]rune, 0, len(a.hi))
	for r := range a.hi {
		runes = append(runes, r)
	}
	slices.Sort(runes)
	for _, r := range runes {
		b = binary.LittleEndian.AppendUint32(b, uint32(r))
		b = binary.LittleEndian.AppendUint32(b, uint32(a.hi[r]))
	}
	return b
}

func badFile(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadSearchFile, fmt.Sprintf(format, args...))
}

// OpenSearchIndex returns the index a search index file holds, its arrays
// pointing into data (nothing is copied or decoded per document). data must
// not change while the index is reachable; release, if not nil, is called
// once the index is unreachable (to unmap data). Hits never point into data.
// It returns ErrStaleSearchFile (wrapped) when the file is sound but of other
// data than stamp or of another format version, and ErrBadSearchFile when
// it is damaged; then release has not been taken over and stays the
// caller's.
func OpenSearchIndex(data []byte, stamp [32]byte, release func()) (*SearchIndex, error) {
	if !littleEndian {
		return nil, fmt.Errorf("%w: this host is big-endian", ErrStaleSearchFile)
	}
	if len(data) < searchFileHeader {
		return nil, badFile("%d bytes, shorter than its header", len(data))
	}
	if uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
		return nil, errors.New("search index file: memory not 8-byte aligned")
	}
	h := data[:searchFileHeader]
	if string(h[:8]) != searchFileMagic {
		return nil, badFile("not a search index file")
	}
	if crc32.Checksum(h[:124], castagnoli) != binary.LittleEndian.Uint32(h[124:]) {
		return nil, badFile("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(h[8:]); v != searchFileVersion {
		return nil, fmt.Errorf("%w: format version %d, this casegraph writes %d", ErrStaleSearchFile, v, searchFileVersion)
	}
	if cs := binary.LittleEndian.Uint32(h[12:]); cs != searchChunkSize {
		return nil, fmt.Errorf("%w: chunks of %d documents, this casegraph uses %d", ErrStaleSearchFile, cs, searchChunkSize)
	}
	if [32]byte(h[16:48]) != stamp {
		return nil, fmt.Errorf("%w: built from other data than the database holds now", ErrStaleSearchFile)
	}
	docs := binary.LittleEndian.Uint64(h[48:])
	nChunks := binary.LittleEndian.Uint64(h[56:])
	alphaOff, alphaLen := binary.LittleEndian.Uint64(h[64:]), binary.LittleEndian.Uint64(h[72:])
	tableOff, size := binary.LittleEndian.Uint64(h[80:]), binary.LittleEndian.Uint64(h[88:])
	if size != uint64(len(data)) {
		return nil, badFile("%d bytes, the header says %d", len(data), size)
	}
	if docs > 1<<40 || nChunks != (docs+searchChunkSize-1)/searchChunkSize {
		return nil, badFile("%d documents in %d chunks", docs, nChunks)
	}
	if alphaOff != searchFileHeader || alphaLen < searchAlphaFixed || tableOff != alphaOff+alphaLen ||
		tableOff+nChunks*searchTableEntry > size {
		return nil, badFile("sections out of bounds")
	}
	alphaB, tableB := data[alphaOff:tableOff], data[tableOff:tableOff+nChunks*searchTableEntry]
	if crc32.Update(crc32.Checksum(alphaB, castagnoli), castagnoli, tableB) != binary.LittleEndian.Uint32(h[96:]) {
		return nil, badFile("alphabet or chunk table checksum mismatch")
	}
	alpha, err := readAlphabet(alphaB)
	if err != nil {
		return nil, err
	}

	ix := &SearchIndex{n: int(docs), alpha: alpha, mapped: true, chunks: make([]searchChunk, nChunks)}
	off := uint64(align8(int(tableOff + nChunks*searchTableEntry)))
	layouts := make([]chunkLayout, nChunks)
	offs := make([]uint64, nChunks)
	crcs := make([]uint32, nChunks)
	for ci := range nChunks {
		e := tableB[ci*searchTableEntry:]
		u := func(i int) int { return int(binary.LittleEndian.Uint32(e[8+4*i:])) }
		l := chunkLayout{docs: u(0), fields: u(1), blob: u(2), strs: u(3), strBytes: u(4)}
		want := min(searchChunkSize, int(docs)-int(ci)*searchChunkSize)
		if binary.LittleEndian.Uint64(e) != off || l.docs != want || u(5) != l.size() || off+uint64(l.size()) > size {
			return nil, badFile("chunk %d: out of place", ci)
		}
		layouts[ci], offs[ci], crcs[ci] = l, off, uint32(u(6))
		off += uint64(l.size())
	}
	refOff, slots := binary.LittleEndian.Uint64(h[100:]), binary.LittleEndian.Uint64(h[108:])
	if refOff != off || slots != uint64(refSlots(int(docs))) || size-off != 4*slots {
		return nil, badFile("by-reference table of %d slots at %d, after the last chunk at %d", slots, refOff, off)
	}
	byRef := data[off:size]
	if crc32.Checksum(byRef, castagnoli) != binary.LittleEndian.Uint32(h[116:]) {
		return nil, badFile("by-reference table checksum mismatch")
	}
	ix.byRef = sliceOf[uint32](byRef)
	var bad atomic.Pointer[error]
	parallelChunks(int(nChunks), max(1, min(runtime.GOMAXPROCS(0), int(nChunks))), func(_, ci int) {
		l := layouts[ci]
		body := data[offs[ci] : offs[ci]+uint64(l.size())]
		if crc32.Checksum(body, castagnoli) != crcs[ci] {
			err := badFile("chunk %d: checksum mismatch", ci)
			bad.Store(&err)
			return
		}
		ch, err := chunkFrom(body, l, ci*searchChunkSize)
		if err != nil {
			err = badFile("chunk %d: %v", ci, err)
			bad.Store(&err)
			return
		}
		ix.chunks[ci] = ch
	})
	if e := bad.Load(); e != nil {
		return nil, *e
	}
	if release != nil {
		runtime.AddCleanup(ix, func(f func()) { f() }, release)
	}
	return ix, nil
}

// readAlphabet decodes the alphabet section.
func readAlphabet(b []byte) (*alphabet, error) {
	a := &alphabet{hi: make(map[rune]byte)}
	copy(a.lo[:], b)
	a.over = binary.LittleEndian.Uint32(b[0x800:]) != 0
	pairs := int(binary.LittleEndian.Uint32(b[0x804:]))
	if pairs > 1<<16 || len(b) != searchAlphaFixed+8*pairs {
		return nil, badFile("alphabet of %d bytes for %d runes", len(b), pairs)
	}
	for i := range pairs {
		p := b[searchAlphaFixed+8*i:]
		r, c := binary.LittleEndian.Uint32(p), binary.LittleEndian.Uint32(p[4:])
		if r > 0x10FFFF || c < 0x80 || c > codeOverflow {
			return nil, badFile("alphabet entry %d: rune %#x code %#x", i, r, c)
		}
		a.hi[rune(r)] = byte(c)
	}
	return a, nil
}

// chunkFrom points a chunk's slices into body and checks that every offset
// stays within its array, so that searching it cannot read out of bounds.
func chunkFrom(body []byte, l chunkLayout, base int) (searchChunk, error) {
	take := func(n int) []byte {
		b := body[:n:n]
		body = body[n:]
		return b
	}
	ch := searchChunk{base: base}
	ch.mask = sliceOf[uint64](take(8 * l.docs))
	ch.fmask = sliceOf[uint64](take(8 * l.fields))
	ch.first = sliceOf[uint32](take(4 * (l.docs + 1)))
	ch.foff = sliceOf[uint32](take(4 * (l.fields + 1)))
	ch.sfirst = sliceOf[uint32](take(4 * (l.docs + 1)))
	ch.soff = sliceOf[uint32](take(4 * (l.strs + 1)))
	ch.kind = take(l.docs)
	ch.dbound = sliceOf[[boundedLen]int8](take(3 * l.docs))
	ch.fbound = sliceOf[[boundedLen]int8](take(3 * l.fields))
	ch.blob = take(l.blob)
	ch.strs = take(l.strBytes)
	if err := monotone(ch.first, l.fields, 0); err != nil {
		return ch, fmt.Errorf("fields: %v", err)
	}
	if err := monotone(ch.foff, l.blob, 0); err != nil {
		return ch, fmt.Errorf("field offsets: %v", err)
	}
	if err := monotone(ch.sfirst, l.strs, docStrings); err != nil {
		return ch, fmt.Errorf("document strings: %v", err)
	}
	if err := monotone(ch.soff, l.strBytes, 0); err != nil {
		return ch, fmt.Errorf("string offsets: %v", err)
	}
	return ch, nil
}

// monotone checks that offs starts at 0, ends at end and grows by at least
// step each time.
func monotone(offs []uint32, end, step int) error {
	if len(offs) == 0 || offs[0] != 0 || int(offs[len(offs)-1]) != end {
		return fmt.Errorf("do not run from 0 to %d", end)
	}
	for i := 1; i < len(offs); i++ {
		if uint64(offs[i]) < uint64(offs[i-1])+uint64(step) {
			return fmt.Errorf("offset %d goes back", i)
		}
	}
	return nil
}
