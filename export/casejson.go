package export

import (
	"slices"
	"strings"

	"casegraph/graph"
)

// case.json is the JSON of graph.Case, so `casegraph import-case` reads an
// export folder with the same decoder as a case written by hand. Folders
// written before carry the older "casegraph-case/1" layout (a "format" field,
// entity bookmarks by reference, dated notes); import-case still reads those.

// FromCase turns a stored case into what an export needs: every reference of
// every bookmark (entity, cluster, path or trace) becomes a bookmarked
// entity of the report, and the case itself is kept for case.json.
func FromCase(c graph.Case) Case {
	rec := c.Clone()
	out := Case{Name: c.Name, Tags: slices.Clone(c.Tags), Record: &rec}
	if strings.TrimSpace(c.Notes) != "" {
		out.Notes = append(out.Notes, Note{Text: c.Notes})
	}
	at := map[graph.Ref]int{}
	for _, b := range c.Bookmarks {
		note := b.Note
		if b.Target.Kind != graph.TargetEntity {
			// A member of a cluster, path or trace says which one.
			note = joinText("in "+string(b.Target.Kind)+" "+b.Target.Title(), b.Note, " — ")
		}
		for _, r := range b.Target.Refs {
			i, ok := at[r]
			if !ok {
				at[r] = len(out.Bookmarks)
				out.Bookmarks = append(out.Bookmarks, Bookmark{Ref: r, Note: note, Tags: slices.Clone(b.Tags)})
				continue
			}
			bm := &out.Bookmarks[i]
			if note != "" && !strings.Contains(bm.Note, note) {
				bm.Note = joinText(bm.Note, note, "\n")
			}
			bm.Tags = graph.NormalizeTags(append(bm.Tags, b.Tags...))
		}
	}
	return out
}

func joinText(a, b, sep string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + sep + b
}

// caseRecord is the case written to case.json: the stored case, or one
// built from the bookmarks and notes of a loose export (entity bookmarks, a
// dated note on an entity joined to its bookmark, notes without an entity
// joined into the case notes).
func (d *doc) caseRecord() graph.Case {
	if d.in.Case.Record != nil {
		return d.in.Case.Record.Clone()
	}
	in := d.in.Case // bookmarks and notes sorted by prepare
	c := graph.Case{Name: in.Name, Status: graph.CaseOpen, Notes: in.Description, Tags: slices.Clone(in.Tags)}
	at := map[graph.Ref]int{}
	for _, b := range in.Bookmarks {
		if i, ok := at[b.Ref]; ok {
			c.Bookmarks[i].Note = joinText(c.Bookmarks[i].Note, b.Note, "\n\n")
			c.Bookmarks[i].Tags = graph.NormalizeTags(append(c.Bookmarks[i].Tags, b.Tags...))
			continue
		}
		at[b.Ref] = len(c.Bookmarks)
		c.Bookmarks = append(c.Bookmarks, graph.Bookmark{Target: graph.EntityTarget(b.Ref, ""), Note: b.Note,
			Tags: graph.NormalizeTags(b.Tags)})
	}
	for _, n := range in.Notes {
		text := n.Text
		if !n.Time.IsZero() {
			text = utc(n.Time) + "  " + text
		}
		if n.Ref.IsZero() {
			c.Notes = joinText(c.Notes, text, "\n\n")
			continue
		}
		i, ok := at[n.Ref]
		if !ok {
			i = len(c.Bookmarks)
			at[n.Ref] = i
			c.Bookmarks = append(c.Bookmarks, graph.Bookmark{Target: graph.EntityTarget(n.Ref, "")})
		}
		c.Bookmarks[i].Note = joinText(c.Bookmarks[i].Note, text, "\n\n")
	}
	return c
}

// renderCaseJSON writes the case as graph.Case JSON: times in UTC (only the
// case's own stored times, so a re-export is byte-identical), identifiers
// redacted like every other file.
func renderCaseJSON(d *doc) ([]byte, error) {
	c := d.caseRecord()
	c.Name, c.Notes, c.Tags = d.txt(c.Name), d.txt(c.Notes), d.strs(c.Tags)
	c.Created, c.Updated = c.Created.UTC(), c.Updated.UTC()
	if c.Bookmarks == nil {
		c.Bookmarks = []graph.Bookmark{}
	}
	for i := range c.Bookmarks {
		b := &c.Bookmarks[i]
		b.Tags, b.Note = d.strs(b.Tags), d.txt(b.Note)
		b.Created, b.Updated = b.Created.UTC(), b.Updated.UTC()
		b.Target.Label, b.Target.Query = d.txt(b.Target.Label), d.txt(b.Target.Query)
		for j, r := range b.Target.Refs {
			b.Target.Refs[j] = d.redRef(r)
		}
	}
	for i := range c.Queries {
		q := &c.Queries[i]
		q.Name, q.Query, q.Created = d.txt(q.Name), d.txt(q.Query), q.Created.UTC()
	}
	return marshalJSON(c)
}
