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
// adjacency in the heap. The builder may be discarded afterwards; reusing it
// is not supported. BuildFile lays out the same arrays in a graph index file.
func (b *IndexBuilder) Build() *Index {
	p := b.plan()
	a := indexArrays{
		kinds: make([]Kind, p.n), keyOff: make([]uint32, p.n+1), keys: make([]byte, p.keyLen),
		nameOff: make([]uint32, p.n+1), names: make([]byte, p.nameLen), stub: make([]uint64, (p.n+63)/64),
		txIDOff: make([]uint32, p.m+1), txIDs: make([]byte, len(b.txIDs)), txFrom: make([]NodeID, p.m),
		txOutPos: make([]uint32, p.m), txFlags: make([]TxFlags, p.m),
		txATM: make([]NodeID, p.m), txDev: make([]NodeID, p.m), txIP: make([]NodeID, p.m),
		outOff: make([]uint32, p.n+1), out: make([]TxEdge, p.m), inOff: make([]uint32, p.n+1), in: make([]TxEdge, p.m),
		linkOff: make([]uint32, p.n+1), links: make([]LinkEdge, 2*len(p.links)),
	}
	b.fill(p, &a)
	ix := &Index{
		kinds: a.kinds, keyOff: a.keyOff, keys: heapString(a.keys), nameOff: a.nameOff, names: heapString(a.names),
		stub: a.stub, props: p.props,
		outOff: a.outOff, inOff: a.inOff, out: a.out, in: a.in, linkOff: a.linkOff, links: a.links,
		txIDOff: a.txIDOff, txIDs: heapString(a.txIDs), txFrom: a.txFrom, txOutPos: a.txOutPos, txFlags: a.txFlags,
		txATM: a.txATM, txDev: a.txDev, txIP: a.txIP,
		curs: p.curs, txZone: p.txZone,
	}
	ix.buildZones(p.zoneNames)
	ix.computeTimeUnit()
	return ix
}

// heapString returns b as a string without copying; b must not change
// afterwards.
func heapString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// buildPlan is what Build decides before it lays out any array: the nodes'
// numbering, the transactions' order, their zones, the properties and links
// that remain, and so the size of every array.
type buildPlan struct {
	n, m            int
	order           []NodeID // old ids in Ref order
	newID           []NodeID // rank of each old id
	keyLen, nameLen int
	props           []indexProp // by node, then slot; the last value added wins
	perm            []uint32    // old transaction numbers in their new order
	zoneNames       []string
	txZone          []uint8       // by new transaction number; nil when all are in zone 0
	links           []builderLink // remapped, sorted, without duplicates
	curs            []string
	ctx             context.Context // BuildFile's, checked while filling; nil for Build
}

// stopped reports whether BuildFile's context is done: fill then stops
// early, leaving arrays its caller discards.
func (p *buildPlan) stopped() bool { return p.ctx != nil && p.ctx.Err() != nil }

// stopEvery is how many transactions fill lays out between two looks at
// the context.
const stopEvery = 1 << 20

func (p *buildPlan) remap(id NodeID) NodeID {
	if id == NoNode {
		return NoNode
	}
	return p.newID[id]
}

// indexArrays are the arrays Build fills: the Index's own in the heap, or
// sections of a graph index file (BuildFile). Every one is zero on entry and
// of its final length.
type indexArrays struct {
	kinds              []Kind
	keyOff, nameOff    []uint32
	keys, names        []byte
	stub               []uint64
	txIDOff            []uint32
	txIDs              []byte
	txFrom             []NodeID
	txOutPos           []uint32
	txFlags            []TxFlags
	txATM, txDev, txIP []NodeID
	outOff, inOff      []uint32
	out, in            []TxEdge
	linkOff            []uint32
	links              []LinkEdge
}

