package graph

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// The graph index file: an Index written as its fixed-width arrays lie in
// memory, so that opening it is mapping it and pointing the index's slices
// into the mapping (docs/adr/0005-mapped-graph-index.md). The CSR offsets,
// the money and link edges and the per-transaction columns are then file
// pages the kernel may drop and read again, not the process's own memory.
// The strings a caller keeps (node keys, names, property values) are copied
// to the heap on opening; transaction ids stay in the file and TxID copies
// the one it returns.
//
// Layout (every integer little-endian; the file is only written and used on
// hosts where that is also the memory layout, see IndexFileSupported):
//
//	header   [magic 8][version u32][edge size u16][link size u16][stamp 32]
//	         [file size u64][body offset u64][sections u32][blocks u32]
//	         [block size u32][zero u32][n u64][m u64][link edges u64]
//	         [props u64][zero 12][crc32c u32 of the header, table and block sums] (128 bytes)
//	table    [sections]{offset u64, length u64}
//	sums     [blocks]u32: crc32c of each block of the body (4 MiB, the last shorter)
//	body     from the body offset (8-aligned), the sections in the order of
//	         the sec* constants, each 8-aligned and zero-padded to 8:
//	         kinds [n]u8 · keyOff [n+1]u32 · keys · nameOff [n+1]u32 · names ·
//	         stub [(n+63)/64]u64 · prop nodes [p]u32 · prop slots [p]u8 ·
//	         prop value offsets [p+1]u32 · prop values · txIDOff [m+1]u32 · txIDs ·
//	         from [m]u32 · out position [m]u32 · flags [m]u8 · atm, device, ip [m]u32 ·
//	         zone [m]u8 (or empty: all in zone 0) · currencies {count u32, [count]{len u8, code}} ·
//	         zones {count u32, [count]{len u8, name}} · outOff [n+1]u32 · out [m]edge ·
//	         inOff [n+1]u32 · in [m]edge · linkOff [n+1]u32 · links [2·link edges]link
//	edge     {tx u32, other u32, time i64, amount i64, channel u8, currency u8, zero 6} (TxEdge)
//	link     {other u32, type u8, out u8 (0 or 1), zero 2} (LinkEdge)
//
// The stamp names the data the index was built from (the store's Stamp); an
// index of other data, of another format version or of another memory
// layout is ErrStaleIndexFile, a damaged one ErrBadIndexFile. Every block
// has its checksum, verified on all cores on opening, and every offset and
// node id is checked as ReadIndex checks them, so that a damaged or
// hand-made file is an error, never a panic or a read out of bounds.
const (
	indexFileMagic   = "CGGRAPHX"
	indexFileVersion = 1
	indexFileHeader  = 128
	indexFileBlock   = 4 << 20
	fileEdgeSize     = 32
	fileLinkSize     = 8
)

// Sections of the graph index file, in file order.
const (
	secKinds = iota
	secKeyOff
	secKeys
	secNameOff
	secNames
	secStub
	secPropNode
	secPropSlot
	secPropOff
	secPropVals
	secTxIDOff
	secTxIDs
	secTxFrom
	secTxOutPos
	secTxFlags
	secTxATM
	secTxDev
	secTxIP
	secTxZone
	secCurs
	secZones
	secOutOff
	secOut
	secInOff
	secIn
	secLinkOff
	secLinks
	secCount
)

var (
	// ErrBadIndexFile means the file is not a graph index file, or is
	// damaged or truncated.
	ErrBadIndexFile = errors.New("bad graph index file")
	// ErrStaleIndexFile means the file is a sound index of other data, or
	// of another format version or memory layout: it must be rebuilt.
	ErrStaleIndexFile = errors.New("graph index file is stale")
)

