package workbench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
)

// The Resolve screen's half of the TUI backend (tui.Resolver) and the
// verdicts (tui.Verdicts): entity resolution over the persons,
// organisations and exchanges of the store, minus the matches that a
// same_as link already records or an analyst rejected; decisions go to the
// store as single-link edits, each journalled with the session's user.

// resolveKinds are the kinds entity resolution compares.
var resolveKinds = []graph.Kind{graph.KindPerson, graph.KindOrganisation, graph.KindExchange}

// resolveProgressEvery is how many entities are read between progress reports.
const resolveProgressEvery = 2048

// Resolution is the outcome of Resolve: the matches still to decide and
// the parties they name.
type Resolution struct {
	Result   graph.Resolution // Merges and Proposals hold only undecided matches
	parties  map[graph.Ref]tui.MatchParty
	Count    int // parties compared
	Linked   int // matches left out: a same_as link records them
	Rejected int // matches left out: an analyst rejected them
}

// Resolve reads the persons, organisations and exchanges, resolves them
// (names scoring below minScore are not proposed; 0: the default) and drops
// the matches that are decided already. progress may be nil.
func (b *Workbench) Resolve(ctx context.Context, minScore float64, progress func(stage string, done, total int)) (Resolution, error) {
	if err := b.notRemote("entity resolution"); err != nil {
		return Resolution{}, err
	}
	db := b.db
	if progress == nil {
		progress = func(string, int, int) {}
	}
	out := Resolution{parties: map[graph.Ref]tui.MatchParty{}}
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
	out.Count = len(parties)
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
				out.Linked++
			case decisionRejected:
				out.Rejected++
			default:
				kept = append(kept, m)
			}
		}
		return kept
	}
	res.Merges, res.Proposals = keep(res.Merges), keep(res.Proposals)
	out.Result = res
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

func (b *Workbench) Proposals(ctx context.Context, progress func(stage string, done, total int)) (tui.ProposalList, error) {
	r, err := b.Resolve(ctx, 0, progress)
	if err != nil {
		return tui.ProposalList{}, err
	}
	list := tui.ProposalList{Parties: r.Count, Linked: r.Linked, Rejected: r.Rejected, Skipped: r.Result.Skipped}
	for _, ms := range [][]graph.Match{r.Result.Merges, r.Result.Proposals} {
		for _, m := range ms {
			list.Rows = append(list.Rows, tui.Proposal{Match: m, Left: r.side(m.A), Right: r.side(m.B)})
		}
	}
	return list, nil
}

func (r Resolution) side(ref graph.Ref) tui.MatchParty {
	if p, ok := r.parties[ref]; ok {
		return p
	}
	return tui.MatchParty{Ref: ref}
}

func (b *Workbench) Accept(ctx context.Context, p tui.Proposal) (graph.Link, error) {
	if err := b.allow(ctx, OpResolve, ""); err != nil {
		return graph.Link{}, err
	}
	return b.db.AddLink(ctx, b.actor(), p.Match.Link("accepted", graph.Provenance{File: "resolve"}))
}

func (b *Workbench) Reject(ctx context.Context, p tui.Proposal) error {
	if err := b.allow(ctx, OpResolve, ""); err != nil {
		return err
	}
	_, err := b.db.RejectMatch(ctx, b.actor(), store.Rejection{A: p.Match.A, B: p.Match.B, Score: p.Match.Score, Method: p.Match.Method})
	return err
}

// Verdict implements tui.Verdicts.
func (b *Workbench) Verdict(ctx context.Context, ref graph.Ref) (graph.Verdict, bool, error) {
	return b.db.Verdict(ctx, ref)
}

