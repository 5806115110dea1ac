package graph

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
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
	n      int // documents
	chunks []searchChunk
	alpha  *alphabet
	// byRef finds a document by its reference (Label): an open-addressing
	// table of document index + 1 (0 is empty), a power of two of at least
	// twice the documents, probed linearly from refHash.
	byRef []uint32
	// mapped is set when the chunks' arrays live in a mapped index file
	// (OpenSearchIndex), not on the Go heap.
	mapped bool

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
	// The documents themselves, for re-ranking and the hits: each has its
	// ref key, label and facts, then its terms, in strs.
	sfirst []uint32 // per document, len(mask)+1: its first string in soff
	soff   []uint32 // per string, plus one: start offset in strs
	strs   []byte
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

// Forget drops the remembered answers and the narrowing cache, so the next
// query is scanned from scratch (`casegraph bench` measures such cold
// keystrokes too).
func (ix *SearchIndex) Forget() {
	ix.mu.Lock()
	ix.cache, ix.memo = searchCache{}, searchMemo{}
	ix.mu.Unlock()
}

// Len returns the number of indexed documents.
func (ix *SearchIndex) Len() int { return ix.n }

// refHash is the hash of a reference in byRef: FNV-1a over the kind and
// the key. It is written to the file, so it must not change without a new
// searchFileVersion.
func refHash(k Kind, key string) uint64 {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(k)) * 1099511628211
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * 1099511628211
	}
	return h
}

// refSlots is the size of byRef for n documents.
func refSlots(n int) int {
	if n == 0 {
		return 0
	}
	s := 2
	for s < 2*n {
		s <<= 1
	}
	return s
}

// buildByRef fills ix.byRef from the documents' references, as the chunks
// hold them; a reference listed twice is found at its first document.
func (ix *SearchIndex) buildByRef() {
	ix.byRef = make([]uint32, refSlots(ix.n))
	mask := uint64(len(ix.byRef) - 1)
	for i := range ix.n {
		k, key := ix.refAt(i)
		for s := refHash(k, key) & mask; ; s = (s + 1) & mask {
			if v := ix.byRef[s]; v == 0 {
				ix.byRef[s] = uint32(i + 1)
				break
			} else if k2, key2 := ix.refAt(int(v - 1)); k2 == k && key2 == key {
				break
			}
		}
	}
}

// refAt returns the kind and the key of document i's reference, sharing
// the index's memory.
func (ix *SearchIndex) refAt(i int) (Kind, string) {
	ch := &ix.chunks[i/searchChunkSize]
	j := i - ch.base
	return Kind(ch.kind[j] &^ stubFlag), ch.str(ch.sfirst[j])
}

// Label returns the label of the document of r (graph.Title of its entity:
// its name, or its formatted reference when it has none), copied so that it
// outlives the index; false when r has no document. It costs a hash and
// about one probe, however many documents the index holds: a neighbour
// listing names its rows from here rather than reading each entity from
// the store (store.NameSource).
func (ix *SearchIndex) Label(r Ref) (string, bool) {
	slots := uint64(len(ix.byRef))
	if slots == 0 {
		return "", false
	}
	mask := slots - 1
	s := refHash(r.Kind, r.Key) & mask
	// At most slots probes: a damaged table cannot loop for ever.
	for range slots {
		v := ix.byRef[s]
		if v == 0 || int(v) > ix.n {
			return "", false
		}
		i := int(v - 1)
		if k, key := ix.refAt(i); k == r.Kind && key == r.Key {
			ch := &ix.chunks[i/searchChunkSize]
			return strings.Clone(ch.str(ch.sfirst[i-ch.base] + 1)), true
		}
		s = (s + 1) & mask
	}
	return "", false
}

// docStrings is the number of strings every document has before its terms:
// ref key, label, facts.
const docStrings = 3

// str returns string k of the chunk without copying it: it shares the
// chunk's memory (see cloneDoc).
func (ch *searchChunk) str(k uint32) string {
	lo, hi := ch.soff[k], ch.soff[k+1]
	if lo == hi {
		return ""
	}
	return unsafe.String(&ch.strs[lo], int(hi-lo))
}

// doc returns document i, its strings sharing the index's memory.
func (ix *SearchIndex) doc(i int) SearchDoc {
	ch := &ix.chunks[i/searchChunkSize]
	j := i - ch.base
	s, e := ch.sfirst[j], ch.sfirst[j+1]
	k := ch.kind[j]
	d := SearchDoc{
		Ref:   Ref{Kind: Kind(k &^ stubFlag), Key: ch.str(s)},
		Label: ch.str(s + 1),
		Facts: ch.str(s + 2),
		Stub:  k&stubFlag != 0,
	}
	if e > s+docStrings {
		d.Terms = make([]string, 0, e-s-docStrings)
		for t := s + docStrings; t < e; t++ {
			d.Terms = append(d.Terms, ch.str(t))
		}
	}
	return d
}

// cloneDoc copies d's strings onto the heap, so that a hit outlives the
// memory of the index it came from (a mapped file is unmapped once its index
// is unreachable).
func cloneDoc(d SearchDoc) SearchDoc {
	d.Ref.Key = strings.Clone(d.Ref.Key)
	d.Label = strings.Clone(d.Label)
	d.Facts = strings.Clone(d.Facts)
	if d.Terms != nil {
		terms := make([]string, len(d.Terms))
		for i, t := range d.Terms {
			terms[i] = strings.Clone(t)
		}
		d.Terms = terms
	}
	return d
}

// searchQuery is a query prepared for matching.
type searchQuery struct {
	text  string   // normalised query: trimmed, digit groups joined
	skel  string   // Skeleton(text)
	pats  [][]byte // encoded patterns: text (when every rune is known) and skel, deduplicated
	masks []uint64
	// order is the order the patterns are tried in: the skeleton first
	// when there are two (scanChunk).
	order []int
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
	q.order = []int{0}
	if len(q.pats) == 2 {
		q.order = []int{1, 0} // pats[1] is the skeleton
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

// Search returns the best limit documents matching query, restricted to kind
// unless it is KindUnknown, with Total counting every match. Hits are ordered
// by score (descending), full entities before stubs, then label, then Ref.
// When ctx is cancelled the result is empty.
func (ix *SearchIndex) Search(ctx context.Context, query string, kind Kind, limit int) SearchResult {
	// A mapped index's memory lives as long as the index (OpenSearchIndex).
	defer runtime.KeepAlive(ix)
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
	if len(q.pats) == 0 || ix.n == 0 {
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
		// The skeleton pattern is tried first when there is one: a
		// transliterated name (Жанболат for zhanbol) then scores as a
		// Latin spelling of it does, instead of losing its place in the
		// pool to every Latin one (rerank does the same).
		best, ok, push := 0, false, false
	pats:
		for _, pi := range q.order {
			p := q.pats[pi]
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
	ch := &ix.chunks[i/searchChunkSize]
	j := i - ch.base
	s, e := ch.sfirst[j], ch.sfirst[j+1]
	label := ch.str(s + 1)
	if runeSubseq(label, q.exact) || runeSubseq(Skeleton(label), q.exact) {
		return true
	}
	for t := s + docStrings; t < e; t++ {
		if runeSubseq(ch.str(t), q.exact) {
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
