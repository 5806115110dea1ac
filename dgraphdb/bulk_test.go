package dgraphdb_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/internal/dgraphtest"
	"casegraph/workbench"
)

// withExtraRow copies a transactions file under another name with one more
// row: its other rows are imported again (the same data, a new provenance),
// not skipped by the file's hash.
func withExtraRow(t *testing.T, src, name, row string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, append(b, []byte(row+"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDgraphBulkSameAnswers is the contract on a cluster loaded by Dgraph's
// own bulk loader: casegraph writes the bulk input from the contract's first
// step (plus a copy of its generated file with one more row, so that every
// transaction of it comes twice and the file keeps the last version only),
// zero starts, `dgraph bulk` runs with two map and reduce shards, and each
// alpha starts on its shard. Every read then answers as a Badger folder
// loaded from the same files does; then an increment through the client
// (new months, a bulk-loaded file again, skipped by its hash, and another
// copy of it with a new row, whose rows upsert onto the bulk-loaded nodes)
// leaves both sides answering alike again.
func TestDgraphBulkSameAnswers(t *testing.T) { bulkSameAnswers(t, nil) }

// TestDgraphBulkHubs is TestDgraphBulkSameAnswers with the hub threshold
// lowered to 10 transactions a month, so that the bulk writer writes hub
// summaries for about half of the fixture's (entity, month) pairs and the
// increment recomputes them: every answer stays the Badger folder's.
func TestDgraphBulkHubs(t *testing.T) {
	old := dgraphdb.SetHubMin(10)
	defer dgraphdb.SetHubMin(old)
	bulkSameAnswers(t, func(t *testing.T, dg *dgraphdb.DB) {
		hubs, pairs := hubCounts(t, dg)
		if hubs == 0 || hubs >= pairs {
			t.Errorf("%d hub months of %d entity months: want some, not all", hubs, pairs)
		}
	})
}

// bulkSameAnswers is TestDgraphBulkSameAnswers; check, when set, runs after
// each comparison.
func bulkSameAnswers(t *testing.T, check func(t *testing.T, dg *dgraphdb.DB)) {
	bin := dgraphtest.Require(t)
	ctx := context.Background()
	step1, step2 := contractSteps(t)
	months := step1[len(step1)-1]
	step1 = append(step1, withExtraRow(t, months, "months-again.csv",
		"B1,2025-04-02 10:00:00,card:4400430000000015,cash,100,KZT,cash_out,,,,,,bulk twice"))
	step2 = append(step2, withExtraRow(t, months, "months-third.csv",
		"B2,2025-11-02 10:00:00,cash,card:4400430000000015,700,KZT,topup,,,,,,client after bulk"))

	step1 = append(step1, hostileFiles(t)...)
	// A watch list: the bulk loader's files index its entities (cg.list) as
	// a client import does, so pull --list works on a bulk-loaded cluster.
	watch := filepath.Join(t.TempDir(), "watch.csv")
	if err := os.WriteFile(watch, []byte("iin,list_status,name\n850312300002,grey,Ахметов\n900515300008,black,Сейткали\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	step1 = append(step1, watch)

	out := filepath.Join(t.TempDir(), "bulk")
	w, err := dgraphdb.NewBulkWriter(out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := workbench.ImportBulk(ctx, w, step1, filepath.Join(t.TempDir(), "rejects-0.csv"), nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for _, fr := range res.Files {
		rejected += fr.Report.Rejected
	}
	if !res.Bulk || rejected == 0 {
		t.Errorf("bulk import: bulk %v, %d rejected (the fixture has bad rows)", res.Bulk, rejected)
	}
	checkBulkFiles(t, out)
	if _, err := dgraphdb.NewBulkWriter(out); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("a second bulk output into the same folder: %v", err)
	}

	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	c, err := dgraphtest.StartBulk(cctx, bin, t.TempDir(), 2, func(zero, o string) []string {
		return dgraphdb.BulkCommand(bin, out, zero, o, 2)
	})
	if err != nil {
		t.Fatalf("start a cluster from the bulk output: %v", err)
	}
	t.Cleanup(c.Stop)
	t.Logf("dgraph bulk took %s", c.BulkTook)
	st, err := c.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[uint32]int{}
	for _, g := range st.Tablets() {
		groups[g]++
	}
	if len(groups) != 2 {
		t.Errorf("the bulk-loaded predicates are served by %d groups, want 2: %v", len(groups), groups)
	}

	dg, err := dgraphdb.Open(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dg.Close() })
	bdb := openStore(t, "badger")
	f := fixture{badger: workbench.New(bdb, "badger"), store: bdb, dgraph: workbench.NewRemote(openStore(t, "local"), dg), dg: dg}
	f.importStep(t, step1, true, false)
	f.resD = append(f.resD, res)
	f.loadSearch(t)
	t.Run("bulk", func(t *testing.T) {
		compareContract(t, f)
		// The hostile rows were imported, not rejected.
		g, err := dg.Entity(ctx, graph.Ref{Kind: graph.KindGroup, Key: `G-"q"\x/y`})
		if err != nil || !strings.Contains(g.Name, `Quote " slash`) {
			t.Errorf("hostile group: %+v, %v", g, err)
		}
		if tx, err := dg.Txn(ctx, `Q"\1 <tx.id> x`); err != nil || !strings.Contains(tx.Reference, "two\nlines") {
			t.Errorf("hostile transaction: %+v, %v", tx, err)
		}
		listed, err := dg.Listed(ctx, "watch.csv")
		want := []graph.Ref{{Kind: graph.KindPerson, Key: "850312300002"}, {Kind: graph.KindPerson, Key: "900515300008"}}
		if err != nil || !slices.Equal(listed, want) {
			t.Errorf("the bulk-loaded watch list: %v, %v; want %v", listed, err, want)
		}
		if check != nil {
			check(t, dg)
		}
	})

	f.importStep(t, step2, true, true)
	f.loadSearch(t)
	t.Run("increment", func(t *testing.T) {
		compareContract(t, f)
		if got := f.resD[1].Files[2].Report.Imported; got < 400 {
			t.Errorf("the copy of a bulk-loaded file imported %d rows through the client", got)
		}
		if check != nil {
			check(t, dg)
		}
	})
}

// hostileFiles are a group, a membership and transactions whose ids, names,
// roles and references hold quotes, backslashes, slashes, tabs, a newline,
// an RDF comment sign and a blank node's prefix: the N-Quads must carry them
// as the client's JSON does.
func hostileFiles(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"hostile_groups.csv": "group_id,name,case_ref\n" +
			`"G-""q""\x/y","Quote "" slash / back\slash <x> _:e1 . # not a comment","AFM ""1"""` + "\n",
		"hostile_memberships.csv": "member,group_id,role\n" +
			`850312300002,"G-""q""\x/y","org ""x"" \ y, (z=1)"` + "\n",
		"hostile_transactions.csv": "tx_id,time,from,to,amount,currency,channel,atm_id,device_id,ip,iin_provided,app_confirmed,reference\n" +
			`"Q""\1 <tx.id> x",2025-05-05 10:00:00,card:4400430000000015,cash,100,KZT,cash_out,,,,,,"two` + "\n" + `lines\t""q"""` + "\n",
	}
	var out []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// checkBulkFiles reads the bulk output: a schema with month buckets, and
// N-Quads whose transactions are each given once.
func checkBulkFiles(t *testing.T, dir string) {
	t.Helper()
	schema, err := os.ReadFile(filepath.Join(dir, dgraphdb.BulkSchema))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(schema), "cg.ref: string @index(exact) @upsert .") ||
		!strings.Contains(string(schema), "sent.2025_08: [uid] .") {
		t.Errorf("schema:\n%s", schema)
	}
	fh, err := os.Open(filepath.Join(dir, dgraphdb.BulkData))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 2 && strings.HasPrefix(f[1], "<tx.id.") {
			ids[f[2]]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("transaction %s given %d times in the bulk file", id, n)
		}
	}
	if len(ids) < 400 {
		t.Errorf("%d transactions in the bulk file", len(ids))
	}
	if _, err := os.Stat(filepath.Join(dir, dgraphdb.BulkData+".part")); err == nil {
		t.Errorf("the partial data file was left behind")
	}
}

// TestBulkWriterLastVersion: a transaction corrected within one bulk output
// (another month and endpoint) is written once, in its last version, with
// only its new month's edges; the stats count it once. An aborted output
// leaves no data file.
func TestBulkWriterLastVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := dgraphdb.NewBulkWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := w.BeginBatch("x.csv", "sum", "transactions")
	must(t, w.PutTxn(txn("T1", time.Date(2025, 1, 5, 10, 0, 0, 0, time.UTC), cardA, cardB, 100)))
	must(t, w.PutTxn(txn("T2", time.Date(2025, 1, 6, 10, 0, 0, 0, time.UTC), cardA, cardB, 200)))
	must(t, w.PutTxn(txn("T1", time.Date(2025, 3, 5, 10, 0, 0, 0, time.UTC), cardA, cardC, 150)))
	must(t, w.EndBatch(graph.Batch{ID: b}))
	must(t, w.Finish(ctx, nil))
	fh, err := os.Open(filepath.Join(dir, dgraphdb.BulkData))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	all := strings.Join(lines, "\n")
	count := func(s string) int { return strings.Count(all, s) }
	if count("<"+dgraphdb.TxIDPred("T1")+`> "T1"`) != 1 || count(`<tx.2025_03.amount> "150"`) != 1 ||
		count(`.amount> "100"`) != 0 || count(`<tx.2025_01.time>`) != 1 || count(`<tx.2025_03.time>`) != 1 ||
		count("<sent.2025_01>") != 1 || count("<sent.2025_03>") != 1 || count("<recv.2025_03>") != 1 {
		t.Errorf("bulk file:\n%s", all)
	}
	if !strings.Contains(all, `\"Txns\":2,\"TxnsByChan\":{\"1\":2}`) {
		t.Errorf("stats: %s", lines[len(lines)-1])
	}
	schema, _ := os.ReadFile(filepath.Join(dir, dgraphdb.BulkSchema))
	if !strings.Contains(string(schema), "sent.2025_01: [uid] .") || !strings.Contains(string(schema), "recv.2025_03: [uid] .") {
		t.Errorf("schema:\n%s", schema)
	}

	dir2 := t.TempDir()
	w2, err := dgraphdb.NewBulkWriter(dir2)
	if err != nil {
		t.Fatal(err)
	}
	must(t, w2.PutTxn(txn("T1", time.Date(2025, 1, 5, 10, 0, 0, 0, time.UTC), cardA, cardB, 100)))
	_ = w2.Abort()
	if ents, _ := os.ReadDir(dir2); len(ents) != 0 {
		t.Errorf("an aborted output left %v", ents)
	}
}
