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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

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

// Sniff reports whether head (the first bytes of a file) looks like FtM:
// a JSON object or array whose first object has "schema" and "id" keys.
func Sniff(head []byte) bool {
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	if len(h) == 0 || (h[0] != '{' && h[0] != '[') {
		return false
	}
	return bytes.Contains(h, []byte(`"schema"`)) && bytes.Contains(h, []byte(`"id"`))
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
}

// Import reads FtM entities from r (JSON lines or a JSON array; read twice,
// hence the io.ReadSeeker) and sends them to sink. Every record is either
// imported or rejected with its line (JSON lines) or element number (JSON
// array); Result always reconciles. A read or sink error, or a cancelled
// ctx, stops the import with an error.
func Import(ctx context.Context, r io.ReadSeeker, sink importers.Sink, opts importers.Options) (Result, error) {
	im := &importer{ctx: ctx, opts: opts, books: rec.New(sink, opts, Format),
		index: map[string]info{}, sanction: map[string][]*entity{}, loc: opts.Location}
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
	err := each(im.ctx, r, func(_ int, raw []byte) error {
		var e entity
		if json.Unmarshal(raw, &e) != nil || e.ID == "" {
			return nil
		}
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

// each calls fn with every record of a JSON-lines file or a JSON array,
// with its line or element number. Blank lines are not records. A JSON array
// that is not well-formed stops with an error: its elements cannot be
// resynchronised.
func each(ctx context.Context, r io.Reader, fn func(line int, raw []byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	// Skip leading white space to see whether this is an array.
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' {
			_, _ = br.Discard(1)
			continue
		}
		if b[0] == '[' {
			return eachArray(ctx, br, fn)
		}
		break
	}
	line := 0
	for {
		raw, long, err := readLine(br, MaxRecordBytes)
		if long {
			line++
			if ferr := fn(line, nil); ferr != nil {
				return ferr
			}
		} else if len(raw) > 0 {
			line++
			if t := bytes.TrimSpace(raw); len(t) > 0 {
				if line&1023 == 0 {
					if cerr := ctx.Err(); cerr != nil {
						return fmt.Errorf("cancelled at line %d: %w", line, cerr)
					}
				}
				if ferr := fn(line, t); ferr != nil {
					return ferr
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read after line %d: %w", line, err)
		}
	}
}

// MaxRecordBytes bounds one JSON-lines record. A longer line is rejected
// (fn gets nil) and skipped without being held in memory.
const MaxRecordBytes = 16 << 20

// readLine reads one line of at most max bytes; a longer line is read to its
// end and dropped, and long reports it.
func readLine(br *bufio.Reader, max int) (line []byte, long bool, err error) {
	var acc []byte
	for {
		frag, err := br.ReadSlice('\n')
		if !long {
			if len(acc)+len(frag) > max {
				long, acc = true, nil
			} else {
				acc = append(acc, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return acc, long, err
	}
}

func eachArray(ctx context.Context, r io.Reader, fn func(int, []byte) error) error {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("read JSON array: %w", err)
	}
	n := 0
	for dec.More() {
		n++
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("JSON array element %d: %w", n, err)
		}
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("cancelled at element %d: %w", n, err)
			}
		}
		if err := fn(n, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("JSON array after element %d: %w", n, err)
	}
	return nil
}

// record validates one record and emits it, or rejects it.
func (im *importer) record(line int, raw []byte) error {
	if raw == nil {
		return im.books.Reject(line, "", "", fmt.Sprintf("record longer than %d MiB", MaxRecordBytes>>20))
	}
	var e entity
	if err := json.Unmarshal(raw, &e); err != nil {
		return im.books.Reject(line, "", string(raw), "not an FtM entity: "+err.Error())
	}
	if e.ID == "" {
		return im.books.Reject(line, "id", "", "required value is empty")
	}
	if e.Schema == "" {
		return im.books.Reject(line, "schema", "", "required value is empty")
	}
	src := graph.Provenance{File: im.opts.Name, Line: line, Batch: im.opts.Batch}
	switch {
	case nodeSchema(e.Schema):
		return im.node(line, &e, src)
	case edgeSchemas[e.Schema]:
		return im.edge(line, &e, src)
	}
	return im.books.Reject(line, "schema", e.Schema, "schema "+e.Schema+" is not imported (nodes: Person, Company, Organization, LegalEntity, PublicBody, BankAccount, CryptoWallet, Address; edges: Payment, Ownership, Directorship, Membership, Family, Associate, Sanction)")
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

// mapped FtM properties and the casegraph property they become.
var propNames = map[string]string{
	"birthDate": "birth_date", "phone": "phone", "iban": "iban", "website": "domain",
	"alias": "alias", "weakAlias": "alias", "previousName": "alias",
}

// entityProps turns FtM properties into casegraph properties: every value
// kept (joined with graph.MultiSep), names beyond the first as aliases.
func entityProps(e *entity) map[string]string {
	p := map[string]string{"ftm_id": e.ID, "ftm_schema": e.Schema}
	keys := make([]string, 0, len(e.Properties))
	for k := range e.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sets := map[string]*multi{}
	add := func(k string, vs []string) {
		m := sets[k]
		if m == nil {
			m = &multi{}
			sets[k] = m
		}
		for _, v := range vs {
			m.add(importers.NormalizeName(v))
		}
	}
	defer func() {
		for k, m := range sets {
			if len(m.vals) > 0 {
				p[k] = m.joined()
			}
		}
	}()
	for _, k := range keys {
		vs := e.Properties[k]
		switch k {
		case "name":
			if len(vs) > 1 {
				add("alias", vs[1:])
			}
		case "addressEntity", "holder", "managingExchange", "mangingExchange", "bank":
			// Links, not properties.
		case "website":
			for _, v := range vs {
				add("domain", []string{domainOf(v)})
			}
		default:
			if n, ok := propNames[k]; ok {
				add(n, vs)
			} else {
				add(k, vs)
			}
		}
	}
	return p
}

// domainOf reduces a URL to its host name without "www.".
func domainOf(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	}
	u, _, _ = strings.Cut(u, "/")
	u, _, _ = strings.Cut(u, ":")
	return strings.TrimPrefix(u, "www.")
}

func (im *importer) node(line int, e *entity, src graph.Provenance) error {
	inf, ok := im.index[e.ID]
	if !ok {
		switch e.Schema {
		case "CryptoWallet":
			return im.books.Reject(line, "publicKey", "", "crypto wallet without a publicKey")
		case "Address":
			return im.books.Reject(line, "full", "", "address without text (full, street or city)")
		}
		return im.books.Reject(line, "id", e.ID, "entity could not be keyed")
	}
	name := displayName(e)
	if err := importers.CheckText(name, importers.MaxNameBytes); err != nil {
		return im.books.Reject(line, "name", importers.Preview(name), err.Error())
	}
	if err := importers.CheckText(inf.ref.Key, importers.MaxFieldBytes); err != nil {
		return im.books.Reject(line, "id", importers.Preview(inf.ref.Key), err.Error())
	}
	ent := graph.Entity{Ref: inf.ref, Name: name, Props: entityProps(e), Src: src}
	if ent.Ref.Kind == graph.KindExchange {
		if _, ok := ent.Props["afsa_licence"]; !ok {
			ent.Props["afsa_licence"] = ""
		}
	}
	if sanctioned(e) || len(im.sanction[e.ID]) > 0 {
		ent.Props["list_status"] = "sanctioned"
	}
	if len(im.sanction[e.ID]) > 0 {
		for _, k := range []string{"authority", "program", "reason", "listingDate", "country"} {
			var m multi
			for _, s := range im.sanction[e.ID] {
				for _, v := range s.all(k) {
					m.add(v)
				}
			}
			if len(m.vals) > 0 {
				ent.Props["sanction_"+strings.ToLower(k)] = m.joined()
			}
		}
	}
	if ph := ent.Props["phone"]; ph != "" {
		// Valid numbers are stored in E.164, so resolution can match them.
		var m multi
		for _, v := range strings.Split(ph, graph.MultiSep) {
			if n, err := importers.NormalizePhone(v); err == nil {
				v = n
			}
			m.add(v)
		}
		ent.Props["phone"] = m.joined()
	}
	if err := im.books.Put(ent); err != nil {
		return err
	}
	for _, a := range im.resolve(line, e, "addressEntity") {
		if err := im.books.Link(graph.Link{From: ent.Ref, To: a, Type: graph.LinkResidesAt, Src: src}); err != nil {
			return err
		}
	}
	if e.Schema == "CryptoWallet" {
		for _, h := range im.resolve(line, e, "holder") {
			if err := im.books.Link(graph.Link{From: h, To: ent.Ref, Type: graph.LinkHolds, Role: "holder", Src: src}); err != nil {
				return err
			}
		}
		for _, x := range im.resolve(line, e, "managingExchange", "mangingExchange") {
			if err := im.books.Link(graph.Link{From: x, To: ent.Ref, Type: graph.LinkHolds, Role: "managing_exchange", Src: src}); err != nil {
				return err
			}
		}
	}
	if e.Schema == "BankAccount" {
		for _, b := range im.resolve(line, e, "bank") {
			if err := im.books.Link(graph.Link{From: b, To: ent.Ref, Type: graph.LinkHolds, Role: "bank", Src: src}); err != nil {
				return err
			}
		}
	}
	if ph := ent.Props["phone"]; ph != "" && e.Schema != "Address" {
		for _, v := range strings.Split(ph, graph.MultiSep) {
			if n, err := importers.NormalizePhone(v); err == nil {
				pr := graph.Ref{Kind: graph.KindPhone, Key: n}
				if err := im.books.Once(graph.Entity{Ref: pr, Src: src}); err != nil {
					return err
				}
				if err := im.books.Link(graph.Link{From: ent.Ref, To: pr, Type: graph.LinkUsesPhone, Src: src}); err != nil {
					return err
				}
			}
		}
	}
	im.books.Rep.Imported++
	return nil
}

// sanctioned reports whether an OpenSanctions topic marks e as sanctioned.
func sanctioned(e *entity) bool {
	for _, t := range e.all("topics") {
		if t == "sanction" || strings.HasPrefix(t, "sanction.") {
			return true
		}
	}
	return false
}

func displayName(e *entity) string {
	if n := e.first("name"); n != "" {
		return importers.NormalizeName(n)
	}
	switch e.Schema {
	case "Person":
		return importers.NormalizeName(strings.Join(e.all("firstName", "fatherName", "lastName"), " "))
	case "BankAccount":
		return importers.NormalizeName(strings.Join(e.all("bankName", "accountNumber"), " "))
	case "Address":
		return addressText(e)
	}
	return ""
}

func addressText(e *entity) string {
	if f := e.first("full"); f != "" {
		return importers.NormalizeName(f)
	}
	return importers.NormalizeName(strings.Join(e.all("street", "postalCode", "city", "country"), ", "))
}

// isKZ reports whether the entity names Kazakhstan as a country.
func isKZ(e *entity) bool {
	for _, c := range e.all("country", "nationality", "citizenship", "jurisdiction", "mainCountry") {
		if strings.EqualFold(c, "kz") {
			return true
		}
	}
	return false
}

// exchangeWords mark an organisation as an exchange by name, sector or
// classification, compared as skeletons (Cyrillic обменник, биржа too).
var exchangeWords = []string{"exchange", "exchanger", "обменник", "обмен", "биржа", "crypto", "крипто", "p2p", "otc"}

func looksLikeExchange(e *entity) bool {
	var toks []string
	for _, s := range e.all("name", "alias", "sector", "classification") {
		toks = append(toks, strings.Fields(graph.Skeleton(s))...)
	}
	for _, w := range exchangeWords {
		kw := graph.Skeleton(w)
		for _, t := range toks {
			if t == kw || (len(kw) >= 5 && strings.Contains(t, kw)) {
				return true
			}
		}
	}
	return false
}

// nodeRef keys a node entity; ok is false when it cannot be keyed (a wallet
// without an address, an address without text).
func nodeRef(e *entity, managesWallet bool) (graph.Ref, bool) {
	gen := "ftm:" + e.ID
	switch {
	case e.Schema == "Person":
		if isKZ(e) {
			for _, v := range e.all("idNumber", "taxNumber", "innCode") {
				if iin, err := importers.NormalizeIIN(v); err == nil {
					return graph.Ref{Kind: graph.KindPerson, Key: iin}, true
				}
			}
		}
		return graph.Ref{Kind: graph.KindPerson, Key: gen}, true
	case orgSchemas[e.Schema]:
		kind := graph.KindOrganisation
		if managesWallet || looksLikeExchange(e) {
			kind = graph.KindExchange
		}
		if isKZ(e) {
			for _, v := range e.all("registrationNumber", "taxNumber", "idNumber", "innCode") {
				if bin, err := importers.NormalizeIIN(v); err == nil {
					return graph.Ref{Kind: kind, Key: bin}, true
				}
			}
		}
		return graph.Ref{Kind: kind, Key: gen}, true
	case e.Schema == "BankAccount":
		for _, v := range e.all("iban") {
			if iban, err := importers.NormalizeIBAN(v); err == nil {
				return graph.Ref{Kind: graph.KindAccount, Key: iban}, true
			}
		}
		return graph.Ref{Kind: graph.KindAccount, Key: gen}, true
	case e.Schema == "CryptoWallet":
		addr := e.first("publicKey")
		if addr == "" {
			return graph.Ref{}, false
		}
		chain := strings.ToUpper(e.first("currencySymbol"))
		if chain == "" {
			chain = strings.ToUpper(e.first("currency"))
		}
		if chain == "" || strings.ContainsAny(chain, ": ") {
			chain = ChainOf(addr)
		}
		return graph.Ref{Kind: graph.KindWallet, Key: chain + ":" + addr}, true
	case e.Schema == "Address":
		if t := addressText(e); t != "" {
			return graph.Ref{Kind: graph.KindAddress, Key: t}, true
		}
	}
	return graph.Ref{}, false
}

// ChainOf guesses the chain of a bare wallet address from its shape: 0x… is
// ETH, T… (34) is TRON, 1…/3…/bc1… is BTC; otherwise "UNKNOWN".
func ChainOf(addr string) string {
	switch {
	case addr == "":
		return "UNKNOWN"
	case strings.HasPrefix(addr, "0x") || strings.HasPrefix(addr, "0X"):
		return "ETH"
	case len(addr) == 34 && addr[0] == 'T':
		return "TRON"
	case strings.HasPrefix(addr, "bc1") || ((addr[0] == '1' || addr[0] == '3') && len(addr) >= 26 && len(addr) <= 35):
		return "BTC"
	}
	return "UNKNOWN"
}

func (im *importer) edge(line int, e *entity, src graph.Provenance) error {
	if e.Schema == "Payment" {
		return im.payment(line, e, src)
	}
	if e.Schema == "Sanction" {
		if len(im.resolve(line, e, "entity")) == 0 {
			return im.books.Reject(line, "entity", strings.Join(e.all("entity"), graph.MultiSep),
				"sanction names no entity of this file (dangling reference)")
		}
		// Its content was written onto the sanctioned entity.
		im.books.Rep.Imported++
		return nil
	}
	var from, to []graph.Ref
	var typ graph.LinkType
	role := ""
	switch e.Schema {
	case "Ownership":
		from, to, typ = im.resolve(line, e, "owner"), im.resolve(line, e, "asset"), graph.LinkControls
		role = "owner"
		if pc := e.first("percentage"); pc != "" {
			role += " " + strings.TrimSuffix(pc, "%") + "%"
		}
	case "Directorship":
		from, to, typ = im.resolve(line, e, "director"), im.resolve(line, e, "organization"), graph.LinkControls
		role = "director"
		if r := e.first("role"); r != "" {
			role += ": " + r
		}
	case "Membership":
		from, to, typ = im.resolve(line, e, "member"), im.resolve(line, e, "organization"), graph.LinkMemberOf
		role = e.first("role")
	case "Family":
		from, to, typ = im.resolve(line, e, "person"), im.resolve(line, e, "relative"), graph.LinkRelated
		role = "family"
		if r := e.first("relationship"); r != "" {
			role += ": " + r
		}
	case "Associate":
		from, to, typ = im.resolve(line, e, "person"), im.resolve(line, e, "associate"), graph.LinkRelated
		role = "associate"
		if r := e.first("relationship"); r != "" {
			role += ": " + r
		}
	}
	if len(from) == 0 || len(to) == 0 {
		return im.books.Reject(line, "", e.ID, e.Schema+" has an end that is missing or not in this file (dangling reference)")
	}
	for _, f := range from {
		for _, t := range to {
			if err := im.books.Link(graph.Link{From: f, To: t, Type: typ, Role: role, Src: src}); err != nil {
				return err
			}
		}
	}
	im.books.Rep.Imported++
	return nil
}

var errNoAmount = errors.New("payment has no amount, amountEur or amountUsd")

// paymentAmount returns the amount in minor units and its currency.
func paymentAmount(e *entity) (int64, string, string, error) {
	for _, c := range []struct{ prop, cur string }{{"amount", ""}, {"amountEur", "EUR"}, {"amountUsd", "USD"}} {
		v := e.first(c.prop)
		if v == "" {
			continue
		}
		cur := c.cur
		if cur == "" {
			cur = strings.ToUpper(e.first("currency"))
		}
		if len(cur) != 3 {
			return 0, "", c.prop, fmt.Errorf("payment amount %q has no ISO 4217 currency", v)
		}
		a, err := parseDecimal(v)
		if err != nil {
			return 0, "", c.prop, err
		}
		return a, cur, c.prop, nil
	}
	return 0, "", "amount", errNoAmount
}

// parseDecimal accepts importers.ParseAmount's syntax plus more than two
// decimals, rounded half away from zero (FtM amounts come from many sources).
func parseDecimal(v string) (int64, error) {
	if a, err := importers.ParseAmount(v); err == nil {
		return a, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f != f || f > 9e16 || f < -9e16 {
		return 0, fmt.Errorf("amount %q: want a decimal number", v)
	}
	if f < 0 {
		return int64(f*100 - 0.5), nil
	}
	return int64(f*100 + 0.5), nil
}

func (im *importer) payment(line int, e *entity, src graph.Provenance) error {
	from := im.resolve(line, e, "payerAccount")
	if len(from) == 0 {
		from = im.resolve(line, e, "payer")
	}
	to := im.resolve(line, e, "beneficiaryAccount")
	if len(to) == 0 {
		to = im.resolve(line, e, "beneficiary")
	}
	if len(from) == 0 || len(to) == 0 {
		return im.books.Reject(line, "payer", e.ID, "payment needs a payer and a beneficiary in this file (dangling or missing reference)")
	}
	amount, cur, col, err := paymentAmount(e)
	if err != nil {
		return im.books.Reject(line, col, e.first(col), err.Error())
	}
	if amount <= 0 {
		return im.books.Reject(line, col, e.first(col), "amount must be greater than zero")
	}
	date := e.first("date")
	if date == "" {
		date = e.first("startDate")
	}
	if date == "" {
		return im.books.Reject(line, "date", "", "payment has no date or startDate")
	}
	at, dateOnly, err := paymentTime(date, im.loc)
	if err != nil {
		return im.books.Reject(line, "date", date, err.Error())
	}
	props := entityProps(e)
	for _, k := range []string{"payer", "beneficiary", "payerAccount", "beneficiaryAccount", "amount", "amountEur", "amountUsd", "currency", "date", "startDate", "purpose"} {
		delete(props, k)
	}
	for _, f := range from[1:] {
		props["payer_also"] = f.String()
	}
	t := graph.Txn{ID: "ftm:" + e.ID, Time: at, From: from[0], To: to[0], Amount: amount, Currency: cur,
		Channel: graph.ChannelTransfer, Reference: strings.Join(e.all("purpose"), graph.MultiSep), Props: props, Src: src,
		DateOnly: dateOnly}
	if err := im.books.Txn(t); err != nil {
		return err
	}
	im.books.Rep.Imported++
	return nil
}

// paymentTime accepts a calendar date (midnight local time, dateOnly: no
// clock time) or a full time.
func paymentTime(s string, loc *time.Location) (t time.Time, dateOnly bool, err error) {
	if len(s) == 10 {
		if _, err := importers.ParseDate(s); err != nil {
			return time.Time{}, false, err
		}
		t, err := importers.ParseTime(s+" 00:00", loc)
		return t, true, err
	}
	t, err = importers.ParseTime(s, loc)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("date %q: want YYYY-MM-DD or an RFC 3339 time", s)
	}
	return t, false, nil
}
