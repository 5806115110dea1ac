package dgraphdb

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"casegraph/graph"
)

// Search on Dgraph.
//
// The embedded store's search is a fuzzy subsequence match over an index held
// in memory (graph.SearchIndex); a national data set does not fit one. On
// Dgraph the cluster finds the candidates, the entities whose search text
// (cg.find, trigram-indexed: the label, the terms and the label's skeleton,
// lower case) contains the query or its skeleton, and casegraph ranks them
// with the very same scorer (a graph.SearchIndex over the candidates). So a
// query that occurs as written in a label or identifier finds what the
// embedded search finds, in the same order; what only a subsequence matches
// ("ахм ес" for "Ахметов Есен") it does not. A trigram index needs three
// characters: a shorter query finds nothing here (the TUI shows the local
// results at once; docs/DGRAPH.md).

// MinQuery is the shortest query, in characters, the cluster answers.
const MinQuery = 3

// maxCandidates bounds the candidates one query ranks.
const maxCandidates = 5000

// FindText is the text a search document is found by on Dgraph: its label,
// terms and the label's skeleton, lower case, one per line.
func FindText(d graph.SearchDoc) string {
	parts := []string{strings.ToLower(d.Label)}
	for _, t := range d.Terms {
		parts = append(parts, strings.ToLower(t))
	}
	if sk := graph.Skeleton(d.Label); sk != "" {
		parts = append(parts, sk)
	}
	return strings.Join(parts, "\n")
}

// Matches reports whether the cluster finds d for query: FindText contains
// the normalised query or its skeleton.
func Matches(d graph.SearchDoc, query string) bool {
	text, skel := patterns(query)
	f := FindText(d)
	return text != "" && strings.Contains(f, text) || skel != "" && strings.Contains(f, skel)
}

// patterns are what the cluster is asked for: the normalised query in lower
// case and its skeleton, each only when it is at least MinQuery characters.
func patterns(query string) (text, skel string) {
	q := graph.NormalizeQuery(query)
	text = strings.ToLower(q)
	skel = graph.Skeleton(q)
	if utf8.RuneCountInString(text) < MinQuery {
		text = ""
	}
	if utf8.RuneCountInString(skel) < MinQuery || skel == text {
		skel = ""
	}
	return text, skel
}

// Search finds the entities whose search text contains the query (see
// above), restricted to kind unless it is graph.KindUnknown, ranked as the
// embedded search ranks them. Like the embedded search, a two-word query
// that finds nothing is tried with its words swapped (surname first).
func (db *DB) Search(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	res, err := db.search(ctx, query, kind, limit)
	if err != nil {
		return res, err
	}
	if w := strings.Fields(query); res.Total == 0 && len(w) == 2 {
		rev, err := db.search(ctx, w[1]+" "+w[0], kind, limit)
		if err != nil {
			return res, err
		}
		if rev.Total > 0 {
			rev.Query = query
			return rev, nil
		}
	}
	return res, nil
}

func (db *DB) search(ctx context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	res := graph.SearchResult{Query: query}
	text, skel := patterns(query)
	var vars, names []string
	for i, p := range []string{text, skel} {
		if p != "" {
			vars = append(vars, fmt.Sprintf("m%d as var(func: regexp(%s, /%s/))", i, predFind, regexLiteral(p)))
			names = append(names, fmt.Sprintf("m%d", i))
		}
	}
	if len(vars) == 0 {
		return res, nil
	}
	filter := ""
	if kind != graph.KindUnknown {
		filter = fmt.Sprintf("@filter(eq(%s, %d))", predKind, int(kind))
	}
	all := strings.Join(names, ", ")
	q := fmt.Sprintf(`{ %s
  n(func: uid(%s)) %s { count(uid) }
  e(func: uid(%s), first: %d) %s { %s %s } }`, strings.Join(vars, "\n  "), all, filter, all, maxCandidates, filter,
		predEntity, predStub)
	var out struct {
		N []struct {
			Count int `json:"count"`
		} `json:"n"`
		E []entityJSON `json:"e"`
	}
	if err := db.query(ctx, q, nil, &out); err != nil {
		return res, fmt.Errorf("search %q: %w", query, err)
	}
	docs := make([]graph.SearchDoc, 0, len(out.E))
	for _, e := range out.E {
		ent, ok, err := e.entity()
		if err != nil {
			return res, fmt.Errorf("search %q: %w", query, err)
		}
		if ok {
			docs = append(docs, graph.DocFor(ent))
		}
	}
	if len(docs) == 0 {
		return res, nil
	}
	ranked := graph.NewSearchIndex(docs).Search(ctx, query, kind, limit)
	ranked.Query = query
	if len(out.N) > 0 && out.N[0].Count > ranked.Total {
		ranked.Total = out.N[0].Count
	}
	return ranked, nil
}

// regexLiteral escapes s for a DQL /regexp/: RE2 metacharacters and the
// slash that ends the literal.
func regexLiteral(s string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(s), "/", `\/`)
}

// entityJSON is an entity node as queries read it.
type entityJSON struct {
	UID    string  `json:"uid"`
	Entity *string `json:"cg.entity"`
	Stub   *bool   `json:"cg.stub"`
}

// entity decodes the node's entity (the full one, else the stub); ok is
// false for a node only referenced (no record of its own).
func (e entityJSON) entity() (graph.Entity, bool, error) {
	if e.Entity == nil {
		return graph.Entity{}, false, nil
	}
	var ent graph.Entity
	if err := json.Unmarshal([]byte(*e.Entity), &ent); err != nil {
		return graph.Entity{}, false, fmt.Errorf("decode entity: %w", err)
	}
	if len(ent.Props) == 0 {
		ent.Props = nil
	}
	return ent, true, nil
}
