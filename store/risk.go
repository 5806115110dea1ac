package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// Kept analyses: every entity's risk as the last analysis computed it, so
// the pages that show an entity carry its risk and flags without running
// the rules again (docs/adr/0001-key-layout.md).
//
// Layout:
//
//	[f][gen uint32 BE][ref] → one kept risk (compact binary, encodeKeptRisk)
//	meta "analysis"         → JSON keptMeta: the current generation, the data stamp, the run
//
// A new analysis is written under the next generation with a WriteBatch
// (bounded memory whatever the number of risks), then the meta row is
// switched to it in one transaction, then the previous generation's rows
// are deleted. A reader reads the meta row and the rows in one read
// transaction, so it sees one whole analysis or the previous one, never a
// mix.
const pfxRisk byte = 'f'

const metaAnalysis = "analysis"

// keptRiskVersion is the first byte of a kept risk's value. Version 2
// keeps a holder's hits on a held instrument once, on the instrument's row:
// the holder's row names the instrument and how many hits it has there
// (a held entry), where version 1 repeated them with their evidence
// (docs/PERFORMANCE.md, "A holder's kept hits"). Both are read.
const keptRiskVersion = 2

// The entries of a version 2 row's hit list.
const (
	entryHit  byte = 0 // a hit, encoded in full
	entryHeld byte = 1 // [held instrument ref][its number of hits]
)

type keptMeta struct {
	Gen uint32 `json:"gen"`
	// Swept is the lowest generation that may still have rows: every one
	// below it was deleted. A sweep starts there rather than walk the
	// deleted rows of every earlier analysis, which Badger keeps as
	// tombstones until it compacts them (a database re-kept 15 times took
	// 10–20 s to keep, a fresh one 4–7 s). Meta written before it has 0.
	Swept uint32            `json:"swept,omitempty"`
	Stamp string            `json:"stamp"` // hex of the Stamp of the data the analysis read
	Run   graph.AnalysisRun `json:"run"`
}

// riskKey: [f][gen uint32 BE][ref]
func riskKey(gen uint32, r graph.Ref) []byte {
	k := binary.BigEndian.AppendUint32([]byte{pfxRisk}, gen)
	return appendRef(k, r)
}

func appendF64(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

func (r *reader) f64() float64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.err = errShortValue
		return 0
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func appendUnix(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.Unix())
}

