package dgraphdb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"casegraph/backend"
	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/internal/dgraphtest"
	"casegraph/store"
	"casegraph/workbench"
)

// The contract: the embedded Badger store and a Dgraph cluster, loaded from
// the same files through the same importers, answer every read of
// backend.Reader the same way.

// One cluster serves every test of the package (starting one takes seconds
// and an idle alpha holds ~850 MB); TestMain stops it.
var (
	clusterOnce sync.Once
	clusterVal  *dgraphtest.Cluster
	clusterErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if clusterVal != nil {
		clusterVal.Stop()
	}
	if clusterDir != "" {
		os.RemoveAll(clusterDir)
	}
	os.Exit(code)
}

var clusterDir string

// cluster returns the package's cluster, starting it on first use; it skips
// (fails under CI) without a dgraph binary.
func cluster(t *testing.T) *dgraphtest.Cluster {
	t.Helper()
	bin := dgraphtest.Require(t)
	clusterOnce.Do(func() {
		clusterDir, clusterErr = os.MkdirTemp("", "casegraph-dgraph-")
		if clusterErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		clusterVal, clusterErr = dgraphtest.Start(ctx, bin, clusterDir, 2)
	})
	if clusterErr != nil {
		t.Fatalf("start dgraph cluster: %v", clusterErr)
	}
	return clusterVal
}

// openFresh connects to the cluster with all data dropped.
func openFresh(t *testing.T) *dgraphdb.DB {
	t.Helper()
	c := cluster(t)
	ctx := context.Background()
	dg, err := dgraphdb.Open(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dg.Close() })
	if err := dg.DropAll(ctx); err != nil {
		t.Fatal(err)
	}
	return dg
}

// Cards of testdata/canonical, an IBAN, the exchanges, cash and an ATM, and
// two cards no file describes (stubs).
var fixtureRefs = []string{
	"card:4400430000000015", "card:4400431234567894", "card:4003039876543213",
	"iban:KZ45722S000054326792", "exchange:EX-0001", "exchange:EX-0002", "cash", "atm:ATM-ALA-0042",
	"card:" + luhn("440043000000010"), "card:" + luhn("440043000000020"),
}

// luhn appends the Luhn check digit.
func luhn(s string) string {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return s + string(rune('0'+(10-sum%10)%10))
}

// writeMonths writes a transactions file over eight months of 2025 with ties
// in time and in amount, so that page order and month buckets are tested.
func writeMonths(t *testing.T, dir, name string, first, n int, months int) string {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(first), 7))
	var b strings.Builder
	b.WriteString("tx_id,time,from,to,amount,currency,channel,atm_id,device_id,ip,iin_provided,app_confirmed,reference\n")
	chans := []string{"transfer", "transfer", "topup", "cash_out", "trade"}
	for i := 0; i < n; i++ {
		m := 1 + r.IntN(months)
		day := 1 + r.IntN(28)
		hour := r.IntN(3) // few distinct times: ties
		from := fixtureRefs[r.IntN(len(fixtureRefs))]
		to := fixtureRefs[r.IntN(len(fixtureRefs))]
		for to == from {
			to = fixtureRefs[r.IntN(len(fixtureRefs))]
		}
		amount := []int{1000, 2500, 50000, 99000, 150000}[r.IntN(5)]
		ch := chans[r.IntN(len(chans))]
		// Ids of different lengths, so ties in time order by length first.
		id := fmt.Sprintf("M%d", first+i)
		if i%3 == 0 {
			id = fmt.Sprintf("M-%06d", first+i)
		}
		fmt.Fprintf(&b, "%s,2025-%02d-%02d %02d:00:00,%s,%s,%d,KZT,%s,,,,,,ref %d\n", id, m, day, 10+hour, from, to, amount, ch, i)
	}
	// A bad row: rejected by both.
	b.WriteString("BAD1,2025-13-01 10:00:00,card:4400430000000015,cash,100,KZT,cash_out,,,,,,bad month\n")
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fixture is the same case loaded into both engines.
type fixture struct {
	badger, dgraph *workbench.Workbench
	store          *store.DB // the Badger side's
	dg             *dgraphdb.DB
	resB, resD     []workbench.ImportResult
	// clusterSorted: the transaction pages are compared a second time with
	// every month ordered by the cluster (localSortMax 0), as for entities
	// with more than localSortMax rows a month; once is enough for the
	// package (TestContractSameAnswers), whose time CI bounds.
	clusterSorted bool
}

