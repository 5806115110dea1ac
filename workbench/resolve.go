package main

import (
	"context"
	"errors"
	"sort"
	"strings"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// The Resolve screen's half of the TUI backend: entity resolution over the
// persons, organisations and exchanges of the store, minus the matches that
// a same_as link already records or an analyst rejected; decisions go to
// the store as single-link edits, each journalled with the OS user.

// resolveKinds are the kinds entity resolution compares.
var resolveKinds = []graph.Kind{graph.KindPerson, graph.KindOrganisation, graph.KindExchange}

// resolveProgressEvery is how many entities are read between progress reports.
const resolveProgressEvery = 2048

// resolution is the outcome of resolveStore: the matches still to decide and
// the parties they name.
type resolution struct {
	res      graph.Resolution // Merges and Proposals hold only undecided matches
	parties  map[graph.Ref]tui.MatchParty
	count    int // parties compared
	linked   int // matches left out: a same_as link records them
	rejected int // matches left out: an analyst rejected them
}

// resolveStore reads the parties, resolves them and drops the matches that
// are decided already.
func resolveStore(ctx context.Context, db *store.DB, minScore float64, progress func(stage string, done, total int)) (resolution, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	out := resolution{parties: map[graph.Ref]tui.MatchParty{}}
	st, err := db.Stats(ctx)
	if err != nil {
		return out, err
	}
	total := 0
	for _, k := range resolveKinds {
		total += st.Entities[k]
	}
	var parties []graph.Party
	progress("reading entities", 0, total)
	err = db.EntitiesOf(ctx, resolveKinds, func(e graph.Entity) error {
		p := graph.PartyOf(e)
		parties = append(parties, p)
		out.parties[e.Ref] = matchParty(e, p)
		if len(parties)%resolveProgressEvery == 0 {
			progress("reading entities", len(parties), max(total, len(parties)))
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	out.count = len(parties)
	progress("comparing identifiers and names", 0, 0)
	res, err := graph.Resolve(ctx, parties, graph.ResolveOptions{MinScore: minScore})
	if err != nil {
		return out, err
	}
	progress("dropping decided matches", 0, 0)
	decided, err := decidedPairs(ctx, db)
	if err != nil {
		return out, err
	}
	keep := func(ms []graph.Match) []graph.Match {
		kept := ms[:0]
		for _, m := range ms {
			switch decided[pairKey(m.A, m.B)] {
			case decisionLinked:
				out.linked++
			case decisionRejected:
				out.rejected++
			default:
				kept = append(kept, m)
			}
		}
		return kept
	}
	res.Merges, res.Proposals = keep(res.Merges), keep(res.Proposals)
	out.res = res
	return out, nil
}

type decision uint8

const (
	decisionNone decision = iota
	decisionLinked
	decisionRejected
)

func pairKey(a, b graph.Ref) [2]graph.Ref {
	if b.Less(a) {
		a, b = b, a
	}
	return [2]graph.Ref{a, b}
}

// decidedPairs maps every pair with a same_as link (either direction) or a
// rejection to that decision; a link wins over a rejection.
func decidedPairs(ctx context.Context, db *store.DB) (map[[2]graph.Ref]decision, error) {
	out := map[[2]graph.Ref]decision{}
	rs, err := db.Rejections(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		out[pairKey(r.A, r.B)] = decisionRejected
	}
	links, err := db.Links(ctx, graph.LinkSameAs)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		out[pairKey(l.From, l.To)] = decisionLinked
	}
	return out, nil
}

func matchParty(e graph.Entity, p graph.Party) tui.MatchParty {
	mp := tui.MatchParty{Ref: e.Ref, Name: e.Name, BirthDate: p.BirthDate, IDs: p.IDs}
	names := p.Names
	if e.Name != "" && len(names) > 0 {
		names = names[1:]
	}
	mp.Aliases = names
	return mp
}

func (b *backend) Proposals(ctx context.Context, progress func(stage string, done, total int)) (tui.ProposalList, error) {
	r, err := resolveStore(ctx, b.db, 0, progress)
	if err != nil {
		return tui.ProposalList{}, err
	}
	list := tui.ProposalList{Parties: r.count, Linked: r.linked, Rejected: r.rejected, Skipped: r.res.Skipped}
	for _, ms := range [][]graph.Match{r.res.Merges, r.res.Proposals} {
		for _, m := range ms {
			list.Rows = append(list.Rows, tui.Proposal{Match: m, Left: r.side(m.A), Right: r.side(m.B)})
		}
	}
	return list, nil
}

func (r resolution) side(ref graph.Ref) tui.MatchParty {
	if p, ok := r.parties[ref]; ok {
		return p
	}
	return tui.MatchParty{Ref: ref}
}

func (b *backend) Accept(ctx context.Context, p tui.Proposal) (graph.Link, error) {
	return b.db.AddLink(ctx, actor(), p.Match.Link("accepted", graph.Provenance{File: "resolve"}))
}

func (b *backend) Reject(ctx context.Context, p tui.Proposal) error {
	_, err := b.db.RejectMatch(ctx, actor(), store.Rejection{A: p.Match.A, B: p.Match.B, Score: p.Match.Score, Method: p.Match.Method})
	return err
}

// Verdict implements tui.Verdicts.
func (b *backend) Verdict(ctx context.Context, ref graph.Ref) (graph.Verdict, bool, error) {
	return b.db.Verdict(ctx, ref)
}

// SetVerdict implements tui.Verdicts.
func (b *backend) SetVerdict(ctx context.Context, ref graph.Ref, kind graph.VerdictKind, note string) (graph.Verdict, error) {
	return b.db.SetVerdict(ctx, actor(), graph.Verdict{Ref: ref, Kind: kind, Note: note})
}

// ClearVerdict implements tui.Verdicts.
func (b *backend) ClearVerdict(ctx context.Context, ref graph.Ref) error {
	_, err := b.db.ClearVerdict(ctx, actor(), ref)
	return err
}

// Merged lists the same_as links, the latest batch first, with both ends.
func (b *backend) Merged(ctx context.Context) ([]tui.MergedLink, error) {
	links, err := b.db.Links(ctx, graph.LinkSameAs)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(links, func(i, j int) bool { return links[i].Src.Batch > links[j].Src.Batch })
	out := make([]tui.MergedLink, 0, len(links))
	for _, l := range links {
		ml := tui.MergedLink{Link: l, Decision: roleField(l.Role, "decision")}
		// Links imported as same_as (an FtM export) may carry another role.
		if score, method, err := graph.ParseSameAsRole(l.Role); err == nil {
			ml.Score, ml.Method = score, method
		}
		if ml.Left, err = b.partyOf(ctx, l.From); err != nil {
			return nil, err
		}
		if ml.Right, err = b.partyOf(ctx, l.To); err != nil {
			return nil, err
		}
		out = append(out, ml)
	}
	return out, nil
}

func (b *backend) partyOf(ctx context.Context, ref graph.Ref) (tui.MatchParty, error) {
	e, err := b.db.Entity(ctx, ref)
	if errors.Is(err, graph.ErrNotFound) {
		return tui.MatchParty{Ref: ref}, nil
	}
	if err != nil {
		return tui.MatchParty{}, err
	}
	return matchParty(e, graph.PartyOf(e)), nil
}

// roleField reads one key=value field of a link role.
func roleField(role, name string) string {
	for _, part := range strings.Split(role, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// Revert removes the same_as link between l's ends, in whichever direction
// it was written.
func (b *backend) Revert(ctx context.Context, l graph.Link) error {
	return revertSameAs(ctx, b.db, l.From, l.To)
}

func revertSameAs(ctx context.Context, db *store.DB, a, b graph.Ref) error {
	_, err := db.RemoveLink(ctx, actor(), graph.Link{From: a, To: b, Type: graph.LinkSameAs})
	if errors.Is(err, store.ErrNotFound) {
		_, err = db.RemoveLink(ctx, actor(), graph.Link{From: b, To: a, Type: graph.LinkSameAs})
	}
	return err
}
