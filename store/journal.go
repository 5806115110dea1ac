package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The journal is an append-only log of every action that reads or changes a
// case. Each entry carries the hash of the previous one, so editing,
// removing or reordering an entry breaks the chain and VerifyJournal finds
// the first broken sequence number. The head record (sequence and hash of
// the last entry) also catches a truncated tail.
//
// Version 2 entries (journalVersion) add two things to version 1:
//
//   - state: every entry of a case change carries "sha256:HEX" of the case
//     record exactly as it was written (or "deleted"), so VerifyJournal
//     replays the journal into the expected state of every case and compares
//     it with the stored records: a record edited outside casegraph (a note
//     changed, a bookmark removed) no longer matches. The first version-2
//     entry of a database written before is a journal.upgrade checkpoint
//     whose detail lists the state of every case at that moment. Verdicts,
//     rejected matches and rule configurations, which only journalled
//     actions write, are covered the same way (the entry's record names the
//     key, appendJournalRecord).
//   - a key: with a journal key (Options.JournalKey, else derived from the
//     database's encryption key) the hash is an HMAC-SHA256 and the entry
//     names the key by its id ("key"), so whoever rewrites the chain without
//     the key cannot make it verify. Without a key the hash is SHA-256 as in
//     version 1 and the chain is tamper-evident only against edits that do
//     not rehash it (see docs/SECURITY.md, "The journal").
//
// Layout:
//
//	[j][seq uint64 BE]  → entry (JSON JournalEntry)
//	[m]"journal"        → head (JSON {seq, hash, v, key})
const (
	pfxJournal  byte = 'j'
	metaJournal      = "journal"
)

// journalKey: [j][seq uint64 BE]. Sequence numbers start at 1.
func journalKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{pfxJournal}, seq)
}

func parseJournalKey(k []byte) (uint64, error) {
	if len(k) != 9 || k[0] != pfxJournal {
		return 0, fmt.Errorf("journal key: want 9 bytes with prefix j")
	}
	return binary.BigEndian.Uint64(k[1:]), nil
}

// Actor is who does an action and when. cmd/casegraph fills it from os/user
// and the clock for every action; the store never asks the OS itself.
type Actor struct {
	User string
	Time time.Time
}

// journalVersion is the version of the entries this code writes.
const journalVersion = 2

// JournalEntry is one journalled action.
type JournalEntry struct {
	Seq    uint64          `json:"seq"`
	V      int             `json:"v,omitempty"` // 0 (absent) = version 1; 2 = with state and key
	Time   time.Time       `json:"time"`
	User   string          `json:"user"`
	Action string          `json:"action"` // e.g. "case.create", "bookmark.add", "case.view", "case.export"
	CaseID string          `json:"case_id,omitempty"`
	Detail json.RawMessage `json:"detail,omitempty"` // action-specific JSON object
	State  string          `json:"state,omitempty"`  // v2: "sha256:HEX" of the record after the change, or "deleted"; empty if the action changes no record
	Record string          `json:"record,omitempty"` // v2: hex of the store key of the record State is about when it is not the case (a verdict, a match rejection, a rule configuration)
	Key    string          `json:"key,omitempty"`    // v2: id of the journal key that keys Hash; empty = unkeyed SHA-256
	Prev   string          `json:"prev"`             // hex hash of the previous entry; empty for the first
	Hash   string          `json:"hash"`             // hex SHA-256 (v1, unkeyed v2) or HMAC-SHA256 (keyed v2) of this entry (see entryHash)
}

