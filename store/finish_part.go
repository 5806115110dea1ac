package store

import (
	"bytes"
	"runtime"
	"slices"
	"sync"

	"casegraph/graph"
)

// A bulk import's merge is cut into parts by key range, merged and written
// side by side: one merge goroutine feeding one StreamWriter stream spent most
// of the write phase waiting on itself while the second core idled. Each part
// merges its key range of every run (the run files' sparse indexes let it
// start part-way), writes to streams of its own and derives what its keys
// imply; the parts' statistics and search docs are then combined. An owner's
// transactions may straddle two parts: the parts hold the totals of their
// first and last owner back (indexer.holdFirst/holdLast) and combineParts
// adds them up.

const (
	// maxBulkParts bounds the parts of a bulk merge.
	maxBulkParts = 4
	// minPartBytes is the least run data per part: a small import is merged
	// in one part.
	minPartBytes = 32 << 20
)

// partCount is how many parts the merge is cut into: one per core, at most
// maxBulkParts, and at least minPartBytes of run data each.
func (l *Loader) partCount() int {
	if l.parts > 0 {
		return l.parts
	}
	size := int64(l.buf.used)
	for _, r := range l.runs {
		size += r.size
	}
	return max(1, min(runtime.GOMAXPROCS(0), maxBulkParts, int(size/minPartBytes)))
}

// partBounds returns up to n-1 increasing keys that cut the runs' keys into
// n parts of about equal bytes. It weighs the runs' sparse index marks and a
// sample of the sorted last buffer by the bytes each stands for.
func (l *Loader) partBounds(n int) [][]byte {
	if l.cutAt != nil {
		var bounds [][]byte
		for _, k := range l.cutAt {
			bounds = append(bounds, partBound(k))
		}
		// The parts' streams must not overlap: the cuts must increase.
		slices.SortFunc(bounds, bytes.Compare)
		return slices.CompactFunc(bounds, bytes.Equal)
	}
	if n <= 1 {
		return nil
	}
	type sample struct {
		key []byte
		w   int64
	}
	var ss []sample
	var total int64
	for _, r := range l.runs {
		for i, mk := range r.marks {
			end := r.size
			if i+1 < len(r.marks) {
				end = r.marks[i+1].off
			}
			ss = append(ss, sample{mk.key, end - mk.off})
			total += end - mk.off
		}
	}
	cur := -1
	for _, e := range l.buf.ents {
		if cur < 0 || ss[cur].w >= l.markBytes {
			ss = append(ss, sample{key: l.buf.key(e)})
			cur = len(ss) - 1
		}
		ss[cur].w += int64(e.klen + e.vlen)
		total += int64(e.klen + e.vlen)
	}
	slices.SortFunc(ss, func(a, b sample) int { return bytes.Compare(a.key, b.key) })
	var bounds [][]byte
	var acc int64
	next := 1
	for _, s := range ss {
		if next < n && acc >= total*int64(next)/int64(n) {
			b := partBound(s.key)
			if len(bounds) == 0 || bytes.Compare(b, bounds[len(bounds)-1]) > 0 {
				bounds = append(bounds, b)
			}
			next++
		}
		acc += s.w
	}
	return bounds
}

// partBound is a copy of k, cut back to the start of its group where the
// merge needs a group's keys together: an entity's full and stub keys
// ([e][ref][flag]) are read as a pair.
func partBound(k []byte) []byte {
	if len(k) > 1 && k[0] == pfxEntity {
		k = k[:len(k)-1]
	}
	return bytes.Clone(k)
}

// bulkProgress sums the parts' written keys for one progress line.
type bulkProgress struct {
	mu    sync.Mutex
	fn    func(stage string, done, total int64)
	n     int64
	total int64
}

func (p *bulkProgress) add(d int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += d
	p.fn("write", p.n, max(p.total, p.n))
}

// combineParts adds up what the parts' indexers derived, in key order, and
// completes the owners held back at the parts' edges: their neighbour rows
// go to set now, their totals to the returned indexer's aggs for persist.
func combineParts(parts []*indexer, set func(k, v []byte) error) (*indexer, error) {
	all := newIndexer()
	held := map[graph.Ref]*ownerTotals{}
	var order []graph.Ref
	for _, ix := range parts {
		addStats(&all.stats, ix.stats)
		all.chunks = append(all.chunks, ix.chunks...)
		all.docCount += ix.docCount
		all.aggs = append(all.aggs, ix.aggs...)
		for _, e := range ix.edges {
			o := held[e.ref]
			if o == nil {
				held[e.ref] = &e
				order = append(order, e.ref)
				continue
			}
			o.agg.count += e.agg.count
			o.agg.in = graph.AddSat(o.agg.in, e.agg.in)
			o.agg.out = graph.AddSat(o.agg.out, e.agg.out)
			for k, a := range e.nbrs {
				b := o.nbrs[k]
				if b == nil {
					o.nbrs[k] = a
					continue
				}
				b.count += a.count
				b.amount = graph.AddSat(b.amount, a.amount)
				b.first, b.last = min(b.first, a.first), max(b.last, a.last)
			}
		}
	}
	all.emit = set
	for _, r := range order {
		o := held[r]
		all.ownerRef, all.cur, all.nbrs = o.ref, o.agg, o.nbrs
		if err := all.flushOwner(); err != nil {
			return nil, err
		}
	}
	all.emit = nil
	return all, nil
}

// addStats adds the counts of s to sum and appends its batches.
func addStats(sum *graph.Stats, s graph.Stats) {
	for k, n := range s.Entities {
		sum.Entities[k] += n
	}
	for k, n := range s.Links {
		sum.Links[k] += n
	}
	for k, n := range s.TxnsByChan {
		sum.TxnsByChan[k] += n
	}
	sum.Stubs += s.Stubs
	sum.Txns += s.Txns
	sum.Batches = append(sum.Batches, s.Batches...)
}
