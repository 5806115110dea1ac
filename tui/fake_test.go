package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"casegraph/graph"
)

// A small Almaty dropper case: a Kaspi card topped up with cash just under
// the IIN threshold, moved to an unlicensed exchange and cashed out.
var (
	refAkhmetov  = graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	refOmirbekov = graph.Ref{Kind: graph.KindPerson, Key: "900515300008"}
	refAigerim   = graph.Ref{Kind: graph.KindPerson, Key: "950722400009"}
	refCard      = graph.Ref{Kind: graph.KindCard, Key: "4400430012347894"}
	refCard2     = graph.Ref{Kind: graph.KindCard, Key: "4400430000000016"}
	refAccount   = graph.Ref{Kind: graph.KindAccount, Key: "KZ45722S000054326792"}
	refExchange  = graph.Ref{Kind: graph.KindExchange, Key: "tengeobmen24"}
	refGroup     = graph.Ref{Kind: graph.KindGroup, Key: "G-ALA-3"}
	refATM       = graph.Ref{Kind: graph.KindATM, Key: "ATM-ALA-0042"}
	refPhone     = graph.Ref{Kind: graph.KindPhone, Key: "+77015551234"}
	refDevice    = graph.Ref{Kind: graph.KindDevice, Key: "DEV-9F3A"}
)

type fakeBackend struct {
	mu       sync.Mutex
	ents     map[graph.Ref]graph.Entity
	links    []graph.Link
	txns     []graph.Txn
	notReady bool
	searches int
	cases    fakeCases                   // cases_fake_test.go
	ana      fakeAnalytics               // flags_fake_test.go
	res      fakeResolver                // resolve_fake_test.go
	batches  []graph.Batch               // more import batches for Stats to report
	verdicts map[graph.Ref]graph.Verdict // verdict_test.go
}

