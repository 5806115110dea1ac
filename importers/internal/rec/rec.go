// Package rec keeps the books of the non-CSV importers (FtM, goAML, lists):
// it counts records, writes rejects in the shared rejects format and sends
// each entity and link once per file.
package rec

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
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
	if err := checkRef("key", e.Ref); err != nil {
		return err
	}
	if err := importers.CheckText(e.Name, len(e.Name)+1); err != nil {
		return field("name", e.Name, err)
	}
	for k, v := range e.Props {
		// A property may hold many values (100,000 FtM aliases), so only
		// its encoding is checked, not its size.
		if err := importers.CheckText(v, len(v)+1); err != nil {
			return field(k, v, err)
		}
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
	if err := checkRef("from", l.From); err != nil {
		return err
	}
	if err := checkRef("to", l.To); err != nil {
		return err
	}
	if err := importers.CheckText(l.Role, 0); err != nil {
		return field("role", l.Role, err)
	}
	b.seen[k] = struct{}{}
	if err := b.sink.PutLink(l); err != nil {
		return fmt.Errorf("put link %s %s %s: %w", importers.Preview(l.From.String()), l.Type, importers.Preview(l.To.String()), err)
	}
	return nil
}

// Txn sends a transaction and counts how it gave its time.
func (b *Books) Txn(t graph.Txn) error {
	for _, f := range [...]struct{ col, v string }{{"id", t.ID}, {"reference", t.Reference}, {"device", t.Device},
		{"ip", t.IP}, {"atm", t.ATM}, {"currency", t.Currency}} {
		if err := importers.CheckText(f.v, 0); err != nil {
			return field(f.col, f.v, err)
		}
	}
	if err := checkRef("from", t.From); err != nil {
		return err
	}
	if err := checkRef("to", t.To); err != nil {
		return err
	}
	for k, v := range t.Props {
		if err := importers.CheckText(v, 0); err != nil {
			return field(k, v, err)
		}
	}
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

// Hostile fields (docs/SECURITY.md, "Hostile input files"): a record whose
// key or field is longer than importers.MaxFieldBytes (a 70,000-byte account
// number), is not UTF-8 or holds a NUL byte is refused with an
// importers.RecordError, and the importer rejects the row that carried it,
// quoting a bounded prefix; the run goes on.

func checkRef(col string, r graph.Ref) error {
	if err := importers.CheckText(r.Key, 0); err != nil {
		return field(col, r.Key, err)
	}
	return nil
}

func field(col, v string, err error) error {
	return &importers.RecordError{Column: col, Value: strings.ToValidUTF8(importers.Preview(strings.ReplaceAll(v, "\x00", "\ufffd")), "\ufffd"),
		Reason: col + ": " + err.Error()}
}
