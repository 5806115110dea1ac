package graph

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unsafe"
)

// NodeID is a dense integer id of an entity inside one Index. Ids are
// assigned in Ref order (kind, then key), so sorting by NodeID is sorting by
// Ref and two indexes built from the same data number nodes alike. Ids are
// not stable across rebuilds with different data: persist Refs, never NodeIDs.
type NodeID uint32

// NoNode is the NodeID that names no node (a transaction without a device).
const NoNode NodeID = ^NodeID(0)

// TxFlags is a bit set of facts about one transaction that rules test often.
type TxFlags uint8

// Transaction flags.
const (
	TxIINProvided     TxFlags = 1 << iota // the sender's IIN was given (iin_provided yes)
	TxIINMissing                          // the sender's IIN was explicitly absent (iin_provided no)
	TxAppConfirmed                        // confirmed in the banking app
	TxAppNotConfirmed                     // explicitly not confirmed in the app
	TxP2PText                             // the reference looks like a P2P / crypto payment (USDT, P2P, Binance, Bybit, order no.)
	TxDateOnly                            // the source gave a date and no clock time (a date-only row, a batch of dates or day steps)
)

// Has reports whether every bit of g is set in f.
func (f TxFlags) Has(g TxFlags) bool { return f&g == g }

// TxEdge is one transaction seen from one of its endpoints: Other is the
// counterparty (the receiver in OutTx, the sender in InTx).
type TxEdge struct {
	Tx      uint32 // transaction index, for the Tx* accessors
	Other   NodeID
	Time    int64 // unix seconds, UTC
	Amount  int64 // minor units of the transaction's currency
	Channel Channel
	Cur     uint8 // currency: Index.Currency(Cur) is its ISO code
}

// LinkEdge is one non-monetary link seen from one of its endpoints. Out is
// set when the viewed node is the link's source (it holds, uses, is a member of).
type LinkEdge struct {
	Other NodeID
	Type  LinkType
	Out   bool
}

// IndexSource streams every entity (full and stub, each reference once), link
// (once, forward) and transaction (once) of a case. store.DB implements it.
type IndexSource interface {
	ScanAll(ctx context.Context, fe func(Entity) error, fl func(Link) error, ft func(Txn) error) error
}

