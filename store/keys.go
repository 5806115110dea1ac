package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"casegraph/graph"
)

// Key prefixes. Every key starts with one of these bytes; docs/adr/0001-key-layout.md
// holds the table. The bytes are persisted: never renumber them.
const (
	pfxEntity  byte = 'e' // [e][ref][flag]                      → entity value
	pfxLinkOut byte = 'l' // [l][from ref][type][to ref]           → link value
	pfxLinkIn  byte = 'r' // [r][to ref][type][from ref]           → link value
	pfxTxn     byte = 't' // [t][owner ref][time][len][id][dir]    → txn value
	pfxTxnID   byte = 'i' // [i][len][id]                          → [channel][0][time][sender ref]
	pfxTxnAgg  byte = 'a' // [a][ref]                              → txn count, in, out
	pfxBatch   byte = 'b' // [b][id uint32]                        → batch (JSON)
	pfxHash    byte = 'h' // [h][len][sha256]                      → batch id uint32
	pfxMeta    byte = 'm' // [m][name]                             → meta value
	pfxDocs    byte = 'd' // [d][chunk uint32]                     → search-doc snapshot chunk
	// pfxNbr must sort after every other prefix: the bulk loader writes these
	// rows as a second StreamWriter stream, whose key range may not overlap the first.
	pfxNbr byte = 'x' // [x][owner ref][channel][dir][other ref] → count, amount, first, last
)

// Entity flags: the full record sorts before the stub of the same reference,
// so one prefix scan over [e][ref] meets the full record first.
const (
	flagFull byte = 0
	flagStub byte = 1
)

// Meta key names.
const (
	metaStats    = "stats"
	metaBatchSeq = "batchseq"
	metaDocs     = "docs"
	// metaStubProps is present once a stub with properties (a watch list's
	// mark on an entity the case did not hold) was written: only then does
	// an incremental import look for a stub under every full entity.
	metaStubProps = "stubprops"
)

// maxField is the longest variable-length field a key can carry (two-byte length).
const maxField = math.MaxUint16

var errShortKey = errors.New("key too short")

// appendField appends a two-byte big-endian length and the bytes of s.
func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// readField reads a length-prefixed field and returns it and the rest.
func readField(k []byte) (string, []byte, error) {
	if len(k) < 2 {
		return "", nil, errShortKey
	}
	n := int(binary.BigEndian.Uint16(k))
	if len(k) < 2+n {
		return "", nil, fmt.Errorf("field of %d bytes: %w", n, errShortKey)
	}
	return string(k[2 : 2+n]), k[2+n:], nil
}

// appendRef encodes a reference: [kind uint8][len uint16 BE][key].
func appendRef(b []byte, r graph.Ref) []byte {
	b = append(b, byte(r.Kind))
	return appendField(b, r.Key)
}

// readRef decodes a reference written by appendRef and returns the rest.
func readRef(k []byte) (graph.Ref, []byte, error) {
	if len(k) < 1 {
		return graph.Ref{}, nil, errShortKey
	}
	kind := graph.Kind(k[0])
	key, rest, err := readField(k[1:])
	if err != nil {
		return graph.Ref{}, nil, fmt.Errorf("reference: %w", err)
	}
	return graph.Ref{Kind: kind, Key: key}, rest, nil
}

func checkRef(r graph.Ref) error {
	if r.Kind == graph.KindUnknown || r.Key == "" {
		return fmt.Errorf("reference %q: kind and key are required", r.String())
	}
	if len(r.Key) > maxField {
		return fmt.Errorf("reference %.40q…: key longer than %d bytes", r.Key, maxField)
	}
	return nil
}

// encodeTime maps a time to a uint64 whose byte order is time order
// (the sign bit of UnixNano is flipped so times before 1970 sort first).
func encodeTime(t time.Time) uint64 { return uint64(t.UnixNano()) ^ (1 << 63) }

func decodeTime(u uint64) time.Time { return time.Unix(0, int64(u^(1<<63))).UTC() }

// refPrefix returns [pfx][ref]: the scan prefix of everything a reference owns
// under pfx.
func refPrefix(pfx byte, r graph.Ref) []byte {
	return appendRef(append(make([]byte, 0, 4+len(r.Key)), pfx), r)
}

// entityKey: [e][kind uint8][len uint16 BE][key][flag uint8]
func entityKey(r graph.Ref, stub bool) []byte {
	k := refPrefix(pfxEntity, r)
	if stub {
		return append(k, flagStub)
	}
	return append(k, flagFull)
}

