package graph

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Cases are named workspaces of an investigation. They are pure values here;
// the store persists them (with a journal of every change) and the export
// package writes one as case.json, which is the JSON form of Case below.

// CaseStatus is where a case stands.
type CaseStatus string

// Case statuses.
const (
	CaseOpen     CaseStatus = "open"
	CaseReferred CaseStatus = "referred" // handed to law enforcement or a prosecutor
	CaseClosed   CaseStatus = "closed"
)

// CaseStatuses lists the statuses in workflow order.
var CaseStatuses = []CaseStatus{CaseOpen, CaseReferred, CaseClosed}

// ParseCaseStatus parses "open", "referred" or "closed" (any case).
func ParseCaseStatus(s string) (CaseStatus, error) {
	st := CaseStatus(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(CaseStatuses, st) {
		return st, nil
	}
	return "", fmt.Errorf("unknown case status %q (want open, referred or closed)", s)
}

// TargetKind is what a bookmark points at.
type TargetKind string

// Bookmark target kinds.
const (
	TargetEntity  TargetKind = "entity"  // one entity: Refs has exactly one element
	TargetCluster TargetKind = "cluster" // a group of entities, e.g. a flagged ring
	TargetPath    TargetKind = "path"    // a path, Refs in order from start to end
	TargetTrace   TargetKind = "trace"   // a money trace, Refs in the order visited
)

// ParseTargetKind parses a target kind name.
func ParseTargetKind(s string) (TargetKind, error) {
	switch k := TargetKind(strings.ToLower(strings.TrimSpace(s))); k {
	case TargetEntity, TargetCluster, TargetPath, TargetTrace:
		return k, nil
	}
	return "", fmt.Errorf("unknown bookmark target %q (want entity, cluster, path or trace)", s)
}

// Target is what a bookmark points at: an entity, or a cluster, path or
// trace described by the references it contains and the query that produced
// it. In JSON the references are strings in their input form
// ("card:4400430000000015").
type Target struct {
	Kind  TargetKind
	Refs  []Ref
	Query string // the search, path or trace request that produced it; empty for an entity
	Label string // a short human title, e.g. the entity's name; informational
}

// EntityTarget is the target of a bookmark on one entity.
func EntityTarget(r Ref, label string) Target {
	return Target{Kind: TargetEntity, Refs: []Ref{r}, Label: label}
}

// Validate reports a target that cannot be stored.
func (t Target) Validate() error {
	if _, err := ParseTargetKind(string(t.Kind)); err != nil {
		return err
	}
	if len(t.Refs) == 0 {
		return fmt.Errorf("%s bookmark: no references", t.Kind)
	}
	if t.Kind == TargetEntity && len(t.Refs) != 1 {
		return fmt.Errorf("entity bookmark: %d references, want 1", len(t.Refs))
	}
	for _, r := range t.Refs {
		if r.Kind == KindUnknown || r.Key == "" {
			return fmt.Errorf("%s bookmark: reference %q has no kind or key", t.Kind, r.String())
		}
	}
	return nil
}

// Key identifies the target's content: kind, references in order and query.
// Two bookmarks with equal keys point at the same thing.
func (t Target) Key() string {
	var b strings.Builder
	b.WriteString(string(t.Kind))
	for _, r := range t.Refs {
		b.WriteByte('|')
		b.WriteString(r.String())
	}
	if t.Query != "" {
		b.WriteString("|?")
		b.WriteString(t.Query)
	}
	return b.String()
}

// Title is how a target is named in lists: its label, else the title of its
// only reference, else "path of 5: A → … → B".
func (t Target) Title() string {
	if t.Label != "" {
		return t.Label
	}
	switch len(t.Refs) {
	case 0:
		return string(t.Kind)
	case 1:
		return RefTitle(t.Refs[0])
	}
	return fmt.Sprintf("%s of %d: %s … %s", t.Kind, len(t.Refs), RefTitle(t.Refs[0]), RefTitle(t.Refs[len(t.Refs)-1]))
}

type targetJSON struct {
	Kind  TargetKind `json:"kind"`
	Refs  []string   `json:"refs"`
	Query string     `json:"query,omitempty"`
	Label string     `json:"label,omitempty"`
}

// MarshalJSON writes the references in their input form.
func (t Target) MarshalJSON() ([]byte, error) {
	j := targetJSON{Kind: t.Kind, Refs: make([]string, len(t.Refs)), Query: t.Query, Label: t.Label}
	for i, r := range t.Refs {
		j.Refs[i] = r.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON parses references written by MarshalJSON.
func (t *Target) UnmarshalJSON(b []byte) error {
	var j targetJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("bookmark target: %w", err)
	}
	out := Target{Kind: j.Kind, Query: j.Query, Label: j.Label, Refs: make([]Ref, len(j.Refs))}
	for i, s := range j.Refs {
		r, err := ParseRef(s)
		if err != nil {
			return fmt.Errorf("bookmark target: %w", err)
		}
		out.Refs[i] = r
	}
	*t = out
	return nil
}

// Bookmark is one saved finding inside a case.
type Bookmark struct {
	ID      string    `json:"id"`
	Target  Target    `json:"target"`
	Tags    []string  `json:"tags,omitempty"`
	Note    string    `json:"note,omitempty"` // multi-line free text
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Identity is what makes two bookmarks the same one across databases (for
// merging a colleague's case): the target and the creation time.
func (b Bookmark) Identity() string {
	return b.Target.Key() + "@" + b.Created.UTC().Format(time.RFC3339Nano)
}

// SavedQuery is a search, path or trace request kept with a case so it can be
// rerun.
type SavedQuery struct {
	Name    string    `json:"name"`
	Query   string    `json:"query"`
	Created time.Time `json:"created"`
}

// Case is a named workspace: bookmarks, notes, tags, a status and saved
// queries. Its JSON form is the case.json of an exported case folder.
type Case struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Status    CaseStatus   `json:"status"`
	Notes     string       `json:"notes,omitempty"`
	Tags      []string     `json:"tags,omitempty"`
	Created   time.Time    `json:"created"`
	Updated   time.Time    `json:"updated"`
	Bookmarks []Bookmark   `json:"bookmarks"`
	Queries   []SavedQuery `json:"queries,omitempty"`
}

// Bookmark returns the bookmark with the given id.
func (c *Case) Bookmark(id string) (*Bookmark, bool) {
	for i := range c.Bookmarks {
		if c.Bookmarks[i].ID == id {
			return &c.Bookmarks[i], true
		}
	}
	return nil, false
}

// BookmarksOf returns the bookmarks whose target contains r, in case order.
func (c Case) BookmarksOf(r Ref) []Bookmark {
	var out []Bookmark
	for _, b := range c.Bookmarks {
		if slices.Contains(b.Target.Refs, r) {
			out = append(out, b)
		}
	}
	return out
}

// Clone returns a deep copy, so a caller can change it without touching the
// original's slices.
func (c Case) Clone() Case {
	c.Tags = slices.Clone(c.Tags)
	c.Queries = slices.Clone(c.Queries)
	bs := make([]Bookmark, len(c.Bookmarks))
	for i, b := range c.Bookmarks {
		b.Tags = slices.Clone(b.Tags)
		b.Target.Refs = slices.Clone(b.Target.Refs)
		bs[i] = b
	}
	if c.Bookmarks == nil {
		bs = nil
	}
	c.Bookmarks = bs
	return c
}

// NormalizeTags trims tags, drops empty ones and a leading "#", lower-cases
// them and removes duplicates, keeping first-seen order.
func NormalizeTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "#"))
		t = strings.Join(strings.Fields(t), "-")
		if t == "" || slices.Contains(out, t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// MergeCase merges src (a colleague's copy) into dst without duplicates:
// bookmarks are matched by Identity, or by target when src has no creation
// time (an added bookmark whose id is taken gets
// a suffixed id); a matched bookmark gains src's tags, and
// src's note is appended when it differs and is not already contained. Case
// notes merge the same way, tags are unioned and saved queries are matched by
// name and query. dst's id, name and status are kept. It returns how many
// bookmarks were added and how many existing ones changed; dst is modified in
// place only through the returned case (the argument is cloned).
func MergeCase(dst, src Case) (merged Case, added, changed int) {
	merged = dst.Clone()
	merged.Tags = NormalizeTags(append(merged.Tags, src.Tags...))
	merged.Notes = mergeNote(merged.Notes, src.Notes)
	for _, q := range src.Queries {
		if !slices.ContainsFunc(merged.Queries, func(o SavedQuery) bool { return o.Name == q.Name && o.Query == q.Query }) {
			merged.Queries = append(merged.Queries, q)
		}
	}
	index := make(map[string]int, len(merged.Bookmarks))
	ids := make(map[string]bool, len(merged.Bookmarks))
	for i, b := range merged.Bookmarks {
		index[b.Identity()] = i
		ids[b.ID] = true
	}
	for _, sb := range src.Bookmarks {
		i, ok := index[sb.Identity()]
		if !ok && sb.Created.IsZero() {
			// A bookmark without a creation time (from an export that does
			// not carry one) matches by target alone.
			i = slices.IndexFunc(merged.Bookmarks, func(b Bookmark) bool { return b.Target.Key() == sb.Target.Key() })
			ok = i >= 0
		}
		if !ok {
			nb := sb
			nb.Tags = NormalizeTags(slices.Clone(sb.Tags))
			nb.Target.Refs = slices.Clone(sb.Target.Refs)
			// Ids are only unique within one database: rename a clash.
			for n := 2; ids[nb.ID] || nb.ID == ""; n++ {
				nb.ID = fmt.Sprintf("%s-%d", sb.ID, n)
			}
			ids[nb.ID] = true
			index[nb.Identity()] = len(merged.Bookmarks)
			merged.Bookmarks = append(merged.Bookmarks, nb)
			added++
			continue
		}
		b := &merged.Bookmarks[i]
		tags := NormalizeTags(append(slices.Clone(b.Tags), sb.Tags...))
		note := mergeNote(b.Note, sb.Note)
		if !slices.Equal(tags, b.Tags) || note != b.Note {
			b.Tags, b.Note = tags, note
			if sb.Updated.After(b.Updated) {
				b.Updated = sb.Updated
			}
			changed++
		}
	}
	return merged, added, changed
}

// mergeNote keeps mine and appends theirs when it adds something.
func mergeNote(mine, theirs string) string {
	theirs = strings.TrimSpace(theirs)
	switch {
	case theirs == "" || strings.Contains(mine, theirs):
		return mine
	case strings.TrimSpace(mine) == "" || strings.Contains(theirs, strings.TrimSpace(mine)):
		return theirs
	}
	return strings.TrimRight(mine, "\n") + "\n\n" + theirs
}
