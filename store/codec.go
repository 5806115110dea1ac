package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"casegraph/graph"
)

// Values are compact binary: strings are a uvarint length and the bytes,
// integers are varints. Property maps are written in key order so equal
// records encode to equal bytes.

var errShortValue = errors.New("value too short")

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes a value; the first error sticks and later reads return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortValue
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortValue
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.err = errShortValue
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if uint64(len(r.b)) < n {
		r.err = errShortValue
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) ref() graph.Ref {
	k := graph.Kind(r.byte())
	return graph.Ref{Kind: k, Key: r.str()}
}

func appendValRef(b []byte, ref graph.Ref) []byte {
	return appendStr(append(b, byte(ref.Kind)), ref.Key)
}

func appendProps(b []byte, props map[string]string) []byte {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendStr(b, k)
		b = appendStr(b, props[k])
	}
	return b
}

func (r *reader) props() map[string]string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(r.b)) { // each pair takes at least two bytes
		r.err = errShortValue
		return nil
	}
	m := make(map[string]string, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

func appendSrc(b []byte, p graph.Provenance) []byte {
	b = appendStr(b, p.File)
	b = binary.AppendUvarint(b, uint64(max(p.Line, 0)))
	return binary.AppendUvarint(b, uint64(p.Batch))
}

func (r *reader) src() graph.Provenance {
	return graph.Provenance{File: r.str(), Line: int(r.uvarint()), Batch: uint32(r.uvarint())}
}

// Entity value: [name][props][src]. Ref and stub flag live in the key.
func encodeEntity(e graph.Entity) []byte {
	b := appendStr(nil, e.Name)
	b = appendProps(b, e.Props)
	return appendSrc(b, e.Src)
}

func decodeEntity(ref graph.Ref, stub bool, v []byte) (graph.Entity, error) {
	r := reader{b: v}
	e := graph.Entity{Ref: ref, Stub: stub, Name: r.str(), Props: r.props(), Src: r.src()}
	if r.err != nil {
		return graph.Entity{}, fmt.Errorf("decode entity %s: %w", ref, r.err)
	}
	return e, nil
}

// Link value: [role][src].
func encodeLink(l graph.Link) []byte { return appendSrc(appendStr(nil, l.Role), l.Src) }

func decodeLink(v []byte) (role string, src graph.Provenance, err error) {
	r := reader{b: v}
	role, src = r.str(), r.src()
	return role, src, r.err
}

// Transaction value (the key holds owner, time, id and direction):
//
//	[amount int64 BE][channel][iin_provided][app_confirmed][other ref]
//	[currency][atm][device][ip][reference][props][src][time flags]?
//
// The time flags byte (bit 0: the source gave a date and no clock time,
// graph.Txn.DateOnly) is written only when a flag is set, so values written
// before it existed, and every value with a clock time, end after src.
//
// Both owner rows hold all of it (docs/adr/0001-key-layout.md says why the
// receiver's row is not cut to the head).
//
// The amount sits at a fixed offset so totals and amount sorts read it
// without decoding the rest.
func encodeTxnValue(t graph.Txn, other graph.Ref) []byte {
	return appendTxnValue(make([]byte, 0, 64+len(other.Key)+len(t.Reference)), t, other)
}

// appendTxnValue appends encodeTxnValue's bytes to b.
func appendTxnValue(b []byte, t graph.Txn, other graph.Ref) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Amount))
	b = append(b, byte(t.Channel), byte(t.IINProvided), byte(t.AppConfirmed))
	b = appendValRef(b, other)
	b = appendStr(b, t.Currency)
	b = appendStr(b, t.ATM)
	b = appendStr(b, t.Device)
	b = appendStr(b, t.IP)
	b = appendStr(b, t.Reference)
	b = appendProps(b, t.Props)
	b = appendSrc(b, t.Src)
	if f := txnTimeFlags(t); f != 0 {
		b = append(b, f)
	}
	return b
}

// Time flags of a transaction value.
const timeDateOnly byte = 1