// IndexFileSupported reports whether this host can use graph index files:
// it stores integers little-endian and lays out TxEdge and LinkEdge as the
// file does. Elsewhere the index is kept as a snapshot and read into the heap.
var IndexFileSupported = littleEndian &&
	unsafe.Sizeof(TxEdge{}) == fileEdgeSize && unsafe.Alignof(TxEdge{}) == 8 &&
	unsafe.Offsetof(TxEdge{}.Other) == 4 && unsafe.Offsetof(TxEdge{}.Time) == 8 &&
	unsafe.Offsetof(TxEdge{}.Amount) == 16 && unsafe.Offsetof(TxEdge{}.Channel) == 24 &&
	unsafe.Offsetof(TxEdge{}.Cur) == 25 &&
	unsafe.Sizeof(LinkEdge{}) == fileLinkSize && unsafe.Offsetof(LinkEdge{}.Type) == 4 &&
	unsafe.Offsetof(LinkEdge{}.Out) == 5 &&
	unsafe.Sizeof(NodeID(0)) == 4 && unsafe.Sizeof(Kind(0)) == 1 && unsafe.Sizeof(TxFlags(0)) == 1

// IndexFileGrace is how long a mapped index's file stays mapped after the
// index became unreachable: a caller may still be walking a slice it took
// from the index (OutTx, InTx, Links) when its last reference goes.
var IndexFileGrace = 30 * time.Second

// fileSection is one section of the body: its bytes as they are, or a
// fill that copies records [off, off+len(buf)) into buf.
type fileSection struct {
	raw  []byte
	n    int
	fill func(off int, buf []byte)
}

func (s fileSection) size() int {
	if s.fill != nil {
		return s.n
	}
	return len(s.raw)
}

func stringBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// encodeNames lays out short strings (currency codes, zone names) as the
// snapshot does: a count, then each with a length byte.
func encodeNames(names []string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(names)))
	for _, n := range names {
		n = n[:min(len(n), 255)]
		b = append(b, byte(len(n)))
		b = append(b, n...)
	}
	return b
}

func decodeNames(b []byte, limit int) ([]string, error) {
	if len(b) < 4 {
		return nil, errors.New("no count")
	}
	k := int(binary.LittleEndian.Uint32(b))
	if k > limit {
		return nil, fmt.Errorf("%d names", k)
	}
	b = b[4:]
	names := make([]string, 0, k)
	for range k {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return nil, errors.New("truncated")
		}
		names = append(names, string(b[1:1+b[0]]))
		b = b[1+b[0]:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes after the names", len(b))
	}
	return names, nil
}

// edgeFill copies edges into buf in the file's form: Go's layout with the
// padding zeroed, so that equal indexes write equal bytes.
func edgeFill(es []TxEdge) func(int, []byte) {
	return func(off int, buf []byte) {
		i := off / fileEdgeSize
		k := len(buf) / fileEdgeSize
		copy(buf, bytesOf(es[i:i+k]))
		for j := 0; j < len(buf); j += fileEdgeSize {
			clear(buf[j+26 : j+fileEdgeSize])
		}
	}
}

func linkFill(ls []LinkEdge) func(int, []byte) {
	return func(off int, buf []byte) {
		i := off / fileLinkSize
		k := len(buf) / fileLinkSize
		copy(buf, bytesOf(ls[i:i+k]))
		for j := 0; j < len(buf); j += fileLinkSize {
			clear(buf[j+6 : j+fileLinkSize])
		}
	}
}

