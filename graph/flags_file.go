package graph

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// The results file: a rules run (Flags) written beside the graph index file
// it ran on, so that the next analysis of the same data with the same
// configuration, verdicts and program reads it instead of running the rules
// again (docs/adr/0005-mapped-graph-index.md, "Results of a run"). Flags
// hold node ids and transaction indexes of that index; references, kinds and
// Refs are the index's and are not written.
//
//	header  magic "CGFLAGS1" · key [32] · body length u64 · CRC-32C of the body u32
//	body    threshold f64 · rules {n, [n]string} ·
//	        hits {n, [n]{rule, node, score f64, reason, evidence {n, [n]tx}, from, to (zig-zag), strong|weak u8}} ·
//	        risks {n, [n]{node, score, typology, context f64, typologies, evidence, subject+1,
//	                      rules {n, [n]{rule, score f64, via+1, strong|weak u8}}, hits {n, [n]index}, explanation}}
//
// Integers are unsigned varints unless marked; strings are a length and
// bytes; subject+1 and via+1 are 0 for NoNode. Reading checks the checksum
// and every id against the index, so a damaged or hand-made file is an
// error, never a panic or a wrong answer.
const (
	flagsFileMagic  = "CGFLAGS1"
	flagsFileHeader = 8 + 32 + 8 + 4
)

// ErrStaleFlagsFile means the results file is of another key: other data,
// configuration, verdicts or program.
var ErrStaleFlagsFile = errors.New("results file of another run")

// ErrBadFlagsFile means the results file is damaged.
var ErrBadFlagsFile = errors.New("results file damaged")

func badFlags(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadFlagsFile, fmt.Sprintf(format, args...))
}

// WriteFlagsFile writes f, a run whose key names what it ran on, as a
// results file.
func WriteFlagsFile(w io.Writer, f Flags, key [32]byte) error {
	// Room for the whole body at once: grown by doubling, its copies and
	// fresh pages were a second of CPU on the large demo (69 MB).
	size := 64
	for _, h := range f.Hits {
		size += 40 + len(h.Reason) + 5*len(h.Evidence)
	}
	for _, r := range f.Risks {
		size += 48 + 16*len(r.Rules) + 5*len(r.Hits) + len(r.Explanation)
	}
	body := flagsEncoder{b: make([]byte, 0, size)}
	body.f64(f.Threshold)
	rules := map[string]int{}
	var names []string
	ruleID := func(r string) int {
		if i, ok := rules[r]; ok {
			return i
		}
		rules[r] = len(names)
		names = append(names, r)
		return len(names) - 1
	}
	for _, h := range f.Hits {
		ruleID(h.Rule)
	}
	for _, r := range f.Risks {
		for _, rs := range r.Rules {
			ruleID(rs.Rule)
		}
	}
	body.uint(uint64(len(names)))
	for _, n := range names {
		body.str(n)
	}
	body.uint(uint64(len(f.Hits)))
	for _, h := range f.Hits {
		body.uint(uint64(rules[h.Rule]))
		body.uint(uint64(h.Node))
		body.f64(h.Score)
		body.str(h.Reason)
		body.uint(uint64(len(h.Evidence)))
		for _, t := range h.Evidence {
			body.uint(uint64(t))
		}
		body.int(h.Window.From)
		body.int(h.Window.To)
		body.flags(h.Strong, h.Weak)
	}
	body.uint(uint64(len(f.Risks)))
	for _, r := range f.Risks {
		body.uint(uint64(r.Node))
		body.f64(r.Score)
		body.f64(r.Typology)
		body.f64(r.Context)
		body.uint(uint64(r.Typologies))
		body.uint(uint64(r.Evidence))
		body.node(r.Subject)
		body.uint(uint64(len(r.Rules)))
		for _, rs := range r.Rules {
			body.uint(uint64(rules[rs.Rule]))
			body.f64(rs.Score)
			body.node(rs.Via)
			body.flags(rs.Strong, rs.Weak)
		}
		body.uint(uint64(len(r.Hits)))
		for _, i := range r.Hits {
			body.uint(uint64(i))
		}
		body.str(r.Explanation)
	}
	head := make([]byte, 0, flagsFileHeader)
	head = append(head, flagsFileMagic...)
	head = append(head, key[:]...)
	head = binary.LittleEndian.AppendUint64(head, uint64(len(body.b)))
	head = binary.LittleEndian.AppendUint32(head, crc32.Checksum(body.b, castagnoli))
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(head); err != nil {
		return err
	}
	if _, err := bw.Write(body.b); err != nil {
		return err
	}
	return bw.Flush()
}

// FlagsFileKey returns the key a results file's header names.
func FlagsFileKey(head []byte) ([32]byte, error) {
	if len(head) < flagsFileHeader || string(head[:8]) != flagsFileMagic {
		return [32]byte{}, badFlags("not a results file")
	}
	return [32]byte(head[8:40]), nil
}

