package graph

import (
	"cmp"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// alphabet maps case-folded runes to one-byte codes.
type alphabet struct {
	lo   [0x800]byte // code for raw runes below U+0800; 0 = not in the corpus
	hi   map[rune]byte
	over bool // some runes share codeOverflow
}

// foldRune returns the representative of r's simple case-folding orbit: the
// ASCII lower-case letter when the orbit has one (k, K and the Kelvin sign
// K), else the smallest rune of the orbit. Two runes fold equal exactly when
// sahilm's equalFold says they match.
func canonRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return canonRune(f)
		}
		m = min(m, f)
	}
	return m
}

// code returns the byte code of a non-ASCII rune, or 0 when no document
// contains it.
func (a *alphabet) code(r rune) byte {
	if r < 0x800 {
		return a.lo[r]
	}
	if c, ok := a.hi[canonRune(r)]; ok {
		return c
	}
	return 0
}

// newAlphabet gives the 127 most frequent non-ASCII runes their own code and
// the rest codeOverflow, deterministically (count, then rune).
func newAlphabet(counts map[rune]int) *alphabet {
	type rc struct {
		r rune
		n int
	}
	all := make([]rc, 0, len(counts))
	for r, n := range counts {
		all = append(all, rc{r, n})
	}
	slices.SortFunc(all, func(a, b rc) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		return cmp.Compare(a.r, b.r)
	})
	canonCode := make(map[rune]byte, len(all))
	a := &alphabet{hi: make(map[rune]byte)}
	for i, x := range all {
		c := byte(codeOverflow)
		if i < codeOverflow-0x80 {
			c = byte(0x80 + i)
		} else {
			a.over = true
		}
		canonCode[x.r] = c
		if x.r >= 0x800 {
			a.hi[x.r] = c
		}
	}
	for r := rune(0x80); r < 0x800; r++ {
		a.lo[r] = canonCode[canonRune(r)]
	}
	return a
}

// maskBit is the bit of one encoded byte in a document or query mask:
// letters 0–25, digits 26–35, space 36, other ASCII 37, non-ASCII codes
// 48–63 (folded). Bits 38–47 mean "this digit occurs twice in one field"
// (see fieldMask): digits are the weak spot of a character mask, since
// every card number contains most of them.
func maskBit(c byte) uint64 {
	switch {
	case c >= 'a' && c <= 'z':
		return 1 << (c - 'a')
	case c >= '0' && c <= '9':
		return 1 << (26 + c - '0')
	case c == ' ':
		return 1 << 36
	case c < 0x80:
		return 1 << 37
	}
	return 1 << (48 + (c-0x80)%16)
}

// fieldMask is the mask of one field or pattern, including the bits for
// digits that occur at least twice.
func fieldMask(f []byte) uint64 {
	var m uint64
	var seen uint16
	for _, c := range f {
		if c >= '0' && c <= '9' {
			bit := uint16(1) << (c - '0')
			if seen&bit != 0 {
				m |= 1 << (38 + c - '0')
			}
			seen |= bit
		}
		m |= maskBit(c)
	}
	return m
}

// encode appends the folded, encoded form of s (up to a NUL, as sahilm does)
// to dst. ok is false when s contains a rune no document has.
func (a *alphabet) encode(dst []byte, s string) ([]byte, bool) {
	ok := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == 0 {
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		code := a.code(r)
		if code == 0 {
			ok = false
			code = codeOverflow
		}
		dst = append(dst, code)
	}
	return dst, ok
}

// NewSearchIndex builds the index over docs. The index keeps its own
// compact copy of the documents (every string of a chunk in one block), so
// docs may be dropped afterwards. Building uses every core: about a second
// for a million documents.
func NewSearchIndex(docs []SearchDoc) *SearchIndex {
	ix, _ := BuildSearchIndex(func(fn func(SearchDoc) error) error {
		for _, d := range docs {
			if err := fn(d); err != nil {
				return err
			}
		}
		return nil
	})
	return ix
}

