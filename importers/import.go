package importers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"casegraph/graph"
	"casegraph/internal/csvsafe"
)

// MaxRejectsKept is how many rejects a Report keeps in memory; every reject is
// still written to Options.Rejects.
const MaxRejectsKept = 1000

// maxSeen bounds the per-file set of entities and links already emitted, so a
// huge file does not send the same stub millions of times yet memory stays
// bounded. When the set is full it is cleared; the sink converges repeats.
// The set holds 64-bit hashes, not the keys: lookups stay cheap and rows are
// not pinned in memory. Two different keys colliding would drop one repeat
// record; with at most 2^20 keys the odds are below 1 in 10^7 per file.
const maxSeen = 1 << 20

// maxValueLen caps the value quoted in a reject.
const maxValueLen = 200

// Reject is one row that was not imported, and why.
type Reject struct {
	File   string
	Line   int    // 1-based physical line where the record starts
	Column string // the offending column; empty when the row as a whole is wrong
	Value  string // the offending value, cut to 200 bytes
	Reason string
}

// Report accounts for one imported file.
type Report struct {
	File     string
	Format   Format
	Read     int      // data rows read (records after the header); a row whose records the sink refused, aborting the import, is not counted
	Imported int      // rows that reached the sink
	Rejected int      // rows refused; see Rejects and the rejects file
	Rejects  []Reject // the first MaxRejectsKept rejects
	// Skipped counts rows that were read but are not data: metadata rows
	// above the header and total or balance rows (Итого, Остаток) of a bank
	// statement, or rows a mapping profile skips. The canonical importer
	// skips nothing. Skips keeps the first MaxRejectsKept, with line and why.
	Skipped int
	Skips   []Reject
	// Times counts how the transactions gave their times, TimeZone names
	// the wall clock they are read in (an IANA zone or "UTC+01:00"); Clock
	// summarises both for the import batch.
	Times    TimeCounts
	TimeZone string
	Stubs    int // stub entities emitted for references to unknown entities
	// UnreadLines counts physical lines that could not be read as rows at all:
	// an opening quote that is never closed swallows the rest of the file into
	// one broken record. That record is counted once in Read and Rejected; the
	// further lines it swallowed are counted here, not in Read.
	UnreadLines int
}

// Reconciles reports whether every row read was imported, rejected or
// skipped.
func (r Report) Reconciles() bool { return r.Read == r.Imported+r.Rejected+r.Skipped }

// Options configure one import.
type Options struct {
	Name     string    // file name recorded in provenance and rejects
	Batch    uint32    // import batch number recorded in provenance
	Rejects  io.Writer // receives rejects as CSV rows file,line,column,value,reason; may be nil
	Progress func(bytesRead int64, rows int)
	Location *time.Location // for zone-less times; nil means Almaty()
}

// RejectWriter is the rejects CSV shared by the files of one import run. It
// writes the header once, then passes rows through; writes are serialised so
// that files imported concurrently do not interleave within a line.
type RejectWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

// RejectHeader is the header row of a rejects file.
const RejectHeader = "file,line,column,value,reason\n"

// NewRejectWriter writes the header to w and returns the writer to pass as
// Options.Rejects for every file. A failed header write is returned by the
// first Write.
func NewRejectWriter(w io.Writer) *RejectWriter {
	_, err := io.WriteString(w, RejectHeader)
	if err != nil {
		err = fmt.Errorf("write rejects header: %w", err)
	}
	return &RejectWriter{w: w, err: err}
}

