package graph

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Entity resolution finds entities that are the same real party although
// they reached the case under different keys: a person known by IIN from a
// bank register and by a generated key from a FollowTheMoney export, or an
// organisation named in two goAML reports. It never merges nodes: every
// decision is a same_as Link whose Role records score and method, so it can
// be reviewed and removed.
//
// Deterministic merges come from shared identifiers (IIN/BIN, IBAN, full PAN,
// E.164 phone, wallet address). Proposals come from names: entities are
// blocked by birth date, names are compared as sets of skeleton tokens
// (SkeletonTokens: Kazakh 2021 Latin, ICAO 9303 and GOST 7.79 spellings fold
// to one ASCII key) with Jaro–Winkler per token. Nothing is ever merged or
// proposed across two different IINs, not even transitively.

// Ident is one identifier an entity carries, e.g. {"iban", "KZ45…"}.
type Ident struct {
	Scheme string // iin, iban, pan, phone, wallet
	Value  string
}

// Party is what entity resolution sees of one entity.
type Party struct {
	Ref       Ref
	Names     []string // display name first, then aliases
	BirthDate string   // YYYY-MM-DD, or empty
	IDs       []Ident
}

// MultiSep separates the values of a multi-valued property (FtM aliases,
// several identifiers) inside one Props string.
const MultiSep = "; "

// identProps maps entity properties to the identifier scheme they hold.
var identProps = map[string]string{
	"iin": "iin", "bin": "iin", "holder_iin": "", "iban": "iban", "pan": "pan",
	"phone": "phone", "wallet": "wallet",
}

// PartyOf extracts the resolution view of an entity: its name and the
// aliases in its "alias" property, its birth date, its own key when the key
// is an identifier (a person's IIN, an account's IBAN, a full PAN, a phone, a
// wallet) and the identifiers in its iin, bin, iban, pan, phone and wallet
// properties (multi-valued with MultiSep).
func PartyOf(e Entity) Party {
	p := Party{Ref: e.Ref, BirthDate: firstValue(e.Props["birth_date"])}
	if e.Name != "" {
		p.Names = append(p.Names, e.Name)
	}
	for _, a := range splitMulti(e.Props["alias"]) {
		if a != e.Name {
			p.Names = append(p.Names, a)
		}
	}
	switch k := e.Ref.Key; e.Ref.Kind {
	case KindPerson, KindOrganisation, KindExchange:
		if isIINShape(k) {
			p.IDs = append(p.IDs, Ident{"iin", k})
		}
	case KindAccount:
		if len(k) >= 15 && k[0] >= 'A' && k[0] <= 'Z' {
			p.IDs = append(p.IDs, Ident{"iban", k})
		}
	case KindCard:
		if isDigits(k) {
			p.IDs = append(p.IDs, Ident{"pan", k})
		}
	case KindPhone:
		p.IDs = append(p.IDs, Ident{"phone", k})
	case KindWallet:
		p.IDs = append(p.IDs, Ident{"wallet", walletIdent(k)})
	}
	keys := make([]string, 0, len(identProps))
	for k := range identProps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, prop := range keys {
		scheme := identProps[prop]
		if scheme == "" {
			continue
		}
		for _, v := range splitMulti(e.Props[prop]) {
			if scheme == "wallet" {
				v = walletIdent(v)
			}
			if scheme == "iin" && !isIINShape(v) {
				continue
			}
			p.IDs = append(p.IDs, Ident{scheme, v})
		}
	}
	return p
}

// walletIdent compares wallet addresses without their chain, and 0x
// addresses case-insensitively: the same EVM address is the same holder on
// every EVM chain, and exports differ in letter case (EIP-55).
func walletIdent(v string) string {
	if _, addr, ok := strings.Cut(v, ":"); ok {
		v = addr
	}
	if strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
		return strings.ToLower(v)
	}
	return v
}

func firstValue(s string) string {
	v, _, _ := strings.Cut(s, MultiSep)
	return strings.TrimSpace(v)
}

func splitMulti(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, v := range strings.Split(s, MultiSep) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isIINShape(s string) bool { return len(s) == 12 && isDigits(s) }

// Match is one same_as decision or proposal between two entities.
type Match struct {
	A, B          Ref // A.Less(B)
	Score         float64
	Method        string // "iin", "iban", "pan", "phone", "wallet" or "skeleton+dob"
	Deterministic bool
	Names         [2]string // the names that matched best (proposals only)
}

// Role renders the same_as role: "score=0.93;method=skeleton+dob".
func (m Match) Role() string {
	return "score=" + strconv.FormatFloat(m.Score, 'f', 2, 64) + ";method=" + m.Method
}

// Link returns the same_as link that records m. decision ("auto",
// "accepted") is appended to the role so an analyst's choice stays visible.
func (m Match) Link(decision string, src Provenance) Link {
	role := m.Role()
	if decision != "" {
		role += ";decision=" + decision
	}
	return Link{From: m.A, To: m.B, Type: LinkSameAs, Role: role, Src: src}
}

// ParseSameAsRole reads score and method back from a same_as role.
func ParseSameAsRole(role string) (score float64, method string, err error) {
	found := false
	for _, part := range strings.Split(role, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "score":
			if score, err = strconv.ParseFloat(v, 64); err != nil {
				return 0, "", fmt.Errorf("same_as role %q: score: %w", role, err)
			}
			found = true
		case "method":
			method = v
		}
	}
	if !found || method == "" {
		return 0, "", fmt.Errorf("same_as role %q: want score=…;method=…", role)
	}
	return score, method, nil
}

