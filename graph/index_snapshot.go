package graph

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"unsafe"
)

// ErrBadSnapshot is returned by ReadIndex for a snapshot that is not one, was
// written by another format version, or fails its checksum.
var ErrBadSnapshot = errors.New("bad graph index snapshot")

// Snapshot layout (all integers little-endian):
//
//	header  [magic 8]["version" u32][n u64][m u64][links u64][props u64]
//	        [keys u64][names u64][txids u64][prop bytes u64][header crc32c u32]
//	body    kinds [n]u8 · keyOff [n+1]u32 · keys · nameOff [n+1]u32 · names ·
//	        stub [(n+63)/64]u64 · props [props]{node u32, slot u8, len u32} · prop values ·
//	        txIDOff [m+1]u32 · txIDs · from [m]u32 · flags [m]u8 · atm, device, ip [m]u32 ·
//	        currencies {count u32, [count]{len u8, code}} ·
//	        zones {count u32, [count]{len u8, name}, per-tx u8 (0: all in zone 0), [m]u8 when 1} ·
//	        outOff [n+1]u32 · out [m]edge · inOff [n+1]u32 · in [m]edge ·
//	        linkOff [n+1]u32 · links [links]{other u32, type u8, out u8}
//	edge    {tx u32, other u32, time i64, amount i64, channel u8, currency u8}
//	trailer [body crc32c u32]
//
// The money adjacency is stored as laid out rather than rebuilt from
// transaction columns: rebuilding scatters every edge to a random place,
// which cost more than a second on the medium demo, while reading the
// stored edges is sequential. Only txOutPos is derived.
const (
	snapMagic   = "CGINDEX\x00"
	snapVersion = 3 // 2: keeps list_status; 3: currencies, zones, edge currency
	snapHeader  = 8 + 4 + 8*8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// snapWriter writes little-endian columns through a running checksum.
type snapWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf []byte
	n   int64
	err error
}

func (s *snapWriter) write(b []byte) {
	if s.err != nil {
		return
	}
	s.crc.Write(b)
	var k int
	k, s.err = s.w.Write(b)
	s.n += int64(k)
}

// flushBuf writes the scratch buffer once it is big enough (or when forced).
func (s *snapWriter) flushBuf(force bool) {
	if len(s.buf) >= 64<<10 || (force && len(s.buf) > 0) {
		s.write(s.buf)
		s.buf = s.buf[:0]
	}
}

func putU8s[T ~uint8](s *snapWriter, v []T) {
	for _, x := range v {
		s.buf = append(s.buf, byte(x))
		if len(s.buf) >= 64<<10 {
			s.flushBuf(false)
		}
	}
	s.flushBuf(true)
}

func putU32s[T ~uint32](s *snapWriter, v []T) {
	for _, x := range v {
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(x))
		s.flushBuf(false)
	}
	s.flushBuf(true)
}

func putU64s[T ~uint64 | ~int64](s *snapWriter, v []T) {
	for _, x := range v {
		s.buf = binary.LittleEndian.AppendUint64(s.buf, uint64(x))
		s.flushBuf(false)
	}
	s.flushBuf(true)
}

// putEdges writes money edges packed: [tx u32][other u32][time i64][amount i64][channel u8][currency u8].
func putEdges(s *snapWriter, es []TxEdge) {
	for _, e := range es {
		s.buf = binary.LittleEndian.AppendUint32(s.buf, e.Tx)
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(e.Other))
		s.buf = binary.LittleEndian.AppendUint64(s.buf, uint64(e.Time))
		s.buf = binary.LittleEndian.AppendUint64(s.buf, uint64(e.Amount))
		s.buf = append(s.buf, byte(e.Channel), e.Cur)
		s.flushBuf(false)
	}
	s.flushBuf(true)
}

const edgeSize = 26