// Write writes p, which ImportReader always makes one or more whole CSV rows.
func (rw *RejectWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.err != nil {
		return 0, rw.err
	}
	return rw.w.Write(p)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64 // read on the read-ahead goroutine, shown by progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// rowError is why one row is rejected; the zero value means accepted.
type rowError struct {
	column string
	value  string
	reason string
}

func (e rowError) failed() bool { return e.reason != "" }

// bad builds a rowError from a validation error.
func bad(column, value string, err error) rowError {
	return rowError{column: column, value: value, reason: err.Error()}
}

// importer holds the state of one ImportReader call.
type importer struct {
	sink    Sink
	opts    Options
	loc     *time.Location
	rep     Report
	col     map[string]int // known column → index
	extra   []extraCol     // unknown columns, kept as properties
	nfields int
	seen    map[uint64]struct{} // hashes of entities and links already emitted
	seed    maphash.Seed
	rejBuf  bytes.Buffer
	rejCSV  *csv.Writer
	// firstTxn is the first transaction's time: the zone's own offset there
	// tells whether stated offsets differ from it (TimeCounts.Zone).
	firstTxn time.Time
	header   []string
	// idCol is the column that identifies a row's record (iin, pan,
	// exchange_id, group_id, tx_id), -1 for memberships; ids maps its hash
	// to the first row that gave it (conflicts).
	idCol int
	ids   *IDGuard
}

type extraCol struct {
	name string
	idx  int
}

// ImportReader reads one canonical CSV file from r, detects its format from
// the header, validates every row and sends the records to sink. A row that
// fails validation is rejected (recorded in the report and written to
// opts.Rejects) and never aborts the import; a read, sink or rejects-writer
// error, or a cancelled ctx, stops it with an error. The report is returned
// in every case and always reconciles.
func ImportReader(ctx context.Context, r io.Reader, sink Sink, opts Options) (Report, error) {
	im := &importer{
		sink: sink,
		opts: opts,
		loc:  opts.Location,
		seen: make(map[uint64]struct{}),
		seed: maphash.MakeSeed(),
	}
	if im.loc == nil {
		im.loc = Almaty()
	}
	im.rep.File = opts.Name
	im.rejCSV = csv.NewWriter(&im.rejBuf)
	err := im.run(ctx, r)
	im.rep.TimeZone = im.rep.Times.Zone(ZoneName(im.loc), im.firstTxn)
	return im.rep, err
}

func (im *importer) run(ctx context.Context, r io.Reader) error {
	name := im.opts.Name
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 256<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		return fmt.Errorf("%s: starts with two byte-order marks: not a file casegraph reads", name)
	}
	head, _ := br.Peek(8192)
	if err := CheckHead(head); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	rd := csv.NewReader(LimitRuns(newCRReader(br), "\n", MaxLineBytes))
	rd.ReuseRecord = true
	rd.FieldsPerRecord = -1

	header, err := rd.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty file, want a header row", name)
	}
	if err != nil {
		return fmt.Errorf("%s: read header: %w", name, err)
	}
	header = append([]string(nil), header...)
	for i, h := range header {
		if err := CheckText(h, 256); err != nil {
			return fmt.Errorf("%s: header column %d %q: %w", name, i+1, Preview(strings.ToValidUTF8(h, "\ufffd")), err)
		}
	}
	f, err := Detect(header)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	im.rep.Format = f
	im.setColumns(f, header)
	im.header = header
	im.setIdentity(f)

	handle := im.handler(f)
	last := time.Now()
	lastLine := 1
	ra := NewReadAhead(rd)
	defer ra.Close()
	// unclosed is a row whose opening quote was never closed: encoding/csv
	// then reads to the end of the file as one field, and when nothing
	// follows, nothing after it could be recovered.
	var unclosed *csv.ParseError
	for {
		rec, line, err := ra.Read()
		if err == io.EOF {
			if pe := unclosed; pe != nil {
				im.rep.UnreadLines = pe.Line - pe.StartLine
				return fmt.Errorf("%s: line %d: quoted field never closed; lines %d–%d (end of file) could not be read as rows",
					name, pe.StartLine, pe.StartLine+1, pe.Line)
			}
			break
		}
		unclosed = nil
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("%s: read after line %d: %w", name, lastLine, err)
			}
			lastLine = pe.Line
			im.rep.Read++
			reason := "malformed CSV: " + pe.Err.Error() + " (line " + strconv.Itoa(pe.Line) + ", column " + strconv.Itoa(pe.Column) + ")"
			if err := im.reject(pe.StartLine, rowError{reason: reason}); err != nil {
				return err
			}
			if pe.Err == csv.ErrQuote && pe.Line > pe.StartLine {
				unclosed = pe
			}
		} else {
			im.rep.Read++
			lastLine = line
			src := graph.Provenance{File: name, Line: line, Batch: im.opts.Batch}
			if len(rec) != im.nfields {
				re := rowError{reason: "want " + strconv.Itoa(im.nfields) + " fields as in the header, got " + strconv.Itoa(len(rec))}
				if err := im.reject(line, re); err != nil {
					return err
				}
			} else if re := im.checkFields(rec); re.failed() {
				if err := im.reject(line, re); err != nil {
					return err
				}
			} else if re := im.conflict(rec, name, line); re.failed() {
				if err := im.reject(line, re); err != nil {
					return err
				}
			} else {
				re, err := handle(rec, src)
				if err != nil {
					if ce, ok := AsRecordError(err); ok {
						re, err = rowError{column: ce.Column, value: showValue(ce.Value), reason: ce.Reason}, nil
					}
				}
				if err != nil {
					// The row was not accounted for: it is neither imported nor
					// rejected, so it is not counted as read either.
					im.rep.Read--
					return fmt.Errorf("%s: line %d: %w", name, line, err)
				}
				if re.failed() {
					if err := im.reject(line, re); err != nil {
						return err
					}
				} else {
					im.rep.Imported++
					im.remember()
				}
			}
		}
		if im.rep.Read&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%s: import cancelled after %d rows: %w", name, im.rep.Read, err)
			}
			if im.opts.Progress != nil && (im.rep.Read&65535 == 0 || time.Since(last) >= 100*time.Millisecond) {
				last = time.Now()
				im.opts.Progress(cr.n.Load(), im.rep.Read)
			}
		}
	}
	if im.opts.Progress != nil {
		im.opts.Progress(cr.n.Load(), im.rep.Read)
	}
	return nil
}