// BuildSearchIndex builds the index over the documents that read hands to
// its callback, in the same order each time it is called; it is called
// twice (the documents and their alphabet are counted first, then the
// chunks are encoded). Only a few chunks of documents are held at once,
// never all of them: a store's three million documents (1.1 GB as Go
// strings and structs) cost the build the index itself and a few
// megabytes. An error from read is returned; a second pass that reads
// another number of documents than the first is an error.
func BuildSearchIndex(read func(fn func(SearchDoc) error) error) (*SearchIndex, error) {
	workers := max(1, runtime.GOMAXPROCS(0))

	// Pass 1: count the documents and the non-ASCII runes, to build the
	// alphabet.
	partial := make([]map[rune]int, workers)
	n, err := eachDocBatch(-1, workers, read, func(w, _ int, docs []SearchDoc) {
		if partial[w] == nil {
			partial[w] = make(map[rune]int)
		}
		countRunes(partial[w], docs)
	})
	if err != nil {
		return nil, err
	}
	counts := make(map[rune]int)
	for _, m := range partial {
		for r, c := range m {
			counts[r] += c
		}
	}
	ix := &SearchIndex{n: n, alpha: newAlphabet(counts)}
	ix.chunks = make([]searchChunk, (n+searchChunkSize-1)/searchChunkSize)

	// Pass 2: encode every chunk.
	scratch := make([]chunkScratch, workers)
	if _, err := eachDocBatch(n, workers, read, func(w, ci int, docs []SearchDoc) {
		ix.chunks[ci] = ix.encodeChunk(ci*searchChunkSize, docs, &scratch[w])
	}); err != nil {
		return nil, err
	}
	ix.buildByRef()
	return ix, nil
}

// eachDocBatch reads the documents of read in batches of one chunk per
// worker and hands each chunk's documents to fn on the workers, with the
// worker's and the chunk's index. It returns the number of documents read;
// want, unless negative, is the number there must be.
func eachDocBatch(want, workers int, read func(fn func(SearchDoc) error) error, fn func(w, chunk int, docs []SearchDoc)) (int, error) {
	batch := make([]SearchDoc, 0, workers*searchChunkSize)
	first, seen := 0, 0 // the batch's first chunk; the documents read
	flush := func() {
		chunks := (len(batch) + searchChunkSize - 1) / searchChunkSize
		parallelChunks(chunks, min(workers, chunks), func(w, c int) {
			fn(w, first+c, batch[c*searchChunkSize:min(len(batch), (c+1)*searchChunkSize)])
		})
		first += chunks
		clear(batch) // the documents' strings may hold their source's memory
		batch = batch[:0]
	}
	err := read(func(d SearchDoc) error {
		if seen++; want >= 0 && seen > want {
			return errDocsChanged
		}
		batch = append(batch, d)
		if len(batch) == cap(batch) {
			flush()
		}
		return nil
	})
	if err != nil {
		return seen, err
	}
	if want >= 0 && seen != want {
		return seen, errDocsChanged
	}
	if len(batch) > 0 {
		flush()
	}
	return seen, nil
}

// errDocsChanged is BuildSearchIndex's error when its second pass reads
// another number of documents than the first.
var errDocsChanged = errors.New("build search index: the documents changed while it was built")

// countRunes adds the non-ASCII runes of docs' labels and terms, folded, to m.
func countRunes(m map[rune]int, docs []SearchDoc) {
	var lo [0x800]int32
	count := func(s string) {
		for i := 0; i < len(s); i++ {
			if s[i] < utf8.RuneSelf {
				continue
			}
			for _, r := range s[i:] {
				if r < utf8.RuneSelf {
					continue
				}
				if r < 0x800 {
					lo[r]++
				} else {
					m[canonRune(r)]++
				}
			}
			break
		}
	}
	for _, d := range docs {
		count(d.Label)
		for _, t := range d.Terms {
			count(t)
		}
	}
	for r, n := range lo {
		if n > 0 {
			m[canonRune(rune(r))] += int(n)
		}
	}
}

// parallelChunks runs fn for every chunk index on workers goroutines.
func parallelChunks(nChunks, workers int, fn func(worker, chunk int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				ci := int(next.Add(1) - 1)
				if ci >= nChunks {
					return
				}
				fn(w, ci)
			}
		})
	}
	wg.Wait()
}

