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
