// Package lists imports reference lists that annotate what a case already
// holds: watch lists (grey, black and sanctions lists of persons, cards,
// accounts, phones and wallet addresses) and the AFSA licence register of
// digital-asset trading facilities.
//
// A watch-list hit sets the list_status property (grey, black or
// sanctioned) on the entity. When the case holds the entity in full, the
// full entity is rewritten with its properties merged; otherwise a stub
// carries the status, and the store passes it to the full entity imported
// later (store.Loader.PutEntity). A register row sets
// afsa_licence, licence_status and register_date on the exchanges it names,
// matched by name skeleton or domain; a row that names no exchange of the
// case is kept as an exchange "afsa:<licence>" with register_only=yes, so the
// register snapshot itself is searchable.
package lists

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/ftm"
	"casegraph/importers/internal/rec"
)

// Formats of list files.
const (
	FormatWatchlist importers.Format = "watchlist"
	FormatAddresses importers.Format = "address_list" // one wallet address per line
	FormatRegister  importers.Format = "afsa_register"
)

// Lookup reads what the case database already holds. cmd/casegraph
// implements it over the store.
type Lookup interface {
	// Entity returns the full entity, else its stub, else an error wrapping
	// graph.ErrNotFound.
	Entity(ctx context.Context, ref graph.Ref) (graph.Entity, error)
	// Entities calls fn for every entity (full or stub) of kind k.
	Entities(ctx context.Context, k graph.Kind, fn func(graph.Entity) error) error
}

// Options configure a list import.
type Options struct {
	importers.Options
	// Status is the list_status of rows without a status column: grey,
	// black or sanctioned.
	Status string
	// Chain is the chain of bare wallet addresses without a chain column
	// (e.g. "ETH", "TRON"); empty means guessed from the address shape.
	Chain string
}

// column aliases, lower case.
var (
	colIIN     = []string{"iin", "bin", "iin_bin"}
	colPAN     = []string{"pan", "card"}
	colIBAN    = []string{"iban", "account"}
	colPhone   = []string{"phone"}
	colWallet  = []string{"wallet", "address", "wallet_address"}
	colName    = []string{"name", "firm", "entity", "company"}
	colStatus  = []string{"list_status", "status", "list"}
	colChain   = []string{"chain", "asset", "currency"}
	colReason  = []string{"reason", "program", "source"}
	colLicence = []string{"licence", "license", "licence_number", "license_number", "licence number", "license number", "licence_no", "license_no"}
	colDate    = []string{"date", "licence_date", "license_date", "register_date", "issued"}
	colDomain  = []string{"domain", "website"}
)

func find(cols map[string]int, names []string) int {
	for _, n := range names {
		if i, ok := cols[n]; ok {
			return i
		}
	}
	return -1
}

// Detect recognises a list from its first line: a register has a name and
// a licence column; a watch list has an identifier column (iin, pan, iban,
// phone, wallet or address); a line without a comma is a bare address list.
func Detect(firstLine string) (importers.Format, bool) {
	first := strings.TrimPrefix(strings.TrimSpace(firstLine), "\ufeff")
	if first == "" {
		return "", false
	}
	if !strings.Contains(first, ",") {
		if strings.ContainsAny(first, " \t;") {
			return "", false
		}
		return FormatAddresses, true
	}
	cols := headerCols(strings.Split(first, ","))
	if find(cols, colName) >= 0 && find(cols, colLicence) >= 0 {
		return FormatRegister, true
	}
	for _, set := range [][]string{colIIN, colPAN, colIBAN, colPhone, colWallet} {
		if find(cols, set) >= 0 {
			return FormatWatchlist, true
		}
	}
	return "", false
}

// Claims reports whether a first line is a watch list's header even though
// it may also read as one of casegraph's own CSV formats: it names a
// list_status column, which only lists have ("iin,name,list_status" would
// otherwise import as persons, and the next persons file would overwrite
// the status).
func Claims(firstLine string) bool {
	f, ok := Detect(firstLine)
	if !ok || f != FormatWatchlist {
		return false
	}
	_, has := headerCols(strings.Split(strings.TrimSpace(firstLine), ","))["list_status"]
	return has
}

