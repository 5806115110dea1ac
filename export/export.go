// Package export writes a case file: one folder with a self-contained HTML
// report, Markdown, CSV tables, GraphML, GEXF, DOT, FollowTheMoney entities,
// an i2 Analyst's Notebook import table, the case as JSON and a manifest with
// the SHA-256 of every file.
//
// The package is pure: the caller gathers the case's entities, links and
// transactions (cmd/casegraph reads them from the store) and hands them in.
// Output is deterministic: the same Input gives byte-identical files, so
// another team can re-run an export from the same sources and compare hashes.
// Nothing inside the files depends on the clock, the machine or map order.
package export

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the HTML report shows Asia/Almaty time on offline machines too

	"casegraph/graph"
)

// FormatID names the layout of an export folder; it changes when files are
// added, removed or change meaning.
const FormatID = "casegraph-case-export/1"

// Case is what the export needs of an investigation case: its name, its
// bookmarked entities and the investigators' notes. FromCase builds one from
// a stored graph.Case.
type Case struct {
	Name        string
	Description string
	Tags        []string
	Bookmarks   []Bookmark
	Notes       []Note
	// Record is the stored case, written as case.json (the JSON of
	// graph.Case, with its cluster, path and trace bookmarks, ids, status
	// and stored times). Nil for an export of loose references: case.json
	// is then built from the fields above.
	Record *graph.Case
}

// Bookmark is an entity the investigators marked as part of the case.
type Bookmark struct {
	Ref  graph.Ref
	Note string
	Tags []string
}

// Note is a free-text note on the case, or on one entity when Ref is set.
type Note struct {
	Time time.Time
	Ref  graph.Ref
	Text string
}

// FlagRow is one red-flag hit: the rule, the entity it fired on, its score,
// a human-readable reason and the transactions that are its evidence.
type FlagRow struct {
	Rule     string
	Ref      graph.Ref
	Score    float64
	Reason   string
	Evidence []string // transaction ids
}

// Input is everything one export contains.
type Input struct {
	Case     Case
	Entities []graph.Entity
	Links    []graph.Link
	Txns     []graph.Txn
	Flags    []FlagRow
	Sources  []graph.Batch // imported source files the data came from
	Queries  []string      // the exact queries or references that selected the data
	Version  string        // casegraph version
}

// Options change what is written.
type Options struct {
	// Redact pseudonymises every identifier in every file (pseudo.go):
	// the same identifier reads the same pseudonym throughout the export.
	Redact bool
	// PseudonymKey is the key pseudonyms are derived with when redacting;
	// nil draws a random one for this export, so its pseudonyms do not
	// link to another export's. Give the same key to link exports (and to
	// make a redacted export byte-identical when re-run).
	PseudonymKey []byte
	// Replace lets Write replace an existing folder that holds an earlier
	// export (nothing but export files, no links). Without it Write refuses
	// any existing folder that is not empty.
	Replace bool
}

// Manifest describes an export folder; it is also written as manifest.json.
type Manifest struct {
	Format   string       `json:"format"`
	Version  string       `json:"casegraph_version"`
	Case     string       `json:"case"`
	Redacted bool         `json:"redacted"`
	Queries  []string     `json:"queries"`
	Sources  []SourceFile `json:"sources"`
	Counts   Counts       `json:"counts"`
	Files    []FileHash   `json:"files"`
}

// SourceFile is one imported file the case's data came from.
type SourceFile struct {
	Batch    uint32 `json:"batch"`
	File     string `json:"file"`
	SHA256   string `json:"sha256"`
	Format   string `json:"format"`
	Read     int    `json:"read"`
	Imported int    `json:"imported"`
	Rejected int    `json:"rejected"`
}

// Counts are the sizes of what was exported.
type Counts struct {
	Entities     int `json:"entities"`
	Links        int `json:"links"`
	Transactions int `json:"transactions"`
	Flags        int `json:"flags"`
}