// BuildIndex reads everything src holds into a new Index.
// When src also reports its Stats, the batches they list give the
// transactions' time zones and resolutions (AddBatch).
func BuildIndex(ctx context.Context, src IndexSource) (*Index, error) {
	b := NewIndexBuilder()
	if s, ok := src.(interface {
		Stats(context.Context) (Stats, error)
	}); ok {
		if st, err := s.Stats(ctx); err == nil {
			for _, bt := range st.Batches {
				b.AddBatch(bt)
			}
		}
	}
	err := src.ScanAll(ctx,
		func(e Entity) error { b.AddEntity(e); return nil },
		func(l Link) error { b.AddLink(l); return nil },
		func(t Txn) error { b.AddTxn(t); return nil })
	if err != nil {
		return nil, fmt.Errorf("build graph index: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("build graph index: %w", err)
	}
	return b.Build(), nil
}

// Property keys the index keeps (every other property stays in the store).
const (
	PropAFSALicence = "afsa_licence"
	PropBank        = "bank"
	PropIssued      = "issued"
	PropListStatus  = "list_status" // grey, black or sanctioned: set by watch-list imports
)

var keptProps = [...]string{PropAFSALicence, PropBank, PropIssued, PropListStatus}

func propSlot(key string) (uint8, bool) {
	for i, k := range keptProps {
		if k == key {
			return uint8(i), true
		}
	}
	return 0, false
}

type builderProp struct {
	node NodeID
	slot uint8
	val  string
}

type builderLink struct {
	from, to NodeID
	typ      LinkType
}

// IndexBuilder collects entities, links and transactions in any order and
// builds an Index. References seen only in links or transactions become stub
// nodes. It is not safe for concurrent use.
type IndexBuilder struct {
	ids    [kindCount + 1]map[string]NodeID // by kind; the last slot holds kinds out of range
	last   Ref                              // the last reference interned, and its id: a store scan
	lastID NodeID                           // meets one sender's transactions in a row
	refs   []Ref
	names  []string
	full   []bool // a full (non-stub) entity was added
	props  []builderProp
	links  []builderLink

	txIDs              []byte   // the ids of all transactions, concatenated
	txIDEnd            []uint32 // where transaction i's id ends in txIDs
	txTime, txAmount   []int64
	txFrom, txTo       []NodeID
	txChan             []Channel
	txFlags            []TxFlags
	txATM, txDev, txIP []NodeID
	txCur              []uint8
	txBatch            []uint32
	curs               currencyTable
	batches            map[uint32]Batch
}

// NewIndexBuilder returns an empty builder.
func NewIndexBuilder() *IndexBuilder {
	b := &IndexBuilder{lastID: NoNode}
	for i := range b.ids {
		b.ids[i] = make(map[string]NodeID)
	}
	return b
}

func (b *IndexBuilder) intern(r Ref) NodeID {
	if b.lastID != NoNode && r == b.last {
		return b.lastID
	}
	m := b.ids[min(int(r.Kind), int(kindCount))]
	id, ok := m[r.Key]
	if !ok {
		id = b.add(r)
		m[r.Key] = id
	}
	b.last, b.lastID = r, id
	return id
}

func (b *IndexBuilder) add(r Ref) NodeID {
	id := NodeID(len(b.refs))
	b.refs = append(b.refs, r)
	b.names = append(b.names, "")
	b.full = append(b.full, false)
	return id
}

func (b *IndexBuilder) internOpt(k Kind, key string) NodeID {
	if key == "" {
		return NoNode
	}
	return b.intern(Ref{Kind: k, Key: key})
}

// AddEntity adds or completes a node. A full entity replaces what a stub of
// the same reference said; a stub never overrides a full entity. The index
// keeps the name, the stub flag and the properties afsa_licence, bank and issued.
func (b *IndexBuilder) AddEntity(e Entity) {
	id := b.intern(e.Ref)
	if e.Stub && b.full[id] {
		return
	}
	if !e.Stub {
		b.full[id] = true
	}
	if e.Name != "" || !e.Stub {
		b.names[id] = e.Name
	}
	for _, k := range keptProps {
		if v, ok := e.Props[k]; ok {
			slot, _ := propSlot(k)
			b.props = append(b.props, builderProp{node: id, slot: slot, val: v})
		}
	}
}

// AddLink adds a non-monetary link; duplicates collapse in Build.
func (b *IndexBuilder) AddLink(l Link) {
	b.links = append(b.links, builderLink{from: b.intern(l.From), to: b.intern(l.To), typ: l.Type})
}

// AddBatch tells the builder about an import batch: its transactions
// (Txn.Src.Batch) are read in the batch's time zone, and all of them are
// date-only when the batch resolves days or coarser steps. Batches may be
// added before or after their transactions; a transaction of a batch never
// added is read as Asia/Almaty time with the resolution its own row gives.
func (b *IndexBuilder) AddBatch(bt Batch) {
	if b.batches == nil {
		b.batches = make(map[uint32]Batch)
	}
	b.batches[bt.ID] = bt
}

// AddTxn adds a transaction. Its ATM, device and IP become nodes of kind
// atm, device and ip.
func (b *IndexBuilder) AddTxn(t Txn) {
	b.txCur = append(b.txCur, b.curs.intern(t.Currency))
	b.txBatch = append(b.txBatch, t.Src.Batch)
	b.addTxID(t.ID)
	b.txTime = append(b.txTime, t.Time.Unix())
	b.txAmount = append(b.txAmount, t.Amount)
	b.txFrom = append(b.txFrom, b.intern(t.From))
	b.txTo = append(b.txTo, b.intern(t.To))
	b.txChan = append(b.txChan, t.Channel)
	b.txFlags = append(b.txFlags, txnFlags(t))
	b.txATM = append(b.txATM, b.internOpt(KindATM, t.ATM))
	b.txDev = append(b.txDev, b.internOpt(KindDevice, t.Device))
	b.txIP = append(b.txIP, b.internOpt(KindIP, t.IP))
}

func txnFlags(t Txn) TxFlags {
	var f TxFlags
	switch t.IINProvided {
	case TriYes:
		f |= TxIINProvided
	case TriNo:
		f |= TxIINMissing
	}
	switch t.AppConfirmed {
	case TriYes:
		f |= TxAppConfirmed
	case TriNo:
		f |= TxAppNotConfirmed
	}
	if LooksP2P(t.Reference) {
		f |= TxP2PText
	}
	if t.DateOnly {
		f |= TxDateOnly
	}
	return f
}

// p2pWords are lower-case fragments of payment references that point at P2P
// crypto trading.
var p2pWords = []string{"usdt", "p2p", "binance", "bybit", "okx", "garantex", "tether", "крипт"}

// LooksP2P reports whether a payment reference reads like a P2P or crypto
// payment: it names USDT, P2P, Binance, Bybit and the like, or an order
// number ("order 123456", "ордер №123456", "order#98765").
func LooksP2P(ref string) bool {
	if ref == "" {
		return false
	}
	s := strings.ToLower(ref)
	for _, w := range p2pWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return orderNumber(s, "order") || orderNumber(s, "ордер")
}

// orderNumber reports whether word occurs in s followed, after optional
// spaces and one of "#№:-_", by at least four digits.
func orderNumber(s, word string) bool {
	for {
		i := strings.Index(s, word)
		if i < 0 {
			return false
		}
		s = s[i+len(word):]
		rest := strings.TrimLeft(s, " #:-_№")
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n >= 4 {
			return true
		}
	}
}

// Index is a compact, read-only, in-memory graph: nodes numbered densely in
// Ref order, transactions in (time, id) order, and CSR adjacency (offsets into
// flat edge arrays) for outgoing money, incoming money and links. Every
// node's transaction edges are sorted by time, then transaction index. An
// Index is safe for concurrent readers.
type Index struct {
	kinds   []Kind
	keyOff  []uint32 // len n+1, into keys
	keys    string
	nameOff []uint32 // len n+1, into names
	names   string
	stub    []uint64 // bit set
	props   []indexProp

	outOff, inOff []uint32 // len n+1
	out, in       []TxEdge
	linkOff       []uint32 // len n+1
	links         []LinkEdge

	txIDOff            []uint32 // len m+1, into txIDs
	txIDs              string
	txFrom             []NodeID
	txOutPos           []uint32 // position of transaction i in out
	txFlags            []TxFlags
	txATM, txDev, txIP []NodeID

	curs     []string // currency codes; TxEdge.Cur indexes it
	zones    []zone   // wall clocks of the sources; txZone indexes it
	txZone   []uint8  // nil when every transaction is in zones[0]
	timeUnit int64    // see TimeUnit
}

type indexProp struct {
	node NodeID
	slot uint8
	val  string
}

// Build numbers the nodes, sorts the transactions and lays out the
// adjacency. The builder may be discarded afterwards; reusing it is not
// supported.
func (b *IndexBuilder) Build() *Index {
	n := len(b.refs)
	ix := &Index{}

	// Number nodes in Ref order.
	order := make([]NodeID, n)
	for i := range order {
		order[i] = NodeID(i)
	}
	slices.SortFunc(order, func(x, y NodeID) int {
		rx, ry := b.refs[x], b.refs[y]
		if c := cmp.Compare(rx.Kind, ry.Kind); c != 0 {
			return c
		}
		return strings.Compare(rx.Key, ry.Key)
	})
	newID := make([]NodeID, n)
	for rank, old := range order {
		newID[old] = NodeID(rank)
	}
	b.ids = [kindCount + 1]map[string]NodeID{}
	remap := func(id NodeID) NodeID {
		if id == NoNode {
			return NoNode
		}
		return newID[id]
	}

	ix.kinds = make([]Kind, n)
	ix.keyOff = make([]uint32, n+1)
	ix.nameOff = make([]uint32, n+1)
	ix.stub = make([]uint64, (n+63)/64)
	var keys, names strings.Builder
	keyLen, nameLen := 0, 0
	for i, r := range b.refs {
		keyLen += len(r.Key)
		nameLen += len(b.names[i])
	}
	keys.Grow(keyLen)
	names.Grow(nameLen)
	for rank, old := range order {
		r := b.refs[old]
		ix.kinds[rank] = r.Kind
		keys.WriteString(r.Key)
		names.WriteString(b.names[old])
		ix.keyOff[rank+1] = uint32(keys.Len())
		ix.nameOff[rank+1] = uint32(names.Len())
		if !b.full[old] {
			ix.stub[rank/64] |= 1 << (rank % 64)
		}
	}
	ix.keys, ix.names = keys.String(), names.String()
	b.refs, b.names, b.full = nil, nil, nil

	// Properties: the last value added for a (node, key) wins.
	props := make([]indexProp, len(b.props))
	for i, p := range b.props {
		props[i] = indexProp{node: newID[p.node], slot: p.slot, val: p.val}
	}
	slices.SortStableFunc(props, func(x, y indexProp) int {
		if c := cmp.Compare(x.node, y.node); c != 0 {
			return c
		}
		return cmp.Compare(x.slot, y.slot)
	})
	for i := 0; i < len(props); i++ {
		if i+1 < len(props) && props[i+1].node == props[i].node && props[i+1].slot == props[i].slot {
			continue
		}
		ix.props = append(ix.props, props[i])
	}
	b.props = nil

	ix.buildTxns(b, remap)
	ix.buildLinks(b, n, remap)
	return ix
}

func (ix *Index) buildTxns(b *IndexBuilder, remap func(NodeID) NodeID) {
	n := len(ix.kinds)
	m := len(b.txIDEnd)
	txID := func(i uint32) []byte {
		start := uint32(0)
		if i > 0 {
			start = b.txIDEnd[i-1]
		}
		return b.txIDs[start:b.txIDEnd[i]]
	}
	for i := range m {
		b.txFrom[i], b.txTo[i] = remap(b.txFrom[i]), remap(b.txTo[i])
	}
	// Transactions in (time, id) order, ties broken by the endpoints and the
	// amount so equal inputs give equal indexes whatever order they came in.
	perm := make([]uint32, m)
	for i := range perm {
		perm[i] = uint32(i)
	}
	slices.SortFunc(perm, func(x, y uint32) int {
		if c := cmp.Compare(b.txTime[x], b.txTime[y]); c != 0 {
			return c
		}
		if c := bytes.Compare(txID(x), txID(y)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.txFrom[x], b.txFrom[y]); c != 0 {
			return c
		}
		if c := cmp.Compare(b.txTo[x], b.txTo[y]); c != 0 {
			return c
		}
		return cmp.Compare(b.txAmount[x], b.txAmount[y])
	})

	ix.txIDOff = make([]uint32, m+1)
	ix.txFrom = make([]NodeID, m)
	ix.txOutPos = make([]uint32, m)
	ix.txFlags = make([]TxFlags, m)
	ix.txATM = make([]NodeID, m)
	ix.txDev = make([]NodeID, m)
	ix.txIP = make([]NodeID, m)
	zoneNames, txZone := b.txZones(perm)
	ix.txZone = txZone
	ix.outOff = make([]uint32, n+1)
	ix.inOff = make([]uint32, n+1)
	to := make([]NodeID, m)
	ids := make([]byte, 0, len(b.txIDs))
	for i, old := range perm {
		ids = append(ids, txID(old)...)
		ix.txIDOff[i+1] = uint32(len(ids))
		ix.txFrom[i] = b.txFrom[old]
		to[i] = b.txTo[old]
		ix.txFlags[i] = b.txFlags[old] | b.batchDateOnly(b.txBatch[old])
		ix.txATM[i] = remap(b.txATM[old])
		ix.txDev[i] = remap(b.txDev[old])
		ix.txIP[i] = remap(b.txIP[old])
		ix.outOff[ix.txFrom[i]+1]++
		ix.inOff[to[i]+1]++
	}
	ix.txIDs = string(ids)
	b.txIDs, b.txIDEnd = nil, nil
	for v := range n {
		ix.outOff[v+1] += ix.outOff[v]
		ix.inOff[v+1] += ix.inOff[v]
	}
	// Filling in transaction order leaves every node's edges sorted by time,
	// then transaction index, with no per-node sort.
	ix.out = make([]TxEdge, m)
	ix.in = make([]TxEdge, m)
	outNext := slices.Clone(ix.outOff[:n])
	inNext := slices.Clone(ix.inOff[:n])
	for i, old := range perm {
		from, dst := ix.txFrom[i], to[i]
		e := TxEdge{Tx: uint32(i), Other: dst, Time: b.txTime[old], Amount: b.txAmount[old], Channel: b.txChan[old], Cur: b.txCur[old]}
		p := outNext[from]
		outNext[from]++
		ix.out[p] = e
		ix.txOutPos[i] = p
		e.Other = from
		ix.in[inNext[dst]] = e
		inNext[dst]++
	}
	b.txTime, b.txAmount, b.txFrom, b.txTo, b.txChan, b.txFlags = nil, nil, nil, nil, nil, nil
	b.txATM, b.txDev, b.txIP, b.txCur, b.txBatch = nil, nil, nil, nil, nil
	ix.curs = b.curs.codes
	if len(ix.curs) == 0 {
		ix.curs = []string{"KZT"}
	}
	ix.buildZones(zoneNames)
	ix.computeTimeUnit()
}

// batchDateOnly returns TxDateOnly for the transactions of a batch that
// resolves whole days or coarser steps.
func (b *IndexBuilder) batchDateOnly(batch uint32) TxFlags {
	if bt, ok := b.batches[batch]; ok && bt.TimeUnit >= 86400 {
		return TxDateOnly
	}
	return 0
}

// txZones names the zones of the transactions (in their new order perm)
// and numbers each transaction's zone; the numbers are nil when there is
// only one zone.
func (b *IndexBuilder) txZones(perm []uint32) ([]string, []uint8) {
	names := []string{}
	idx := map[string]uint8{}
	byBatch := map[uint32]uint8{}
	var txZone []uint8
	for i, old := range perm {
		bid := b.txBatch[old]
		z, ok := byBatch[bid]
		if !ok {
			name := b.batches[bid].TimeZone
			if name == "" {
				name = DefaultTimeZone
			}
			if z, ok = idx[name]; !ok {
				if len(names) == 255 {
					name = names[0] // beyond 255 zones, the first stands in
				}
				z = uint8(len(names))
				if j, ok := idx[name]; ok {
					z = j
				} else {
					names = append(names, name)
					idx[name] = z
				}
			}
			byBatch[bid] = z
		}
		if z != 0 && txZone == nil {
			txZone = make([]uint8, len(perm))
		}
		if txZone != nil {
			txZone[i] = z
		}
	}
	return names, txZone
}

func (ix *Index) buildLinks(b *IndexBuilder, n int, remap func(NodeID) NodeID) {
	links := b.links
	for i := range links {
		links[i].from, links[i].to = remap(links[i].from), remap(links[i].to)
	}
	slices.SortFunc(links, func(x, y builderLink) int {
		if c := cmp.Compare(x.from, y.from); c != 0 {
			return c
		}
		if c := cmp.Compare(x.typ, y.typ); c != 0 {
			return c
		}
		return cmp.Compare(x.to, y.to)
	})
	links = slices.Compact(links)
	ix.linkOff = make([]uint32, n+1)
	for _, l := range links {
		ix.linkOff[l.from+1]++
		ix.linkOff[l.to+1]++
	}
	for v := range n {
		ix.linkOff[v+1] += ix.linkOff[v]
	}
	ix.links = make([]LinkEdge, ix.linkOff[n])
	next := slices.Clone(ix.linkOff[:n])
	for _, l := range links {
		ix.links[next[l.from]] = LinkEdge{Other: l.to, Type: l.typ, Out: true}
		next[l.from]++
		ix.links[next[l.to]] = LinkEdge{Other: l.from, Type: l.typ, Out: false}
		next[l.to]++
	}
	for v := range n {
		slices.SortFunc(ix.links[ix.linkOff[v]:ix.linkOff[v+1]], compareLinkEdge)
	}
	b.links = nil
}

func compareLinkEdge(x, y LinkEdge) int {
	if c := cmp.Compare(x.Type, y.Type); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Other, y.Other); c != 0 {
		return c
	}
	switch {
	case x.Out == y.Out:
		return 0
	case x.Out:
		return -1
	default:
		return 1
	}
}

