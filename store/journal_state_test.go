package store

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// editCaseRecord rewrites a stored case record in place, as someone editing
// the database files with Badger would: no journal entry.
func editCaseRecord(t *testing.T, db *DB, id string, edit func(c *graph.Case)) {
	t.Helper()
	err := db.bdb.Update(func(txn *badger.Txn) error {
		c, err := getCase(txn, id)
		if err != nil {
			return err
		}
		edit(&c)
		_, err = putCase(txn, c)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rewriteChain rehashes the whole journal from the first entry after edit
// changed the entries it wants (nil: drop the entry), with hash as the
// forger computes it, and rewrites the head: the strongest edit someone with
// the files but without the journal key can make.
func rewriteChain(t *testing.T, db *DB, edit func(e *JournalEntry) bool, hash func(e JournalEntry) string) {
	t.Helper()
	err := db.bdb.Update(func(txn *badger.Txn) error {
		var all []JournalEntry
		err := scan(context.Background(), txn, []byte{pfxJournal}, true, func(k, v []byte) error {
			var e JournalEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			all = append(all, e)
			return txn.Delete(journalKey(e.Seq))
		})
		if err != nil {
			return err
		}
		prev := ""
		var seq uint64
		for _, e := range all {
			if !edit(&e) {
				continue
			}
			seq++
			e.Seq, e.Prev = seq, prev
			e.Hash = hash(e)
			prev = e.Hash
			v, _ := json.Marshal(e)
			if err := txn.Set(journalKey(seq), v); err != nil {
				return err
			}
		}
		hv, _ := json.Marshal(journalHead{Seq: seq, Hash: prev, V: journalVersion})
		return txn.Set(metaKey(metaJournal), hv)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustVerify(t *testing.T, db *DB, opts VerifyOptions) JournalReport {
	t.Helper()
	rep, err := db.VerifyJournalWith(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestJournalCoversCaseState(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, db *DB, c graph.Case)
		want   string
	}{
		{"note edited", func(t *testing.T, db *DB, c graph.Case) {
			editCaseRecord(t, db, c.ID, func(c *graph.Case) { c.Bookmarks[0].Note = "nothing to see" })
		}, "edited outside"},
		{"bookmark deleted", func(t *testing.T, db *DB, c graph.Case) {
			editCaseRecord(t, db, c.ID, func(c *graph.Case) { c.Bookmarks = c.Bookmarks[1:] })
		}, "edited outside"},
		{"case deleted", func(t *testing.T, db *DB, c graph.Case) {
			if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete(caseKey(c.ID)) }); err != nil {
				t.Fatal(err)
			}
		}, "deleted outside"},
		{"case planted", func(t *testing.T, db *DB, c graph.Case) {
			editCaseRecord(t, db, c.ID, func(c *graph.Case) { c.ID = "c-planted" })
		}, "never recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, c := journalled(t, 3)
			if _, err := db.SetCaseNotes(ctx, newClock().act(), c.ID, "first note"); err != nil {
				t.Fatal(err)
			}
			if rep := mustVerify(t, db, VerifyOptions{}); !rep.OK || !rep.StateChecked || rep.Cases != 1 {
				t.Fatalf("before: %+v", rep)
			}
			tc.damage(t, db, c)
			rep := mustVerify(t, db, VerifyOptions{})
			if rep.OK || !strings.Contains(rep.Problem, tc.want) {
				t.Errorf("after %s: %+v, want %q", tc.name, rep, tc.want)
			}
		})
	}
}

func TestJournalUndoAndDeleteKeepState(t *testing.T) {
	ctx := context.Background()
	db, c := journalled(t, 2)
	ck := newClock()
	if err := db.DeleteCase(ctx, ck.act(), c.ID); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, db, VerifyOptions{}); !rep.OK {
		t.Fatalf("after delete: %+v", rep)
	}
	if _, err := db.UndoLast(ctx, ck.act()); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, db, VerifyOptions{}); !rep.OK || rep.Cases != 1 {
		t.Fatalf("after undo: %+v", rep)
	}
}

func openKeyed(t *testing.T, dir string, jk []byte) *DB {
	t.Helper()
	db, err := Open(dir, Options{JournalKey: jk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var testJournalKey = []byte("0123456789abcdef-journal-key")

// A chain rehashed by someone without the key (user renamed, an entry
// forged, a tail cut and the head rewritten) verifies without a key but not
// with it.
func TestJournalKeyedChainResistsRewrite(t *testing.T) {
	ctx := context.Background()
	build := func(t *testing.T) *DB {
		db := openKeyed(t, t.TempDir(), testJournalKey)
		ck := newClock()
		c := mustCase(t, db, ck, "keyed")
		for i := range 3 {
			if _, _, err := db.AddBookmark(ctx, ck.act(), c.ID, graph.Bookmark{Target: graph.EntityTarget(cardRef(i), "")}); err != nil {
				t.Fatal(err)
			}
		}
		return db
	}
	if rep := mustVerify(t, build(t), VerifyOptions{}); !rep.OK || rep.Keyed != 4 || rep.Unkeyed != 0 {
		t.Fatalf("keyed journal: %+v", rep)
	}
	forged := func(key []byte) func(JournalEntry) string {
		return func(e JournalEntry) string { return entryHash(e, key) }
	}
	for _, tc := range []struct {
		name string
		edit func(e *JournalEntry) bool
		hash func(JournalEntry) string
	}{
		{"user renamed, unkeyed", func(e *JournalEntry) bool { e.User, e.Key = "someone", ""; return true }, forged(nil)},
		{"user renamed, version 1", func(e *JournalEntry) bool { e.User, e.Key, e.V, e.State = "someone", "", 0, ""; return true }, forged(nil)},
		{"user renamed, other key", func(e *JournalEntry) bool { e.User = "someone"; return true },
			forged([]byte("a guessed key that is not the right one"))},
		{"tail cut, unkeyed", func(e *JournalEntry) bool { e.Key = ""; return e.Seq < 4 }, forged(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := build(t)
			rewriteChain(t, db, tc.edit, tc.hash)
			if rep := mustVerify(t, db, VerifyOptions{}); rep.OK {
				t.Errorf("rewritten chain verifies with the key: %+v", rep)
			}
		})
	}
}

func TestJournalKeyNeeded(t *testing.T) {
	dir := t.TempDir()
	db := openKeyed(t, dir, testJournalKey)
	mustCase(t, db, newClock(), "x")
	db.Close()
	plain := openAt(t, dir)
	if rep := mustVerify(t, plain, VerifyOptions{}); rep.OK || !strings.Contains(rep.Problem, "give the journal key") {
		t.Errorf("keyed journal verified without the key: %+v", rep)
	}
	plain.Close()
	other := openKeyed(t, dir, []byte("another sixteen+ byte key"))
	if rep := mustVerify(t, other, VerifyOptions{}); rep.OK || !strings.Contains(rep.Problem, "not the key given") {
		t.Errorf("keyed journal verified with another key: %+v", rep)
	}
}

// The head kept elsewhere catches a rewrite of an unkeyed journal that the
// chain alone cannot.
func TestJournalHeadKeptElsewhere(t *testing.T) {
	ctx := context.Background()
	db, c := journalled(t, 3)
	head, err := db.JournalHead(ctx)
	if err != nil || head.Seq != 7 || head.Hash == "" || head.Format != JournalHeadFormat {
		t.Fatalf("head: %+v %v", head, err)
	}
	if _, err := db.SetCaseNotes(ctx, newClock().act(), c.ID, "later"); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, db, VerifyOptions{Head: &head}); !rep.OK {
		t.Fatalf("journal that extends the head: %+v", rep)
	}
	rewriteChain(t, db, func(e *JournalEntry) bool { e.User = "someone"; return true },
		func(e JournalEntry) string { return entryHash(e, nil) })
	if rep := mustVerify(t, db, VerifyOptions{}); !rep.OK {
		t.Fatalf("an unkeyed rehashed chain is expected to verify on its own: %+v", rep)
	}
	if rep := mustVerify(t, db, VerifyOptions{Head: &head}); rep.OK || rep.FirstBad != 7 {
		t.Errorf("rewritten journal verified against the kept head: %+v", rep)
	}
	// Truncation below the kept head.
	db2, _ := journalled(t, 3)
	head2, _ := db2.JournalHead(ctx)
	rewriteChain(t, db2, func(e *JournalEntry) bool { return e.Seq < 5 }, func(e JournalEntry) string { return entryHash(e, nil) })
	if rep := mustVerify(t, db2, VerifyOptions{Head: &head2}); rep.OK || !strings.Contains(rep.Problem, "removed") {
		t.Errorf("truncated journal verified against the kept head: %+v", rep)
	}
}

// writeLegacyJournal appends a version-1 entry, as casegraph wrote them
// before the journal recorded state and keys.
func writeLegacyJournal(t *testing.T, db *DB, act Actor, action, caseID string) {
	t.Helper()
	err := db.bdb.Update(func(txn *badger.Txn) error {
		head, err := readJournalHead(txn)
		if err != nil {
			return err
		}
		e := JournalEntry{Seq: head.Seq + 1, Time: act.Time.UTC(), User: act.User, Action: action, CaseID: caseID, Prev: head.Hash}
		e.Hash = entryHash(e, nil)
		v, _ := json.Marshal(e)
		if err := txn.Set(journalKey(e.Seq), v); err != nil {
			return err
		}
		hv, _ := json.Marshal(map[string]any{"seq": e.Seq, "hash": e.Hash})
		return txn.Set(metaKey(metaJournal), hv)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLegacyJournalVerifiesAndUpgrades(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	ck := newClock()
	c := graph.Case{ID: "c-old", Name: "old", Status: graph.CaseOpen, Created: ck.t, Updated: ck.t, Bookmarks: []graph.Bookmark{}}
	if err := db.bdb.Update(func(txn *badger.Txn) error { _, err := putCase(txn, c); return err }); err != nil {
		t.Fatal(err)
	}
	writeLegacyJournal(t, db, ck.act(), ActCaseCreate, c.ID)
	writeLegacyJournal(t, db, ck.act(), ActCaseView, c.ID)
	// A verdict written by a version that journalled it as version 1.
	if err := db.bdb.Update(func(txn *badger.Txn) error {
		v, _ := json.Marshal(graph.Verdict{Kind: graph.VerdictConfirmed, User: "aigerim", Time: ck.t})
		return txn.Set(verdictKey(cardRef(1)), v)
	}); err != nil {
		t.Fatal(err)
	}
	writeLegacyJournal(t, db, ck.act(), "verdict.set", "")
	rep := mustVerify(t, db, VerifyOptions{})
	if !rep.OK || rep.StateChecked || rep.Entries != 3 {
		t.Fatalf("legacy journal: %+v", rep)
	}
	if _, err := db.SetCaseNotes(ctx, ck.act(), c.ID, "after the upgrade"); err != nil {
		t.Fatal(err)
	}
	all, _ := db.Journal(ctx, "")
	if len(all) != 5 || all[3].Action != ActJournalUpgrade || all[3].V != journalVersion || all[4].State == "" {
		t.Fatalf("upgraded journal: %+v", all)
	}
	if rep := mustVerify(t, db, VerifyOptions{}); !rep.OK || !rep.StateChecked || rep.Cases != 1 || rep.Records != 1 {
		t.Fatalf("after upgrade: %+v", rep)
	}
	editCaseRecord(t, db, c.ID, func(c *graph.Case) { c.Notes = "forged" })
	if rep := mustVerify(t, db, VerifyOptions{}); rep.OK {
		t.Errorf("edited case verified after the upgrade: %+v", rep)
	}
}

// Verdicts, rejected matches and rule configurations are journalled
// records too: an edit outside casegraph fails verify.
func TestJournalCoversVerdictsAndRuleConfigs(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) *DB {
		db := openTemp(t)
		ck := newClock()
		if _, err := db.SetVerdict(ctx, ck.act(), graph.Verdict{Ref: cardRef(1), Kind: graph.VerdictConfirmed, Note: "mule"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetVerdict(ctx, ck.act(), graph.Verdict{Ref: cardRef(2), Kind: graph.VerdictDismissed}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClearVerdict(ctx, ck.act(), cardRef(2)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RejectMatch(ctx, ck.act(), Rejection{A: personRef(1), B: personRef(2), Score: 0.9, Method: "name"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ApplyRuleConfig(ctx, ck.act(), json.RawMessage(`{"weights":{}}`), "test", nil); err != nil {
			t.Fatal(err)
		}
		if rep := mustVerify(t, db, VerifyOptions{}); !rep.OK || rep.Records != 3 {
			t.Fatalf("before: %+v", rep)
		}
		return db
	}
	for name, damage := range map[string]func(txn *badger.Txn) error{
		"verdict flipped": func(txn *badger.Txn) error {
			v, _ := json.Marshal(graph.Verdict{Kind: graph.VerdictDismissed, User: "aigerim"})
			return txn.Set(verdictKey(cardRef(1)), v)
		},
		"verdict planted": func(txn *badger.Txn) error {
			v, _ := json.Marshal(graph.Verdict{Kind: graph.VerdictConfirmed, User: "aigerim"})
			return txn.Set(verdictKey(cardRef(3)), v)
		},
		"rejection removed":   func(txn *badger.Txn) error { return txn.Delete(notSameKey(personRef(1), personRef(2))) },
		"rule config removed": func(txn *badger.Txn) error { return txn.Delete(ruleConfigKey(1)) },
	} {
		t.Run(name, func(t *testing.T) {
			db := setup(t)
			if err := db.bdb.Update(damage); err != nil {
				t.Fatal(err)
			}
			if rep := mustVerify(t, db, VerifyOptions{}); rep.OK || !strings.Contains(rep.Problem, "outside casegraph") {
				t.Errorf("%s: %+v", name, rep)
			}
		})
	}
}

// An encrypted database keys its journal with a key derived from the
// encryption key, without any journal key given.
func TestEncryptedDatabaseKeysItsJournal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := bytes.Repeat([]byte{9}, 32)
	db, err := Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	mustCase(t, db, newClock(), "sealed")
	all, _ := db.Journal(ctx, "")
	if len(all) != 1 || all[0].Key == "" || all[0].Key != db.journalKeyID {
		t.Fatalf("entry not keyed: %+v", all)
	}
	if rep := mustVerify(t, db, VerifyOptions{}); !rep.OK || rep.Keyed != 1 {
		t.Fatalf("verify: %+v", rep)
	}
	_, encID := deriveJournalKey(key)
	if db.journalKeyID != encID || bytes.Equal(db.journalKey, key) || bytes.Equal(db.journalKey, db.sealKey) {
		t.Error("journal key is not a separate derivation of the encryption key")
	}
	db.Close()
	other, err := Open(dir, Options{EncryptionKey: key, JournalKey: testJournalKey})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if rep := mustVerify(t, other, VerifyOptions{}); rep.OK || !strings.Contains(rep.Problem, "not the key given") {
		t.Errorf("verified with another journal key: %+v", rep)
	}
}
