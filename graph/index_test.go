package graph

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func icard(n int) Ref { return Ref{Kind: KindCard, Key: fmt.Sprintf("44000000%08d", n)} }

func iperson(n int) Ref { return Ref{Kind: KindPerson, Key: fmt.Sprintf("8501013%05d", n)} }

var ixT0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

func TestIndexSmall(t *testing.T) {
	b := NewIndexBuilder()
	b.AddEntity(Entity{Ref: iperson(1), Name: "Айдар Касымов", Props: map[string]string{"bank": "ignored", "birth": "x"}})
	b.AddEntity(Entity{Ref: icard(1), Props: map[string]string{"bank": "Kaspi", "issued": "2024-01-05"}})
	b.AddEntity(Entity{Ref: icard(2), Stub: true, Name: "stub name"})
	b.AddEntity(Entity{Ref: Ref{Kind: KindExchange, Key: "ex.kz"}, Name: "EX", Props: map[string]string{"afsa_licence": "A-1"}})
	b.AddLink(Link{From: iperson(1), To: icard(1), Type: LinkHolds})
	b.AddLink(Link{From: iperson(1), To: icard(1), Type: LinkHolds}) // duplicate
	b.AddLink(Link{From: iperson(1), To: icard(2), Type: LinkHolds})
	b.AddTxn(Txn{ID: "t2", Time: ixT0.Add(2 * time.Hour), From: icard(1), To: icard(2), Amount: 200, Channel: ChannelTransfer,
		Device: "dev-1", IINProvided: TriNo, Reference: "оплата ордер №123456"})
	b.AddTxn(Txn{ID: "t1", Time: ixT0.Add(1 * time.Hour), From: icard(2), To: icard(1), Amount: 100, Channel: ChannelTransfer,
		IINProvided: TriYes, AppConfirmed: TriNo})
	b.AddTxn(Txn{ID: "t3", Time: ixT0.Add(3 * time.Hour), From: icard(2), To: Ref{Kind: KindATM, Key: "ATM7"}, Amount: 150,
		Channel: ChannelCashOut, ATM: "ATM7", AppConfirmed: TriYes})
	// A full record arriving after the stub wins.
	b.AddEntity(Entity{Ref: icard(2), Props: map[string]string{"bank": "Halyk"}})
	b.AddEntity(Entity{Ref: icard(2), Stub: true, Name: "late stub"})
	ix := b.Build()

	// Nodes: person, 2 cards, exchange, atm, device = 6, numbered in Ref order.
	if ix.Len() != 6 {
		t.Fatalf("Len = %d, want 6", ix.Len())
	}
	for i := 1; i < ix.Len(); i++ {
		if !ix.Ref(NodeID(i - 1)).Less(ix.Ref(NodeID(i))) {
			t.Fatalf("nodes not in ref order: %v then %v", ix.Ref(NodeID(i-1)), ix.Ref(NodeID(i)))
		}
	}
	p1, ok := ix.Lookup(iperson(1))
	if !ok || ix.Name(p1) != "Айдар Касымов" || ix.Kind(p1) != KindPerson || ix.Stub(p1) {
		t.Fatalf("person: ok=%v name=%q stub=%v", ok, ix.Name(p1), ix.Stub(p1))
	}
	if ix.Prop(p1, "bank") != "ignored" || ix.Prop(p1, "birth") != "" {
		t.Errorf("person props: bank=%q birth=%q", ix.Prop(p1, "bank"), ix.Prop(p1, "birth"))
	}
	c1, _ := ix.Lookup(icard(1))
	c2, _ := ix.Lookup(icard(2))
	if ix.Prop(c1, PropBank) != "Kaspi" || ix.Prop(c1, PropIssued) != "2024-01-05" || ix.Prop(c2, PropBank) != "Halyk" {
		t.Errorf("card props: %q %q %q", ix.Prop(c1, PropBank), ix.Prop(c1, PropIssued), ix.Prop(c2, PropBank))
	}
	if ix.Stub(c2) || ix.Name(c2) != "" {
		t.Errorf("card 2: stub=%v name=%q, want full with no name", ix.Stub(c2), ix.Name(c2))
	}
	atm, ok := ix.Lookup(Ref{Kind: KindATM, Key: "ATM7"})
	if !ok || !ix.Stub(atm) {
		t.Fatalf("atm: ok=%v stub=%v", ok, ix.Stub(atm))
	}
	if _, ok := ix.Lookup(icard(3)); ok {
		t.Error("Lookup found a missing card")
	}
	if _, ok := ix.Lookup(Ref{Kind: KindWallet, Key: "zzz"}); ok {
		t.Error("Lookup found a missing wallet")
	}

	if ix.TxCount() != 3 {
		t.Fatalf("TxCount = %d", ix.TxCount())
	}
	var gotIDs []string
	for i := range uint32(3) {
		gotIDs = append(gotIDs, ix.TxID(i))
	}
	if !slices.Equal(gotIDs, []string{"t1", "t2", "t3"}) {
		t.Errorf("tx order %v, want by time", gotIDs)
	}
	tx2, ok := ix.LookupTx("t2")
	if !ok || tx2 != 1 || ix.TxFrom(tx2) != c1 || ix.TxTo(tx2) != c2 || ix.TxAmount(tx2) != 200 ||
		ix.TxTime(tx2) != ixT0.Add(2*time.Hour).Unix() || ix.TxChannel(tx2) != ChannelTransfer {
		t.Errorf("t2 columns wrong")
	}
	if f := ix.TxFlags(tx2); !f.Has(TxIINMissing|TxP2PText) || f.Has(TxIINProvided) || f.Has(TxAppConfirmed) {
		t.Errorf("t2 flags %05b", f)
	}
	if f := ix.TxFlags(0); f != TxIINProvided|TxAppNotConfirmed {
		t.Errorf("t1 flags %05b", f)
	}
	if d, ok := ix.TxDevice(tx2); !ok || ix.Ref(d) != (Ref{Kind: KindDevice, Key: "dev-1"}) {
		t.Errorf("t2 device %v %v", d, ok)
	}
	if _, ok := ix.TxIP(tx2); ok {
		t.Error("t2 has no ip")
	}
	if a, ok := ix.TxATM(2); !ok || a != atm {
		t.Errorf("t3 atm %v %v", a, ok)
	}
	out := ix.OutTx(c2)
	if len(out) != 2 || out[0].Other != c1 || out[1].Other != atm || out[0].Time > out[1].Time {
		t.Errorf("OutTx(card2) = %+v", out)
	}
	in := ix.InTx(c2)
	if len(in) != 1 || in[0].Other != c1 || in[0].Amount != 200 || in[0].Tx != tx2 {
		t.Errorf("InTx(card2) = %+v", in)
	}
	if l := ix.Links(p1); len(l) != 2 || l[0] != (LinkEdge{Other: c1, Type: LinkHolds, Out: true}) {
		t.Errorf("Links(person) = %+v", l)
	}
	if l := ix.Links(c1); len(l) != 1 || l[0] != (LinkEdge{Other: p1, Type: LinkHolds, Out: false}) {
		t.Errorf("Links(card1) = %+v", l)
	}
	if ix.Bytes() <= 0 {
		t.Error("Bytes not positive")
	}
}

