package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// partDataset is dataset with a few more records that a cut between parts
// can split: stubs of entities that are also imported in full, sent in a
// later run than the full entity.
func partDataset() records {
	r := dataset(20, 3000)
	src := graph.Provenance{File: "late.csv", Line: 2, Batch: 1}
	for i := range 5 {
		r.ents = append(r.ents, graph.Entity{Ref: personRef(i), Stub: true, Src: src})
		r.txns = append(r.txns, graph.Txn{ID: fmt.Sprintf("L%d", i), Time: t0.Add(time.Duration(i) * time.Hour),
			From: personRef(i), To: cardRef(i), Amount: 5, Currency: "KZT", Channel: graph.ChannelTransfer, Src: src})
	}
	return r
}

// loadInParts bulk-imports r with small spilled runs, cut into parts parts
// (or at the keys cut) at Finish.
func loadInParts(t *testing.T, r records, parts int, cut [][]byte) *DB {
	t.Helper()
	db := openTemp(t)
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	l.spillBytes, l.markBytes = 16<<10, 512
	l.parts, l.cutAt = parts, cut
	put(t, l, r)
	if len(l.runs) < 4 {
		t.Fatalf("only %d runs spilled", len(l.runs))
	}
	if err := l.Finish(context.Background(), nil); err != nil {
		t.Fatalf("finish: %v", err)
	}
	return db
}

// contents is everything a database holds, but for the records whose bytes
// depend on when or in how many pieces they were written: the search-doc
// chunks and their count, the statistics and the batches (compared decoded,
// without their times).
type contents struct {
	kv    map[string]string
	stats graph.Stats
	docs  []graph.SearchDoc
}

