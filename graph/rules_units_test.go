package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Tests of the rules' units: thresholds read per currency, clocks read in
// the source's zone, windows and dwells in the data's time resolution
// (docs/DETECTION.md, "Currencies and clocks").

// money adds a transaction of amount whole units of cur.
func (r *rb) money(from, to Ref, at time.Duration, whole int64, cur string, ch Channel, opts ...func(*Txn)) {
	r.tx(from, to, at, whole, ch, append([]func(*Txn){func(t *Txn) { t.Currency = cur }}, opts...)...)
}

func hitsOf(ix *Index, f Flags, rule string, ref Ref) []Hit {
	id, _ := ix.Lookup(ref)
	var out []Hit
	for _, h := range f.Hits {
		if h.Rule == rule && h.Node == id {
			out = append(out, h)
		}
	}
	return out
}

// TestUSDPassThroughConverted: R2's 1M ₸ reads as 2,128 USD at the default
// 470 ₸/USD. 2,500 USD in and out within the hour fires, printed in
// dollars; 1,500 USD (705k ₸) does not. Read as tenge, as before currencies
// were kept, neither would.
func TestUSDPassThroughConverted(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want bool
	}{{2500, true}, {1500, false}} {
		r := newRB()
		x := r.card(1, 1, "", "")
		r.money(r.card(2, 2, "", ""), x, 0, c.in, "USD", ChannelTransfer)
		r.money(x, r.card(3, 3, "", ""), 30*time.Minute, c.in*96/100, "USD", ChannelTransfer)
		ix, f := r.run(t)
		hs := hitsOf(ix, f, "R2", rCard(1))
		if (len(hs) > 0) != c.want {
			t.Fatalf("%d USD: R2 hits %v, want %v", c.in, hs, c.want)
		}
		for _, h := range f.Hits {
			if h.Rule != "R2" {
				t.Errorf("%d USD: %s fired too: %s", c.in, h.Rule, h.Reason)
			}
		}
		if c.want && (!strings.Contains(hs[0].Reason, "$2,500") || strings.Contains(hs[0].Reason, "₸")) {
			t.Errorf("reason %q: want dollars, no tenge", hs[0].Reason)
		}
	}
	// The same amounts read as tenge never reach R2: before currencies were
	// kept, 2,500 USD was 2,500 ₸.
	r := newRB()
	x := r.card(1, 1, "", "")
	r.tx(r.card(2, 2, "", ""), x, 0, 2500, ChannelTransfer)
	r.tx(x, r.card(3, 3, "", ""), 30*time.Minute, 2400, ChannelTransfer)
	if ix, f := r.run(t); hitOn(ix, f, "R2", rCard(1)) {
		t.Fatal("R2 fired on 2,500 ₸")
	}
}