// FileHash is the SHA-256 and size of one written file.
type FileHash struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
}

// ManifestName is the manifest's file name; it is not listed in itself.
const ManifestName = "manifest.json"

// fileNames are the files of an export folder besides the manifest.
var fileNames = []string{"report.html", "report.md", "entities.csv", "links.csv", "transactions.csv", "graph.graphml",
	"graph.gexf", "graph.dot", "entities.ftm.json", "i2_import.csv", "i2_import_spec.txt", "case.json"}

// Write writes the case file into dir and returns the manifest it wrote.
//
// The folder is built whole in a fresh private folder beside dir (created
// with mode 0700, files 0600, each created new, so no link is followed) and
// renamed into place: a reader never sees half an export, and a symbolic link
// planted in or at dir is never written through. dir must not exist, be an
// empty folder, or, with opts.Replace, be an earlier export, which is then
// replaced as a whole. A dir that is a symbolic link is refused.
func Write(dir string, in Input, opts Options) (Manifest, error) {
	d, err := prepare(in, opts)
	if err != nil {
		return Manifest{}, err
	}
	renders := map[string]func(*doc) ([]byte, error){
		"report.html": renderHTML, "report.md": renderMarkdown, "entities.csv": renderEntitiesCSV,
		"links.csv": renderLinksCSV, "transactions.csv": renderTxnsCSV, "graph.graphml": renderGraphML,
		"graph.gexf": renderGEXF, "graph.dot": renderDOT, "entities.ftm.json": renderFtM, "i2_import.csv": renderI2,
		"i2_import_spec.txt": renderI2Spec, "case.json": renderCaseJSON,
	}
	m := Manifest{
		Format:   FormatID,
		Version:  d.in.Version,
		Case:     d.txt(d.in.Case.Name),
		Redacted: opts.Redact,
		Queries:  make([]string, 0, len(d.in.Queries)),
		Sources:  d.sources,
		Counts: Counts{Entities: len(d.nodes), Links: len(d.links), Transactions: len(d.txns),
			Flags: len(d.flags)},
	}
	for _, q := range d.in.Queries {
		m.Queries = append(m.Queries, d.txt(q))
	}
	// Render everything before touching the disk.
	out := map[string][]byte{}
	for _, name := range fileNames {
		b, err := renders[name](d)
		if err != nil {
			return Manifest{}, fmt.Errorf("render %s: %w", name, err)
		}
		out[name] = b
		sum := sha256.Sum256(b)
		m.Files = append(m.Files, FileHash{Name: name, SHA256: hex.EncodeToString(sum[:]), Bytes: len(b)})
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Name < m.Files[j].Name })
	b, err := marshalJSON(m)
	if err != nil {
		return Manifest{}, fmt.Errorf("render %s: %w", ManifestName, err)
	}
	out[ManifestName] = b
	if err := writeFolder(dir, out, opts.Replace); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// node is one entity of the export with its stable id.
type node struct {
	id  string
	ent graph.Entity
	red graph.Ref // the reference as it is shown (masked when redacting)
	// first and last transaction times, zero when it has none.
	first, last time.Time
	txCount     int
}

// doc is the Input sorted, de-duplicated and indexed, ready to render.
type doc struct {
	in      Input
	redact  bool
	nodes   []node
	byRef   map[graph.Ref]int
	links   []graph.Link
	txns    []graph.Txn
	flags   []FlagRow
	sources []SourceFile
	almaty  *time.Location
	ps      *pseudonyms // when redacting
}