func txnTimeFlags(t graph.Txn) byte {
	if t.DateOnly {
		return timeDateOnly
	}
	return 0
}

// txnHead is the part of a transaction value that aggregation needs.
type txnHead struct {
	amount  int64
	channel graph.Channel
	other   graph.Ref
}

const txnFixed = 11 // amount, channel, two tri flags

func txnAmount(v []byte) (int64, error) {
	if len(v) < txnFixed {
		return 0, fmt.Errorf("transaction value: %w", errShortValue)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

func decodeTxnHead(v []byte) (txnHead, error) {
	if len(v) < txnFixed {
		return txnHead{}, fmt.Errorf("transaction value: %w", errShortValue)
	}
	r := reader{b: v[txnFixed:]}
	h := txnHead{amount: int64(binary.BigEndian.Uint64(v)), channel: graph.Channel(v[8]), other: r.ref()}
	if r.err != nil {
		return txnHead{}, fmt.Errorf("transaction value: %w", r.err)
	}
	return h, nil
}

// decodeTxn rebuilds a transaction from one of its owner rows.
func decodeTxn(key, v []byte) (graph.Txn, error) {
	owner, at, id, dir, err := parseTxnKey(key)
	if err != nil {
		return graph.Txn{}, err
	}
	if len(v) < txnFixed {
		return graph.Txn{}, fmt.Errorf("decode transaction %s: %w", id, errShortValue)
	}
	t := graph.Txn{
		ID:           id,
		Time:         at,
		Amount:       int64(binary.BigEndian.Uint64(v)),
		Channel:      graph.Channel(v[8]),
		IINProvided:  graph.Tri(v[9]),
		AppConfirmed: graph.Tri(v[10]),
	}
	r := reader{b: v[txnFixed:]}
	other := r.ref()
	if dir == graph.DirOut {
		t.From, t.To = owner, other
	} else {
		t.From, t.To = other, owner
	}
	t.Currency, t.ATM, t.Device, t.IP, t.Reference = r.str(), r.str(), r.str(), r.str(), r.str()
	t.Props = r.props()
	t.Src = r.src()
	if r.err == nil && len(r.b) > 0 {
		t.DateOnly = r.byte()&timeDateOnly != 0
	}
	if r.err != nil {
		return graph.Txn{}, fmt.Errorf("decode transaction %s: %w", id, r.err)
	}
	return t, nil
}

// Transaction id value: [channel][0][time uint64 BE][sender ref], from which
// the sender's row key is rebuilt with the id of the key. Databases written
// before hold [channel][t key of the sender's row]: a t key starts with its
// prefix byte, never 0, so both read the same way. The short form saves
// half of the id row's bytes in a bulk import.
func encodeTxnID(ch graph.Channel, from graph.Ref, at time.Time) []byte {
	return appendTxnID(make([]byte, 0, 12+len(from.Key)), ch, from, at)
}

// appendTxnID appends encodeTxnID's bytes to b.
func appendTxnID(b []byte, ch graph.Channel, from graph.Ref, at time.Time) []byte {
	b = append(b, byte(ch), 0)
	b = binary.BigEndian.AppendUint64(b, encodeTime(at))
	return appendValRef(b, from)
}

// txnIDChannel returns the channel of an id row's value.
func txnIDChannel(v []byte) (graph.Channel, error) {
	if len(v) < 2 {
		return 0, fmt.Errorf("transaction id value: %w", errShortValue)
	}
	return graph.Channel(v[0]), nil
}

// decodeTxnID returns the channel and the sender's row key of transaction
// id from its id row's value.
func decodeTxnID(id string, v []byte) (graph.Channel, []byte, error) {
	if len(v) < 2 {
		return 0, nil, fmt.Errorf("transaction id value: %w", errShortValue)
	}
	ch := graph.Channel(v[0])
	if v[1] != 0 {
		return ch, v[1:], nil // the older form: the key itself
	}
	if len(v) < 10 {
		return 0, nil, fmt.Errorf("transaction id value: %w", errShortValue)
	}
	at := decodeTime(binary.BigEndian.Uint64(v[2:]))
	r := reader{b: v[10:]}
	from := r.ref()
	if r.err != nil {
		return 0, nil, fmt.Errorf("transaction id value: %w", r.err)
	}
	return ch, txnKey(from, at, id, graph.DirOut), nil
}

// txnAgg is the persisted per-entity transaction summary.
type txnAgg struct {
	count   int64
	in, out int64
}

func encodeAgg(a txnAgg) []byte {
	b := binary.AppendUvarint(nil, uint64(a.count))
	b = binary.AppendVarint(b, a.in)
	return binary.AppendVarint(b, a.out)
}

func decodeAgg(v []byte) (txnAgg, error) {
	r := reader{b: v}
	a := txnAgg{count: int64(r.uvarint()), in: r.varint(), out: r.varint()}
	if r.err != nil {
		return txnAgg{}, fmt.Errorf("decode aggregate: %w", r.err)
	}
	return a, nil
}

// Search doc: [ref][label][n terms][terms…][facts][stub].
func appendDoc(b []byte, d graph.SearchDoc) []byte {
	b = appendValRef(b, d.Ref)
	b = appendStr(b, d.Label)
	b = binary.AppendUvarint(b, uint64(len(d.Terms)))
	for _, t := range d.Terms {
		b = appendStr(b, t)
	}
	b = appendStr(b, d.Facts)
	if d.Stub {
		return append(b, 1)
	}
	return append(b, 0)
}

// docReader decodes a snapshot chunk that was converted to one string: every
// string of every doc is a substring of it, and Terms slices come from a
// shared slab, so streaming a chunk costs a few allocations rather than
// several per doc. The docs keep the chunk alive, which is what a search
// index holding them needs anyway.
type docReader struct {
	s    string
	slab []string
	err  error
}

func (r *docReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if len(r.s) == 0 || shift > 63 {
			r.err = errShortValue
			return 0
		}
		c := r.s[0]
		r.s = r.s[1:]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
}

func (r *docReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if uint64(len(r.s)) < n {
		r.err = errShortValue
		return ""
	}
	out := r.s[:n]
	r.s = r.s[n:]
	return out
}

func (r *docReader) byte() byte {
	if r.err != nil || len(r.s) == 0 {
		r.err = errShortValue
		return 0
	}
	c := r.s[0]
	r.s = r.s[1:]
	return c
}

func (r *docReader) doc() graph.SearchDoc {
	d := graph.SearchDoc{Ref: graph.Ref{Kind: graph.Kind(r.byte()), Key: r.str()}, Label: r.str()}
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.s)) {
		r.err = errShortValue
	}
	if r.err == nil && n > 0 {
		if uint64(cap(r.slab)-len(r.slab)) < n {
			r.slab = make([]string, 0, max(1024, int(n)))
		}
		start := len(r.slab)
		for i := uint64(0); i < n && r.err == nil; i++ {
			r.slab = append(r.slab, r.str())
		}
		d.Terms = r.slab[start:len(r.slab):len(r.slab)]
	}
	d.Facts = r.str()
	d.Stub = r.byte() == 1
	return d
}

// nbrAgg is one persisted neighbour row: the transactions between an entity
// and one counterparty on one channel in one direction.
type nbrAgg struct {
	count       int64
	amount      int64
	first, last int64 // UnixNano
}

func encodeNbr(a nbrAgg) []byte {
	b := binary.AppendUvarint(nil, uint64(a.count))
	b = binary.AppendVarint(b, a.amount)
	b = binary.AppendVarint(b, a.first)
	return binary.AppendVarint(b, a.last)
}

func decodeNbr(v []byte) (nbrAgg, error) {
	r := reader{b: v}
	a := nbrAgg{count: int64(r.uvarint()), amount: r.varint(), first: r.varint(), last: r.varint()}
	if r.err != nil {
		return nbrAgg{}, fmt.Errorf("decode neighbour row: %w", r.err)
	}
	return a, nil
}
