package main

import (
	"strings"
	"testing"

	"casegraph/graph"
)

// TestExternalBerkaClock imports the Berka (PKDD'99) extract through the
// berka profile and runs the default rules. Its transactions are dates in
// Europe/Prague and amounts in CZK: read as Almaty clock times, the
// midnights were 05:00 (R9 called 913 of the 1,229 accounts with
// transactions night-active), and read as tenge no amount threshold meant
// anything. Now: dates (TimeUnit 86400), no night hit, no dwell below a
// day, and at most 1% of the 4,500 accounts flagged (docs/DETECTION.md,
// "Currencies and clocks").
func TestExternalBerkaClock(t *testing.T) {
	dir := externalDir(t, "berka-pkdd99")
	ix := importProfile(t, "berka", dir)
	if ix.TimeUnit() != 86400 {
		t.Fatalf("TimeUnit = %d, want 86400 (Berka gives dates)", ix.TimeUnit())
	}
	if cs := ix.Currencies(); len(cs) != 1 || cs[0] != "CZK" {
		t.Fatalf("currencies %v, want [CZK]", cs)
	}
	f := runRulesT(t, ix, graph.DefaultRuleConfig())

	accounts, active := 0, 0
	for v := range graph.NodeID(ix.Len()) {
		r := ix.Ref(v)
		if r.Kind != graph.KindAccount || !strings.HasPrefix(r.Key, "berka:") || r.Key == "berka:bank" || ix.Stub(v) {
			continue
		}
		accounts++
		if len(ix.InTx(v))+len(ix.OutTx(v)) > 0 {
			active++
		}
	}
	flagged := map[string]int{}
	nFlagged := 0
	for _, r := range f.Flagged() {
		if r.Kind != graph.KindAccount || !strings.HasPrefix(r.Ref.Key, "berka:") || r.Ref.Key == "berka:bank" {
			continue
		}
		nFlagged++
		for _, rs := range r.Rules {
			flagged[rs.Rule]++
		}
	}
	byRule := map[string]int{}
	for _, h := range f.Hits {
		byRule[h.Rule]++
		if h.Rule == "R9" {
			t.Errorf("R9 fired on dates: %s", h.Reason)
		}
		if strings.Contains(h.Reason, " min") || strings.Contains(h.Reason, "FIFO median dwell") {
			t.Errorf("%s measures below a day on dates: %s", h.Rule, h.Reason)
		}
	}
	t.Logf("Berka: %d accounts (%d with transactions in the extract); %d flagged (%.2f%% of all, %.2f%% of active); rules on flagged accounts %v; hits by rule %v",
		accounts, active, nFlagged, 100*float64(nFlagged)/float64(accounts), 100*float64(nFlagged)/float64(active), flagged, byRule)
	if accounts != 4500 {
		t.Errorf("%d Berka accounts, want 4,500", accounts)
	}
	if 100*nFlagged > accounts {
		t.Errorf("%d of %d accounts flagged: more than 1%%", nFlagged, accounts)
	}
}