// SaysList reports whether a first line says that its file is a watch list:
// it names a list_status or list column. Only such a file (or one imported
// with --as list) is read as a watch list: an identifier column alone
// (iin, pan, address) does not make a file a list, or a persons file with a
// typo, or garbage with a comma in it, would flag everyone it names.
func SaysList(firstLine string) bool {
	f, ok := Detect(firstLine)
	if !ok || f != FormatWatchlist {
		return false
	}
	cols := headerCols(strings.Split(strings.TrimSpace(firstLine), ","))
	_, a := cols["list_status"]
	_, b := cols["list"]
	return a || b
}

// DuplicateColumn returns the first column name a header line repeats
// (compared as the importer matches them), or "".
func DuplicateColumn(firstLine string) string {
	seen := map[string]bool{}
	for _, c := range strings.Split(strings.TrimSpace(firstLine), ",") {
		c = strings.ToLower(strings.TrimSpace(strings.Trim(strings.TrimPrefix(c, "\ufeff"), `"`)))
		if c == "" {
			continue
		}
		if seen[c] {
			return c
		}
		seen[c] = true
	}
	return ""
}

func headerCols(h []string) map[string]int {
	cols := make(map[string]int, len(h))
	for i, c := range h {
		c = strings.ToLower(strings.TrimSpace(strings.Trim(strings.TrimPrefix(c, "\ufeff"), `"`)))
		if _, dup := cols[c]; !dup && c != "" {
			cols[c] = i
		}
	}
	return cols
}

// Import reads one list file, detects its kind from the first line and
// applies it. look may be nil: then nothing is matched against the case and
// every hit becomes a stub (watch lists) or register-only exchange.
func Import(ctx context.Context, r io.Reader, sink importers.Sink, look Lookup, opts Options) (importers.Report, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := br.Peek(4096)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return importers.Report{File: opts.Name}, fmt.Errorf("%s: read: %w", opts.Name, err)
	}
	if err := importers.CheckHead(first); err != nil {
		return importers.Report{File: opts.Name}, fmt.Errorf("%s: %w", opts.Name, err)
	}
	line, _, _ := strings.Cut(string(first), "\n")
	if dup := DuplicateColumn(line); dup != "" {
		return importers.Report{File: opts.Name}, fmt.Errorf("%s: header names column %q twice (a duplicated column is refused: which one holds the data?)", opts.Name, importers.Preview(dup))
	}
	f, ok := Detect(line)
	if !ok {
		return importers.Report{File: opts.Name}, fmt.Errorf("%s: not a list: want a header with iin, pan, iban, phone, wallet or address (watch list), name and licence (AFSA register), or one address per line", opts.Name)
	}
	l := &lister{ctx: ctx, look: look, opts: opts, books: rec.New(sink, opts.Options, f)}
	switch f {
	case FormatAddresses:
		err = l.addresses(br)
	case FormatRegister:
		err = l.csv(br, l.registerRow)
	default:
		err = l.csv(br, l.watchRow)
	}
	return l.books.Rep, err
}

type lister struct {
	ctx     context.Context
	look    Lookup
	opts    Options
	books   *rec.Books
	cols    map[string]int
	wallets map[string]graph.Ref // address (0x lower-cased) → case wallet
	exch    []graph.Entity
	loaded  bool
}