// putNames writes a count and short strings (currency codes, zone names).
func putNames(s *snapWriter, names []string) {
	s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(len(names)))
	for _, n := range names {
		n = n[:min(len(n), 255)]
		s.buf = append(s.buf, byte(len(n)))
		s.buf = append(s.buf, n...)
	}
	s.flushBuf(true)
}

// getNames reads what putNames wrote; at most limit names.
func getNames(s *snapReader, limit int) []string {
	b := s.next(4)
	if s.err != nil {
		return nil
	}
	k := int(binary.LittleEndian.Uint32(b))
	if k > limit {
		s.fail("%d names", k)
		return nil
	}
	names := make([]string, 0, k)
	for range k {
		b := s.next(1)
		if s.err != nil {
			return nil
		}
		names = append(names, string(s.next(int(b[0]))))
	}
	return names
}

func (s *snapWriter) str(v string) {
	for len(v) > 0 && s.err == nil {
		k := min(len(v), 64<<10)
		s.buf = append(s.buf[:0], v[:k]...)
		s.flushBuf(true)
		v = v[k:]
	}
}

// WriteTo writes a snapshot of the index that ReadIndex reads back into an
// equal index. It implements io.WriterTo.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	n, m := len(ix.kinds), len(ix.txFrom)
	hdr := make([]byte, 0, snapHeader+4)
	hdr = append(hdr, snapMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, snapVersion)
	propBytes := 0
	for _, p := range ix.props {
		propBytes += len(p.val)
	}
	for _, v := range []int{n, m, len(ix.links) / 2, len(ix.props), len(ix.keys), len(ix.names), len(ix.txIDs), propBytes} {
		hdr = binary.LittleEndian.AppendUint64(hdr, uint64(v))
	}
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
	bw := bufio.NewWriterSize(w, 256<<10)
	if _, err := bw.Write(hdr); err != nil {
		return 0, fmt.Errorf("write graph index snapshot: %w", err)
	}
	s := &snapWriter{w: bw, crc: crc32.New(castagnoli), buf: make([]byte, 0, 72<<10), n: int64(len(hdr))}

	putU8s(s, ix.kinds)
	putU32s(s, ix.keyOff)
	s.str(ix.keys)
	putU32s(s, ix.nameOff)
	s.str(ix.names)
	putU64s(s, ix.stub)
	for _, p := range ix.props {
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(p.node))
		s.buf = append(s.buf, p.slot)
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(len(p.val)))
		s.flushBuf(false)
	}
	s.flushBuf(true)
	for _, p := range ix.props {
		s.str(p.val)
	}

	putU32s(s, ix.txIDOff)
	s.str(ix.txIDs)
	putU32s(s, ix.txFrom)
	putU8s(s, ix.txFlags)
	putU32s(s, ix.txATM)
	putU32s(s, ix.txDev)
	putU32s(s, ix.txIP)
	putNames(s, ix.curs)
	zones := make([]string, len(ix.zones))
	for i, z := range ix.zones {
		zones[i] = z.name
	}
	putNames(s, zones)
	if ix.txZone == nil {
		s.buf = append(s.buf, 0)
		s.flushBuf(true)
	} else {
		s.buf = append(s.buf, 1)
		s.flushBuf(true)
		putU8s(s, ix.txZone)
	}
	putU32s(s, ix.outOff)
	putEdges(s, ix.out)
	putU32s(s, ix.inOff)
	putEdges(s, ix.in)

	// Links are stored once, from their source, as Build received them.
	putU32s(s, ix.linkOff)
	for _, l := range ix.links {
		out := byte(0)
		if l.Out {
			out = 1
		}
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(l.Other))
		s.buf = append(s.buf, byte(l.Type), out)
		s.flushBuf(false)
	}
	s.flushBuf(true)

	if s.err == nil {
		var sum [4]byte
		binary.LittleEndian.PutUint32(sum[:], s.crc.Sum32())
		var k int
		k, s.err = bw.Write(sum[:])
		s.n += int64(k)
	}
	if s.err == nil {
		s.err = bw.Flush()
	}
	if s.err != nil {
		return s.n, fmt.Errorf("write graph index snapshot: %w", s.err)
	}
	return s.n, nil
}