func TestLooksP2P(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"USDT purchase", true},
		{"p2p перевод", true},
		{"Binance P2P", true},
		{"за bybit", true},
		{"order 1234567", true},
		{"Order#98765", true},
		{"ОРДЕР №554433", true},
		{"order of business 12", false},
		{"за обед", false},
		{"", false},
		{"возврат долга", false},
	} {
		if got := LooksP2P(c.s); got != c.want {
			t.Errorf("LooksP2P(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

// randomData is a small random case: entities, links and transactions over
// nodes persons 0..np and cards 0..nc.
type randomData struct {
	ents  []Entity
	links []Link
	txns  []Txn
}

func newRandomData(r *rand.Rand, np, nc, nl, nt int) randomData {
	var d randomData
	for i := range np {
		d.ents = append(d.ents, Entity{Ref: iperson(i), Name: fmt.Sprintf("P%d", i)})
	}
	for i := range nc {
		d.ents = append(d.ents, Entity{Ref: icard(i), Stub: r.IntN(4) == 0})
	}
	for range nl {
		d.links = append(d.links, Link{From: iperson(r.IntN(np)), To: icard(r.IntN(nc)), Type: LinkHolds})
	}
	for i := range nt {
		t := Txn{ID: fmt.Sprintf("tx%05d", i), Time: ixT0.Add(time.Duration(r.IntN(200)) * time.Minute),
			From: icard(r.IntN(nc)), To: icard(r.IntN(nc)), Amount: int64(1 + r.IntN(1000)), Channel: ChannelTransfer}
		d.txns = append(d.txns, t)
	}
	return d
}

func (d randomData) build(r *rand.Rand) *Index {
	b := NewIndexBuilder()
	ents, links, txns := slices.Clone(d.ents), slices.Clone(d.links), slices.Clone(d.txns)
	if r != nil {
		r.Shuffle(len(ents), func(i, j int) { ents[i], ents[j] = ents[j], ents[i] })
		r.Shuffle(len(links), func(i, j int) { links[i], links[j] = links[j], links[i] })
		r.Shuffle(len(txns), func(i, j int) { txns[i], txns[j] = txns[j], txns[i] })
	}
	for _, t := range txns {
		b.AddTxn(t)
	}
	for _, l := range links {
		b.AddLink(l)
	}
	for _, e := range ents {
		b.AddEntity(e)
	}
	return b.Build()
}

func TestIndexMatchesInputAndIsOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		d := newRandomData(r, 5+r.IntN(10), 5+r.IntN(30), r.IntN(40), r.IntN(200))
		ix := d.build(nil)
		ix2 := d.build(r)
		if ix.Len() != ix2.Len() || ix.TxCount() != ix2.TxCount() {
			t.Fatalf("round %d: sizes differ across input orders", round)
		}
		for v := range NodeID(ix.Len()) {
			if ix.Ref(v) != ix2.Ref(v) || !slices.Equal(ix.OutTx(v), ix2.OutTx(v)) ||
				!slices.Equal(ix.InTx(v), ix2.InTx(v)) || !slices.Equal(ix.Links(v), ix2.Links(v)) {
				t.Fatalf("round %d: node %d differs across input orders", round, v)
			}
		}
		// Every input transaction is found once, from both ends.
		for _, tx := range d.txns {
			i, ok := ix.LookupTx(tx.ID)
			if !ok {
				t.Fatalf("round %d: %s missing", round, tx.ID)
			}
			from, _ := ix.Lookup(tx.From)
			to, _ := ix.Lookup(tx.To)
			if ix.TxFrom(i) != from || ix.TxTo(i) != to || ix.TxAmount(i) != tx.Amount || ix.TxTime(i) != tx.Time.Unix() {
				t.Fatalf("round %d: %s columns wrong", round, tx.ID)
			}
			want := TxEdge{Tx: i, Other: to, Time: tx.Time.Unix(), Amount: tx.Amount, Channel: tx.Channel}
			if !slices.Contains(ix.OutTx(from), want) {
				t.Fatalf("round %d: %s missing from OutTx", round, tx.ID)
			}
			want.Other = from
			if !slices.Contains(ix.InTx(to), want) {
				t.Fatalf("round %d: %s missing from InTx", round, tx.ID)
			}
		}
		total := 0
		for v := range NodeID(ix.Len()) {
			out := ix.OutTx(v)
			total += len(out)
			if !slices.IsSortedFunc(out, func(a, b TxEdge) int {
				if a.Time != b.Time {
					return int(a.Time - b.Time)
				}
				return int(a.Tx) - int(b.Tx)
			}) {
				t.Fatalf("round %d: OutTx(%d) not sorted", round, v)
			}
		}
		if total != len(d.txns) {
			t.Fatalf("round %d: %d out edges, want %d", round, total, len(d.txns))
		}
		// Links: unique pairs, seen from both ends.
		pairs := map[[2]Ref]bool{}
		for _, l := range d.links {
			pairs[[2]Ref{l.From, l.To}] = true
		}
		nlinks := 0
		for v := range NodeID(ix.Len()) {
			for _, le := range ix.Links(v) {
				if le.Out {
					nlinks++
					if !pairs[[2]Ref{ix.Ref(v), ix.Ref(le.Other)}] {
						t.Fatalf("round %d: unexpected link", round)
					}
				}
			}
		}
		if nlinks != len(pairs) {
			t.Fatalf("round %d: %d links, want %d", round, nlinks, len(pairs))
		}
	}
}

type sliceSource struct {
	d   randomData
	err error
}

func (s sliceSource) ScanAll(ctx context.Context, fe func(Entity) error, fl func(Link) error, ft func(Txn) error) error {
	for _, e := range s.d.ents {
		if err := fe(e); err != nil {
			return err
		}
	}
	for _, l := range s.d.links {
		if err := fl(l); err != nil {
			return err
		}
	}
	for _, t := range s.d.txns {
		if err := ft(t); err != nil {
			return err
		}
	}
	return s.err
}

func TestBuildIndex(t *testing.T) {
	d := newRandomData(rand.New(rand.NewPCG(3, 4)), 4, 8, 6, 30)
	ix, err := BuildIndex(context.Background(), sliceSource{d: d})
	if err != nil {
		t.Fatal(err)
	}
	if ix.TxCount() != 30 {
		t.Errorf("TxCount = %d", ix.TxCount())
	}
	boom := errors.New("boom")
	if _, err := BuildIndex(context.Background(), sliceSource{d: d, err: boom}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := BuildIndex(ctx, sliceSource{d: d}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
}