// importBoth runs the same imports, step by step, into a Badger store and
// the cluster.
func importBoth(t *testing.T, dg *dgraphdb.DB, steps ...[]string) fixture {
	t.Helper()
	bdb := openStore(t, "badger")
	f := fixture{badger: workbench.New(bdb, "badger"), store: bdb, dgraph: workbench.NewRemote(openStore(t, "local"), dg), dg: dg}
	for _, files := range steps {
		f.importStep(t, files, true, true)
	}
	f.loadSearch(t)
	return f
}

func openStore(t *testing.T, name string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), name), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// importStep imports files into the Badger side and the cluster side (each
// when asked), with a rejects file of the step's own.
func (f *fixture) importStep(t *testing.T, files []string, badger, dgraph bool) {
	t.Helper()
	ctx := context.Background()
	for _, side := range []struct {
		on  bool
		wb  *workbench.Workbench
		res *[]workbench.ImportResult
	}{{badger, f.badger, &f.resB}, {dgraph, f.dgraph, &f.resD}} {
		if !side.on {
			continue
		}
		rej := filepath.Join(t.TempDir(), fmt.Sprintf("rejects-%d.csv", len(*side.res)))
		res, err := side.wb.Import(ctx, files, rej, nil, nil)
		if err != nil {
			t.Fatalf("import step %d into %s: %v", len(*side.res), side.wb.Name(), err)
		}
		*side.res = append(*side.res, res)
	}
}