// encodeChunk encodes docs into one chunk. A field that is a subsequence of a
// field already stored for the same document is left out: every pattern it
// matches, the stored one matches too (a card's digits and its formatted
// label, a Latin label and its skeleton).
func (ix *SearchIndex) encodeChunk(base int, docs []SearchDoc, w *chunkScratch) searchChunk {
	ch := searchChunk{
		base:   base,
		mask:   make([]uint64, len(docs)),
		kind:   make([]uint8, len(docs)),
		first:  make([]uint32, 0, len(docs)+1),
		dbound: make([][boundedLen]int8, len(docs)),
	}
	// The per-field arrays and the blob are built in the worker's scratch
	// and copied out at their exact size: a million documents' blobs grown
	// by append cost a quarter of the build in copies and kept the slack.
	foff, fmask, fbound, blob := w.foff[:0], w.fmask[:0], w.fbound[:0], w.blob[:0]
	sfirst, soff, strs := w.sfirst[:0], w.soff[:0], w.strs[:0]
	scratch := w.field
	for i, d := range docs {
		firstField := len(fmask)
		ch.first = append(ch.first, uint32(firstField))
		var m uint64
		add := func(f []byte) {
			for k := firstField; k < len(fmask); k++ {
				end := len(blob)
				if k+1 < len(fmask) {
					end = int(foff[k+1])
				}
				if isSubseq(blob[foff[k]:end], f) {
					return
				}
			}
			foff = append(foff, uint32(len(blob)))
			blob = append(blob, f...)
			fm := fieldMask(f)
			fmask = append(fmask, fm)
			fbound = append(fbound, fieldBounds(f, fm, &w.bounds))
			m |= fm
		}
		scratch, _ = ix.alpha.encode(scratch[:0], d.Label)
		add(scratch)
		for _, t := range d.Terms {
			scratch, _ = ix.alpha.encode(scratch[:0], t)
			add(scratch)
		}
		scratch = scratch[:0]
		for _, c := range w.skel.build(d.Label) {
			scratch = append(scratch, c.b)
		}
		add(scratch)
		ch.mask[i] = m
		db := [boundedLen]int8{-128, -128, -128}
		for _, fb := range fbound[firstField:] {
			for b := range db {
				db[b] = max(db[b], fb[b])
			}
		}
		ch.dbound[i] = db
		k := uint8(d.Ref.Kind)
		if d.Stub {
			k |= stubFlag
		}
		ch.kind[i] = k

		sfirst = append(sfirst, uint32(len(soff)))
		for _, s := range [docStrings]string{d.Ref.Key, d.Label, d.Facts} {
			soff = append(soff, uint32(len(strs)))
			strs = append(strs, s...)
		}
		for _, t := range d.Terms {
			soff = append(soff, uint32(len(strs)))
			strs = append(strs, t...)
		}
	}
	ch.first = append(ch.first, uint32(len(fmask)))
	foff = append(foff, uint32(len(blob)))
	sfirst = append(sfirst, uint32(len(soff)))
	soff = append(soff, uint32(len(strs)))
	ch.foff, ch.fmask, ch.fbound, ch.blob = slices.Clone(foff), slices.Clone(fmask), slices.Clone(fbound), slices.Clone(blob)
	ch.sfirst, ch.soff, ch.strs = slices.Clone(sfirst), slices.Clone(soff), slices.Clone(strs)
	w.foff, w.fmask, w.fbound, w.blob, w.field = foff, fmask, fbound, blob, scratch
	w.sfirst, w.soff, w.strs = sfirst, soff, strs
	return ch
}

// chunkScratch is one build worker's reusable memory.
type chunkScratch struct {
	foff   []uint32
	fmask  []uint64
	fbound [][boundedLen]int8
	blob   []byte
	field  []byte
	sfirst []uint32
	soff   []uint32
	strs   []byte
	skel   skeletonizer
	bounds boundScratch
}

// boundedLen is the longest pattern fieldBounds bounds. Short queries match
// most documents (a single digit three quarters of a million); longer ones
// are narrowed by the cache instead.
const boundedLen = 3