// fileSections returns the body's sections in file order.
func (ix *Index) fileSections() [secCount]fileSection {
	var s [secCount]fileSection
	p := len(ix.props)
	propNode := make([]uint32, p)
	propSlot := make([]byte, p)
	propOff := make([]uint32, p+1)
	var vals []byte
	for i, pr := range ix.props {
		propNode[i], propSlot[i] = uint32(pr.node), pr.slot
		vals = append(vals, pr.val...)
		propOff[i+1] = uint32(len(vals))
	}
	zones := make([]string, len(ix.zones))
	for i, z := range ix.zones {
		zones[i] = z.name
	}
	s[secKinds].raw = bytesOf(ix.kinds)
	s[secKeyOff].raw = bytesOf(ix.keyOff)
	s[secKeys].raw = stringBytes(ix.keys)
	s[secNameOff].raw = bytesOf(ix.nameOff)
	s[secNames].raw = stringBytes(ix.names)
	s[secStub].raw = bytesOf(ix.stub)
	s[secPropNode].raw = bytesOf(propNode)
	s[secPropSlot].raw = propSlot
	s[secPropOff].raw = bytesOf(propOff)
	s[secPropVals].raw = vals
	s[secTxIDOff].raw = bytesOf(ix.txIDOff)
	s[secTxIDs].raw = stringBytes(ix.txIDs)
	s[secTxFrom].raw = bytesOf(ix.txFrom)
	s[secTxOutPos].raw = bytesOf(ix.txOutPos)
	s[secTxFlags].raw = bytesOf(ix.txFlags)
	s[secTxATM].raw = bytesOf(ix.txATM)
	s[secTxDev].raw = bytesOf(ix.txDev)
	s[secTxIP].raw = bytesOf(ix.txIP)
	s[secTxZone].raw = ix.txZone
	s[secCurs].raw = encodeNames(ix.curs)
	s[secZones].raw = encodeNames(zones)
	s[secOutOff].raw = bytesOf(ix.outOff)
	s[secOut] = fileSection{n: fileEdgeSize * len(ix.out), fill: edgeFill(ix.out)}
	s[secInOff].raw = bytesOf(ix.inOff)
	s[secIn] = fileSection{n: fileEdgeSize * len(ix.in), fill: edgeFill(ix.in)}
	s[secLinkOff].raw = bytesOf(ix.linkOff)
	s[secLinks] = fileSection{n: fileLinkSize * len(ix.links), fill: linkFill(ix.links)}
	return s
}

// blockSummer hashes a stream into blocks of indexFileBlock bytes.
type blockSummer struct {
	sums    []uint32
	crc     uint32
	inBlock int
}

func (b *blockSummer) write(p []byte) {
	for len(p) > 0 {
		k := min(len(p), indexFileBlock-b.inBlock)
		b.crc = crc32.Update(b.crc, castagnoli, p[:k])
		b.inBlock += k
		p = p[k:]
		if b.inBlock == indexFileBlock {
			b.sums = append(b.sums, b.crc)
			b.crc, b.inBlock = 0, 0
		}
	}
}

func (b *blockSummer) finish() []uint32 {
	if b.inBlock > 0 {
		b.sums = append(b.sums, b.crc)
		b.crc, b.inBlock = 0, 0
	}
	return b.sums
}

// indexFileLayout places the sections: their offsets, the body's offset and
// the file's size.
func indexFileLayout(sizes [secCount]int) (offs [secCount]int, bodyOff, blocks, size int) {
	body := 0
	for _, n := range sizes {
		body += align8(n)
	}
	blocks = (body + indexFileBlock - 1) / indexFileBlock
	bodyOff = align8(indexFileHeader + 16*secCount + 4*blocks)
	off := bodyOff
	for i, n := range sizes {
		offs[i] = off
		off += align8(n)
	}
	return offs, bodyOff, blocks, off
}