func prepare(in Input, opts Options) (*doc, error) {
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		return nil, fmt.Errorf("load time zone Asia/Almaty: %w", err)
	}
	d := &doc{in: in, redact: opts.Redact, byRef: map[graph.Ref]int{}, almaty: loc}

	// Entities: one per reference, a full record preferred over a stub;
	// endpoints that only links or transactions name become stubs.
	ents := map[graph.Ref]graph.Entity{}
	add := func(e graph.Entity) {
		if e.Ref.IsZero() {
			return
		}
		// A full record wins over a stub; between two records of the same
		// kind the choice must not depend on input order.
		old, ok := ents[e.Ref]
		if !ok || (old.Stub && !e.Stub) || (old.Stub == e.Stub && entityKey(e) < entityKey(old)) {
			ents[e.Ref] = e
		}
	}
	for _, e := range in.Entities {
		add(e)
	}
	for _, l := range in.Links {
		add(graph.Entity{Ref: l.From, Stub: true})
		add(graph.Entity{Ref: l.To, Stub: true})
	}
	for _, t := range in.Txns {
		add(graph.Entity{Ref: t.From, Stub: true})
		add(graph.Entity{Ref: t.To, Stub: true})
	}
	for _, f := range in.Flags {
		add(graph.Entity{Ref: f.Ref, Stub: true})
	}
	for _, b := range in.Case.Bookmarks {
		add(graph.Entity{Ref: b.Ref, Stub: true})
	}
	if opts.Redact {
		if d.ps, err = newPseudonyms(opts.PseudonymKey); err != nil {
			return nil, err
		}
		d.ps.collect(ents, in)
	}
	for _, e := range ents {
		d.nodes = append(d.nodes, node{ent: e, red: d.redRef(e.Ref)})
	}
	sort.Slice(d.nodes, func(i, j int) bool {
		a, b := d.nodes[i], d.nodes[j]
		if a.red != b.red {
			return a.red.Less(b.red)
		}
		return a.ent.Ref.Less(b.ent.Ref)
	})
	perKind := map[graph.Kind]int{}
	for i := range d.nodes {
		k := d.nodes[i].ent.Ref.Kind
		perKind[k]++
		d.nodes[i].id = k.String() + "-" + strconv.Itoa(perKind[k])
		d.byRef[d.nodes[i].ent.Ref] = i
	}

	// Links: sorted, exact duplicates dropped.
	d.links = append([]graph.Link(nil), in.Links...)
	sort.Slice(d.links, func(i, j int) bool { return linkLess(d.links[i], d.links[j]) })
	d.links = dedupe(d.links, func(a, b graph.Link) bool {
		return a.From == b.From && a.To == b.To && a.Type == b.Type && a.Role == b.Role
	})

	// Transactions: by time, then id; one per id.
	d.txns = append([]graph.Txn(nil), in.Txns...)
	sort.Slice(d.txns, func(i, j int) bool {
		a, b := d.txns[i], d.txns[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return txnKey(a) < txnKey(b)
	})
	seen := map[string]bool{}
	kept := d.txns[:0]
	for _, t := range d.txns {
		if t.ID != "" && seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		t.Time = t.Time.UTC()
		kept = append(kept, t)
		for _, r := range []graph.Ref{t.From, t.To} {
			n := &d.nodes[d.byRef[r]]
			if n.txCount == 0 || t.Time.Before(n.first) {
				n.first = t.Time
			}
			if t.Time.After(n.last) {
				n.last = t.Time
			}
			n.txCount++
		}
	}
	d.txns = kept

	d.flags = make([]FlagRow, 0, len(in.Flags))
	for _, f := range in.Flags {
		f.Evidence = append([]string(nil), f.Evidence...)
		sort.Strings(f.Evidence)
		d.flags = append(d.flags, f)
	}
	sort.Slice(d.flags, func(i, j int) bool {
		a, b := d.flags[i], d.flags[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Ref != b.Ref {
			return a.Ref.Less(b.Ref)
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Reason < b.Reason
	})

	for _, b := range in.Sources {
		d.sources = append(d.sources, SourceFile{Batch: b.ID, File: d.fileName(b.File), SHA256: b.SHA256, Format: b.Format,
			Read: b.Read, Imported: b.Imported, Rejected: b.Rejected})
	}
	sort.Slice(d.sources, func(i, j int) bool {
		a, b := d.sources[i], d.sources[j]
		if a.Batch != b.Batch {
			return a.Batch < b.Batch
		}
		return a.File < b.File
	})
	if d.sources == nil {
		d.sources = []SourceFile{}
	}

	d.in.Case.Bookmarks = append([]Bookmark(nil), in.Case.Bookmarks...)
	sort.SliceStable(d.in.Case.Bookmarks, func(i, j int) bool {
		return d.in.Case.Bookmarks[i].Ref.Less(d.in.Case.Bookmarks[j].Ref)
	})
	d.in.Case.Notes = append([]Note(nil), in.Case.Notes...)
	sort.SliceStable(d.in.Case.Notes, func(i, j int) bool {
		return d.in.Case.Notes[i].Time.Before(d.in.Case.Notes[j].Time)
	})
	return d, nil
}

func linkLess(a, b graph.Link) bool {
	if a.From != b.From {
		return a.From.Less(b.From)
	}
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	if a.To != b.To {
		return a.To.Less(b.To)
	}
	if a.Role != b.Role {
		return a.Role < b.Role
	}
	return a.Src.String() < b.Src.String()
}

// entityKey and txnKey render a record canonically, so that two different
// records under the same reference or id are chosen between by content,
// not by the order they were handed in.
func entityKey(e graph.Entity) string {
	return fmt.Sprintf("%s|%v|%q|%s", e.Name, e.Stub, e.SortedProps(), e.Src)
}

func txnKey(t graph.Txn) string {
	return fmt.Sprintf("%s|%s|%d|%s|%d|%s|%s|%s|%d|%d|%s|%q|%s", t.From, t.To, t.Amount, t.Currency, t.Channel,
		t.ATM, t.Device, t.IP, t.IINProvided, t.AppConfirmed, t.Reference, graph.Entity{Props: t.Props}.SortedProps(),
		t.Src)
}

func dedupe[T any](s []T, same func(a, b T) bool) []T {
	out := s[:0]
	for i, v := range s {
		if i > 0 && same(out[len(out)-1], v) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// node returns the node of a reference; every reference in the doc has one.
func (d *doc) node(r graph.Ref) *node { return &d.nodes[d.byRef[r]] }

// id is the export id of a reference.
func (d *doc) id(r graph.Ref) string { return d.node(r).id }

// refStr renders a reference as shown in the files.
func (d *doc) refStr(r graph.Ref) string { return d.redRef(r).String() }

// title names an entity in headings and labels.
func (d *doc) title(r graph.Ref) string {
	n := d.node(r)
	if n.ent.Name != "" {
		return d.txt(n.ent.Name)
	}
	return graph.RefTitle(n.red)
}

// props returns an entity's properties sorted by key, values redacted.
func (d *doc) props(e graph.Entity) [][2]string {
	kv := e.SortedProps()
	for i := range kv {
		kv[i][1] = d.txt(kv[i][1])
		if kv[i][0] == "birth_date" {
			kv[i][1] = d.birthDate(kv[i][1])
		}
	}
	return kv
}

// utc renders a time as UTC RFC 3339.
func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// local renders a time in Asia/Almaty for people reading the report.
func (d *doc) local(t time.Time) string { return t.In(d.almaty).Format("2006-01-02 15:04 MST") }

// decimal renders minor units as a plain decimal: "495000.00".
func decimal(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

// currency returns a transaction's currency, KZT when empty.
func currency(t graph.Txn) string {
	if t.Currency == "" {
		return "KZT"
	}
	return t.Currency
}

// joinKV renders properties as "k=v; k=v".
func joinKV(kv [][2]string) string {
	parts := make([]string, len(kv))
	for i, p := range kv {
		parts[i] = p[0] + "=" + p[1]
	}
	return strings.Join(parts, "; ")
}