func parseEntityKey(k []byte) (r graph.Ref, stub bool, err error) {
	if len(k) < 1 || k[0] != pfxEntity {
		return r, false, fmt.Errorf("entity key: wrong prefix")
	}
	r, rest, err := readRef(k[1:])
	if err != nil {
		return r, false, fmt.Errorf("entity key: %w", err)
	}
	if len(rest) != 1 || rest[0] > flagStub {
		return r, false, fmt.Errorf("entity key: bad flag")
	}
	return r, rest[0] == flagStub, nil
}

// linkKey: [l|r][owner ref][type uint8][other ref]. For pfxLinkOut the owner
// is the source of the link, for pfxLinkIn its target.
func linkKey(pfx byte, owner graph.Ref, typ graph.LinkType, other graph.Ref) []byte {
	k := make([]byte, 0, 8+len(owner.Key)+len(other.Key))
	k = appendRef(append(k, pfx), owner)
	k = append(k, byte(typ))
	return appendRef(k, other)
}

func parseLinkKey(k []byte) (pfx byte, owner graph.Ref, typ graph.LinkType, other graph.Ref, err error) {
	if len(k) < 1 || (k[0] != pfxLinkOut && k[0] != pfxLinkIn) {
		return 0, owner, 0, other, fmt.Errorf("link key: wrong prefix")
	}
	pfx = k[0]
	owner, rest, err := readRef(k[1:])
	if err != nil {
		return 0, owner, 0, other, fmt.Errorf("link key owner: %w", err)
	}
	if len(rest) < 1 {
		return 0, owner, 0, other, fmt.Errorf("link key type: %w", errShortKey)
	}
	typ = graph.LinkType(rest[0])
	other, rest, err = readRef(rest[1:])
	if err != nil {
		return 0, owner, 0, other, fmt.Errorf("link key other: %w", err)
	}
	if len(rest) != 0 {
		return 0, owner, 0, other, fmt.Errorf("link key: %d trailing bytes", len(rest))
	}
	return pfx, owner, typ, other, nil
}

// txnKey: [t][owner ref][time uint64 BE][len uint16 BE][id][dir uint8]. The
// same transaction is stored under both endpoints (dir DirOut under the sender,
// DirIn under the receiver), so an instrument's transactions in time order are
// one prefix scan. The direction byte keeps a self-transfer's two rows apart.
func txnKey(owner graph.Ref, at time.Time, id string, dir graph.Direction) []byte {
	return appendTxnKey(make([]byte, 0, 16+len(owner.Key)+len(id)), owner, at, id, dir)
}

// appendTxnKey appends txnKey's bytes to k.
func appendTxnKey(k []byte, owner graph.Ref, at time.Time, id string, dir graph.Direction) []byte {
	k = appendRef(append(k, pfxTxn), owner)
	k = binary.BigEndian.AppendUint64(k, encodeTime(at))
	k = appendField(k, id)
	return append(k, byte(dir))
}

func parseTxnKey(k []byte) (owner graph.Ref, at time.Time, id string, dir graph.Direction, err error) {
	if len(k) < 1 || k[0] != pfxTxn {
		return owner, at, "", 0, fmt.Errorf("transaction key: wrong prefix")
	}
	owner, rest, err := readRef(k[1:])
	if err != nil {
		return owner, at, "", 0, fmt.Errorf("transaction key owner: %w", err)
	}
	if len(rest) < 8 {
		return owner, at, "", 0, fmt.Errorf("transaction key time: %w", errShortKey)
	}
	at = decodeTime(binary.BigEndian.Uint64(rest))
	id, rest, err = readField(rest[8:])
	if err != nil {
		return owner, at, "", 0, fmt.Errorf("transaction key id: %w", err)
	}
	if len(rest) != 1 || (rest[0] != byte(graph.DirOut) && rest[0] != byte(graph.DirIn)) {
		return owner, at, "", 0, fmt.Errorf("transaction key: bad direction")
	}
	return owner, at, id, graph.Direction(rest[0]), nil
}

// txnIDKey: [i][len uint16 BE][id]
func txnIDKey(id string) []byte {
	return appendTxnIDKey(make([]byte, 0, 3+len(id)), id)
}

// appendTxnIDKey appends txnIDKey's bytes to k.
func appendTxnIDKey(k []byte, id string) []byte { return appendField(append(k, pfxTxnID), id) }