// RejectFields is the rejects-file row of rj. Every cell is neutralised as
// the exports' CSV cells are (internal/csvsafe): a rejected value is
// attacker-controlled text, and the rejects file is opened in spreadsheets.
func RejectFields(rj Reject) []string {
	return []string{csvsafe.Cell(rj.File, false), strconv.Itoa(rj.Line), csvsafe.Cell(rj.Column, false),
		csvsafe.Cell(rj.Value, false), csvsafe.Cell(rj.Reason, false)}
}

// reject records a rejected row and writes it to the rejects file.
func (im *importer) reject(line int, re rowError) error {
	im.rep.Rejected++
	v := re.value
	if len(v) > maxValueLen {
		cut := maxValueLen
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut] + "…"
	}
	rj := Reject{File: im.opts.Name, Line: line, Column: re.column, Value: v, Reason: re.reason}
	if len(im.rep.Rejects) < MaxRejectsKept {
		im.rep.Rejects = append(im.rep.Rejects, rj)
	}
	if im.opts.Rejects == nil {
		return nil
	}
	im.rejBuf.Reset()
	_ = im.rejCSV.Write(RejectFields(rj))
	im.rejCSV.Flush()
	if err := im.rejCSV.Error(); err != nil {
		return fmt.Errorf("%s: encode reject of line %d: %w", im.opts.Name, line, err)
	}
	if _, err := im.opts.Rejects.Write(im.rejBuf.Bytes()); err != nil {
		return fmt.Errorf("%s: write reject of line %d: %w", im.opts.Name, line, err)
	}
	return nil
}

// setColumns maps the header onto the known columns of f; the rest are kept
// as properties under their normalised names.
func (im *importer) setColumns(f Format, header []string) {
	spec, _ := specFor(f)
	known := make(map[string]bool)
	for _, c := range spec.required {
		known[c] = true
	}
	for _, c := range spec.optional {
		known[c] = true
	}
	im.nfields = len(header)
	im.col = make(map[string]int)
	for i, h := range header {
		n := headerName(h)
		switch {
		case n == "":
			// A column without a name is still data; keep it by position.
			im.extra = append(im.extra, extraCol{name: "column_" + strconv.Itoa(i+1), idx: i})
		case known[n]:
			im.col[n] = i
		default:
			im.extra = append(im.extra, extraCol{name: n, idx: i})
		}
	}
}

// idx returns the index of a known column, or -1 when the file lacks it.
func (im *importer) idx(name string) int {
	if i, ok := im.col[name]; ok {
		return i
	}
	return -1
}

