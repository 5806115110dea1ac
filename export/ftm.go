package export

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"casegraph/graph"
)

// ftmEntity is one FollowTheMoney entity as the ftm tools and Aleph read it:
// {"id": …, "schema": …, "properties": {name: [values]}}.
type ftmEntity struct {
	ID         string              `json:"id"`
	Schema     string              `json:"schema"`
	Properties map[string][]string `json:"properties"`
}

func (e *ftmEntity) add(prop string, vals ...string) {
	for _, v := range vals {
		if v == "" {
			continue
		}
		for _, old := range e.Properties[prop] {
			if old == v {
				return
			}
		}
		e.Properties[prop] = append(e.Properties[prop], v)
	}
}

// ftmSchema is the FtM schema an entity kind maps to; kinds without one
// (phones, devices, IPs, ATMs, cash) become properties or descriptions of
// what they are linked to.
func ftmSchema(k graph.Kind) string {
	switch k {
	case graph.KindPerson:
		return "Person"
	case graph.KindCard, graph.KindAccount:
		return "BankAccount"
	case graph.KindWallet:
		return "CryptoWallet"
	case graph.KindExchange, graph.KindGroup:
		return "Organization"
	case graph.KindAddress:
		return "Address"
	}
	return ""
}

// isParty reports whether a kind maps to an FtM LegalEntity (a payer,
// owner or member).
func isParty(k graph.Kind) bool {
	return k == graph.KindPerson || k == graph.KindExchange || k == graph.KindGroup
}

// ftmDate renders a UTC time in FtM's date form (ISO 8601 without zone,
// which FtM reads as UTC).
func ftmDate(t graph.Txn) string { return t.Time.UTC().Format("2006-01-02T15:04:05") }

