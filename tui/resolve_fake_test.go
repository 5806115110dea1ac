package tui

import (
	"context"
	"fmt"
	"slices"

	"casegraph/graph"
)

// fakeResolver is the Resolve half of the fake backend: three matches of
// the Almaty persons with records of an FtM export, decided into the fake's
// links (accept, revert) and its rejections.
type fakeResolver struct {
	block    bool // Proposals waits for its context to be cancelled
	calls    int
	batch    uint32
	rejected map[[2]graph.Ref]bool
	fail     error // returned by Accept, Reject and Revert when set
}

var (
	refFtmAkhmetov   = graph.Ref{Kind: graph.KindPerson, Key: "ftm-7c1e"}
	refFtmOmirbekova = graph.Ref{Kind: graph.KindPerson, Key: "ftm-0b44"}
	refFtmAigerim    = graph.Ref{Kind: graph.KindPerson, Key: "ftm-92aa"}
)

func (f *fakeBackend) fakeParties() map[graph.Ref]MatchParty {
	return map[graph.Ref]MatchParty{
		refAkhmetov: {Ref: refAkhmetov, Name: f.name(refAkhmetov), BirthDate: "1985-03-12",
			IDs: []graph.Ident{{Scheme: "iin", Value: refAkhmetov.Key}, {Scheme: "phone", Value: "+77015551234"}}},
		refFtmAkhmetov: {Ref: refFtmAkhmetov, Name: "Akhmetov Zhanbolat", Aliases: []string{"Ахметов Жанболат"}, BirthDate: "1985-03-12"},
		refOmirbekov: {Ref: refOmirbekov, Name: f.name(refOmirbekov), BirthDate: "1990-05-15",
			IDs: []graph.Ident{{Scheme: "iin", Value: refOmirbekov.Key}}},
		refFtmOmirbekova: {Ref: refFtmOmirbekova, Name: "OMIRBEKOVA ULZHAN", BirthDate: "1990-05-15",
			IDs: []graph.Ident{{Scheme: "iin", Value: refOmirbekov.Key}}},
		refAigerim: {Ref: refAigerim, Name: f.name(refAigerim), BirthDate: "1995-07-22",
			IDs: []graph.Ident{{Scheme: "iin", Value: refAigerim.Key}}},
		refFtmAigerim: {Ref: refFtmAigerim, Name: "Жанболатова Айгерим", BirthDate: "1995-07-22"},
	}
}

func (f *fakeBackend) fakeMatches() []graph.Match {
	return []graph.Match{
		{A: refOmirbekov, B: refFtmOmirbekova, Score: 1, Method: "iin", Deterministic: true},
		{A: refAkhmetov, B: refFtmAkhmetov, Score: 0.93, Method: "skeleton+dob",
			Names: [2]string{"Ахметов Жанболат Серікұлы", "Akhmetov Zhanbolat"}},
		{A: refAigerim, B: refFtmAigerim, Score: 0.88, Method: "skeleton+dob",
			Names: [2]string{"ZHANBOLATOVA AIGERIM", "Жанболатова Айгерим"}},
	}
}

func (f *fakeBackend) Proposals(ctx context.Context, progress func(stage string, done, total int)) (ProposalList, error) {
	f.mu.Lock()
	f.res.calls++
	block := f.res.block
	f.mu.Unlock()
	progress("reading entities", 3, 6)
	if block {
		<-ctx.Done()
		return ProposalList{}, ctx.Err()
	}
	progress("comparing identifiers and names", 6, 6)
	f.mu.Lock()
	defer f.mu.Unlock()
	parties := f.fakeParties()
	list := ProposalList{Parties: len(parties)}
	for _, m := range f.fakeMatches() {
		pair := pairOf(m.A, m.B)
		switch {
		case f.res.rejected[pair]:
			list.Rejected++
		case slices.ContainsFunc(f.links, func(l graph.Link) bool { return l.Type == graph.LinkSameAs && pairOf(l.From, l.To) == pair }):
			list.Linked++
		default:
			list.Rows = append(list.Rows, Proposal{Match: m, Left: parties[m.A], Right: parties[m.B]})
		}
	}
	return list, nil
}

func (f *fakeBackend) Accept(_ context.Context, p Proposal) (graph.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.res.fail != nil {
		return graph.Link{}, f.res.fail
	}
	f.res.batch++
	l := p.Match.Link("accepted", graph.Provenance{File: "resolve", Batch: 6 + f.res.batch})
	f.links = append(slices.Clip(f.links), l)
	return l, nil
}

func (f *fakeBackend) Reject(_ context.Context, p Proposal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.res.fail != nil {
		return f.res.fail
	}
	if f.res.rejected == nil {
		f.res.rejected = map[[2]graph.Ref]bool{}
	}
	f.res.rejected[pairOf(p.Match.A, p.Match.B)] = true
	return nil
}

func (f *fakeBackend) Merged(context.Context) ([]MergedLink, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parties := f.fakeParties()
	var out []MergedLink
	for i := len(f.links) - 1; i >= 0; i-- {
		l := f.links[i]
		if l.Type != graph.LinkSameAs {
			continue
		}
		score, method, _ := graph.ParseSameAsRole(l.Role)
		out = append(out, MergedLink{Link: l, Score: score, Method: method, Decision: "accepted",
			Left: parties[l.From], Right: parties[l.To]})
	}
	return out, nil
}

func (f *fakeBackend) Revert(_ context.Context, l graph.Link) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.res.fail != nil {
		return f.res.fail
	}
	i := slices.IndexFunc(f.links, func(x graph.Link) bool {
		return x.Type == graph.LinkSameAs && pairOf(x.From, x.To) == pairOf(l.From, l.To)
	})
	if i < 0 {
		return fmt.Errorf("same_as %s → %s: %w", l.From, l.To, graph.ErrNotFound)
	}
	f.links = slices.Delete(slices.Clone(f.links), i, i+1)
	return nil
}
