package graph

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// rb builds small graphs for rule tests. Times are offsets from a Monday
// noon in Almaty (07:00 UTC).
type rb struct {
	b  *IndexBuilder
	t0 time.Time
	n  int
}

func newRB() *rb {
	return &rb{b: NewIndexBuilder(), t0: time.Date(2025, 3, 10, 7, 0, 0, 0, time.UTC)}
}

func rPerson(n int) Ref { return Ref{Kind: KindPerson, Key: fmt.Sprintf("9901013%05d", n)} }
func rCard(n int) Ref   { return Ref{Kind: KindCard, Key: fmt.Sprintf("55000000%08d", n)} }
func rATM(n int) Ref    { return Ref{Kind: KindATM, Key: fmt.Sprintf("ATM-%d", n)} }

func (r *rb) person(n int) Ref {
	r.b.AddEntity(Entity{Ref: rPerson(n), Name: fmt.Sprintf("Person %d", n)})
	return rPerson(n)
}

// card adds card n held by person holder (≥ 0) in bank, issued on a date.
func (r *rb) card(n, holder int, bank, issued string) Ref {
	props := map[string]string{}
	if bank != "" {
		props["bank"] = bank
	}
	if issued != "" {
		props["issued"] = issued
	}
	r.b.AddEntity(Entity{Ref: rCard(n), Props: props})
	if holder >= 0 {
		r.person(holder)
		r.b.AddLink(Link{From: rPerson(holder), To: rCard(n), Type: LinkHolds})
	}
	return rCard(n)
}

// tx adds a transaction at t0+at of amount whole tenge.
func (r *rb) tx(from, to Ref, at time.Duration, kztAmount int64, ch Channel, opts ...func(*Txn)) {
	r.n++
	t := Txn{ID: fmt.Sprintf("T%05d", r.n), Time: r.t0.Add(at), From: from, To: to, Amount: kztAmount * 100,
		Currency: "KZT", Channel: ch}
	if ch == ChannelCashOut && to.Kind == KindATM {
		t.ATM = to.Key
	}
	for _, o := range opts {
		o(&t)
	}
	r.b.AddTxn(t)
}