func (r *reader) unix() time.Time {
	s := r.varint()
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func encodeKeptRisk(k graph.KeptRisk) []byte {
	b := []byte{keptRiskVersion}
	b = appendF64(b, k.Score)
	b = appendF64(b, k.Typology)
	b = appendF64(b, k.Context)
	b = binary.AppendUvarint(b, uint64(max(k.Typologies, 0)))
	b = binary.AppendUvarint(b, uint64(max(k.Evidence, 0)))
	b = appendValRef(b, k.Subject)
	b = appendStr(b, k.Explanation)
	b = binary.AppendUvarint(b, uint64(len(k.Rules)))
	for _, r := range k.Rules {
		b = appendStr(b, r.Rule)
		b = appendF64(b, r.Score)
		b = appendValRef(b, r.Via)
		ctx := byte(0)
		if r.Context {
			ctx = 1
		}
		b = append(b, ctx)
	}
	// A run of hits on one held instrument is that instrument's own hits
	// (graph.KeptRisk.Hits): one held entry stands for it.
	var entries int
	for i := 0; i < len(k.Hits); entries++ {
		i += heldRun(k.Hits[i:])
	}
	b = binary.AppendUvarint(b, uint64(entries))
	for i := 0; i < len(k.Hits); {
		h := k.Hits[i]
		if n := heldRun(k.Hits[i:]); h.On != (graph.Ref{}) {
			b = append(b, entryHeld)
			b = appendValRef(b, h.On)
			b = binary.AppendUvarint(b, uint64(n))
			i += n
			continue
		}
		i++
		b = append(b, entryHit)
		b = appendHit(b, h)
	}
	return b
}

func appendHit(b []byte, h graph.KeptHit) []byte {
	b = appendStr(b, h.Rule)
	b = appendF64(b, h.Score)
	b = appendStr(b, h.Reason)
	b = appendValRef(b, h.On)
	b = appendUnix(b, h.From)
	b = appendUnix(b, h.To)
	b = binary.AppendUvarint(b, uint64(max(h.EvidenceTotal, len(h.Evidence))))
	ev := h.Evidence
	if len(ev) > graph.MaxKeptEvidence {
		ev = ev[:graph.MaxKeptEvidence]
	}
	b = binary.AppendUvarint(b, uint64(len(ev)))
	for _, id := range ev {
		b = appendStr(b, id)
	}
	return b
}

// heldRun is how many hits from the first are on the same held instrument
// (1 for an own hit).
func heldRun(hits []graph.KeptHit) int {
	n := 1
	if hits[0].On == (graph.Ref{}) {
		return n
	}
	for n < len(hits) && hits[n].On == hits[0].On {
		n++
	}
	return n
}

// decodeKeptRisk decodes ref's kept risk. held reads the own hits of a
// held instrument that a version 2 row names instead of repeating them; nil
// when the row is an instrument's, which names none.
func decodeKeptRisk(ref graph.Ref, v []byte, held func(on graph.Ref) ([]graph.KeptHit, error)) (graph.KeptRisk, error) {
	r := reader{b: v}
	ver := r.byte()
	if r.err == nil && ver != 1 && ver != keptRiskVersion {
		return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: unknown version %d", ref, ver)
	}
	k := graph.KeptRisk{Ref: ref}
	k.Score, k.Typology, k.Context = r.f64(), r.f64(), r.f64()
	k.Typologies, k.Evidence = int(r.uvarint()), int(r.uvarint())
	k.Subject = r.ref()
	k.Explanation = r.str()
	// Counts come from the value: bound them by what the value can hold so
	// a damaged row never allocates more than its own size.
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: %d rules in %d bytes: %w", ref, n, len(r.b), errShortValue)
	}
	for range n {
		kr := graph.KeptRule{Rule: r.str(), Score: r.f64(), Via: r.ref()}
		kr.Context = r.byte() == 1
		k.Rules = append(k.Rules, kr)
	}
	n = r.uvarint()
	if n > uint64(len(r.b)) {
		return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: %d hits in %d bytes: %w", ref, n, len(r.b), errShortValue)
	}
	for range n {
		tag := entryHit
		if ver > 1 {
			tag = r.byte()
		}
		if tag > entryHeld && r.err == nil {
			return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: hit entry of kind %d", ref, tag)
		}
		if tag == entryHeld {
			on, count := r.ref(), r.uvarint()
			if r.err != nil {
				break
			}
			if held == nil {
				return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: names the hits of %s, which no holder's row may", ref, on)
			}
			hits, err := held(on)
			if err != nil {
				return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: %w", ref, err)
			}
			if uint64(len(hits)) != count {
				return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: %d hits on %s, whose own row has %d", ref, count, on, len(hits))
			}
			for _, h := range hits {
				h.On = on
				k.Hits = append(k.Hits, h)
			}
			continue
		}
		h := graph.KeptHit{Rule: r.str(), Score: r.f64(), Reason: r.str(), On: r.ref(), From: r.unix(), To: r.unix()}
		h.EvidenceTotal = int(r.uvarint())
		m := r.uvarint()
		if m > uint64(len(r.b)) {
			return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: %d evidence ids in %d bytes: %w", ref, m, len(r.b), errShortValue)
		}
		h.Evidence = make([]string, 0, m)
		for range m {
			h.Evidence = append(h.Evidence, r.str())
		}
		k.Hits = append(k.Hits, h)
	}
	if r.err != nil {
		return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: %w", ref, r.err)
	}
	if len(r.b) != 0 {
		return graph.KeptRisk{}, fmt.Errorf("kept risk of %s: %d trailing bytes", ref, len(r.b))
	}
	return k, nil
}

func readKeptMeta(txn *badger.Txn) (keptMeta, bool, error) {
	item, err := txn.Get(metaKey(metaAnalysis))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return keptMeta{}, false, nil
	}
	if err != nil {
		return keptMeta{}, false, err
	}
	var m keptMeta
	if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &m) }); err != nil {
		return keptMeta{}, false, fmt.Errorf("decode kept analysis meta: %w", err)
	}
	return m, true, nil
}

