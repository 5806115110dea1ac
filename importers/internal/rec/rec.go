// Package rec keeps the books of the non-CSV importers (FtM, goAML, lists):
// it counts records, writes rejects in the shared rejects format and sends
// each entity and link once per file.
package rec

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"time"
	"unicode/utf8"

	"casegraph/graph"
	"casegraph/importers"
)

const maxValueLen = 200

// Books accounts for one file: importers.Report plus the once-per-file set.
type Books struct {
	Rep     importers.Report
	sink    importers.Sink
	rejects interface{ Write([]byte) (int, error) }
	seen    map[string]struct{}
	buf     bytes.Buffer
	w       *csv.Writer
	loc     *time.Location // the wall clock of zone-less times (TimeCounts)
}

// New starts the books of file name with format f.
func New(sink importers.Sink, opts importers.Options, f importers.Format) *Books {
	b := &Books{sink: sink, seen: make(map[string]struct{})}
	if opts.Rejects != nil {
		b.rejects = opts.Rejects
	}
	b.Rep.File = opts.Name
	b.Rep.Format = f
	b.w = csv.NewWriter(&b.buf)
	b.loc = opts.Location
	if b.loc == nil {
		b.loc = importers.Almaty()
	}
	b.Rep.TimeZone = importers.ZoneName(b.loc)
	return b
}

// Reject records one refused record; line is where it starts (or its
// element number), column names the field or element path.
func (b *Books) Reject(line int, column, value, reason string) error {
	b.Rep.Rejected++
	if len(value) > maxValueLen {
		cut := maxValueLen
		for cut > 0 && !utf8.RuneStart(value[cut]) {
			cut--
		}
		value = value[:cut] + "…"
	}
	rj := importers.Reject{File: b.Rep.File, Line: line, Column: column, Value: value, Reason: reason}
	if len(b.Rep.Rejects) < importers.MaxRejectsKept {
		b.Rep.Rejects = append(b.Rep.Rejects, rj)
	}
	if b.rejects == nil {
		return nil
	}
	b.buf.Reset()
	_ = b.w.Write(importers.RejectFields(rj))
	b.w.Flush()
	if err := b.w.Error(); err != nil {
		return fmt.Errorf("%s: encode reject of line %d: %w", b.Rep.File, line, err)
	}
	if _, err := b.rejects.Write(b.buf.Bytes()); err != nil {
		return fmt.Errorf("%s: write reject of line %d: %w", b.Rep.File, line, err)
	}
	return nil
}

// Put sends a full entity. A name longer than importers.MaxNameBytes is cut
// there (at a rune start) and the entity records it in name_truncated with
// the original size: a 100 MB name must not reach the search index.
func (b *Books) Put(e graph.Entity) error {
	if len(e.Name) > importers.MaxNameBytes {
		n := len(e.Name)
		cut := importers.MaxNameBytes
		for cut > 0 && !utf8.RuneStart(e.Name[cut]) {
			cut--
		}
		e.Name = e.Name[:cut]
		if e.Props == nil {
			e.Props = map[string]string{}
		}
		e.Props["name_truncated"] = fmt.Sprintf("name of %d bytes cut to %d", n, cut)
	}
	if err := b.sink.PutEntity(e); err != nil {
		return fmt.Errorf("put %s: %w", importers.Preview(e.Ref.String()), err)
	}
	b.seen["e"+e.Ref.String()] = struct{}{}
	return nil
}

// Once sends e unless this file already sent an entity with its Ref.
func (b *Books) Once(e graph.Entity) error {
	k := "e" + e.Ref.String()
	if _, ok := b.seen[k]; ok {
		return nil
	}
	return b.Put(e)
}

// Link sends l once per file (same ends, type and role).
func (b *Books) Link(l graph.Link) error {
	k := "l" + l.From.String() + "\x00" + l.To.String() + "\x00" + l.Type.String() + "\x00" + l.Role
	if _, ok := b.seen[k]; ok {
		return nil
	}
	b.seen[k] = struct{}{}
	if err := b.sink.PutLink(l); err != nil {
		return fmt.Errorf("put link %s %s %s: %w", importers.Preview(l.From.String()), l.Type, importers.Preview(l.To.String()), err)
	}
	return nil
}

// Txn sends a transaction and counts how it gave its time.
func (b *Books) Txn(t graph.Txn) error {
	if err := b.sink.PutTxn(t); err != nil {
		return fmt.Errorf("put transaction %s: %w", importers.Preview(t.ID), err)
	}
	if t.DateOnly {
		b.Rep.Times.AddDate()
	} else {
		b.Rep.Times.AddTimestamp(t.Time, b.loc)
	}
	return nil
}