// Journal actions written by the store. Callers may journal their own (for
// example "case.export") with AppendJournal.
const (
	ActCaseCreate     = "case.create"
	ActCaseRename     = "case.rename"
	ActCaseStatus     = "case.status"
	ActCaseNotes      = "case.notes"
	ActCaseTags       = "case.tags"
	ActCaseDelete     = "case.delete"
	ActCaseImport     = "case.import"
	ActCaseView       = "case.view"
	ActCaseExport     = "case.export" // journalled by the export command
	ActQuerySave      = "query.save"
	ActBookmarkAdd    = "bookmark.add"
	ActBookmarkUpdate = "bookmark.update"
	ActBookmarkDelete = "bookmark.delete"
	ActUndo           = "undo"
	// ActJournalUpgrade is the checkpoint that starts version-2 entries in a
	// journal of version-1 ones: its detail is {"cases": {id: state}}.
	ActJournalUpgrade = "journal.upgrade"
)

// stateDeleted is the state of a case that a change deleted.
const stateDeleted = "deleted"

// caseState is the state string of a stored case record.
func caseState(value []byte) string {
	sum := sha256.Sum256(value)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// journalKeyLabel separates the journal's HMAC key from every other use of
// the key material it is derived from.
const journalKeyLabel = "casegraph journal key v2"

// deriveJournalKey turns key material (a journal key file's bytes or the
// database's encryption key) into the HMAC key and its public id.
func deriveJournalKey(material []byte) (key []byte, id string) {
	m := hmac.New(sha256.New, material)
	m.Write([]byte(journalKeyLabel))
	key = m.Sum(nil)
	m = hmac.New(sha256.New, key)
	m.Write([]byte("key id"))
	return key, hex.EncodeToString(m.Sum(nil)[:8])
}

// entryHash is the hash over the entry's fields (all but Hash), each
// written as a uvarint length and its bytes; the time in UTC RFC 3339 with
// nanoseconds. The previous hash is one of the fields, which makes the chain.
// Version 1: SHA-256 over seq, time, user, action, case, detail, prev.
// Version 2: the same fields and then v, state, key and record; SHA-256 when the
// entry names no key, else HMAC-SHA256 under key.
func entryHash(e JournalEntry, key []byte) string {
	var h hash.Hash
	if e.V >= 2 && e.Key != "" {
		h = hmac.New(sha256.New, key)
	} else {
		h = sha256.New()
	}
	var buf []byte
	field := func(s string) {
		buf = binary.AppendUvarint(buf[:0], uint64(len(s)))
		buf = append(buf, s...)
		h.Write(buf)
	}
	field(fmt.Sprint(e.Seq))
	field(e.Time.UTC().Format(time.RFC3339Nano))
	field(e.User)
	field(e.Action)
	field(e.CaseID)
	field(string(e.Detail))
	field(e.Prev)
	if e.V >= 2 {
		field(fmt.Sprint(e.V))
		field(e.State)
		field(e.Key)
		field(e.Record)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type journalHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
	V    int    `json:"v,omitempty"`
	Key  string `json:"key,omitempty"`
}

func readJournalHead(txn *badger.Txn) (journalHead, error) {
	var h journalHead
	item, err := txn.Get(metaKey(metaJournal))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return h, nil
	}
	if err != nil {
		return h, fmt.Errorf("read journal head: %w", err)
	}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &h) })
	if err != nil {
		return h, fmt.Errorf("decode journal head: %w", err)
	}
	return h, nil
}

// appendJournal adds an entry that changes no case inside txn: the caller's
// change and its entry commit together or not at all. detail is marshalled
// to JSON (nil = none).
func (db *DB) appendJournal(txn *badger.Txn, act Actor, action, caseID string, detail any) (JournalEntry, error) {
	return db.appendJournalState(txn, act, action, caseID, "", detail)
}

// appendJournalState adds an entry whose state is the case's record after
// the change (caseState, or stateDeleted). A journal that ends in version-1
// entries first gets a journal.upgrade checkpoint of every case's state.
func (db *DB) appendJournalState(txn *badger.Txn, act Actor, action, caseID, state string, detail any) (JournalEntry, error) {
	return db.appendEntry(txn, act, JournalEntry{Action: action, CaseID: caseID, State: state}, detail)
}

