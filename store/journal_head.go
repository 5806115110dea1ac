package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

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
