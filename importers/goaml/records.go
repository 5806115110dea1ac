package goaml

import (
	"errors"
	"strings"

	"casegraph/graph"
	"casegraph/importers"
)

// The records a goAML report gives: persons, entities, accounts and the
// parties and sides of a transaction, each turned into graph records
// (goaml.go reads the XML and the transactions).

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