// Len returns the number of nodes.
func (ix *Index) Len() int { return len(ix.kinds) }

// Ref returns the reference of a node.
func (ix *Index) Ref(id NodeID) Ref {
	return Ref{Kind: ix.kinds[id], Key: ix.keys[ix.keyOff[id]:ix.keyOff[id+1]]}
}

// Lookup returns the node of a reference.
func (ix *Index) Lookup(r Ref) (NodeID, bool) {
	lo, hi := 0, len(ix.kinds)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ix.compareRef(NodeID(mid), r) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(ix.kinds) && ix.compareRef(NodeID(lo), r) == 0 {
		return NodeID(lo), true
	}
	return NoNode, false
}

func (ix *Index) compareRef(id NodeID, r Ref) int {
	if c := cmp.Compare(ix.kinds[id], r.Kind); c != 0 {
		return c
	}
	return strings.Compare(ix.keys[ix.keyOff[id]:ix.keyOff[id+1]], r.Key)
}

// Name returns the display name of a node ("" for most instruments).
func (ix *Index) Name(id NodeID) string { return ix.names[ix.nameOff[id]:ix.nameOff[id+1]] }

// Kind returns the kind of a node.
func (ix *Index) Kind(id NodeID) Kind { return ix.kinds[id] }

// Stub reports whether the node was only referenced, never imported as an entity.
func (ix *Index) Stub(id NodeID) bool { return ix.stub[id/64]&(1<<(id%64)) != 0 }