func parseTxnIDKey(k []byte) (string, error) {
	if len(k) < 1 || k[0] != pfxTxnID {
		return "", fmt.Errorf("transaction id key: wrong prefix")
	}
	id, rest, err := readField(k[1:])
	if err != nil {
		return "", fmt.Errorf("transaction id key: %w", err)
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("transaction id key: %d trailing bytes", len(rest))
	}
	return id, nil
}

// txnAggKey: [a][ref]
func txnAggKey(r graph.Ref) []byte { return refPrefix(pfxTxnAgg, r) }

func parseTxnAggKey(k []byte) (graph.Ref, error) {
	if len(k) < 1 || k[0] != pfxTxnAgg {
		return graph.Ref{}, fmt.Errorf("aggregate key: wrong prefix")
	}
	r, rest, err := readRef(k[1:])
	if err != nil {
		return r, fmt.Errorf("aggregate key: %w", err)
	}
	if len(rest) != 0 {
		return r, fmt.Errorf("aggregate key: %d trailing bytes", len(rest))
	}
	return r, nil
}

// batchKey: [b][id uint32 BE]
func batchKey(id uint32) []byte { return binary.BigEndian.AppendUint32([]byte{pfxBatch}, id) }

func parseBatchKey(k []byte) (uint32, error) {
	if len(k) != 5 || k[0] != pfxBatch {
		return 0, fmt.Errorf("batch key: want 5 bytes with prefix b")
	}
	return binary.BigEndian.Uint32(k[1:]), nil
}

// hashKey: [h][len uint16 BE][sha256 hex]
func hashKey(sha string) []byte { return appendField([]byte{pfxHash}, sha) }

func parseHashKey(k []byte) (string, error) {
	if len(k) < 1 || k[0] != pfxHash {
		return "", fmt.Errorf("hash key: wrong prefix")
	}
	s, rest, err := readField(k[1:])
	if err != nil {
		return "", fmt.Errorf("hash key: %w", err)
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("hash key: %d trailing bytes", len(rest))
	}
	return s, nil
}

// metaKey: [m][name]
func metaKey(name string) []byte { return append([]byte{pfxMeta}, name...) }

// docsKey: [d][chunk uint32 BE]
func docsKey(chunk uint32) []byte { return binary.BigEndian.AppendUint32([]byte{pfxDocs}, chunk) }

func parseDocsKey(k []byte) (uint32, error) {
	if len(k) != 5 || k[0] != pfxDocs {
		return 0, fmt.Errorf("docs key: want 5 bytes with prefix d")
	}
	return binary.BigEndian.Uint32(k[1:]), nil
}

// prefixEnd returns the smallest key greater than every key starting with p,
// or nil when there is none (p is all 0xFF).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// nbrKey: [x][owner ref][channel uint8][dir uint8][other ref]. One row per
// counterparty, channel and direction of an entity's transactions.
func nbrKey(owner graph.Ref, ch graph.Channel, dir graph.Direction, other graph.Ref) []byte {
	k := make([]byte, 0, 10+len(owner.Key)+len(other.Key))
	k = appendRef(append(k, pfxNbr), owner)
	k = append(k, byte(ch), byte(dir))
	return appendRef(k, other)
}

func parseNbrKey(k []byte) (owner graph.Ref, ch graph.Channel, dir graph.Direction, other graph.Ref, err error) {
	if len(k) < 1 || k[0] != pfxNbr {
		return owner, 0, 0, other, fmt.Errorf("neighbour key: wrong prefix")
	}
	owner, rest, err := readRef(k[1:])
	if err != nil {
		return owner, 0, 0, other, fmt.Errorf("neighbour key owner: %w", err)
	}
	if len(rest) < 2 || (rest[1] != byte(graph.DirOut) && rest[1] != byte(graph.DirIn)) {
		return owner, 0, 0, other, fmt.Errorf("neighbour key: bad channel or direction")
	}
	ch, dir = graph.Channel(rest[0]), graph.Direction(rest[1])
	other, rest, err = readRef(rest[2:])
	if err != nil {
		return owner, 0, 0, other, fmt.Errorf("neighbour key other: %w", err)
	}
	if len(rest) != 0 {
		return owner, 0, 0, other, fmt.Errorf("neighbour key: %d trailing bytes", len(rest))
	}
	return owner, ch, dir, other, nil
}
