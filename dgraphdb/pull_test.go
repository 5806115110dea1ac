package dgraphdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
	"casegraph/workbench"
)

// pullFixture is the contract's files imported into a Badger folder and the
// cluster.
func pullFixture(t *testing.T) fixture {
	t.Helper()
	dg := openFresh(t)
	dir := t.TempDir()
	step1 := append(canonicalFiles(t), writeMonths(t, dir, "months.csv", 1, 400, 8))
	return importBoth(t, dg, step1)
}

// pullTo pulls from the cluster into a new folder and returns it open.
func pullTo(t *testing.T, f fixture, opt dgraphdb.PullOptions) (*store.DB, workbench.PullScope) {
	t.Helper()
	ctx := context.Background()
	sg, err := f.dg.Pull(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "pulled"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	scope, err := workbench.PullInto(ctx, db, sg, workbench.PullScope{URL: f.dg.Name(), Hops: opt.Hops}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A pull is a bulk import: it leaves the graph index built, and the
	// analysis maps it (the analyses compare what it answers).
	if graph.IndexFileSupported {
		if _, how, err := workbench.LoadIndex(ctx, db, nil); err != nil || !strings.Contains(how, "mapped from "+workbench.IndexFileName) {
			t.Fatalf("the pulled folder's index: %q, %v", how, err)
		}
	}
	return db, scope
}

// analyses runs what flags, clusters, path and trace print on a database
// and returns it as JSON, one entry per answer.
func analyses(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	wb := workbench.New(db, "x")
	ix, _, err := workbench.LoadIndex(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := wb.RuleConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := wb.RunRules(ctx, ix, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	js := func(name string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	js("flags", a.Report(a.Subjects("", true, 0), "", nil))
	for _, by := range []string{"risk", "turnover"} {
		groups, err := a.Groups(ctx, tui.ClusterOrder(by))
		if err != nil {
			t.Fatal(err)
		}
		js("groups by "+by, workbench.GroupRows(groups, 0))
		comms, n, err := a.Communities(ctx, by == "risk", 0)
		if err != nil {
			t.Fatal(err)
		}
		js("louvain by "+by, map[string]any{"n": n, "rows": comms})
	}
	refs := []graph.Ref{}
	for _, s := range fixtureRefs {
		r, err := graph.ParseRef(s)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	for i, r := range refs {
		a, ok := ix.Lookup(r)
		if !ok {
			t.Fatalf("%s not in the index", r)
		}
		for _, fwd := range []bool{true, false} {
			tr, err := graph.Trace(ctx, ix, workbench.TraceStartAt(ix, a), graph.TraceOptions{Forward: fwd, MaxHops: 4})
			if err != nil {
				t.Fatal(err)
			}
			js("trace "+r.String()+map[bool]string{true: " forward", false: " back"}[fwd], workbench.TraceReport(ix, tr))
		}
		other := refs[(i+3)%len(refs)]
		b, _ := ix.Lookup(other)
		for _, directed := range []bool{false, true} {
			p, err := workbench.PathSteps(ctx, ix, a, b, graph.PathOptions{MaxHops: 4, Directed: directed}, 3)
			if err != nil {
				t.Fatal(err)
			}
			js("path "+r.String()+" "+other.String(), p)
		}
	}
	return out
}

// TestPullWholeFixture: the whole fixture pulled hop by hop from a few seeds
// gives the Badger folder's stats and every analysis's answer.
func TestPullWholeFixture(t *testing.T) {
	f := pullFixture(t)
	ctx := context.Background()
	// The canonical persons and organisations, the fixture's cards, cash
	// and the exchanges are connected; 6 hops reach every node.
	seeds := []graph.Ref{{Kind: graph.KindCard, Key: "4400430000000015"}}
	for _, r := range allRefs(t, f) {
		if r.Kind == graph.KindPerson || r.Kind == graph.KindOrganisation {
			seeds = append(seeds, r)
		}
	}
	var hops []int
	pulled, scope := pullTo(t, f, dgraphdb.PullOptions{Seeds: seeds, Hops: 6,
		Progress: func(hop, _, _, _ int) { hops = append(hops, hop) }})
	if len(hops) < 3 {
		t.Errorf("progress saw hops %v", hops)
	}
	sb, err := f.badger.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := workbench.New(pulled, "pulled").Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*graph.Stats{&sb, &sp} {
		for i := range s.Batches {
			s.Batches[i].At = time.Time{}
		}
	}
	if !reflect.DeepEqual(sb, sp) {
		t.Fatalf("the pull is not the whole fixture:\n badger %+v\n pulled %+v", sb, sp)
	}
	if scope.Txns != sb.Txns || len(scope.Expanded) == 0 {
		t.Errorf("scope %+v", scope)
	}
	want, got := analyses(t, f.store), analyses(t, pulled)
	flagged := 0
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s differs:\n badger %s\n pulled %s", k, w, got[k])
		}
	}
	var rep workbench.FlagReport
	if err := json.Unmarshal([]byte(want["flags"]), &rep); err != nil {
		t.Fatal(err)
	}
	flagged = rep.Flagged
	if flagged == 0 || len(want) < 30 {
		t.Errorf("the comparison is empty: %d subjects, %d answers", flagged, len(want))
	}
	// Entities and neighbours read back from the pulled folder.
	wp := workbench.New(pulled, "pulled")
	for _, r := range allRefs(t, f) {
		eb, _ := f.badger.Entity(ctx, r)
		ep, err := wp.Entity(ctx, r)
		if err != nil || !reflect.DeepEqual(eb, ep) {
			t.Errorf("%s: %v\n badger %+v\n pulled %+v", r, err, eb, ep)
		}
		nb, _, _ := f.badger.Neighbors(ctx, r, 0)
		np, _, _ := wp.Neighbors(ctx, r, 0)
		if !reflect.DeepEqual(nb, np) {
			t.Errorf("%s neighbours:\n badger %+v\n pulled %+v", r, nb, np)
		}
	}

	t.Run("risks written back", func(t *testing.T) {
		ix, _, err := workbench.LoadIndex(ctx, pulled, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, _ := wp.RuleConfig(ctx)
		a, err := wp.RunRules(ctx, ix, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, fl, err := workbench.WriteBackRisks(ctx, f.dg, wp, a, scope)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || fl == 0 {
			t.Fatalf("wrote %d risks, %d flagged", n, fl)
		}
		if _, err := wp.KeepAnalysis(ctx, a); err != nil {
			t.Fatal(err)
		}
		back := 0
		for _, row := range a.Subjects("", false, 0) {
			want, ok, err := wp.EntityRisk(ctx, row.Ref)
			if err != nil || !ok {
				t.Fatal(row.Ref, ok, err)
			}
			got, sc, ok, err := workbench.RemoteRisk(ctx, f.dg, row.Ref)
			if err != nil || !ok || sc == "" {
				t.Errorf("%s: no risk read back (%v)", row.Ref, err)
				continue
			}
			want.Analysis.Time, got.Analysis.Time = "", ""
			got.Scope = ""
			if !reflect.DeepEqual(want, got) || !got.Flagged {
				t.Errorf("%s:\n kept    %+v\n cluster %+v", row.Ref, want, got)
			}
			back++
		}
		if back == 0 {
			t.Error("no flagged subject read back")
		}
		if _, _, ok, err := workbench.RemoteRisk(ctx, f.dg, graph.Ref{Kind: graph.KindCard, Key: "4400439999999999"}); ok || err != nil {
			t.Errorf("an unknown card has a risk: %v %v", ok, err)
		}
	})
}

// TestPullOneHop: a 1-hop pull holds the seed, its neighbours and the seed's
// links and transactions, nothing else; a window keeps only its
// transactions; a budget too small is refused, naming it.
func TestPullOneHop(t *testing.T) {
	f := pullFixture(t)
	ctx := context.Background()
	seed := graph.Ref{Kind: graph.KindCard, Key: "4400431234567894"}
	all, err := f.badger.Transactions(ctx, seed, graph.TxQuery{Sort: graph.SortTimeAsc})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Txns) < 40 {
		t.Fatalf("the seed has %d transactions", len(all.Txns))
	}
	check := func(t *testing.T, pulled *store.DB, q graph.TxQuery) {
		t.Helper()
		wp := workbench.New(pulled, "pulled")
		want, err := f.badger.Transactions(ctx, seed, q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := wp.Transactions(ctx, seed, graph.TxQuery{Sort: graph.SortTimeAsc})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("the seed's transactions:\n badger %v\n pulled %v", txIDs(want), txIDs(got))
		}
		st, err := wp.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Txns != want.Total {
			t.Errorf("the pull holds %d transactions, the seed has %d", st.Txns, want.Total)
		}
		// The nodes: the seed and its neighbours (in the window), no other.
		wantRefs := map[graph.Ref]bool{seed: true}
		for _, tx := range want.Txns {
			wantRefs[tx.From], wantRefs[tx.To] = true, true
		}
		nb, _, err := f.badger.Neighbors(ctx, seed, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nb {
			if slices.Contains([]string{"transfer", "topup", "cash_out", "trade", "unknown"}, n.Relation) {
				continue
			}
			wantRefs[n.Ref] = true // links
		}
		gotRefs := map[graph.Ref]bool{}
		ix, _, err := workbench.LoadIndex(ctx, pulled, nil)
		if err != nil {
			t.Fatal(err)
		}
		for id := range ix.Len() {
			gotRefs[ix.Ref(graph.NodeID(id))] = true
		}
		if !reflect.DeepEqual(wantRefs, gotRefs) {
			t.Errorf("nodes:\n want %v\n got  %v", wantRefs, gotRefs)
		}
		if q.From.IsZero() {
			// The seed's neighbours as a folder counts them.
			np, _, _ := wp.Neighbors(ctx, seed, 0)
			if !reflect.DeepEqual(nb, np) {
				t.Errorf("neighbours:\n badger %+v\n pulled %+v", nb, np)
			}
		}
	}
	t.Run("one hop", func(t *testing.T) {
		pulled, scope := pullTo(t, f, dgraphdb.PullOptions{Seeds: []graph.Ref{seed}, Hops: 1})
		check(t, pulled, graph.TxQuery{Sort: graph.SortTimeAsc})
		if !reflect.DeepEqual(scope.Expanded, []string{seed.String()}) {
			t.Errorf("expanded %v", scope.Expanded)
		}
	})
	t.Run("window", func(t *testing.T) {
		n := len(all.Txns)
		from, to := all.Txns[n/4].Time, all.Txns[3*n/4].Time
		pulled, _ := pullTo(t, f, dgraphdb.PullOptions{Seeds: []graph.Ref{seed}, Hops: 1, From: from, To: to})
		check(t, pulled, graph.TxQuery{Sort: graph.SortTimeAsc, From: from, To: to})
		ix, _, err := workbench.LoadIndex(ctx, pulled, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range uint32(ix.TxCount()) {
			if tm := time.Unix(ix.TxTime(i), 0); tm.Before(from) || !tm.Before(to) {
				t.Errorf("%s at %s is outside [%s, %s)", ix.TxID(i), tm, from, to)
			}
		}
		if ix.TxCount() == 0 || ix.TxCount() >= n {
			t.Errorf("%d of %d transactions in the window", ix.TxCount(), n)
		}
	})
	t.Run("budget", func(t *testing.T) {
		for _, c := range []struct {
			opt  dgraphdb.PullOptions
			what string
		}{
			{dgraphdb.PullOptions{Seeds: []graph.Ref{seed}, Hops: 1, MaxTxns: 10}, "transactions"},
			{dgraphdb.PullOptions{Seeds: []graph.Ref{seed}, Hops: 2, MaxNodes: 5}, "nodes"},
		} {
			_, err := f.dg.Pull(ctx, c.opt)
			var be *dgraphdb.BudgetError
			if !errors.As(err, &be) || be.What != c.what || !strings.Contains(err.Error(), "budget of") {
				t.Errorf("%+v: %v", c.opt, err)
			}
		}
		// What a hop counts before it reads: the seed's transactions, in a
		// window too.
		n := len(all.Txns)
		from, to := all.Txns[n/4].Time, all.Txns[3*n/4].Time
		inWindow, err := f.badger.Transactions(ctx, seed, graph.TxQuery{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			opt  dgraphdb.PullOptions
			want int
		}{{dgraphdb.PullOptions{}, all.Total}, {dgraphdb.PullOptions{From: from, To: to}, inWindow.Total}} {
			got, err := f.dg.CountEdges(ctx, []graph.Ref{seed}, c.opt)
			if err != nil || got != c.want {
				t.Errorf("counted %d edges (%v), want %d", got, err, c.want)
			}
		}
		// A seed the cluster does not hold.
		_, err = f.dg.Pull(ctx, dgraphdb.PullOptions{Seeds: []graph.Ref{{Kind: graph.KindCard, Key: "4400439999999999"}}, Hops: 1})
		if !errors.Is(err, graph.ErrNotFound) {
			t.Errorf("unknown seed: %v", err)
		}
	})
	t.Run("trails", func(t *testing.T) {
		// Following money out, later than it came in (or in, earlier than
		// it left): a trace on the pulled trail is the trace on the folder.
		for _, s := range fixtureRefs[:6] {
			start, err := graph.ParseRef(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, fwd := range []bool{true, false} {
				follow := dgraphdb.FollowOut
				if !fwd {
					follow = dgraphdb.FollowIn
				}
				pulled, scope := pullTo(t, f, dgraphdb.PullOptions{Seeds: []graph.Ref{start}, Hops: 4, Follow: follow})
				trace := func(db *store.DB) string {
					ix, _, err := workbench.LoadIndex(ctx, db, nil)
					if err != nil {
						t.Fatal(err)
					}
					id, _ := ix.Lookup(start)
					tr, err := graph.Trace(ctx, ix, graph.StartAtNode(id), graph.TraceOptions{Forward: fwd, MaxHops: 4})
					if err != nil {
						t.Fatal(err)
					}
					b, _ := json.Marshal(workbench.TraceReport(ix, tr))
					return string(b)
				}
				if w, g := trace(f.store), trace(pulled); w != g {
					t.Errorf("%s forward %v:\n badger %s\n pulled %s", start, fwd, w, g)
				}
				if len(scope.Expanded) < 2 {
					t.Errorf("%s: the trail expanded %v", start, scope.Expanded)
				}
			}
		}
	})
}

// TestPullTrailEarlierArrival: money reaches a node by two ways, the second
// found a hop later and earlier in time; the payments the earlier arrival
// lets on are followed too, so the trace on the pulled trail is the
// folder's.
func TestPullTrailEarlierArrival(t *testing.T) {
	dg := openFresh(t)
	ctx := context.Background()
	card := func(i int) string { return "card:" + luhn(fmt.Sprintf("44004300000%04d", i)) }
	a, b, c, c2, d, e := card(1), card(2), card(3), card(6), card(4), card(5)
	rows := []string{
		// A pays B late and C early; C pays B early through C2, so that B
		// is expanded (hop 2) before the early way reaches it (hop 3); B
		// pays D in between; D pays E.
		"X1,2025-03-10 10:00:00," + a + "," + b + ",1000,KZT,transfer",
		"X2,2025-03-01 10:00:00," + a + "," + c + ",1000,KZT,transfer",
		"X3,2025-03-01 12:00:00," + c + "," + c2 + ",1000,KZT,transfer",
		"X6,2025-03-02 10:00:00," + c2 + "," + b + ",1000,KZT,transfer",
		"X4,2025-03-05 10:00:00," + b + "," + d + ",1500,KZT,transfer",
		"X5,2025-03-06 10:00:00," + d + "," + e + ",1500,KZT,transfer",
	}
	p := filepath.Join(t.TempDir(), "trail.csv")
	body := "tx_id,time,from,to,amount,currency,channel\n" + strings.Join(rows, "\n") + "\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	f := importBoth(t, dg, []string{p})
	start, _ := graph.ParseRef(a)
	pulled, scope := pullTo(t, f, dgraphdb.PullOptions{Seeds: []graph.Ref{start}, Hops: 5, Follow: dgraphdb.FollowOut})
	if !slices.Contains(scope.Expanded, d) {
		t.Errorf("D, reached by money that came early, is not expanded: %v", scope.Expanded)
	}
	trace := func(db *store.DB) string {
		ix, _, err := workbench.LoadIndex(ctx, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := ix.Lookup(start)
		tr, err := graph.Trace(ctx, ix, graph.StartAtNode(id), graph.TraceOptions{Forward: true, MaxHops: 6, MaxDwell: 30 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(workbench.TraceReport(ix, tr))
		return string(b)
	}
	if w, g := trace(f.store), trace(pulled); w != g || !strings.Contains(w, e[5:]) {
		t.Errorf("trace:\n badger %s\n pulled %s", w, g)
	}
}
