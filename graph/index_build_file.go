package graph

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"unsafe"
)

// BuildFile lays out what the builder holds as a graph index file of the
// data named by stamp, straight into the memory alloc returns: the index's
// arrays are never in the heap, only the builder's columns are
// (docs/adr/0007-index-built-into-its-file.md). alloc is called once, with
// the file's size, and must return that many zero bytes, 8-byte aligned (a
// writable mapping of the file, or memory the caller then writes to it).
// The bytes are those Build followed by WriteFile would write. The builder
// may be discarded afterwards. ctx is checked between the stages and every
// 2^20 transactions laid out; after an error the memory holds no valid file.
func (b *IndexBuilder) BuildFile(ctx context.Context, stamp [32]byte, alloc func(size int) ([]byte, error)) error {
	fail := func(err error) error { return fmt.Errorf("build graph index file: %w", err) }
	if !IndexFileSupported {
		return fail(errors.New("not supported on this host"))
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	p := b.plan()
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	p.ctx = ctx
	n, m, np := p.n, p.m, len(p.props)
	valLen := 0
	for _, pr := range p.props {
		valLen += len(pr.val)
	}
	curs, zones := encodeNames(p.curs), encodeNames(p.zoneNames)
	var sizes [secCount]int
	sizes[secKinds] = n
	sizes[secKeyOff], sizes[secKeys] = 4*(n+1), p.keyLen
	sizes[secNameOff], sizes[secNames] = 4*(n+1), p.nameLen
	sizes[secStub] = 8 * ((n + 63) / 64)
	sizes[secPropNode], sizes[secPropSlot], sizes[secPropOff], sizes[secPropVals] = 4*np, np, 4*(np+1), valLen
	sizes[secTxIDOff], sizes[secTxIDs] = 4*(m+1), len(b.txIDs)
	sizes[secTxFrom], sizes[secTxOutPos], sizes[secTxFlags] = 4*m, 4*m, m
	sizes[secTxATM], sizes[secTxDev], sizes[secTxIP], sizes[secTxZone] = 4*m, 4*m, 4*m, len(p.txZone)
	sizes[secCurs], sizes[secZones] = len(curs), len(zones)
	sizes[secOutOff], sizes[secOut] = 4*(n+1), fileEdgeSize*m
	sizes[secInOff], sizes[secIn] = 4*(n+1), fileEdgeSize*m
	sizes[secLinkOff], sizes[secLinks] = 4*(n+1), fileLinkSize*2*len(p.links)
	dims := [4]int{n, m, 2 * len(p.links), np}
	for _, d := range dims {
		if d >= math32 {
			return fail(fmt.Errorf("%d records: more than the file's 32-bit numbers hold", d))
		}
	}
	offs, bodyOff, blocks, size := indexFileLayout(sizes)
	data, err := alloc(size)
	if err != nil {
		return fail(err)
	}
	if len(data) != size || size > 0 && uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
		return fail(fmt.Errorf("memory of %d bytes, not 8-byte aligned %d", len(data), size))
	}
	sec := func(i int) []byte { return data[offs[i] : offs[i]+sizes[i] : offs[i]+sizes[i]] }

	propNode, propSlot, propOff := sliceOf[uint32](sec(secPropNode)), sec(secPropSlot), sliceOf[uint32](sec(secPropOff))
	vals := sec(secPropVals)
	k := 0
	for i, pr := range p.props {
		propNode[i], propSlot[i] = uint32(pr.node), pr.slot
		k += copy(vals[k:], pr.val)
		propOff[i+1] = uint32(k)
	}
	copy(sec(secTxZone), p.txZone)
	copy(sec(secCurs), curs)
	copy(sec(secZones), zones)
	a := indexArrays{
		kinds: sliceOf[Kind](sec(secKinds)), keyOff: sliceOf[uint32](sec(secKeyOff)), keys: sec(secKeys),
		nameOff: sliceOf[uint32](sec(secNameOff)), names: sec(secNames), stub: sliceOf[uint64](sec(secStub)),
		txIDOff: sliceOf[uint32](sec(secTxIDOff)), txIDs: sec(secTxIDs), txFrom: sliceOf[NodeID](sec(secTxFrom)),
		txOutPos: sliceOf[uint32](sec(secTxOutPos)), txFlags: sliceOf[TxFlags](sec(secTxFlags)),
		txATM: sliceOf[NodeID](sec(secTxATM)), txDev: sliceOf[NodeID](sec(secTxDev)), txIP: sliceOf[NodeID](sec(secTxIP)),
		outOff: sliceOf[uint32](sec(secOutOff)), out: sliceOf[TxEdge](sec(secOut)),
		inOff: sliceOf[uint32](sec(secInOff)), in: sliceOf[TxEdge](sec(secIn)),
		linkOff: sliceOf[uint32](sec(secLinkOff)), links: sliceOf[LinkEdge](sec(secLinks)),
	}
	b.fill(p, &a)
	if err := ctx.Err(); err != nil {
		return fail(err)
	}

	// The body's block sums, on all cores, then the header.
	sums := make([]uint32, blocks)
	parallelChunks(blocks, max(1, min(runtime.GOMAXPROCS(0), blocks)), func(_, bi int) {
		lo := bodyOff + bi*indexFileBlock
		sums[bi] = crc32.Checksum(data[lo:min(lo+indexFileBlock, size)], castagnoli)
	})
	copy(data, indexFileHead(stamp, dims, sizes, sums))
	return nil
}
