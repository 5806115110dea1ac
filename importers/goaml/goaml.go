// Package goaml imports UNODC goAML report XML (schema 5.x): every
// report/transaction becomes a transaction between its t_from and t_to
// parties (account, person or entity), and every activity report_party and
// every involved party becomes an entity; a multi-party transaction whose
// parties' roles name one remitter and one beneficiary becomes a
// transaction between them. Accounts link their signatories
// (holds, with the signatory role) and their owning entity.
//
// Keys: a person is keyed by IIN when the id_number or ssn is a valid
// Kazakh IIN (and the nationality is KZ or not given), else by a generated
// key "goaml:<name skeleton>|<birth date>|<id number>" so that the same
// person named in several reports converges; an entity likewise by BIN or
// "goaml:<name skeleton>|<incorporation number>|<country>" (kind
// organisation); an account by IBAN, else "goaml:<swift or institution>:<account>".
// Rows are transaction and report_party elements; a reject names the
// element's line and its path, e.g. report/transaction.
package goaml

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/internal/rec"
)

// Format is the report format of goAML files.
const Format importers.Format = "goaml"

// Sniff reports whether head (the first bytes of a file) is a goAML report.
func Sniff(head []byte) bool {
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	return bytes.HasPrefix(h, []byte("<")) && bytes.Contains(h, []byte("<report")) &&
		(bytes.Contains(h, []byte("<rentity_id")) || bytes.Contains(h, []byte("<report_code")) || bytes.Contains(h, []byte("<submission_code")))
}

type phone struct {
	Prefix string `xml:"tph_country_prefix"`
	Number string `xml:"tph_number"`
}

type person struct {
	FirstName   string  `xml:"first_name"`
	MiddleName  string  `xml:"middle_name"`
	LastName    string  `xml:"last_name"`
	Birthdate   string  `xml:"birthdate"`
	IDNumber    string  `xml:"id_number"`
	SSN         string  `xml:"ssn"`
	Passport    string  `xml:"passport_number"`
	Nationality string  `xml:"nationality1"`
	Residence   string  `xml:"residence"`
	Phones      []phone `xml:"phones>phone"`
	Role        string  `xml:"role"`
}

type entity struct {
	Name          string   `xml:"name"`
	Commercial    string   `xml:"commercial_name"`
	Incorporation string   `xml:"incorporation_number"`
	TaxNumber     string   `xml:"tax_number"`
	Country       string   `xml:"incorporation_country_code"`
	Phones        []phone  `xml:"phones>phone"`
	Directors     []person `xml:"director_id"`
}

type signatory struct {
	Primary string `xml:"is_primary"`
	Person  person `xml:"t_person"`
	Role    string `xml:"role"`
}

type account struct {
	Institution string      `xml:"institution_name"`
	Swift       string      `xml:"swift"`
	Account     string      `xml:"account"`
	IBAN        string      `xml:"iban"`
	Currency    string      `xml:"currency_code"`
	Entity      *entity     `xml:"t_entity"`
	Signatories []signatory `xml:"signatory"`
}

// side is t_from, t_from_my_client, t_to or t_to_my_client.
type side struct {
	FromAccount *account `xml:"from_account"`
	FromPerson  *person  `xml:"from_person"`
	FromEntity  *entity  `xml:"from_entity"`
	ToAccount   *account `xml:"to_account"`
	ToPerson    *person  `xml:"to_person"`
	ToEntity    *entity  `xml:"to_entity"`
	Funds       string   `xml:"from_funds_code"`
	ToFunds     string   `xml:"to_funds_code"`
	Country     string   `xml:"from_country"`
	ToCountry   string   `xml:"to_country"`
}

type party struct {
	Role    string   `xml:"role"`
	Person  *person  `xml:"person"`
	Account *account `xml:"account"`
	Entity  *entity  `xml:"entity"`
	// The *_my_client forms name the reporting institution's own clients.
	PersonMy  *person  `xml:"person_my_client"`
	AccountMy *account `xml:"account_my_client"`
	EntityMy  *entity  `xml:"entity_my_client"`
	Reason    string   `xml:"reason"`
}