// appendJournalRecord adds an entry for a change of a journalled record
// that is not a case (verdict, match rejection, rule configuration): its
// state is that of value as written under key, or deleted when value is nil.
func (db *DB) appendJournalRecord(txn *badger.Txn, act Actor, action string, key, value []byte, detail any) (JournalEntry, error) {
	state := stateDeleted
	if value != nil {
		state = caseState(value)
	}
	return db.appendEntry(txn, act, JournalEntry{Action: action, State: state, Record: hex.EncodeToString(key)}, detail)
}

func (db *DB) appendEntry(txn *badger.Txn, act Actor, proto JournalEntry, detail any) (JournalEntry, error) {
	action := proto.Action
	if act.User == "" {
		return JournalEntry{}, fmt.Errorf("journal %s: no user given", action)
	}
	if act.Time.IsZero() {
		return JournalEntry{}, fmt.Errorf("journal %s: no time given", action)
	}
	head, err := readJournalHead(txn)
	if err != nil {
		return JournalEntry{}, err
	}
	if head.Seq > 0 && head.V < journalVersion {
		cases, err := caseStates(context.Background(), txn)
		if err != nil {
			return JournalEntry{}, fmt.Errorf("journal upgrade: %w", err)
		}
		records, err := recordStates(context.Background(), txn)
		if err != nil {
			return JournalEntry{}, fmt.Errorf("journal upgrade: %w", err)
		}
		var up JournalEntry
		if head, err = db.writeEntryOut(txn, head, act, JournalEntry{Action: ActJournalUpgrade},
			map[string]any{"cases": cases, "records": records, "from_version": 1}, &up); err != nil {
			return JournalEntry{}, err
		}
	}
	var e JournalEntry
	if _, err := db.writeEntryOut(txn, head, act, proto, detail, &e); err != nil {
		return JournalEntry{}, err
	}
	return e, nil
}

func (db *DB) writeEntryOut(txn *badger.Txn, head journalHead, act Actor, proto JournalEntry, detail any, out *JournalEntry) (journalHead, error) {
	action := proto.Action
	e := JournalEntry{Seq: head.Seq + 1, V: journalVersion, Time: act.Time.UTC(), User: act.User, Action: action, CaseID: proto.CaseID,
		State: proto.State, Record: proto.Record, Key: db.journalKeyID, Prev: head.Hash}
	if detail != nil {
		raw, err := json.Marshal(detail)
		if err != nil {
			return head, fmt.Errorf("journal %s: encode detail: %w", action, err)
		}
		e.Detail = raw
	}
	e.Hash = entryHash(e, db.journalKey)
	v, err := json.Marshal(e)
	if err != nil {
		return head, fmt.Errorf("journal %s: encode entry: %w", action, err)
	}
	if err := txn.Set(journalKey(e.Seq), v); err != nil {
		return head, fmt.Errorf("journal %s: write entry %d: %w", action, e.Seq, err)
	}
	next := journalHead{Seq: e.Seq, Hash: e.Hash, V: journalVersion, Key: e.Key}
	hv, _ := json.Marshal(next)
	if err := txn.Set(metaKey(metaJournal), hv); err != nil {
		return head, fmt.Errorf("journal %s: write head: %w", action, err)
	}
	*out = e
	return next, nil
}

// journalledRecords are the prefixes of the records, besides cases, that
// only journalled actions write: verdicts, match rejections and rule
// configurations. (Same-as links are journalled too but share their keys
// with imported links, so they are not state-checked.)
var journalledRecords = []byte{pfxVerdict, pfxNotSame, pfxRuleConfig}

