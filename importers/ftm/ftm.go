// Package ftm imports FollowTheMoney entities (JSON lines, or one JSON
// array) as casegraph entities, links and transactions.
//
// FtM references other entities by id, and an edge may come before the
// entities it names. The importer therefore reads the input twice: the first
// pass keeps a small index (id → schema and key), the second emits records.
// Memory is proportional to the number of entities, not to the file.
//
// Mapping: Person → person (key: a Kazakh IIN when the person is Kazakh and
// carries one, else "ftm:<id>"); Company, Organization, LegalEntity,
// PublicBody → exchange when it is one (a wallet names it as its managing
// exchange, or its name, sector or classification says so), else
// organisation (key: BIN when Kazakh, else "ftm:<id>"); BankAccount →
// account (IBAN, else "ftm:<id>"); CryptoWallet → wallet
// ("CHAIN:publicKey"); Address → address; Payment → transaction; Ownership
// and Directorship → controls; Membership → member_of; Family and Associate
// → related; Sanction → list_status=sanctioned and sanction_* properties on
// the entity it names. Multi-valued properties are kept, joined with
// graph.MultiSep. A reference to an id the file does not hold is reported in
// Result.Dangling and is never fatal.
package ftm

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/internal/rec"
)

// Format is the report format of FtM files.
const Format importers.Format = "ftm"

// maxDanglingKept bounds Result.Dangling.
const maxDanglingKept = 1000

// Dangling is one reference to an entity id the file does not define.
type Dangling struct {
	Line     int    // line (JSON lines) or element number (JSON array) of the referring record
	ID       string // the referring entity
	Property string // e.g. "addressEntity", "payer"
	Missing  string // the id that is not in the file
}

// Result is the report of one FtM file plus its dangling references.
type Result struct {
	importers.Report
	Dangling      []Dangling // the first 1,000
	DanglingCount int
}

// entity is one FtM record as it appears in the file.
type entity struct {
	ID         string              `json:"id"`
	Schema     string              `json:"schema"`
	Properties map[string][]string `json:"properties"`
}