// ResolveOptions tune Resolve.
type ResolveOptions struct {
	MinScore float64 // proposals below it are dropped; 0 means 0.85
	MaxBlock int     // birth-date blocks larger than this are skipped (quadratic cost); 0 means 5000
}

// Resolution is the outcome of Resolve, sorted by A then B.
type Resolution struct {
	Merges    []Match // deterministic: shared identifier
	Proposals []Match // for the analyst to accept or reject, best score first
	Skipped   int     // birth-date blocks skipped as too large
}

// identOrder makes IINs decide first, so that a shared phone can never pull
// two different IINs into one component.
var identOrder = map[string]int{"iin": 0, "iban": 1, "pan": 2, "wallet": 3, "phone": 4}

// Resolve computes deterministic merges and name proposals over parties.
// The result is deterministic for a given input order-independent set.
func Resolve(ctx context.Context, parties []Party, opt ResolveOptions) (Resolution, error) {
	if opt.MinScore == 0 {
		opt.MinScore = 0.85
	}
	if opt.MaxBlock == 0 {
		opt.MaxBlock = 5000
	}
	ps := append([]Party(nil), parties...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Ref.Less(ps[j].Ref) })
	// Entities with the same Ref are one node already: keep one, pooling
	// names and identifiers.
	ps = dedupeParties(ps)

	uf := newComponents(ps)
	var res Resolution

	type occ struct {
		scheme, value string
		idx           int
	}
	var occs []occ
	for i, p := range ps {
		for _, id := range p.IDs {
			occs = append(occs, occ{id.Scheme, id.Value, i})
		}
	}
	sort.Slice(occs, func(i, j int) bool {
		a, b := occs[i], occs[j]
		if identOrder[a.scheme] != identOrder[b.scheme] {
			return identOrder[a.scheme] < identOrder[b.scheme]
		}
		if a.value != b.value {
			return a.value < b.value
		}
		return a.idx < b.idx
	})
	for i := 0; i < len(occs); {
		j := i + 1
		for j < len(occs) && occs[j].scheme == occs[i].scheme && occs[j].value == occs[i].value {
			j++
		}
		group := occs[i:j]
		for g := 1; g < len(group); g++ {
			b := group[g].idx
			for h := 0; h < g; h++ {
				a := group[h].idx
				if a == b || uf.find(a) == uf.find(b) {
					break
				}
				if !uf.union(a, b) {
					continue // different IINs
				}
				res.Merges = append(res.Merges, newMatch(ps[a].Ref, ps[b].Ref, 1, group[g].scheme, true))
				break
			}
		}
		i = j
	}

	// Proposals: block by birth date.
	blocks := map[string][]int{}
	for i, p := range ps {
		if p.BirthDate != "" && len(p.Names) > 0 {
			blocks[p.BirthDate] = append(blocks[p.BirthDate], i)
		}
	}
	dates := make([]string, 0, len(blocks))
	for d := range blocks {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	toks := make([][][]string, len(ps))
	for _, d := range dates {
		if err := ctx.Err(); err != nil {
			return Resolution{}, fmt.Errorf("resolve: %w", err)
		}
		blk := blocks[d]
		if len(blk) < 2 {
			continue
		}
		if len(blk) > opt.MaxBlock {
			res.Skipped++
			continue
		}
		for _, i := range blk {
			if toks[i] == nil {
				toks[i] = nameTokens(ps[i].Names)
			}
		}
		for x := 0; x < len(blk); x++ {
			for y := x + 1; y < len(blk); y++ {
				a, b := blk[x], blk[y]
				if uf.find(a) == uf.find(b) || !uf.compatible(a, b) {
					continue
				}
				s, na, nb := bestNameScore(toks[a], toks[b])
				if s < opt.MinScore {
					continue
				}
				m := newMatch(ps[a].Ref, ps[b].Ref, s, "skeleton+dob", false)
				m.Names = [2]string{ps[a].Names[na], ps[b].Names[nb]}
				if m.A != ps[a].Ref {
					m.Names[0], m.Names[1] = m.Names[1], m.Names[0]
				}
				res.Proposals = append(res.Proposals, m)
			}
		}
	}
	sortMatches(res.Merges, false)
	sortMatches(res.Proposals, true)
	return res, nil
}