// WriteFile writes the index as a graph index file of the data named by
// stamp, for OpenIndexFile, and returns the bytes written. It writes the
// body first and then seeks back to write the header with the body's
// checksums.
func (ix *Index) WriteFile(w io.WriteSeeker, stamp [32]byte) (int64, error) {
	if !IndexFileSupported {
		return 0, errors.New("graph index file: not supported on this host")
	}
	fail := func(err error) (int64, error) { return 0, fmt.Errorf("write graph index file: %w", err) }
	secs := ix.fileSections()
	var sizes [secCount]int
	for i, s := range secs {
		sizes[i] = s.size()
	}
	_, bodyOff, blocks, size := indexFileLayout(sizes)
	if _, err := w.Seek(int64(bodyOff), io.SeekStart); err != nil {
		return fail(err)
	}
	var sum blockSummer
	buf := make([]byte, 0, 1<<20)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		sum.write(buf)
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	put := func(p []byte) error {
		for len(p) > 0 {
			k := min(len(p), cap(buf)-len(buf))
			buf = append(buf, p[:k]...)
			p = p[k:]
			if len(buf) == cap(buf) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i, s := range secs {
		if s.fill == nil {
			if err := put(s.raw); err != nil {
				return fail(err)
			}
		} else {
			// Whole records into an empty buffer (its size is a multiple
			// of both record sizes).
			for off := 0; off < s.n; {
				if err := flush(); err != nil {
					return fail(err)
				}
				k := min(s.n-off, cap(buf))
				buf = buf[:k]
				s.fill(off, buf)
				off += k
			}
		}
		if err := put(zeros[:align8(sizes[i])-sizes[i]]); err != nil {
			return fail(err)
		}
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	sums := sum.finish()
	if len(sums) != blocks {
		return fail(fmt.Errorf("%d blocks written, %d laid out", len(sums), blocks))
	}

	h := indexFileHead(stamp, [4]int{len(ix.kinds), len(ix.txFrom), len(ix.links), len(ix.props)}, sizes, sums)
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	if _, err := w.Write(h); err != nil {
		return fail(err)
	}
	return int64(size), nil
}

// indexFileHead returns the header, section table and block sums of a
// graph index file (its first bodyOff bytes) of dims (nodes, transactions,
// link edges, properties) and section sizes, whose body's blocks have sums.
func indexFileHead(stamp [32]byte, dims [4]int, sizes [secCount]int, sums []uint32) []byte {
	offs, bodyOff, blocks, size := indexFileLayout(sizes)
	h := make([]byte, indexFileHeader, bodyOff)
	copy(h, indexFileMagic)
	binary.LittleEndian.PutUint32(h[8:], indexFileVersion)
	binary.LittleEndian.PutUint16(h[12:], fileEdgeSize)
	binary.LittleEndian.PutUint16(h[14:], fileLinkSize)
	copy(h[16:48], stamp[:])
	binary.LittleEndian.PutUint64(h[48:], uint64(size))
	binary.LittleEndian.PutUint64(h[56:], uint64(bodyOff))
	binary.LittleEndian.PutUint32(h[64:], secCount)
	binary.LittleEndian.PutUint32(h[68:], uint32(blocks))
	binary.LittleEndian.PutUint32(h[72:], indexFileBlock)
	for i, d := range dims {
		binary.LittleEndian.PutUint64(h[80+8*i:], uint64(d))
	}
	for i := range secCount {
		h = binary.LittleEndian.AppendUint64(h, uint64(offs[i]))
		h = binary.LittleEndian.AppendUint64(h, uint64(sizes[i]))
	}
	for _, c := range sums {
		h = binary.LittleEndian.AppendUint32(h, c)
	}
	binary.LittleEndian.PutUint32(h[124:], crc32.Update(crc32.Checksum(h[:124], castagnoli), castagnoli, h[indexFileHeader:]))
	return h[:bodyOff]
}

func badIndexFile(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadIndexFile, fmt.Sprintf(format, args...))
}

// IndexFileStamp returns the stamp a graph index file's header names, read
// from its first bytes, after checking the header's magic and version (not
// the rest: OpenIndexFile does). It is how a caller tells a current file
// without mapping it.
func IndexFileStamp(head []byte) ([32]byte, error) {
	if len(head) < indexFileHeader || string(head[:8]) != indexFileMagic {
		return [32]byte{}, badIndexFile("not a graph index file")
	}
	if v := binary.LittleEndian.Uint32(head[8:]); v != indexFileVersion {
		return [32]byte{}, fmt.Errorf("%w: format version %d, this casegraph writes %d", ErrStaleIndexFile, v, indexFileVersion)
	}
	return [32]byte(head[16:48]), nil
}

// OpenIndexFile returns the index a graph index file holds, its
// fixed-width arrays pointing into data (nothing is decoded per node or per
// transaction). data must be 8-byte aligned and must not change while the
// index is reachable; release, if not nil, is called IndexFileGrace after
// the index became unreachable (to unmap data). Strings the index returns
// never point into data. It returns ErrStaleIndexFile (wrapped) when the
// file is sound but of other data than stamp, of another format version or
// of another memory layout, and ErrBadIndexFile when it is damaged; then
// release has not been taken over and stays the caller's.
func OpenIndexFile(data []byte, stamp [32]byte, release func()) (*Index, error) {
	if !IndexFileSupported {
		return nil, fmt.Errorf("%w: not supported on this host", ErrStaleIndexFile)
	}
	if len(data) < indexFileHeader {
		return nil, badIndexFile("%d bytes, shorter than its header", len(data))
	}
	if uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
		return nil, errors.New("graph index file: memory not 8-byte aligned")
	}
	h := data[:indexFileHeader]
	if _, err := IndexFileStamp(h); err != nil {
		return nil, err
	}
	if binary.LittleEndian.Uint16(h[12:]) != fileEdgeSize || binary.LittleEndian.Uint16(h[14:]) != fileLinkSize {
		return nil, fmt.Errorf("%w: written for another memory layout", ErrStaleIndexFile)
	}
	size, bodyOff := binary.LittleEndian.Uint64(h[48:]), binary.LittleEndian.Uint64(h[56:])
	nsec, blocks := binary.LittleEndian.Uint32(h[64:]), uint64(binary.LittleEndian.Uint32(h[68:]))
	if size != uint64(len(data)) {
		return nil, badIndexFile("%d bytes, the header says %d (truncated?)", len(data), size)
	}
	if nsec != secCount || binary.LittleEndian.Uint32(h[72:]) != indexFileBlock ||
		bodyOff != uint64(align8(indexFileHeader+16*secCount+4*int(blocks))) || bodyOff > size {
		return nil, badIndexFile("header out of shape")
	}
	meta := data[indexFileHeader : indexFileHeader+16*secCount+4*blocks]
	if crc32.Update(crc32.Checksum(h[:124], castagnoli), castagnoli, meta) != binary.LittleEndian.Uint32(h[124:]) {
		return nil, badIndexFile("header checksum mismatch")
	}
	if [32]byte(h[16:48]) != stamp {
		return nil, fmt.Errorf("%w: built from other data than the database holds now", ErrStaleIndexFile)
	}
	var dims [4]uint64
	for i := range dims {
		dims[i] = binary.LittleEndian.Uint64(h[80+8*i:])
		if dims[i] >= math32 {
			return nil, badIndexFile("count %d out of range", dims[i])
		}
	}
	n, m, nlinks, p := int(dims[0]), int(dims[1]), int(dims[2]), int(dims[3])
	var sizes [secCount]int
	for i := range secCount {
		off, l := binary.LittleEndian.Uint64(meta[16*i:]), binary.LittleEndian.Uint64(meta[16*i+8:])
		if off > size || l > size {
			return nil, badIndexFile("section %d out of bounds", i)
		}
		sizes[i] = int(l)
	}
	offs, wantBody, wantBlocks, wantSize := indexFileLayout(sizes)
	if uint64(wantBody) != bodyOff || uint64(wantBlocks) != blocks || uint64(wantSize) != size {
		return nil, badIndexFile("sections out of place")
	}
	for i := range secCount {
		if binary.LittleEndian.Uint64(meta[16*i:]) != uint64(offs[i]) {
			return nil, badIndexFile("section %d out of place", i)
		}
	}
	fixed := map[int]int{
		secKinds: n, secKeyOff: 4 * (n + 1), secNameOff: 4 * (n + 1), secStub: 8 * ((n + 63) / 64),
		secPropNode: 4 * p, secPropSlot: p, secPropOff: 4 * (p + 1),
		secTxIDOff: 4 * (m + 1), secTxFrom: 4 * m, secTxOutPos: 4 * m, secTxFlags: m,
		secTxATM: 4 * m, secTxDev: 4 * m, secTxIP: 4 * m,
		secOutOff: 4 * (n + 1), secOut: fileEdgeSize * m, secInOff: 4 * (n + 1), secIn: fileEdgeSize * m,
		secLinkOff: 4 * (n + 1), secLinks: fileLinkSize * nlinks,
	}
	for sec, want := range fixed {
		if sizes[sec] != want {
			return nil, badIndexFile("section %d: %d bytes, want %d", sec, sizes[sec], want)
		}
	}
	if sizes[secTxZone] != 0 && sizes[secTxZone] != m {
		return nil, badIndexFile("zone column of %d bytes", sizes[secTxZone])
	}

	// Every block's checksum, on all cores.
	workers := max(1, min(runtime.GOMAXPROCS(0), int(blocks)))
	var bad atomic.Bool
	parallelChunks(int(blocks), workers, func(_, bi int) {
		lo := int(bodyOff) + bi*indexFileBlock
		hi := min(lo+indexFileBlock, int(size))
		if crc32.Checksum(data[lo:hi], castagnoli) != binary.LittleEndian.Uint32(meta[16*secCount+4*bi:]) {
			bad.Store(true)
		}
	})
	if bad.Load() {
		return nil, badIndexFile("checksum mismatch")
	}

	sec := func(i int) []byte { return data[offs[i] : offs[i]+sizes[i] : offs[i]+sizes[i]] }
	ix := &Index{mapped: true, fileStamp: stamp}
	ix.kinds = sliceOf[Kind](sec(secKinds))
	ix.keyOff = sliceOf[uint32](sec(secKeyOff))
	ix.nameOff = sliceOf[uint32](sec(secNameOff))
	ix.stub = sliceOf[uint64](sec(secStub))
	ix.txIDOff = sliceOf[uint32](sec(secTxIDOff))
	ix.txFrom = sliceOf[NodeID](sec(secTxFrom))
	ix.txOutPos = sliceOf[uint32](sec(secTxOutPos))
	ix.txFlags = sliceOf[TxFlags](sec(secTxFlags))
	ix.txATM = sliceOf[NodeID](sec(secTxATM))
	ix.txDev = sliceOf[NodeID](sec(secTxDev))
	ix.txIP = sliceOf[NodeID](sec(secTxIP))
	ix.txZone = sliceOf[uint8](sec(secTxZone))
	ix.outOff = sliceOf[uint32](sec(secOutOff))
	ix.out = sliceOf[TxEdge](sec(secOut))
	ix.inOff = sliceOf[uint32](sec(secInOff))
	ix.in = sliceOf[TxEdge](sec(secIn))
	ix.linkOff = sliceOf[uint32](sec(secLinkOff))
	ix.links = sliceOf[LinkEdge](sec(secLinks))
	var err error
	if ix.curs, err = decodeNames(sec(secCurs), maxCurrencies); err != nil || len(ix.curs) == 0 {
		return nil, badIndexFile("currency table: %v", err)
	}
	zoneNames, err := decodeNames(sec(secZones), 256)
	if err != nil {
		return nil, badIndexFile("zone table: %v", err)
	}
	// Node and property strings are copied: callers keep Refs and names
	// longer than any one index.
	if !offsetsOK(ix.keyOff, sizes[secKeys]) || !offsetsOK(ix.nameOff, sizes[secNames]) {
		return nil, badIndexFile("node offsets")
	}
	ix.keys, ix.names = string(sec(secKeys)), string(sec(secNames))
	propNode, propSlot := sliceOf[uint32](sec(secPropNode)), sec(secPropSlot)
	propOff, vals := sliceOf[uint32](sec(secPropOff)), string(sec(secPropVals))
	if !offsetsOK(propOff, len(vals)) {
		return nil, badIndexFile("property offsets")
	}
	if p > 0 {
		ix.props = make([]indexProp, p)
	}
	for i := range p {
		pr := indexProp{node: NodeID(propNode[i]), slot: propSlot[i], val: vals[propOff[i]:propOff[i+1]]}
		if int(pr.node) >= n || int(pr.slot) >= len(keptProps) ||
			i > 0 && (ix.props[i-1].node > pr.node || ix.props[i-1].node == pr.node && ix.props[i-1].slot >= pr.slot) {
			return nil, badIndexFile("property %d", i)
		}
		ix.props[i] = pr
	}
	if sizes[secTxIDs] > 0 {
		ix.txIDs = unsafe.String(&sec(secTxIDs)[0], sizes[secTxIDs])
	}

	// The checks ReadIndex makes, on all cores.
	checks := []func() string{
		func() string {
			if !offsetsOK(ix.txIDOff, len(ix.txIDs)) {
				return "transaction id offsets"
			}
			return ""
		},
		func() string {
			if !nodesOK(ix.txFrom, n, false) || !nodesOK(ix.txATM, n, true) || !nodesOK(ix.txDev, n, true) ||
				!nodesOK(ix.txIP, n, true) {
				return "transaction columns"
			}
			for _, z := range ix.txZone {
				if int(z) >= len(zoneNames) {
					return "transaction zones"
				}
			}
			return ""
		},
		func() string { return checkEdges(ix.inOff, ix.in, n, m, len(ix.curs)) },
		func() string {
			if pr := checkEdges(ix.outOff, ix.out, n, m, len(ix.curs)); pr != "" {
				return pr
			}
			// Every transaction has exactly one out edge, from its sender,
			// where txOutPos says: with len(out) == m, each position named
			// once makes the map one to one.
			for v := range n {
				for q := ix.outOff[v]; q < ix.outOff[v+1]; q++ {
					tx := ix.out[q].Tx
					if int(tx) >= m || ix.txFrom[tx] != NodeID(v) || ix.txOutPos[tx] != q {
						return fmt.Sprintf("out edge %d", q)
					}
				}
			}
			return ""
		},
		func() string {
			if !offsetsOK(ix.linkOff, len(ix.links)) {
				return "link offsets"
			}
			lb := sec(secLinks)
			for i := range ix.links {
				if int(ix.links[i].Other) >= n || lb[i*fileLinkSize+5] > 1 {
					return fmt.Sprintf("link %d", i)
				}
			}
			return ""
		},
	}
	problems := make([]string, len(checks))
	parallelChunks(len(checks), max(1, min(runtime.GOMAXPROCS(0), len(checks))), func(_, i int) { problems[i] = checks[i]() })
	for _, pr := range problems {
		if pr != "" {
			return nil, badIndexFile("%s", pr)
		}
	}
	ix.buildZones(zoneNames)
	ix.computeTimeUnit()
	if release != nil {
		runtime.AddCleanup(ix, func(f func()) { time.AfterFunc(IndexFileGrace, f) }, release)
	}
	return ix, nil
}

const math32 = 1 << 32

// checkEdges checks a CSR of money edges: offsets from 0 to m, and every
// edge's transaction, node and currency in range.
func checkEdges(off []uint32, es []TxEdge, n, m, curs int) string {
	if !offsetsOK(off, m) {
		return "edge offsets"
	}
	for i := range es {
		e := &es[i]
		if int(e.Tx) >= m || int(e.Other) >= n || int(e.Cur) >= curs {
			return fmt.Sprintf("money edge %d", i)
		}
	}
	return ""
}

// Mapped reports whether the index's arrays lie in a mapped graph index file.
func (ix *Index) Mapped() bool { return ix.mapped }

// FileStamp returns the stamp of the data a mapped index names (the store's
// Stamp its file was written with); ok is false for an index in the heap,
// whose data nothing names.
func (ix *Index) FileStamp() (stamp [32]byte, ok bool) { return ix.fileStamp, ix.mapped }
