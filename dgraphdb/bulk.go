package dgraphdb

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"casegraph/graph"
)

// Files a BulkWriter leaves in its folder: the input of `dgraph bulk`.
const (
	BulkData   = "data.rdf.gz"
	BulkSchema = "schema"
)

// BulkWriter writes what a Loader would upsert into a fresh cluster as the
// input of Dgraph's own bulk loader (`dgraph bulk`): gzipped RDF N-Quads
// (BulkData) and the schema (BulkSchema) in one folder. It is an
// importers.Sink and takes the loader's place in an import, so the records
// pass the same importers and validation; the operator then runs the bulk
// loader and starts each group's alpha on its shard (BulkSteps).
//
// The nodes carry the same predicates as the Loader writes, month buckets
// and transaction attributes by month included, and the same external ids
// (cg.ref for an entity, tx.id.NN for a transaction, cg.batch for an import
// batch), which is what a later client import looks nodes up by: an
// increment through the client upserts onto the bulk-loaded nodes. Blank nodes only tie the triples of one file
// together.
//
// A record's final form is what the Loader would leave after the same
// sequence of Puts: the last version of a transaction (its earlier ones and
// their month edges are dropped from the file), a full entity with its
// stub's missing properties, a stub that never hides a full entity, the last
// role of a link. Entities and links are kept in memory until Finish (an
// entity's record may change until the last row); a transaction is written
// at once and only a 16-byte hash of its id is kept.
type BulkWriter struct {
	dir  string
	part *os.File
	gz   *gzip.Writer
	w    *bufio.Writer

	ents     map[string]*bulkEnt // by refID
	entList  []*bulkEnt          // in order of first mention
	links    map[bulkLinkKey]*bulkLink
	linkList []*bulkLink
	txs      map[txKey]txSeen
	dups     map[txKey]uint32 // ids written more than once: how many times
	months   map[string]bool
	listed   bool // some entity is on a list (MarkListed): the schema has cg.list
	chans    map[graph.Channel]int
	perMonth map[entMonth]int32 // transactions (sent and received) of an entity in a month

	book    graph.BatchBook
	batches []graph.Batch
	lines   int64
	buf     []byte // scratch for str
	err     error
	done    bool
}

type bulkEnt struct {
	label string
	ref   graph.Ref
	stub  *graph.Entity // the last stub record
	full  *graph.Entity // the last full record, with the missing properties of the stub before it
	lists []string      // the list files that named it (MarkListed), cg.list
}

type bulkLinkKey struct {
	from, to string // refIDs
	typ      graph.LinkType
}

type bulkLink struct {
	from, to *bulkEnt
	typ      graph.LinkType
	role     string
	src      string // the provenance as JSON
}

type txKey [16]byte

type txSeen struct {
	n        uint32 // times written
	ch       graph.Channel
	month    int32 // monthIndex of the last version
	from, to *bulkEnt
}

// entMonth is an entity's month, whose transactions the writer counts to
// find the hubs (hubs.go).
type entMonth struct {
	e     *bulkEnt
	month int32 // monthIndex
}

// NewBulkWriter starts writing bulk-loader input into dir (created if
// missing). It refuses a folder that already holds BulkData.
func NewBulkWriter(dir string) (*BulkWriter, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bulk output %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, BulkData)); err == nil {
		return nil, fmt.Errorf("bulk output %s already holds %s: remove it or choose another folder", dir, BulkData)
	}
	part, err := os.OpenFile(filepath.Join(dir, BulkData+".part"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bulk output %s: %w", dir, err)
	}
	w := &BulkWriter{dir: dir, part: part, ents: map[string]*bulkEnt{}, links: map[bulkLinkKey]*bulkLink{},
		txs: map[txKey]txSeen{}, dups: map[txKey]uint32{}, months: map[string]bool{}, chans: map[graph.Channel]int{},
		perMonth: map[entMonth]int32{}}
	w.open(part)
	return w, nil
}

// gzipLevel trades size for speed: the files are read once, by the loader.
const gzipLevel = gzip.BestSpeed

func (w *BulkWriter) open(f io.Writer) {
	w.gz, _ = gzip.NewWriterLevel(f, gzipLevel) // a valid level never fails
	w.w = bufio.NewWriterSize(w.gz, 1<<20)
}

// Dir is the folder the files go to.
func (w *BulkWriter) Dir() string { return w.dir }

// CopiesRecords marks the writer as an importers.RecordCopier.
func (w *BulkWriter) CopiesRecords() {}

// Bulk is true: the files are for a fresh cluster, so records are not
// checked against earlier imports (there are none).
func (w *BulkWriter) Bulk() bool { return true }