// snapReader reads the body of a snapshot through a running checksum; the
// first error sticks.
type snapReader struct {
	r   *bufio.Reader
	crc hash.Hash32
	buf []byte
	err error
}

// next returns the next k bytes (k ≤ the chunk size), valid until the next call.
func (s *snapReader) next(k int) []byte {
	if s.err != nil {
		return nil
	}
	if cap(s.buf) < k {
		s.buf = make([]byte, k)
	}
	b := s.buf[:k]
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.err = fmt.Errorf("%w: truncated (%v)", ErrBadSnapshot, err)
		return nil
	}
	s.crc.Write(b)
	return b
}

const snapChunk = 64 << 10

func getU8s[T ~uint8](s *snapReader, n int) []T {
	v := make([]T, n)
	for i := 0; i < n && s.err == nil; {
		b := s.next(min(n-i, snapChunk))
		for _, c := range b {
			v[i] = T(c)
			i++
		}
	}
	return v
}

func getU32s[T ~uint32](s *snapReader, n int) []T {
	v := make([]T, n)
	for i := 0; i < n && s.err == nil; {
		b := s.next(min(n-i, snapChunk/4) * 4)
		for len(b) >= 4 {
			v[i] = T(binary.LittleEndian.Uint32(b))
			b = b[4:]
			i++
		}
	}
	return v
}

func getU64s[T ~uint64 | ~int64](s *snapReader, n int) []T {
	v := make([]T, n)
	for i := 0; i < n && s.err == nil; {
		b := s.next(min(n-i, snapChunk/8) * 8)
		for len(b) >= 8 {
			v[i] = T(binary.LittleEndian.Uint64(b))
			b = b[8:]
			i++
		}
	}
	return v
}

// getEdges reads len(v) packed money edges into v; their transactions and
// nodes must be below len(v) and n.
func getEdges(s *snapReader, v []TxEdge, n, curs int) []TxEdge {
	if s.err != nil {
		return nil
	}
	m := len(v)
	for i := 0; i < m && s.err == nil; {
		b := s.next(min(m-i, snapChunk/edgeSize) * edgeSize)
		for len(b) >= edgeSize {
			e := TxEdge{Tx: binary.LittleEndian.Uint32(b), Other: NodeID(binary.LittleEndian.Uint32(b[4:])),
				Time: int64(binary.LittleEndian.Uint64(b[8:])), Amount: int64(binary.LittleEndian.Uint64(b[16:])),
				Channel: Channel(b[24]), Cur: b[25]}
			if int(e.Tx) >= m || int(e.Other) >= n || int(e.Cur) >= curs {
				s.fail("money edge %d", i)
				return nil
			}
			v[i] = e
			b = b[edgeSize:]
			i++
		}
	}
	return v
}

func (s *snapReader) str(n int) string {
	if s.err != nil {
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.err = fmt.Errorf("%w: truncated (%v)", ErrBadSnapshot, err)
		return ""
	}
	s.crc.Write(b)
	if n == 0 {
		return ""
	}
	// b is never written again: the string takes it over instead of copying
	// (fresh memory is what a snapshot load spends its time on).
	return unsafe.String(unsafe.SliceData(b), n)
}

// prefault writes the zero value at every page of v, so the kernel maps the
// pages now rather than when v is filled.
func prefault[T any](v []T) {
	if len(v) == 0 {
		return
	}
	var zero T
	step := max(1, 4096/int(unsafe.Sizeof(zero)))
	for i := 0; i < len(v); i += step {
		v[i] = zero
	}
}

func (s *snapReader) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%w: "+format, append([]any{ErrBadSnapshot}, args...)...)
	}
}

// offsetsOK reports whether off (len count+1) starts at 0, never decreases
// and ends at total.
func offsetsOK(off []uint32, total int) bool {
	if len(off) == 0 || off[0] != 0 || int(off[len(off)-1]) != total {
		return false
	}
	for i := 1; i < len(off); i++ {
		if off[i] < off[i-1] {
			return false
		}
	}
	return true
}

