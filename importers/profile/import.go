package profile

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"casegraph/graph"
	"casegraph/importers"
)

// Options configure one profile import.
type Options struct {
	importers.Options
	// Open opens a lookup file named by the profile, relative to the
	// directory of the imported file. Nil means the profile may not use
	// lookups.
	Open func(name string) (io.ReadCloser, error)
}

// maxSeen bounds the per-file set of references already sent, as in the
// canonical importer; after it fills the set restarts and the sink
// converges repeats.
const maxSeen = 1 << 20

// maxLookupRows bounds a lookup table: lookups are for small code and
// ownership tables, not for joining two transaction files.
const maxLookupRows = 2_000_000

// rowErr is why a row is rejected.
type rowErr struct {
	column, value, reason string
}

// Import reads one file through the profile's mapping for opts.Name and
// sends the records to sink. Like importers.ImportReader it accounts for
// every row (read = imported + rejected + skipped), rejects rows with line
// and reason, and stops only on read, sink or rejects-writer errors or a
// cancelled ctx; the report is returned in every case.
func (p *Profile) Import(ctx context.Context, r io.Reader, sink importers.Sink, opts Options) (importers.Report, error) {
	cands, err := p.candidates(opts.Name)
	if err != nil {
		return importers.Report{File: opts.Name}, err
	}
	run := &fileRun{p: p, cands: cands, fm: cands[0], sink: sink, opts: opts,
		seen: make(map[graph.Ref]struct{}), defEnts: make(map[graph.Ref]struct{}), defLinks: make(map[linkKey]struct{})}
	run.rec = importers.NewRecorder(opts.Options, importers.Format(run.format()))
	_, run.ctx.maps.on = sink.(importers.RecordCopier)
	err = run.run(ctx, r)
	run.rec.SetTimeZone(importers.ZoneName(run.loc))
	return run.rec.Report(), err
}

func (fr *fileRun) format() string {
	if fr.fm.Format != "" {
		return fr.fm.Format
	}
	return fr.p.Name
}

type linkKey struct {
	from, to graph.Ref
	typ      graph.LinkType
}

// fileRun holds the state of one Import.
type fileRun struct {
	p       *Profile
	cands   []*FileMap
	fm      *FileMap
	sink    importers.Sink
	opts    Options
	rec     *importers.Recorder
	seen    map[graph.Ref]struct{} // references sent (emit, on the main goroutine)
	recent  [4]graph.Ref           // the last references stubbed
	nrecent int
	loc     *time.Location
	dec     byte
	skips   []*boundCond
	records []*boundRecord
	// stepUnit is the step of the file's transaction times when every
	// transaction record reads them as simulation steps, else 0.
	stepUnit time.Duration
	ctx      rowCtx
	free     chan *evalBatch // evaluated batches the main goroutine is done with
	// links of imported rows, kept by the evaluator
	defLinks map[linkKey]struct{}
	// entities sent (emit, on the main goroutine): the first imported row
	// defining an entity defines it
	defEnts map[graph.Ref]struct{}
	// entIDs finds entities a later row gives with a different name or
	// property (apply, on the main goroutine).
	entIDs *importers.IDGuard
	// entSums is what each entity sent said (importers.EntitySum): a later
	// row repeating it exactly skips entIDs' field-by-field check.
	entSums map[graph.Ref]uint64
	// txIDs finds transaction ids repeated with different data (apply).
	txIDs *importers.IDGuard
	// the records of the row being evaluated
	ents  []graph.Entity
	links []graph.Link
	txns  []graph.Txn
}

