package workbench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"casegraph/graph"
	"casegraph/store"
)

// StaleError is a case change refused because someone changed the same
// field after the user began the change (graph.WithSeen): it names who
// changed what, and when.
type StaleError struct {
	CaseID, Case string // the case's id and name
	What         string // "the notes", "the name", "the tags", "the status", "a bookmark"
	By           string // who changed it last ("" if the journal does not say)
	At           time.Time
}

func (e *StaleError) Error() string {
	who := "someone"
	if e.By != "" {
		who = e.By
	}
	when := ""
	if !e.At.IsZero() {
		when = " at " + e.At.UTC().Format("15:04:05 UTC")
	}
	return fmt.Sprintf("not saved: %s changed %s of %q%s, after you opened it; look again and redo your change", who, e.What, e.Case, when)
}

func (e *StaleError) Is(target error) bool { return target == graph.ErrStale }

var staleWhat = map[string]string{
	store.ActCaseNotes:      "the notes",
	store.ActCaseRename:     "the name",
	store.ActCaseTags:       "the tags",
	store.ActCaseStatus:     "the status",
	store.ActBookmarkUpdate: "a bookmark",
}

// stale turns a graph.ErrStale from the store into a *StaleError that says
// who made the change the user did not see (the newest journal entry of
// the case with the same action, or an undo); other errors pass.
func (b *Workbench) stale(ctx context.Context, caseID, action string, err error) error {
	if !errors.Is(err, graph.ErrStale) {
		return err
	}
	se := &StaleError{CaseID: caseID, Case: caseID, What: staleWhat[action]}
	if c, cerr := b.db.Case(ctx, caseID); cerr == nil {
		se.CaseID, se.Case = c.ID, c.Name
	}
	if j, jerr := b.db.Journal(ctx, se.CaseID); jerr == nil {
		for i := len(j) - 1; i >= 0; i-- {
			if j[i].Action == action || j[i].Action == store.ActUndo {
				se.By, se.At = j[i].User, j[i].Time
				break
			}
		}
	}
	return se
}