// PutAnalysis keeps an analysis: run describes it, st is the Stamp of the
// data it read (take it before loading the index), and risks yields every
// entity's risk through the function it is given. The risks are written in
// one WriteBatch under a new generation, then made current; the previous
// analysis is deleted. Memory stays bounded by the batch, not by the number
// of risks. It returns run as kept.
func (db *DB) PutAnalysis(ctx context.Context, run graph.AnalysisRun, st Stamp, risks func(put func(graph.KeptRisk) error) error) (graph.AnalysisRun, error) {
	if db.readOnly {
		return run, fmt.Errorf("keep analysis in %s: database is open read-only", db.dir)
	}
	fail := func(err error) (graph.AnalysisRun, error) {
		return run, fmt.Errorf("keep analysis in %s: %w", db.dir, err)
	}
	db.riskMu.Lock()
	defer db.riskMu.Unlock()
	var old keptMeta
	var had bool
	if err := db.bdb.View(func(txn *badger.Txn) (err error) {
		old, had, err = readKeptMeta(txn)
		return err
	}); err != nil {
		return fail(err)
	}
	gen := uint32(1)
	if had {
		gen = old.Gen + 1
	}
	// Leftovers of a write or a delete a crash cut short: every row but
	// the current analysis's. After it only the current generation has
	// rows (none without one).
	if err := db.deleteRiskRowsExcept(ctx, old.Swept, old.Gen, had); err != nil {
		return fail(err)
	}
	swept := gen
	if had {
		swept = old.Gen
	}
	wb := db.bdb.NewWriteBatch()
	defer wb.Cancel()
	n := 0
	err := risks(func(k graph.KeptRisk) error {
		if err := checkRef(k.Ref); err != nil {
			return err
		}
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return wb.Set(riskKey(gen, k.Ref), encodeKeptRisk(k))
	})
	if err != nil {
		return fail(err)
	}
	if err := wb.Flush(); err != nil {
		return fail(err)
	}
	run.Time = run.Time.UTC()
	run.Stale = false
	m := keptMeta{Gen: gen, Swept: swept, Stamp: hex.EncodeToString(st[:]), Run: run}
	putMeta := func() error {
		meta, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return db.bdb.Update(func(txn *badger.Txn) error { return txn.Set(metaKey(metaAnalysis), meta) })
	}
	if err := putMeta(); err != nil {
		return fail(err)
	}
	// The rows of the previous analysis; with none kept before, the first
	// sweep left no other rows than this one's.
	if had {
		if err := db.deleteRiskRowsExcept(ctx, swept, gen, true); err != nil {
			return fail(fmt.Errorf("delete the previous analysis: %w", err))
		}
		if m.Swept = gen; putMeta() != nil {
			// The rows are gone; the next keep sweeps from the older mark.
			db.log.Warn("keep analysis: could not record the sweep", "dir", db.dir)
		}
	}
	cur, err := db.Stamp()
	if err != nil {
		return fail(err)
	}
	run.Stale = cur != st
	return run, nil
}

// deleteRiskRowsExcept deletes every kept-risk row of generation from or
// later but those of generation keep (all of them when !keepAny), in one
// write batch. The rows sort by generation, so the ones kept are passed
// over with one seek rather than read: a keep calls this before and after
// writing its rows, and reading the current ones each time was a third of a
// keep's reads.
func (db *DB) deleteRiskRowsExcept(ctx context.Context, from, keep uint32, keepAny bool) error {
	wb := db.bdb.NewWriteBatch()
	defer wb.Cancel()
	prefix := []byte{pfxRisk}
	start := prefix
	if from > 0 {
		start = binary.BigEndian.AppendUint32([]byte{pfxRisk}, from)
	}
	var kept []byte // [f][keep]
	if keepAny {
		kept = binary.BigEndian.AppendUint32([]byte{pfxRisk}, keep)
	}
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := keyIterator(txn, prefix)
		defer it.Close()
		n := 0
		for it.Seek(start); it.ValidForPrefix(prefix); {
			k := it.Item().Key()
			if kept != nil && bytes.HasPrefix(k, kept) {
				if keep == math.MaxUint32 {
					break
				}
				it.Seek(binary.BigEndian.AppendUint32([]byte{pfxRisk}, keep+1))
				continue
			}
			if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
				return err
			}
			if n++; n%progressEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			it.Next()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return wb.Flush()
}

