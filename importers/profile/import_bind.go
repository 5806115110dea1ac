package profile

import (
	"fmt"
	"io"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/importers"
)

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

// boundRecord is a Record resolved against the header.
type boundRecord struct {
	when []*boundCond
	// entity
	ref   *boundRef
	name  *boundValue
	props []boundProp
	// names caches NormalizeName of the names read (the evaluator's):
	// every row's entity is compared with the first, and statements repeat
	// the same few names.
	names map[string]string
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
