package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

// Cases are stored whole, one JSON graph.Case per key: a case holds tens to
// a few thousand bookmarks, so rewriting it per edit is cheap and makes every
// edit one atomic db.Update together with its journal entry and undo record.
//
// Layout:
//
//	[c][len uint16 BE][case id]  → case (JSON graph.Case)
//	[m]"undo"                    → the previous version of the last changed case (JSON undoRecord)
const (
	pfxCase  byte = 'c'
	metaUndo      = "undo"
)

// Case errors. Compare with errors.Is.
var (
	// ErrCaseExists means another case already has the name.
	ErrCaseExists = errors.New("a case with that name already exists")
	// ErrNothingToUndo means no case change is waiting to be undone.
	ErrNothingToUndo = errors.New("nothing to undo")
)

// caseKey: [c][len uint16 BE][id]
func caseKey(id string) []byte { return appendField([]byte{pfxCase}, id) }

func parseCaseKey(k []byte) (string, error) {
	if len(k) < 1 || k[0] != pfxCase {
		return "", fmt.Errorf("case key: wrong prefix")
	}
	id, rest, err := readField(k[1:])
	if err != nil {
		return "", fmt.Errorf("case key: %w", err)
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("case key: %d trailing bytes", len(rest))
	}
	return id, nil
}

func newID(prefix string) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make id: %w", err)
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

func getCase(txn *badger.Txn, id string) (graph.Case, error) {
	item, err := txn.Get(caseKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return graph.Case{}, ErrNotFound
	}
	if err != nil {
		return graph.Case{}, err
	}
	var c graph.Case
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &c) })
	if err != nil {
		return graph.Case{}, fmt.Errorf("decode case %s: %w", id, err)
	}
	return c, nil
}

// putCase writes the case record and returns its state for the journal.
func putCase(txn *badger.Txn, c graph.Case) (string, error) {
	v, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode case %s: %w", c.ID, err)
	}
	return caseState(v), txn.Set(caseKey(c.ID), v)
}

