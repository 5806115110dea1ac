package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
	"casegraph/internal/shareddata"
)

// External data sets (docs/DETECTION.md "External data"). The data are
// imported through the built-in mapping profiles, which refuse the label
// columns, so detection never sees them; only the scoring below reads the
// ground-truth files (AMLSim's alert_transactions.csv, AMLworld's
// laundering_patterns.json).

// externalDir returns a shared data set folder or skips: nothing to evaluate.
func externalDir(t *testing.T, rel string) string {
	t.Helper()
	return shareddata.Dir(t, rel)
}

// importProfile imports dir through a built-in profile into a fresh
// database and returns its in-memory index.
func importProfile(t *testing.T, prof, dir string) *graph.Index {
	t.Helper()
	dbDir := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", dbDir, "--profile", prof, dir)
	dbf := dbFlags{dir: dbDir}
	db, err := dbf.open(false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ix, err := loadIndex(context.Background(), db, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func runRulesT(t *testing.T, ix *graph.Index, cfg graph.RuleConfig) graph.Flags {
	t.Helper()
	f, err := graph.RunRules(context.Background(), ix, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func accountRef(key string) graph.Ref { return graph.Ref{Kind: graph.KindAccount, Key: key} }

// amlsimAlerts reads the ground truth: alert hub (receiver) → its senders.
func amlsimAlerts(t *testing.T, dir string) map[string][]string {
	t.Helper()
	fh, err := os.Open(filepath.Join(dir, "alert_transactions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("read alert_transactions.csv: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	hubs := map[string][]string{}
	for _, r := range rows[1:] {
		if r[col["alert_type"]] != "fan_in" {
			continue
		}
		hub, from := r[col["bene_acct"]], r[col["orig_acct"]]
		if !slices.Contains(hubs[hub], from) {
			hubs[hub] = append(hubs[hub], from)
		}
	}
	return hubs
}

// amlsimFanInConfig is the default config with R1 read for AMLSim: there is
// no cash or exchange leg in the simulation (every row is an account-to-account
// transfer), so cash_out_share is 0, and AMLSim spreads a fan-in over weeks
// (one sender per simulated week or so), so the long window is 180 days.
func amlsimFanInConfig(sendersLong int) graph.RuleConfig {
	cfg := graph.DefaultRuleConfig()
	cfg.R1.CashOutShare = 0
	cfg.R1.WindowLong = graph.Duration(180 * 24 * time.Hour)
	cfg.R1.SendersLong = sendersLong
	return cfg
}

// r1Senders returns, per node flagged by R1, the senders of its evidence.
func r1Senders(ix *graph.Index, f graph.Flags) map[graph.NodeID]map[string]bool {
	out := map[graph.NodeID]map[string]bool{}
	for _, h := range f.ByRule("R1") {
		s := map[string]bool{}
		for _, tx := range h.Evidence {
			if ix.TxTo(tx) == h.Node {
				s[ix.Ref(ix.TxFrom(tx)).Key] = true
			}
		}
		out[h.Node] = s
	}
	return out
}

// TestExternalAMLSimFanIn imports AMLSim run100 (three SAR fan-in alerts on
// accounts 62, 28 and 95) and checks R1.
func TestExternalAMLSimFanIn(t *testing.T) {
	dir := externalDir(t, "amlsim/run100-aiyazmiran")
	ix := importProfile(t, "amlsim", dir)
	alerts := amlsimAlerts(t, dir)
	if len(alerts) != 3 {
		t.Fatalf("alert_transactions.csv lists %d fan-in hubs, want 3", len(alerts))
	}

	def := runRulesT(t, ix, graph.DefaultRuleConfig())
	t.Logf("default config: %d hits, %d R1 hits, %d entities at risk ≥ %.2f (R1 needs ≥ 80%% of the credits to leave by cash or exchange; AMLSim has no such leg)",
		len(def.Hits), len(def.ByRule("R1")), len(def.Flagged()), def.Threshold)
	checkAMLSimFlowRules(t, ix, def, alerts)

	// The sensitivity of the long-window sender count, hubs and others.
	hubIDs := map[graph.NodeID]string{}
	for hub := range alerts {
		id, ok := ix.Lookup(accountRef("amlsim:" + hub))
		if !ok {
			t.Fatalf("hub account amlsim:%s is not in the index", hub)
		}
		hubIDs[id] = hub
	}
	for n := 10; n <= 20; n += 2 {
		f := runRulesT(t, ix, amlsimFanInConfig(n))
		hubs, others := 0, 0
		for id := range r1Senders(ix, f) {
			if _, ok := hubIDs[id]; ok {
				hubs++
			} else {
				others++
			}
		}
		t.Logf("R1 senders_long %2d in 180d, cash_out_share 0: %d of 3 hubs, %d other accounts flagged by R1", n, hubs, others)
	}

	const sendersLong = 15
	f := runRulesT(t, ix, amlsimFanInConfig(sendersLong))
	found := r1Senders(ix, f)
	others := 0
	for id := range found {
		if _, ok := hubIDs[id]; !ok {
			others++
		}
	}
	hubs := slices.Sorted(func(yield func(string) bool) {
		for h := range alerts {
			if !yield(h) {
				return
			}
		}
	})
	for _, hub := range hubs {
		id, _ := ix.Lookup(accountRef("amlsim:" + hub))
		ev, ok := found[id]
		if !ok {
			// R1 is fan-in to cash: it now also needs the fan-in's typical
			// credit to be no smaller than the data's typical transfer, and
			// AMLSim's alert credits (~$214) are below its median ($550).
			// R18 finds the fan-in itself (asserted above).
			t.Logf("hub amlsim:%s not flagged by the re-tuned R1 (senders_long %d in 180d, cash_out_share 0)", hub, sendersLong)
			continue
		}
		var in, out []string
		for _, s := range alerts[hub] {
			if ev["amlsim:"+s] {
				in = append(in, s)
			} else {
				out = append(out, s)
			}
		}
		t.Logf("hub %s: %d of %d alert senders in the R1 evidence (%d evidence senders); found %s; not in evidence %s",
			hub, len(in), len(alerts[hub]), len(ev), strings.Join(in, ","), strings.Join(out, ","))
		// The evidence is the first window that reaches the sender count,
		// so it holds part of the alert's senders; at least a third is robust.
		if 3*len(in) < len(alerts[hub]) {
			t.Errorf("hub %s: only %d of %d alert senders in the R1 evidence", hub, len(in), len(alerts[hub]))
		}
	}
	t.Logf("R1 (senders_long %d): %d other accounts flagged", sendersLong, others)
	if others > 2 {
		t.Errorf("R1 (senders_long %d) flagged %d accounts besides the hubs, measured 0", sendersLong, others)
	}
}

// checkAMLSimFlowRules scores the default config's flow rules on AMLSim:
// the fan-in hubs and their senders (R18 reads the identical amount each
// sender paid once), and every other account flagged.
func checkAMLSimFlowRules(t *testing.T, ix *graph.Index, f graph.Flags, alerts map[string][]string) {
	t.Helper()
	hits := byOwnHit(ix, f)
	risky := byRisk(f)
	members := map[string]bool{}
	for hub, senders := range alerts {
		members["amlsim:"+hub] = true
		for _, s := range senders {
			members["amlsim:"+s] = true
		}
	}
	hubsHit, sendersHit, senders := 0, 0, 0
	for hub, ss := range alerts {
		if slices.Contains(hits["amlsim:"+hub], "R18") {
			hubsHit++
		} else {
			t.Errorf("hub amlsim:%s has no R18 hit (rules %v)", hub, hits["amlsim:"+hub])
		}
		for _, s := range ss {
			senders++
			if slices.Contains(hits["amlsim:"+s], "R18") {
				sendersHit++
			}
		}
	}
	perRule := map[string]int{}
	others, othersRisk, membersRisk := 0, 0, 0
	for key, rules := range hits {
		if members[key] {
			continue
		}
		others++
		for _, r := range rules {
			perRule[r]++
		}
	}
	for key := range risky {
		if members[key] {
			membersRisk++
		} else {
			othersRisk++
		}
	}
	t.Logf("default config, flow rules: R18 on %d of 3 hubs and %d of %d alert senders; alert members at risk ≥ 0.5: %d of %d; "+
		"other accounts with any hit: %d %v, at risk ≥ 0.5: %d (of %d non-alert accounts)",
		hubsHit, sendersHit, senders, membersRisk, len(members), others, perRule, othersRisk, ix.Len()-len(members))
	// Measured: 3 hubs, 51 of 51 senders, all 54 members at risk ≥ 0.5,
	// 0 other accounts with any hit.
	if membersRisk < 50 {
		t.Errorf("%d of %d alert members at risk ≥ 0.5, measured 54", membersRisk, len(members))
	}
	if 10*sendersHit < 9*senders {
		t.Errorf("R18 reached %d of %d alert senders, measured all", sendersHit, senders)
	}
	if othersRisk > 3 {
		t.Errorf("%d non-alert accounts at risk ≥ 0.5 with the defaults, measured 0", othersRisk)
	}
}

// amlworldPattern is one laundering attempt of laundering_patterns.json.
type amlworldPattern struct {
	PatternType  string `json:"pattern_type"`
	Transactions []struct {
		FromBank    string `json:"from_bank"`
		FromAccount string `json:"from_account"`
		ToBank      string `json:"to_bank"`
		ToAccount   string `json:"to_account"`
	} `json:"transactions"`
}

// amlworldKey is the profile's account key: bank id without leading zeros.
func amlworldKey(bank, account string) string {
	if n, err := strconv.Atoi(bank); err == nil {
		bank = strconv.Itoa(n)
	}
	return "amlworld:" + bank + ":" + account
}

// familyScore is the detection figure of one typology family.
type familyScore struct {
	Family                string
	Attempts, AttemptsHit int
	Accounts, AccountsHit int
	Txns, TxnsHit         int
	RuleCount             map[string]int
}

// byRisk maps each account at risk ≥ threshold to the rules of its risk.
func byRisk(f graph.Flags) map[string][]string {
	out := map[string][]string{}
	for _, r := range f.Flagged() {
		if r.Kind == graph.KindAccount {
			var rules []string
			for _, rs := range r.Rules {
				rules = append(rules, rs.Rule)
			}
			out[r.Ref.Key] = rules
		}
	}
	return out
}

// byOwnHit maps each account with an own hit of one of rules (all rules
// when none is named) to those rules, whatever its risk.
func byOwnHit(ix *graph.Index, f graph.Flags, rules ...string) map[string][]string {
	out := map[string][]string{}
	for _, h := range f.Hits {
		if ix.Kind(h.Node) != graph.KindAccount || len(rules) > 0 && !slices.Contains(rules, h.Rule) {
			continue
		}
		key := ix.Ref(h.Node).Key
		if !slices.Contains(out[key], h.Rule) {
			out[key] = append(out[key], h.Rule)
		}
	}
	return out
}

// scoreAMLworld scores detected accounts (account key → rules) against the
// patterns per family: a transaction is detected when either end is; an
// attempt when any of its accounts is.
func scoreAMLworld(ix *graph.Index, flagged map[string][]string, patterns []amlworldPattern) (fams []familyScore, fp, nonPattern int) {
	byFam := map[string]*familyScore{}
	famAccounts := map[string]map[string]bool{}
	inPattern := map[string]bool{}
	for _, p := range patterns {
		fam := strings.TrimSpace(strings.SplitN(p.PatternType, ":", 2)[0])
		s := byFam[fam]
		if s == nil {
			s = &familyScore{Family: fam, RuleCount: map[string]int{}}
			byFam[fam] = s
			famAccounts[fam] = map[string]bool{}
		}
		s.Attempts++
		hit := false
		for _, tx := range p.Transactions {
			a, b := amlworldKey(tx.FromBank, tx.FromAccount), amlworldKey(tx.ToBank, tx.ToAccount)
			famAccounts[fam][a], famAccounts[fam][b] = true, true
			inPattern[a], inPattern[b] = true, true
			s.Txns++
			_, fa := flagged[a]
			_, fb := flagged[b]
			if fa || fb {
				s.TxnsHit++
				hit = true
			}
		}
		if hit {
			s.AttemptsHit++
		}
	}
	for fam, accs := range famAccounts {
		s := byFam[fam]
		for a := range accs {
			s.Accounts++
			if rules, ok := flagged[a]; ok {
				s.AccountsHit++
				for _, r := range rules {
					s.RuleCount[r]++
				}
			}
		}
		fams = append(fams, *s)
	}
	slices.SortFunc(fams, func(a, b familyScore) int { return strings.Compare(a.Family, b.Family) })
	for id := graph.NodeID(0); int(id) < ix.Len(); id++ {
		if ix.Kind(id) != graph.KindAccount {
			continue
		}
		key := ix.Ref(id).Key
		if inPattern[key] {
			continue
		}
		nonPattern++
		if _, ok := flagged[key]; ok {
			fp++
		}
	}
	return fams, fp, nonPattern
}

func logFamilies(t *testing.T, title string, fams []familyScore, fp, nonPattern int) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n| family | attempts | detected | accounts | detected | share | transactions | detected | rules on detected accounts |\n|---|---|---|---|---|---|---|---|---|\n", title)
	for _, s := range fams {
		rules := slices.Sorted(func(yield func(string) bool) {
			for r := range s.RuleCount {
				if !yield(r) {
					return
				}
			}
		})
		var parts []string
		for _, r := range rules {
			parts = append(parts, fmt.Sprintf("%s %d", r, s.RuleCount[r]))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.3f | %d | %d | %s |\n", s.Family, s.Attempts, s.AttemptsHit,
			s.Accounts, s.AccountsHit, float64(s.AccountsHit)/float64(max(1, s.Accounts)), s.Txns, s.TxnsHit, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "non-pattern accounts flagged: %d of %d (%.4f)", fp, nonPattern, float64(fp)/float64(max(1, nonPattern)))
	t.Log(b.String())
}

// TestExternalAMLworldFamilies imports the AMLworld HI-Small extract (the
// 3,209 pattern transactions and the two 1,000-row samples) and reports the
// detection rate per typology family.
func TestExternalAMLworldFamilies(t *testing.T) {
	dir := externalDir(t, "amlworld-hi-small")
	ix := importProfile(t, "amlworld", dir)
	raw, err := os.ReadFile(filepath.Join(dir, "laundering_patterns.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth struct {
		Patterns []amlworldPattern `json:"patterns"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatalf("laundering_patterns.json: %v", err)
	}
	if len(truth.Patterns) != 370 {
		t.Fatalf("laundering_patterns.json holds %d attempts, want 370", len(truth.Patterns))
	}

	f := runRulesT(t, ix, graph.DefaultRuleConfig())
	fams, fp, nonPattern := scoreAMLworld(ix, byRisk(f), truth.Patterns)
	logFamilies(t, "AMLworld HI-Small, default config, accounts at risk ≥ 0.5", fams, fp, nonPattern)
	flow := []string{"R16", "R17", "R18", "R19", "R20", "R21", "R22"}
	hitFams, hitFP, _ := scoreAMLworld(ix, byOwnHit(ix, f, flow...), truth.Patterns)
	logFamilies(t, "AMLworld HI-Small, default config, accounts with an own hit of a flow rule R16–R22 (any score)", hitFams, hitFP, nonPattern)
	if len(fams) != 8 {
		t.Errorf("%d typology families, want 8", len(fams))
	}
	if nonPattern == 0 {
		t.Fatal("no non-pattern accounts imported: the samples are missing")
	}
	// Floors about a tenth below the attempts detected at risk ≥ 0.5 by
	// this version (docs/DETECTION.md "Evaluation": 22, 51, 35, 41, 50, 40,
	// 43, 42).
	floor := map[string]int{"BIPARTITE": 19, "CYCLE": 46, "FAN-IN": 31, "FAN-OUT": 37, "GATHER-SCATTER": 45,
		"RANDOM": 36, "SCATTER-GATHER": 39, "STACK": 38}
	for _, s := range fams {
		if s.AttemptsHit < floor[s.Family] {
			t.Errorf("%s: %d of %d attempts detected at risk ≥ 0.5, floor %d", s.Family, s.AttemptsHit, s.Attempts, floor[s.Family])
		}
	}
	if 100*fp > nonPattern {
		t.Errorf("%d of %d non-pattern accounts flagged, more than 1%%", fp, nonPattern)
	}
}
