package profile

import (
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/importers"
)

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
		ents, txns := b.ents[o.e0:o.e1], b.txns[o.t0:o.t1]
		if fr.txIDs == nil {
			fr.txIDs, fr.entIDs, fr.entSums = importers.NewIDGuard(), importers.NewIDGuard(), map[graph.Ref]uint64{}
		}
		// A transaction id, or an entity, that an earlier imported row gave
		// with different data is a conflicting duplicate: the row is rejected
		// naming both lines, before any of its records is sent.
		for i := range txns {
			if first, bad := fr.txIDs.Check(txns[i].ID, importers.TxnSum(fr.txIDs.Seed(), &txns[i]), o.line); bad {
				return fr.rec.Reject(o.line, "id", importers.Preview(txns[i].ID),
					importers.ConflictReason("transaction id", txns[i].ID, fr.opts.Name, o.line, first))
			}
		}
		for i := range ents {
			if s, ok := fr.entSums[ents[i].Ref]; ok && s == importers.EntitySum(fr.entIDs.Seed(), &ents[i]) {
				continue // the entity as sent: an identical repeat
			}
			if ce := fr.entIDs.CheckEntity(&ents[i]); ce != nil {
				return fr.rec.Reject(o.line, ce.Column, importers.Preview(ce.Value), ce.Reason)
			}
		}
		if err := fr.emit(o.src, ents, b.links[o.l0:o.l1], txns); err != nil {
			// A record the run's conflict check refused (another file or an
			// earlier import gave its id other data) rejects the row.
			if ce, ok := importers.AsRecordError(err); ok {
				return fr.rec.Reject(o.line, ce.Column, importers.Preview(ce.Value), ce.Reason)
			}
			return err
		}
		fr.rec.Imported()
	}
	return nil
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
	// Every row's values are checked (a bad value rejects the row) and
	// passed on: apply compares them with the first row's that defined the
	// entity and sends only that one.
	props, re := evalProps(br.props, c, true)
	if re != nil || fr.rowDefines(ref) {
		c.maps.put(props)
		return "", re
	}
	norm, ok := br.names[name]
	if !ok {
		if br.names == nil || len(br.names) >= maxRefCache {
			br.names = make(map[string]string, 1024)
		}
		norm = importers.NormalizeName(name)
		br.names[name] = norm
	}
	fr.ents = append(fr.ents, graph.Entity{Ref: ref, Name: norm, Props: props, Src: src})
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

// rowDefines reports whether the row being evaluated already defined the
// entity r (a second record of the profile naming it).
func (fr *fileRun) rowDefines(r graph.Ref) bool {
	for _, e := range fr.ents {
		if e.Ref == r {
			return true
		}
	}
	return false
}

// linkDefined reports whether an imported row of the file, or the row
// being evaluated, already defined the link k.
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
	if len(fr.defLinks)+len(fr.links) > maxSeen {
		clear(fr.defLinks)
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
