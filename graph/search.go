package graph

import (
	"bytes"
	"cmp"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/sahilm/fuzzy"
)

// Fuzzy search over up to millions of entities within one frame.
//
// sahilm/fuzzy over a million labels takes 0.26–1 s (PERF-LIMITS §2d), so the
// index never runs it over the corpus. Instead every document is encoded once
// into a compact byte blob: its label, its terms and the skeleton of its
// label, case-folded, with every non-ASCII rune mapped to one byte of a
// corpus alphabet (Cyrillic takes one byte per letter instead of two), with a
// 64-bit mask of the characters of each field and of the whole document. A
// query is matched in parallel over fixed-size chunks: the document mask
// rejects most documents in a nanosecond, field masks pick the fields worth
// scanning, a subsequence check and a cheap sahilm-like scorer handle those,
// and a bounded heap keeps the best few hundred. Only those are re-ranked and
// highlighted by sahilm/fuzzy on the original strings. When a query extends
// the previous one, only the previous query's matches are searched again
// (fzf's cache), and the last answers are remembered (backspace, the next
// card number of the same bank). One to three letters or digits match most
// of a million documents; for those every field stores the best score any
// such pattern could get in it (fieldBounds), so once the heap is full the
// fields that cannot enter it are only checked for a match, and for one
// letter or a digit twice the mask alone decides. A million documents cost
// about 80 bytes each beyond the documents themselves; see BenchmarkSearch1M
// and `casegraph bench` for the latencies.
//
// Match semantics are sahilm's (characters in order, case-insensitive by
// Unicode simple folding) applied to the label, each term and the label's
// Skeleton, with both the query and the query's Skeleton: a document matches
// when either pattern is a subsequence of any of those strings. So Latin
// input finds Cyrillic names and back.

const (
	searchChunkSize = 1 << 14
	// searchPoolMin is the smallest number of candidates re-ranked by sahilm.
	searchPoolMin = 256
	// DefaultSearchLimit is the page size used when Search gets limit ≤ 0.
	DefaultSearchLimit = 50
)

// codeOverflow is the byte used for non-ASCII runes beyond the 127 most
// frequent ones. Patterns containing it are verified rune by rune.
const codeOverflow = 0xFF

// stubFlag marks a stub in the per-document kind byte.
const stubFlag = 0x80

// SearchIndex answers fuzzy queries over a fixed set of documents. It is
// safe for concurrent use. Build it with NewSearchIndex.
type SearchIndex struct {
	docs   []SearchDoc
	chunks []searchChunk
	alpha  *alphabet

	mu    sync.Mutex
	cache searchCache
	memo  searchMemo
}

// searchChunk holds the encoded documents [base, base+len(mask)). Each
// document has one or more fields (label, terms, skeleton), each with its own
// character mask, so a scan touches only the fields that can match.
type searchChunk struct {
	base  int
	mask  []uint64 // per document: the union of its field masks
	kind  []uint8  // per document: Kind, with stubFlag for stubs
	first []uint32 // per document, len(mask)+1: its first field
	foff  []uint32 // per field, plus one: start offset in blob
	fmask []uint64 // per field
	// fbound holds, per field, fieldBounds: the best cheap score a pattern
	// of one, two or three bytes without separators can get in it.
	fbound [][boundedLen]int8
	dbound [][boundedLen]int8 // per document: the maximum over its fields
	blob   []byte
}

// searchCache remembers the previous query and the documents that matched
// it, per chunk, so a longer query only searches those.
type searchCache struct {
	valid bool
	query string
	skel  string
	kind  Kind
	// surv lists the matching documents of each chunk; a chunk where more
	// than half matched is marked dense instead (rescanned in full, like
	// fzf, which keeps no cache for such chunks).
	surv  [][]uint32
	dense []bool
}