// ent returns the entity of a reference, numbering it on first mention.
func (w *BulkWriter) ent(r graph.Ref) *bulkEnt {
	id := refID(r)
	e := w.ents[id]
	if e == nil {
		e = &bulkEnt{label: "_:e" + strconv.Itoa(len(w.entList)+1), ref: r}
		w.ents[id] = e
		w.entList = append(w.entList, e)
	}
	return e
}

// PutEntity keeps an entity's record for Finish, as Loader.PutEntity would
// leave it.
func (w *BulkWriter) PutEntity(e graph.Entity) error {
	if w.err != nil {
		return w.err
	}
	if err := checkRef(e.Ref); err != nil {
		return fmt.Errorf("put entity: %w", err)
	}
	e.Props = cloneProps(e.Props)
	be := w.ent(e.Ref)
	if e.Stub {
		be.stub = &e
		return nil
	}
	if be.stub != nil {
		e.Props = graph.WithMissingProps(e.Props, be.stub.Props)
	}
	be.full = &e
	return nil
}

// PutLink keeps a link for Finish: one per (from, type, to), the last role
// and provenance.
func (w *BulkWriter) PutLink(k graph.Link) error {
	if w.err != nil {
		return w.err
	}
	if err := checkRef(k.From); err != nil {
		return fmt.Errorf("put %s link: from: %w", k.Type, err)
	}
	if err := checkRef(k.To); err != nil {
		return fmt.Errorf("put %s link: to: %w", k.Type, err)
	}
	if !slices.Contains(linkTypes, k.Type) {
		return fmt.Errorf("put link: unknown type %d", k.Type)
	}
	key := bulkLinkKey{from: refID(k.From), to: refID(k.To), typ: k.Type}
	l := w.links[key]
	if l == nil {
		l = &bulkLink{from: w.ent(k.From), to: w.ent(k.To), typ: k.Type}
		w.links[key] = l
		w.linkList = append(w.linkList, l)
	}
	l.role, l.src = k.Role, mustJSON(k.Src)
	return nil
}

// PutTxn writes a transaction node and its month edges. The same id again
// is written again; Finish keeps its last version only.
func (w *BulkWriter) PutTxn(t graph.Txn) error {
	if w.err != nil {
		return w.err
	}
	if t.ID == "" || len(t.ID) > maxField {
		return fmt.Errorf("put transaction %.40q: id must be 1 to %d bytes", t.ID, maxField)
	}
	if err := checkRef(t.From); err != nil {
		return fmt.Errorf("put transaction %s: from: %w", t.ID, err)
	}
	if err := checkRef(t.To); err != nil {
		return fmt.Errorf("put transaction %s: to: %w", t.ID, err)
	}
	t.Time = t.Time.UTC()
	t.Props = cloneProps(t.Props)
	key := hashID(t.ID)
	seen, again := w.txs[key]
	if again {
		w.chans[seen.ch]--
		w.dups[key] = seen.n + 1
		w.perMonth[entMonth{seen.from, seen.month}]--
		w.perMonth[entMonth{seen.to, seen.month}]--
	}
	from, to := w.ent(t.From), w.ent(t.To)
	m := Month(t.Time)
	mi := int32(monthIndex(m))
	w.txs[key] = txSeen{n: seen.n + 1, ch: t.Channel, month: mi, from: from, to: to}
	w.chans[t.Channel]++
	w.perMonth[entMonth{from, mi}]++
	w.perMonth[entMonth{to, mi}]++
	w.months[m] = true
	s := txLabel(key)
	b := idBucket(t.ID)
	w.str(s, predTxID(b), t.ID) // first: dropSuperseded cuts blocks at it
	w.str(s, predTxMonth(b), m)
	w.value(s, txPred(m, fTime), rdfTyped(t.Time.Format(time.RFC3339Nano), "xs:dateTime"))
	w.value(s, txPred(m, fAmount), rdfTyped(strconv.FormatInt(t.Amount, 10), "xs:int"))
	w.value(s, txPred(m, fChan), rdfTyped(strconv.Itoa(int(t.Channel)), "xs:int"))
	w.str(s, txPred(m, fSortID), sortID(t.ID))
	w.edge(s, txPred(m, fFrom), from.label, "")
	w.edge(s, txPred(m, fTo), to.label, "")
	w.str(s, txPred(m, fRec), mustJSON(t))
	w.edge(from.label, predSent+m, s, "")
	w.edge(to.label, predRecv+m, s, "")
	return w.err
}

func hashID(id string) txKey {
	h := fnv.New128a()
	h.Write([]byte(id))
	var k txKey
	h.Sum(k[:0])
	return k
}

func txLabel(k txKey) string { return "_:t" + hex.EncodeToString(k[:]) }

// BeginBatch hands out the next batch number.
func (w *BulkWriter) BeginBatch(file, sha256, format string) uint32 {
	return w.book.Begin(file, sha256, format)
}