// plan numbers the nodes in Ref order, sorts the properties, the
// transactions and the links, and names the zones.
func (b *IndexBuilder) plan() *buildPlan {
	n := len(b.refs)
	p := &buildPlan{n: n, m: len(b.txIDEnd)}
	p.order = make([]NodeID, n)
	for i := range p.order {
		p.order[i] = NodeID(i)
	}
	slices.SortFunc(p.order, func(x, y NodeID) int {
		rx, ry := b.refs[x], b.refs[y]
		if c := cmp.Compare(rx.Kind, ry.Kind); c != 0 {
			return c
		}
		return strings.Compare(rx.Key, ry.Key)
	})
	p.newID = make([]NodeID, n)
	for rank, old := range p.order {
		p.newID[old] = NodeID(rank)
	}
	b.ids = [kindCount + 1]map[string]NodeID{}
	for i, r := range b.refs {
		p.keyLen += len(r.Key)
		p.nameLen += len(b.names[i])
	}

	// Properties: the last value added for a (node, key) wins.
	props := make([]indexProp, len(b.props))
	for i, pr := range b.props {
		props[i] = indexProp{node: p.newID[pr.node], slot: pr.slot, val: pr.val}
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
		p.props = append(p.props, props[i])
	}
	b.props = nil

	b.planTxns(p)
	p.links = b.links
	for i := range p.links {
		p.links[i].from, p.links[i].to = p.remap(p.links[i].from), p.remap(p.links[i].to)
	}
	slices.SortFunc(p.links, func(x, y builderLink) int {
		if c := cmp.Compare(x.from, y.from); c != 0 {
			return c
		}
		if c := cmp.Compare(x.typ, y.typ); c != 0 {
			return c
		}
		return cmp.Compare(x.to, y.to)
	})
	p.links = slices.Compact(p.links)
	b.links = nil
	p.curs = b.curs.codes
	if len(p.curs) == 0 {
		p.curs = []string{"KZT"}
	}
	return p
}

func (b *IndexBuilder) txID(i uint32) []byte {
	start := uint32(0)
	if i > 0 {
		start = b.txIDEnd[i-1]
	}
	return b.txIDs[start:b.txIDEnd[i]]
}

// planTxns remaps the transactions' endpoints and orders them.
func (b *IndexBuilder) planTxns(p *buildPlan) {
	for i := range p.m {
		b.txFrom[i], b.txTo[i] = p.remap(b.txFrom[i]), p.remap(b.txTo[i])
	}
	// Transactions in (time, id) order, ties broken by the endpoints and the
	// amount so equal inputs give equal indexes whatever order they came in.
	p.perm = make([]uint32, p.m)
	for i := range p.perm {
		p.perm[i] = uint32(i)
	}
	b.sortTxns(p.perm)
	p.zoneNames, p.txZone = b.txZones(p.perm)
	if p.m == 0 {
		p.txZone = nil
	}
}

// sortTxns orders perm, the transactions' indexes, by time, then id, then
// endpoints and amount. The times are sorted as packed integers, (time -
// earliest) << 32 | index, which keeps the comparisons in one array rather
// than in four columns at random; only runs of equal times (date-only data)
// are then ordered by the rest. On the large demo that took the sort from
// 5.7 s to 1.8 s of CPU (docs/PERFORMANCE.md).
func (b *IndexBuilder) sortTxns(perm []uint32) {
	m := len(perm)
	if m < 2 {
		return
	}
	lo, hi := slices.Min(b.txTime[:m]), slices.Max(b.txTime[:m])
	if span := uint64(hi) - uint64(lo); hi-lo < 0 || span >= 1<<32 {
		// Times more than 136 years apart (or an overflowing span).
		slices.SortFunc(perm, b.compareTxns)
		return
	}
	keys := make([]uint64, m)
	for i := range keys {
		keys[i] = uint64(b.txTime[i]-lo)<<32 | uint64(i)
	}
	slices.Sort(keys)
	for i, k := range keys {
		perm[i] = uint32(k)
	}
	for i := 0; i < m; {
		j := i + 1
		for j < m && keys[j]>>32 == keys[i]>>32 {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(perm[i:j], b.compareTxns)
		}
		i = j
	}
}

// compareTxns orders transactions x and y by time, id, endpoints and amount.
func (b *IndexBuilder) compareTxns(x, y uint32) int {
	if c := cmp.Compare(b.txTime[x], b.txTime[y]); c != 0 {
		return c
	}
	if c := bytes.Compare(b.txID(x), b.txID(y)); c != 0 {
		return c
	}
	if c := cmp.Compare(b.txFrom[x], b.txFrom[y]); c != 0 {
		return c
	}
	if c := cmp.Compare(b.txTo[x], b.txTo[y]); c != 0 {
		return c
	}
	return cmp.Compare(b.txAmount[x], b.txAmount[y])
}

