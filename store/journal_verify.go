package store

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// errStopScan ends a scan early without an error.
var errStopScan = errors.New("stop scan")

// JournalReport is the outcome of VerifyJournal.
type JournalReport struct {
	Entries  int    // entries read
	OK       bool   // the whole chain verified, and the case records match it
	FirstBad uint64 // first sequence number that is missing, altered or out of place (0: a case record)
	Problem  string // what is wrong at FirstBad
	// Keyed is the number of entries whose HMAC was checked with the
	// journal key; Unkeyed the number checked with plain SHA-256 (version-1
	// entries and version-2 entries written without a key).
	Keyed   int
	Unkeyed int
	// StateChecked says the case records were compared with the state the
	// journal records (false only for a journal of version-1 entries alone,
	// which records no state). Cases is how many records were compared.
	StateChecked bool
	Cases        int
	Records      int // verdicts, match rejections and rule configurations compared
	// Head is set when a head kept elsewhere was checked (VerifyOptions.Head).
	Head *JournalHeadFile
}

// VerifyOptions add checks to VerifyJournal.
type VerifyOptions struct {
	// Head, when set, must still be part of the journal: the entry at
	// Head.Seq exists and has Head.Hash.
	Head *JournalHeadFile
}

// VerifyJournal checks the journal with no head kept elsewhere.
func (db *DB) VerifyJournal(ctx context.Context) (JournalReport, error) {
	return db.VerifyJournalWith(ctx, VerifyOptions{})
}