type transaction struct {
	Number      string  `xml:"transactionnumber"`
	InternalRef string  `xml:"internal_ref_number"`
	Description string  `xml:"transaction_description"`
	Date        string  `xml:"date_transaction"`
	Mode        string  `xml:"transmode_code"`
	Amount      string  `xml:"amount_local"`
	FromMy      *side   `xml:"t_from_my_client"`
	From        *side   `xml:"t_from"`
	ToMy        *side   `xml:"t_to_my_client"`
	To          *side   `xml:"t_to"`
	Involved    []party `xml:"involved_parties>party"`
}

type importer struct {
	ctx   context.Context
	opts  importers.Options
	books *rec.Books
	loc   *time.Location
	head  map[string]string // report header fields
	// ids holds the first transaction element of every transactionnumber
	// (its line and a hash of its content): a later element of the number
	// with other content is a conflicting duplicate, rejected naming both
	// lines before any of its records is sent.
	ids *importers.IDGuard
}

// Import reads one goAML report from r and sends its records to sink. A
// malformed document stops the import with an error naming the line; the
// report reconciles in every case.
func Import(ctx context.Context, r io.Reader, sink importers.Sink, opts importers.Options) (importers.Report, error) {
	im := &importer{ctx: ctx, opts: opts, books: rec.New(sink, opts, Format), loc: opts.Location, head: map[string]string{},
		ids: importers.NewIDGuard()}
	if im.loc == nil {
		im.loc = importers.Almaty()
	}
	err := im.run(r)
	return im.books.Rep, err
}

var headerFields = map[string]bool{"rentity_id": true, "report_code": true, "entity_reference": true,
	"currency_code_local": true, "submission_date": true}

// maxDepth bounds how deep elements nest; a goAML report needs about ten
// levels. A deeper file is refused: it is an attack on the parser, not data.
const maxDepth = 64

func (im *importer) run(r io.Reader) error {
	dec := xml.NewDecoder(importers.LimitRuns(r, "<>", importers.MaxLineBytes))
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q is not supported (want UTF-8)", label)
	}
	var path []string
	sawReport := false
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: line %d: malformed XML: %w", im.opts.Name, line, err)
		}
		if err := im.ctx.Err(); err != nil {
			return fmt.Errorf("%s: cancelled: %w", im.opts.Name, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if len(path) == 0 {
				if name != "report" {
					return fmt.Errorf("%s: root element is <%s>, want <report>", im.opts.Name, name)
				}
				sawReport = true
			}
			line, _ = dec.InputPos()
			if len(path) >= maxDepth {
				return fmt.Errorf("%s: line %d: elements nested deeper than %d: not a goAML report", im.opts.Name, line, maxDepth)
			}
			// The path is joined only for the elements that are rows or
			// header fields: joining it for every element made a deeply
			// nested file quadratic.
			elPath := func() string { return strings.Join(append(path[:len(path):len(path)], name), "/") }
			switch {
			case len(path) == 1 && headerFields[name]:
				var v string
				if err := dec.DecodeElement(&v, &t); err != nil {
					return fmt.Errorf("%s: line %d: %s: %w", im.opts.Name, line, elPath(), err)
				}
				im.head[name] = strings.TrimSpace(v)
				continue
			case len(path) == 1 && name == "transaction":
				var tx transaction
				if err := dec.DecodeElement(&tx, &t); err != nil {
					return fmt.Errorf("%s: line %d: %s: %w", im.opts.Name, line, elPath(), err)
				}
				if err := im.row(line, elPath(), func(src graph.Provenance) (string, string, error) {
					num := strings.TrimSpace(tx.Number)
					if num == "" {
						return "", "transactionnumber is empty", nil
					}
					if first, bad := im.ids.Check(num, im.sum(&tx), line); bad {
						return importers.Preview(num), importers.ConflictReason("transactionnumber", num, im.opts.Name, line, first), nil
					}
					value, reason, err := im.transaction(&tx, src)
					if reason == "" && err == nil {
						im.ids.Remember()
					}
					return value, reason, err
				}); err != nil {
					return err
				}
				continue
			case name == "report_party" && len(path) >= 2:
				var p party
				if err := dec.DecodeElement(&p, &t); err != nil {
					return fmt.Errorf("%s: line %d: %s: %w", im.opts.Name, line, elPath(), err)
				}
				if err := im.row(line, elPath(), func(src graph.Provenance) (string, string, error) {
					ok, err := im.party(&p, "report_party", src)
					if err == nil && !ok {
						return "", "report party names no person, account or entity", nil
					}
					return "", "", err
				}); err != nil {
					return err
				}
				continue
			}
			path = append(path, name)
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		}
	}
	if !sawReport {
		return fmt.Errorf("%s: no <report> element", im.opts.Name)
	}
	return nil
}