// loadSearch loads the Badger side's search index (the cluster serves its
// own).
func (f *fixture) loadSearch(t *testing.T) {
	t.Helper()
	if _, _, err := f.badger.LoadSearch(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func canonicalFiles(t *testing.T) []string {
	t.Helper()
	files, err := workbench.ExpandInputs([]string{filepath.Join("..", "testdata", "canonical")})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// contractSteps are the imports the contract compares: a bulk load of
// testdata/canonical with its bad rows and eight months of generated
// transactions, then an incremental one — new transactions in new months,
// and the first step's last file again (skipped by its hash).
func contractSteps(t *testing.T) (step1, step2 []string) {
	t.Helper()
	dir := t.TempDir()
	step1 = append(canonicalFiles(t), writeMonths(t, dir, "months.csv", 1, 400, 8))
	step2 = []string{writeMonths(t, dir, "more.csv", 5000, 120, 10), step1[len(step1)-1]}
	return step1, step2
}

func TestContractSameAnswers(t *testing.T) {
	dg := openFresh(t)
	step1, step2 := contractSteps(t)
	f := importBoth(t, dg, step1, step2)
	f.clusterSorted = true
	compareContract(t, f)
}

// compareContract compares every read of the two sides of f, and their
// import reports step by step: the first step a bulk load, the later ones
// incremental, the second file of the second step one imported before.
func compareContract(t *testing.T, f fixture) {
	t.Helper()
	ctx := context.Background()

	t.Run("import reports", func(t *testing.T) {
		if len(f.resB) != len(f.resD) || len(f.resB) == 0 {
			t.Fatalf("%d import steps (badger) vs %d (dgraph)", len(f.resB), len(f.resD))
		}
		for i := range f.resB {
			b, d := f.resB[i], f.resD[i]
			if len(b.Files) != len(d.Files) {
				t.Fatalf("step %d: %d files vs %d", i, len(b.Files), len(d.Files))
			}
			if b.Bulk != d.Bulk || b.Bulk != (i == 0) {
				t.Errorf("step %d: bulk %v (badger) vs %v (dgraph)", i, b.Bulk, d.Bulk)
			}
			if b.Rejected != d.Rejected {
				t.Errorf("step %d: rejected %d (badger) vs %d (dgraph)", i, b.Rejected, d.Rejected)
			}
			for j := range b.Files {
				fb, fd := b.Files[j], d.Files[j]
				rb, rd := fb.Report, fd.Report
				if fb.Skipped != fd.Skipped || rb.Read != rd.Read || rb.Imported != rd.Imported ||
					rb.Rejected != rd.Rejected || rb.Skipped != rd.Skipped || !reflect.DeepEqual(rb.Rejects, rd.Rejects) {
					t.Errorf("step %d %s:\n badger %q %+v\n dgraph %q %+v", i, filepath.Base(fb.Path), fb.Skipped, rb, fd.Skipped, rd)
				}
				if !rd.Reconciles() {
					t.Errorf("step %d %s: dgraph counts do not reconcile: %+v", i, fb.Path, rd)
				}
			}
			rejected := 0
			for _, fr := range d.Files {
				rejected += fr.Report.Rejected
			}
			if rejected == 0 {
				t.Errorf("step %d: the fixture has bad rows; none rejected", i)
			}
			rejB, _ := os.ReadFile(b.RejectsPath)
			rejD, _ := os.ReadFile(d.RejectsPath)
			if string(rejB) != string(rejD) || len(rejB) == 0 {
				t.Errorf("step %d: rejects differ:\n%s\n---\n%s", i, rejB, rejD)
			}
		}
		if len(f.resD) > 1 && f.resD[1].Files[1].Skipped == "" {
			t.Errorf("a file imported again was not skipped: %+v", f.resD[1].Files[1])
		}
	})

	t.Run("month lists", func(t *testing.T) {
		// Bulk-loaded or loaded by the client, every entity lists its
		// months, so the reads below name only those.
		if ok, err := f.dg.MonthsRecorded(ctx); err != nil || !ok {
			t.Errorf("the cluster does not mark its month lists complete: %v, %v", ok, err)
		}
	})

	t.Run("stats", func(t *testing.T) {
		sb, err := f.badger.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sd, err := f.dgraph.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []*graph.Stats{&sb, &sd} {
			for i := range s.Batches {
				s.Batches[i].At = time.Time{}
			}
		}
		if !reflect.DeepEqual(sb, sd) {
			t.Errorf("stats differ:\n badger %+v\n dgraph %+v", sb, sd)
		}
		if want := 400 + 100*(len(f.resB)-1); sb.Txns < want {
			t.Errorf("fixture too small: %d transactions", sb.Txns)
		}
	})

	refs := allRefs(t, f)
	t.Run("entities", func(t *testing.T) {
		for _, r := range append(refs, graph.Ref{Kind: graph.KindCard, Key: "4400439999999999"}) {
			eb, errB := f.badger.Entity(ctx, r)
			ed, errD := f.dgraph.Entity(ctx, r)
			if (errB == nil) != (errD == nil) || errB != nil && !(errorsIsNotFound(errB) && errorsIsNotFound(errD)) {
				t.Errorf("%s: errors %v vs %v", r, errB, errD)
				continue
			}
			if !reflect.DeepEqual(eb, ed) {
				t.Errorf("%s:\n badger %+v\n dgraph %+v", r, eb, ed)
			}
		}
	})

	t.Run("neighbours", func(t *testing.T) {
		for _, r := range refs {
			for _, limit := range []int{0, 3} {
				nb, tb, err := f.badger.Neighbors(ctx, r, limit)
				if err != nil {
					t.Fatal(err)
				}
				nd, td, err := f.dgraph.Neighbors(ctx, r, limit)
				if err != nil {
					t.Fatal(err)
				}
				if tb != td || !reflect.DeepEqual(nb, nd) {
					t.Errorf("%s limit %d: total %d vs %d\n badger %+v\n dgraph %+v", r, limit, tb, td, nb, nd)
				}
			}
		}
	})

	t.Run("holders", func(t *testing.T) {
		// A person's or organisation's page: the instruments they hold with
		// the combined totals, the counterparties of everything they hold
		// (or of one instrument), and the merged listing narrowed to one
		// instrument (the listing of all of them: "transaction pages").
		holders, merged := 0, 0
		for _, r := range refs {
			if r.Kind != graph.KindPerson && r.Kind != graph.KindOrganisation {
				continue
			}
			for _, limit := range []int{0, 1} {
				hb, err := f.badger.Holdings(ctx, r, limit)
				if err != nil {
					t.Fatal(err)
				}
				hd, err := f.dgraph.Holdings(ctx, r, limit)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(hb, hd) {
					t.Errorf("%s holdings limit %d:\n badger %+v\n dgraph %+v", r, limit, hb, hd)
				}
			}
			h, err := f.badger.Holdings(ctx, r, 0)
			if err != nil {
				t.Fatal(err)
			}
			if h.Total > 1 && h.Txns > 0 {
				holders++
			}
			vias := []graph.Ref{{}}
			for _, it := range h.Items {
				vias = append(vias, it.Ref)
			}
			for _, via := range vias {
				for _, limit := range []int{0, 3} {
					nb, tb, err := f.badger.HolderNeighbors(ctx, r, via, limit)
					if err != nil {
						t.Fatal(err)
					}
					nd, td, err := f.dgraph.HolderNeighbors(ctx, r, via, limit)
					if err != nil {
						t.Fatal(err)
					}
					if tb != td || !reflect.DeepEqual(nb, nd) {
						t.Errorf("%s via %s limit %d: total %d vs %d\n badger %+v\n dgraph %+v", r, via, limit, tb, td, nb, nd)
					}
					for _, n := range nb {
						if n.ViaCount > 1 {
							merged++
						}
					}
				}
				if via.IsZero() {
					continue
				}
				for _, s := range []graph.TxSort{graph.SortTimeDesc, graph.SortAmountAsc} {
					samePage(t, f, r, graph.TxQuery{Sort: s, Via: via, Offset: 1, Limit: 5})
				}
			}
		}
		if holders < 2 || merged < 2 {
			t.Errorf("only %d holders of several instruments with transactions, %d counterparty rows merged from several", holders, merged)
		}
	})

	t.Run("transaction pages", func(t *testing.T) {
		pages, ties, filtered := 0, 0, 0
		// A band of the fixture's amounts (50,000 and 99,000 of 1,000 …
		// 150,000) with its ends on amounts that occur, and per entity a
		// range whose ends are times of its rows: ge and lt at the ends,
		// as the store's [Min, Max) and [From, To).
		band := graph.TxQuery{MinAmount: 50_000_00, MaxAmount: 150_000_00}
		atEnds := 0
		sortMax := dgraphdb.SetLocalSortMax(0)
		defer dgraphdb.SetLocalSortMax(sortMax)
		for _, r := range refs {
			// A holder's listing merges everything they hold
			// (workbench/holdings.go; on a cluster holdmerge.go).
			asc, err := f.badger.Transactions(ctx, r, graph.TxQuery{Sort: graph.SortTimeAsc})
			if err != nil {
				t.Fatal(err)
			}
			var from, to time.Time
			if n := len(asc.Txns); n >= 4 {
				from, to = asc.Txns[n/4].Time, asc.Txns[3*n/4].Time
				if from.Before(to) {
					atEnds++
				}
			}
			queries := []graph.TxQuery{{Limit: 7}, {Offset: 5, Limit: 7}, {Offset: 40, Limit: 25}, {},
				{MinAmount: band.MinAmount, MaxAmount: band.MaxAmount, Limit: 7},
				{MinAmount: band.MinAmount, MaxAmount: band.MaxAmount, Offset: 5, Limit: 7},
				{MinAmount: 99_000_00},
				{MaxAmount: 2_500_00, Offset: 2},
				{From: from, To: to, Offset: 3, Limit: 7},
				{From: from, To: to, MinAmount: band.MinAmount, MaxAmount: band.MaxAmount}}
			// Every page twice: each month's rows sorted here (the
			// fixture's entities have few a month), and ordered by the
			// cluster (as for an entity with more than localSortMax).
			for _, sortHere := range []bool{true, false} {
				if !sortHere && !f.clusterSorted {
					continue
				}
				if sortHere {
					dgraphdb.SetLocalSortMax(sortMax)
				} else {
					dgraphdb.SetLocalSortMax(0)
				}
				for _, s := range []graph.TxSort{graph.SortTimeDesc, graph.SortTimeAsc, graph.SortAmountDesc, graph.SortAmountAsc} {
					for _, q := range queries {
						q.Sort = s
						pb := samePage(t, f, r, q)
						if len(pb.Txns) > 0 {
							pages++
							if q.Ranged() || q.Banded() {
								filtered++
							}
						}
						for i := 1; i < len(pb.Txns); i++ {
							if pb.Txns[i].Time.Equal(pb.Txns[i-1].Time) {
								ties++
							}
						}
					}
				}
			}
		}
		if pages < 100 || ties < 10 || filtered < 50 || atEnds < 5 {
			t.Errorf("only %d non-empty pages compared (%d of them filtered, %d entities ranged), %d ties in time within them",
				pages, filtered, atEnds, ties)
		}
		// A currency filter: the store keeps it, the cluster refuses it.
		card := graph.Ref{Kind: graph.KindCard, Key: "4400430000000015"}
		q := graph.TxQuery{Currency: "KZT", Limit: 5}
		if pb, err := f.badger.Transactions(ctx, card, q); err != nil || pb.Total == 0 {
			t.Errorf("badger, currency KZT: %d rows, %v", pb.Total, err)
		}
		if _, err := f.dgraph.Transactions(ctx, card, q); !errors.Is(err, dgraphdb.ErrCurrencyFilter) {
			t.Errorf("dgraph, currency KZT: %v, want ErrCurrencyFilter", err)
		}
	})

	t.Run("search", func(t *testing.T) {
		for _, q := range []string{"Ахметов", "ахметов жанболат", "zhanbolat", "Жанболат Ахметов", "4400430000000015",
			"7894", "kaspi", "EX-0001", "Astana", "+7 701 555 1234", "850312300002", "тенге", "xyzzy"} {
			for _, kind := range []graph.Kind{graph.KindUnknown, graph.KindCard} {
				sb, err := f.badger.Search(ctx, q, kind, 10000)
				if err != nil {
					t.Fatal(err)
				}
				sd, err := f.dgraph.Search(ctx, q, kind, 20)
				if err != nil {
					t.Fatal(err)
				}
				want := matching(sb, q)
				// Both swap a two-word query that finds nothing, each by its
				// own matches: the cluster's are the substring ones.
				if w := strings.Fields(q); len(want) == 0 && len(w) == 2 {
					swapped := w[1] + " " + w[0]
					sw, err := f.badger.Search(ctx, swapped, kind, 10000)
					if err != nil {
						t.Fatal(err)
					}
					want = matching(sw, swapped)
				}
				if sd.Total != len(want) {
					t.Errorf("%q kind %s: dgraph total %d, badger's matches containing the query %d", q, kind, sd.Total, len(want))
				}
				want = want[:min(len(want), 20)]
				if !reflect.DeepEqual(want, sd.Hits) && !(len(want) == 0 && len(sd.Hits) == 0) {
					t.Errorf("%q kind %s:\n badger %+v\n dgraph %+v", q, kind, want, sd.Hits)
				}
			}
		}
		// A query that must be found, lest the test compare empty lists.
		sd, err := f.dgraph.Search(ctx, "Ахметов", graph.KindUnknown, 5)
		if err != nil || len(sd.Hits) == 0 || sd.Hits[0].Doc.Ref.Key != "850312300002" {
			t.Errorf("Ахметов: %+v, %v", sd, err)
		}
	})
}

// matching keeps the hits the cluster finds: those containing the query.
func matching(res graph.SearchResult, q string) []graph.SearchHit {
	var out []graph.SearchHit
	for _, h := range res.Hits {
		if dgraphdb.Matches(h.Doc, q) {
			out = append(out, h)
		}
	}
	return out
}

func errorsIsNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), graph.ErrNotFound.Error())
}

