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
	ActBookmarkMove   = "bookmark.move" // an entry on each of the two cases
	ActBookmarkCopy   = "bookmark.copy"
	ActCaseMerge      = "case.merge" // an entry on the case kept and one on the case merged into it
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