// addresses reads a bare list: one wallet address per non-blank line.
func (l *lister) addresses(r io.Reader) error {
	if err := l.loadWallets(); err != nil {
		return fmt.Errorf("%s: %w", l.opts.Name, err)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		a := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if a == "" || strings.HasPrefix(a, "#") {
			continue
		}
		l.books.Rep.Read++
		if strings.ContainsAny(a, " \t,;") {
			if err := l.books.Reject(line, "address", a, "want one wallet address per line"); err != nil {
				return err
			}
			continue
		}
		status, err := normStatus(l.opts.Status)
		if err != nil {
			if err := l.books.Reject(line, "list_status", l.opts.Status, err.Error()); err != nil {
				return err
			}
			continue
		}
		src := graph.Provenance{File: l.opts.Name, Line: line, Batch: l.opts.Batch}
		ref, err := l.walletRef(l.opts.Chain, a)
		if err == nil {
			err = l.flag(ref, status, "", "", src)
		}
		if re, ok := importers.AsRecordError(err); ok {
			if err := l.books.Reject(line, re.Column, re.Value, re.Reason); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			l.books.Rep.Read--
			return fmt.Errorf("%s: line %d: %w", l.opts.Name, line, err)
		}
		l.books.Rep.Imported++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: read after line %d: %w", l.opts.Name, line, err)
	}
	return nil
}

// csv reads a CSV list with a header, calling row for every record.
func (l *lister) csv(r io.Reader, row func(rec []string, line int) error) error {
	rd := csv.NewReader(importers.LimitRuns(r, "\n", importers.MaxLineBytes))
	rd.FieldsPerRecord = -1
	header, err := rd.Read()
	if err != nil {
		return fmt.Errorf("%s: read header: %w", l.opts.Name, err)
	}
	l.cols = headerCols(header)
	for {
		if err := l.ctx.Err(); err != nil {
			return fmt.Errorf("%s: cancelled after %d rows: %w", l.opts.Name, l.books.Rep.Read, err)
		}
		rec, err := rd.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			l.books.Rep.Read++
			if err := l.books.Reject(pe.StartLine, "", "", "malformed CSV: "+pe.Err.Error()); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: read: %w", l.opts.Name, err)
		}
		line, _ := rd.FieldPos(0)
		l.books.Rep.Read++
		if len(rec) != len(header) {
			if err := l.books.Reject(line, "", "", fmt.Sprintf("want %d fields as in the header, got %d", len(header), len(rec))); err != nil {
				return err
			}
			continue
		}
		if i, err := badField(rec); err != nil {
			col := "column_" + fmt.Sprint(i+1)
			if i < len(header) && strings.TrimSpace(header[i]) != "" {
				col = strings.ToLower(strings.TrimSpace(header[i]))
			}
			if err := l.books.Reject(line, col, strings.ToValidUTF8(importers.Preview(rec[i]), "\ufffd"), err.Error()); err != nil {
				return err
			}
			continue
		}
		err = row(rec, line)
		if re, ok := importers.AsRecordError(err); ok {
			// A record the books refused (a hostile key) rejects its row.
			err = l.books.Reject(line, re.Column, re.Value, re.Reason)
		}
		if err != nil {
			l.books.Rep.Read--
			return fmt.Errorf("%s: line %d: %w", l.opts.Name, line, err)
		}
	}
}

// badField returns the first field that is too long, not UTF-8 or holds a
// NUL byte, and why.
func badField(rec []string) (int, error) {
	for i, v := range rec {
		if err := importers.CheckText(v, importers.MaxFieldBytes); err != nil {
			return i, err
		}
	}
	return 0, nil
}

func (l *lister) get(rec []string, names []string) (string, string) {
	i := find(l.cols, names)
	if i < 0 {
		return "", ""
	}
	for n, j := range l.cols {
		if j == i {
			return strings.TrimSpace(rec[i]), n
		}
	}
	return strings.TrimSpace(rec[i]), names[0]
}

// rejectOrErr records a reject and returns only a writer error.
func (l *lister) reject(line int, col, val, reason string) error {
	return l.books.Reject(line, col, val, reason)
}

var statusRank = map[string]int{"": 0, "grey": 1, "black": 2, "sanctioned": 3}

// normStatus maps list status spellings onto grey, black and sanctioned.
func normStatus(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "grey", "gray", "серый", "сұр":
		return "grey", nil
	case "black", "blacklist", "чёрный", "черный", "қара":
		return "black", nil
	case "sanctioned", "sanction", "sanctions", "sdn":
		return "sanctioned", nil
	case "":
		return "", errors.New("list status is empty and the file has no default: want grey, black or sanctioned")
	}
	return "", fmt.Errorf("list status %q: want grey, black or sanctioned", s)
}