// recordStates returns the state of every journalled record that is not a
// case, by the hex of its key.
func recordStates(ctx context.Context, txn *badger.Txn) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range journalledRecords {
		err := scan(ctx, txn, []byte{p}, true, func(k, v []byte) error {
			out[hex.EncodeToString(k)] = caseState(v)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// caseStates returns the state of every stored case record.
func caseStates(ctx context.Context, txn *badger.Txn) (map[string]string, error) {
	out := map[string]string{}
	err := scan(ctx, txn, []byte{pfxCase}, true, func(k, v []byte) error {
		id, err := parseCaseKey(k)
		if err != nil {
			return err
		}
		out[id] = caseState(v)
		return nil
	})
	return out, err
}

// AppendJournal records an action that the store does not journal itself,
// such as viewing or exporting a case. detail is any JSON-encodable value or
// nil.
func (db *DB) AppendJournal(ctx context.Context, act Actor, action, caseID string, detail any) (JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return JournalEntry{}, err
	}
	if action == "" {
		return JournalEntry{}, fmt.Errorf("journal: empty action")
	}
	if action == ActJournalUpgrade {
		return JournalEntry{}, fmt.Errorf("journal: %s is written by the store only", action)
	}
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	var e JournalEntry
	err := db.bdb.Update(func(txn *badger.Txn) error {
		var err error
		e, err = db.appendJournal(txn, act, action, caseID, detail)
		return err
	})
	if err != nil {
		return JournalEntry{}, fmt.Errorf("journal %s: %w", action, err)
	}
	return e, db.sync()
}

// sync makes committed case changes durable at once, so a crash or power
// loss right after an edit does not lose it.
func (db *DB) sync() error {
	if err := db.bdb.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", db.dir, err)
	}
	return nil
}

// Journal returns the journal in sequence order; with caseID set, only that
// case's entries. It does not check the chain (see VerifyJournal).
func (db *DB) Journal(ctx context.Context, caseID string) ([]JournalEntry, error) {
	var out []JournalEntry
	err := db.view(ctx, func(txn *badger.Txn) error {
		return scan(ctx, txn, []byte{pfxJournal}, true, func(k, v []byte) error {
			var e JournalEntry
			if err := json.Unmarshal(v, &e); err != nil {
				seq, _ := parseJournalKey(k)
				return fmt.Errorf("decode journal entry %d: %w", seq, err)
			}
			if caseID == "" || e.CaseID == caseID {
				out = append(out, e)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	return out, nil
}

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

// JournalHeadFile is a journal head kept outside the database by
// `casegraph journal export`: the sequence number and hash of the last
// entry and its time. A journal that still extends it holds an entry at
// Seq with exactly this hash (and, by the chain, every entry before it).
type JournalHeadFile struct {
	Format string    `json:"format"` // JournalHeadFormat
	Seq    uint64    `json:"seq"`
	Hash   string    `json:"hash"`
	Time   time.Time `json:"time"`          // time of the entry at Seq
	Key    string    `json:"key,omitempty"` // id of the journal key of that entry, empty if unkeyed
}

// JournalHeadFormat is the format of a JournalHeadFile.
const JournalHeadFormat = "casegraph-journal-head/1"

// JournalHead returns the head of the journal for keeping elsewhere; its
// Seq is 0 for an empty journal.
func (db *DB) JournalHead(ctx context.Context) (JournalHeadFile, error) {
	out := JournalHeadFile{Format: JournalHeadFormat}
	err := db.view(ctx, func(txn *badger.Txn) error {
		h, err := readJournalHead(txn)
		if err != nil || h.Seq == 0 {
			return err
		}
		item, err := txn.Get(journalKey(h.Seq))
		if err != nil {
			return fmt.Errorf("read journal entry %d: %w", h.Seq, err)
		}
		var e JournalEntry
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &e) }); err != nil {
			return fmt.Errorf("decode journal entry %d: %w", h.Seq, err)
		}
		out.Seq, out.Hash, out.Time, out.Key = e.Seq, e.Hash, e.Time, e.Key
		return nil
	})
	if err != nil {
		return JournalHeadFile{}, fmt.Errorf("journal head: %w", err)
	}
	return out, nil
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
