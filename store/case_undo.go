package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// Undo is a stack: every case change pushes a record of what it replaced
// (one record per change, holding every case the change touched) and each
// UndoLast pops the newest, so undo goes back step by step. Each undo is
// journalled. The stack keeps the last undoDepth changes; older ones can no
// longer be undone (the journal still records them).
//
// Layout:
//
//	[m]"undo/"[seq, 16 hex digits] → undoRecord of the change journalled as seq
//	[m]"undo"                      → the single record databases written before the stack kept
const (
	metaUndoStack = "undo/"
	undoDepth     = 50
)

// undoCase is one case a change touched, as it was before the change (nil
// when the change created it).
type undoCase struct {
	ID     string      `json:"id"`
	Before *graph.Case `json:"before"`
}

// undoRecord keeps what one change replaced. Before is nil when the change
// created the case (undo deletes it); Others are the further cases a change
// of several cases touched (a move between cases, a merge).
type undoRecord struct {
	Seq    uint64      `json:"seq"` // journal entry of the change
	Action string      `json:"action"`
	CaseID string      `json:"case_id"`
	Before *graph.Case `json:"before"`
	Others []undoCase  `json:"others,omitempty"`
	What   string      `json:"what,omitempty"` // what the change did, for "undid …"
}

// Undo describes a change UndoLast reverts.
type Undo struct {
	Seq    uint64 // journal sequence number of the change
	Action string // its journal action, e.g. "bookmark.delete"
	CaseID string
	// What the change did, e.g. `deleted bookmark card:… from "Ring"`;
	// empty for a change recorded before descriptions were kept.
	What string
	// Left is how many earlier changes can still be undone after this one.
	Left int
}

func undoStackKey(seq uint64) []byte { return metaKey(fmt.Sprintf("%s%016x", metaUndoStack, seq)) }

// undoKeys returns the keys of the undo stack, oldest first, the legacy
// single record first of all when there is one.
func undoKeys(ctx context.Context, txn *badger.Txn) ([][]byte, error) {
	var keys [][]byte
	if _, err := txn.Get(metaKey(metaUndo)); err == nil {
		keys = append(keys, metaKey(metaUndo))
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return nil, err
	}
	err := scan(ctx, txn, metaKey(metaUndoStack), false, func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	return keys, err
}

func readUndo(txn *badger.Txn, key []byte) (undoRecord, error) {
	var u undoRecord
	item, err := txn.Get(key)
	if err != nil {
		return u, err
	}
	if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &u) }); err != nil {
		return u, fmt.Errorf("decode undo record: %w", err)
	}
	return u, nil
}

// pushUndo adds u to the stack and drops the oldest records past undoDepth.
func pushUndo(ctx context.Context, txn *badger.Txn, u undoRecord) error {
	v, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode undo record: %w", err)
	}
	if err := txn.Set(undoStackKey(u.Seq), v); err != nil {
		return err
	}
	keys, err := undoKeys(ctx, txn)
	if err != nil {
		return err
	}
	for len(keys) > undoDepth {
		if err := txn.Delete(keys[0]); err != nil {
			return err
		}
		keys = keys[1:]
	}
	return nil
}

// topUndo returns the newest record of the stack, its key and how many
// records lie under it; ErrNothingToUndo when the stack is empty.
func topUndo(ctx context.Context, txn *badger.Txn) (undoRecord, []byte, int, error) {
	keys, err := undoKeys(ctx, txn)
	if err != nil {
		return undoRecord{}, nil, 0, err
	}
	if len(keys) == 0 {
		return undoRecord{}, nil, 0, ErrNothingToUndo
	}
	k := keys[len(keys)-1]
	u, err := readUndo(txn, k)
	return u, k, len(keys) - 1, err
}

// PendingUndo returns the change UndoLast would revert, if any.
func (db *DB) PendingUndo(ctx context.Context) (Undo, bool, error) {
	var out Undo
	ok := false
	err := db.view(ctx, func(txn *badger.Txn) error {
		u, _, left, err := topUndo(ctx, txn)
		if errors.Is(err, ErrNothingToUndo) {
			return nil
		}
		if err != nil {
			return err
		}
		out, ok = Undo{Seq: u.Seq, Action: u.Action, CaseID: u.CaseID, What: u.What, Left: left}, true
		return nil
	})
	if err != nil {
		return Undo{}, false, fmt.Errorf("read undo record: %w", err)
	}
	return out, ok, nil
}

// UndoLast reverts the newest case change still on the undo stack: it
// writes back every case it touched as it was before (deleting a case the
// change created), journals the undo for each and pops the record, so the
// next UndoLast reverts the change before it. ErrNothingToUndo when none
// is left.
func (db *DB) UndoLast(ctx context.Context, act Actor) (Undo, error) {
	return db.UndoSeq(ctx, act, 0)
}

// ErrUndoMoved means the change an undo was meant to revert is no longer the
// last one: someone changed a case in between.
var ErrUndoMoved = errors.New("the last change is no longer the one to undo")

// UndoSeq is UndoLast that reverts only the change journalled as seq (0:
// whichever is newest), else ErrUndoMoved; a team server checks who made
// the change before it lets a session undo it.
func (db *DB) UndoSeq(ctx context.Context, act Actor, seq uint64) (Undo, error) {
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	var done Undo
	err := db.update(ctx, func(txn *badger.Txn) error {
		u, key, left, err := topUndo(ctx, txn)
		if err != nil {
			return err
		}
		if seq != 0 && u.Seq != seq {
			return ErrUndoMoved
		}
		cases := append([]undoCase{{ID: u.CaseID, Before: u.Before}}, u.Others...)
		if u.Action != ActCaseStatus {
			// A change of a case closed or referred since stays: reopen it first.
			for _, uc := range cases {
				if c, err := getCase(txn, uc.ID); err == nil {
					if err := writable(c); err != nil {
						return err
					}
				}
			}
		}
		for i, uc := range cases {
			state := stateDeleted
			if uc.Before != nil {
				if state, err = putCase(txn, *uc.Before); err != nil {
					return err
				}
			} else if err := txn.Delete(caseKey(uc.ID)); err != nil {
				return fmt.Errorf("delete case %s: %w", uc.ID, err)
			}
			detail := map[string]any{"undone_seq": u.Seq, "undone_action": u.Action}
			if i == 0 && u.What != "" {
				detail["undone"] = u.What
			}
			if _, err := db.appendJournalState(txn, act, ActUndo, uc.ID, state, detail); err != nil {
				return err
			}
		}
		done = Undo{Seq: u.Seq, Action: u.Action, CaseID: u.CaseID, What: u.What, Left: left}
		return txn.Delete(key)
	})
	if err != nil {
		return Undo{}, fmt.Errorf("undo: %w", err)
	}
	return done, db.sync()
}
