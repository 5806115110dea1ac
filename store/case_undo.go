package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// undoRecord keeps what the last change replaced. Before is nil when the
// change created the case (undo deletes it).
type undoRecord struct {
	Seq    uint64      `json:"seq"` // journal entry of the change
	Action string      `json:"action"`
	CaseID string      `json:"case_id"`
	Before *graph.Case `json:"before"`
}

// Undo describes the change UndoLast would revert.
type Undo struct {
	Seq    uint64 // journal sequence number of the change
	Action string // its journal action, e.g. "bookmark.delete"
	CaseID string
}

// PendingUndo returns the change UndoLast would revert, if any.
func (db *DB) PendingUndo(ctx context.Context) (Undo, bool, error) {
	var u undoRecord
	v, err := db.getValue(metaKey(metaUndo))
	if errors.Is(err, ErrNotFound) || (err == nil && len(v) == 0) {
		return Undo{}, false, nil
	}
	if err != nil {
		return Undo{}, false, fmt.Errorf("read undo record: %w", err)
	}
	if err := json.Unmarshal(v, &u); err != nil {
		return Undo{}, false, fmt.Errorf("decode undo record: %w", err)
	}
	return Undo{Seq: u.Seq, Action: u.Action, CaseID: u.CaseID}, true, nil
}

// UndoLast reverts the last case change: it writes back the version of the
// case from before it (or deletes a case the change created), journals the
// undo and forgets the record, so a second UndoLast returns ErrNothingToUndo.
func (db *DB) UndoLast(ctx context.Context, act Actor) (Undo, error) {
	return db.UndoSeq(ctx, act, 0)
}

// ErrUndoMoved means the change an undo was meant to revert is no longer the
// last one: someone changed a case in between.
var ErrUndoMoved = errors.New("the last change is no longer the one to undo")

// UndoSeq is UndoLast that reverts only the change journalled as seq (0:
// whichever is pending), else ErrUndoMoved; a team server checks who made
// the change before it lets a session undo it.
func (db *DB) UndoSeq(ctx context.Context, act Actor, seq uint64) (Undo, error) {
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	var done Undo
	err := db.update(ctx, func(txn *badger.Txn) error {
		item, err := txn.Get(metaKey(metaUndo))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNothingToUndo
		}
		if err != nil {
			return err
		}
		var u undoRecord
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &u) }); err != nil {
			return fmt.Errorf("decode undo record: %w", err)
		}
		if seq != 0 && u.Seq != seq {
			return ErrUndoMoved
		}
		state := stateDeleted
		if u.Before != nil {
			if state, err = putCase(txn, *u.Before); err != nil {
				return err
			}
		} else if err := txn.Delete(caseKey(u.CaseID)); err != nil {
			return fmt.Errorf("delete case %s: %w", u.CaseID, err)
		}
		done = Undo{Seq: u.Seq, Action: u.Action, CaseID: u.CaseID}
		if _, err := db.appendJournalState(txn, act, ActUndo, u.CaseID, state, map[string]any{"undone_seq": u.Seq, "undone_action": u.Action}); err != nil {
			return err
		}
		return txn.Delete(metaKey(metaUndo))
	})
	if err != nil {
		return Undo{}, fmt.Errorf("undo: %w", err)
	}
	return done, db.sync()
}
