package graph

import (
	"cmp"
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

	// mapped: the fixed-width arrays and txIDs lie in a mapped graph index
	// file (index_file.go); TxID copies what it returns.
	mapped bool
	// fileStamp is the stamp of the data a mapped index file names (FileStamp).
	fileStamp [32]byte
}

type indexProp struct {
	node NodeID
	slot uint8
	val  string
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
func (ix *Index) TxID(i uint32) string {
	if ix.mapped {
		return strings.Clone(ix.txID(i))
	}
	return ix.txID(i)
}

// txID is TxID without the copy: the string may point into a mapped file.
func (ix *Index) txID(i uint32) string { return ix.txIDs[ix.txIDOff[i]:ix.txIDOff[i+1]] }

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
		if ix.txID(uint32(i)) == id {
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