// fill lays out the plan into a, dropping the builder's columns as it goes.
func (b *IndexBuilder) fill(p *buildPlan, a *indexArrays) {
	ko, no := 0, 0
	for rank, old := range p.order {
		a.kinds[rank] = b.refs[old].Kind
		ko += copy(a.keys[ko:], b.refs[old].Key)
		no += copy(a.names[no:], b.names[old])
		a.keyOff[rank+1] = uint32(ko)
		a.nameOff[rank+1] = uint32(no)
		if !b.full[old] {
			a.stub[rank/64] |= 1 << (rank % 64)
		}
	}
	b.refs, b.names, b.full = nil, nil, nil
	b.fillTxns(p, a)
	if p.stopped() {
		return
	}
	fillLinks(p, a)
}

func (b *IndexBuilder) fillTxns(p *buildPlan, a *indexArrays) {
	n := p.n
	ko := 0
	for i, old := range p.perm {
		if i%stopEvery == 0 && p.stopped() {
			return
		}
		ko += copy(a.txIDs[ko:], b.txID(old))
		a.txIDOff[i+1] = uint32(ko)
		a.txFrom[i] = b.txFrom[old]
		a.txFlags[i] = b.txFlags[old] | b.batchDateOnly(b.txBatch[old])
		a.txATM[i] = p.remap(b.txATM[old])
		a.txDev[i] = p.remap(b.txDev[old])
		a.txIP[i] = p.remap(b.txIP[old])
		a.outOff[b.txFrom[old]+1]++
		a.inOff[b.txTo[old]+1]++
	}
	b.txIDs, b.txIDEnd, b.txFlags, b.txATM, b.txDev, b.txIP, b.txBatch = nil, nil, nil, nil, nil, nil, nil
	for v := range n {
		a.outOff[v+1] += a.outOff[v]
		a.inOff[v+1] += a.inOff[v]
	}
	// Filling in transaction order leaves every node's edges sorted by time,
	// then transaction index, with no per-node sort. Edges are written field
	// by field: a file's padding stays as it was, zero.
	outNext := slices.Clone(a.outOff[:n])
	inNext := slices.Clone(a.inOff[:n])
	for i, old := range p.perm {
		if i%stopEvery == 0 && p.stopped() {
			return
		}
		from, dst := b.txFrom[old], b.txTo[old]
		q := outNext[from]
		outNext[from]++
		e := &a.out[q]
		e.Tx, e.Other, e.Time, e.Amount, e.Channel, e.Cur = uint32(i), dst, b.txTime[old], b.txAmount[old], b.txChan[old], b.txCur[old]
		a.txOutPos[i] = q
		f := &a.in[inNext[dst]]
		inNext[dst]++
		f.Tx, f.Other, f.Time, f.Amount, f.Channel, f.Cur = uint32(i), from, e.Time, e.Amount, e.Channel, e.Cur
	}
	b.txTime, b.txAmount, b.txFrom, b.txTo, b.txChan, b.txCur = nil, nil, nil, nil, nil, nil
	p.perm = nil
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

func fillLinks(p *buildPlan, a *indexArrays) {
	n := p.n
	for _, l := range p.links {
		a.linkOff[l.from+1]++
		a.linkOff[l.to+1]++
	}
	for v := range n {
		a.linkOff[v+1] += a.linkOff[v]
	}
	next := slices.Clone(a.linkOff[:n])
	for _, l := range p.links {
		e := &a.links[next[l.from]]
		e.Other, e.Type, e.Out = l.to, l.typ, true
		next[l.from]++
		e = &a.links[next[l.to]]
		e.Other, e.Type, e.Out = l.from, l.typ, false
		next[l.to]++
	}
	for v := range n {
		slices.SortFunc(a.links[a.linkOff[v]:a.linkOff[v+1]], compareLinkEdge)
	}
	p.links = nil
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