func newMatch(a, b Ref, score float64, method string, det bool) Match {
	if b.Less(a) {
		a, b = b, a
	}
	return Match{A: a, B: b, Score: round2(score), Method: method, Deterministic: det}
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

func sortMatches(ms []Match, byScore bool) {
	sort.Slice(ms, func(i, j int) bool {
		if byScore && ms[i].Score != ms[j].Score {
			return ms[i].Score > ms[j].Score
		}
		if ms[i].A != ms[j].A {
			return ms[i].A.Less(ms[j].A)
		}
		return ms[i].B.Less(ms[j].B)
	})
}

func dedupeParties(ps []Party) []Party {
	out := ps[:0]
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Ref == p.Ref {
			last := &out[n-1]
			last.Names = append(last.Names, p.Names...)
			last.IDs = append(last.IDs, p.IDs...)
			if last.BirthDate == "" {
				last.BirthDate = p.BirthDate
			}
			continue
		}
		p.Names = append([]string(nil), p.Names...)
		p.IDs = append([]Ident(nil), p.IDs...)
		out = append(out, p)
	}
	return out
}

// components is a union-find over parties that remembers the IIN of each
// component and refuses to join two different ones.
type components struct {
	parent []int
	iin    []string // per root: the component's IIN, or ""
	bad    []bool   // per party: carries two different IINs itself
}

func newComponents(ps []Party) *components {
	c := &components{parent: make([]int, len(ps)), iin: make([]string, len(ps)), bad: make([]bool, len(ps))}
	for i, p := range ps {
		c.parent[i] = i
		for _, id := range p.IDs {
			if id.Scheme != "iin" {
				continue
			}
			if c.iin[i] != "" && c.iin[i] != id.Value {
				c.bad[i] = true
			}
			c.iin[i] = id.Value
		}
	}
	return c
}

func (c *components) find(i int) int {
	for c.parent[i] != i {
		c.parent[i] = c.parent[c.parent[i]]
		i = c.parent[i]
	}
	return i
}

func (c *components) compatible(a, b int) bool {
	if c.bad[a] || c.bad[b] {
		return false
	}
	ia, ib := c.iin[c.find(a)], c.iin[c.find(b)]
	return ia == "" || ib == "" || ia == ib
}

// union joins the components of a and b unless that would join two
// different IINs; it reports whether they are joined.
func (c *components) union(a, b int) bool {
	if !c.compatible(a, b) {
		return false
	}
	ra, rb := c.find(a), c.find(b)
	if ra == rb {
		return true
	}
	if c.iin[ra] == "" {
		c.iin[ra] = c.iin[rb]
	}
	c.parent[rb] = ra
	return true
}

// nameTokens returns the deduplicated skeleton tokens of every name.
func nameTokens(names []string) [][]string {
	out := make([][]string, 0, len(names))
	for _, n := range names {
		ts := SkeletonTokens(n)
		sort.Strings(ts)
		ts = dedupeSorted(ts)
		if len(ts) > 0 {
			out = append(out, ts)
		}
	}
	if len(out) == 0 {
		out = append(out, []string{})
	}
	return out
}

func dedupeSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// bestNameScore compares every name of a with every name of b and returns
// the best score with the indexes of the names that gave it.
func bestNameScore(a, b [][]string) (float64, int, int) {
	best, bi, bj := 0.0, 0, 0
	for i, ta := range a {
		for j, tb := range b {
			if s := TokenSetScore(ta, tb); s > best {
				best, bi, bj = s, i, j
			}
		}
	}
	return best, bi, bj
}

// TokenSetScore compares two names given as token sets, ignoring word order:
// each token is matched to its most similar token on the other side
// (Jaro–Winkler; a single letter matches a word with that initial at 0.9),
// the mean is taken from both sides, and the better side counts three times
// as much as the other. A name that is a subset of the other ("Ахметов
// Жанболат" and "Zhanbolat Akhmetov Serikuly") therefore still scores high,
// while one differing first name among two tokens does not.
func TokenSetScore(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	sa, sb := sideScore(a, b), sideScore(b, a)
	hi, lo := max(sa, sb), min(sa, sb)
	return 0.75*hi + 0.25*lo
}

func sideScore(a, b []string) float64 {
	sum := 0.0
	for _, x := range a {
		best := 0.0
		for _, y := range b {
			var s float64
			switch {
			case len(x) == 1 || len(y) == 1:
				if x[0] == y[0] {
					s = 0.9
				}
			default:
				s = JaroWinkler(x, y)
			}
			best = max(best, s)
		}
		sum += best
	}
	return sum / float64(len(a))
}

// JaroWinkler returns the Jaro–Winkler similarity of two ASCII strings
// (prefix scale 0.1, prefix up to 4), 1 for equal strings, 0 for nothing in
// common.
func JaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	window := max(la, lb)/2 - 1
	window = max(window, 0)
	ma := make([]bool, la)
	mb := make([]bool, lb)
	matches := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb-1, i+window)
		for j := lo; j <= hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	trans, k := 0, 0
	for i := 0; i < la; i++ {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			trans++
		}
		k++
	}
	m := float64(matches)
	jaro := (m/float64(la) + m/float64(lb) + (m-float64(trans)/2)/m) / 3
	prefix := 0
	for prefix < min(4, la, lb) && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}
