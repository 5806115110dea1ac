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