func newFake() *fakeBackend {
	f := &fakeBackend{ents: map[graph.Ref]graph.Entity{}}
	add := func(e graph.Entity) { f.ents[e.Ref] = e }
	add(graph.Entity{Ref: refAkhmetov, Name: "Ахметов Жанболат Серікұлы",
		Props: map[string]string{"birth_date": "1985-03-12", "phone": "+77015551234", "city": "Алматы"},
		Src:   graph.Provenance{File: "persons.csv", Line: 2, Batch: 1}})
	add(graph.Entity{Ref: refOmirbekov, Name: "Өмірбекова Ұлжан",
		Props: map[string]string{"birth_date": "1990-05-15"}, Src: graph.Provenance{File: "persons.csv", Line: 3, Batch: 1}})
	add(graph.Entity{Ref: refAigerim, Name: "ZHANBOLATOVA AIGERIM",
		Props: map[string]string{"birth_date": "1995-07-22"}, Src: graph.Provenance{File: "persons.csv", Line: 4, Batch: 1}})
	add(graph.Entity{Ref: refCard, Props: map[string]string{"bank": "Kaspi Bank", "holder_iin": "850312300002",
		"iban": "KZ45722S000054326792", "issued": "2025-01-10", "status": "active"},
		Src: graph.Provenance{File: "cards.csv", Line: 2, Batch: 3}})
	add(graph.Entity{Ref: refCard2, Props: map[string]string{"bank": "Halyk Bank", "holder_iin": "900515300008"},
		Src: graph.Provenance{File: "cards.csv", Line: 3, Batch: 3}})
	add(graph.Entity{Ref: refAccount, Props: map[string]string{"bank": "Kaspi Bank", "currency": "KZT"},
		Src: graph.Provenance{File: "accounts.csv", Line: 2, Batch: 2}})
	add(graph.Entity{Ref: refExchange, Name: "ТенгеОбмен24", Props: map[string]string{"domain": "tengeobmen24.kz"},
		Src: graph.Provenance{File: "exchanges.csv", Line: 2, Batch: 4}})
	add(graph.Entity{Ref: refGroup, Name: "Жанболат & Co", Props: map[string]string{"case_ref": "AFM-2025-0813"},
		Src: graph.Provenance{File: "groups.csv", Line: 2, Batch: 5}})
	add(graph.Entity{Ref: refATM, Stub: true})
	add(graph.Entity{Ref: refPhone, Stub: true})
	add(graph.Entity{Ref: refDevice, Stub: true})

	f.links = []graph.Link{
		{From: refAkhmetov, To: refCard, Type: graph.LinkHolds},
		{From: refOmirbekov, To: refCard2, Type: graph.LinkHolds},
		{From: refCard, To: refAccount, Type: graph.LinkCardOf},
		{From: refAkhmetov, To: refGroup, Type: graph.LinkMemberOf, Role: "dropper"},
		{From: refOmirbekov, To: refGroup, Type: graph.LinkMemberOf, Role: "organiser"},
		{From: refAkhmetov, To: refPhone, Type: graph.LinkUsesPhone},
		{From: refOmirbekov, To: refPhone, Type: graph.LinkUsesPhone},
		{From: refCard, To: refDevice, Type: graph.LinkUsesDevice},
	}

	// 130 transactions on the main card: cash top-ups just under 500,000 ₸,
	// transfers in, trades out to the exchange and cash-outs.
	base := time.Date(2025, 3, 1, 4, 0, 0, 0, time.UTC)
	for i := range 130 {
		t := graph.Txn{ID: fmt.Sprintf("T%04d", i+1), Time: base.Add(time.Duration(i) * 3 * time.Hour), Currency: "KZT",
			Device: "DEV-9F3A", Src: graph.Provenance{File: "txns.csv", Line: i + 2, Batch: 6}}
		switch i % 4 {
		case 0:
			t.From, t.To, t.Channel, t.Amount, t.ATM = graph.CashRef, refCard, graph.ChannelTopup, int64(495000+i*10)*100, "ATM-ALA-0042"
			t.IINProvided, t.AppConfirmed = graph.TriNo, graph.TriNo
		case 1:
			t.From, t.To, t.Channel, t.Amount, t.Reference = refCard2, refCard, graph.ChannelTransfer, int64(150000+i)*100, "USDT P2P"
		case 2:
			t.From, t.To, t.Channel, t.Amount, t.Reference = refCard, refExchange, graph.ChannelTrade, int64(600000+i)*100, "buy USDT"
		case 3:
			t.From, t.To, t.Channel, t.Amount, t.ATM = refCard, refATM, graph.ChannelCashOut, int64(30000+i)*100, "ATM-ALA-0042"
		}
		f.txns = append(f.txns, t)
	}
	return f
}

func (f *fakeBackend) Name() string { return "demo.db" }

func (f *fakeBackend) Stats(context.Context) (graph.Stats, error) {
	s := graph.Stats{Entities: map[graph.Kind]int{}, Links: map[graph.LinkType]int{}, TxnsByChan: map[graph.Channel]int{}}
	for _, e := range f.ents {
		s.Entities[e.Ref.Kind]++
		if e.Stub {
			s.Stubs++
		}
	}
	for _, l := range f.links {
		s.Links[l.Type]++
	}
	for _, t := range f.txns {
		s.TxnsByChan[t.Channel]++
	}
	s.Txns = len(f.txns)
	at := time.Date(2025, 3, 20, 9, 0, 0, 0, time.UTC)
	s.Batches = []graph.Batch{
		{ID: 1, File: "/cases/ala/persons.csv", Format: "persons", Read: 3, Imported: 3, At: at},
		{ID: 3, File: "/cases/ala/cards.csv", Format: "cards", Read: 3, Imported: 2, Rejected: 1, At: at},
		{ID: 6, File: "/cases/ala/txns.csv", Format: "transactions", Read: 131, Imported: 130, Rejected: 1, At: at},
	}
	s.Batches = append(s.Batches, f.batches...)
	return s, nil
}

func (f *fakeBackend) Entity(_ context.Context, ref graph.Ref) (graph.Entity, error) {
	e, ok := f.ents[ref]
	if !ok {
		if ref == graph.CashRef {
			return graph.Entity{Ref: ref, Stub: true}, nil
		}
		return graph.Entity{}, fmt.Errorf("entity %s: %w", ref, graph.ErrNotFound)
	}
	return e, nil
}