func (l *lister) watchRow(rec []string, line int) error {
	src := graph.Provenance{File: l.opts.Name, Line: line, Batch: l.opts.Batch}
	rawStatus, _ := l.get(rec, colStatus)
	if rawStatus == "" {
		rawStatus = l.opts.Status
	}
	status, err := normStatus(rawStatus)
	if err != nil {
		return l.reject(line, "list_status", rawStatus, err.Error())
	}
	name, _ := l.get(rec, colName)
	reason, _ := l.get(rec, colReason)
	var ref graph.Ref
	for _, c := range []struct {
		names []string
		kind  graph.Kind
	}{{colIIN, graph.KindPerson}, {colPAN, graph.KindCard}, {colIBAN, graph.KindAccount}, {colPhone, graph.KindPhone}} {
		v, col := l.get(rec, c.names)
		if v == "" {
			continue
		}
		key, err := importers.ParseRef(c.kind.Scheme() + ":" + v)
		if err != nil {
			return l.reject(line, col, v, err.Error())
		}
		ref = key
		break
	}
	if ref.IsZero() {
		if v, _ := l.get(rec, colWallet); v != "" {
			chain, _ := l.get(rec, colChain)
			if chain == "" {
				chain = l.opts.Chain
			}
			if ref, err = l.walletRef(chain, v); err != nil {
				return err
			}
		}
	}
	if ref.IsZero() {
		return l.reject(line, "", "", "row names no iin, pan, iban, phone or wallet address")
	}
	if err := l.flag(ref, status, importers.NormalizeName(name), reason, src); err != nil {
		return err
	}
	l.books.Rep.Imported++
	return nil
}

// walletRef keys a listed address: the case's own wallet with that address
// when there is one (0x addresses compared case-insensitively, any chain),
// else chain:address.
func (l *lister) walletRef(chain, addr string) (graph.Ref, error) {
	if c, a, ok := strings.Cut(addr, ":"); ok && c != "" && a != "" && !strings.HasPrefix(addr, "0x") {
		chain, addr = c, a
	}
	if err := l.loadWallets(); err != nil {
		return graph.Ref{}, err
	}
	if r, ok := l.wallets[addrKey(addr)]; ok {
		return r, nil
	}
	chain = strings.ToUpper(strings.TrimSpace(chain))
	switch chain {
	case "XBT":
		chain = "BTC"
	case "TRX":
		chain = "TRON"
	case "", "USDT", "USDC":
		chain = ftm.ChainOf(addr)
	}
	return graph.Ref{Kind: graph.KindWallet, Key: chain + ":" + addr}, nil
}

func addrKey(a string) string {
	if strings.HasPrefix(a, "0x") || strings.HasPrefix(a, "0X") {
		return strings.ToLower(a)
	}
	return a
}