// row accounts for one transaction or report_party element.
func (im *importer) row(line int, elPath string, fn func(graph.Provenance) (value, reason string, err error)) error {
	im.books.Rep.Read++
	src := graph.Provenance{File: im.opts.Name, Line: line, Batch: im.opts.Batch}
	value, reason, err := fn(src)
	// A record the run's conflict check refused (another file or an earlier
	// import gave its id other data) rejects the element, naming both places.
	if ce, ok := importers.AsRecordError(err); ok {
		value, reason, err = importers.Preview(ce.Value), ce.Reason, nil
	}
	if err != nil {
		im.books.Rep.Read--
		return fmt.Errorf("%s: line %d: %w", im.opts.Name, line, err)
	}
	if reason != "" {
		return im.books.Reject(line, elPath, value, reason)
	}
	im.books.Rep.Imported++
	return nil
}

// sum hashes what a transaction element says (its decoded content).
func (im *importer) sum(tx *transaction) uint64 {
	b, _ := json.Marshal(tx) // plain strings and structs: cannot fail
	return maphash.Bytes(im.ids.Seed(), b)
}

func isKZOrEmpty(c string) bool {
	c = strings.TrimSpace(c)
	return c == "" || strings.EqualFold(c, "KZ")
}

func (p *person) name() string {
	return importers.NormalizeName(strings.Join([]string{p.LastName, p.FirstName, p.MiddleName}, " "))
}

func dateOnly(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 10 {
		if d, err := importers.ParseDate(s[:10]); err == nil {
			return d
		}
	}
	return ""
}

func (p *person) ref() (graph.Ref, bool) {
	if isKZOrEmpty(p.Nationality) {
		for _, v := range []string{p.IDNumber, p.SSN} {
			if iin, err := importers.NormalizeIIN(v); err == nil {
				return graph.Ref{Kind: graph.KindPerson, Key: iin}, true
			}
		}
	}
	n := p.name()
	id := strings.TrimSpace(p.IDNumber)
	if id == "" {
		id = strings.TrimSpace(p.Passport)
	}
	if n == "" && id == "" {
		return graph.Ref{}, false
	}
	return graph.Ref{Kind: graph.KindPerson, Key: "goaml:" + graph.Skeleton(n) + "|" + dateOnly(p.Birthdate) + "|" + id}, true
}

func (e *entity) ref() (graph.Ref, bool) {
	if isKZOrEmpty(e.Country) {
		for _, v := range []string{e.Incorporation, e.TaxNumber} {
			if bin, err := importers.NormalizeIIN(v); err == nil {
				return graph.Ref{Kind: graph.KindOrganisation, Key: bin}, true
			}
		}
	}
	n := importers.NormalizeName(e.Name)
	if n == "" {
		n = importers.NormalizeName(e.Commercial)
	}
	if n == "" && e.Incorporation == "" {
		return graph.Ref{}, false
	}
	return graph.Ref{Kind: graph.KindOrganisation, Key: "goaml:" + graph.Skeleton(n) + "|" + strings.TrimSpace(e.Incorporation) + "|" + strings.ToUpper(strings.TrimSpace(e.Country))}, true
}