func txIDs(p graph.TxPage) []string {
	var out []string
	for _, t := range p.Txns {
		out = append(out, t.ID)
	}
	return out
}

// allRefs lists every entity of the Badger side.
func allRefs(t *testing.T, f fixture) []graph.Ref {
	t.Helper()
	var refs []graph.Ref
	err := f.store.SearchDocs(context.Background(), func(d graph.SearchDoc) error {
		refs = append(refs, d.Ref)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) < 20 {
		t.Fatalf("fixture has %d entities", len(refs))
	}
	return refs
}

var _ backend.Reader = (*dgraphdb.DB)(nil)

// samePage reads page q of r from both sides, reports a difference and
// returns the store's page.
func samePage(t *testing.T, f fixture, r graph.Ref, q graph.TxQuery) graph.TxPage {
	t.Helper()
	ctx := context.Background()
	pb, err := f.badger.Transactions(ctx, r, q)
	if err != nil {
		t.Fatal(err)
	}
	pd, err := f.dgraph.Transactions(ctx, r, q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pb, pd) {
		t.Errorf("%s %+v:\n badger %d/%d %v\n dgraph %d/%d %v", r, q, len(pb.Txns), pb.Total, txIDs(pb),
			len(pd.Txns), pd.Total, txIDs(pd))
	}
	return pb
}