// searchMemo remembers the answers to the last few queries, most recent
// last. The index never changes, so an answer stays right: deleting a
// character, retyping a query or starting the next card number of the same
// bank (the BIN is the same six digits) is answered at once, and the
// answer's survivors become the narrowing cache again, so the keystroke after
// it narrows as if the query had just been scanned.
type searchMemo struct {
	entries []memoEntry
	held    int // survivor indexes held by all entries
}

type memoEntry struct {
	text  string
	kind  Kind
	limit int
	res   SearchResult
	cache searchCache
	held  int
}

const (
	memoEntries = 48
	// memoHeld bounds the survivor indexes the memo keeps (4 bytes each).
	memoHeld = 2 << 20
)

// get returns the remembered answer to a query and makes it the most recent.
func (m *searchMemo) get(text string, kind Kind, limit int) (memoEntry, bool) {
	for i, e := range m.entries {
		if e.text == text && e.kind == kind && e.limit == limit {
			copy(m.entries[i:], m.entries[i+1:])
			m.entries[len(m.entries)-1] = e
			return e, true
		}
	}
	return memoEntry{}, false
}

// put remembers an answer, forgetting the oldest ones beyond the bounds.
func (m *searchMemo) put(e memoEntry) {
	for _, s := range e.cache.surv {
		e.held += len(s)
	}
	if e.held > memoHeld {
		return
	}
	m.entries = append(m.entries, e)
	m.held += e.held
	drop := 0
	for len(m.entries)-drop > memoEntries || m.held > memoHeld {
		m.held -= m.entries[drop].held
		drop++
	}
	m.entries = slices.Delete(m.entries, 0, drop)
}

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

// NewSearchIndex builds the index over docs. The index keeps docs (it does
// not copy it); the caller must not modify it afterwards. Building uses every
// core: about a second for a million documents.
func NewSearchIndex(docs []SearchDoc) *SearchIndex {
	ix := &SearchIndex{docs: docs}
	nChunks := (len(docs) + searchChunkSize - 1) / searchChunkSize
	ix.chunks = make([]searchChunk, nChunks)
	workers := max(1, min(runtime.GOMAXPROCS(0), nChunks))

	// Pass 1: count the non-ASCII runes, to build the alphabet.
	partial := make([]map[rune]int, workers)
	parallelChunks(nChunks, workers, func(w, ci int) {
		if partial[w] == nil {
			partial[w] = make(map[rune]int)
		}
		var lo [0x800]int32
		m := partial[w]
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
		for _, d := range docs[ci*searchChunkSize : min(len(docs), (ci+1)*searchChunkSize)] {
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
	})
	counts := make(map[rune]int)
	for _, m := range partial {
		for r, n := range m {
			counts[r] += n
		}
	}
	ix.alpha = newAlphabet(counts)

	// Pass 2: encode every chunk.
	scratch := make([]chunkScratch, workers)
	parallelChunks(nChunks, workers, func(w, ci int) {
		ix.chunks[ci] = ix.encodeChunk(ci*searchChunkSize, docs[ci*searchChunkSize:min(len(docs), (ci+1)*searchChunkSize)], &scratch[w])
	})
	return ix
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
	}
	ch.first = append(ch.first, uint32(len(fmask)))
	foff = append(foff, uint32(len(blob)))
	ch.foff, ch.fmask, ch.fbound, ch.blob = slices.Clone(foff), slices.Clone(fmask), slices.Clone(fbound), slices.Clone(blob)
	w.foff, w.fmask, w.fbound, w.blob, w.field = foff, fmask, fbound, blob, scratch
	return ch
}