// TestStructuringPerCurrencyThreshold: R3 reads USD against the 10,000 USD
// reporting threshold of the table, not 500k ₸ converted (1,064 USD).
func TestStructuringPerCurrencyThreshold(t *testing.T) {
	for _, c := range []struct {
		amounts []int64
		want    bool
	}{{[]int64{9500, 9700, 9900}, true}, {[]int64{1000, 1010, 1020}, false}} {
		r := newRB()
		x := r.card(1, 1, "", "")
		for i, a := range c.amounts {
			r.money(rATM(1), x, time.Duration(i)*day, a, "USD", ChannelTopup, withIIN(TriNo))
		}
		ix, f := r.run(t)
		hs := hitsOf(ix, f, "R3", rCard(1))
		if (len(hs) > 0) != c.want {
			t.Fatalf("%v USD: R3 hits %+v, want %v", c.amounts, hs, c.want)
		}
		if c.want && !strings.Contains(hs[0].Reason, "$") {
			t.Errorf("R3 reason %q: want dollars", hs[0].Reason)
		}
	}
	// Threshold 0: dollars of a Kazakh bank read the tenge threshold
	// converted (500k ₸ = 1,064 USD).
	r := newRB()
	x := r.card(1, 1, "", "")
	for i, a := range []int64{1000, 1010, 1020} {
		r.money(rATM(1), x, time.Duration(i)*day, a, "USD", ChannelTopup, withIIN(TriNo))
	}
	cfg, err := ParseRuleConfig(strings.NewReader(`{"reporting_thresholds": {"USD": 0}}`))
	if err != nil {
		t.Fatal(err)
	}
	ix := r.b.Build()
	f, err := RunRules(context.Background(), ix, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hitOn(ix, f, "R3", rCard(1)) {
		t.Error("R3 with reporting_thresholds.USD 0 missed top-ups just below 500k ₸ in dollars")
	}
}

// TestRelativeScaleWithoutRate: a currency with no rate reads R2's 1M ₸ as
// its own p99 amount. 200 background payments of 1–200 ZZZ put the p99 at
// 198; a pass-through of 250 ZZZ fires, one of 150 does not; with fewer
// than min_transactions payments the currency reaches no threshold.
func TestRelativeScaleWithoutRate(t *testing.T) {
	build := func(in int64, background int) *rb {
		r := newRB()
		for i := 0; i < background; i++ {
			r.money(r.card(1000+i, -1, "", ""), r.card(5000+i, -1, "", ""), time.Duration(i)*hr, int64(1+i%200), "ZZZ", ChannelTransfer)
		}
		x := r.card(1, 1, "", "")
		r.money(r.card(2, 2, "", ""), x, 0, in, "ZZZ", ChannelTransfer)
		r.money(x, r.card(3, 3, "", ""), 30*time.Minute, in*95/100, "ZZZ", ChannelTransfer)
		return r
	}
	for _, c := range []struct {
		in, background int
		want           bool
	}{{250, 200, true}, {150, 200, false}, {250, 50, false}} {
		ix, f := build(int64(c.in), c.background).run(t)
		hs := hitsOf(ix, f, "R2", rCard(1))
		if (len(hs) > 0) != c.want {
			t.Errorf("%d ZZZ over %d payments: R2 %+v, want %v", c.in, c.background, hs, c.want)
		}
		if c.want && len(hs) > 0 && !strings.Contains(hs[0].Reason, "ZZZ") {
			t.Errorf("reason %q: want the amount in ZZZ", hs[0].Reason)
		}
	}
	// A configured rate replaces the relative scale: at 1 ₸/ZZZ nothing fires.
	cfg := DefaultRuleConfig()
	cfg.Currencies["ZZZ"] = 1
	f, err := RunRules(context.Background(), build(250, 200).b.Build(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.ByRule("R2")) != 0 {
		t.Fatalf("R2 fired at 1 ₸/ZZZ: %+v", f.ByRule("R2"))
	}
}

// TestMixedCurrencySumsConvert: amounts of two currencies are added in
// tenge equivalent, never as raw minor units. 1,000 USD + 300k ₸ in is 770k
// ₸, below R2's 1M; 2,000 USD + 300k ₸ (1.24M ₸) fires, and the reason
// gives the sum in tenge, marked as converted.
func TestMixedCurrencySumsConvert(t *testing.T) {
	for _, c := range []struct {
		usd  int64
		want bool
	}{{1000, false}, {2000, true}} {
		r := newRB()
		x := r.card(1, 1, "", "")
		r.money(r.card(2, 2, "", ""), x, 0, c.usd, "USD", ChannelTransfer)
		r.tx(r.card(4, 4, "", ""), x, 10*time.Minute, 300000, ChannelTransfer)
		r.tx(x, r.card(3, 3, "", ""), 30*time.Minute, (c.usd*470+300000)*95/100, ChannelTransfer)
		ix, f := r.run(t)
		hs := hitsOf(ix, f, "R2", rCard(1))
		if (len(hs) > 0) != c.want {
			t.Fatalf("%d USD + 300k ₸: R2 %+v, want %v", c.usd, hs, c.want)
		}
		if c.want && !strings.Contains(hs[0].Reason, "≈1.24M ₸ in mixed currencies") {
			t.Errorf("reason %q: want the converted sum marked as mixed", hs[0].Reason)
		}
	}
}

// pragueDates adds a Europe/Prague batch of dates (as the berka profile
// imports PKDD'99) to r and returns the midnight of day n there.
func pragueDates(r *rb) func(n int) time.Time {
	r.b.AddBatch(Batch{ID: 5, TimeResolution: TimeDates, TimeUnit: 86400, TimeZone: "Europe/Prague"})
	loc, _ := time.LoadLocation("Europe/Prague")
	return func(n int) time.Time { return time.Date(1995, 3, 1+n, 0, 0, 0, 0, loc).UTC() }
}

func (r *rb) at(from, to Ref, when time.Time, kztAmount int64, ch Channel, batch uint32) {
	r.n++
	r.b.AddTxn(Txn{ID: fmt.Sprintf("T%05d", r.n), Time: when, From: from, To: to, Amount: kztAmount * 100,
		Currency: "KZT", Channel: ch, Src: Provenance{Batch: batch}})
}

// TestDateOnlyNoClockRules: Prague midnights are 05:00 or 04:00 in Almaty
// (inside R9's night when misread); as dates they have no hour, so R9 never
// fires, and R2 measures no dwell below a day.
func TestDateOnlyNoClockRules(t *testing.T) {
	r := newRB()
	d := pragueDates(r)
	x := r.card(1, 1, "", "")
	atm := Ref{Kind: KindCash, Key: "cash"}
	for i := 0; i < 8; i++ {
		r.at(x, atm, d(i), 20000, ChannelCashOut, 5)
		r.at(r.card(2, 2, "", ""), x, d(i), 5000, ChannelTransfer, 5)
	}
	// A pass-through on one day: 1.2M in, 60% out the same day. With
	// timestamps at the same second its FIFO dwell would be "1 min".
	y := r.card(3, 3, "", "")
	r.at(r.card(4, 4, "", ""), y, d(20), 1200000, ChannelTransfer, 5)
	r.at(y, r.card(5, 5, "", ""), d(20), 720000, ChannelTransfer, 5)
	ix, f := r.run(t)
	if ix.TimeUnit() != 86400 {
		t.Fatalf("TimeUnit = %d, want 86400", ix.TimeUnit())
	}
	if tx, _ := ix.LookupTx("T00001"); !ix.TxFlags(tx).Has(TxDateOnly) || ix.TxZone(tx) != "Europe/Prague" {
		t.Fatalf("T00001: flags %b zone %s", ix.TxFlags(tx), ix.TxZone(tx))
	}
	for _, h := range f.Hits {
		if h.Rule == "R9" || h.Rule == "R6" {
			t.Errorf("%s fired on dates: %s", h.Rule, h.Reason)
		}
		if strings.Contains(h.Reason, "min") || strings.Contains(h.Reason, "dwell") {
			t.Errorf("%s reason measures below a day: %s", h.Rule, h.Reason)
		}
	}
	if hitOn(ix, f, "R2", rCard(3)) {
		t.Errorf("R2 took a same-day date as a dwell within 2h: %+v", hitsOf(ix, f, "R2", rCard(3)))
	}

	// 95% out the same day is a pass-through within the day (24h): it fires,
	// in days.
	r = newRB()
	d = pragueDates(r)
	y = r.card(3, 3, "", "")
	r.at(r.card(4, 4, "", ""), y, d(20), 1200000, ChannelTransfer, 5)
	r.at(y, r.card(5, 5, "", ""), d(20), 1140000, ChannelTransfer, 5)
	r.at(y, r.card(6, 6, "", ""), d(21), 50000, ChannelTransfer, 5) // the next day is outside 24h
	ix, f = r.run(t)
	hs := hitsOf(ix, f, "R2", rCard(3))
	if len(hs) != 1 || !strings.Contains(hs[0].Reason, "within the same day") || len(hs[0].Evidence) != 2 {
		t.Fatalf("same-day pass-through: %+v", hs)
	}
}

// TestClockInSourceZone: R9 reads the wall clock of the batch's zone.
// 01:00–03:00 UTC is night in London (and at UTC+01:00) and 06:00–08:00
// (day) in Almaty.
func TestClockInSourceZone(t *testing.T) {
	for _, c := range []struct {
		zone string
		want bool
	}{{"Europe/London", true}, {"", false}, {"UTC+05:00", false}, {"UTC+01:00", true}} {
		r := newRB()
		r.b.AddBatch(Batch{ID: 1, TimeResolution: TimeTimestamps, TimeUnit: 1, TimeZone: c.zone})
		x := r.card(1, 1, "", "")
		for i := 0; i < 3; i++ {
			r.at(x, rATM(1), time.Date(2025, 1, 10+i, 1, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Hour), 20000, ChannelCashOut, 1)
		}
		ix, f := r.run(t)
		if got := hitOn(ix, f, "R9", rCard(1)); got != c.want {
			t.Errorf("zone %q: R9 %v, want %v", c.zone, got, c.want)
		}
	}
}

// TestDateOnlyLayeringInDays: a chain of same-day hops on dates ends in
// cash the same day; R13 (6h dwell) reads it in days and says so.
func TestDateOnlyLayeringInDays(t *testing.T) {
	r := newRB()
	d := pragueDates(r)
	a, b, c, e := r.card(1, 1, "", ""), r.card(2, 2, "", ""), r.card(3, 3, "", ""), r.card(4, 4, "", "")
	r.at(a, b, d(3), 500000, ChannelTransfer, 5)
	r.at(b, c, d(3), 490000, ChannelTransfer, 5)
	r.at(c, e, d(3), 480000, ChannelTransfer, 5)
	r.at(e, CashRef, d(3), 475000, ChannelCashOut, 5)
	ix, f := r.run(t)
	hs := hitsOf(ix, f, "R13", rCard(3))
	if len(hs) == 0 || !strings.Contains(hs[0].Reason, "within <1 day") {
		t.Fatalf("R13 on a same-day chain: %+v", hs)
	}
	if hitOn(ix, f, "R13", rCard(1)) {
		t.Error("R13 flagged the first payer")
	}
}

func TestCurrencyConfig(t *testing.T) {
	cfg, err := ParseRuleConfig(strings.NewReader(`{"currencies": {"CZK": 22, "BTC": 0}, "reporting_thresholds": {"GBP": 8000}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Currencies["CZK"] != 22 || cfg.Currencies["USD"] != 470 || cfg.ReportingThresholds["USD"] != 10000 ||
		cfg.ReportingThresholds["GBP"] != 8000 || cfg.RelativeScale.Quantile != 0.99 {
		t.Fatalf("merged config: %v %v %+v", cfg.Currencies, cfg.ReportingThresholds, cfg.RelativeScale)
	}
	for _, bad := range []string{`{"currencies": {"usd": 470}}`, `{"currencies": {"USD": -1}}`,
		`{"reporting_thresholds": {"KZT": 1}}`, `{"reporting_thresholds": {"USD": -5}}`, `{"relative_scale": {"quantile": 1}}`} {
		if _, err := ParseRuleConfig(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestFormatMoneyCurrencies(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{FormatMoney(49500000, "KZT"), "495,000 ₸"}, {FormatMoney(49500000, ""), "495,000 ₸"},
		{FormatMoney(1250050, "USD"), "$12,500.50"}, {FormatMoney(-310000, "EUR"), "-€3,100"},
		{FormatMoney(1260000, "CZK"), "12,600 CZK"}, {FormatShortMoneyIn(250000000, "USD"), "$2.50M"},
		{FormatShortMoneyIn(4880000, "CZK"), "49k CZK"}, {FormatShortMoney(149250000), "1.49M ₸"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