func (l *lister) loadWallets() error {
	if l.wallets != nil {
		return nil
	}
	l.wallets = map[string]graph.Ref{}
	if l.look == nil {
		return nil
	}
	err := l.look.Entities(l.ctx, graph.KindWallet, func(e graph.Entity) error {
		if _, a, ok := strings.Cut(e.Ref.Key, ":"); ok {
			l.wallets[addrKey(a)] = e.Ref
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the case's wallets: %w", err)
	}
	return nil
}

// flag writes list_status onto ref, merged with what the case holds.
func (l *lister) flag(ref graph.Ref, status, name, reason string, src graph.Provenance) error {
	e := graph.Entity{Ref: ref, Stub: true, Src: src}
	if l.look != nil {
		old, err := l.look.Entity(l.ctx, ref)
		switch {
		case err == nil:
			e = old
		case !errors.Is(err, graph.ErrNotFound):
			return fmt.Errorf("read %s: %w", ref, err)
		}
	}
	p := make(map[string]string, len(e.Props)+4)
	for k, v := range e.Props {
		p[k] = v
	}
	if statusRank[status] >= statusRank[p["list_status"]] {
		p["list_status"] = status
	}
	addMulti(p, "list_source", l.opts.Name)
	addMulti(p, "list_name", name)
	addMulti(p, "list_reason", reason)
	e.Props = p
	if e.Stub {
		e.Src = src
	}
	if err := l.books.Put(e); err != nil {
		return err
	}
	return nil
}

func addMulti(p map[string]string, k, v string) {
	if v == "" {
		return
	}
	old := p[k]
	if old == "" {
		p[k] = v
		return
	}
	for _, x := range strings.Split(old, graph.MultiSep) {
		if x == v {
			return
		}
	}
	p[k] = old + graph.MultiSep + v
}

// activeStatus reports whether a register status means the licence holds.
func activeStatus(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "active", "valid", "licensed", "granted", "действующая", "действует", "активна":
		return true
	}
	return false
}

func (l *lister) registerRow(rec []string, line int) error {
	src := graph.Provenance{File: l.opts.Name, Line: line, Batch: l.opts.Batch}
	name, _ := l.get(rec, colName)
	name = importers.NormalizeName(name)
	lic, licCol := l.get(rec, colLicence)
	status, _ := l.get(rec, colStatus)
	date, dateCol := l.get(rec, colDate)
	domain, _ := l.get(rec, colDomain)
	if name == "" {
		return l.reject(line, "name", "", "required value is empty")
	}
	if lic == "" {
		return l.reject(line, licCol, "", "required value is empty")
	}
	if date != "" {
		if _, err := importers.ParseDate(date); err != nil {
			return l.reject(line, dateCol, date, err.Error())
		}
	}
	if !l.loaded {
		l.loaded = true
		if l.look != nil {
			err := l.look.Entities(l.ctx, graph.KindExchange, func(e graph.Entity) error {
				l.exch = append(l.exch, e)
				return nil
			})
			if err != nil {
				return fmt.Errorf("read the case's exchanges: %w", err)
			}
		}
	}
	sk := compactSkeleton(name)
	dom := domainOf(domain)
	var hits []graph.Entity
	for _, e := range l.exch {
		if (sk != "" && compactSkeleton(e.Name) == sk) || (dom != "" && (domainOf(e.Props["domain"]) == dom || strings.EqualFold(e.Ref.Key, dom))) {
			hits = append(hits, e)
		}
	}
	set := func(e graph.Entity) graph.Entity {
		p := make(map[string]string, len(e.Props)+4)
		for k, v := range e.Props {
			p[k] = v
		}
		if activeStatus(status) {
			p["afsa_licence"] = lic
			delete(p, "afsa_licence_inactive")
		} else {
			p["afsa_licence"] = ""
			p["afsa_licence_inactive"] = lic
		}
		if status == "" {
			status = "active"
		}
		p["licence_status"] = strings.ToLower(status)
		if date != "" {
			p["register_date"] = date
		}
		p["register_name"] = name
		e.Props = p
		return e
	}
	if len(hits) == 0 {
		e := set(graph.Entity{Ref: graph.Ref{Kind: graph.KindExchange, Key: "afsa:" + lic}, Name: name, Src: src})
		e.Props["register_only"] = "yes"
		if dom != "" {
			e.Props["domain"] = dom
		}
		if err := l.books.Put(e); err != nil {
			return err
		}
	}
	for _, h := range hits {
		e := set(h)
		if e.Stub {
			// A stub exchange known only from transactions becomes a full one.
			e.Stub, e.Name, e.Src = false, name, src
		}
		if err := l.books.Put(e); err != nil {
			return err
		}
	}
	l.books.Rep.Imported++
	return nil
}

// compactSkeleton is the name skeleton without word breaks: registers and
// case files split brand names differently ("Tenge Obmen 24", "ТенгеОбмен24").
func compactSkeleton(s string) string { return strings.ReplaceAll(graph.Skeleton(s), " ", "") }

func domainOf(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	}
	u, _, _ = strings.Cut(u, "/")
	return strings.TrimPrefix(u, "www.")
}