func allCases(ctx context.Context, txn *badger.Txn) ([]graph.Case, error) {
	var out []graph.Case
	err := scan(ctx, txn, []byte{pfxCase}, true, func(k, v []byte) error {
		var c graph.Case
		if err := json.Unmarshal(v, &c); err != nil {
			id, _ := parseCaseKey(k)
			return fmt.Errorf("decode case %s: %w", id, err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// findCase resolves a case id, else a case name (ignoring letter case).
func findCase(ctx context.Context, txn *badger.Txn, idOrName string) (graph.Case, error) {
	c, err := getCase(txn, idOrName)
	if !errors.Is(err, ErrNotFound) {
		return c, err
	}
	all, err := allCases(ctx, txn)
	if err != nil {
		return graph.Case{}, err
	}
	for _, c := range all {
		if strings.EqualFold(c.Name, strings.TrimSpace(idOrName)) {
			return c, nil
		}
	}
	return graph.Case{}, ErrNotFound
}

// nameTaken returns an error wrapping ErrCaseExists, naming the case by
// its name, when a case other than id is called name (ignoring letter case).
func nameTaken(ctx context.Context, txn *badger.Txn, name, id string) error {
	all, err := allCases(ctx, txn)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(all, func(c graph.Case) bool { return c.ID != id && strings.EqualFold(c.Name, name) }); i >= 0 {
		if all[i].Name == name {
			return fmt.Errorf("%q: %w", name, ErrCaseExists)
		}
		return fmt.Errorf("%q: %w (as %q)", name, ErrCaseExists, all[i].Name)
	}
	return nil
}

func cleanName(name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return "", fmt.Errorf("case name is empty")
	}
	return name, nil
}

// Cases returns every case, most recently updated first.
func (db *DB) Cases(ctx context.Context) ([]graph.Case, error) {
	var out []graph.Case
	err := db.view(ctx, func(txn *badger.Txn) error {
		var err error
		out, err = allCases(ctx, txn)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	slices.SortFunc(out, func(a, b graph.Case) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Case returns a case by id or name; an error wrapping ErrNotFound if none.
// It does not journal the read: callers that show a case to a person call
// ViewCase.
func (db *DB) Case(ctx context.Context, idOrName string) (graph.Case, error) {
	var c graph.Case
	err := db.view(ctx, func(txn *badger.Txn) error {
		var err error
		c, err = findCase(ctx, txn, idOrName)
		return err
	})
	if err != nil {
		return graph.Case{}, fmt.Errorf("read case %q: %w", idOrName, err)
	}
	return c, nil
}

// ViewCase returns a case like Case and journals that act.User viewed it.
func (db *DB) ViewCase(ctx context.Context, act Actor, idOrName string) (graph.Case, error) {
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	var c graph.Case
	err := db.update(ctx, func(txn *badger.Txn) error {
		var err error
		if c, err = findCase(ctx, txn, idOrName); err != nil {
			return err
		}
		_, err = db.appendJournal(txn, act, ActCaseView, c.ID, nil)
		return err
	})
	if err != nil {
		return graph.Case{}, fmt.Errorf("view case %q: %w", idOrName, err)
	}
	return c, db.sync()
}

func (db *DB) update(ctx context.Context, fn func(txn *badger.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bdb.Update(fn)
}

// CreateCase makes a new open case. Names are unique, ignoring letter case.
func (db *DB) CreateCase(ctx context.Context, act Actor, name string) (graph.Case, error) {
	name, err := cleanName(name)
	if err != nil {
		return graph.Case{}, err
	}
	id, err := newID("c-")
	if err != nil {
		return graph.Case{}, err
	}
	now := act.Time.UTC()
	c := graph.Case{ID: id, Name: name, Status: graph.CaseOpen, Created: now, Updated: now, Bookmarks: []graph.Bookmark{}}
	err = db.commitCase(ctx, act, "", ActCaseCreate, func(txn *badger.Txn, old *graph.Case) (*graph.Case, any, error) {
		if err := nameTaken(ctx, txn, name, ""); err != nil {
			return nil, nil, err
		}
		return &c, map[string]string{"name": name}, nil
	})
	if err != nil {
		return graph.Case{}, fmt.Errorf("create case %q: %w", name, err)
	}
	return c, nil
}

// commitCase runs one case change as a single transaction: it loads the case
// (old is nil when idOrName is empty), lets change return the new version (nil
// deletes the case) and a journal detail, writes the case, the undo record
// holding the old version and the journal entry, and syncs to disk.
func (db *DB) commitCase(ctx context.Context, act Actor, idOrName, action string,
	change func(txn *badger.Txn, old *graph.Case) (*graph.Case, any, error)) error {
	find := func(txn *badger.Txn) (*graph.Case, error) {
		if idOrName == "" {
			return nil, nil
		}
		c, err := findCase(ctx, txn, idOrName)
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
	return db.commitCaseWith(ctx, act, find, action, change)
}

// commitCaseWith is commitCase with the lookup of the old version supplied
// by the caller (a nil case means there is none). A closed or referred case
// is read-only: every change but one of its status is refused with
// ErrCaseReadOnly.
func (db *DB) commitCaseWith(ctx context.Context, act Actor, find func(txn *badger.Txn) (*graph.Case, error), action string,
	change func(txn *badger.Txn, old *graph.Case) (*graph.Case, any, error)) error {
	return db.commitCases(ctx, act, action, func(txn *badger.Txn) ([]caseWrite, string, error) {
		old, err := find(txn)
		if err != nil {
			return nil, "", err
		}
		if old != nil && action != ActCaseStatus {
			if err := writable(*old); err != nil {
				return nil, "", err
			}
		}
		var before *graph.Case
		if old != nil {
			b := old.Clone()
			before = &b
		}
		next, detail, err := change(txn, old)
		if err != nil {
			return nil, "", err
		}
		w := caseWrite{Before: before, Next: next, Detail: detail}
		return []caseWrite{w}, describeChange(action, w), nil
	})
}

// caseWrite is one case a change writes: Before is the stored version (nil
// when the change creates the case), Next the new one (nil deletes it), and
// Detail the journal detail of its entry.
type caseWrite struct {
	Before, Next *graph.Case
	Detail       any
}

func (w caseWrite) id() string {
	if w.Next != nil {
		return w.Next.ID
	}
	if w.Before != nil {
		return w.Before.ID
	}
	return ""
}

// commitCases runs one change of one or more cases as a single
// transaction: change returns the cases it writes, the first the one the
// change is about, and what it does in words ("deleted bookmark … from
// …"); each is written (or deleted) with its own journal entry and state,
// one undo record holds every old version and the words, and the whole is
// synced to disk.
func (db *DB) commitCases(ctx context.Context, act Actor, action string, change func(txn *badger.Txn) ([]caseWrite, string, error)) error {
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	err := db.update(ctx, func(txn *badger.Txn) error {
		writes, what, err := change(txn)
		if err != nil {
			return err
		}
		var u undoRecord
		for i, w := range writes {
			id, state := w.id(), ""
			switch {
			case w.Next != nil:
				if w.Next.Bookmarks == nil {
					w.Next.Bookmarks = []graph.Bookmark{}
				}
				if w.Before != nil {
					w.Next.Updated = act.Time.UTC()
				}
				if state, err = putCase(txn, *w.Next); err != nil {
					return err
				}
			case w.Before != nil:
				state = stateDeleted
				if err := txn.Delete(caseKey(id)); err != nil {
					return fmt.Errorf("delete case %s: %w", id, err)
				}
			}
			e, err := db.appendJournalState(txn, act, action, id, state, w.Detail)
			if err != nil {
				return err
			}
			if i == 0 {
				u = undoRecord{Seq: e.Seq, Action: action, CaseID: id, Before: w.Before, What: what}
			} else {
				u.Others = append(u.Others, undoCase{ID: id, Before: w.Before})
			}
		}
		if len(writes) == 0 {
			return nil
		}
		return pushUndo(ctx, txn, u)
	})
	if err != nil {
		return err
	}
	return db.sync()
}

// ErrCaseReadOnly means the case is closed or referred: only its status
// may change (reopening it makes it editable again).
var ErrCaseReadOnly = errors.New("the case is read-only")

// writable refuses changes to a closed or referred case.
func writable(c graph.Case) error {
	if c.Status == graph.CaseOpen || c.Status == "" {
		return nil
	}
	return fmt.Errorf("case %q is %s: %w (reopen it to change it)", c.Name, c.Status, ErrCaseReadOnly)
}

// checkSeen refuses a change begun on a field that held something other
// than it holds now (graph.WithSeen); without a seen value in ctx it
// allows the change.
func checkSeen(ctx context.Context, now string) error {
	if seen, ok := graph.Seen(ctx); ok && seen != now {
		return graph.ErrStale
	}
	return nil
}

// editCase applies fn to a loaded case and commits it.
func (db *DB) editCase(ctx context.Context, act Actor, idOrName, action string, fn func(c *graph.Case) (any, error)) (graph.Case, error) {
	var out graph.Case
	err := db.commitCase(ctx, act, idOrName, action, func(_ *badger.Txn, old *graph.Case) (*graph.Case, any, error) {
		c := old.Clone()
		detail, err := fn(&c)
		if err != nil {
			return nil, nil, err
		}
		out = c
		return &c, detail, nil
	})
	return out, err
}

// RenameCase gives a case a new, unique name.
func (db *DB) RenameCase(ctx context.Context, act Actor, idOrName, newName string) (graph.Case, error) {
	name, err := cleanName(newName)
	if err != nil {
		return graph.Case{}, err
	}
	var out graph.Case
	err = db.commitCase(ctx, act, idOrName, ActCaseRename, func(txn *badger.Txn, old *graph.Case) (*graph.Case, any, error) {
		if err := nameTaken(ctx, txn, name, old.ID); err != nil {
			return nil, nil, err
		}
		if err := checkSeen(ctx, old.Name); err != nil {
			return nil, nil, err
		}
		c := old.Clone()
		detail := map[string]string{"from": c.Name, "to": name}
		c.Name = name
		out = c
		return &c, detail, nil
	})
	if err != nil {
		return graph.Case{}, fmt.Errorf("rename case %s: %w", db.caseLabel(idOrName), err)
	}
	return out, nil
}

// SetCaseStatus moves a case to open, referred or closed.
func (db *DB) SetCaseStatus(ctx context.Context, act Actor, idOrName string, st graph.CaseStatus) (graph.Case, error) {
	if _, err := graph.ParseCaseStatus(string(st)); err != nil {
		return graph.Case{}, err
	}
	c, err := db.editCase(ctx, act, idOrName, ActCaseStatus, func(c *graph.Case) (any, error) {
		if err := checkSeen(ctx, string(c.Status)); err != nil {
			return nil, err
		}
		detail := map[string]string{"from": string(c.Status), "to": string(st)}
		c.Status = st
		return detail, nil
	})
	if err != nil {
		return graph.Case{}, fmt.Errorf("set status of case %s: %w", db.caseLabel(idOrName), err)
	}
	return c, nil
}

// SetCaseNotes replaces the case's own notes.
func (db *DB) SetCaseNotes(ctx context.Context, act Actor, idOrName, notes string) (graph.Case, error) {
	c, err := db.editCase(ctx, act, idOrName, ActCaseNotes, func(c *graph.Case) (any, error) {
		if err := checkSeen(ctx, c.Notes); err != nil {
			return nil, err
		}
		c.Notes = notes
		return map[string]string{"notes": notes}, nil
	})
	if err != nil {
		return graph.Case{}, fmt.Errorf("set notes of case %s: %w", db.caseLabel(idOrName), err)
	}
	return c, nil
}

// SetCaseTags replaces the case's own tags (normalised by graph.NormalizeTags).
func (db *DB) SetCaseTags(ctx context.Context, act Actor, idOrName string, tags []string) (graph.Case, error) {
	tags = graph.NormalizeTags(tags)
	c, err := db.editCase(ctx, act, idOrName, ActCaseTags, func(c *graph.Case) (any, error) {
		if err := checkSeen(ctx, graph.SeenTags(c.Tags)); err != nil {
			return nil, err
		}
		c.Tags = tags
		return map[string][]string{"tags": tags}, nil
	})
	if err != nil {
		return graph.Case{}, fmt.Errorf("set tags of case %s: %w", db.caseLabel(idOrName), err)
	}
	return c, nil
}

// SaveQuery keeps a query with the case; a query of the same name is replaced.
func (db *DB) SaveQuery(ctx context.Context, act Actor, idOrName string, q graph.SavedQuery) (graph.Case, error) {
	if strings.TrimSpace(q.Name) == "" || strings.TrimSpace(q.Query) == "" {
		return graph.Case{}, fmt.Errorf("save query: name and query are required")
	}
	if q.Created.IsZero() {
		q.Created = act.Time.UTC()
	}
	c, err := db.editCase(ctx, act, idOrName, ActQuerySave, func(c *graph.Case) (any, error) {
		i := slices.IndexFunc(c.Queries, func(o graph.SavedQuery) bool { return o.Name == q.Name })
		if i >= 0 {
			c.Queries[i] = q
		} else {
			c.Queries = append(c.Queries, q)
		}
		return q, nil
	})
	if err != nil {
		return graph.Case{}, fmt.Errorf("save query in case %s: %w", db.caseLabel(idOrName), err)
	}
	return c, nil
}

// DeleteCase removes a case and its bookmarks (UndoLast brings it back).
func (db *DB) DeleteCase(ctx context.Context, act Actor, idOrName string) error {
	err := db.commitCase(ctx, act, idOrName, ActCaseDelete, func(_ *badger.Txn, old *graph.Case) (*graph.Case, any, error) {
		return nil, map[string]any{"name": old.Name, "bookmarks": len(old.Bookmarks)}, nil
	})
	if err != nil {
		return fmt.Errorf("delete case %s: %w", db.caseLabel(idOrName), err)
	}
	return nil
}

// caseLabel names a case in an error by its quoted name: callers pass ids
// (the TUI, the server) or names (the CLI), and a person reads the error.
// A case that cannot be read is named by what was given.
func (db *DB) caseLabel(idOrName string) string {
	var name string
	err := db.bdb.View(func(txn *badger.Txn) error {
		c, err := findCase(context.Background(), txn, idOrName)
		name = c.Name
		return err
	})
	if err != nil || name == "" {
		return fmt.Sprintf("%q", idOrName)
	}
	return fmt.Sprintf("%q", name)
}