func (r *rb) run(t *testing.T) (*Index, Flags) {
	t.Helper()
	ix := r.b.Build()
	f, err := RunRules(context.Background(), ix, DefaultRuleConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return ix, f
}

// hitOn reports whether rule fired on ref.
func hitOn(ix *Index, f Flags, rule string, ref Ref) bool {
	id, ok := ix.Lookup(ref)
	if !ok {
		return false
	}
	for _, h := range f.Hits {
		if h.Rule == rule && h.Node == id {
			return true
		}
	}
	return false
}

func riskOf(ix *Index, f Flags, ref Ref) float64 {
	id, ok := ix.Lookup(ref)
	if !ok {
		return 0
	}
	for _, r := range f.Risks {
		if r.Node == id {
			return r.Score
		}
	}
	return 0
}

const (
	hr  = time.Hour
	day = 24 * time.Hour
)

func withDevice(d string) func(*Txn) { return func(t *Txn) { t.Device = d } }
func withRef(s string) func(*Txn)    { return func(t *Txn) { t.Reference = s } }
func withIIN(v Tri) func(*Txn)       { return func(t *Txn) { t.IINProvided = v; t.AppConfirmed = TriNo } }

func TestRulesPositiveAndNegative(t *testing.T) {
	exchange := func(r *rb, licence string) Ref {
		ref := Ref{Kind: KindExchange, Key: "EX-1"}
		r.b.AddEntity(Entity{Ref: ref, Name: "Обменник", Props: map[string]string{"afsa_licence": licence}})
		return ref
	}
	cases := []struct {
		rule   string
		target Ref
		build  func(r *rb, positive bool)
	}{
		{"R1", rCard(1), func(r *rb, pos bool) {
			x := r.card(1, 1, "Kaspi Bank", "")
			for i := 0; i < 12; i++ {
				r.tx(r.card(100+i, 100+i, "Halyk", ""), x, time.Duration(i)*40*time.Minute, 60000, ChannelTransfer)
			}
			if pos {
				r.tx(x, rATM(1), 14*hr, 400000, ChannelCashOut)
				r.tx(x, rATM(1), 14*hr+5*time.Minute, 300000, ChannelCashOut)
			} else {
				r.tx(x, rATM(1), 14*hr, 100000, ChannelCashOut)
			}
		}},
		{"R2", rCard(1), func(r *rb, pos bool) {
			x := r.card(1, 1, "Kaspi Bank", "")
			r.tx(r.card(2, 2, "Halyk", ""), x, 0, 1200000, ChannelTransfer)
			out := int64(1150000)
			if !pos {
				out = 200000
			}
			r.tx(x, r.card(3, 3, "Halyk", ""), 30*time.Minute, out, ChannelTransfer)
		}},
		{"R3", rCard(1), func(r *rb, pos bool) {
			x := r.card(1, 1, "Kaspi Bank", "")
			v := TriNo
			if !pos {
				v = TriYes
			}
			for i, a := range []int64{495000, 497000, 499000} {
				r.tx(rATM(1), x, time.Duration(i)*day, a, ChannelTopup, withIIN(v))
			}
		}},
		{"R4", rPerson(1), func(r *rb, pos bool) {
			r.card(1, 1, "Kaspi Bank", "")
			r.card(2, 1, "Halyk", "")
			third := "Kaspi Bank"
			if pos {
				third = "ForteBank"
			}
			r.card(3, 1, third, "")
		}},
		{"R5", rPerson(1), func(r *rb, pos bool) {
			holders := 2
			if pos {
				holders = 3
			}
			dev := Ref{Kind: KindDevice, Key: "DEV-1"}
			for i := 1; i <= holders; i++ {
				// The importer links the sending instrument to the device.
				r.tx(r.card(i, i, "Kaspi Bank", ""), rCard(50), time.Duration(i)*hr, 1000, ChannelTransfer, withDevice(dev.Key))
				r.b.AddLink(Link{From: rCard(i), To: dev, Type: LinkUsesDevice})
			}
		}},
		{"R6", rCard(1), func(r *rb, pos bool) {
			gap := 20 * time.Minute
			if !pos {
				gap = 2 * hr
			}
			for i := 1; i <= 3; i++ {
				r.tx(r.card(i, i, "Kaspi Bank", ""), rATM(1), time.Duration(i)*gap, 100000, ChannelCashOut)
			}
		}},
		{"R7", rCard(1), func(r *rb, pos bool) {
			issued := "2025-03-05"
			if !pos {
				issued = "2024-06-01"
			}
			x := r.card(1, 1, "Kaspi Bank", issued)
			for i := 0; i < 3; i++ {
				r.tx(r.card(10+i, 10+i, "Halyk", ""), x, time.Duration(i)*day, 900000, ChannelTransfer)
			}
		}},
		{"R8", rCard(1), func(r *rb, pos bool) {
			x := r.card(1, 1, "Kaspi Bank", "")
			r.tx(r.card(2, 2, "Halyk", ""), x, 0, 5000, ChannelTransfer)
			gap := 100 * day
			if !pos {
				gap = 30 * day
			}
			r.tx(r.card(2, 2, "Halyk", ""), x, gap, 1200000, ChannelTransfer)
		}},
		{"R9", rCard(1), func(r *rb, pos bool) {
			x := r.card(1, 1, "Kaspi Bank", "")
			base := 14 * hr // 02:00 Almaty the next night
			if !pos {
				base = 0 // noon
			}
			for i := 0; i < 3; i++ {
				r.tx(x, rATM(1), base+time.Duration(i)*day, 20000, ChannelCashOut)
			}
		}},
		{"R10", rCard(1), func(r *rb, pos bool) {
			ref := "за обед"
			if pos {
				ref = "USDT P2P order 5512345"
			}
			r.tx(r.card(2, 2, "Halyk", ""), r.card(1, 1, "Kaspi Bank", ""), 0, 250000, ChannelTransfer, withRef(ref))
		}},
		{"R11", rCard(1), func(r *rb, pos bool) {
			lic := "AFSA-A-LA-2023-0001"
			if pos {
				lic = ""
			}
			r.tx(r.card(1, 1, "Kaspi Bank", ""), exchange(r, lic), 0, 300000, ChannelTrade)
		}},
		{"R12", rCard(1), func(r *rb, pos bool) {
			x := r.card(1, 1, "Kaspi Bank", "")
			for i := 0; i < 10; i++ {
				a := int64(100000 + 1000*i)
				if !pos {
					a = int64(10000 + 40000*i)
				}
				r.tx(x, r.card(10+i, 10+i, "Halyk", ""), time.Duration(i)*20*time.Minute, a, ChannelTransfer)
			}
		}},
		{"R13", rCard(2), func(r *rb, pos bool) {
			dwell := hr
			if !pos {
				dwell = 10 * hr
			}
			v := r.card(1, 1, "Halyk", "")
			a, b, c := r.card(2, 2, "Kaspi Bank", ""), r.card(3, 3, "Kaspi Bank", ""), r.card(4, 4, "Kaspi Bank", "")
			r.tx(v, a, 0, 1000000, ChannelTransfer)
			r.tx(a, b, dwell, 950000, ChannelTransfer)
			r.tx(b, c, 2*dwell, 900000, ChannelTransfer)
			r.tx(c, rATM(1), 3*dwell, 880000, ChannelCashOut)
		}},
		{"R14", rCard(2), func(r *rb, pos bool) {
			back := int64(900000)
			if !pos {
				back = 500000
			}
			a, b, c := r.card(1, 1, "Halyk", ""), r.card(2, 2, "Kaspi Bank", ""), r.card(3, 3, "Kaspi Bank", "")
			r.tx(a, b, 0, 1000000, ChannelTransfer)
			r.tx(b, c, 3*hr, 950000, ChannelTransfer)
			r.tx(c, a, 10*hr, back, ChannelTransfer)
		}},
		{"R15", rCard(1), func(r *rb, pos bool) {
			n := 3
			if pos {
				n = 5
			}
			x, y := r.card(1, 1, "Kaspi Bank", ""), r.card(2, 2, "Halyk", "")
			for i := 0; i < n; i++ {
				r.tx(x, y, time.Duration(i)*day, 20000, ChannelTransfer)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			pos := newRB()
			c.build(pos, true)
			ix, f := pos.run(t)
			if !hitOn(ix, f, c.rule, c.target) {
				t.Errorf("%s did not fire on %s; hits: %+v", c.rule, c.target, f.Hits)
			}
			for _, h := range f.Hits {
				if h.Rule == c.rule && h.Reason == "" {
					t.Errorf("%s hit without a reason", c.rule)
				}
			}
			neg := newRB()
			c.build(neg, false)
			ix, f = neg.run(t)
			for _, h := range f.Hits {
				if h.Rule == c.rule {
					t.Errorf("%s fired on the negative case: %s %s", c.rule, ix.Ref(h.Node), h.Reason)
				}
			}
		})
	}
}

func TestRiskPropagatesToUnusedCardsAndHolder(t *testing.T) {
	r := newRB()
	// A dropper: cards in three banks (R4), one used for a layering chain.
	r.card(1, 1, "Kaspi Bank", "")
	r.card(2, 1, "Halyk", "")
	idle := r.card(3, 1, "ForteBank", "")
	v := r.card(10, 10, "Halyk", "")
	b, c := r.card(11, 11, "Kaspi Bank", ""), r.card(12, 12, "Kaspi Bank", "")
	r.tx(v, rCard(1), 0, 1000000, ChannelTransfer)
	r.tx(rCard(1), b, hr, 950000, ChannelTransfer)
	r.tx(b, c, 2*hr, 900000, ChannelTransfer)
	r.tx(c, rATM(1), 3*hr, 880000, ChannelCashOut)
	ix, f := r.run(t)
	if got := riskOf(ix, f, rPerson(1)); got < f.Threshold {
		t.Errorf("holder risk %.2f, want ≥ %.2f", got, f.Threshold)
	}
	if got := riskOf(ix, f, idle); got < f.Threshold {
		t.Errorf("idle card of a flagged holder: risk %.2f, want ≥ %.2f", got, f.Threshold)
	}
	if got := riskOf(ix, f, v); got != 0 {
		t.Errorf("the victim who paid into the chain has risk %.2f, want 0", got)
	}
	// A card with only R4 inherited stays below the threshold on its own
	// when the holder has nothing else.
	r2 := newRB()
	r2.card(1, 1, "Kaspi Bank", "")
	r2.card(2, 1, "Halyk", "")
	r2.card(3, 1, "ForteBank", "")
	ix, f = r2.run(t)
	if got := riskOf(ix, f, rCard(1)); got >= f.Threshold || got == 0 {
		t.Errorf("card of an R4-only holder: risk %.2f, want in (0, %.2f)", got, f.Threshold)
	}
}

func TestRunRulesDeterministicAcrossWorkers(t *testing.T) {
	r := newRB()
	for i := 0; i < 40; i++ {
		x := r.card(i, i%7, []string{"Kaspi Bank", "Halyk", "ForteBank"}[i%3], "")
		for j := 0; j < 15; j++ {
			r.tx(rCard((i+j+1)%40), x, time.Duration(i*j)*17*time.Minute, int64(400000+(i*j)%5*10000), ChannelTransfer,
				withDevice(fmt.Sprintf("D%d", j%4)))
		}
		r.tx(x, rATM(i%3), time.Duration(i)*31*time.Minute+20*hr, 350000, ChannelCashOut)
	}
	ix := r.b.Build()
	var prev Flags
	for w := 1; w <= 3; w++ {
		cfg := DefaultRuleConfig()
		cfg.Workers = w
		f, err := RunRules(context.Background(), ix, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Hits) == 0 {
			t.Fatal("no hits")
		}
		if w > 1 && !reflect.DeepEqual(prev, f) {
			t.Fatalf("workers=%d gave a different result from workers=%d", w, w-1)
		}
		prev = f
	}
}

func TestRunRulesCancelled(t *testing.T) {
	r := newRB()
	r.card(1, 1, "Kaspi Bank", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RunRules(ctx, r.b.Build(), DefaultRuleConfig(), nil); err == nil {
		t.Fatal("want a cancellation error")
	}
}

func TestRuleConfigJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := DefaultRuleConfig().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ParseRuleConfig(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, DefaultRuleConfig()) {
		t.Fatalf("round trip changed the config:\n%+v", got)
	}
	got, err = ParseRuleConfig(strings.NewReader(`{"R3": {"count": 4, "window": "3d"}, "R6": {"enabled": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.R3.Count != 4 || got.R3.Window != days(3) || got.R6.Enabled || got.R3.Band != 0.10 || !got.R1.Enabled {
		t.Fatalf("partial config not applied over defaults: %+v %+v", got.R3, got.R6)
	}
	if _, err := ParseRuleConfig(strings.NewReader(`{"R3": {"cuont": 4}}`)); err == nil {
		t.Fatal("a misspelt field must be an error")
	}
	if _, err := ParseRuleConfig(strings.NewReader(`{"flag_threshold": 2}`)); err == nil {
		t.Fatal("an out-of-range threshold must be an error")
	}
	// A disabled rule does not fire.
	r := newRB()
	r.card(1, 1, "Kaspi Bank", "")
	r.card(2, 1, "Halyk", "")
	r.card(3, 1, "ForteBank", "")
	ix := r.b.Build()
	cfg := DefaultRuleConfig()
	cfg.R4.Enabled = false
	f, err := RunRules(context.Background(), ix, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Hits) != 0 {
		t.Fatalf("disabled R4 still fired: %+v", f.Hits)
	}
}

func TestLocalTime(t *testing.T) {
	b := NewIndexBuilder()
	// 2025-03-10 21:30 UTC is 02:30 on the 11th in Almaty (UTC+5); before 1
	// March 2024 Almaty was UTC+6. A batch without a zone reads as Almaty.
	b.AddTxn(Txn{ID: "a", Time: time.Date(2025, 3, 10, 21, 30, 0, 0, time.UTC), From: rCard(1), To: rCard(2), Amount: 100})
	b.AddTxn(Txn{ID: "b", Time: time.Date(2024, 1, 10, 20, 30, 0, 0, time.UTC), From: rCard(1), To: rCard(2), Amount: 100})
	ix := b.Build()
	for i, want := range map[string]int{"a": 2, "b": 2} {
		tx, _ := ix.LookupTx(i)
		if h, ok := ix.TxLocalHour(tx); !ok || h != want {
			t.Errorf("TxLocalHour(%s) = %d, %v; want %d", i, h, ok, want)
		}
	}
	if tx, _ := ix.LookupTx("a"); ix.TxLocalDay(tx) != time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC).Unix()/86400 {
		t.Errorf("TxLocalDay(a) = %d, want 11 March", ix.TxLocalDay(tx))
	}
	if d, err := ParseDuration("30d"); err != nil || d != days(30) {
		t.Errorf("ParseDuration(30d) = %v, %v", d, err)
	}
}

// BenchmarkRunRules runs every rule over a synthetic graph of 20k cards and
// 200k transfers, cash-outs and top-ups (run with -bench; not part of go test).
func BenchmarkRunRules(b *testing.B) {
	r := newRB()
	const cards, txns = 20000, 200000
	banks := []string{"Kaspi Bank", "Halyk", "ForteBank", "Bank CenterCredit"}
	for i := 0; i < cards; i++ {
		r.card(i, i/2, banks[i%len(banks)], "2024-01-01")
	}
	x := uint64(1)
	next := func(n int) int { x = x*6364136223846793005 + 1442695040888963407; return int(x>>33) % n }
	for i := 0; i < txns; i++ {
		at := time.Duration(next(120*24*3600)) * time.Second
		switch k := next(10); {
		case k < 7:
			r.tx(rCard(next(cards)), rCard(next(cards)), at, int64(1000+next(500000)), ChannelTransfer, withDevice(fmt.Sprintf("D%d", next(cards))))
		case k < 9:
			r.tx(rCard(next(cards)), rATM(next(500)), at, int64(5000+next(300000)), ChannelCashOut)
		default:
			r.tx(rATM(next(500)), rCard(next(cards)), at, int64(5000+next(600000)), ChannelTopup)
		}
	}
	ix := r.b.Build()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := RunRules(context.Background(), ix, DefaultRuleConfig(), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/txns, "ns/txn")
}
