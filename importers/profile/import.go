package profile

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
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
	// entities and links of imported rows, kept by the evaluator
	defEnts  map[graph.Ref]struct{}
	defLinks map[linkKey]struct{}
	// txIDs finds transaction ids repeated with different data (apply, on
	// the main goroutine).
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

// What the evaluator found a row to be.
const (
	outImport = iota
	outSkip
	outReject
)

// rowOutcome is one evaluated data row. An imported row's records are
// ents[e0:e1], links[l0:l1] and txns[t0:t1] of its batch.
type rowOutcome struct {
	line                   int
	kind                   uint8
	column, value, reason  string
	src                    graph.Provenance
	e0, e1, l0, l1, t0, t1 int
}

// evalBatch is a batch of evaluated rows; final is what ended reading after
// them (io.EOF at the end of the file), if anything.
type evalBatch struct {
	rows  []rowOutcome
	ents  []graph.Entity
	links []graph.Link
	txns  []graph.Txn
	final error
}

const evalBatchRows = 256

// evaluate runs the evaluator goroutine; closing stop ends it early.
func (fr *fileRun) evaluate(ra *importers.ReadAhead, nfields int) (<-chan *evalBatch, chan struct{}) {
	out := make(chan *evalBatch, 1)
	stop := make(chan struct{})
	fr.free = make(chan *evalBatch, 3)
	for range 3 {
		fr.free <- &evalBatch{}
	}
	go func() {
		defer close(out)
		for row := 0; ; {
			var b *evalBatch
			select {
			case b = <-fr.free:
			case <-stop:
				return
			}
			// The sink is done with the batch's records: their maps may be
			// reused when it copies them.
			for i := range b.ents {
				fr.ctx.maps.put(b.ents[i].Props)
			}
			for i := range b.txns {
				fr.ctx.maps.put(b.txns[i].Props)
			}
			clear(b.ents)
			clear(b.links)
			clear(b.txns)
			b.rows, b.ents, b.links, b.txns, b.final = b.rows[:0], b.ents[:0], b.links[:0], b.txns[:0], nil
			for len(b.rows) < evalBatchRows {
				rec, line, err := ra.Read()
				if err != nil {
					var pe *csv.ParseError
					if !errors.As(err, &pe) {
						b.final = err
						break
					}
					b.rows = append(b.rows, rowOutcome{line: pe.StartLine, kind: outReject, reason: "malformed CSV: " + pe.Err.Error()})
					row++ // {_row} counts every record read, as the file does
					continue
				}
				o := fr.classify(rec, line, row, nfields)
				row++
				if o.kind == outImport {
					o.e0, o.l0, o.t0 = len(b.ents), len(b.links), len(b.txns)
					b.ents, b.links, b.txns = append(b.ents, fr.ents...), append(b.links, fr.links...), append(b.txns, fr.txns...)
					o.e1, o.l1, o.t1 = len(b.ents), len(b.links), len(b.txns)
				}
				b.rows = append(b.rows, o)
			}
			select {
			case out <- b:
			case <-stop:
				return
			}
			if b.final != nil {
				return
			}
		}
	}()
	return out, stop
}