func (f *fakeBackend) name(r graph.Ref) string { return f.ents[r].Name }

func (f *fakeBackend) Neighbors(_ context.Context, ref graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	type key struct {
		rel string
		dir graph.Direction
		ref graph.Ref
	}
	agg := map[key]*graph.Neighbor{}
	addRow := func(k key, amount int64, at time.Time) {
		n := agg[k]
		if n == nil {
			n = &graph.Neighbor{Ref: k.ref, Name: f.name(k.ref), Relation: k.rel, Dir: k.dir, FirstSeen: at}
			agg[k] = n
		}
		n.Count++
		n.Amount += amount
		n.LastSeen = at
	}
	for _, l := range f.links {
		if l.From == ref {
			addRow(key{l.Type.String(), graph.DirOut, l.To}, 0, time.Time{})
		}
		if l.To == ref {
			addRow(key{l.Type.String(), graph.DirIn, l.From}, 0, time.Time{})
		}
	}
	for _, t := range f.txns {
		if t.From == ref {
			addRow(key{t.Channel.String(), graph.DirOut, t.To}, t.Amount, t.Time)
		}
		if t.To == ref {
			addRow(key{t.Channel.String(), graph.DirIn, t.From}, t.Amount, t.Time)
		}
	}
	rows := make([]graph.Neighbor, 0, len(agg))
	for _, n := range agg {
		rows = append(rows, *n)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Relation != b.Relation {
			return a.Relation < b.Relation
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Ref.Less(b.Ref)
	})
	total := len(rows)
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return rows, total, nil
}

func (f *fakeBackend) Transactions(_ context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error) {
	var all []graph.Txn
	var p graph.TxPage
	owners, holder := f.owners(ref, q.Via)
	for _, o := range owners {
		for _, t := range f.txns {
			if (!q.From.IsZero() && t.Time.Before(q.From)) || (!q.To.IsZero() && !t.Time.Before(q.To)) ||
				!q.Keeps(t.Amount, t.Currency) {
				continue
			}
			if t.From == o || t.To == o {
				if holder {
					t.Via = o
				}
				all = append(all, t)
				if t.To == o {
					p.In += t.Amount
				} else {
					p.Out += t.Amount
				}
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		switch q.Sort {
		case graph.SortTimeAsc:
			return a.Time.Before(b.Time)
		case graph.SortAmountDesc:
			return a.Amount > b.Amount
		case graph.SortAmountAsc:
			return a.Amount < b.Amount
		}
		return a.Time.After(b.Time)
	})
	p.Total = len(all)
	lo := min(q.Offset, len(all))
	hi := len(all)
	if q.Limit > 0 {
		hi = min(lo+q.Limit, len(all))
	}
	p.Txns = all[lo:hi]
	return p, nil
}

func (f *fakeBackend) Search(_ context.Context, query string, kind graph.Kind, limit int) (graph.SearchResult, error) {
	f.mu.Lock()
	f.searches++
	notReady := f.notReady
	f.mu.Unlock()
	if notReady {
		return graph.SearchResult{}, ErrSearchNotReady
	}
	q := strings.ToLower(strings.TrimSpace(query))
	res := graph.SearchResult{Query: query}
	refs := make([]graph.Ref, 0, len(f.ents))
	for r := range f.ents {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Less(refs[j]) })
	for _, r := range refs {
		if kind != graph.KindUnknown && r.Kind != kind {
			continue
		}
		d := graph.DocFor(f.ents[r])
		label := []rune(strings.ToLower(d.Label))
		if i := strings.Index(string(label), q); i >= 0 {
			start := len([]rune(string(label)[:i]))
			var matched []int
			for k := range len([]rune(q)) {
				matched = append(matched, start+k)
			}
			res.Hits = append(res.Hits, graph.SearchHit{Doc: d, Score: 100, Matched: matched})
			continue
		}
		for _, term := range d.Terms {
			if strings.Contains(strings.ToLower(term), q) {
				res.Hits = append(res.Hits, graph.SearchHit{Doc: d, Score: 50, Term: term})
				break
			}
		}
	}
	res.Total = len(res.Hits)
	if len(res.Hits) > limit {
		res.Hits = res.Hits[:limit]
	}
	// As the workbench does: each hit carries its risk, when one is known.
	refs = refs[:0]
	for _, h := range res.Hits {
		refs = append(refs, h.Doc.Ref)
	}
	marks, _ := f.RiskMarks(context.Background(), refs)
	for i := range res.Hits {
		res.Hits[i].Risk = marks[res.Hits[i].Doc.Ref]
	}
	return res, nil
}