// chunkScratch is one build worker's reusable memory.
type chunkScratch struct {
	foff   []uint32
	fmask  []uint64
	fbound [][boundedLen]int8
	blob   []byte
	field  []byte
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

// Forget drops the remembered answers and the narrowing cache, so the next
// query is scanned from scratch (`casegraph bench` measures such cold
// keystrokes too).
func (ix *SearchIndex) Forget() {
	ix.mu.Lock()
	ix.cache, ix.memo = searchCache{}, searchMemo{}
	ix.mu.Unlock()
}

// Len returns the number of indexed documents.
func (ix *SearchIndex) Len() int { return len(ix.docs) }

// searchQuery is a query prepared for matching.
type searchQuery struct {
	text  string   // normalised query: trimmed, digit groups joined
	skel  string   // Skeleton(text)
	pats  [][]byte // encoded patterns: text (when every rune is known) and skel, deduplicated
	masks []uint64
	// bound is, per pattern, its index into a field's fbound (-1: none,
	// the pattern is too long or has a separator).
	bound []int
	// maskExact marks patterns that every field covering their mask
	// contains: one letter, digit or space, or one digit twice.
	maskExact []bool
	// docBound is the fbound index when the query is one maskExact pattern
	// with a bound: then a document's mask decides its match and its dbound
	// whether any field needs scoring (-1 otherwise).
	docBound int
	// exact holds the folded runes of text when its pattern contains
	// codeOverflow, so blob matches must be confirmed on the strings.
	exact []rune
	kind  Kind
}

// NormalizeQuery is what Search does to a query before matching: trim
// spaces; drop the separators of a query made of digits (spaces, dashes,
// dots, brackets, a leading +), so "4400 43" finds 4400430000000016 and
// "850312-050003" the IIN; and write a whole Kazakh phone number as the
// importers store it (E.164), so "87788945477", "+7 778 894 54 77" and
// "8 (778) 894-54-77" all find +77788945477 (docs/FORMATS.md).
func NormalizeQuery(q string) string {
	q = strings.TrimSpace(q)
	var b strings.Builder
	plus := strings.HasPrefix(q, "+")
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || (c == '+' && i == 0):
		default:
			return q
		}
	}
	d := b.String()
	switch {
	case d == "":
		return q
	case len(d) == 11 && d[0] == '8' && (d[1] == '7' || d[1] == '6'):
		return "+7" + d[1:] // 8 7xx xxx xx xx: the domestic prefix
	case len(d) == 11 && d[0] == '7' && (d[1] == '7' || d[1] == '6'):
		return "+" + d
	case plus:
		return "+" + d
	}
	return d
}

func (ix *SearchIndex) prepare(query string, kind Kind) searchQuery {
	q := searchQuery{text: NormalizeQuery(query), kind: kind}
	q.skel = Skeleton(q.text)
	if q.text == "" {
		return q
	}
	if p, ok := ix.alpha.encode(nil, q.text); ok && len(p) > 0 {
		q.pats = append(q.pats, p)
		if ix.alpha.over && bytes.IndexByte(p, codeOverflow) >= 0 {
			for _, r := range q.text {
				q.exact = append(q.exact, canonRune(r))
			}
		}
	}
	if q.skel != "" && (len(q.pats) == 0 || string(q.pats[0]) != q.skel) {
		q.pats = append(q.pats, []byte(q.skel))
	}
	for _, p := range q.pats {
		q.masks = append(q.masks, fieldMask(p))
		bi := len(p) - 1
		if len(p) > boundedLen || slices.ContainsFunc(p, isSepByte) {
			bi = -1
		}
		q.bound = append(q.bound, bi)
		q.maskExact = append(q.maskExact, maskProvesMatch(p))
	}
	q.docBound = -1
	if len(q.pats) == 1 && q.maskExact[0] && q.exact == nil {
		q.docBound = q.bound[0]
	}
	return q
}

// maskProvesMatch reports whether a field whose mask covers p's mask always
// contains p: a single letter, digit or space (each has a bit of its own),
// or a digit twice (the "occurs twice" bit).
func maskProvesMatch(p []byte) bool {
	own := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ' }
	switch len(p) {
	case 1:
		return own(p[0])
	case 2:
		return p[0] == p[1] && p[0] >= '0' && p[0] <= '9'
	}
	return false
}

// candidate is a document in a top-K heap with its cheap score.
type candidate struct {
	score int32
	stub  bool
	idx   uint32
}