type countingReader struct {
	r io.Reader
	n atomic.Int64 // read on the read-ahead goroutine, shown by progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// openTable sniffs (or takes from fm) the dialect and returns a CSV reader
// over the decoded text.
func openTable(r io.Reader, fm *FileMap) (*csv.Reader, importers.Dialect, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	d, err := importers.SniffDialect(br)
	if err != nil {
		return nil, d, err
	}
	switch fm.Encoding {
	case importers.EncodingUTF8:
		d.Encoding = importers.EncodingUTF8
	case importers.EncodingCP1251, "cp1251":
		d.Encoding = importers.EncodingCP1251
	}
	if sep, _ := separatorRune(fm.Separator); sep != 0 && sep != d.Comma {
		d.Comma = sep
		// The sniffed header line was for another separator.
		if fm.HeaderLine == 0 {
			d.HeaderLine = 1
		}
	}
	if fm.HeaderLine > 0 {
		d.HeaderLine = fm.HeaderLine
	}
	rd := csv.NewReader(importers.LimitRuns(importers.NewDecoder(br, d), "\n", importers.MaxLineBytes))
	rd.Comma = d.Comma
	rd.FieldsPerRecord = -1
	rd.ReuseRecord = true
	// Bank exports quote carelessly (ТОО "Ромашка" unquoted); a stray
	// quote is text, not an error.
	rd.LazyQuotes = true
	return rd, d, nil
}

func (fr *fileRun) run(ctx context.Context, r io.Reader) error {
	name := fr.opts.Name
	cr := &countingReader{r: r}
	rd, d, err := openTable(cr, fr.fm)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// Metadata rows, then the header.
	var metaRows [][2]string
	var hdr *header
	for hdr == nil {
		rec, err := rd.Read()
		if err == io.EOF {
			return fmt.Errorf("%s: no header row (expected on line %d, dialect %s)", name, d.HeaderLine, d)
		}
		if err != nil {
			return fmt.Errorf("%s: read header: %w", name, err)
		}
		line, _ := rd.FieldPos(0)
		if line < d.HeaderLine {
			fr.rec.Read()
			fr.rec.Skip(line, "metadata above the header")
			if l, v, ok := metaPair(rec); ok {
				metaRows = append(metaRows, [2]string{l, v})
			}
			continue
		}
		cols := append([]string(nil), rec...)
		if err := fr.choose(cols); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for i, c := range cols {
			for from, to := range fr.fm.Rename {
				if strings.EqualFold(strings.TrimSpace(c), strings.TrimSpace(from)) {
					cols[i] = to
				}
			}
		}
		hdr = newHeader(cols)
	}
	fm := fr.fm
	fr.loc = fr.opts.Location
	if fm.Timezone != "" {
		loc, err := time.LoadLocation(fm.Timezone)
		if err != nil {
			return fmt.Errorf("%s: timezone %q: %w", name, fm.Timezone, err)
		}
		fr.loc = loc
	}
	if fr.loc == nil {
		fr.loc = importers.Almaty()
	}
	fr.dec, _ = decimalByte(fm.Decimal)
	fr.ctx.meta = map[string]string{}
	fr.ctx.file = name
	for k, expr := range fm.Meta {
		rx, err := regexp.Compile(expr)
		if err != nil {
			return fmt.Errorf("%s: meta %s: %w", name, k, err)
		}
		for _, m := range metaRows {
			if rx.MatchString(m[0]) {
				fr.ctx.meta[k] = m[1]
				break
			}
		}
	}
	if err := fr.bind(hdr); err != nil {
		return fmt.Errorf("%s: profile %s: %w", name, fr.p.Name, err)
	}
	nfields := len(hdr.cols)
	last := time.Now()
	// Rows are evaluated (mapped, validated, typed) on a goroutine of their
	// own, a batch ahead, and recorded and sent to the sink here in file
	// order: the two halves cost about the same, so a statement's rows go
	// through on both cores. Rows are independent once the header is bound;
	// only the evaluator touches its caches.
	ra := importers.NewReadAhead(rd)
	defer ra.Close()
	batches, stop := fr.evaluate(ra, nfields)
	defer close(stop)
	row := 0
	for b := range batches {
		for i := range b.rows {
			o := &b.rows[i]
			if err := fr.apply(b, o); err != nil {
				// The row is neither imported nor rejected: not read either.
				fr.rec.Unread()
				return fmt.Errorf("%s: line %d: %w", name, o.line, err)
			}
			row++
			if row&4095 == 0 {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("%s: import cancelled after %d rows: %w", name, row, err)
				}
				if fr.opts.Progress != nil && time.Since(last) >= 100*time.Millisecond {
					last = time.Now()
					fr.opts.Progress(cr.n.Load(), fr.rec.Report().Read)
				}
			}
		}
		if b.final != nil && b.final != io.EOF {
			return fmt.Errorf("%s: read after row %d: %w", name, row, b.final)
		}
		fr.free <- b
	}
	if fr.opts.Progress != nil {
		fr.opts.Progress(cr.n.Load(), fr.rec.Report().Read)
	}
	return nil
}

