package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"casegraph/graph"
)

func TestVerdictsJournalledAndPersistent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ck := newClock()
	if _, ok, err := db.Verdict(ctx, cardRef(1)); err != nil || ok {
		t.Fatalf("verdict on a fresh database: ok %v, err %v", ok, err)
	}
	v, err := db.SetVerdict(ctx, ck.act(), graph.Verdict{Ref: cardRef(1), Kind: graph.VerdictConfirmed, Note: "dropper, see case 12"})
	if err != nil {
		t.Fatal(err)
	}
	if v.User != "aigerim" || !v.Time.Equal(ck.t) {
		t.Errorf("set verdict %+v: want the actor's user and time", v)
	}
	if _, err := db.SetVerdict(ctx, ck.act(), graph.Verdict{Ref: cardRef(2), Kind: graph.VerdictDismissed}); err != nil {
		t.Fatal(err)
	}
	// Changing a verdict replaces it and journals the previous one.
	if _, err := db.SetVerdict(ctx, ck.act(), graph.Verdict{Ref: cardRef(2), Kind: graph.VerdictConfirmed, Note: "second look"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetVerdict(ctx, ck.act(), graph.Verdict{Ref: personRef(3), Kind: graph.VerdictDismissed}); err != nil {
		t.Fatal(err)
	}
	old, err := db.ClearVerdict(ctx, ck.act(), personRef(3))
	if err != nil || old.Kind != graph.VerdictDismissed {
		t.Fatalf("clear: %+v, %v", old, err)
	}
	if _, err := db.ClearVerdict(ctx, ck.act(), personRef(3)); !errors.Is(err, ErrNotFound) {
		t.Errorf("clearing twice: err = %v, want ErrNotFound", err)
	}
	if _, err := db.SetVerdict(ctx, ck.act(), graph.Verdict{Ref: cardRef(4), Kind: "maybe"}); err == nil {
		t.Error("an unknown verdict was accepted")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, dir)
	all, err := db.Verdicts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Ref != cardRef(1) || all[0].Kind != graph.VerdictConfirmed || all[0].Note != "dropper, see case 12" ||
		all[1].Ref != cardRef(2) || all[1].Kind != graph.VerdictConfirmed || all[1].Note != "second look" {
		t.Fatalf("after reopen: %+v", all)
	}
	if v, ok, err := db.Verdict(ctx, cardRef(2)); err != nil || !ok || !v.Confirmed() {
		t.Errorf("Verdict(card 2) = %+v, %v, %v", v, ok, err)
	}
	j, err := db.Journal(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range j {
		acts = append(acts, e.Action)
	}
	want := []string{ActVerdictSet, ActVerdictSet, ActVerdictSet, ActVerdictSet, ActVerdictClear}
	if len(acts) != len(want) {
		t.Fatalf("journal actions %v, want %v", acts, want)
	}
	for i := range want {
		if acts[i] != want[i] {
			t.Fatalf("journal actions %v, want %v", acts, want)
		}
	}
	var d verdictDetail
	if err := json.Unmarshal(j[2].Detail, &d); err != nil {
		t.Fatal(err)
	}
	if d.Entity != cardRef(2).String() || d.Verdict != graph.VerdictConfirmed || d.Previous != graph.VerdictDismissed || d.Note != "second look" {
		t.Errorf("journal detail of the changed verdict: %+v", d)
	}
	if j[0].User != "aigerim" || j[4].Time.IsZero() {
		t.Errorf("journal entries lack who and when: %+v", j[0])
	}
	rep, err := db.VerifyJournal(ctx)
	if err != nil || !rep.OK || rep.Entries != 5 {
		t.Errorf("journal verify: %+v, %v", rep, err)
	}
}

func TestVerdictKeys(t *testing.T) {
	r := graph.Ref{Kind: graph.KindAccount, Key: "berka:2378"}
	got, err := parseVerdictKey(verdictKey(r))
	if err != nil || got != r {
		t.Fatalf("verdict key round trip: %v, %v", got, err)
	}
	k := verdictKey(r)
	for _, bad := range [][]byte{nil, {pfxVerdict}, append(k[:len(k):len(k)], 0), k[:len(k)-1], {pfxCase, 1, 0, 1, 'x'}} {
		if _, err := parseVerdictKey(bad); err == nil {
			t.Errorf("parseVerdictKey(%v) accepted", bad)
		}
	}
	if s, err := parseRuleConfigKey(ruleConfigKey(7)); err != nil || s != 7 {
		t.Errorf("rule-config key round trip: %d, %v", s, err)
	}
	if _, err := parseRuleConfigKey([]byte{pfxRuleConfig, 1}); err == nil {
		t.Error("short rule-config key accepted")
	}
	if pfxVerdict >= pfxNbr || pfxRuleConfig >= pfxNbr {
		t.Error("the verdict prefixes must sort before the neighbour rows")
	}
}

func TestRuleConfigApplyRevertHistory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ck := newClock()
	if _, ok, err := db.RuleConfig(ctx); err != nil || ok {
		t.Fatalf("fresh database has a rule config: %v %v", ok, err)
	}
	if _, err := db.RevertRuleConfig(ctx, ck.act()); !errors.Is(err, ErrNothingToRevert) {
		t.Fatalf("revert on defaults: %v", err)
	}
	a := json.RawMessage(`{"R1":{"enabled":true,"weight":0.5}}`)
	b := json.RawMessage(`{"R1":{"enabled":true,"weight":0.2}}`)
	v1, err := db.ApplyRuleConfig(ctx, ck.act(), a, "first", map[string]float64{"R1": 0.5})
	if err != nil || v1.Seq != 1 || v1.Base != 0 {
		t.Fatalf("apply 1: %+v, %v", v1, err)
	}
	v2, err := db.ApplyRuleConfig(ctx, ck.act(), b, "second", nil)
	if err != nil || v2.Seq != 2 || v2.Base != 1 {
		t.Fatalf("apply 2: %+v, %v", v2, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, dir)
	cur, ok, err := db.RuleConfig(ctx)
	if err != nil || !ok || cur.Seq != 2 || !bytes.Equal(cur.Config, b) {
		t.Fatalf("current after reopen: %+v %v %v", cur, ok, err)
	}
	r1, err := db.RevertRuleConfig(ctx, ck.act())
	if err != nil || r1.Seq != 3 || !bytes.Equal(r1.Config, a) || r1.Reverted != 2 || r1.Base != 0 {
		t.Fatalf("revert 1: %+v, %v", r1, err)
	}
	r2, err := db.RevertRuleConfig(ctx, ck.act())
	if err != nil || r2.Seq != 4 || !r2.Defaults() || r2.Reverted != 3 {
		t.Fatalf("revert 2: %+v, %v", r2, err)
	}
	if _, err := db.RevertRuleConfig(ctx, ck.act()); !errors.Is(err, ErrNothingToRevert) {
		t.Fatalf("third revert: %v, want ErrNothingToRevert", err)
	}
	hist, err := db.RuleConfigHistory(ctx)
	if err != nil || len(hist) != 4 {
		t.Fatalf("history: %d versions, %v", len(hist), err)
	}
	j, err := db.Journal(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(j) != 4 || j[0].Action != ActRulesApply || j[2].Action != ActRulesRevert || j[3].Action != ActRulesRevert {
		t.Fatalf("journal: %+v", j)
	}
	if rep, err := db.VerifyJournal(ctx); err != nil || !rep.OK {
		t.Errorf("journal verify: %+v, %v", rep, err)
	}
	// Applying after the reverts starts from the defaults.
	v5, err := db.ApplyRuleConfig(ctx, ck.act(), b, "again", nil)
	if err != nil || v5.Base != 4 {
		t.Fatalf("apply after reverts: %+v, %v", v5, err)
	}
	if r, err := db.RevertRuleConfig(ctx, ck.act()); err != nil || !r.Defaults() {
		t.Fatalf("revert to the defaults version: %+v, %v", r, err)
	}
}

func TestVerdictOnReadOnlyDatabase(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.SetVerdict(context.Background(), newClock().act(), graph.Verdict{Ref: cardRef(1), Kind: graph.VerdictConfirmed}); err == nil {
		t.Error("read-only database took a verdict")
	}
}

// FuzzParseVerdictKeys: the verdict and rule-config key parsers never panic
// and re-encode what they accept.
func FuzzParseVerdictKeys(f *testing.F) {
	f.Add(verdictKey(cardRef(1)))
	f.Add(ruleConfigKey(3))
	f.Add([]byte{pfxVerdict, 1, 0})
	f.Fuzz(func(t *testing.T, k []byte) {
		if r, err := parseVerdictKey(k); err == nil && !bytes.Equal(verdictKey(r), k) {
			t.Errorf("verdict key %x re-encodes to %x", k, verdictKey(r))
		}
		if s, err := parseRuleConfigKey(k); err == nil && !bytes.Equal(ruleConfigKey(s), k) {
			t.Errorf("rule-config key %x re-encodes to %x", k, ruleConfigKey(s))
		}
	})
}