// VerifyJournalWith recomputes the hash chain from the first entry and
// reports the first sequence number that is missing (a gap or a cut tail),
// edited (its hash no longer matches its content), unlinked (its prev is not
// the hash of the entry before it), keyed with another key or not keyed
// when the database has a journal key and keyed entries. It then replays
// the states the entries record and compares every stored case record with
// them, and checks opts.Head. A broken chain is a report, not an error; the
// error is for failures to read.
//
// Keys: with a journal key, every entry after the first keyed one must be
// keyed with it, and a journal with entries but none keyed is refused (a
// chain rewritten without the key). Without a journal key, a keyed entry
// cannot be checked and is reported as such.
func (db *DB) VerifyJournalWith(ctx context.Context, opts VerifyOptions) (JournalReport, error) {
	var rep JournalReport
	err := db.view(ctx, func(txn *badger.Txn) error {
		head, err := readJournalHead(txn)
		if err != nil {
			return err
		}
		var want uint64 = 1
		prev := ""
		v2 := false
		keyedSeen := false
		expect := map[string]string{}    // case id → state the journal says
		lastSeq := map[string]uint64{}   // case id → last entry that set it
		expectRec := map[string]string{} // record key (hex) → state
		lastRec := map[string]uint64{}
		var headEntry *JournalEntry
		err = scan(ctx, txn, []byte{pfxJournal}, true, func(k, v []byte) error {
			if rep.Problem != "" {
				return errStopScan
			}
			rep.Entries++
			seq, err := parseJournalKey(k)
			if err != nil {
				rep.fail(want, "unreadable key: "+err.Error())
				return nil
			}
			if seq != want {
				rep.fail(want, fmt.Sprintf("entry %d is missing (next present is %d)", want, seq))
				return nil
			}
			var e JournalEntry
			if err := json.Unmarshal(v, &e); err != nil {
				rep.fail(seq, "unreadable entry: "+err.Error())
				return nil
			}
			switch {
			case e.Seq != seq:
				rep.fail(seq, fmt.Sprintf("entry stored at %d says it is %d", seq, e.Seq))
			case e.Prev != prev:
				rep.fail(seq, "previous-hash link does not match the entry before it")
			case e.V != 0 && e.V != journalVersion:
				rep.fail(seq, fmt.Sprintf("unknown entry version %d", e.V))
			case e.V == 0 && v2:
				rep.fail(seq, "version-1 entry after version-2 ones (chain rewritten)")
			case e.V >= 2 && e.Key == "" && keyedSeen:
				rep.fail(seq, "unkeyed entry after keyed ones (chain rewritten without the journal key)")
			case e.Key != "" && db.journalKeyID == "":
				rep.fail(seq, fmt.Sprintf("entry is keyed (journal key %s): give the journal key (--journal-key, or --key-file of an encrypted database) to verify it", e.Key))
			case e.Key != "" && e.Key != db.journalKeyID:
				rep.fail(seq, fmt.Sprintf("entry is keyed with journal key %s, not the key given (%s)", e.Key, db.journalKeyID))
			case !hmac.Equal([]byte(entryHash(e, db.journalKey)), []byte(e.Hash)):
				if e.Key != "" {
					rep.fail(seq, "content does not match its keyed hash (entry edited or forged)")
				} else {
					rep.fail(seq, "content does not match its hash (entry edited)")
				}
			}
			if rep.Problem != "" {
				return nil
			}
			if e.V >= 2 {
				v2 = true
			}
			if e.Key != "" {
				keyedSeen = true
				rep.Keyed++
			} else {
				rep.Unkeyed++
			}
			if e.Action == ActJournalUpgrade && e.V >= 2 {
				var d struct {
					Cases   map[string]string `json:"cases"`
					Records map[string]string `json:"records"`
				}
				if err := json.Unmarshal(e.Detail, &d); err != nil {
					rep.fail(seq, "unreadable upgrade checkpoint: "+err.Error())
					return nil
				}
				expect = d.Cases
				if expect == nil {
					expect = map[string]string{}
				}
				for id := range expect {
					lastSeq[id] = seq
				}
				expectRec = d.Records
				if expectRec == nil {
					expectRec = map[string]string{}
				}
				for k := range expectRec {
					lastRec[k] = seq
				}
			} else if e.Record != "" && e.State != "" && e.V >= 2 {
				if e.State == stateDeleted {
					delete(expectRec, e.Record)
				} else {
					expectRec[e.Record] = e.State
				}
				lastRec[e.Record] = seq
			} else if e.State != "" && e.V >= 2 {
				if e.State == stateDeleted {
					delete(expect, e.CaseID)
				} else {
					expect[e.CaseID] = e.State
				}
				lastSeq[e.CaseID] = seq
			}
			if opts.Head != nil && seq == opts.Head.Seq {
				ec := e
				headEntry = &ec
			}
			prev = e.Hash
			want++
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			return err
		}
		if rep.Problem != "" {
			return nil
		}
		last := want - 1
		switch {
		case head.Seq > last:
			rep.fail(last+1, fmt.Sprintf("journal ends at %d but its head records %d (entries removed from the end)", last, head.Seq))
		case head.Seq < last:
			rep.fail(head.Seq+1, fmt.Sprintf("entries after the recorded head %d", head.Seq))
		case head.Hash != prev:
			rep.fail(last, "last entry does not match the hash recorded in the head")
		case db.journalKeyID != "" && last > 0 && !keyedSeen:
			rep.fail(1, "no entry is keyed with the journal key given (journal written without it, or rewritten)")
		}
		if rep.Problem != "" {
			return nil
		}
		if h := opts.Head; h != nil {
			rep.Head = h
			switch {
			case h.Seq == 0:
			case h.Seq > last:
				rep.fail(last+1, fmt.Sprintf("the kept head is entry %d but the journal ends at %d (entries removed)", h.Seq, last))
			case headEntry == nil || !hmac.Equal([]byte(headEntry.Hash), []byte(h.Hash)):
				rep.fail(h.Seq, fmt.Sprintf("entry %d does not have the hash of the kept head (the journal up to it was rewritten)", h.Seq))
			}
			if rep.Problem != "" {
				return nil
			}
		}
		// A journal of version-1 entries alone records no state; any other
		// (an empty one included) must account for every case record.
		if last > 0 && !v2 {
			rep.OK = true
			return nil
		}
		rep.StateChecked = true
		stored, err := caseStates(ctx, txn)
		if err != nil {
			return err
		}
		rep.Cases = len(stored)
		if rep.compareStates(stored, expect, lastSeq, func(id string) string { return "case " + id }); rep.Problem != "" {
			return nil
		}
		recs, err := recordStates(ctx, txn)
		if err != nil {
			return err
		}
		rep.Records = len(recs)
		if rep.compareStates(recs, expectRec, lastRec, describeRecord); rep.Problem != "" {
			return nil
		}
		rep.OK = true
		return nil
	})
	if err != nil {
		return JournalReport{}, fmt.Errorf("verify journal: %w", err)
	}
	return rep, nil
}

// describeRecord names a journalled record by its hex key for a report.
func describeRecord(hexKey string) string {
	k, err := hex.DecodeString(hexKey)
	if err != nil || len(k) == 0 {
		return "record " + hexKey
	}
	switch k[0] {
	case pfxVerdict:
		if r, err := parseVerdictKey(k); err == nil {
			return "the verdict on " + r.String()
		}
	case pfxRuleConfig:
		if seq, err := parseRuleConfigKey(k); err == nil {
			return fmt.Sprintf("rule configuration version %d", seq)
		}
	case pfxNotSame:
		return "a rejected match (key " + hexKey + ")"
	}
	return "record " + hexKey
}

// compareStates checks the stored records against the states the journal
// last recorded for them (stored and expect map a key to its state hash;
// last maps it to that entry), failing on the first record, in key order,
// written, deleted or edited outside casegraph.
func (r *JournalReport) compareStates(stored, expect map[string]string, last map[string]uint64, what func(string) string) {
	keys := make([]string, 0, len(stored)+len(expect))
	for k := range stored {
		keys = append(keys, k)
	}
	for k := range expect {
		if _, ok := stored[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		got, have := stored[k]
		want, known := expect[k]
		switch {
		case have && !known:
			r.fail(0, fmt.Sprintf("%s is stored but the journal never recorded it (written outside casegraph)", what(k)))
		case !have && known:
			r.fail(last[k], fmt.Sprintf("%s is missing but the journal records it (deleted outside casegraph)", what(k)))
		case got != want:
			r.fail(last[k], fmt.Sprintf("%s does not match the state its last journal entry %d records (edited outside casegraph)", what(k), last[k]))
		}
		if r.Problem != "" {
			return
		}
	}
}

func (r *JournalReport) fail(seq uint64, problem string) {
	if r.Problem != "" {
		return
	}
	r.OK, r.FirstBad, r.Problem = false, seq, problem
}