// EndBatch keeps the batch for Finish, which writes it with the records, so
// that the bulk-loaded cluster lists the file as imported (a later client
// import of it is skipped).
func (w *BulkWriter) EndBatch(b graph.Batch) error {
	if w.err != nil {
		return w.err
	}
	b, err := w.book.End(b, time.Now())
	if err != nil {
		return err
	}
	w.batches = append(w.batches, b)
	return nil
}

// Finish drops the superseded versions of transactions given more than
// once, writes the entities, links, batches and the stats the Loader would
// store, closes the data file and writes the schema with every month
// bucket.
func (w *BulkWriter) Finish(ctx context.Context, progress func(stage string, done, total int64)) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return errors.New("bulk output: finished already")
	}
	w.done = true
	if progress != nil {
		progress("writing bulk files", 0, int64(len(w.entList)))
	}
	if len(w.dups) > 0 {
		if w.err = w.dropSuperseded(ctx); w.err != nil {
			return w.err
		}
	}
	if w.err = w.hubSummaries(ctx); w.err != nil {
		return w.err
	}
	w.entityMonths()
	st := graph.Stats{Entities: map[graph.Kind]int{}, Links: map[graph.LinkType]int{}, TxnsByChan: map[graph.Channel]int{}}
	for i, e := range w.entList {
		if i%100_000 == 0 {
			if err := ctx.Err(); err != nil {
				w.err = err
				return err
			}
		}
		w.writeEntity(e, &st)
	}
	for _, l := range w.linkList {
		f := "src=" + rdfString(l.src)
		if l.role != "" {
			f += ", role=" + rdfString(l.role)
		}
		w.edge(l.from.label, predLinkOut+l.typ.String(), l.to.label, f)
		w.edge(l.to.label, predLinkIn+l.typ.String(), l.from.label, f)
		st.Links[l.typ]++
	}
	for c, n := range w.chans {
		if n > 0 {
			st.TxnsByChan[c] = n
			st.Txns += n
		}
	}
	slices.SortFunc(w.batches, func(a, b graph.Batch) int { return int(a.ID) - int(b.ID) })
	for _, b := range w.batches {
		s := "_:b" + strconv.FormatUint(uint64(b.ID), 10)
		w.value(s, predBatch, rdfTyped(strconv.FormatUint(uint64(b.ID), 10), "xs:int"))
		w.str(s, predBatchSum, b.SHA256)
		w.str(s, predBatchRec, mustJSON(b))
	}
	st.Batches = w.batches
	w.str("_:stats", predMeta, metaStats)
	w.value("_:stats", predMonthsOK, rdfTyped("true", "xs:boolean"))
	w.str("_:stats", predStatsRec, mustJSON(st))
	if w.err != nil {
		return w.err
	}
	if w.err = w.close(); w.err != nil {
		return w.err
	}
	if w.err = os.Rename(w.part.Name(), filepath.Join(w.dir, BulkData)); w.err != nil {
		return w.err
	}
	if w.err = os.WriteFile(filepath.Join(w.dir, BulkSchema), []byte(w.Schema()), 0o600); w.err != nil {
		return w.err
	}
	if progress != nil {
		progress("writing bulk files", int64(len(w.entList)), int64(len(w.entList)))
	}
	return nil
}

// writeEntity writes an entity node as the Loader leaves it and counts it.
func (w *BulkWriter) writeEntity(e *bulkEnt, st *graph.Stats) {
	s := e.label
	w.str(s, predRef, refID(e.ref))
	w.value(s, predKind, rdfTyped(strconv.Itoa(int(e.ref.Kind)), "xs:int"))
	w.str(s, predKey, e.ref.Key)
	if e.stub != nil {
		w.str(s, predStubRec, mustJSON(*e.stub))
	}
	rec := e.full
	if rec == nil {
		rec = e.stub
	}
	if rec == nil {
		return // only referenced: a node with its reference, as the Loader makes
	}
	st.Entities[e.ref.Kind]++
	if rec.Stub {
		st.Stubs++
	}
	for _, l := range e.lists {
		w.str(s, predList, l)
	}
	w.value(s, predStub, rdfTyped(strconv.FormatBool(rec.Stub), "xs:boolean"))
	w.str(s, predEntity, mustJSON(*rec))
	w.str(s, predName, rec.Name)
	w.str(s, predFind, FindText(graph.DocFor(*rec)))
}

func (w *BulkWriter) close() error {
	if err := w.w.Flush(); err != nil {
		return err
	}
	if err := w.gz.Close(); err != nil {
		return err
	}
	if err := w.part.Sync(); err != nil {
		return err
	}
	return w.part.Close()
}

