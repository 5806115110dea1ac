package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

func keptRisks(n int, score float64) []graph.KeptRisk {
	var out []graph.KeptRisk
	for i := range n {
		k := graph.KeptRisk{Ref: cardRef(i), Score: score, Typology: score, Context: 0.25, Typologies: 2, Evidence: 3,
			Subject: personRef(i), Explanation: fmt.Sprintf("structuring on card %d", i),
			Rules: []graph.KeptRule{{Rule: "R3", Score: score}, {Rule: "R9", Score: 0.3, Via: personRef(i), Context: true}},
			Hits: []graph.KeptHit{{Rule: "R3", Score: score, Reason: "5 deposits just under 500,000", Evidence: []string{"T1", "T2"},
				EvidenceTotal: 2, From: t0, To: t0.Add(time.Hour)}}}
		out = append(out, k)
	}
	return out
}

func putKept(t *testing.T, db *DB, run graph.AnalysisRun, risks []graph.KeptRisk) graph.AnalysisRun {
	t.Helper()
	st, err := db.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.PutAnalysis(context.Background(), run, st, func(put func(graph.KeptRisk) error) error {
		for _, k := range risks {
			if err := put(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func countRiskRows(t *testing.T, db *DB) int {
	t.Helper()
	n := 0
	err := db.bdb.View(func(txn *badger.Txn) error {
		return scan(context.Background(), txn, []byte{pfxRisk}, false, func([]byte, []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// An analysis kept in the store reads back whole, replaces the previous one
// without leaving its rows, and turns stale when an import changes the data.
func TestKeptAnalysisRoundTripReplaceAndStale(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	load(t, db, dataset(8, 40))
	if _, _, _, ok, err := db.KeptRisk(ctx, cardRef(1)); err != nil || ok {
		t.Fatalf("before any analysis: ok %v err %v", ok, err)
	}
	at := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	first := keptRisks(6, 0.9)
	run := putKept(t, db, graph.AnalysisRun{Time: at, User: "aigerim", RuleConfig: 2, Threshold: 0.5, Entities: 6, Flagged: 6, Hits: 6}, first)
	if run.Stale {
		t.Fatal("a fresh analysis reads stale")
	}
	k, got, has, ok, err := db.KeptRisk(ctx, cardRef(3))
	if err != nil || !ok || !has {
		t.Fatalf("kept risk: has %v ok %v err %v", has, ok, err)
	}
	if !reflect.DeepEqual(k, first[3]) {
		t.Errorf("kept risk read back\n got %+v\nwant %+v", k, first[3])
	}
	if got.RuleConfig != 2 || got.User != "aigerim" || !got.Time.Equal(at) || got.Stale {
		t.Errorf("run read back: %+v", got)
	}
	marks, _, ok, err := db.RiskMarks(ctx, []graph.Ref{cardRef(0), cardRef(7), exRef})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if m := marks[cardRef(0)]; !m.Known || m.Score != 0.9 || !m.Flagged || m.Stale {
		t.Errorf("mark of a kept risk: %+v", m)
	}
	if _, has := marks[cardRef(7)]; has {
		t.Error("a card the analysis kept no risk for has a mark")
	}

	// A second analysis with fewer risks replaces the first entirely.
	second := keptRisks(2, 0.4)
	putKept(t, db, graph.AnalysisRun{Time: at.Add(time.Hour), Threshold: 0.5, Entities: 2}, second)
	if n := countRiskRows(t, db); n != 2 {
		t.Errorf("%d risk rows after the second analysis, want 2 (the first's deleted)", n)
	}
	if _, _, has, _, _ := db.KeptRisk(ctx, cardRef(4)); has {
		t.Error("a risk of the replaced analysis is still read")
	}
	marks, _, _, _ = db.RiskMarks(ctx, []graph.Ref{cardRef(1)})
	if m := marks[cardRef(1)]; m.Score != 0.4 || m.Flagged {
		t.Errorf("mark after the second analysis: %+v", m)
	}

	// Rows a crash left behind go with the next analysis: a generation
	// never made current (77), and the previous one when the crash came
	// between the switch and its sweep (the meta still marks it unswept).
	// The delete seeks past the kept generation's rows between them.
	if err := db.bdb.Update(func(txn *badger.Txn) error {
		m, _, err := readKeptMeta(txn)
		if err != nil {
			return err
		}
		if m.Swept != m.Gen {
			return fmt.Errorf("after a keep the meta marks generation %d swept, want %d", m.Swept, m.Gen)
		}
		m.Swept = m.Gen - 1
		meta, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if err := txn.Set(metaKey(metaAnalysis), meta); err != nil {
			return err
		}
		if err := txn.Set(riskKey(m.Gen-1, cardRef(8)), encodeKeptRisk(first[0])); err != nil {
			return err
		}
		return txn.Set(riskKey(77, cardRef(9)), encodeKeptRisk(first[0]))
	}); err != nil {
		t.Fatal(err)
	}
	putKept(t, db, graph.AnalysisRun{Time: at.Add(2 * time.Hour), Threshold: 0.5, Entities: 2}, second)
	if n := countRiskRows(t, db); n != 2 {
		t.Errorf("%d risk rows after an analysis over a crash's leftovers, want 2", n)
	}

	// An import after the analysis: the kept risks stay, marked stale.
	l, err := db.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	more := dataset(3, 5)
	for i := range more.txns {
		more.txns[i].ID = fmt.Sprintf("U%07d", i)
	}
	put(t, l, more)
	if err := l.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, got, has, ok, err = db.KeptRisk(ctx, cardRef(1))
	if err != nil || !has || !ok || !got.Stale {
		t.Fatalf("after an import: has %v ok %v stale %v err %v", has, ok, got.Stale, err)
	}
	marks, _, _, _ = db.RiskMarks(ctx, []graph.Ref{cardRef(1)})
	if !marks[cardRef(1)].Stale {
		t.Error("mark after an import is not stale")
	}
}

// A damaged risk row is an error naming the entity, never a panic or a
// huge allocation.
func TestDecodeKeptRiskDamaged(t *testing.T) {
	v := encodeKeptRisk(keptRisks(1, 0.7)[0])
	for cut := range len(v) {
		if _, err := decodeKeptRisk(cardRef(0), v[:cut], nil); err == nil {
			t.Fatalf("a value cut at %d of %d bytes decodes", cut, len(v))
		}
	}
	bad := append([]byte{keptRiskVersion}, make([]byte, 24)...)
	bad = append(bad, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f) // a rule count far beyond the value
	if _, err := decodeKeptRisk(cardRef(0), bad, nil); err == nil || !errors.Is(err, errShortValue) {
		t.Errorf("huge count: %v", err)
	}
}

// A read-only database refuses to keep an analysis.
func TestPutAnalysisReadOnly(t *testing.T) {
	dir := t.TempDir()
	db := openAt(t, dir)
	load(t, db, dataset(2, 4))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.PutAnalysis(context.Background(), graph.AnalysisRun{}, Stamp{}, func(func(graph.KeptRisk) error) error { return nil }); err == nil {
		t.Error("a read-only database kept an analysis")
	}
}

// TestKeptHolderHitsOnce: a holder's hits on the instruments it holds are
// kept once, on the instruments' rows, and read back in full and in order;
// a holder row naming an instrument whose row is missing or holds other
// hits is an error, not a wrong risk; a version 1 row is still read.
func TestKeptHolderHitsOnce(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	cards := keptRisks(3, 0.8)
	cards[1].Hits = append(cards[1].Hits, graph.KeptHit{Rule: "R9", Score: 0.3, Reason: "night", Evidence: []string{"T9"}, EvidenceTotal: 1})
	holder := graph.KeptRisk{Ref: personRef(0), Score: 0.9, Typology: 0.9, Typologies: 3, Evidence: 5,
		Rules: []graph.KeptRule{{Rule: "R3", Score: 0.8, Via: cardRef(0)}},
		Hits:  []graph.KeptHit{{Rule: "R5", Score: 0.2, Reason: "shares a device", Evidence: []string{}}}}
	for _, c := range cards[:2] {
		for _, h := range c.Hits {
			h.On = c.Ref
			holder.Hits = append(holder.Hits, h)
		}
	}
	putKept(t, db, graph.AnalysisRun{Threshold: 0.5}, append([]graph.KeptRisk{holder}, cards...))
	got, _, has, ok, err := db.KeptRisk(ctx, holder.Ref)
	if err != nil || !has || !ok {
		t.Fatalf("holder: has %v ok %v: %v", has, ok, err)
	}
	if !reflect.DeepEqual(got, holder) {
		t.Fatalf("holder read back as\n%+v\nwant\n%+v", got, holder)
	}
	for _, c := range cards {
		if got, _, _, _, err := db.KeptRisk(ctx, c.Ref); err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("%s read back as %+v (%v), want %+v", c.Ref, got, err, c)
		}
	}
	// Kept once: the holder's row is no longer than its own parts.
	own := holder
	own.Hits = own.Hits[:1]
	if n, m := len(encodeKeptRisk(holder)), len(encodeKeptRisk(own)); n > m+2*(len(cardRef(0).Key)+8) {
		t.Errorf("holder row of %d bytes, %d without the held hits: they were repeated", n, m)
	}

	// The rows a holder names must be there and hold what it says.
	gen := func() uint32 {
		var m keptMeta
		if err := db.bdb.View(func(txn *badger.Txn) (err error) { m, _, err = readKeptMeta(txn); return err }); err != nil {
			t.Fatal(err)
		}
		return m.Gen
	}()
	for name, change := range map[string]func(txn *badger.Txn) error{
		"missing": func(txn *badger.Txn) error { return txn.Delete(riskKey(gen, cardRef(1))) },
		"other hits": func(txn *badger.Txn) error {
			return txn.Set(riskKey(gen, cardRef(1)), encodeKeptRisk(cards[2]))
		},
	} {
		if err := db.bdb.Update(change); err != nil {
			t.Fatal(err)
		}
		if _, _, _, _, err := db.KeptRisk(ctx, holder.Ref); err == nil {
			t.Errorf("%s instrument row: the holder's risk read without an error", name)
		}
		if err := db.bdb.Update(func(txn *badger.Txn) error {
			return txn.Set(riskKey(gen, cardRef(1)), encodeKeptRisk(cards[1]))
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, _, _, err := db.KeptRisk(ctx, holder.Ref); err != nil {
		t.Fatalf("restored: %v", err)
	}

	// Version 1: the same hits without entry tags.
	c := cards[0]
	noHits := c
	noHits.Hits = nil
	v2 := encodeKeptRisk(c)
	at := len(encodeKeptRisk(noHits)) // the tag of the only hit
	v1 := append(append([]byte{1}, v2[1:at]...), v2[at+1:]...)
	if got, err := decodeKeptRisk(c.Ref, v1, nil); err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("version 1 row read as %+v (%v), want %+v", got, err, c)
	}
}