// apply records an evaluated row and sends an imported row's records.
func (fr *fileRun) apply(b *evalBatch, o *rowOutcome) error {
	fr.rec.Read()
	switch o.kind {
	case outSkip:
		fr.rec.Skip(o.line, o.reason)
	case outReject:
		return fr.rec.Reject(o.line, o.column, o.value, o.reason)
	default:
		txns := b.txns[o.t0:o.t1]
		if fr.txIDs == nil {
			fr.txIDs = importers.NewIDGuard()
		}
		// A transaction id that an earlier row gave with different data is
		// a conflicting duplicate: the row is rejected naming both lines.
		for i := range txns {
			if first, bad := fr.txIDs.Check(txns[i].ID, importers.TxnSum(fr.txIDs.Seed(), &txns[i]), o.line); bad {
				return fr.rec.Reject(o.line, "id", importers.Preview(txns[i].ID),
					importers.ConflictReason("transaction id", txns[i].ID, fr.opts.Name, o.line, first))
			}
		}
		if err := fr.emit(o.src, b.ents[o.e0:o.e1], b.links[o.l0:o.l1], txns); err != nil {
			return err
		}
		for i := range txns {
			fr.txIDs.Check(txns[i].ID, importers.TxnSum(fr.txIDs.Seed(), &txns[i]), o.line)
			fr.txIDs.Remember()
		}
		fr.rec.Imported()
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

// classify evaluates one data row: it is skipped, rejected or imported
// (its records then in fr.ents, fr.links and fr.txns). It runs on the
// evaluator goroutine and touches neither the recorder nor the sink.
func (fr *fileRun) classify(rec []string, line, row, nfields int) rowOutcome {
	o := rowOutcome{line: line, kind: outSkip}
	if importers.EmptyRow(rec) {
		o.reason = "empty row"
		return o
	}
	if w, ok := importers.TotalRow(rec); ok {
		o.reason = "total or balance row: " + strconv.Quote(w)
		return o
	}
	if len(rec) > nfields && importers.EmptyRow(rec[nfields:]) {
		rec = rec[:nfields] // trailing separators
	}
	if len(rec) != nfields {
		o.kind, o.reason = outReject, "want "+strconv.Itoa(nfields)+" fields as in the header, got "+strconv.Itoa(len(rec))
		return o
	}
	for i, v := range rec {
		// Hostile input: an oversized field, a NUL byte or text that is not
		// UTF-8 after decoding rejects the row, quoting a bounded prefix.
		if err := importers.CheckText(v, importers.MaxFieldBytes); err != nil {
			o.kind, o.column, o.reason = outReject, "column_"+strconv.Itoa(i+1), err.Error()
			o.value = strings.ToValidUTF8(importers.Preview(v), "\ufffd")
			return o
		}
	}
	c := &fr.ctx
	c.rec, c.line, c.row = rec, line, row
	for i := range c.lkRow {
		c.lkRow[i], c.lkErr[i] = nil, nil
	}
	for _, s := range fr.skips {
		if s.holds(rec) {
			o.reason = s.reason
			return o
		}
	}
	fr.ents, fr.links, fr.txns = fr.ents[:0], fr.links[:0], fr.txns[:0]
	o.src = graph.Provenance{File: fr.opts.Name, Line: line, Batch: fr.opts.Batch}
	matched := false
	for _, br := range fr.records {
		if !br.applies(rec) {
			continue
		}
		matched = true
		skip, re := br.eval(fr, o.src)
		if re != nil {
			o.kind, o.column, o.value, o.reason = outReject, re.column, re.value, re.reason
			return o
		}
		if skip != "" {
			o.reason = skip
			return o
		}
	}
	if !matched {
		o.reason = "no record of profile " + fr.p.Name + " applies to this row"
		return o
	}
	o.kind = outImport
	fr.define()
	return o
}

// emit sends the validated records of a row. The evaluator sends each
// entity and link once per file, from the first imported row defining it
// (entityDefined); emit adds stubs for the references nothing defined.
func (fr *fileRun) emit(src graph.Provenance, ents []graph.Entity, links []graph.Link, txns []graph.Txn) error {
	for _, e := range ents {
		if err := fr.sink.PutEntity(e); err != nil {
			return fmt.Errorf("put %s: %w", e.Ref, err)
		}
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

// boundCond is a Cond resolved against the header.
type boundCond struct {
	idx    int
	in     map[string]bool
	notIn  map[string]bool
	empty  *bool
	reason string
}

func lowerSet(vals []string) map[string]bool {
	if vals == nil {
		return nil
	}
	m := make(map[string]bool, len(vals))
	for _, v := range vals {
		m[strings.ToLower(strings.TrimSpace(v))] = true
	}
	return m
}

func (h *header) bindCond(k Cond) (*boundCond, error) {
	i, err := h.col(k.Column)
	if err != nil {
		return nil, err
	}
	in := k.In
	if k.Equals != nil {
		in = append(append([]string(nil), in...), *k.Equals)
	}
	b := &boundCond{idx: i, in: lowerSet(in), notIn: lowerSet(k.NotIn), empty: k.Empty, reason: k.Reason}
	if b.reason == "" {
		b.reason = "skipped by the profile: " + h.cols[i]
	}
	return b, nil
}

func (b *boundCond) holds(rec []string) bool {
	v := strings.TrimSpace(rec[b.idx])
	if b.empty != nil && (v == "") != *b.empty {
		return false
	}
	if b.in == nil && b.notIn == nil {
		return true
	}
	lv := v
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= 0x80 || (c >= 'A' && c <= 'Z') {
			lv = strings.ToLower(v)
			break
		}
	}
	if b.in != nil && !b.in[lv] {
		return false
	}
	if b.notIn != nil && b.notIn[lv] {
		return false
	}
	return true
}

func allHold(cs []*boundCond, rec []string) bool {
	for _, c := range cs {
		if !c.holds(rec) {
			return false
		}
	}
	return true
}

// boundRef is a RefMap resolved against the header.
type boundRef struct {
	m        RefMap
	kind     graph.Kind
	auto     bool
	fallback graph.Kind
	key      *boundValue
	cache    map[string]graph.Ref
	// A key read from the file's metadata (a statement's own account) is
	// the same on every row: it is evaluated once and the outcome kept.
	constant bool
	once     *refOutcome
	// Records of a row often name the same reference (a counterparty's
	// account as the transaction's target and in its holds link): a
	// reference mapped alike is bound once and evaluated once per row.
	row  int
	last refOutcome
}

type refOutcome struct {
	ref graph.Ref
	ok  bool
	err *rowErr
}

func (h *header) bindRef(m RefMap) (*boundRef, error) {
	id := fmt.Sprintf("%#v", m)
	if b, ok := h.refs[id]; ok {
		return b, nil
	}
	b, err := h.newBoundRef(m)
	if err != nil {
		return nil, err
	}
	if h.refs == nil {
		h.refs = map[string]*boundRef{}
	}
	h.refs[id] = b
	return b, nil
}

func (h *header) newBoundRef(m RefMap) (*boundRef, error) {
	b := &boundRef{m: m, fallback: graph.KindAccount, row: -1}
	if m.Kind == "auto" {
		b.auto = true
		if m.Fallback != "" {
			b.fallback, _ = graph.ParseKind(m.Fallback)
		}
	} else {
		k, err := graph.ParseKind(m.Kind)
		if err != nil {
			return nil, err
		}
		b.kind = k
		if k == graph.KindCash {
			return b, nil
		}
	}
	key, err := h.bind(m.Key)
	if err != nil {
		return nil, err
	}
	b.key = key
	b.constant = key.constant()
	return b, nil
}

// eval returns the reference, or ok=false when the record is not produced.
func (b *boundRef) eval(c *rowCtx) (graph.Ref, bool, *rowErr) {
	if b.kind == graph.KindCash {
		return graph.CashRef, true, nil
	}
	if b.constant {
		if b.once == nil {
			r, ok, err := b.evalKey(c)
			b.once = &refOutcome{r, ok, err}
		}
		return b.once.ref, b.once.ok, b.once.err
	}
	if c.row != b.row {
		r, ok, err := b.evalKey(c)
		b.row, b.last = c.row, refOutcome{r, ok, err}
	}
	return b.last.ref, b.last.ok, b.last.err
}

func (b *boundRef) evalKey(c *rowCtx) (graph.Ref, bool, *rowErr) {
	s, none, err := b.key.raw(c, b.m.Empty)
	if err != nil {
		return graph.Ref{}, false, &rowErr{column: b.key.column, reason: err.Error()}
	}
	if !none {
		if s, err = b.key.finish(s); err != nil {
			return graph.Ref{}, false, &rowErr{column: b.key.column, value: s, reason: err.Error()}
		}
		none = s == ""
	}
	if none {
		switch b.m.Else {
		case "cash":
			return graph.CashRef, true, nil
		case "skip":
			return graph.Ref{}, false, nil
		}
		return graph.Ref{}, false, &rowErr{column: b.key.column, reason: "required value is empty"}
	}
	if r, ok := b.cache[s]; ok {
		return r, true, nil
	}
	r, re := b.resolve(s)
	if re != nil {
		return graph.Ref{}, false, re
	}
	// Validation is the costly part and statements repeat the same few
	// accounts; remember what a key resolved to.
	if b.cache == nil || len(b.cache) >= maxRefCache {
		b.cache = make(map[string]graph.Ref, 1024)
	}
	b.cache[s] = r
	return r, true, nil
}

// maxRefCache bounds the per-reference cache of resolved keys.
const maxRefCache = 1 << 16

// resolve types and validates a non-empty key.
func (b *boundRef) resolve(s string) (graph.Ref, *rowErr) {
	kind := b.kind
	if b.auto {
		if r, ok := guessRef(s); ok {
			return r, nil
		}
		kind = b.fallback
	}
	if b.m.Validate {
		r, err := importers.ParseRef(kind.Scheme() + ":" + s)
		if err != nil {
			return graph.Ref{}, &rowErr{column: b.key.column, value: s, reason: err.Error()}
		}
		return r, nil
	}
	return graph.Ref{Kind: kind, Key: s}, nil
}

// guessRef recognises a Kazakh identifier: an IIN/BIN, an IBAN or a card
// number (full with Luhn, or masked).
func guessRef(s string) (graph.Ref, bool) {
	if iin, err := importers.NormalizeIIN(s); err == nil {
		return graph.Ref{Kind: graph.KindPerson, Key: iin}, true
	}
	if iban, err := importers.NormalizeIBAN(s); err == nil {
		return graph.Ref{Kind: graph.KindAccount, Key: iban}, true
	}
	if pan, err := importers.NormalizePAN(s); err == nil {
		return graph.Ref{Kind: graph.KindCard, Key: pan}, true
	}
	return graph.Ref{}, false
}

// boundRecord is a Record resolved against the header.
type boundRecord struct {
	when []*boundCond
	// entity
	ref   *boundRef
	name  *boundValue
	props []boundProp
	// link
	from, to *boundRef
	ltype    graph.LinkType
	role     *boundValue
	// txn
	txn *boundTxn
}

type boundProp struct {
	name string
	v    *boundValue
}

type boundTxn struct {
	id, cur, channel, atm, device, ip, reference *boundValue
	timeV                                        *boundValue
	dateFmt                                      importers.DateFormat
	step                                         bool
	base                                         time.Time
	unit                                         time.Duration
	swap                                         []*boundCond
	amount, debit, credit                        *boundValue
	negative, zero                               string
}

func (br *boundRecord) applies(rec []string) bool { return allHold(br.when, rec) }

func (h *header) bindProps(m map[string]Value) ([]boundProp, error) {
	var out []boundProp
	for k, v := range m {
		b, err := h.bind(v)
		if err != nil {
			return nil, fmt.Errorf("prop %s: %w", k, err)
		}
		out = append(out, boundProp{name: k, v: b})
	}
	return out, nil
}

func (fr *fileRun) bind(h *header) error {
	fm := fr.fm
	for _, l := range fm.Lookups {
		lt, err := fr.loadLookup(l, h)
		if err != nil {
			return err
		}
		h.lkBy[l.Name] = len(h.lks)
		h.lks = append(h.lks, lt)
	}
	fr.ctx.lks = h.lks
	fr.ctx.lkRow = make([][]string, len(h.lks))
	fr.ctx.lkErr = make([]error, len(h.lks))
	for _, s := range fm.Skip {
		b, err := h.bindCond(s)
		if err != nil {
			return fmt.Errorf("skip: %w", err)
		}
		fr.skips = append(fr.skips, b)
	}
	for i, r := range fm.Records {
		br, err := h.bindRecord(r)
		if err != nil {
			return fmt.Errorf("records[%d]: %w", i, err)
		}
		fr.records = append(fr.records, br)
	}
	fr.stepUnit = 0
	for _, br := range fr.records {
		switch {
		case br.txn == nil:
		case !br.txn.step:
			fr.stepUnit = -1
		case fr.stepUnit == 0:
			fr.stepUnit = br.txn.unit
		}
	}
	fr.stepUnit = max(0, fr.stepUnit)
	return nil
}

func (h *header) bindRecord(r Record) (*boundRecord, error) {
	br := &boundRecord{}
	for _, w := range r.When {
		b, err := h.bindCond(w)
		if err != nil {
			return nil, fmt.Errorf("when: %w", err)
		}
		br.when = append(br.when, b)
	}
	var err error
	switch {
	case r.Entity != nil:
		if br.ref, err = h.bindRef(r.Entity.Ref); err != nil {
			return nil, err
		}
		if br.name, err = h.bind(r.Entity.Name); err != nil {
			return nil, err
		}
		br.props, err = h.bindProps(r.Entity.Props)
		return br, err
	case r.Link != nil:
		if br.from, err = h.bindRef(r.Link.From); err != nil {
			return nil, err
		}
		if br.to, err = h.bindRef(r.Link.To); err != nil {
			return nil, err
		}
		if br.ltype, err = graph.ParseLinkType(r.Link.Type); err != nil {
			return nil, err
		}
		br.role, err = h.bind(r.Link.Role)
		return br, err
	}
	t := r.Txn
	bt := &boundTxn{negative: t.Amount.Negative, zero: t.Amount.Zero}
	if br.from, err = h.bindRef(t.From); err != nil {
		return nil, err
	}
	if br.to, err = h.bindRef(t.To); err != nil {
		return nil, err
	}
	id := t.ID
	if id.source() == "" {
		id = Value{Template: "{_file}:{_line}"}
	}
	for _, x := range []struct {
		dst **boundValue
		v   Value
	}{{&bt.id, id}, {&bt.cur, t.Currency}, {&bt.channel, t.Channel}, {&bt.atm, t.ATM}, {&bt.device, t.Device},
		{&bt.ip, t.IP}, {&bt.reference, t.Reference}, {&bt.timeV, t.Time.Value},
		{&bt.amount, t.Amount.Value}, {&bt.debit, t.Amount.Debit}, {&bt.credit, t.Amount.Credit}} {
		if *x.dst, err = h.bind(x.v); err != nil {
			return nil, err
		}
	}
	if t.Time.Format == "step" {
		bt.step = true
		if bt.base, err = parseBase(t.Time.Base); err != nil {
			return nil, err
		}
		if bt.unit, err = stepUnit(t.Time.Unit); err != nil {
			return nil, err
		}
	}
	bt.dateFmt = importers.DateFormat{Layout: t.Time.Format, Century: t.Time.Century, MonthOffset: t.Time.MonthOffset}
	for _, w := range t.SwapWhen {
		b, err := h.bindCond(w)
		if err != nil {
			return nil, fmt.Errorf("swap_when: %w", err)
		}
		bt.swap = append(bt.swap, b)
	}
	if br.props, err = h.bindProps(t.Props); err != nil {
		return nil, err
	}
	br.txn = bt
	return br, nil
}

// eval validates one record of a row and queues it. skip is a reason to
// skip the whole row (a zero amount the profile skips).
func (br *boundRecord) eval(fr *fileRun, src graph.Provenance) (skip string, re *rowErr) {
	c := &fr.ctx
	switch {
	case br.txn != nil:
		return br.evalTxn(fr, src)
	case br.ltype != graph.LinkUnknown:
		from, ok, re := br.from.eval(c)
		if re != nil || !ok {
			return "", re
		}
		to, ok, re := br.to.eval(c)
		if re != nil || !ok {
			return "", re
		}
		role, err := br.role.eval(c)
		if err != nil {
			return "", &rowErr{column: br.role.column, reason: err.Error()}
		}
		if k := (linkKey{from: from, to: to, typ: br.ltype}); !fr.linkDefined(k) {
			fr.links = append(fr.links, graph.Link{From: from, To: to, Type: br.ltype, Role: role, Src: src})
		}
		return "", nil
	}
	ref, ok, re := br.ref.eval(c)
	if re != nil || !ok || ref.Kind == graph.KindCash {
		return "", re
	}
	name, err := br.name.eval(c)
	if err != nil {
		return "", &rowErr{column: br.name.column, reason: err.Error()}
	}
	// The first row defining an entity defines it; a later row's values are
	// still checked (a bad value rejects the row) but not kept.
	defined := fr.entityDefined(ref)
	props, re := evalProps(br.props, c, !defined)
	if re != nil || defined {
		return "", re
	}
	fr.ents = append(fr.ents, graph.Entity{Ref: ref, Name: importers.NormalizeName(name), Props: props, Src: src})
	return "", nil
}

// evalProps evaluates the properties of a record; keep=false only checks
// them.
func evalProps(ps []boundProp, c *rowCtx, keep bool) (map[string]string, *rowErr) {
	var m map[string]string
	for _, p := range ps {
		v, err := p.v.eval(c)
		if err != nil {
			return nil, &rowErr{column: p.v.column, value: v, reason: p.name + ": " + err.Error()}
		}
		if v == "" || !keep {
			continue
		}
		if m == nil {
			m = c.maps.get(len(ps))
		}
		m[p.name] = v
	}
	return m, nil
}

// entityDefined reports whether an imported row of the file, or the row
// being evaluated, already defined the entity r.
func (fr *fileRun) entityDefined(r graph.Ref) bool {
	if _, ok := fr.defEnts[r]; ok {
		return true
	}
	for _, e := range fr.ents {
		if e.Ref == r {
			return true
		}
	}
	return false
}

// linkDefined is entityDefined for links.
func (fr *fileRun) linkDefined(k linkKey) bool {
	if _, ok := fr.defLinks[k]; ok {
		return true
	}
	for _, l := range fr.links {
		if l.From == k.from && l.To == k.to && l.Type == k.typ {
			return true
		}
	}
	return false
}

// define records the entities and links of an imported row as defined.
// Like the sets of references sent, the sets restart when they fill; the
// sink converges what is then sent again.
func (fr *fileRun) define() {
	if len(fr.defEnts)+len(fr.ents) > maxSeen {
		clear(fr.defEnts)
	}
	if len(fr.defLinks)+len(fr.links) > maxSeen {
		clear(fr.defLinks)
	}
	for _, e := range fr.ents {
		fr.defEnts[e.Ref] = struct{}{}
	}
	for _, l := range fr.links {
		fr.defLinks[linkKey{from: l.From, to: l.To, typ: l.Type}] = struct{}{}
	}
}

func (br *boundRecord) evalTxn(fr *fileRun, src graph.Provenance) (string, *rowErr) {
	c := &fr.ctx
	bt := br.txn
	from, ok, re := br.from.eval(c)
	if re != nil || !ok {
		return "", re
	}
	to, ok, re := br.to.eval(c)
	if re != nil || !ok {
		return "", re
	}
	if len(bt.swap) > 0 && allHold(bt.swap, c.rec) {
		from, to = to, from
	}
	raw, err := bt.timeV.eval(c)
	if err != nil {
		return "", &rowErr{column: bt.timeV.column, reason: err.Error()}
	}
	if raw == "" {
		return "", &rowErr{column: bt.timeV.column, reason: "required value is empty"}
	}
	var at time.Time
	clock := true // the row gives a clock time: not a bare date, not a step of a day or more
	if bt.step {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return "", &rowErr{column: bt.timeV.column, value: raw, reason: "step: want a whole number"}
		}
		at = bt.base.Add(time.Duration(n) * bt.unit)
		clock = bt.unit < 24*time.Hour
	} else if at, clock, err = importers.ParseDateTimeClock(raw, bt.dateFmt, fr.loc); err != nil {
		return "", &rowErr{column: bt.timeV.column, value: raw, reason: err.Error()}
	}
	amount, swap, skip, re := bt.evalAmount(c, fr.dec)
	if re != nil || skip != "" {
		return skip, re
	}
	if swap {
		from, to = to, from
	}
	id, err := bt.id.eval(c)
	if err != nil || id == "" {
		return "", &rowErr{column: bt.id.column, reason: "transaction id is empty"}
	}
	t := graph.Txn{ID: id, Time: at, From: from, To: to, Amount: amount, Currency: "KZT", Channel: graph.ChannelTransfer, Src: src,
		DateOnly: !clock}
	if cur, err := bt.cur.eval(c); err != nil {
		return "", &rowErr{column: bt.cur.column, reason: err.Error()}
	} else if cur != "" {
		cur = strings.ToUpper(cur)
		if len(cur) != 3 || !isUpperASCII(cur) {
			return "", &rowErr{column: bt.cur.column, value: cur, reason: "currency: want a three-letter code such as KZT (map names to codes in the profile)"}
		}
		t.Currency = cur
	}
	if ch, err := bt.channel.eval(c); err != nil {
		return "", &rowErr{column: bt.channel.column, reason: err.Error()}
	} else if ch != "" {
		if t.Channel, err = graph.ParseChannel(ch); err != nil {
			return "", &rowErr{column: bt.channel.column, value: ch, reason: err.Error()}
		}
	}
	for _, x := range []struct {
		v   *boundValue
		dst *string
	}{{bt.atm, &t.ATM}, {bt.device, &t.Device}, {bt.ip, &t.IP}, {bt.reference, &t.Reference}} {
		v, err := x.v.eval(c)
		if err != nil {
			return "", &rowErr{column: x.v.column, reason: err.Error()}
		}
		*x.dst = v
	}
	if t.ATM == "" {
		if from.Kind == graph.KindATM {
			t.ATM = from.Key
		} else if to.Kind == graph.KindATM {
			t.ATM = to.Key
		}
	}
	if t.IP != "" {
		r, err := importers.ParseRef("ip:" + t.IP)
		if err != nil {
			return "", &rowErr{column: bt.ip.column, value: t.IP, reason: err.Error()}
		}
		t.IP = r.Key
	}
	if t.Props, re = evalProps(br.props, c, true); re != nil {
		return "", re
	}
	fr.txns = append(fr.txns, t)
	return "", nil
}

func isUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// evalAmount returns the amount in minor units and whether the direction
// reverses.
func (bt *boundTxn) evalAmount(c *rowCtx, dec byte) (amount int64, swap bool, skip string, re *rowErr) {
	parse := func(b *boundValue) (int64, bool, *rowErr) {
		s, err := b.eval(c)
		if err != nil {
			return 0, false, &rowErr{column: b.column, reason: err.Error()}
		}
		if s == "" {
			return 0, false, nil
		}
		v, err := importers.ParseDecimal(s, dec)
		if err != nil {
			return 0, false, &rowErr{column: b.column, value: s, reason: err.Error()}
		}
		return v, true, nil
	}
	if bt.amount.empty {
		d, hasD, re := parse(bt.debit)
		if re != nil {
			return 0, false, "", re
		}
		cr, hasC, re := parse(bt.credit)
		if re != nil {
			return 0, false, "", re
		}
		// The column gives the direction; a sign in it is ignored.
		d, cr = abs(d), abs(cr)
		switch {
		case d != 0 && cr != 0:
			return 0, false, "", &rowErr{column: bt.debit.column, reason: "both debit and credit are filled in"}
		case d != 0:
			amount = d
		case cr != 0:
			amount, swap = cr, true
		case hasD || hasC:
			return bt.zeroAmount(bt.debit.column)
		default:
			return 0, false, "", &rowErr{column: bt.debit.column, reason: "debit and credit are both empty"}
		}
		return amount, swap, "", nil
	}
	v, has, re := parse(bt.amount)
	if re != nil {
		return 0, false, "", re
	}
	if !has {
		return 0, false, "", &rowErr{column: bt.amount.column, reason: "required value is empty"}
	}
	if v == 0 {
		return bt.zeroAmount(bt.amount.column)
	}
	if v < 0 {
		switch bt.negative {
		case "swap":
			return -v, true, "", nil
		case "keep":
			return v, false, "", nil
		case "abs":
			return -v, false, "", nil
		}
		return 0, false, "", &rowErr{column: bt.amount.column, value: strconv.FormatInt(v, 10), reason: "negative amount (the profile's amount.negative is reject)"}
	}
	return v, false, "", nil
}

func (bt *boundTxn) zeroAmount(column string) (int64, bool, string, *rowErr) {
	switch bt.zero {
	case "keep":
		return 0, false, "", nil
	case "skip":
		return 0, false, "zero amount", nil
	}
	return 0, false, "", &rowErr{column: column, value: "0", reason: "amount is zero"}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// lookupTab is a small joined table, keyed by one column.
type lookupTab struct {
	name, file string
	header     *header
	rows       map[string][]string
	on         int
	onName     string
}

func (l *lookupTab) find(rec []string) ([]string, error) {
	k := strings.TrimSpace(rec[l.on])
	r, ok := l.rows[k]
	if !ok {
		return nil, fmt.Errorf("%s %q is not in %s: %w", l.onName, k, l.file, errNotFound)
	}
	return r, nil
}

func (fr *fileRun) loadLookup(l Lookup, h *header) (*lookupTab, error) {
	if fr.opts.Open == nil {
		return nil, fmt.Errorf("lookup %s needs %s, but this import cannot open other files", l.Name, l.File)
	}
	on, err := h.col(l.On)
	if err != nil {
		return nil, fmt.Errorf("lookup %s: %w", l.Name, err)
	}
	f, err := fr.opts.Open(l.File)
	if err != nil {
		return nil, fmt.Errorf("lookup %s: open %s: %w", l.Name, l.File, err)
	}
	defer f.Close()
	rd, d, err := openTable(f, &FileMap{})
	if err != nil {
		return nil, fmt.Errorf("lookup %s: %w", l.Name, err)
	}
	lt := &lookupTab{name: l.Name, file: l.File, rows: map[string][]string{}, on: on, onName: h.cols[on]}
	rd.ReuseRecord = false
	key := -1
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("lookup %s: read %s: %w", l.Name, l.File, err)
		}
		line, _ := rd.FieldPos(0)
		if line < d.HeaderLine {
			continue
		}
		if lt.header == nil {
			lt.header = newHeader(rec)
			if key, err = lt.header.col(l.Key); err != nil {
				return nil, fmt.Errorf("lookup %s (%s): %w", l.Name, l.File, err)
			}
			continue
		}
		if len(rec) != len(lt.header.cols) {
			continue
		}
		if len(lt.rows) >= maxLookupRows {
			return nil, fmt.Errorf("lookup %s: %s has more than %d rows", l.Name, l.File, maxLookupRows)
		}
		lt.rows[strings.TrimSpace(rec[key])] = rec
	}
	if lt.header == nil {
		return nil, fmt.Errorf("lookup %s: %s has no header", l.Name, l.File)
	}
	return lt, nil
}