// field returns the trimmed value at index i, or "" when i is -1.
func field(rec []string, i int) string {
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// props collects the non-empty unknown columns of a row, or nil.
func (im *importer) props(rec []string) map[string]string {
	var p map[string]string
	for _, x := range im.extra {
		v := strings.TrimSpace(rec[x.idx])
		if v == "" {
			continue
		}
		if p == nil {
			p = make(map[string]string, len(im.extra)+4)
		}
		p[x.name] = v
	}
	return p
}

// setProp adds k=v to p (allocating it) when v is not empty.
func setProp(p map[string]string, k, v string) map[string]string {
	if v == "" {
		return p
	}
	if p == nil {
		p = make(map[string]string, 4)
	}
	p[k] = v
	return p
}

// required returns a rowError when a required value is empty.
func required(column, v string) rowError {
	if v == "" {
		return rowError{column: column, reason: "required value is empty"}
	}
	return rowError{}
}

// NormalizeName trims a name and collapses runs of white space to one space;
// the script and letters are kept as given.
func NormalizeName(s string) string {
	s = strings.TrimSpace(s)
	clean := true
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			clean = false
			break
		}
		sp := c == ' '
		if (sp && prevSpace) || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// mix is the splitmix64 finaliser.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ (h >> 31)
}

// refHash identifies r in the seen set.
func (im *importer) refHash(r graph.Ref) uint64 {
	return mix(maphash.String(im.seed, r.Key) + uint64(r.Kind)*0x9e3779b97f4a7c15)
}

// linkHash identifies a link in the seen set.
func (im *importer) linkHash(from, to graph.Ref, typ graph.LinkType) uint64 {
	return mix(im.refHash(from) ^ mix(im.refHash(to)+uint64(typ)+0x51ed27064a5f3c1d))
}

// firstTime reports whether h is new in this file and records it.
func (im *importer) firstTime(h uint64) bool {
	if _, ok := im.seen[h]; ok {
		return false
	}
	if len(im.seen) >= maxSeen {
		clear(im.seen)
	}
	im.seen[h] = struct{}{}
	return true
}

// stub emits a stub entity for r unless this file already emitted r.
func (im *importer) stub(r graph.Ref, src graph.Provenance) error {
	return im.once(graph.Entity{Ref: r, Stub: true, Src: src})
}

// once emits e unless an entity with its Ref was already emitted by this file.
func (im *importer) once(e graph.Entity) error {
	if e.Ref.Kind == graph.KindCash || !im.firstTime(im.refHash(e.Ref)) {
		return nil
	}
	if err := im.sink.PutEntity(e); err != nil {
		return fmt.Errorf("put %s: %w", e.Ref, err)
	}
	if e.Stub {
		im.rep.Stubs++
	}
	return nil
}

// put emits a full entity and marks its Ref as emitted.
func (im *importer) put(e graph.Entity) error {
	if err := im.sink.PutEntity(e); err != nil {
		return fmt.Errorf("put %s: %w", e.Ref, err)
	}
	im.firstTime(im.refHash(e.Ref))
	return nil
}

// link emits l. With dedupe, links that repeat within a file (the same card
// using the same device for every transaction) are sent once.
func (im *importer) link(l graph.Link, dedupe bool) error {
	if dedupe && !im.firstTime(im.linkHash(l.From, l.To, l.Type)) {
		return nil
	}
	if err := im.sink.PutLink(l); err != nil {
		return fmt.Errorf("put link %s %s %s: %w", l.From, l.Type, l.To, err)
	}
	return nil
}

// identLink emits a linking-identifier entity (device, ip) and the link from
// an instrument to it, both once per file. The link is looked up first: when
// it was seen, so was the entity, and a repeat costs one lookup.
func (im *importer) identLink(from, to graph.Ref, typ graph.LinkType, src graph.Provenance) error {
	if !im.firstTime(im.linkHash(from, to, typ)) {
		return nil
	}
	if err := im.once(graph.Entity{Ref: to, Src: src}); err != nil {
		return err
	}
	if err := im.sink.PutLink(graph.Link{From: from, To: to, Type: typ, Src: src}); err != nil {
		return fmt.Errorf("put link %s %s %s: %w", from, typ, to, err)
	}
	return nil
}
