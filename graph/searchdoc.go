package graph

// SearchDoc is what fuzzy search sees of one entity. The store keeps one per
// entity; the search index is built from them.
type SearchDoc struct {
	Ref   Ref
	Label string // what the result list shows and highlights: name, or the formatted identifier
	// Terms are further strings the entity is found by: identifiers (IIN, PAN
	// digits and last 4, IBAN, phone, exchange domain), aliases.
	Terms []string
	Facts string // short key facts shown beside the label, e.g. "IIN 850312300002 · Kaspi Bank"
	Stub  bool
}

// SearchHit is one ranked search result.
type SearchHit struct {
	Doc   SearchDoc
	Score int
	// Matched are rune indexes into Doc.Label that matched the query, also
	// when the match was in the label's Skeleton (mapped back to the label
	// runes it came from: "zhan" lights up "Жан"). Empty when a term matched.
	Matched []int
	Term    string // the term that matched, when the match was not in the label
	// Risk is the entity's risk from the current or kept analysis, set by
	// the workbench (the index knows none).
	Risk RiskMark
}

// SearchResult is a ranked, bounded list of hits.
type SearchResult struct {
	Query string
	Hits  []SearchHit
	Total int // all matches, of which Hits are the best
}

// CompareHits is the order of every search's hits (SearchIndex.Search, and
// a Dgraph cluster's, which ranks its candidates with a SearchIndex): score
// descending, full entities before stubs, label, then Ref. A hit's score is
// computed from its document's own strings and the query, so two answers to
// the same query ranked apart keep their order when their union is ranked
// with it (the TUI merges its local and its cluster's hits so,
// docs/DGRAPH.md).
func CompareHits(a, b SearchHit) int { return compareHits(a, b) }