// nodesOK reports whether every id is a node of an n-node index (or NoNode when opt).
func nodesOK(ids []NodeID, n int, opt bool) bool {
	for _, v := range ids {
		if int(v) >= n && !(opt && v == NoNode) {
			return false
		}
	}
	return true
}

// ReadIndex reads a snapshot written by (*Index).WriteTo. A snapshot of
// another version, a truncated or corrupt one gives an error wrapping
// ErrBadSnapshot; the checksum covers every byte, and offsets and node ids
// are checked so that a bad snapshot can never yield an index that panics.
func ReadIndex(r io.Reader) (*Index, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	hdr := make([]byte, snapHeader+4)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, fmt.Errorf("read graph index snapshot: %w: header (%v)", ErrBadSnapshot, err)
	}
	if string(hdr[:8]) != snapMagic {
		return nil, fmt.Errorf("read graph index snapshot: %w: not a snapshot", ErrBadSnapshot)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != snapVersion {
		return nil, fmt.Errorf("read graph index snapshot: %w: version %d, want %d", ErrBadSnapshot, v, snapVersion)
	}
	if crc32.Checksum(hdr[:snapHeader], castagnoli) != binary.LittleEndian.Uint32(hdr[snapHeader:]) {
		return nil, fmt.Errorf("read graph index snapshot: %w: header checksum", ErrBadSnapshot)
	}
	var dims [8]int
	for i := range dims {
		v := binary.LittleEndian.Uint64(hdr[12+8*i:])
		if v > math.MaxUint32 {
			return nil, fmt.Errorf("read graph index snapshot: %w: size %d out of range", ErrBadSnapshot, v)
		}
		dims[i] = int(v)
	}
	n, m, nlinks, nprops := dims[0], dims[1], dims[2], dims[3]
	nkeys, nnames, ntxids, propBytes := dims[4], dims[5], dims[6], dims[7]
	if n == math.MaxUint32 {
		return nil, fmt.Errorf("read graph index snapshot: %w: %d nodes", ErrBadSnapshot, n)
	}

	// The money edges are half the index and come late in the stream. Fresh
	// memory costs a page fault per 4 KiB on first touch, which on a small VM
	// is most of a load; a second goroutine takes those faults while the
	// earlier sections are read. It finishes before the edges are written.
	out, in := make([]TxEdge, m), make([]TxEdge, m)
	faulted := make(chan struct{})
	go func() {
		prefault(out)
		prefault(in)
		close(faulted)
	}()

	s := &snapReader{r: br, crc: crc32.New(castagnoli)}
	ix := &Index{}
	ix.kinds = getU8s[Kind](s, n)
	ix.keyOff = getU32s[uint32](s, n+1)
	ix.keys = s.str(nkeys)
	ix.nameOff = getU32s[uint32](s, n+1)
	ix.names = s.str(nnames)
	ix.stub = getU64s[uint64](s, (n+63)/64)
	if s.err == nil && (!offsetsOK(ix.keyOff, nkeys) || !offsetsOK(ix.nameOff, nnames)) {
		s.fail("node offsets")
	}
	ix.props = make([]indexProp, nprops)
	propLen := make([]uint32, nprops)
	for i := 0; i < nprops && s.err == nil; i++ {
		b := s.next(9)
		if s.err != nil {
			break
		}
		p := indexProp{node: NodeID(binary.LittleEndian.Uint32(b)), slot: b[4]}
		propLen[i] = binary.LittleEndian.Uint32(b[5:])
		if int(p.node) >= n || int(p.slot) >= len(keptProps) ||
			i > 0 && (ix.props[i-1].node > p.node || ix.props[i-1].node == p.node && ix.props[i-1].slot >= p.slot) {
			s.fail("property %d", i)
		}
		ix.props[i] = p
	}
	vals := s.str(propBytes)
	for i := range ix.props {
		if s.err != nil {
			break
		}
		if int(propLen[i]) > len(vals) {
			s.fail("property values")
			break
		}
		ix.props[i].val, vals = vals[:propLen[i]], vals[propLen[i]:]
	}
	if s.err == nil && len(vals) != 0 {
		s.fail("property values")
	}

	ix.txIDOff = getU32s[uint32](s, m+1)
	ix.txIDs = s.str(ntxids)
	ix.txFrom = getU32s[NodeID](s, m)
	ix.txFlags = getU8s[TxFlags](s, m)
	ix.txATM = getU32s[NodeID](s, m)
	ix.txDev = getU32s[NodeID](s, m)
	ix.txIP = getU32s[NodeID](s, m)
	ix.curs = getNames(s, maxCurrencies)
	zoneNames := getNames(s, 256)
	if b := s.next(1); s.err == nil && b[0] == 1 {
		ix.txZone = getU8s[uint8](s, m)
		for _, z := range ix.txZone {
			if int(z) >= len(zoneNames) {
				s.fail("transaction zone %d", z)
				break
			}
		}
	}
	if s.err == nil && len(ix.curs) == 0 {
		s.fail("no currency table")
	}
	if s.err == nil && (!offsetsOK(ix.txIDOff, ntxids) || !nodesOK(ix.txFrom, n, false) ||
		!nodesOK(ix.txATM, n, true) || !nodesOK(ix.txDev, n, true) || !nodesOK(ix.txIP, n, true)) {
		s.fail("transaction columns")
	}
	ix.outOff = getU32s[uint32](s, n+1)
	if s.err == nil && !offsetsOK(ix.outOff, m) {
		s.fail("out offsets")
	}
	<-faulted
	ix.out = getEdges(s, out, n, len(ix.curs))
	ix.inOff = getU32s[uint32](s, n+1)
	if s.err == nil && !offsetsOK(ix.inOff, m) {
		s.fail("in offsets")
	}
	ix.in = getEdges(s, in, n, len(ix.curs))
	// Every transaction has exactly one out edge, from its sender.
	if s.err == nil {
		ix.txOutPos = make([]uint32, m)
		seen := make([]bool, m)
		for v := 0; v < n && s.err == nil; v++ {
			for p := ix.outOff[v]; p < ix.outOff[v+1]; p++ {
				tx := ix.out[p].Tx
				if seen[tx] || ix.txFrom[tx] != NodeID(v) {
					s.fail("out edge %d", p)
					break
				}
				seen[tx] = true
				ix.txOutPos[tx] = p
			}
		}
	}

	ix.linkOff = getU32s[uint32](s, n+1)
	if s.err == nil && !offsetsOK(ix.linkOff, 2*nlinks) {
		s.fail("link offsets")
	}
	if s.err == nil {
		ix.links = make([]LinkEdge, 2*nlinks)
	}
	for i := 0; i < 2*nlinks && s.err == nil; {
		b := s.next(min(2*nlinks-i, snapChunk/6) * 6)
		for len(b) >= 6 {
			ix.links[i] = LinkEdge{Other: NodeID(binary.LittleEndian.Uint32(b)), Type: LinkType(b[4]), Out: b[5] == 1}
			if int(ix.links[i].Other) >= n {
				s.fail("link to node %d", ix.links[i].Other)
				break
			}
			b = b[6:]
			i++
		}
	}
	if s.err != nil {
		return nil, fmt.Errorf("read graph index snapshot: %w", s.err)
	}
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return nil, fmt.Errorf("read graph index snapshot: %w: checksum missing", ErrBadSnapshot)
	}
	if binary.LittleEndian.Uint32(sum[:]) != s.crc.Sum32() {
		return nil, fmt.Errorf("read graph index snapshot: %w: checksum mismatch", ErrBadSnapshot)
	}
	ix.buildZones(zoneNames)
	ix.computeTimeUnit()
	return ix, nil
}
