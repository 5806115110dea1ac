package store

import (
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"slices"
	"sort"
	"sync"
)

// memEnt locates one key/value in a memRun's arena. pfx caches the first 16
// key bytes so most comparisons never touch the arena (PERF-LIMITS 2b: a
// cached-prefix comparator sorts ~5× faster than bytes.Compare alone); 16
// rather than 8 because card keys share their prefix byte, kind, length and BIN.
type memEnt struct {
	pfx  [2]uint64
	blk  uint32
	off  uint32
	klen uint32
	vlen uint32
	seq  uint32 // insertion order: among equal keys the last put wins
	// dup marks, once sorted, an entry whose key the next entry repeats:
	// it was put over, and iterating the run skips it without comparing.
	dup bool
}

const (
	memEntSize = 40
	// blockBytes is the arena block size. Blocks are never grown or copied:
	// growing one big slice re-copies and re-zeroes it and dominated profiles.
	blockBytes = 4 << 20
)

// memRun is the in-memory part of a bulk import: arena blocks of encoded keys
// and values and an index into them.
type memRun struct {
	blocks  [][]byte // reused across spills
	cur     int      // block being filled
	used    int      // bytes in all blocks
	ents    []memEnt
	scratch []memEnt // merge target of sort, reused across spills
}

// newMemRun returns a buffer whose index never grows before it holds
// spillBytes (size counts 80 bytes an entry, and keys are 16 bytes or
// more): growing it by doubling, in fresh memory with the collector's
// assist charged to the allocation, was 3–5 % of a statement import's CPU.
func newMemRun(spillBytes int) *memRun {
	return &memRun{ents: make([]memEnt, 0, spillBytes/96)}
}

