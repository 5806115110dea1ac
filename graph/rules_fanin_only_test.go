package graph

import (
	"context"
	"testing"
	"time"
)

// TestFanInWithoutCashOutLeg checks that R1 with cash_out_share 0 flags a
// fan-in on an account that never pays out (AMLSim's fan_in has no cash leg),
// and that the default config still requires the exits.
func TestFanInWithoutCashOutLeg(t *testing.T) {
	r := newRB()
	x := r.card(1, 1, "Kaspi Bank", "")
	for i := 0; i < 12; i++ {
		r.tx(r.card(100+i, 100+i, "Halyk", ""), x, time.Duration(i)*40*time.Minute, 60000, ChannelTransfer)
	}
	ix := r.b.Build()

	def, err := RunRules(context.Background(), ix, DefaultRuleConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if hitOn(ix, def, "R1", rCard(1)) {
		t.Fatal("R1 with the default cash_out_share fired on an account without exits")
	}

	cfg := DefaultRuleConfig()
	cfg.R1.CashOutShare = 0
	f, err := RunRules(context.Background(), ix, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := ix.Lookup(rCard(1))
	var hit *Hit
	for i := range f.Hits {
		if f.Hits[i].Rule == "R1" && f.Hits[i].Node == id {
			hit = &f.Hits[i]
		}
	}
	if hit == nil {
		t.Fatal("R1 with cash_out_share 0 did not flag the fan-in account")
	}
	if len(hit.Evidence) < 10 {
		t.Errorf("R1 evidence holds %d transactions, want the ≥ 10 credits", len(hit.Evidence))
	}
	if hit.Window.To < hit.Window.From || hit.Window.To != ix.TxTime(hit.Evidence[len(hit.Evidence)-1]) {
		t.Errorf("R1 window %+v does not end at the last credit", hit.Window)
	}
}

// TestPassThroughIgnoresSelfTransfers: a large transfer from an account to
// itself (AMLworld's "Reinvestment") is not money passing through.
func TestPassThroughIgnoresSelfTransfers(t *testing.T) {
	r := newRB()
	x := r.card(1, 1, "Kaspi Bank", "")
	r.tx(x, x, hr, 5000000, ChannelTransfer)
	ix, f := r.run(t)
	if hitOn(ix, f, "R2", rCard(1)) {
		t.Fatal("R2 flagged a self-transfer as pass-through")
	}
	r = newRB()
	x = r.card(1, 1, "Kaspi Bank", "")
	r.tx(x, x, hr, 5000000, ChannelTransfer)
	r.tx(r.card(2, 2, "Halyk", ""), x, 2*hr, 2000000, ChannelTransfer)
	r.tx(x, r.card(3, 3, "Halyk", ""), 3*hr, 1900000, ChannelTransfer)
	ix, f = r.run(t)
	if !hitOn(ix, f, "R2", rCard(1)) {
		t.Fatal("R2 missed a pass-through beside a self-transfer")
	}
}
