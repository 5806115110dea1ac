package graph

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// The lean path feeds the builder straight from a store's encoded records:
// byte slices that point into the store's buffers and are valid only during
// the callback, no maps, no provenance. The builder copies what it keeps.

// ScanRef is a reference whose key is borrowed from the caller.
type ScanRef struct {
	Kind Kind
	Key  []byte
}

// IndexPropCount is the number of properties the index keeps.
const IndexPropCount = len(keptProps)

// IndexPropSlot returns the slot of a property the index keeps (afsa_licence,
// bank, issued), or false for every other key.
func IndexPropSlot(key []byte) (int, bool) {
	for i, k := range keptProps {
		if string(key) == k {
			return i, true
		}
	}
	return 0, false
}

// ScanEntity is the part of an entity the index keeps. Props[i] is the
// value of the property in slot i (see IndexPropSlot) when bit i of HasProps
// is set.
type ScanEntity struct {
	Ref      ScanRef
	Name     []byte
	Stub     bool
	Props    [IndexPropCount][]byte
	HasProps uint8
}

// ScanLink is the part of a link the index keeps.
type ScanLink struct {
	From, To ScanRef
	Type     LinkType
}

// ScanTxn is the part of a transaction the index keeps. Time is in unix
// seconds (floored).
type ScanTxn struct {
	ID                        []byte
	Time                      int64
	From, To                  ScanRef
	Amount                    int64
	Channel                   Channel
	IINProvided, AppConfirmed Tri
	ATM, Device, IP           []byte
	Reference                 []byte
	Currency                  []byte // ISO 4217; empty means KZT
	Batch                     uint32 // import batch (Provenance.Batch)
	DateOnly                  bool   // the source gave no clock time (Txn.DateOnly)
}

// LeanSource streams a case like IndexSource, but as borrowed bytes: every
// entity once (the full record when there is one), every link once and
// every transaction once. The records passed to the callbacks are reused.
type LeanSource interface {
	ScanLean(ctx context.Context, fe func(*ScanEntity) error, fl func(*ScanLink) error, ft func(*ScanTxn) error) error
}