func (a *account) ref() (graph.Ref, bool) {
	if iban, err := importers.NormalizeIBAN(a.IBAN); err == nil {
		return graph.Ref{Kind: graph.KindAccount, Key: iban}, true
	}
	if iban, err := importers.NormalizeIBAN(a.Account); err == nil {
		return graph.Ref{Kind: graph.KindAccount, Key: iban}, true
	}
	acct := strings.TrimSpace(a.Account)
	if acct == "" {
		acct = strings.TrimSpace(a.IBAN)
	}
	if acct == "" {
		return graph.Ref{}, false
	}
	bank := strings.TrimSpace(a.Swift)
	if bank == "" {
		bank = importers.NormalizeName(a.Institution)
	}
	return graph.Ref{Kind: graph.KindAccount, Key: "goaml:" + bank + ":" + acct}, true
}

func (im *importer) props(kv ...string) map[string]string {
	p := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		if v := strings.TrimSpace(kv[i+1]); v != "" {
			p[kv[i]] = v
		}
	}
	if v := im.head["entity_reference"]; v != "" {
		p["goaml_report"] = v
	}
	if v := im.head["report_code"]; v != "" {
		p["goaml_report_code"] = v
	}
	return p
}

func phones(ps []phone) []string {
	var out []string
	for _, p := range ps {
		if n, err := importers.NormalizePhone(p.Prefix + p.Number); err == nil {
			out = append(out, n)
		} else if n, err := importers.NormalizePhone(p.Number); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func (im *importer) linkPhones(from graph.Ref, ps []phone, src graph.Provenance) error {
	for _, n := range phones(ps) {
		ph := graph.Ref{Kind: graph.KindPhone, Key: n}
		if err := im.books.Once(graph.Entity{Ref: ph, Src: src}); err != nil {
			return err
		}
		if err := im.books.Link(graph.Link{From: from, To: ph, Type: graph.LinkUsesPhone, Src: src}); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) putPerson(p *person, src graph.Provenance) (graph.Ref, bool, error) {
	r, ok := p.ref()
	if !ok {
		return r, false, nil
	}
	ps := phones(p.Phones)
	e := graph.Entity{Ref: r, Name: p.name(), Src: src, Props: im.props("birth_date", dateOnly(p.Birthdate),
		"id_number", p.IDNumber, "ssn", p.SSN, "passport_number", p.Passport, "nationality", p.Nationality,
		"residence", p.Residence, "phone", strings.Join(ps, graph.MultiSep))}
	if err := im.books.Put(e); err != nil {
		return r, false, err
	}
	return r, true, im.linkPhones(r, p.Phones, src)
}

func (im *importer) putEntity(x *entity, src graph.Provenance) (graph.Ref, bool, error) {
	r, ok := x.ref()
	if !ok {
		return r, false, nil
	}
	name := importers.NormalizeName(x.Name)
	if name == "" {
		name = importers.NormalizeName(x.Commercial)
	}
	e := graph.Entity{Ref: r, Name: name, Src: src, Props: im.props("commercial_name", x.Commercial,
		"incorporation_number", x.Incorporation, "tax_number", x.TaxNumber, "country", x.Country)}
	if err := im.books.Put(e); err != nil {
		return r, false, err
	}
	if err := im.linkPhones(r, x.Phones, src); err != nil {
		return r, false, err
	}
	for i := range x.Directors {
		d := &x.Directors[i]
		dr, ok, err := im.putPerson(d, src)
		if err != nil {
			return r, false, err
		}
		if ok {
			role := "director"
			if d.Role != "" {
				role += ": " + d.Role
			}
			if err := im.books.Link(graph.Link{From: dr, To: r, Type: graph.LinkControls, Role: role, Src: src}); err != nil {
				return r, false, err
			}
		}
	}
	return r, true, nil
}

func (im *importer) putAccount(a *account, src graph.Provenance) (graph.Ref, bool, error) {
	r, ok := a.ref()
	if !ok {
		return r, false, nil
	}
	e := graph.Entity{Ref: r, Src: src, Props: im.props("bank", importers.NormalizeName(a.Institution),
		"swift", a.Swift, "account_number", a.Account, "currency", a.Currency)}
	if err := im.books.Put(e); err != nil {
		return r, false, err
	}
	if a.Entity != nil {
		er, ok, err := im.putEntity(a.Entity, src)
		if err != nil {
			return r, false, err
		}
		if ok {
			if err := im.books.Link(graph.Link{From: er, To: r, Type: graph.LinkHolds, Role: "owner", Src: src}); err != nil {
				return r, false, err
			}
		}
	}
	for i := range a.Signatories {
		s := &a.Signatories[i]
		pr, ok, err := im.putPerson(&s.Person, src)
		if err != nil {
			return r, false, err
		}
		if ok {
			role := "signatory"
			if s.Role != "" {
				role += ": " + s.Role
			}
			if strings.EqualFold(strings.TrimSpace(s.Primary), "true") || strings.TrimSpace(s.Primary) == "1" {
				role += " (primary)"
			}
			if err := im.books.Link(graph.Link{From: pr, To: r, Type: graph.LinkHolds, Role: role, Src: src}); err != nil {
				return r, false, err
			}
		}
	}
	return r, true, nil
}

// party emits a report party or involved party; ok is false when it names
// nothing that can be keyed.
func (im *importer) party(p *party, _ string, src graph.Provenance) (bool, error) {
	if p.Person == nil {
		p.Person = p.PersonMy
	}
	if p.Account == nil {
		p.Account = p.AccountMy
	}
	if p.Entity == nil {
		p.Entity = p.EntityMy
	}
	any := false
	for _, put := range []func() (bool, error){
		func() (bool, error) {
			if p.Person == nil {
				return false, nil
			}
			_, ok, err := im.putPerson(p.Person, src)
			return ok, err
		},
		func() (bool, error) {
			if p.Account == nil {
				return false, nil
			}
			_, ok, err := im.putAccount(p.Account, src)
			return ok, err
		},
		func() (bool, error) {
			if p.Entity == nil {
				return false, nil
			}
			_, ok, err := im.putEntity(p.Entity, src)
			return ok, err
		},
	} {
		ok, err := put()
		if err != nil {
			return false, err
		}
		any = any || ok
	}
	return any, nil
}

var errNoParty = errors.New("names no account, person or entity that can be keyed")

// end emits the party of one side and returns its reference.
func (im *importer) end(s *side, src graph.Provenance) (graph.Ref, error) {
	if s == nil {
		return graph.Ref{}, errNoParty
	}
	for _, a := range []*account{s.FromAccount, s.ToAccount} {
		if a != nil {
			r, ok, err := im.putAccount(a, src)
			if err != nil || ok {
				return r, err
			}
		}
	}
	for _, p := range []*person{s.FromPerson, s.ToPerson} {
		if p != nil {
			r, ok, err := im.putPerson(p, src)
			if err != nil || ok {
				return r, err
			}
		}
	}
	for _, e := range []*entity{s.FromEntity, s.ToEntity} {
		if e != nil {
			r, ok, err := im.putEntity(e, src)
			if err != nil || ok {
				return r, err
			}
		}
	}
	return graph.Ref{}, errNoParty
}

func (im *importer) transaction(tx *transaction, src graph.Provenance) (value, reason string, err error) {
	if strings.TrimSpace(tx.Number) == "" {
		return "", "transactionnumber is empty", nil
	}
	at, terr := importers.ParseTime(tx.Date, im.loc)
	if terr != nil {
		return tx.Date, "date_transaction: " + terr.Error(), nil
	}
	amount, aerr := importers.ParseAmount(tx.Amount)
	if aerr != nil {
		return tx.Amount, "amount_local: " + aerr.Error(), nil
	}
	if amount <= 0 {
		return tx.Amount, "amount_local must be greater than zero", nil
	}
	cur := strings.ToUpper(im.head["currency_code_local"])
	if len(cur) != 3 {
		return cur, "report has no currency_code_local", nil
	}
	if len(tx.Involved) > 0 && tx.FromMy == nil && tx.From == nil {
		// Multi-party transaction: parties with roles. The money has a
		// direction only when the roles name one remitter and one
		// beneficiary; otherwise the parties are imported alone.
		n := 0
		var senders, receivers []graph.Ref
		for i := range tx.Involved {
			p := &tx.Involved[i]
			ok, err := im.party(p, "involved_parties", src)
			if err != nil {
				return "", "", err
			}
			if !ok {
				continue
			}
			n++
			r, _ := p.ref()
			switch strings.ToUpper(strings.TrimSpace(p.Role)) {
			case roleRemitter:
				senders = append(senders, r)
			case roleBeneficiary:
				receivers = append(receivers, r)
			}
		}
		if n == 0 {
			return tx.Number, "involved parties name no person, account or entity", nil
		}
		if len(senders) == 1 && len(receivers) == 1 && senders[0] != receivers[0] {
			t := im.txn(tx, at, senders[0], receivers[0], amount, cur, src,
				"involved_parties", strconv.Itoa(len(tx.Involved)))
			if err := im.books.Txn(t); err != nil {
				return "", "", err
			}
		}
		return "", "", nil
	}
	from := tx.FromMy
	if from == nil {
		from = tx.From
	}
	to := tx.ToMy
	if to == nil {
		to = tx.To
	}
	// Validate both sides' keys before emitting anything.
	if !sideKeyed(from) {
		return tx.Number, "t_from " + errNoParty.Error(), nil
	}
	if !sideKeyed(to) {
		return tx.Number, "t_to " + errNoParty.Error(), nil
	}
	fr, err := im.end(from, src)
	if err != nil {
		return "", "", err
	}
	tr, err := im.end(to, src)
	if err != nil {
		return "", "", err
	}
	t := im.txn(tx, at, fr, tr, amount, cur, src, "from_funds_code", from.Funds, "to_funds_code", to.ToFunds)
	if err := im.books.Txn(t); err != nil {
		return "", "", err
	}
	return "", "", nil
}

// The party roles (party_role_type) that give a multi-party transaction
// its direction: "Payee / Sender / Remitter" and "Beneficiary / Receiver".
const (
	roleRemitter    = "RMITR"
	roleBeneficiary = "BNFCR"
)

// txn builds the transaction of a report/transaction element between two
// parties; kv are further properties.
func (im *importer) txn(tx *transaction, at time.Time, from, to graph.Ref, amount int64, cur string, src graph.Provenance, kv ...string) graph.Txn {
	id := "goaml:" + im.head["rentity_id"] + ":" + strings.TrimSpace(tx.Number)
	return graph.Txn{ID: id, Time: at, From: from, To: to, Amount: amount, Currency: cur, Channel: graph.ChannelTransfer,
		Reference: importers.NormalizeName(tx.Description), Src: src,
		Props: im.props(append([]string{"transmode_code", tx.Mode, "internal_ref_number", tx.InternalRef}, kv...)...)}
}

// ref is the party's reference as party emitted it: its account, else its
// person, else its entity.
func (p *party) ref() (graph.Ref, bool) {
	if p.Account != nil {
		if r, ok := p.Account.ref(); ok {
			return r, true
		}
	}
	if p.Person != nil {
		if r, ok := p.Person.ref(); ok {
			return r, true
		}
	}
	if p.Entity != nil {
		if r, ok := p.Entity.ref(); ok {
			return r, true
		}
	}
	return graph.Ref{}, false
}

func sideKeyed(s *side) bool {
	if s == nil {
		return false
	}
	for _, a := range []*account{s.FromAccount, s.ToAccount} {
		if a != nil {
			if _, ok := a.ref(); ok {
				return true
			}
		}
	}
	for _, p := range []*person{s.FromPerson, s.ToPerson} {
		if p != nil {
			if _, ok := p.ref(); ok {
				return true
			}
		}
	}
	for _, e := range []*entity{s.FromEntity, s.ToEntity} {
		if e != nil {
			if _, ok := e.ref(); ok {
				return true
			}
		}
	}
	return false
}
