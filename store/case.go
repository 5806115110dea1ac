package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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

// nameTaken reports whether a case other than id is called name.
func nameTaken(ctx context.Context, txn *badger.Txn, name, id string) (bool, error) {
	all, err := allCases(ctx, txn)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(all, func(c graph.Case) bool {
		return c.ID != id && strings.EqualFold(c.Name, name)
	}), nil
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
		taken, err := nameTaken(ctx, txn, name, "")
		if err != nil {
			return nil, nil, err
		}
		if taken {
			return nil, nil, fmt.Errorf("%q: %w", name, ErrCaseExists)
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
// by the caller (a nil case means there is none).
func (db *DB) commitCaseWith(ctx context.Context, act Actor, find func(txn *badger.Txn) (*graph.Case, error), action string,
	change func(txn *badger.Txn, old *graph.Case) (*graph.Case, any, error)) error {
	db.caseMu.Lock()
	defer db.caseMu.Unlock()
	err := db.update(ctx, func(txn *badger.Txn) error {
		old, err := find(txn)
		if err != nil {
			return err
		}
		var before *graph.Case
		if old != nil {
			b := old.Clone()
			before = &b
		}
		next, detail, err := change(txn, old)
		if err != nil {
			return err
		}
		id, state := "", ""
		switch {
		case next != nil:
			id = next.ID
			if next.Bookmarks == nil {
				next.Bookmarks = []graph.Bookmark{}
			}
			if old != nil {
				next.Updated = act.Time.UTC()
			}
			if state, err = putCase(txn, *next); err != nil {
				return err
			}
		case old != nil:
			id, state = old.ID, stateDeleted
			if err := txn.Delete(caseKey(old.ID)); err != nil {
				return fmt.Errorf("delete case %s: %w", old.ID, err)
			}
		}
		e, err := db.appendJournalState(txn, act, action, id, state, detail)
		if err != nil {
			return err
		}
		u, err := json.Marshal(undoRecord{Seq: e.Seq, Action: action, CaseID: id, Before: before})
		if err != nil {
			return fmt.Errorf("encode undo record: %w", err)
		}
		return txn.Set(metaKey(metaUndo), u)
	})
	if err != nil {
		return err
	}
	return db.sync()
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
		taken, err := nameTaken(ctx, txn, name, old.ID)
		if err != nil {
			return nil, nil, err
		}
		if taken {
			return nil, nil, fmt.Errorf("%q: %w", name, ErrCaseExists)
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
		return graph.Case{}, fmt.Errorf("rename case %q: %w", idOrName, err)
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
		return graph.Case{}, fmt.Errorf("set status of case %q: %w", idOrName, err)
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
		return graph.Case{}, fmt.Errorf("set notes of case %q: %w", idOrName, err)
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
		return graph.Case{}, fmt.Errorf("set tags of case %q: %w", idOrName, err)
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
		return graph.Case{}, fmt.Errorf("save query in case %q: %w", idOrName, err)
	}
	return c, nil
}

// DeleteCase removes a case and its bookmarks (UndoLast brings it back).
func (db *DB) DeleteCase(ctx context.Context, act Actor, idOrName string) error {
	err := db.commitCase(ctx, act, idOrName, ActCaseDelete, func(_ *badger.Txn, old *graph.Case) (*graph.Case, any, error) {
		return nil, map[string]any{"name": old.Name, "bookmarks": len(old.Bookmarks)}, nil
	})
	if err != nil {
		return fmt.Errorf("delete case %q: %w", idOrName, err)
	}
	return nil
}

// bookmarkDetail is the journal detail of a bookmark change.
type bookmarkDetail struct {
	Bookmark string   `json:"bookmark"`
	Target   string   `json:"target"`
	Tags     []string `json:"tags,omitempty"`
	Note     string   `json:"note,omitempty"`
}

func detailOf(b graph.Bookmark) bookmarkDetail {
	return bookmarkDetail{Bookmark: b.ID, Target: b.Target.Key(), Tags: b.Tags, Note: b.Note}
}

// AddBookmark adds b to a case and returns it with its id and times set. If
// the case already has a bookmark on the same target, that one gains b's tags
// and note instead (added is false): a case never lists a target twice.
func (db *DB) AddBookmark(ctx context.Context, act Actor, idOrName string, b graph.Bookmark) (_ graph.Bookmark, added bool, _ error) {
	if err := b.Target.Validate(); err != nil {
		return graph.Bookmark{}, false, fmt.Errorf("add bookmark: %w", err)
	}
	id, err := newID("b-")
	if err != nil {
		return graph.Bookmark{}, false, err
	}
	now := act.Time.UTC()
	var out graph.Bookmark
	err = db.commitCase(ctx, act, idOrName, ActBookmarkAdd, func(_ *badger.Txn, old *graph.Case) (*graph.Case, any, error) {
		c := old.Clone()
		key := b.Target.Key()
		if i := slices.IndexFunc(c.Bookmarks, func(o graph.Bookmark) bool { return o.Target.Key() == key }); i >= 0 {
			ex := &c.Bookmarks[i]
			ex.Tags = graph.NormalizeTags(append(ex.Tags, b.Tags...))
			if n := strings.TrimSpace(b.Note); n != "" && !strings.Contains(ex.Note, n) {
				if ex.Note != "" {
					ex.Note = strings.TrimRight(ex.Note, "\n") + "\n\n"
				}
				ex.Note += b.Note
			}
			ex.Updated = now
			out = *ex
			d := detailOf(out)
			return &c, struct {
				bookmarkDetail
				Existing bool `json:"existing"`
			}{d, true}, nil
		}
		nb := b
		nb.ID = id
		for slices.ContainsFunc(c.Bookmarks, func(o graph.Bookmark) bool { return o.ID == nb.ID }) {
			again, err := newID("b-")
			if err != nil {
				return nil, nil, err
			}
			nb.ID = again
		}
		nb.Tags = graph.NormalizeTags(b.Tags)
		nb.Target.Refs = slices.Clone(b.Target.Refs)
		if nb.Created.IsZero() {
			nb.Created = now
		}
		nb.Updated = now
		c.Bookmarks = append(c.Bookmarks, nb)
		out, added = nb, true
		return &c, detailOf(nb), nil
	})
	if err != nil {
		return graph.Bookmark{}, false, fmt.Errorf("add bookmark to case %q: %w", idOrName, err)
	}
	return out, added, nil
}

// BookmarkEdit changes a bookmark: a nil field is left as it is.
type BookmarkEdit struct {
	Tags    *[]string // replace the tags
	AddTags []string  // add these tags
	Note    *string   // replace the note
}

// UpdateBookmark re-tags or re-notes a bookmark.
func (db *DB) UpdateBookmark(ctx context.Context, act Actor, idOrName, bookmarkID string, ed BookmarkEdit) (graph.Bookmark, error) {
	var out graph.Bookmark
	_, err := db.editCase(ctx, act, idOrName, ActBookmarkUpdate, func(c *graph.Case) (any, error) {
		b, ok := c.Bookmark(bookmarkID)
		if !ok {
			return nil, fmt.Errorf("bookmark %s: %w", bookmarkID, ErrNotFound)
		}
		if err := checkSeen(ctx, graph.SeenBookmark(*b)); err != nil {
			return nil, err
		}
		if ed.Tags != nil {
			b.Tags = graph.NormalizeTags(*ed.Tags)
		}
		if len(ed.AddTags) > 0 {
			b.Tags = graph.NormalizeTags(append(b.Tags, ed.AddTags...))
		}
		if ed.Note != nil {
			b.Note = *ed.Note
		}
		b.Updated = act.Time.UTC()
		out = *b
		return detailOf(*b), nil
	})
	if err != nil {
		return graph.Bookmark{}, fmt.Errorf("update bookmark in case %q: %w", idOrName, err)
	}
	return out, nil
}

// DeleteBookmark removes a bookmark from a case.
func (db *DB) DeleteBookmark(ctx context.Context, act Actor, idOrName, bookmarkID string) error {
	_, err := db.editCase(ctx, act, idOrName, ActBookmarkDelete, func(c *graph.Case) (any, error) {
		i := slices.IndexFunc(c.Bookmarks, func(o graph.Bookmark) bool { return o.ID == bookmarkID })
		if i < 0 {
			return nil, fmt.Errorf("bookmark %s: %w", bookmarkID, ErrNotFound)
		}
		d := detailOf(c.Bookmarks[i])
		c.Bookmarks = slices.Delete(c.Bookmarks, i, i+1)
		return d, nil
	})
	if err != nil {
		return fmt.Errorf("delete bookmark from case %q: %w", idOrName, err)
	}
	return nil
}

// ImportResult says what ImportCase did.
type ImportResult struct {
	Case     graph.Case
	Created  bool   // always true: an imported case is a new case
	Added    int    // bookmarks added
	Changed  int    // duplicate bookmarks (same target) folded into the first
	SourceID string // the case id the folder carried (recorded, never used as a key)
}

// ImportSource says where an imported case came from; it is journalled.
type ImportSource struct {
	Folder         string // the folder as given
	ManifestSHA256 string // hex SHA-256 of the folder's manifest.json
}

// ErrAlreadyImported means a folder with the same manifest was imported
// before and that case still exists.
var ErrAlreadyImported = errors.New("this case folder was already imported")

// importCheckEvery is how many bookmarks ImportCase builds between checks of
// its context.
const importCheckEvery = 1024

// ImportCase adds a colleague's case (a case.json read from a verified case
// folder) as a new case under a new id. Nothing in the file chooses which
// local case it touches: its id is only recorded (journal detail
// "source_id", with the folder's manifest hash), its name gets a suffix when
// a local case already has it, and its creation time is the import's. A
// bookmark whose target appears twice is folded into the first (its tags
// and note merged). The build is linear in the bookmarks and checks ctx as
// it goes; the case is then one record written in one transaction with its
// journal entry, so a cancelled import writes nothing. A folder whose
// manifest hash a journalled import of a still existing case carries is
// refused with ErrAlreadyImported.
func (db *DB) ImportCase(ctx context.Context, act Actor, in graph.Case, src ImportSource) (ImportResult, error) {
	name, err := cleanName(in.Name)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import case: %w", err)
	}
	if _, err := graph.ParseCaseStatus(string(in.Status)); err != nil {
		in.Status = graph.CaseOpen
	}
	id, err := newID("c-")
	if err != nil {
		return ImportResult{}, err
	}
	now := act.Time.UTC()
	c := graph.Case{ID: id, Name: name, Status: in.Status, Notes: in.Notes, Tags: graph.NormalizeTags(slices.Clone(in.Tags)),
		Created: now, Updated: now, Bookmarks: make([]graph.Bookmark, 0, len(in.Bookmarks))}
	for _, q := range in.Queries {
		if !slices.ContainsFunc(c.Queries, func(o graph.SavedQuery) bool { return o.Name == q.Name }) {
			c.Queries = append(c.Queries, q)
		}
	}
	byTarget := make(map[string]int, len(in.Bookmarks))
	ids := make(map[string]bool, len(in.Bookmarks))
	changed := 0
	for i, b := range in.Bookmarks {
		if i%importCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return ImportResult{}, fmt.Errorf("import case %q: %w", name, err)
			}
		}
		if err := b.Target.Validate(); err != nil {
			return ImportResult{}, fmt.Errorf("import case %q: bookmark %d: %w", name, i+1, err)
		}
		key := b.Target.Key()
		if j, ok := byTarget[key]; ok {
			ex := &c.Bookmarks[j]
			tags := graph.NormalizeTags(append(slices.Clone(ex.Tags), b.Tags...))
			note := ex.Note
			if n := strings.TrimSpace(b.Note); n != "" && !strings.Contains(note, n) {
				note = joinNoteText(note, b.Note)
			}
			if !slices.Equal(tags, ex.Tags) || note != ex.Note {
				ex.Tags, ex.Note = tags, note
				changed++
			}
			continue
		}
		nb := b
		nb.Tags = graph.NormalizeTags(slices.Clone(b.Tags))
		nb.Target.Refs = slices.Clone(b.Target.Refs)
		if nb.ID == "" || ids[nb.ID] {
			for {
				if nb.ID, err = newID("b-"); err != nil {
					return ImportResult{}, err
				}
				if !ids[nb.ID] {
					break
				}
			}
		}
		ids[nb.ID] = true
		if nb.Created.IsZero() || nb.Created.After(now) {
			nb.Created = now
		}
		if nb.Updated.IsZero() || nb.Updated.After(now) || nb.Updated.Before(nb.Created) {
			nb.Updated = nb.Created
		}
		byTarget[key] = len(c.Bookmarks)
		c.Bookmarks = append(c.Bookmarks, nb)
	}
	if err := ctx.Err(); err != nil {
		return ImportResult{}, fmt.Errorf("import case %q: %w", name, err)
	}
	res := ImportResult{Created: true, Added: len(c.Bookmarks), Changed: changed, SourceID: in.ID}
	none := func(*badger.Txn) (*graph.Case, error) { return nil, nil }
	err = db.commitCaseWith(ctx, act, none, ActCaseImport, func(txn *badger.Txn, _ *graph.Case) (*graph.Case, any, error) {
		if src.ManifestSHA256 != "" {
			if prev, ok, err := importedBefore(ctx, txn, src.ManifestSHA256); err != nil {
				return nil, nil, err
			} else if ok {
				return nil, nil, fmt.Errorf("as case %s: %w", prev, ErrAlreadyImported)
			}
		}
		if _, err := getCase(txn, c.ID); err == nil {
			return nil, nil, fmt.Errorf("case id %s: %w", c.ID, ErrCaseExists)
		}
		unique, err := freeName(ctx, txn, name, now)
		if err != nil {
			return nil, nil, err
		}
		c.Name = unique
		res.Case = c
		detail := map[string]any{"name": unique, "source_name": name, "source_id": in.ID, "added": res.Added,
			"folded": changed, "manifest_sha256": src.ManifestSHA256, "folder": src.Folder}
		return &c, detail, nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import case %q: %w", name, err)
	}
	return res, nil
}