func contentsOf(t *testing.T, db *DB) contents {
	t.Helper()
	c := contents{kv: map[string]string{}}
	skip := map[string]bool{string(metaKey(metaDocs)): true, string(metaKey(metaStats)): true}
	err := db.bdb.View(func(txn *badger.Txn) error {
		return scan(ctx, txn, nil, true, func(k, v []byte) error {
			if k[0] != pfxDocs && k[0] != pfxBatch && !skip[string(k)] {
				c.kv[string(k)] = string(v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.stats, err = db.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range c.stats.Batches {
		c.stats.Batches[i].At = time.Time{}
	}
	if err := db.SearchDocs(ctx, func(d graph.SearchDoc) error { c.docs = append(c.docs, d); return nil }); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c contents) diff(t *testing.T, want contents) {
	t.Helper()
	if len(c.kv) != len(want.kv) {
		t.Errorf("%d keys, want %d", len(c.kv), len(want.kv))
	}
	bad := 0
	for k, v := range want.kv {
		if got, ok := c.kv[k]; !ok || got != v {
			if bad++; bad <= 5 {
				t.Errorf("key %q: %q (present %v), want %q", k, got, ok, v)
			}
		}
	}
	if !reflect.DeepEqual(c.stats, want.stats) {
		t.Errorf("stats %+v, want %+v", c.stats, want.stats)
	}
	if !reflect.DeepEqual(c.docs, want.docs) {
		t.Errorf("%d search docs, want %d (or they differ)", len(c.docs), len(want.docs))
	}
}

// txnBound is a key among an owner's transactions: those before at sort
// before it.
func txnBound(owner graph.Ref, at time.Time) []byte {
	return binary.BigEndian.AppendUint64(refPrefix(pfxTxn, owner), encodeTime(at))
}

// TestPartsMergeAsOne checks that a bulk merge cut into parts writes the
// very database one merge writes, wherever the cuts fall: inside one owner's
// transactions (its totals and neighbour rows are added up across parts),
// around all of an owner's transactions, between an entity's full and stub
// keys, and outside every key (empty parts).
func TestPartsMergeAsOne(t *testing.T) {
	r := partDataset()
	want := contentsOf(t, loadInParts(t, r, 1, nil))
	hub := cardRef(0)
	for _, tc := range []struct {
		name  string
		parts int
		cut   [][]byte
	}{
		{"sampled, two parts", 2, nil},
		{"sampled, five parts", 5, nil},
		{"inside one owner", 0, [][]byte{txnBound(hub, t0.Add(1500*time.Minute))}},
		{"one owner over three parts", 0, [][]byte{txnBound(hub, t0.Add(600*time.Minute)), txnBound(hub, t0.Add(2400*time.Minute))}},
		{"between an entity's full and stub keys", 0, [][]byte{entityKey(atmRef, true), entityKey(personRef(3), true)}},
		{"every family", 0, [][]byte{{pfxEntity}, {pfxTxnID}, {pfxLinkOut}, {pfxMeta}, {pfxLinkIn}, {pfxTxn}}},
		{"empty parts", 0, [][]byte{{0}, {0xff}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			contentsOf(t, loadInParts(t, r, tc.parts, tc.cut)).diff(t, want)
		})
	}
}

// TestPartBoundsSpread checks that sampled cuts spread the data: with five
// parts the cuts are increasing and none of them starts a part that holds
// more than half of the keys.
func TestPartBoundsSpread(t *testing.T) {
	db := openTemp(t)
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	l.spillBytes, l.markBytes = 16<<10, 512
	put(t, l, partDataset())
	if err := l.waitSpill(); err != nil {
		t.Fatal(err)
	}
	l.buf.sort()
	bounds := l.partBounds(5)
	if len(bounds) != 4 {
		t.Fatalf("%d cuts for five parts, want 4", len(bounds))
	}
	var keys []string
	for _, run := range l.runs {
		it, err := openRun(run, nil)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, runKeys(t, it)...)
	}
	for _, e := range l.buf.ents {
		keys = append(keys, string(l.buf.key(e)))
	}
	counts := make([]int, len(bounds)+1)
	for _, k := range keys {
		p := 0
		for p < len(bounds) && bytes.Compare([]byte(k), bounds[p]) >= 0 {
			p++
		}
		counts[p]++
	}
	for i, n := range counts {
		if n > len(keys)/2 {
			t.Errorf("part %d holds %d of %d keys (cuts %q)", i, n, len(keys), bounds)
		}
	}
	for i := 1; i < len(bounds); i++ {
		if bytes.Compare(bounds[i-1], bounds[i]) >= 0 {
			t.Errorf("cuts not increasing: %q", bounds)
		}
	}
	_ = l.Abort()
}

// TestOpenRunAt checks that a run opened at a key yields every key from it
// on, whichever mark it starts from.
func TestOpenRunAt(t *testing.T) {
	m := &memRun{}
	for i := range 2000 {
		m.add(fmt.Appendf(nil, "k%05d", i*3), bytes.Repeat([]byte{'v'}, i%50))
	}
	m.sort()
	run, err := m.writeFile(t.TempDir()+"/run", 700, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.marks) < 20 {
		t.Fatalf("%d marks", len(run.marks))
	}
	for _, lo := range []string{"", "a", "k00000", "k00001", "k03000", "k03001", "k05997", "k05998", "z"} {
		var from []byte
		if lo != "" {
			from = []byte(lo)
		}
		it, err := openRun(run, from)
		if err != nil {
			t.Fatal(err)
		}
		got := runKeys(t, &rangeIter{it: it, lo: from, hi: []byte("k04500")})
		var want []string
		for i := range 2000 {
			if k := fmt.Sprintf("k%05d", i*3); k >= lo && k < "k04500" {
				want = append(want, k)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("from %q: %d keys, want %d", lo, len(got), len(want))
		}
		got = runKeys(t, &rangeIter{it: memIterFrom(m, from), hi: []byte("k04500")})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("memory run from %q: %d keys, want %d", lo, len(got), len(want))
		}
	}
}

// runKeys reads a run to its end and closes it.
func runKeys(t *testing.T, it runIter) []string {
	t.Helper()
	defer it.close()
	var keys []string
	for {
		k, _, ok, err := it.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return keys
		}
		keys = append(keys, string(k))
	}
}
