package graph

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/sahilm/fuzzy"
)

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
	hits = hits[:min(limit, len(hits))]
	for i := range hits {
		hits[i].Doc = cloneDoc(hits[i].Doc)
		hits[i].Term = strings.Clone(hits[i].Term)
	}
	return hits
}

// rerankPart fills hits[i] for cands[i].
func (ix *SearchIndex) rerankPart(patterns []string, cands []candidate, hits []SearchHit) {
	var strs fieldSource
	var meta []hitField
	skels := make([][]skelByte, len(cands))
	var sk skeletonizer
	docs := make([]SearchDoc, len(cands))
	for ci, c := range cands {
		d := ix.doc(int(c.idx))
		docs[ci] = d
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
	bests := make([][]best, len(patterns))
	for pi, p := range patterns {
		bests[pi] = make([]best, len(cands))
		for _, m := range fuzzy.FindFromNoSort(p, strs) {
			f := meta[m.Index]
			b := &bests[pi][f.cand]
			// Prefer the higher score; on a tie prefer the label, then its skeleton.
			if !b.ok || m.Score > b.score || m.Score == b.score && f.kind < b.kind {
				*b = best{ok: true, score: m.Score, kind: f.kind, term: f.term, matched: m.MatchedIndexes}
			}
		}
	}
	for ci, c := range cands {
		d := docs[ci]
		b := bests[0][ci]
		if len(patterns) > 1 {
			// A name matched through its skeleton is as good a match as
			// the same name spelt as typed: rank every name on the
			// skeleton pattern (the longer typed pattern, "zhanbol" over
			// "janbol", earns more adjacency bonus, so Latin spellings
			// came before every Cyrillic one). The typed match, when it
			// is on the label, still marks the runes.
			if s := bests[1][ci]; s.ok {
				if b.ok && b.kind == fieldLabel {
					b.score = s.score
				} else {
					b = s
				}
			}
		}
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