func renderFtM(d *doc) ([]byte, error) {
	ents := map[string]*ftmEntity{}
	fid := func(r graph.Ref) string { return "cg-" + d.id(r) }
	get := func(id, schema string) *ftmEntity {
		e, ok := ents[id]
		if !ok {
			e = &ftmEntity{ID: id, Schema: schema, Properties: map[string][]string{}}
			ents[id] = e
		}
		return e
	}
	for _, n := range d.nodes {
		schema := ftmSchema(n.ent.Ref.Kind)
		if schema == "" {
			continue
		}
		e := get(fid(n.ent.Ref), schema)
		props := n.ent.Props
		p := func(k string) string { return d.txt(props[k]) }
		title := d.title(n.ent.Ref)
		switch n.ent.Ref.Kind {
		case graph.KindPerson:
			e.add("name", title)
			e.add("idNumber", n.red.Key)
			e.add("country", "kz")
			e.add("birthDate", d.birthDate(props["birth_date"]))
			e.add("phone", p("phone"))
			e.add("address", p("address"))
		case graph.KindCard:
			key, _, _ := strings.Cut(n.red.Key, "~")
			e.add("name", title)
			e.add("accountNumber", key)
			e.add("accountType", "card")
			e.add("bankName", p("bank"))
			e.add("iban", p("iban"))
			e.add("openingDate", p("issued"))
		case graph.KindAccount:
			e.add("name", title)
			e.add("iban", n.red.Key)
			e.add("accountNumber", n.red.Key)
			e.add("accountType", "account")
			e.add("bankName", p("bank"))
		case graph.KindWallet:
			chain, addr, ok := strings.Cut(n.red.Key, ":")
			if !ok {
				chain, addr = "", n.red.Key
			}
			e.add("name", title)
			e.add("publicKey", addr)
			e.add("currencySymbol", chain)
		case graph.KindExchange:
			e.add("name", title)
			e.add("website", p("domain"))
			e.add("licenseNumber", p("afsa_licence"))
			e.add("status", p("status"))
			e.add("sector", "virtual asset exchange")
		case graph.KindGroup:
			e.add("name", title)
			e.add("idNumber", n.red.Key)
			e.add("sector", "criminal group")
			if c := p("case_ref"); c != "" {
				e.add("summary", "case "+c)
			}
		case graph.KindAddress:
			e.add("full", title)
			e.add("name", title)
		}
		if kv := d.props(n.ent); len(kv) > 0 {
			e.add("description", joinKV(kv))
		}
		e.add("keywords", "casegraph:"+n.ent.Ref.Kind.String())
	}

	emitted := func(r graph.Ref) bool { return ftmSchema(r.Kind) != "" }
	holder := map[graph.Ref]graph.Ref{} // instrument → first holder (links are sorted)
	nLink := 0
	linkEnt := func(schema string) *ftmEntity {
		nLink++
		return get("cg-link-"+strconv.Itoa(nLink), schema)
	}
	for _, l := range d.links {
		from, to := l.From, l.To
		role := d.txt(l.Role)
		switch {
		case l.Type == graph.LinkHolds && isParty(from.Kind) && (to.Kind == graph.KindCard || to.Kind == graph.KindAccount):
			o := linkEnt("Ownership")
			o.add("owner", fid(from))
			o.add("asset", fid(to))
			o.add("ownershipType", to.Kind.String()+" holder")
			o.add("role", role)
			if _, ok := holder[to]; !ok {
				holder[to] = from
			}
		case l.Type == graph.LinkHolds && isParty(from.Kind) && to.Kind == graph.KindWallet:
			ents[fid(to)].add("holder", fid(from))
			if _, ok := holder[to]; !ok {
				holder[to] = from
			}
		case l.Type == graph.LinkMemberOf && isParty(from.Kind) && ftmSchema(to.Kind) == "Organization":
			m := linkEnt("Membership")
			m.add("member", fid(from))
			m.add("organization", fid(to))
			m.add("role", role)
		case l.Type == graph.LinkUsesPhone && from.Kind == graph.KindPerson && to.Kind == graph.KindPhone:
			ents[fid(from)].add("phone", d.node(to).red.Key)
		case l.Type == graph.LinkResidesAt && from.Kind == graph.KindPerson && to.Kind == graph.KindAddress:
			ents[fid(from)].add("addressEntity", fid(to))
		case emitted(from) && emitted(to) && (l.Type == graph.LinkCardOf || l.Type == graph.LinkOperates ||
			l.Type == graph.LinkSameAs || l.Type == graph.LinkHolds):
			u := linkEnt("UnknownLink")
			u.add("subject", fid(from))
			u.add("object", fid(to))
			r := l.Type.String()
			if role != "" {
				r += ": " + role
			}
			u.add("role", r)
		}
	}

	// A payment needs a payer and a beneficiary that are legal entities:
	// the holder of the instrument, or an "unknown holder" stand-in. Cash
	// and ATM sides belong to the party on the other side (a cash deposit
	// or withdrawal is the holder paying themself).
	party := func(r, other graph.Ref) string {
		if isParty(r.Kind) {
			return fid(r)
		}
		if h, ok := holder[r]; ok {
			return fid(h)
		}
		if !emitted(r) && emitted(other) && !isParty(other.Kind) {
			r = other
			if h, ok := holder[r]; ok {
				return fid(h)
			}
		}
		id := "cg-holder-" + d.id(r)
		e := get(id, "LegalEntity")
		e.add("name", "unknown holder of "+r.Kind.String()+" "+graph.RefTitle(d.node(r).red))
		return id
	}
	for i, t := range d.txns {
		p := get("cg-tx-"+strconv.Itoa(i+1), "Payment")
		p.add("payer", party(t.From, t.To))
		p.add("beneficiary", party(t.To, t.From))
		if t.From.Kind == graph.KindCard || t.From.Kind == graph.KindAccount {
			p.add("payerAccount", fid(t.From))
		}
		if t.To.Kind == graph.KindCard || t.To.Kind == graph.KindAccount {
			p.add("beneficiaryAccount", fid(t.To))
		}
		p.add("amount", decimal(t.Amount))
		p.add("currency", currency(t))
		p.add("date", ftmDate(t))
		p.add("purpose", d.txt(t.Reference))
		p.add("transactionNumber", d.txt(t.ID))
		desc := t.Channel.String() + " " + d.refStr(t.From) + " → " + d.refStr(t.To)
		if t.ATM != "" {
			desc += "; ATM " + d.txt(t.ATM)
		}
		p.add("description", desc)
	}

	ids := make([]string, 0, len(ents))
	for id := range ents {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, id := range ids {
		if err := enc.Encode(ents[id]); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// birthDate is a person's birth date as exported: with redaction only the
// year, because the date and the IIN's last 4 digits together give away
// most of the IIN (its first 6 digits are the birth date).
func (d *doc) birthDate(v string) string {
	if d.redact && len(v) > 4 {
		return v[:4]
	}
	return v
}
