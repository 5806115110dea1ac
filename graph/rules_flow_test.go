package graph

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// background adds n pairs of quiet cards (ids from 50,000 up), each pair one
// transfer far from the cases, so that the data set has many active
// instruments with a median of one transfer, as a real population would.
func (r *rb) background(n int) {
	for i := 0; i < n; i++ {
		a, b := r.card(50000+2*i, -1, "", ""), r.card(50001+2*i, -1, "", "")
		r.tx(a, b, 200*day+time.Duration(i)*time.Minute, int64(1000+i), ChannelTransfer)
	}
}

func TestFlowRulesPositiveAndNegative(t *testing.T) {
	cases := []struct {
		rule   string
		target Ref
		build  func(r *rb, positive bool)
	}{
		{"R16", rCard(2), func(r *rb, pos bool) {
			x, y := r.card(1, 1, "", ""), r.card(2, 2, "", "")
			step := 30 * time.Minute
			if !pos {
				step = 13 * hr // the third one falls outside the day
			}
			for i := 0; i < 3; i++ {
				r.tx(x, y, time.Duration(i)*step, 1250, ChannelTransfer)
			}
		}},
		{"R17", rCard(2), func(r *rb, pos bool) {
			a, b, c, d := r.card(1, 1, "", ""), r.card(2, 2, "", ""), r.card(3, 3, "", ""), r.card(4, 4, "", "")
			back := 10 * day
			if !pos {
				back = 40 * day // after the 30-day window
			}
			r.tx(a, b, 0, 10000, ChannelTransfer)
			r.tx(b, c, 2*day, 300, ChannelTransfer) // any amounts
			r.tx(c, d, 5*day, 7000, ChannelTransfer)
			r.tx(d, a, back, 9000, ChannelTransfer)
		}},
		{"R18", rCard(1), func(r *rb, pos bool) {
			x := r.card(1, 1, "", "")
			for i := 0; i < 6; i++ {
				r.tx(r.card(10+i, 10+i, "", ""), x, time.Duration(i)*7*hr, int64(3000+i*1700), ChannelTransfer)
			}
			if !pos {
				// Eight earlier senders: the burst is 6 of 14, not most of them.
				for i := 0; i < 8; i++ {
					r.tx(r.card(30+i, 30+i, "", ""), x, -time.Duration(10+i*9)*day, int64(5000+i*311), ChannelTransfer)
				}
			}
		}},
		{"R19", rCard(1), func(r *rb, pos bool) {
			x := r.card(1, 1, "", "")
			for i := 0; i < 6; i++ {
				r.tx(x, r.card(10+i, 10+i, "", ""), time.Duration(i)*9*hr, int64(4000+i*900), ChannelTransfer)
			}
			if !pos {
				// The recipients are busy accounts.
				for i := 0; i < 6; i++ {
					for j := 0; j < 3; j++ {
						r.tx(r.card(10+i, 10+i, "", ""), r.card(40+j, 40+j, "", ""), 20*day+time.Duration(i*3+j)*hr, 500, ChannelTransfer)
					}
				}
			}
		}},
		{"R20", rCard(1), func(r *rb, pos bool) {
			x := r.card(1, 1, "", "")
			for i := 0; i < 3; i++ {
				r.tx(r.card(10+i, 10+i, "", ""), x, time.Duration(i)*5*hr, 9000, ChannelTransfer)
			}
			n := 3
			if !pos {
				n = 2
			}
			for i := 0; i < n; i++ {
				r.tx(x, r.card(20+i, 20+i, "", ""), day+time.Duration(i)*3*hr, 8500, ChannelTransfer)
			}
		}},
		{"R21", rCard(1), func(r *rb, pos bool) {
			s, d := r.card(1, 1, "", ""), r.card(2, 2, "", "")
			for i := 0; i < 3; i++ {
				m := r.card(10+i, 10+i, "", "")
				r.tx(s, m, time.Duration(i)*2*hr, 20000, ChannelTransfer)
				r.tx(m, d, day+time.Duration(i)*3*hr, 19500, ChannelTransfer)
			}
			if !pos {
				// The sink is paid by many others in those days: a shop.
				for i := 0; i < 10; i++ {
					r.tx(r.card(30+i, 30+i, "", ""), d, time.Duration(i)*3*hr, 700, ChannelTransfer)
				}
			}
		}},
		{"R22", rCard(1), func(r *rb, pos bool) {
			m := r.card(1, 1, "", "")
			r.tx(r.card(2, 2, "", ""), m, 0, 50000, ChannelTransfer)
			r.tx(m, r.card(3, 3, "", ""), 3*hr, 49000, ChannelTransfer)
			if !pos {
				// It also lives on its own money.
				r.tx(r.card(4, 4, "", ""), m, 5*day, 300000, ChannelTransfer)
				r.tx(m, rATM(1), 6*day, 20000, ChannelCashOut)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			pos := newRB()
			c.build(pos, true)
			pos.background(200)
			ix, f := pos.run(t)
			if !hitOn(ix, f, c.rule, c.target) {
				t.Errorf("%s did not fire on %s; hits: %+v", c.rule, c.target, f.Hits)
			}
			for _, h := range f.Hits {
				if h.Rule == c.rule && (h.Reason == "" || len(h.Evidence) == 0) {
					t.Errorf("%s hit without a reason or evidence: %+v", c.rule, h)
				}
			}
			neg := newRB()
			c.build(neg, false)
			neg.background(200)
			ix, f = neg.run(t)
			for _, h := range f.Hits {
				if h.Rule == c.rule {
					t.Errorf("%s fired on the near miss: %s %s", c.rule, ix.Ref(h.Node), h.Reason)
				}
			}
		})
	}
}

func TestFlowRuleReasons(t *testing.T) {
	r := newRB()
	x, y := r.card(1, 1, "", ""), r.card(2, 2, "", "")
	for i := 0; i < 5; i++ {
		r.tx(x, y, time.Duration(i)*time.Minute, 1250, ChannelTransfer)
	}
	ix, f := r.run(t)
	hs := f.ByRule("R16")
	if len(hs) != 2 {
		t.Fatalf("R16 hits %+v, want the payer and the receiver", hs)
	}
	for _, h := range hs {
		want, score := "5 identical transfers of 1,250 ₸ to 5500 0000 0000 0002 within 4 min", 0.36
		if h.Node == mustLookup(t, ix, y) {
			want, score = "received 5 identical transfers of 1,250 ₸ from 5500 0000 0000 0001 within 4 min", 0.6
		}
		if h.Reason != want || h.Score < score-1e-9 || h.Score > score+1e-9 {
			t.Errorf("%s: reason %q score %.2f, want %q %.2f", ix.Ref(h.Node), h.Reason, h.Score, want, score)
		}
		if len(h.Evidence) != 5 || ix.TxID(h.Evidence[0]) != "T00001" {
			t.Errorf("evidence %v", h.Evidence)
		}
	}
}

// TestIdenticalBurstDaySteps: in day-step data (AMLSim) a burst is several
// transfers at the same time; one a day on three days is not one.
func TestIdenticalBurstDaySteps(t *testing.T) {
	for _, step := range []time.Duration{0, day} {
		r := newRB()
		x, y := r.card(1, 1, "", ""), r.card(2, 2, "", "")
		for i := 0; i < 4; i++ {
			r.tx(x, y, time.Duration(i)*step, 500, ChannelTransfer)
		}
		ix, f := r.run(t)
		if got := hitOn(ix, f, "R16", y); got != (step == 0) {
			t.Errorf("step %v: R16 on the receiver %v, want %v", step, got, step == 0)
		}
		if step == 0 && !strings.Contains(f.ByRule("R16")[0].Reason, "4 identical transfers of 500 ₸") {
			t.Errorf("reason %q", f.ByRule("R16")[0].Reason)
		}
	}
}

// TestFlowRulesSameAmountFanIn: many senders each paying one identical
// amount once (AMLSim's fan-in) flag the hub and the senders; the same
// amount paid monthly by each (a subscription, rent) does not.
func TestFlowRulesSameAmountFanIn(t *testing.T) {
	for _, monthly := range []bool{false, true} {
		r := newRB()
		hub := r.card(1, 1, "", "")
		for i := 0; i < 6; i++ {
			s := r.card(10+i, 10+i, "", "")
			r.tx(s, hub, time.Duration(i)*9*day, 234, ChannelTransfer)
			r.tx(s, hub, time.Duration(i)*9*day+4*day, int64(100+i*37), ChannelTransfer) // other payments
			if monthly {
				r.tx(s, hub, time.Duration(i)*9*day+30*day, 234, ChannelTransfer)
			}
		}
		r.background(50)
		ix, f := r.run(t)
		if got := hitOn(ix, f, "R18", hub); got == monthly {
			t.Errorf("monthly=%v: R18 on the hub %v; hits %+v", monthly, got, f.ByRule("R18"))
		}
		if got := hitOn(ix, f, "R18", rCard(10)); got == monthly {
			t.Errorf("monthly=%v: R18 on a sender %v", monthly, got)
		}
	}
}

// TestFlowRulesShopAndPayroll: a shop with hundreds of customers over three
// months (one buying three coffees in half an hour) and a payroll paying the
// same thirty people every month raise no flow rule.
func TestFlowRulesShopAndPayroll(t *testing.T) {
	r := newRB()
	shop, payroll := r.card(1, 1, "", ""), r.card(2, 2, "", "")
	prices := []int64{990, 1490, 2500, 4990, 12000}
	for i := 0; i < 400; i++ {
		c := r.card(100+i, 100+i, "", "")
		at := time.Duration(i) * 90 * day / 400
		r.tx(c, shop, at, prices[i%len(prices)], ChannelTransfer)
		if i%3 == 0 {
			r.tx(c, shop, at+10*day, prices[(i+2)%len(prices)], ChannelTransfer)
		}
	}
	r.tx(shop, r.card(3, 3, "", ""), 30*day, 500000, ChannelTransfer) // the supplier
	// One customer buys three coffees in half an hour while ten others pay.
	regular := r.card(5, 5, "", "")
	for i := 0; i < 3; i++ {
		r.tx(regular, shop, 40*day+time.Duration(i)*15*time.Minute, 990, ChannelTransfer)
	}
	for i := 0; i < 10; i++ {
		r.tx(r.card(600+i, 600+i, "", ""), shop, 40*day+time.Duration(i)*3*time.Minute, int64(1490+i*100), ChannelTransfer)
	}
	for m := 0; m < 3; m++ {
		for e := 0; e < 30; e++ {
			r.tx(payroll, r.card(1000+e, 1000+e, "", ""), time.Duration(m)*30*day+time.Duration(e)*time.Minute, 250000, ChannelTransfer)
		}
		r.tx(r.card(4, 4, "", ""), payroll, time.Duration(m)*30*day-day, 7500000, ChannelTransfer)
	}
	r.background(300)
	ix, f := r.run(t)
	for _, h := range f.Hits {
		if ruleNumber(h.Rule) >= 16 && (h.Node == mustLookup(t, ix, shop) || h.Node == mustLookup(t, ix, payroll)) {
			t.Errorf("%s on %s: %s", h.Rule, ix.Ref(h.Node), h.Reason)
		}
	}
}

func mustLookup(t *testing.T, ix *Index, r Ref) NodeID {
	t.Helper()
	id, ok := ix.Lookup(r)
	if !ok {
		t.Fatalf("%s not in the index", r)
	}
	return id
}

// flowShapes holds every flow shape and enough quiet cards for several
// worker chunks.
func flowShapes() *Index {
	r := newRB()
	n := 0
	card := func() Ref { n++; return r.card(n, n, "", "") }
	for g := 0; g < 20; g++ {
		base := time.Duration(g) * 3 * day
		x, y := card(), card()
		for i := 0; i < 3; i++ {
			r.tx(x, y, base+time.Duration(i)*time.Minute, 777, ChannelTransfer)
		}
		a, b, c := card(), card(), card()
		r.tx(a, b, base, 100, ChannelTransfer)
		r.tx(b, c, base+day, 200, ChannelTransfer)
		r.tx(c, a, base+2*day, 300, ChannelTransfer)
		hub := card()
		for i := 0; i < 6; i++ {
			r.tx(card(), hub, base+time.Duration(i)*hr, 1000, ChannelTransfer)
			r.tx(hub, card(), base+day+time.Duration(i)*hr, 900, ChannelTransfer)
		}
		s, d := card(), card()
		for i := 0; i < 3; i++ {
			m := card()
			r.tx(s, m, base+time.Duration(i)*hr, 5000, ChannelTransfer)
			r.tx(m, d, base+5*hr+time.Duration(i)*hr, 5000, ChannelTransfer)
		}
	}
	r.background(2500)
	return r.b.Build()
}

func TestFlowRulesDeterministicAcrossWorkers(t *testing.T) {
	ix := flowShapes()
	var prev Flags
	for w := 1; w <= 3; w++ {
		cfg := DefaultRuleConfig()
		cfg.Workers = w
		f, err := RunRules(context.Background(), ix, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range []string{"R16", "R17", "R18", "R19", "R20", "R21", "R22"} {
			if len(f.ByRule(rule)) == 0 {
				t.Errorf("workers=%d: no %s hit", w, rule)
			}
		}
		if w > 1 && !reflect.DeepEqual(prev, f) {
			t.Fatalf("workers=%d gave a different result from workers=%d", w, w-1)
		}
		prev = f
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RunRules(ctx, ix, DefaultRuleConfig(), nil); err == nil {
		t.Fatal("want a cancellation error")
	}
}

func TestFlowRuleConfig(t *testing.T) {
	got, err := ParseRuleConfig(strings.NewReader(`{"R17": {"window": "14d", "max_hops": 8}, "R22": {"enabled": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.R17.Window != days(14) || got.R17.MaxHops != 8 || got.R17.MinHops != 3 || got.R22.Enabled || !got.R21.Enabled {
		t.Fatalf("partial config not applied over defaults: %+v %+v", got.R17, got.R22)
	}
	for _, bad := range []string{`{"R16": {"count": 1}}`, `{"R17": {"max_hops": 40}}`, `{"R18": {"history_share": 0}}`,
		`{"R19": {"recipients": 1}}`, `{"R21": {"sink_share": 2}}`, `{"R22": {"amount_ratio": 0.5}}`, `{"R20": {"widnow": "3d"}}`} {
		if _, err := ParseRuleConfig(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
	ix := flowShapes()
	cfg := DefaultRuleConfig()
	cfg.R16.Enabled, cfg.R17.Enabled, cfg.R18.Enabled, cfg.R19.Enabled = false, false, false, false
	cfg.R20.Enabled, cfg.R21.Enabled, cfg.R22.Enabled = false, false, false
	f, err := RunRules(context.Background(), ix, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range f.Hits {
		if ruleNumber(h.Rule) >= 16 {
			t.Fatalf("disabled %s still fired", h.Rule)
		}
	}
}

// onlyFlow disables R1–R15.
func onlyFlow(cfg RuleConfig) RuleConfig {
	for _, b := range []*RuleBase{&cfg.R1.RuleBase, &cfg.R2.RuleBase, &cfg.R3.RuleBase, &cfg.R4.RuleBase, &cfg.R5.RuleBase,
		&cfg.R6.RuleBase, &cfg.R7.RuleBase, &cfg.R8.RuleBase, &cfg.R9.RuleBase, &cfg.R10.RuleBase, &cfg.R11.RuleBase,
		&cfg.R12.RuleBase, &cfg.R13.RuleBase, &cfg.R14.RuleBase, &cfg.R15.RuleBase} {
		b.Enabled = false
	}
	return cfg
}

// BenchmarkFlowRules runs R16–R22 alone over random transfers at growing
// sizes and constant density (ten transfers per card over 120 days): the
// cost per transaction must stay flat as the data grow (run with -bench).
func BenchmarkFlowRules(b *testing.B) {
	for _, txns := range []int{50_000, 100_000, 200_000, 400_000} {
		b.Run(fmt.Sprintf("%dk", txns/1000), func(b *testing.B) {
			r := newRB()
			cards := txns / 10
			for i := 0; i < cards; i++ {
				r.card(i, -1, "", "")
			}
			x := uint64(7)
			next := func(n int) int { x = x*6364136223846793005 + 1442695040888963407; return int(x>>33) % n }
			for i := 0; i < txns; i++ {
				at := time.Duration(next(120*24*3600)) * time.Second
				r.tx(rCard(next(cards)), rCard(next(cards)), at, int64(1000+next(500000)), ChannelTransfer)
			}
			ix := r.b.Build()
			cfg := onlyFlow(DefaultRuleConfig())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := RunRules(context.Background(), ix, cfg, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(txns), "ns/txn")
		})
	}
}

// TestFlowRulesRandomBackground plants a 10-hop cycle (a hop every 9h) in
// uniformly random one-off transfers over three weeks: the worst decoy for
// the flow rules, where every account has only new counterparties and a
// week is a third of its history. The data set's pace (burstFloor, R17's
// pace share, R21's chance) keeps R17–R21 nearly silent at any density;
// the planted cycle is found while its hops are fast for the data (2
// payments per card a week), not once the background pays as often as the
// cycle (8 a week).
func TestFlowRulesRandomBackground(t *testing.T) {
	for _, perWeek := range []int{2, 8} {
		r := newRB()
		const cards = 10000
		for i := 0; i < cards; i++ {
			r.card(i, -1, "", "")
		}
		x := uint64(7)
		next := func(n int) int { x = x*6364136223846793005 + 1442695040888963407; return int(x>>33) % n }
		for i := 0; i < cards*perWeek*3; i++ {
			r.tx(rCard(next(cards)), rCard(next(cards)), time.Duration(next(21*24*3600))*time.Second, int64(1000+next(500000)), ChannelTransfer)
		}
		for h := 0; h < 10; h++ {
			r.tx(rCard(h), rCard((h+1)%10), 7*day+time.Duration(h)*9*hr, 5000, ChannelTransfer)
		}
		ix, f := r.run(t)
		planted := map[NodeID]bool{}
		for h := 0; h < 10; h++ {
			planted[mustLookup(t, ix, rCard(h))] = true
		}
		found := 0
		other := map[string]map[NodeID]bool{}
		for _, h := range f.Hits {
			if n := ruleNumber(h.Rule); n < 16 || n > 22 {
				continue // the flow rules only (R23 follows the flags of all)
			}
			if h.Rule == "R17" && planted[h.Node] {
				found++
				continue
			}
			if other[h.Rule] == nil {
				other[h.Rule] = map[NodeID]bool{}
			}
			other[h.Rule][h.Node] = true
		}
		counts := map[string]int{}
		for rule, ns := range other {
			counts[rule] = len(ns)
		}
		t.Logf("%d one-off transfers per card a week: planted cycle members hit by R17 %d of 10; other instruments per flow rule %v", perWeek, found, counts)
		if perWeek == 2 && found != 10 {
			t.Errorf("the planted cycle was not found at %d transfers a week", perWeek)
		}
		// Measured: R17 0 and 7, R20 2 and 0, R21 0 and 5, R16, R18, R19, R22 0.
		limit := map[string]int{"R16": 0, "R17": 24, "R18": 0, "R19": 0, "R20": 5, "R21": 15, "R22": 10}
		for rule, n := range counts {
			if n > limit[rule] {
				t.Errorf("%s hit %d random instruments at %d transfers a week, limit %d", rule, n, perWeek, limit[rule])
			}
		}
	}
}