// SetVerdict implements tui.Verdicts.
func (b *Workbench) SetVerdict(ctx context.Context, ref graph.Ref, kind graph.VerdictKind, note string) (graph.Verdict, error) {
	if err := b.allow(ctx, OpVerdict, ""); err != nil {
		return graph.Verdict{}, err
	}
	v, err := b.db.SetVerdict(ctx, b.actor(), graph.Verdict{Ref: ref, Kind: kind, Note: note})
	if err == nil {
		b.publish(Change{Action: "verdict.set", Ref: ref, What: fmt.Sprintf("marked %s %s", graph.RefTitle(ref), v.Kind)})
	}
	return v, err
}

// ClearVerdict implements tui.Verdicts.
func (b *Workbench) ClearVerdict(ctx context.Context, ref graph.Ref) error {
	_, err := b.WithdrawVerdict(ctx, ref)
	return err
}

// WithdrawVerdict clears the verdict on ref and returns the one withdrawn;
// an error wrapping store.ErrNotFound when there is none.
func (b *Workbench) WithdrawVerdict(ctx context.Context, ref graph.Ref) (graph.Verdict, error) {
	if err := b.allow(ctx, OpVerdict, ""); err != nil {
		return graph.Verdict{}, err
	}
	v, err := b.db.ClearVerdict(ctx, b.actor(), ref)
	if err == nil {
		b.publish(Change{Action: "verdict.clear", Ref: ref, What: "withdrew the verdict on " + graph.RefTitle(ref)})
	}
	return v, err
}

// Verdicts lists every analyst's verdict.
func (b *Workbench) Verdicts(ctx context.Context) ([]graph.Verdict, error) {
	return b.db.Verdicts(ctx)
}

// Merged lists the same_as links, the latest batch first, with both ends.
func (b *Workbench) Merged(ctx context.Context) ([]tui.MergedLink, error) {
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

func (b *Workbench) partyOf(ctx context.Context, ref graph.Ref) (tui.MatchParty, error) {
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
func (b *Workbench) Revert(ctx context.Context, l graph.Link) error {
	return b.RevertSameAs(ctx, l.From, l.To)
}

// RevertSameAs removes the same_as link between x and y, in whichever
// direction it was written.
func (b *Workbench) RevertSameAs(ctx context.Context, x, y graph.Ref) error {
	if err := b.allow(ctx, OpResolve, ""); err != nil {
		return err
	}
	_, err := b.db.RemoveLink(ctx, b.actor(), graph.Link{From: x, To: y, Type: graph.LinkSameAs})
	if errors.Is(err, store.ErrNotFound) {
		_, err = b.db.RemoveLink(ctx, b.actor(), graph.Link{From: y, To: x, Type: graph.LinkSameAs})
	}
	return err
}

// WriteSameAs writes links (same_as links of accepted matches) as one
// import batch, through an incremental loader, and returns the batch. The
// data changed: the workbench drops its analysis.
func (b *Workbench) WriteSameAs(ctx context.Context, links []graph.Link) (uint32, error) {
	if err := b.allow(ctx, OpResolve, ""); err != nil {
		return 0, err
	}
	defer b.dropAnalysis()
	loader, err := b.db.NewLoader()
	if err != nil {
		return 0, fmt.Errorf("start writing same_as links: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			loader.Abort()
		}
	}()
	h := sha256.New()
	fmt.Fprintf(h, "resolve %s", time.Now().UTC().Format(time.RFC3339Nano))
	for _, l := range links {
		fmt.Fprintf(h, "\n%s %s %s", l.From, l.To, l.Role)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	batch := loader.BeginBatch("resolve", sum, "same_as")
	for _, l := range links {
		l.Src = graph.Provenance{File: "resolve", Line: 0, Batch: batch}
		if err := loader.PutLink(l); err != nil {
			return 0, fmt.Errorf("write same_as %s → %s: %w", l.From, l.To, err)
		}
	}
	if err := loader.EndBatch(graph.Batch{ID: batch, Read: len(links), Imported: len(links), At: time.Now().UTC()}); err != nil {
		return 0, err
	}
	if err := loader.Finish(ctx, nil); err != nil {
		return 0, fmt.Errorf("finish writing same_as links: %w", err)
	}
	ok = true
	return batch, nil
}
