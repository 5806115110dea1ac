package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// tamperJournal rewrites entry seq in place with edit applied, without
// rehashing: what someone editing the database by hand would do.
func tamperJournal(t *testing.T, db *DB, seq uint64, edit func(e *JournalEntry)) {
	t.Helper()
	err := db.bdb.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(journalKey(seq))
		if err != nil {
			return err
		}
		var e JournalEntry
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &e) }); err != nil {
			return err
		}
		edit(&e)
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return txn.Set(journalKey(seq), v)
	})
	if err != nil {
		t.Fatalf("tamper with entry %d: %v", seq, err)
	}
}

func deleteJournal(t *testing.T, db *DB, seq uint64) {
	t.Helper()
	if err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete(journalKey(seq)) }); err != nil {
		t.Fatalf("delete entry %d: %v", seq, err)
	}
}

// journalled builds a database with a journal of 1 + 2·n entries.
func journalled(t *testing.T, n int) (*DB, graph.Case) {
	t.Helper()
	ctx := context.Background()
	db, ck := openTemp(t), newClock()
	c := mustCase(t, db, ck, "Almaty cash-out")
	for i := range n {
		if _, _, err := db.AddBookmark(ctx, ck.act(), c.ID, graph.Bookmark{Target: graph.EntityTarget(cardRef(i), "")}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AppendJournal(ctx, ck.act(), "case.export", c.ID, map[string]string{"to": "/tmp/x"}); err != nil {
			t.Fatal(err)
		}
	}
	return db, c
}

func TestJournalChainVerifies(t *testing.T) {
	ctx := context.Background()
	empty := openTemp(t)
	if rep, err := empty.VerifyJournal(ctx); err != nil || !rep.OK || rep.Entries != 0 {
		t.Errorf("empty journal: %+v %v", rep, err)
	}
	db, c := journalled(t, 3)
	rep, err := db.VerifyJournal(ctx)
	if err != nil || !rep.OK || rep.Entries != 7 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	all, err := db.Journal(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 7 || all[0].Action != ActCaseCreate || all[0].Prev != "" || all[1].Prev != all[0].Hash || all[6].Seq != 7 {
		t.Errorf("journal: %+v", all)
	}
	if all[1].User != "aigerim" || all[1].CaseID != c.ID || !strings.Contains(string(all[1].Detail), "card:44004300") {
		t.Errorf("entry 2: %+v", all[1])
	}
	other := mustCase(t, db, &clock{t: time.Now()}, "other")
	mine, _ := db.Journal(ctx, other.ID)
	if len(mine) != 1 || mine[0].Action != ActCaseCreate {
		t.Errorf("filtered journal: %+v", mine)
	}
	if _, err := db.AppendJournal(ctx, Actor{Time: time.Now()}, "case.view", c.ID, nil); err == nil {
		t.Error("entry without user accepted")
	}
}

func TestJournalVerifyDetectsTampering(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		damage  func(t *testing.T, db *DB)
		bad     uint64
		problem string
	}{
		{"edited detail", func(t *testing.T, db *DB) {
			tamperJournal(t, db, 3, func(e *JournalEntry) { e.Detail = json.RawMessage(`{"to":"/elsewhere"}`) })
		}, 3, "edited"},
		{"edited user", func(t *testing.T, db *DB) {
			tamperJournal(t, db, 1, func(e *JournalEntry) { e.User = "someone" })
		}, 1, "edited"},
		{"edited and rehashed", func(t *testing.T, db *DB) {
			tamperJournal(t, db, 4, func(e *JournalEntry) { e.Action = "case.view"; e.Hash = entryHash(*e, db.journalKey) })
		}, 5, "previous-hash"},
		{"gap", func(t *testing.T, db *DB) { deleteJournal(t, db, 2) }, 2, "missing"},
		{"cut tail", func(t *testing.T, db *DB) { deleteJournal(t, db, 7) }, 7, "removed from the end"},
		{"renumbered", func(t *testing.T, db *DB) {
			tamperJournal(t, db, 6, func(e *JournalEntry) { e.Seq = 9 })
		}, 6, "says it is 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := journalled(t, 3)
			tc.damage(t, db)
			rep, err := db.VerifyJournal(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.FirstBad != tc.bad || !strings.Contains(rep.Problem, tc.problem) {
				t.Errorf("report %+v, want first bad %d (%s)", rep, tc.bad, tc.problem)
			}
		})
	}
}

func TestJournalChainSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openAt(t, dir)
	ck := newClock()
	mustCase(t, db, ck, "a")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, dir)
	mustCase(t, db, ck, "b")
	rep, err := db.VerifyJournal(ctx)
	if err != nil || !rep.OK || rep.Entries != 2 {
		t.Errorf("after reopen: %+v %v", rep, err)
	}
}