// keptView runs fn with the kept analysis's meta (ok false when none was
// kept) inside one read transaction, with Run.Stale set.
func (db *DB) keptView(ctx context.Context, fn func(txn *badger.Txn, m keptMeta, ok bool) error) error {
	cur, err := db.Stamp()
	if err != nil {
		return err
	}
	return db.view(ctx, func(txn *badger.Txn) error {
		m, ok, err := readKeptMeta(txn)
		if err != nil {
			return err
		}
		if ok {
			m.Run.Stale = m.Stamp != hex.EncodeToString(cur[:])
		}
		return fn(txn, m, ok)
	})
}

// getKeptRisk reads ref's kept risk with the hits of the instruments it
// holds, which its row may name rather than repeat.
func getKeptRisk(txn *badger.Txn, gen uint32, ref graph.Ref) (graph.KeptRisk, bool, error) {
	return readKeptRisk(txn, gen, ref, func(on graph.Ref) ([]graph.KeptHit, error) {
		o, ok, err := readKeptRisk(txn, gen, on, nil)
		if err == nil && !ok {
			err = fmt.Errorf("the kept risk of %s, whose hits it names, is missing", on)
		}
		return o.Hits, err
	})
}

func readKeptRisk(txn *badger.Txn, gen uint32, ref graph.Ref, held func(graph.Ref) ([]graph.KeptHit, error)) (graph.KeptRisk, bool, error) {
	item, err := txn.Get(riskKey(gen, ref))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return graph.KeptRisk{}, false, nil
	}
	if err != nil {
		return graph.KeptRisk{}, false, err
	}
	var k graph.KeptRisk
	err = item.Value(func(v []byte) error {
		k, err = decodeKeptRisk(ref, v, held)
		return err
	})
	return k, err == nil, err
}

// Analysis describes the kept analysis; ok is false when no analysis was
// ever kept. Run.Stale says whether the data changed since.
func (db *DB) Analysis(ctx context.Context) (run graph.AnalysisRun, ok bool, err error) {
	err = db.keptView(ctx, func(_ *badger.Txn, m keptMeta, had bool) error {
		run, ok = m.Run, had
		return nil
	})
	if err != nil {
		return graph.AnalysisRun{}, false, fmt.Errorf("read kept analysis of %s: %w", db.dir, err)
	}
	return run, ok, nil
}

// KeptRisk returns ref's risk from the kept analysis and the analysis; has
// is false when the analysis kept no risk for ref, ok false when there is
// no kept analysis at all.
func (db *DB) KeptRisk(ctx context.Context, ref graph.Ref) (k graph.KeptRisk, run graph.AnalysisRun, has, ok bool, err error) {
	err = db.keptView(ctx, func(txn *badger.Txn, m keptMeta, had bool) error {
		run, ok = m.Run, had
		if !had {
			return nil
		}
		k, has, err = getKeptRisk(txn, m.Gen, ref)
		return err
	})
	if err != nil {
		return graph.KeptRisk{}, graph.AnalysisRun{}, false, false, fmt.Errorf("read kept risk of %s: %w", ref, err)
	}
	return k, run, has, ok, nil
}

// RiskMarks returns the kept risk marks of refs (those the analysis kept a
// risk for) in one read transaction, and the analysis; ok is false when no
// analysis was kept.
func (db *DB) RiskMarks(ctx context.Context, refs []graph.Ref) (marks map[graph.Ref]graph.RiskMark, run graph.AnalysisRun, ok bool, err error) {
	marks = map[graph.Ref]graph.RiskMark{}
	err = db.keptView(ctx, func(txn *badger.Txn, m keptMeta, had bool) error {
		run, ok = m.Run, had
		if !had {
			return nil
		}
		for i, ref := range refs {
			if i%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if _, seen := marks[ref]; seen || checkRef(ref) != nil {
				continue
			}
			item, err := txn.Get(riskKey(m.Gen, ref))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			err = item.Value(func(v []byte) error {
				// The score is the first field after the version byte.
				if len(v) < 9 || v[0] != 1 && v[0] != keptRiskVersion {
					return fmt.Errorf("kept risk of %s: %w", ref, errShortValue)
				}
				s := math.Float64frombits(binary.BigEndian.Uint64(v[1:9]))
				marks[ref] = graph.RiskMark{Known: true, Score: s, Flagged: s >= m.Run.Threshold, Stale: m.Run.Stale}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, graph.AnalysisRun{}, false, fmt.Errorf("read kept risks of %s: %w", db.dir, err)
	}
	return marks, run, ok, nil
}