// dropSuperseded rewrites the transactions written so far, keeping of each
// id written more than once its last block (a block is the lines from a
// tx.id.NN line to the next: the node, its attributes and its two month
// edges).
func (w *BulkWriter) dropSuperseded(ctx context.Context) error {
	if err := w.close(); err != nil {
		return err
	}
	old := w.part.Name() + ".old"
	if err := os.Rename(w.part.Name(), old); err != nil {
		return err
	}
	defer os.Remove(old)
	in, err := os.Open(old)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return err
	}
	part, err := os.OpenFile(w.part.Name(), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w.part = part
	w.open(part)
	last := make(map[string]uint32, len(w.dups))
	for k, n := range w.dups {
		last[txLabel(k)] = n
	}
	seen := map[string]uint32{}
	idPred := []byte(" <tx.id.") // predTxID(b)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	keep := true
	w.lines = 0
	for n := 0; sc.Scan(); n++ {
		if n%1_000_000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line := sc.Bytes()
		if sp := bytes.IndexByte(line, ' '); sp > 0 && bytes.HasPrefix(line[sp:], idPred) {
			label := string(line[:sp])
			if total, dup := last[label]; dup {
				seen[label]++
				keep = seen[label] == total
			} else {
				keep = true
			}
		}
		if keep {
			w.w.Write(line)
			if err := w.w.WriteByte('\n'); err != nil {
				return err
			}
			w.lines++
		}
	}
	return sc.Err()
}

// Abort removes the partial data file.
func (w *BulkWriter) Abort() error {
	if w.done && w.err == nil {
		return nil
	}
	w.done = true
	if w.err == nil {
		w.err = errors.New("bulk output: aborted")
	}
	w.gz.Close()
	w.part.Close()
	return os.Remove(w.part.Name())
}

// Lines is the number of N-Quads written.
func (w *BulkWriter) Lines() int64 { return w.lines }

// Schema is the bulk loader's schema: casegraph's (the id buckets included),
// with the month buckets the data use (their adjacency and attributes).
func (w *BulkWriter) Schema() string {
	var b strings.Builder
	b.WriteString(baseSchema())
	if w.listed {
		b.WriteString(listSchema)
	}
	months := make([]string, 0, len(w.months))
	for m := range w.months {
		months = append(months, m)
	}
	slices.Sort(months)
	for _, m := range months {
		b.WriteString(monthSchema(m))
	}
	return b.String()
}

// Entity returns an entity written so far (the full record, else the
// stub), or an error wrapping graph.ErrNotFound: the list importers read
// what the import stored before them.
func (w *BulkWriter) Entity(_ context.Context, ref graph.Ref) (graph.Entity, error) {
	if e := w.ents[refID(ref)]; e != nil {
		if rec, ok := e.record(); ok {
			return rec, nil
		}
	}
	return graph.Entity{}, fmt.Errorf("read entity %s: %w", ref, graph.ErrNotFound)
}

func (e *bulkEnt) record() (graph.Entity, bool) {
	rec := e.full
	if rec == nil {
		rec = e.stub
	}
	if rec == nil {
		return graph.Entity{}, false
	}
	out := *rec
	out.Props = cloneProps(out.Props)
	return out, true
}

// Txn is not kept by the writer: an import into a fresh cluster checks no
// transaction against earlier imports.
func (w *BulkWriter) Txn(_ context.Context, id string) (graph.Txn, error) {
	return graph.Txn{}, fmt.Errorf("read transaction %s: %w (a bulk output keeps no transactions to read)", id, graph.ErrNotFound)
}

// Entities calls fn for every entity (full or stub) of kind k written so
// far, in order of first mention.
func (w *BulkWriter) Entities(ctx context.Context, k graph.Kind, fn func(graph.Entity) error) error {
	for _, e := range w.entList {
		if e.ref.Kind != k {
			continue
		}
		if rec, ok := e.record(); ok {
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// MarkListed records, before Finish, that the list file name named refs, as
// DB.MarkListed does after a client import: each entity's node carries name
// in cg.list, so that a bulk-loaded cluster answers pull --list as one the
// client loaded.
func (w *BulkWriter) MarkListed(name string, refs []graph.Ref) {
	for _, r := range refs {
		e := w.ent(r)
		if !slices.Contains(e.lists, name) {
			e.lists = append(e.lists, name)
			w.listed = true
		}
	}
}

// entityMonths writes each entity's months (cg.months): those it has
// transactions in, after dropSuperseded, in the entities' order.
func (w *BulkWriter) entityMonths() {
	pairs := make([]entMonth, 0, len(w.perMonth))
	for k, n := range w.perMonth {
		if n > 0 {
			pairs = append(pairs, k)
		}
	}
	slices.SortFunc(pairs, func(a, b entMonth) int {
		if c := strings.Compare(a.e.label, b.e.label); c != 0 {
			return c
		}
		return int(a.month - b.month)
	})
	for _, p := range pairs {
		w.str(p.e.label, predMonths, monthName(int(p.month)))
	}
}