// fieldBounds returns, for m = 1…boundedLen, the highest fieldScore any
// pattern of m bytes without a separator byte can get in f (clamped to int8,
// which keeps it an upper bound: scores of long fields only get lower).
//
// fieldScore gives a matched byte 10 at index 0 or 20 after a separator, a
// growing bonus (5, then 15) when it follows the previous match directly,
// a penalty of 5 per byte before the first match (at most 15), and takes
// one point per unmatched byte. When the pattern has no separator, a byte
// right after a matched one cannot follow a separator, so each matched
// byte gets either its position's bonus or the adjacency bonus. The bound
// is the maximum over every choice of positions, found in one backward
// pass with suffix maxima. A search skips scoring a field whose bound
// cannot beat the worst of a full heap: for a one-digit query that is most
// of the card numbers, accounts and phones, which then only need a match
// check, and for one or two repeated digits not even that (the mask proves it).
func fieldBounds(f []byte, mask uint64, sc *boundScratch) [boundedLen]int8 {
	const none = -1 << 20
	n := len(f)
	var out [boundedLen]int8
	if n == 0 {
		return [boundedLen]int8{-128, -128, -128}
	}
	if mask&sepBits == 0 {
		// No separator (most identifiers): only index 0 has a bonus, so the
		// best is to start there and stay adjacent: 10, then +5, then +15.
		for m, bonus := range [boundedLen]int{10, 15, 30} {
			v := -128
			if m < n {
				v = bonus + (m + 1) - n
			}
			out[m] = int8(max(-128, min(127, v)))
		}
		return out
	}
	// b[i]: the bonus of a byte matched at i, not right after a match.
	// suf[i]: the best b at ≥ i. g[j]: a middle byte at j (not adjacent to
	// the first) with the best third byte after it. sufg[i]: the best g at ≥ i.
	b := sc.grow(&sc.b, n)
	suf := sc.grow(&sc.suf, n+3)
	g := sc.grow(&sc.g, n)
	sufg := sc.grow(&sc.sufg, n+3)
	for i := range n {
		switch {
		case i == 0:
			b[i] = 10
		case isSepByte(f[i-1]):
			b[i] = 20
		default:
			b[i] = 0
		}
	}
	suf[n], suf[n+1], suf[n+2] = none, none, none
	sufg[n], sufg[n+1], sufg[n+2] = none, none, none
	for i := n - 1; i >= 0; i-- {
		suf[i] = max(b[i], suf[i+1])
		g[i] = none
		if i+1 < n {
			g[i] = b[i] + max(5, suf[i+2])
		}
		sufg[i] = max(g[i], sufg[i+1])
	}
	best := [boundedLen]int{none, none, none}
	for i := range n {
		first := b[i] + max(-5*i, -15)
		best[0] = max(best[0], first)
		if i+1 < n {
			// The second byte right after (adjacency 5) or further on.
			best[1] = max(best[1], first+max(5, suf[i+2]))
		}
		if i+2 < n {
			// Second byte adjacent, third adjacent to it (15) or further
			// on; or the second byte further on (sufg).
			third := 5 + max(15, suf[i+3])
			best[2] = max(best[2], first+max(third, sufg[i+2]))
		}
	}
	for m := range boundedLen {
		v := -128
		if best[m] > none {
			v = best[m] + (m + 1) - n
		}
		out[m] = int8(max(-128, min(127, v)))
	}
	return out
}

// sepBits are the mask bits a separator byte sets (space, other ASCII).
const sepBits = 1<<36 | 1<<37

// boundScratch is reusable memory for fieldBounds.
type boundScratch struct{ b, suf, g, sufg []int }

func (sc *boundScratch) grow(s *[]int, n int) []int {
	if cap(*s) < n {
		*s = make([]int, n)
	}
	return (*s)[:n]
}

// isSubseq reports whether p is a subsequence of s. Fields are a few dozen
// bytes, so a plain loop beats bytes.IndexByte's call per byte of p.
func isSubseq(s, p []byte) bool {
	if len(p) == 0 {
		return true
	}
	j, pc := 0, p[0]
	for _, c := range s {
		if c != pc {
			continue
		}
		j++
		if j == len(p) {
			return true
		}
		pc = p[j]
	}
	return false
}