// LeanBuilder reads everything src holds into a new builder, for Build or
// BuildFile, calling each (if not nil) after every record. When src also
// reports its Stats, the builder reserves room for what they count (in the
// memory mem gives, when mem is not nil: see ReserveIn) and learns the
// batches they list.
func LeanBuilder(ctx context.Context, src LeanSource, each func(), mem func(size int) ([]byte, error)) (*IndexBuilder, error) {
	b := NewIndexBuilder()
	if s, ok := src.(interface {
		Stats(context.Context) (Stats, error)
	}); ok {
		if st, err := s.Stats(ctx); err == nil {
			if mem == nil {
				b.Reserve(st)
			} else if err := b.ReserveIn(st, mem); err != nil {
				return nil, fmt.Errorf("build graph index: %w", err)
			}
			for _, bt := range st.Batches {
				b.AddBatch(bt)
			}
		}
	}
	if each == nil {
		each = func() {}
	}
	err := src.ScanLean(ctx,
		func(e *ScanEntity) error { b.AddScanEntity(e); each(); return nil },
		func(l *ScanLink) error { b.AddScanLink(l); each(); return nil },
		func(t *ScanTxn) error { b.AddScanTxn(t); each(); return nil })
	if err != nil {
		return nil, fmt.Errorf("build graph index: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("build graph index: %w", err)
	}
	return b, nil
}

// Reserve makes room for the entities, links and transactions st counts, so
// the builder's columns and maps do not grow (and copy) while it is fed.
// Counts are hints: more or fewer records are fine.
func (b *IndexBuilder) Reserve(st Stats) {
	b.reserveNodes(st)
	m := st.Txns
	b.txIDs = slices.Grow(b.txIDs, 10*m)
	b.txIDEnd = slices.Grow(b.txIDEnd, m)
	b.txTime, b.txAmount = slices.Grow(b.txTime, m), slices.Grow(b.txAmount, m)
	b.txFrom, b.txTo = slices.Grow(b.txFrom, m), slices.Grow(b.txTo, m)
	b.txChan, b.txFlags = slices.Grow(b.txChan, m), slices.Grow(b.txFlags, m)
	b.txATM, b.txDev, b.txIP = slices.Grow(b.txATM, m), slices.Grow(b.txDev, m), slices.Grow(b.txIP, m)
	b.txCur, b.txBatch = slices.Grow(b.txCur, m), slices.Grow(b.txBatch, m)
}

// ReserveIn is Reserve with the transactions' columns, the bulk of what a
// builder holds, laid out in memory mem returns (called once, with the size
// wanted; 8-byte aligned): a mapped scratch file keeps them out of the
// process's own memory (docs/adr/0007-index-built-into-its-file.md). Room
// is made for 16 bytes of id per transaction; a column that outgrows its
// room moves to the heap as append moves it. The memory must stay valid
// until Build or BuildFile has returned, and the builder must not be used
// once it is released.
func (b *IndexBuilder) ReserveIn(st Stats, mem func(size int) ([]byte, error)) error {
	b.reserveNodes(st)
	m := st.Txns
	const idRoom = 16
	buf, err := mem(m * (txColumnBytes + idRoom))
	if err != nil {
		return err
	}
	if len(buf) != m*(txColumnBytes+idRoom) || m > 0 && uintptr(unsafe.Pointer(&buf[0]))%8 != 0 {
		return fmt.Errorf("memory for the builder's columns: %d bytes or not 8-byte aligned", len(buf))
	}
	// 8-byte columns first, so that every column is aligned.
	b.txTime, b.txAmount = carve(&buf, m, b.txTime), carve(&buf, m, b.txAmount)
	b.txIDEnd, b.txBatch = carve(&buf, m, b.txIDEnd), carve(&buf, m, b.txBatch)
	b.txFrom, b.txTo = carve(&buf, m, b.txFrom), carve(&buf, m, b.txTo)
	b.txATM, b.txDev, b.txIP = carve(&buf, m, b.txATM), carve(&buf, m, b.txDev), carve(&buf, m, b.txIP)
	b.txChan, b.txFlags, b.txCur = carve(&buf, m, b.txChan), carve(&buf, m, b.txFlags), carve(&buf, m, b.txCur)
	b.txIDs = carve(&buf, idRoom*m, b.txIDs)
	return nil
}

// txColumnBytes is the size of one transaction's fixed-width columns.
const txColumnBytes = 8 + 8 + 4 + 4 + 4 + 4 + 3*4 + 1 + 1 + 1

// carve returns the first n elements' room of *buf as an empty slice of
// capacity n holding a copy of old, and moves *buf past it.
func carve[T any](buf *[]byte, n int, old []T) []T {
	var z T
	size := n * int(unsafe.Sizeof(z))
	s := sliceOf[T]((*buf)[:size:size])
	*buf = (*buf)[size:]
	return append(s[:0:n], old...)
}

func (b *IndexBuilder) reserveNodes(st Stats) {
	nodes := 0 // Entities counts stubs too
	for k, n := range st.Entities {
		nodes += n
		if i := min(int(k), int(kindCount)); len(b.ids[i]) == 0 {
			b.ids[i] = make(map[string]NodeID, n)
		}
	}
	links := 0
	for _, n := range st.Links {
		links += n
	}
	b.refs = slices.Grow(b.refs, nodes)
	b.names = slices.Grow(b.names, nodes)
	b.full = slices.Grow(b.full, nodes)
	b.links = slices.Grow(b.links, links)
}

func (b *IndexBuilder) addTxID(id string) {
	b.txIDs = append(b.txIDs, id...)
	b.txIDEnd = append(b.txIDEnd, uint32(len(b.txIDs)))
}

// internBytes is intern for a borrowed key: the key is copied only when the
// reference is new.
func (b *IndexBuilder) internBytes(r ScanRef) NodeID {
	if b.lastID != NoNode && r.Kind == b.last.Kind && string(r.Key) == b.last.Key {
		return b.lastID
	}
	m := b.ids[min(int(r.Kind), int(kindCount))]
	id, ok := m[string(r.Key)]
	if !ok {
		key := string(r.Key)
		id = b.add(Ref{Kind: r.Kind, Key: key})
		m[key] = id
	}
	b.last, b.lastID = b.refs[id], id
	return id
}

func (b *IndexBuilder) internOptBytes(k Kind, key []byte) NodeID {
	if len(key) == 0 {
		return NoNode
	}
	return b.internBytes(ScanRef{Kind: k, Key: key})
}

// AddScanEntity is AddEntity for a borrowed record.
func (b *IndexBuilder) AddScanEntity(e *ScanEntity) {
	id := b.internBytes(e.Ref)
	if e.Stub && b.full[id] {
		return
	}
	if !e.Stub {
		b.full[id] = true
	}
	if len(e.Name) > 0 || !e.Stub {
		if string(e.Name) != b.names[id] {
			b.names[id] = string(e.Name)
		}
	}
	for i := range IndexPropCount {
		if e.HasProps&(1<<i) != 0 {
			b.props = append(b.props, builderProp{node: id, slot: uint8(i), val: string(e.Props[i])})
		}
	}
}

// AddScanLink is AddLink for a borrowed record.
func (b *IndexBuilder) AddScanLink(l *ScanLink) {
	b.links = append(b.links, builderLink{from: b.internBytes(l.From), to: b.internBytes(l.To), typ: l.Type})
}

// AddScanTxn is AddTxn for a borrowed record.
func (b *IndexBuilder) AddScanTxn(t *ScanTxn) {
	b.txIDs = append(b.txIDs, t.ID...)
	b.txIDEnd = append(b.txIDEnd, uint32(len(b.txIDs)))
	b.txTime = append(b.txTime, t.Time)
	b.txAmount = append(b.txAmount, t.Amount)
	b.txFrom = append(b.txFrom, b.internBytes(t.From))
	b.txTo = append(b.txTo, b.internBytes(t.To))
	b.txChan = append(b.txChan, t.Channel)
	f := triFlags(t.IINProvided, t.AppConfirmed) | p2pFlag(looksP2PBytes(t.Reference))
	if t.DateOnly {
		f |= TxDateOnly
	}
	b.txFlags = append(b.txFlags, f)
	b.txCur = append(b.txCur, b.curs.internBytes(t.Currency))
	b.txBatch = append(b.txBatch, t.Batch)
	b.txATM = append(b.txATM, b.internOptBytes(KindATM, t.ATM))
	b.txDev = append(b.txDev, b.internOptBytes(KindDevice, t.Device))
	b.txIP = append(b.txIP, b.internOptBytes(KindIP, t.IP))
}

func triFlags(iin, app Tri) TxFlags {
	var f TxFlags
	switch iin {
	case TriYes:
		f |= TxIINProvided
	case TriNo:
		f |= TxIINMissing
	}
	switch app {
	case TriYes:
		f |= TxAppConfirmed
	case TriNo:
		f |= TxAppNotConfirmed
	}
	return f
}

func p2pFlag(ok bool) TxFlags {
	if ok {
		return TxP2PText
	}
	return 0
}

// looksP2PBytes is LooksP2P for a borrowed reference: it lower-cases into a
// stack buffer (falling back to the heap for long references) so the common
// case allocates nothing.
func looksP2PBytes(ref []byte) bool {
	if len(ref) == 0 {
		return false
	}
	var arr [256]byte
	s := arr[:0]
	for i := 0; i < len(ref); {
		c := ref[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			s = append(s, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(ref[i:])
		s = utf8.AppendRune(s, unicode.ToLower(r))
		i += n
	}
	for _, w := range p2pWords {
		if bytes.Contains(s, []byte(w)) {
			return true
		}
	}
	return orderNumberBytes(s, "order") || orderNumberBytes(s, "ордер")
}

func orderNumberBytes(s []byte, word string) bool {
	for {
		i := bytes.Index(s, []byte(word))
		if i < 0 {
			return false
		}
		s = s[i+len(word):]
		rest := bytes.TrimLeft(s, " #:-_№")
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n >= 4 {
			return true
		}
	}
}