// Prop returns one of the kept properties (afsa_licence, bank, issued) of a
// node, or "" when the node lacks it or the key is not kept.
func (ix *Index) Prop(id NodeID, key string) string {
	slot, ok := propSlot(key)
	if !ok {
		return ""
	}
	i, found := slices.BinarySearchFunc(ix.props, indexProp{node: id, slot: slot}, func(x, y indexProp) int {
		if c := cmp.Compare(x.node, y.node); c != 0 {
			return c
		}
		return cmp.Compare(x.slot, y.slot)
	})
	if !found {
		return ""
	}
	return ix.props[i].val
}

// OutTx returns the transactions a node sent, by time then index. The slice
// is shared: do not modify it.
func (ix *Index) OutTx(id NodeID) []TxEdge { return ix.out[ix.outOff[id]:ix.outOff[id+1]] }

// InTx returns the transactions a node received, by time then index. The
// slice is shared: do not modify it.
func (ix *Index) InTx(id NodeID) []TxEdge { return ix.in[ix.inOff[id]:ix.inOff[id+1]] }

// Links returns the links of a node in both directions, by type, then other
// node. The slice is shared: do not modify it.
func (ix *Index) Links(id NodeID) []LinkEdge { return ix.links[ix.linkOff[id]:ix.linkOff[id+1]] }

