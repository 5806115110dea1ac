package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"casegraph/graph"
)

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