// held lists the instruments ref holds (holds links).
func (f *fakeBackend) held(ref graph.Ref) []graph.Ref {
	var out []graph.Ref
	for _, l := range f.links {
		if l.From == ref && l.Type == graph.LinkHolds {
			out = append(out, l.To)
		}
	}
	return out
}

// owners are the entities whose transactions ref's listing holds, as the
// workbench merges them: a holder's own and its instruments' (or the one
// instrument via); holder is false for an entity that holds nothing.
func (f *fakeBackend) owners(ref, via graph.Ref) ([]graph.Ref, bool) {
	held := f.held(ref)
	if (ref.Kind != graph.KindPerson && ref.Kind != graph.KindOrganisation) || len(held) == 0 {
		return []graph.Ref{ref}, false
	}
	if !via.IsZero() {
		return []graph.Ref{via}, true
	}
	return append([]graph.Ref{ref}, held...), true
}

func (f *fakeBackend) Holdings(ctx context.Context, ref graph.Ref, limit int) (graph.Holdings, error) {
	var h graph.Holdings
	if ref.Kind != graph.KindPerson && ref.Kind != graph.KindOrganisation {
		return h, nil
	}
	own, _ := f.Transactions(ctx, ref, graph.TxQuery{Via: ref})
	if len(f.held(ref)) == 0 {
		own, _ = f.Transactions(ctx, ref, graph.TxQuery{})
	}
	h.Txns, h.In, h.Out = own.Total, own.In, own.Out
	for _, r := range f.held(ref) {
		p, _ := f.Transactions(ctx, r, graph.TxQuery{})
		h.Items = append(h.Items, graph.Holding{Ref: r, Name: f.name(r), Txns: p.Total, In: p.In, Out: p.Out})
		h.Txns, h.In, h.Out = h.Txns+p.Total, h.In+p.In, h.Out+p.Out
	}
	sort.SliceStable(h.Items, func(i, j int) bool { return h.Items[i].Txns > h.Items[j].Txns })
	h.Total = len(h.Items)
	if limit > 0 && len(h.Items) > limit {
		h.Items = h.Items[:limit]
	}
	return h, nil
}

func (f *fakeBackend) HolderNeighbors(ctx context.Context, ref, via graph.Ref, limit int) ([]graph.Neighbor, int, error) {
	owners, holder := f.owners(ref, via)
	if !holder {
		return f.Neighbors(ctx, ref, limit)
	}
	rows, _, _ := f.Neighbors(ctx, ref, 0)
	type key struct {
		rel string
		dir graph.Direction
		ref graph.Ref
	}
	at := map[key]int{}
	for i, n := range rows {
		at[key{n.Relation, n.Dir, n.Ref}] = i
	}
	for _, o := range owners {
		if o == ref {
			continue
		}
		nbs, _, _ := f.Neighbors(ctx, o, 0)
		for _, n := range nbs {
			if _, err := graph.ParseChannel(n.Relation); err != nil {
				continue // the instrument's links are its own
			}
			k := key{n.Relation, n.Dir, n.Ref}
			if i, ok := at[k]; ok {
				rows[i].Count += n.Count
				rows[i].Amount += n.Amount
				rows[i].ViaCount++
				continue
			}
			n.Via, n.ViaCount = o, 1
			at[k] = len(rows)
			rows = append(rows, n)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		_, ea := graph.ParseChannel(a.Relation)
		_, eb := graph.ParseChannel(b.Relation)
		if (ea == nil) != (eb == nil) {
			return ea != nil // links first
		}
		if a.Relation != b.Relation {
			return a.Relation < b.Relation
		}
		return a.Count > b.Count
	})
	total := len(rows)
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return rows, total, nil
}