// TxCount returns the number of transactions.
func (ix *Index) TxCount() int { return len(ix.txFrom) }

// TxID returns the id of transaction i.
func (ix *Index) TxID(i uint32) string { return ix.txIDs[ix.txIDOff[i]:ix.txIDOff[i+1]] }

// TxFrom returns the sender of transaction i.
func (ix *Index) TxFrom(i uint32) NodeID { return ix.txFrom[i] }

// TxTo returns the receiver of transaction i.
func (ix *Index) TxTo(i uint32) NodeID { return ix.out[ix.txOutPos[i]].Other }

// TxTime returns the time of transaction i in unix seconds.
func (ix *Index) TxTime(i uint32) int64 { return ix.out[ix.txOutPos[i]].Time }

// TxAmount returns the amount of transaction i in minor units.
func (ix *Index) TxAmount(i uint32) int64 { return ix.out[ix.txOutPos[i]].Amount }

// TxChannel returns the channel of transaction i.
func (ix *Index) TxChannel(i uint32) Channel { return ix.out[ix.txOutPos[i]].Channel }

// TxFlags returns the flags of transaction i.
func (ix *Index) TxFlags(i uint32) TxFlags { return ix.txFlags[i] }

// TxDevice returns the device node of transaction i, if it named one.
func (ix *Index) TxDevice(i uint32) (NodeID, bool) { return ix.txDev[i], ix.txDev[i] != NoNode }