// worse orders candidates for the heap: lower score, then stub, then later
// document.
func worse(a, b candidate) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	if a.stub != b.stub {
		return a.stub
	}
	return a.idx > b.idx
}

// topK is a bounded min-heap of candidates (the worst at the root).
type topK struct {
	k int
	h []candidate
}

func (t *topK) push(c candidate) {
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !worse(t.h[i], t.h[p]) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	if !worse(t.h[0], c) {
		return
	}
	t.h[0] = c
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(t.h) && worse(t.h[l], t.h[m]) {
			m = l
		}
		if r < len(t.h) && worse(t.h[r], t.h[m]) {
			m = r
		}
		if m == i {
			return
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// Search returns the best limit documents matching query, restricted to kind
// unless it is KindUnknown, with Total counting every match. Hits are ordered
// by score (descending), full entities before stubs, then label, then Ref.
// When ctx is cancelled the result is empty.
func (ix *SearchIndex) Search(ctx context.Context, query string, kind Kind, limit int) SearchResult {
	res := ix.search(ctx, query, kind, limit)
	// Names are stored surname first; people say them given name first.
	// "Есен Ахметов" that finds nothing is tried as "Ахметов Есен".
	if w := strings.Fields(query); res.Total == 0 && len(w) == 2 && ctx.Err() == nil {
		if rev := ix.search(ctx, w[1]+" "+w[0], kind, limit); rev.Total > 0 {
			rev.Query = query
			return rev
		}
	}
	return res
}

// search is Search for the query as typed.
func (ix *SearchIndex) search(ctx context.Context, query string, kind Kind, limit int) SearchResult {
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	q := ix.prepare(query, kind)
	res := SearchResult{Query: query}
	if len(q.pats) == 0 || len(ix.docs) == 0 {
		return res
	}

	ix.mu.Lock()
	if e, ok := ix.memo.get(q.text, kind, limit); ok {
		ix.cache = e.cache
		ix.mu.Unlock()
		res = e.res
		res.Query = query
		res.Hits = slices.Clone(res.Hits)
		return res
	}
	var prev [][]uint32
	var prevDense []bool
	if c := ix.cache; c.valid && c.kind == kind && strings.HasPrefix(q.text, c.query) &&
		isSubseq([]byte(q.skel), []byte(c.skel)) {
		prev, prevDense = c.surv, c.dense
	}
	ix.mu.Unlock()

	pool := max(searchPoolMin, 4*limit)
	workers := max(1, min(runtime.GOMAXPROCS(0), len(ix.chunks)))
	heaps := make([]topK, workers)
	for w := range heaps {
		heaps[w].k = pool
	}
	surv := make([][]uint32, len(ix.chunks))
	dense := make([]bool, len(ix.chunks))
	bufs := make([][]uint32, workers)
	var total atomic.Int64
	var cancelled atomic.Bool
	parallelChunks(len(ix.chunks), workers, func(w, ci int) {
		if cancelled.Load() || ctx.Err() != nil {
			cancelled.Store(true)
			return
		}
		var only []uint32
		if prev != nil && !prevDense[ci] {
			only = prev[ci]
			if len(only) == 0 {
				return
			}
		}
		if bufs[w] == nil {
			bufs[w] = make([]uint32, 0, searchChunkSize)
		}
		found := ix.scanChunk(&ix.chunks[ci], &q, only, &heaps[w], bufs[w])
		total.Add(int64(len(found)))
		if len(found) > len(ix.chunks[ci].mask)/2 {
			dense[ci] = true
		} else {
			surv[ci] = slices.Clone(found)
		}
	})
	if cancelled.Load() {
		return res
	}

	cache := searchCache{valid: true, query: q.text, skel: q.skel, kind: kind, surv: surv, dense: dense}
	ix.mu.Lock()
	ix.cache = cache
	ix.mu.Unlock()

	res.Total = int(total.Load())
	var cands []candidate
	for _, h := range heaps {
		cands = append(cands, h.h...)
	}
	sortCandidates(cands)
	if len(cands) > pool {
		cands = cands[:pool]
	}
	res.Hits = ix.rerank(q, cands, limit)
	ix.mu.Lock()
	ix.memo.put(memoEntry{text: q.text, kind: kind, limit: limit, res: res, cache: cache})
	ix.mu.Unlock()
	res.Hits = slices.Clone(res.Hits)
	return res
}

// scanChunk matches the query against the chunk's documents (or only those
// listed, as global indexes), pushes matches to the heap and returns their
// global indexes in buf (valid until the next call with it).
func (ix *SearchIndex) scanChunk(ch *searchChunk, q *searchQuery, only []uint32, hp *topK, buf []uint32) []uint32 {
	out := buf[:0]
	visit := func(i int) {
		k := ch.kind[i]
		if q.kind != KindUnknown && Kind(k&^stubFlag) != q.kind {
			return
		}
		// One letter or digit, or a digit twice: a document whose mask has
		// it matches, and when none of its fields can score its way into
		// the heap, that is all there is to know.
		if q.docBound >= 0 && ch.mask[i]&q.masks[0] == q.masks[0] && len(hp.h) == hp.k &&
			cannotEnter(hp.h[0], int(ch.dbound[i][q.docBound]), k&stubFlag != 0) {
			out = append(out, uint32(ch.base+i))
			return
		}
		// The first field that matches (label first, then terms, then the
		// skeleton) gives the cheap score: it only picks the pool that
		// sahilm re-ranks on every field, so scoring more is wasted work.
		best, ok, push := 0, false, false
	pats:
		for pi, p := range q.pats {
			qm := q.masks[pi]
			for f := ch.first[i]; f < ch.first[i+1]; f++ {
				if ch.fmask[f]&qm != qm {
					continue
				}
				fb := ch.blob[ch.foff[f]:ch.foff[f+1]]
				if bi := q.bound[pi]; bi >= 0 && len(hp.h) == hp.k &&
					cannotEnter(hp.h[0], int(ch.fbound[f][bi]), k&stubFlag != 0) {
					// Its score cannot enter the heap: it only needs a
					// match check, for Total and the narrowing cache.
					if !q.maskExact[pi] && !isSubseq(fb, p) {
						continue
					}
					if pi == 0 && q.exact != nil && !ix.exactMatch(ch.base+i, q) {
						continue pats
					}
					ok, push = true, false
					break pats
				}
				s, m := fieldScore(fb, p)
				if !m {
					continue
				}
				if pi == 0 && q.exact != nil && !ix.exactMatch(ch.base+i, q) {
					continue pats // no field holds the rare runes themselves
				}
				best, ok, push = s, true, true
				break pats
			}
		}
		if ok {
			g := uint32(ch.base + i)
			out = append(out, g)
			if push {
				hp.push(candidate{score: int32(best), stub: k&stubFlag != 0, idx: g})
			}
		}
	}
	if only != nil {
		for _, g := range only {
			visit(int(g) - ch.base)
		}
		return out
	}
	// The full scan: a tight loop over the document masks, so documents the
	// mask rejects (most of them) cost a nanosecond or two.
	qa, qb := q.masks[0], q.masks[len(q.masks)-1]
	for i, m := range ch.mask {
		if m&qa == qa || m&qb == qb {
			visit(i)
		}
	}
	return out
}

// cannotEnter reports whether a document scoring at most bound cannot enter
// a full heap whose worst candidate is root. A worker scans its chunks, and
// their documents, in increasing order, so the document comes after every
// candidate in the heap and loses every tie but stub against full entity.
func cannotEnter(root candidate, bound int, stub bool) bool {
	return bound < int(root.score) || bound == int(root.score) && (stub || !root.stub)
}

// exactMatch confirms a blob match of a pattern containing codeOverflow by
// comparing folded runes on the document's strings.
func (ix *SearchIndex) exactMatch(i int, q *searchQuery) bool {
	d := ix.docs[i]
	if runeSubseq(d.Label, q.exact) || runeSubseq(Skeleton(d.Label), q.exact) {
		return true
	}
	for _, t := range d.Terms {
		if runeSubseq(t, q.exact) {
			return true
		}
	}
	return false
}

// runeSubseq reports whether the folded runes p occur in order in s (up to a NUL).
func runeSubseq(s string, p []rune) bool {
	j := 0
	for _, r := range s {
		if j == len(p) {
			break
		}
		if r == 0 {
			break
		}
		if canonRune(r) == p[j] {
			j++
		}
	}
	return j == len(p)
}

func isSepByte(c byte) bool {
	switch c {
	case '/', '-', '_', ' ', '.', '\\':
		return true
	}
	return false
}

// fieldScore is a cheap approximation of sahilm's score of p in f: it finds
// the shortest window ending at the first complete match (fzf's V1: forward
// scan, then backward shrink) and gives sahilm's bonuses for a match at the
// start, after a separator and adjacent to the previous match, its penalty
// for leading unmatched characters, and one point off per unmatched byte.
func fieldScore(f, p []byte) (int, bool) {
	// The forward scan is the hot loop of a search: keep the wanted byte in
	// a register and avoid bounds checks on p.
	j, e := 0, -1
	pc := p[0]
	for i, c := range f {
		if c != pc {
			continue
		}
		j++
		if j == len(p) {
			e = i
			break
		}
		pc = p[j]
	}
	if e < 0 {
		return 0, false
	}
	s := e
	j = len(p) - 1
	for i := e; i >= 0; i-- {
		if f[i] == p[j] {
			j--
			if j < 0 {
				s = i
				break
			}
		}
	}
	score, cur, prev := 0, 0, -2
	j = 0
	for i := s; i <= e && j < len(p); i++ {
		if f[i] != p[j] {
			continue
		}
		if i == 0 {
			score += 10
		} else if isSepByte(f[i-1]) {
			score += 20
		}
		if j > 0 && i == prev+1 {
			a := cur*2 + 5
			cur += a
			score += a
		}
		prev = i
		j++
	}
	score += max(-5*s, -15)
	score -= len(f) - len(p)
	return score, true
}

// hitField is one string of a candidate offered to sahilm for re-ranking.
type hitField struct {
	cand int // index into the candidate list
	kind int // fieldLabel, fieldSkeleton or fieldTerm
	term string
}

const (
	fieldLabel = iota
	fieldSkeleton
	fieldTerm
)

// fieldSource is a fuzzy.Source over the candidates' strings.
type fieldSource []string

func (s fieldSource) String(i int) string { return s[i] }
func (s fieldSource) Len() int            { return len(s) }

// rerank scores the candidates with sahilm/fuzzy on their original strings
// (label, label skeleton, terms; with the query and its skeleton), keeps the
// best field of each and returns the best limit hits in order. The
// candidates are split between the cores: sahilm over a few hundred
// documents' strings is a millisecond or more, single-threaded.
func (ix *SearchIndex) rerank(q searchQuery, cands []candidate, limit int) []SearchHit {
	patterns := []string{q.text}
	if q.skel != "" && q.skel != q.text {
		patterns = append(patterns, q.skel)
	}
	hits := make([]SearchHit, len(cands))
	parts := max(1, min(runtime.GOMAXPROCS(0), len(cands)/64))
	var wg sync.WaitGroup
	for w := range parts {
		lo, hi := w*len(cands)/parts, (w+1)*len(cands)/parts
		wg.Go(func() { ix.rerankPart(patterns, cands[lo:hi], hits[lo:hi]) })
	}
	wg.Wait()
	slices.SortStableFunc(hits, compareHits)
	return hits[:min(limit, len(hits))]
}

// rerankPart fills hits[i] for cands[i].
func (ix *SearchIndex) rerankPart(patterns []string, cands []candidate, hits []SearchHit) {
	var strs fieldSource
	var meta []hitField
	skels := make([][]skelByte, len(cands))
	var sk skeletonizer
	for ci, c := range cands {
		d := ix.docs[c.idx]
		strs = append(strs, d.Label)
		meta = append(meta, hitField{cand: ci, kind: fieldLabel})
		b := sk.build(d.Label)
		skels[ci] = slices.Clone(b)
		sb := make([]byte, len(b))
		for i, x := range b {
			sb[i] = x.b
		}
		strs = append(strs, string(sb))
		meta = append(meta, hitField{cand: ci, kind: fieldSkeleton})
		for _, t := range d.Terms {
			strs = append(strs, t)
			meta = append(meta, hitField{cand: ci, kind: fieldTerm, term: t})
		}
	}
	type best struct {
		ok      bool
		score   int
		kind    int
		term    string
		matched []int // byte offsets into the field
	}
	bests := make([]best, len(cands))
	for _, p := range patterns {
		for _, m := range fuzzy.FindFromNoSort(p, strs) {
			f := meta[m.Index]
			b := &bests[f.cand]
			// Prefer the higher score; on a tie prefer the label, then its skeleton.
			if !b.ok || m.Score > b.score || m.Score == b.score && f.kind < b.kind {
				*b = best{ok: true, score: m.Score, kind: f.kind, term: f.term, matched: m.MatchedIndexes}
			}
		}
	}
	for ci, c := range cands {
		d := ix.docs[c.idx]
		b := bests[ci]
		h := SearchHit{Doc: d, Score: int(c.score)}
		if b.ok {
			h.Score = b.score
			switch b.kind {
			case fieldLabel:
				h.Matched = byteToRuneIndexes(d.Label, b.matched)
			case fieldSkeleton:
				h.Matched = skeletonToRuneIndexes(skels[ci], b.matched)
			case fieldTerm:
				h.Term = b.term
			}
		}
		hits[ci] = h
	}
}

// compareHits orders hits: score descending, full entities before stubs,
// label, then Ref.
func compareHits(a, b SearchHit) int {
	if a.Score != b.Score {
		return cmp.Compare(b.Score, a.Score)
	}
	if a.Doc.Stub != b.Doc.Stub {
		if a.Doc.Stub {
			return 1
		}
		return -1
	}
	if c := strings.Compare(a.Doc.Label, b.Doc.Label); c != 0 {
		return c
	}
	if a.Doc.Ref.Less(b.Doc.Ref) {
		return -1
	}
	if b.Doc.Ref.Less(a.Doc.Ref) {
		return 1
	}
	return 0
}

// byteToRuneIndexes converts sorted byte offsets into s to rune indexes.
func byteToRuneIndexes(s string, offs []int) []int {
	out := make([]int, 0, len(offs))
	ri, k := 0, 0
	for bi := range s {
		for k < len(offs) && offs[k] == bi {
			out = append(out, ri)
			k++
		}
		if k == len(offs) {
			break
		}
		ri++
	}
	return out
}

// skeletonToRuneIndexes maps matched byte offsets of a skeleton back to the
// label runes they came from (several skeleton bytes may share one rune: ж
// gives "zh" then "j").
func skeletonToRuneIndexes(sk []skelByte, offs []int) []int {
	out := make([]int, 0, len(offs))
	for _, o := range offs {
		if o < 0 || o >= len(sk) {
			continue
		}
		r := int(sk[o].src)
		if len(out) == 0 || out[len(out)-1] != r {
			out = append(out, r)
		}
	}
	return out
}

// sortCandidates orders candidates best first (worse decides).
func sortCandidates(cands []candidate) {
	slices.SortFunc(cands, func(a, b candidate) int {
		if worse(b, a) {
			return -1
		}
		if worse(a, b) {
			return 1
		}
		return 0
	})
}