func keyPrefix(k []byte) [2]uint64 {
	var b [16]byte
	copy(b[:], k)
	return [2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// keyPrefixAt is keyPrefix of k[depth:] (zeros past the end).
func keyPrefixAt(k []byte, depth int) [2]uint64 {
	if depth >= len(k) {
		return [2]uint64{}
	}
	return keyPrefix(k[depth:])
}

func (m *memRun) add(k, v []byte) {
	need := len(k) + len(v)
	for m.cur < len(m.blocks) && len(m.blocks[m.cur])+need > cap(m.blocks[m.cur]) {
		if len(m.blocks[m.cur]) == 0 { // a reused block too small for this record
			m.blocks[m.cur] = make([]byte, 0, need)
			break
		}
		m.cur++
	}
	if m.cur == len(m.blocks) {
		m.blocks = append(m.blocks, make([]byte, 0, max(blockBytes, need)))
	}
	b := m.blocks[m.cur]
	if len(m.ents) == cap(m.ents) {
		m.ents = slices.Grow(m.ents, max(cap(m.ents), 1<<14))
	}
	m.ents = append(m.ents, memEnt{pfx: keyPrefix(k), blk: uint32(m.cur), off: uint32(len(b)),
		klen: uint32(len(k)), vlen: uint32(len(v)), seq: uint32(len(m.ents))})
	b = append(b, k...)
	m.blocks[m.cur] = append(b, v...)
	m.used += need
}

// size is what the buffer holds: the arena bytes plus, per entry, the index
// entry and its merge scratch copy. It counts lengths, not capacities, so a
// buffer reused after a spill starts from zero again.
func (m *memRun) size() int { return m.used + 2*len(m.ents)*memEntSize }

func (m *memRun) reset() {
	for i := range m.blocks {
		m.blocks[i] = m.blocks[i][:0]
	}
	m.cur, m.used = 0, 0
	m.ents = m.ents[:0]
}

func (m *memRun) key(e memEnt) []byte {
	return m.blocks[e.blk][e.off : e.off+e.klen]
}

func (m *memRun) value(e memEnt) []byte {
	s := e.off + e.klen
	return m.blocks[e.blk][s : s+e.vlen]
}

// comparePfx orders entries by their cached prefix only.
func comparePfx(a, b memEnt) int {
	if c := cmp.Compare(a.pfx[0], b.pfx[0]); c != 0 {
		return c
	}
	return cmp.Compare(a.pfx[1], b.pfx[1])
}

// sort orders the entries by key, then insertion order, on two goroutines,
// and marks the entries put over (dup). It cuts the entries at the median
// cached prefix of a sample (no key is read from the arena), so that both
// sides sort independently and need no merge; when one prefix dominates the
// buffer and the cut is lopsided, it sorts two halves and merges them.
func (m *memRun) sort() {
	n := len(m.ents)
	if n < 1<<14 {
		m.sortKeys(m.ents, 0)
		return
	}
	if cut, ok := cutAtMedianPfx(m.ents); ok {
		var wg sync.WaitGroup
		wg.Go(func() { m.sortKeys(m.ents[:cut], 0) })
		m.sortKeys(m.ents[cut:], 0)
		wg.Wait()
		return
	}
	a, b := m.ents[:n/2], m.ents[n/2:]
	var wg sync.WaitGroup
	wg.Go(func() { m.sortKeys(a, 0) })
	m.sortKeys(b, 0)
	wg.Wait()
	out := m.scratch[:0]
	if cap(out) < n {
		out = make([]memEnt, 0, n)
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		c := bytes.Compare(m.key(a[i]), m.key(b[j]))
		if c == 0 { // the same key in both halves: the older was put over
			if a[i].seq < b[j].seq {
				a[i].dup = true
			} else {
				b[j].dup = true
			}
			c = cmp.Compare(a[i].seq, b[j].seq)
		}
		if c < 0 {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	out = append(out, b[j:]...)
	m.ents, m.scratch = out, m.ents
}

// cutAtMedianPfx reorders ents so that those whose cached prefix is below
// the median of a sample come first, and returns where the others start.
// Entries with equal prefixes stay on one side. ok is false, and the order
// unspecified, when either side would hold less than an eighth.
func cutAtMedianPfx(ents []memEnt) (int, bool) {
	const samples = 255
	pick := make([]memEnt, samples)
	for i := range pick {
		pick[i] = ents[i*(len(ents)-1)/(samples-1)]
	}
	slices.SortFunc(pick, comparePfx)
	pivot := pick[samples/2]
	lo, hi := 0, len(ents)
	for lo < hi {
		if comparePfx(ents[lo], pivot) < 0 {
			lo++
			continue
		}
		hi--
		ents[lo], ents[hi] = ents[hi], ents[lo]
	}
	min := len(ents) / 8
	return lo, lo >= min && len(ents)-lo >= min
}

// sortKeys sorts ents, whose keys are equal in their first depth bytes, by
// key and then insertion order. It sorts by the cached 16-byte prefix of
// key[depth:] without touching the arena, then sorts each run of equal
// prefixes again 16 bytes further on (a multikey sort): the transactions of
// one owner share their first 24 bytes, and comparing whole keys in the
// arena cost an eighth of a bulk import in cache misses. Keys that end
// within the prefix are equal to each other up to zero padding, so length
// (shorter first, as bytes.Compare) and then insertion order finish them.
// pfx is left holding the last prefix each entry was sorted on.
func (m *memRun) sortKeys(ents []memEnt, depth int) {
	if depth > 0 {
		for i := range ents {
			ents[i].pfx = keyPrefixAt(m.key(ents[i]), depth)
		}
	}
	slices.SortFunc(ents, comparePfx)
	for lo := 0; lo < len(ents); {
		hi := lo + 1
		longer := int(ents[lo].klen) > depth+16
		for hi < len(ents) && ents[hi].pfx == ents[lo].pfx {
			longer = longer || int(ents[hi].klen) > depth+16
			hi++
		}
		if hi-lo > 1 {
			if longer {
				m.sortKeys(ents[lo:hi], depth+16)
			} else {
				slices.SortFunc(ents[lo:hi], func(a, b memEnt) int {
					if c := cmp.Compare(a.klen, b.klen); c != 0 {
						return c
					}
					return cmp.Compare(a.seq, b.seq)
				})
				// Equal prefixes and lengths here mean equal keys.
				for i := lo; i+1 < hi; i++ {
					ents[i].dup = ents[i].klen == ents[i+1].klen
				}
			}
		}
		lo = hi
	}
}

// each calls fn for every distinct key of a sorted run with its last value
// (a full entity's with what the earlier values give that it lacks,
// keepOlderValue).
func (m *memRun) each(fn func(k, v []byte) error) error {
	for i := 0; i < len(m.ents); i++ {
		e := m.ents[i]
		v := m.value(e)
		if e.dup {
			if !isFullEntityKey(m.key(e)) {
				continue
			}
			var err error
			if i, v, err = m.combine(i); err != nil {
				return err
			}
		}
		if err := fn(m.key(m.ents[i]), v); err != nil {
			return err
		}
	}
	return nil
}

// combine combines the values of the full entity whose equal keys begin at
// ents[i] (put over, dup) and end at the first entry not put over, oldest
// first: it returns that last entry's index and its value with what the
// earlier ones give that it lacks. Each value is read once.
func (m *memRun) combine(i int) (int, []byte, error) {
	k := m.key(m.ents[i])
	v := m.value(m.ents[i])
	for i+1 < len(m.ents) && m.ents[i].dup {
		i++
		var err error
		if v, err = keepOlderValue(k, v, m.value(m.ents[i])); err != nil {
			return i, nil, err
		}
	}
	return i, v, nil
}

// runIter yields the distinct keys of one sorted run in order.
type runIter interface {
	next() (k, v []byte, ok bool, err error)
	close() error
}

type memIter struct {
	m *memRun
	i int
}

func (it *memIter) next() ([]byte, []byte, bool, error) {
	ents := it.m.ents
	for it.i < len(ents) {
		e := ents[it.i]
		if e.dup {
			if !isFullEntityKey(it.m.key(e)) {
				it.i++
				continue
			}
			last, v, err := it.m.combine(it.i)
			it.i = last + 1
			if err != nil {
				return nil, nil, false, err
			}
			return it.m.key(ents[last]), v, true, nil
		}
		it.i++
		return it.m.key(e), it.m.value(e), true, nil
	}
	return nil, nil, false, nil
}

func (it *memIter) close() error { return nil }

// memIterFrom returns an iterator over the sorted run m from its first key
// not before lo.
func memIterFrom(m *memRun, lo []byte) *memIter {
	i := 0
	if lo != nil {
		i = sort.Search(len(m.ents), func(i int) bool { return bytes.Compare(m.key(m.ents[i]), lo) >= 0 })
	}
	return &memIter{m: m, i: i}
}

// rangeIter restricts a run to the keys in [lo, hi); nil bounds are open.
type rangeIter struct {
	it     runIter
	lo, hi []byte
}

func (r *rangeIter) next() ([]byte, []byte, bool, error) {
	for {
		k, v, ok, err := r.it.next()
		if err != nil || !ok {
			return nil, nil, false, err
		}
		if r.lo != nil {
			if bytes.Compare(k, r.lo) < 0 {
				continue
			}
			r.lo = nil // keys only grow from here
		}
		if r.hi != nil && bytes.Compare(k, r.hi) >= 0 {
			return nil, nil, false, nil
		}
		return k, v, true, nil
	}
}

func (r *rangeIter) close() error { return r.it.close() }

// merger k-way merges sorted runs. Runs are given oldest first; for a key
// present in several runs the newest run's value wins.
type merger struct {
	runs []runIter
	h    mergeHeap
	key  []byte
	val  []byte // the value of a full entity being combined
}

type mergeItem struct {
	k, v []byte
	run  int
}

type mergeHeap []mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].k, h[j].k); c != 0 {
		return c < 0
	}
	return h[i].run > h[j].run
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func newMerger(runs []runIter) (*merger, error) {
	m := &merger{runs: runs}
	for i := range runs {
		if err := m.advance(i); err != nil {
			return nil, err
		}
	}
	heap.Init(&m.h)
	return m, nil
}

func (m *merger) advance(run int) error {
	k, v, ok, err := m.runs[run].next()
	if err != nil || !ok {
		return err
	}
	m.h = append(m.h, mergeItem{k: k, v: v, run: run})
	return nil
}

// each calls fn for every distinct key in order with its winning value. The
// slices are valid only during the call.
func (m *merger) each(fn func(k, v []byte) error) error {
	for len(m.h) > 0 {
		top := m.h[0]
		full := isFullEntityKey(top.k)
		if !full {
			if err := fn(top.k, top.v); err != nil {
				return err
			}
		} else {
			// A full entity takes what the older runs' values give that
			// it lacks (keepOlderValue): they follow, newest first. The
			// runs reuse their buffers as they advance, so it is copied.
			m.val = append(m.val[:0], top.v...)
		}
		// Drop the same key from older runs, advancing each run we consume:
		// the run at the top is replaced by its next key and sifted down
		// (one pass, no interface boxing as with container/heap).
		// fn is done with top.k, so the runs may reuse their buffers.
		m.key = append(m.key[:0], top.k...)
		for first := true; len(m.h) > 0 && bytes.Equal(m.h[0].k, m.key); first = false {
			if full && !first {
				v, err := keepOlderValue(m.key, m.h[0].v, m.val)
				if err != nil {
					return err
				}
				m.val = append(m.val[:0], v...) // v may be m.val itself: a no-op copy
			}
			run := m.h[0].run
			k, v, ok, err := m.runs[run].next()
			if err != nil {
				return err
			}
			if ok {
				m.h[0] = mergeItem{k: k, v: v, run: run}
			} else {
				last := len(m.h) - 1
				m.h[0] = m.h[last]
				m.h = m.h[:last]
			}
			m.h.down(0)
		}
		if full {
			if err := fn(m.key, m.val); err != nil {
				return err
			}
		}
	}
	return nil
}

// down restores the heap order below i.
func (h mergeHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && h.Less(r, l) {
			j = r
		}
		if !h.Less(j, i) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

func (m *merger) close() error {
	var first error
	for _, r := range m.runs {
		if err := r.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
