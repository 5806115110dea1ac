package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The journal is an append-only log of every action that reads or changes a
// case. Each entry carries the SHA-256 of the previous one, so editing,
// removing or reordering an entry breaks the chain and VerifyJournal finds
// the first broken sequence number. The head record (sequence and hash of
// the last entry) also catches a truncated tail. It is tamper-evident, not
// tamper-proof: whoever can write the database can rewrite the whole chain.
//
// Layout:
//
//	[j][seq uint64 BE]  → entry (JSON JournalEntry)
//	[m]"journal"        → head (JSON {seq, hash})
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

// JournalEntry is one journalled action.
type JournalEntry struct {
	Seq    uint64          `json:"seq"`
	Time   time.Time       `json:"time"`
	User   string          `json:"user"`
	Action string          `json:"action"` // e.g. "case.create", "bookmark.add", "case.view", "case.export"
	CaseID string          `json:"case_id,omitempty"`
	Detail json.RawMessage `json:"detail,omitempty"` // action-specific JSON object
	Prev   string          `json:"prev"`             // hex SHA-256 of the previous entry; empty for the first
	Hash   string          `json:"hash"`             // hex SHA-256 of this entry (see entryHash)
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
)

// entryHash is the SHA-256 over the entry's fields (all but Hash), each
// written as a uvarint length and its bytes; the time in UTC RFC 3339 with
// nanoseconds. The previous hash is one of the fields, which makes the chain.
func entryHash(e JournalEntry) string {
	h := sha256.New()
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
	return hex.EncodeToString(h.Sum(nil))
}

type journalHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
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

// appendJournal adds an entry inside txn: the caller's change and its entry
// commit together or not at all. detail is marshalled to JSON (nil = none).
func appendJournal(txn *badger.Txn, act Actor, action, caseID string, detail any) (JournalEntry, error) {
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
	e := JournalEntry{Seq: head.Seq + 1, Time: act.Time.UTC(), User: act.User, Action: action, CaseID: caseID, Prev: head.Hash}
	if detail != nil {
		raw, err := json.Marshal(detail)
		if err != nil {
			return JournalEntry{}, fmt.Errorf("journal %s: encode detail: %w", action, err)
		}
		e.Detail = raw
	}
	e.Hash = entryHash(e)
	v, err := json.Marshal(e)
	if err != nil {
		return JournalEntry{}, fmt.Errorf("journal %s: encode entry: %w", action, err)
	}
	if err := txn.Set(journalKey(e.Seq), v); err != nil {
		return JournalEntry{}, fmt.Errorf("journal %s: write entry %d: %w", action, e.Seq, err)
	}
	hv, _ := json.Marshal(journalHead{Seq: e.Seq, Hash: e.Hash})
	if err := txn.Set(metaKey(metaJournal), hv); err != nil {
		return JournalEntry{}, fmt.Errorf("journal %s: write head: %w", action, err)
	}
	return e, nil
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
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	var e JournalEntry
	err := db.bdb.Update(func(txn *badger.Txn) error {
		var err error
		e, err = appendJournal(txn, act, action, caseID, detail)
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
	OK       bool   // the whole chain verified
	FirstBad uint64 // first sequence number that is missing, altered or out of place
	Problem  string // what is wrong at FirstBad
}

// VerifyJournal recomputes the hash chain from the first entry and reports
// the first sequence number that is missing (a gap or a cut tail), edited
// (its hash no longer matches its content) or unlinked (its prev is not the
// hash of the entry before it). A broken chain is a report, not an error;
// the error is for failures to read.
func (db *DB) VerifyJournal(ctx context.Context) (JournalReport, error) {
	var rep JournalReport
	err := db.view(ctx, func(txn *badger.Txn) error {
		head, err := readJournalHead(txn)
		if err != nil {
			return err
		}
		var want uint64 = 1
		prev := ""
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
			case entryHash(e) != e.Hash:
				rep.fail(seq, "content does not match its hash (entry edited)")
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
		default:
			rep.OK = true
		}
		return nil
	})
	if err != nil {
		return JournalReport{}, fmt.Errorf("verify journal: %w", err)
	}
	return rep, nil
}

func (r *JournalReport) fail(seq uint64, problem string) {
	if r.Problem != "" {
		return
	}
	r.OK, r.FirstBad, r.Problem = false, seq, problem
}
