package graph

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

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