func (e *entity) first(prop string) string {
	for _, v := range e.Properties[prop] {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func (e *entity) all(props ...string) []string {
	var m multi
	for _, p := range props {
		for _, v := range e.Properties[p] {
			m.add(strings.TrimSpace(v))
		}
	}
	return m.vals
}

// multi collects distinct non-empty values in order, in linear time: a
// property with 100,000 values must not cost 10^10 comparisons.
type multi struct {
	vals []string
	seen map[string]struct{}
}

func (m *multi) add(v string) {
	if v == "" {
		return
	}
	if m.seen == nil {
		m.seen = make(map[string]struct{})
	}
	if _, ok := m.seen[v]; ok {
		return
	}
	m.seen[v] = struct{}{}
	m.vals = append(m.vals, v)
}

// joined is the values joined with graph.MultiSep.
func (m *multi) joined() string { return strings.Join(m.vals, graph.MultiSep) }

// Schema groups.
var (
	orgSchemas  = map[string]bool{"Company": true, "Organization": true, "LegalEntity": true, "PublicBody": true}
	edgeSchemas = map[string]bool{"Payment": true, "Ownership": true, "Directorship": true, "Membership": true,
		"Family": true, "Associate": true, "Sanction": true}
)

func nodeSchema(s string) bool {
	return s == "Person" || orgSchemas[s] || s == "BankAccount" || s == "CryptoWallet" || s == "Address"
}

// info is what the first pass remembers of one node entity.
type info struct {
	ref graph.Ref
}

// importer holds the state of one Import call.
type importer struct {
	ctx      context.Context
	opts     importers.Options
	books    *rec.Books
	res      Result
	index    map[string]info
	sanction map[string][]*entity // entity id → sanctions naming it
	loc      *time.Location
	// ids holds the first record of every id (its line and the hash of
	// its schema and properties), filled by the first pass: a later record
	// of the id with other data is a conflicting duplicate, rejected naming
	// both lines, and contributes nothing to the index.
	ids *importers.IDGuard
}

// Import reads FtM entities from r (JSON lines or a JSON array; read twice,
// hence the io.ReadSeeker) and sends them to sink. Every record is either
// imported or rejected with its line (JSON lines) or element number (JSON
// array); Result always reconciles. A read or sink error, or a cancelled
// ctx, stops the import with an error.
func Import(ctx context.Context, r io.ReadSeeker, sink importers.Sink, opts importers.Options) (Result, error) {
	im := &importer{ctx: ctx, opts: opts, books: rec.New(sink, opts, Format),
		index: map[string]info{}, sanction: map[string][]*entity{}, loc: opts.Location, ids: importers.NewIDGuard()}
	if im.loc == nil {
		im.loc = importers.Almaty()
	}
	err := im.run(r)
	im.res.Report = im.books.Rep
	return im.res, err
}

func (im *importer) run(r io.ReadSeeker) error {
	name := im.opts.Name
	// Pass 1: the index of node entities and what edges say about them.
	exchanges := map[string]bool{}
	var nodes []*entity
	err := each(im.ctx, r, func(line int, raw []byte) error {
		var e entity
		if json.Unmarshal(raw, &e) != nil || e.ID == "" {
			return nil
		}
		if _, bad := im.ids.Check(e.ID, im.sum(&e), line); bad {
			return nil // a conflicting duplicate: pass 2 rejects it
		}
		im.ids.Remember()
		switch {
		case e.Schema == "CryptoWallet":
			for _, x := range e.all("managingExchange", "mangingExchange") {
				exchanges[x] = true
			}
		case e.Schema == "Sanction":
			for _, x := range e.all("entity") {
				im.sanction[x] = append(im.sanction[x], &e)
			}
		}
		if nodeSchema(e.Schema) {
			// Keys are computed after the pass: an organisation becomes an
			// exchange when a later wallet names it.
			nodes = append(nodes, &entity{ID: e.ID, Schema: e.Schema, Properties: keyProps(&e)})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: index entities: %w", name, err)
	}
	for _, e := range nodes {
		if _, dup := im.index[e.ID]; dup {
			continue // an identical repeat
		}
		if ref, ok := nodeRef(e, exchanges[e.ID]); ok {
			im.index[e.ID] = info{ref: ref}
		}
	}
	nodes = nil
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: rewind for second pass: %w", name, err)
	}
	// Pass 2: emit.
	last := time.Now()
	err = each(im.ctx, r, func(line int, raw []byte) error {
		im.books.Rep.Read++
		if err := im.record(line, raw); err != nil {
			im.books.Rep.Read--
			return fmt.Errorf("line %d: %w", line, err)
		}
		if p := im.opts.Progress; p != nil && time.Since(last) >= 100*time.Millisecond {
			last = time.Now()
			p(0, im.books.Rep.Read)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if p := im.opts.Progress; p != nil {
		p(0, im.books.Rep.Read)
	}
	return nil
}

// keyProps keeps only the properties that decide an entity's key and kind.
func keyProps(e *entity) map[string][]string {
	keep := []string{"idNumber", "taxNumber", "innCode", "registrationNumber", "country", "nationality",
		"citizenship", "jurisdiction", "mainCountry", "name", "alias", "sector", "classification",
		"iban", "publicKey", "currency", "currencySymbol", "full", "street", "city", "postalCode", "website", "topics"}
	p := make(map[string][]string, 4)
	for _, k := range keep {
		if v := e.Properties[k]; len(v) > 0 {
			p[k] = v
		}
	}
	return p
}

// record validates one record and emits it, or rejects it.
func (im *importer) record(line int, raw []byte) error {
	if raw == nil {
		return im.books.Reject(line, "", "", fmt.Sprintf("record longer than %d MiB", MaxRecordBytes>>20))
	}
	if !utf8.Valid(raw) {
		// encoding/json would store U+FFFD in place of every byte of a
		// Windows-1251 name: the record is rejected instead.
		return im.books.Reject(line, "", strings.ToValidUTF8(importers.Preview(string(raw)), "\ufffd"),
			importers.CheckText(string(raw), len(raw)+1).Error())
	}
	var e entity
	if err := json.Unmarshal(raw, &e); err != nil {
		return im.books.Reject(line, "", importers.Preview(string(raw)), "not an FtM entity: "+err.Error())
	}
	if e.ID == "" {
		return im.books.Reject(line, "id", "", "required value is empty")
	}
	if e.Schema == "" {
		return im.books.Reject(line, "schema", "", "required value is empty")
	}
	if !nodeSchema(e.Schema) && !edgeSchemas[e.Schema] {
		return im.books.Reject(line, "schema", e.Schema, "schema "+e.Schema+" is not imported (nodes: Person, Company, Organization, LegalEntity, PublicBody, BankAccount, CryptoWallet, Address; edges: Payment, Ownership, Directorship, Membership, Family, Associate, Sanction)")
	}
	if first, bad := im.ids.Check(e.ID, im.sum(&e), line); bad {
		return im.books.Reject(line, "id", importers.Preview(e.ID), importers.ConflictReason("id", e.ID, im.opts.Name, line, first))
	}
	src := graph.Provenance{File: im.opts.Name, Line: line, Batch: im.opts.Batch}
	var err error
	if nodeSchema(e.Schema) {
		err = im.node(line, &e, src)
	} else {
		err = im.edge(line, &e, src)
	}
	// A record the run's conflict check refused (another file or an
	// earlier import gave its id other data) is rejected, not fatal.
	if ce, ok := importers.AsRecordError(err); ok {
		return im.books.Reject(line, ce.Column, importers.Preview(ce.Value), ce.Reason)
	}
	return err
}

// sum hashes what a record says: its schema and properties, in key order.
func (im *importer) sum(e *entity) uint64 {
	keys := make([]string, 0, len(e.Properties))
	for k := range e.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var h maphash.Hash
	h.SetSeed(im.ids.Seed())
	h.WriteString(e.Schema)
	for _, k := range keys {
		h.WriteByte(0)
		h.WriteString(k)
		for _, v := range e.Properties[k] {
			h.WriteByte(1)
			h.WriteString(v)
		}
	}
	return h.Sum64()
}

// dangling records a reference to an id the file does not define.
func (im *importer) dangling(line int, id, prop, missing string) {
	im.res.DanglingCount++
	if len(im.res.Dangling) < maxDanglingKept {
		im.res.Dangling = append(im.res.Dangling, Dangling{Line: line, ID: id, Property: prop, Missing: missing})
	}
}

// resolve maps referenced ids to refs, reporting the dangling ones.
func (im *importer) resolve(line int, e *entity, props ...string) []graph.Ref {
	var out []graph.Ref
	for _, p := range props {
		for _, id := range e.all(p) {
			if inf, ok := im.index[id]; ok {
				out = append(out, inf.ref)
			} else {
				im.dangling(line, e.ID, p, id)
			}
		}
	}
	return out
}