func joinNoteText(a, b string) string {
	if strings.TrimSpace(a) == "" {
		return b
	}
	return strings.TrimRight(a, "\n") + "\n\n" + b
}

// freeName returns name, or name with " (imported DATE)" and then a number
// when a case already has it.
func freeName(ctx context.Context, txn *badger.Txn, name string, now time.Time) (string, error) {
	all, err := allCases(ctx, txn)
	if err != nil {
		return "", err
	}
	taken := make(map[string]bool, len(all))
	for _, c := range all {
		taken[strings.ToLower(c.Name)] = true
	}
	if !taken[strings.ToLower(name)] {
		return name, nil
	}
	base := fmt.Sprintf("%s (imported %s)", name, now.Format("2006-01-02"))
	cand := base
	for n := 2; taken[strings.ToLower(cand)]; n++ {
		cand = fmt.Sprintf("%s %d", base, n)
	}
	return cand, nil
}

// importedBefore finds a journalled import of the manifest whose case still
// exists.
func importedBefore(ctx context.Context, txn *badger.Txn, manifest string) (string, bool, error) {
	var found []string
	err := scan(ctx, txn, []byte{pfxJournal}, true, func(_, v []byte) error {
		if !bytes.Contains(v, []byte(manifest)) {
			return nil
		}
		var e JournalEntry
		if err := json.Unmarshal(v, &e); err != nil || e.Action != ActCaseImport {
			return nil
		}
		var d struct {
			Manifest string `json:"manifest_sha256"`
		}
		if json.Unmarshal(e.Detail, &d) == nil && d.Manifest == manifest {
			found = append(found, e.CaseID)
		}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	for _, id := range found {
		if _, err := getCase(txn, id); err == nil {
			return id, true, nil
		}
	}
	return "", false, nil
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