// choose picks the file mapping whose required columns the header has.
func (fr *fileRun) choose(cols []string) error {
	have := map[string]bool{}
	for _, c := range cols {
		have[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))] = true
	}
	for _, fm := range fr.cands {
		all := true
		for _, c := range fm.Columns {
			if !have[strings.ToLower(strings.TrimSpace(c))] {
				all = false
				break
			}
		}
		if all {
			fr.fm = fm
			fr.rec.SetFormat(importers.Format(fr.format()))
			return nil
		}
	}
	return fmt.Errorf("profile %s: the header (%s) has the columns of none of its mappings for this file", fr.p.Name, strings.Join(cols, ", "))
}

// metaPair reads "label; value" or "label: value" from a metadata row.
func metaPair(rec []string) (label, value string, ok bool) {
	for _, c := range rec {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if label == "" {
			label = c
			if l, v, found := strings.Cut(c, ":"); found && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(l), strings.TrimSpace(v), true
			}
			continue
		}
		return strings.TrimSuffix(label, ":"), c, true
	}
	return "", "", false
}

// emit sends the validated records of a row. Each entity is sent once per
// file, from the first imported row defining it (a later row's values were
// compared with it, apply), each link likewise (the evaluator's
// linkDefined); emit adds stubs for the references nothing defined. Like
// the sets of references sent, the set of entities defined restarts when it
// fills; the sink converges what is then sent again.
func (fr *fileRun) emit(src graph.Provenance, ents []graph.Entity, links []graph.Link, txns []graph.Txn) error {
	for _, e := range ents {
		if _, ok := fr.defEnts[e.Ref]; ok {
			continue
		}
		if err := fr.sink.PutEntity(e); err != nil {
			return fmt.Errorf("put %s: %w", e.Ref, err)
		}
		// What was sent is what later rows are compared with.
		if fr.entIDs.CheckEntity(&e) == nil {
			fr.entIDs.Remember()
		}
		if len(fr.defEnts) >= maxSeen {
			clear(fr.defEnts)
			clear(fr.entSums)
		}
		fr.defEnts[e.Ref] = struct{}{}
		fr.entSums[e.Ref] = importers.EntitySum(fr.entIDs.Seed(), &e)
		fr.mark(e.Ref)
	}
	for _, l := range links {
		if err := fr.stub(l.From, src); err != nil {
			return err
		}
		if err := fr.stub(l.To, src); err != nil {
			return err
		}
		if err := fr.sink.PutLink(l); err != nil {
			return fmt.Errorf("put link %s %s %s: %w", l.From, l.Type, l.To, err)
		}
	}
	for _, t := range txns {
		if err := fr.stub(t.From, src); err != nil {
			return err
		}
		if err := fr.stub(t.To, src); err != nil {
			return err
		}
		if err := fr.sink.PutTxn(t); err != nil {
			return fmt.Errorf("put transaction %s: %w", t.ID, err)
		}
		fr.txIDs.Check(t.ID, importers.TxnSum(fr.txIDs.Seed(), &t), src.Line)
		fr.txIDs.Remember()
		switch {
		case fr.stepUnit > 0:
			fr.rec.Times().AddStep(fr.stepUnit)
		case t.DateOnly:
			fr.rec.Times().AddDate()
		default:
			fr.rec.Times().AddTimestamp(t.Time, fr.loc)
		}
	}
	return nil
}

// mark records r as sent; it reports whether r is new.
func (fr *fileRun) mark(r graph.Ref) bool {
	if _, ok := fr.seen[r]; ok {
		return false
	}
	if len(fr.seen) >= maxSeen {
		clear(fr.seen)
	}
	fr.seen[r] = struct{}{}
	return true
}

func (fr *fileRun) stub(r graph.Ref, src graph.Provenance) error {
	if r.Kind == graph.KindCash {
		return nil
	}
	// A statement names its own account on every row: the last few
	// references stubbed are checked before the set.
	for _, x := range fr.recent {
		if x == r {
			return nil
		}
	}
	fr.recent[fr.nrecent%len(fr.recent)] = r
	fr.nrecent++
	if !fr.mark(r) {
		return nil
	}
	if err := fr.sink.PutEntity(graph.Entity{Ref: r, Stub: true, Src: src}); err != nil {
		return fmt.Errorf("put %s: %w", r, err)
	}
	fr.rec.Stub()
	return nil
}