// TxIP returns the IP node of transaction i, if it named one.
func (ix *Index) TxIP(i uint32) (NodeID, bool) { return ix.txIP[i], ix.txIP[i] != NoNode }

// TxATM returns the ATM node of transaction i, if it named one.
func (ix *Index) TxATM(i uint32) (NodeID, bool) { return ix.txATM[i], ix.txATM[i] != NoNode }

// LookupTx returns the index of the transaction with the given id. It scans
// all transactions (ids are not indexed, to save memory): use it for a user's
// single lookup, not in loops.
func (ix *Index) LookupTx(id string) (uint32, bool) {
	for i := range ix.txFrom {
		if ix.TxID(uint32(i)) == id {
			return uint32(i), true
		}
	}
	return 0, false
}

// Bytes estimates the memory the index holds, in bytes.
func (ix *Index) Bytes() int {
	const edge = int(unsafe.Sizeof(TxEdge{}))
	const link = int(unsafe.Sizeof(LinkEdge{}))
	const prop = int(unsafe.Sizeof(indexProp{}))
	n := len(ix.kinds) + 4*(len(ix.keyOff)+len(ix.nameOff)+len(ix.outOff)+len(ix.inOff)+len(ix.linkOff)) +
		len(ix.keys) + len(ix.names) + 8*len(ix.stub)
	for _, p := range ix.props {
		n += prop + len(p.val)
	}
	n += edge*(len(ix.out)+len(ix.in)) + link*len(ix.links)
	n += 4*len(ix.txIDOff) + len(ix.txIDs) + 4*(len(ix.txFrom)+len(ix.txOutPos)) + len(ix.txFlags) +
		4*(len(ix.txATM)+len(ix.txDev)+len(ix.txIP)) + len(ix.txZone)
	return n
}