// ReadFlagsFile reads a results file written by WriteFlagsFile for key,
// against ix, the index the run read: ErrStaleFlagsFile when it is of
// another key, ErrBadFlagsFile when damaged or naming what ix does not hold.
func ReadFlagsFile(data []byte, ix *Index, key [32]byte) (Flags, error) {
	k, err := FlagsFileKey(data)
	if err != nil {
		return Flags{}, err
	}
	if k != key {
		return Flags{}, ErrStaleFlagsFile
	}
	n := binary.LittleEndian.Uint64(data[40:])
	if n != uint64(len(data)-flagsFileHeader) {
		return Flags{}, badFlags("%d bytes of body, the header says %d (truncated?)", len(data)-flagsFileHeader, n)
	}
	body := data[flagsFileHeader:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[48:]) {
		return Flags{}, badFlags("checksum mismatch")
	}
	d := flagsDecoder{b: body, nodes: uint64(ix.Len()), txns: uint64(ix.TxCount())}
	f := Flags{Threshold: d.f64()}
	names := make([]string, d.count())
	for i := range names {
		names[i] = d.str()
	}
	rule := func() string {
		i := d.uint()
		if d.err == nil && i >= uint64(len(names)) {
			d.fail("rule %d of %d", i, len(names))
		}
		if d.err != nil {
			return ""
		}
		return names[i]
	}
	f.Hits = make([]Hit, d.count())
	for i := range f.Hits {
		h := &f.Hits[i]
		h.Rule, h.Node, h.Score, h.Reason = rule(), d.nodeID(), d.f64(), d.str()
		if m := d.count(); m > 0 {
			h.Evidence = make([]uint32, m)
			for j := range h.Evidence {
				h.Evidence[j] = d.tx()
			}
		}
		h.Window = Window{From: d.int(), To: d.int()}
		h.Strong, h.Weak = d.flags()
		if d.err != nil {
			return Flags{}, d.err
		}
	}
	f.Risks = make([]Risk, d.count())
	f.Refs = make(map[NodeID]Ref, len(f.Risks))
	for i := range f.Risks {
		r := &f.Risks[i]
		r.Node = d.nodeID()
		r.Score, r.Typology, r.Context = d.f64(), d.f64(), d.f64()
		r.Typologies, r.Evidence = int(d.small()), int(d.small())
		r.Subject = d.optNode()
		if m := d.count(); m > 0 {
			r.Rules = make([]RuleScore, m)
			for j := range r.Rules {
				rs := &r.Rules[j]
				rs.Rule, rs.Score, rs.Via = rule(), d.f64(), d.optNode()
				rs.Strong, rs.Weak = d.flags()
			}
		}
		if m := d.count(); m > 0 {
			r.Hits = make([]int, m)
			for j := range r.Hits {
				h := d.uint()
				if d.err == nil && h >= uint64(len(f.Hits)) {
					d.fail("hit %d of %d", h, len(f.Hits))
				}
				r.Hits[j] = int(h)
			}
		}
		r.Explanation = d.str()
		if d.err != nil {
			return Flags{}, d.err
		}
		r.Ref, r.Kind = ix.Ref(r.Node), ix.Kind(r.Node)
		f.Refs[r.Node] = r.Ref
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the last risk", len(d.b))
	}
	if d.err != nil {
		return Flags{}, d.err
	}
	return f, nil
}

type flagsEncoder struct{ b []byte }

func (e *flagsEncoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *flagsEncoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *flagsEncoder) f64(v float64) {
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v))
}
func (e *flagsEncoder) str(s string) { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *flagsEncoder) node(n NodeID) {
	if n == NoNode {
		e.uint(0)
		return
	}
	e.uint(uint64(n) + 1)
}
func (e *flagsEncoder) flags(strong, weak bool) {
	var v byte
	if strong {
		v |= 1
	}
	if weak {
		v |= 2
	}
	e.b = append(e.b, v)
}

// flagsDecoder reads a body; the first error sticks and every later read
// returns zero.
type flagsDecoder struct {
	b           []byte
	nodes, txns uint64
	err         error
}

func (d *flagsDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = badFlags(format, args...)
	}
}

func (d *flagsDecoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *flagsDecoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a number of elements, each at least one byte: never more than
// the bytes left, so a damaged count cannot allocate beyond the file.
func (d *flagsDecoder) count() int {
	v := d.uint()
	if d.err == nil && v > uint64(len(d.b)) {
		d.fail("%d elements in %d bytes", v, len(d.b))
	}
	if d.err != nil {
		return 0
	}
	return int(v)
}

func (d *flagsDecoder) small() uint64 {
	v := d.uint()
	if d.err == nil && v > math.MaxInt32 {
		d.fail("count %d out of range", v)
	}
	return v
}

func (d *flagsDecoder) f64() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("short float")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	if math.IsNaN(v) || math.IsInf(v, 0) {
		d.fail("score %v", v)
		return 0
	}
	return v
}

func (d *flagsDecoder) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *flagsDecoder) nodeID() NodeID {
	v := d.uint()
	if d.err == nil && v >= d.nodes {
		d.fail("node %d of %d", v, d.nodes)
	}
	return NodeID(v)
}

func (d *flagsDecoder) optNode() NodeID {
	v := d.uint()
	if v == 0 || d.err != nil {
		return NoNode
	}
	if v-1 >= d.nodes {
		d.fail("node %d of %d", v-1, d.nodes)
		return NoNode
	}
	return NodeID(v - 1)
}

func (d *flagsDecoder) tx() uint32 {
	v := d.uint()
	if d.err == nil && v >= d.txns {
		d.fail("transaction %d of %d", v, d.txns)
	}
	return uint32(v)
}

func (d *flagsDecoder) flags() (strong, weak bool) {
	if d.err != nil {
		return false, false
	}
	if len(d.b) < 1 || d.b[0] > 3 {
		d.fail("bad flags")
		return false, false
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v&1 != 0, v&2 != 0
}
