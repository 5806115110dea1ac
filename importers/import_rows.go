package importers

import (
	"fmt"
	"strings"

	"casegraph/graph"
)

// handler returns the row handler of format f. A handler validates the whole
// row before it emits anything, so a rejected row leaves no records behind.
func (im *importer) handler(f Format) func([]string, graph.Provenance) (rowError, error) {
	switch f {
	case FormatPersons:
		return im.personRow()
	case FormatCards:
		return im.cardRow()
	case FormatExchanges:
		return im.exchangeRow()
	case FormatGroups:
		return im.groupRow()
	case FormatMemberships:
		return im.membershipRow()
	}
	return im.txnRow()
}

func (im *importer) personRow() func([]string, graph.Provenance) (rowError, error) {
	cIIN, cName, cBirth, cPhone, cAddr := im.idx("iin"), im.idx("name"), im.idx("birth_date"), im.idx("phone"), im.idx("address")
	return func(rec []string, src graph.Provenance) (rowError, error) {
		rawIIN, name := field(rec, cIIN), NormalizeName(field(rec, cName))
		if re := required("iin", rawIIN); re.failed() {
			return re, nil
		}
		if re := required("name", name); re.failed() {
			return re, nil
		}
		iin, err := NormalizeIIN(rawIIN)
		if err != nil {
			return bad("iin", rawIIN, err), nil
		}
		birth := field(rec, cBirth)
		if birth != "" {
			if _, err := ParseDate(birth); err != nil {
				return bad("birth_date", birth, err), nil
			}
		}
		phone := field(rec, cPhone)
		if phone != "" {
			if phone, err = NormalizePhone(phone); err != nil {
				return bad("phone", field(rec, cPhone), err), nil
			}
		}
		addr := NormalizeName(field(rec, cAddr))
		p := im.props(rec)
		p = setProp(p, "birth_date", birth)
		p = setProp(p, "phone", phone)
		p = setProp(p, "address", addr)
		person := graph.Ref{Kind: graph.KindPerson, Key: iin}
		if err := im.put(graph.Entity{Ref: person, Name: name, Props: p, Src: src}); err != nil {
			return rowError{}, err
		}
		if phone != "" {
			ph := graph.Ref{Kind: graph.KindPhone, Key: phone}
			if err := im.once(graph.Entity{Ref: ph, Src: src}); err != nil {
				return rowError{}, err
			}
			if err := im.link(graph.Link{From: person, To: ph, Type: graph.LinkUsesPhone, Src: src}, false); err != nil {
				return rowError{}, err
			}
		}
		if addr != "" {
			ad := graph.Ref{Kind: graph.KindAddress, Key: addr}
			if err := im.once(graph.Entity{Ref: ad, Name: addr, Src: src}); err != nil {
				return rowError{}, err
			}
			if err := im.link(graph.Link{From: person, To: ad, Type: graph.LinkResidesAt, Src: src}, false); err != nil {
				return rowError{}, err
			}
		}
		return rowError{}, nil
	}
}

func (im *importer) cardRow() func([]string, graph.Provenance) (rowError, error) {
	cPAN, cHolder, cBank, cIBAN, cIssued, cStatus := im.idx("pan"), im.idx("holder_iin"), im.idx("bank"), im.idx("iban"), im.idx("issued"), im.idx("status")
	return func(rec []string, src graph.Provenance) (rowError, error) {
		rawPAN, rawHolder := field(rec, cPAN), field(rec, cHolder)
		if re := required("pan", rawPAN); re.failed() {
			return re, nil
		}
		if re := required("holder_iin", rawHolder); re.failed() {
			return re, nil
		}
		pan, err := normalizeKey(graph.KindCard, rawPAN)
		if err != nil {
			return bad("pan", rawPAN, err), nil
		}
		holder, err := NormalizeIIN(rawHolder)
		if err != nil {
			return bad("holder_iin", rawHolder, err), nil
		}
		rawIBAN := field(rec, cIBAN)
		iban := ""
		if rawIBAN != "" {
			if iban, err = NormalizeIBAN(rawIBAN); err != nil {
				return bad("iban", rawIBAN, err), nil
			}
		}
		issued := field(rec, cIssued)
		if issued != "" {
			if _, err := ParseDate(issued); err != nil {
				return bad("issued", issued, err), nil
			}
		}
		p := im.props(rec)
		p = setProp(p, "bank", NormalizeName(field(rec, cBank)))
		p = setProp(p, "iban", iban)
		p = setProp(p, "issued", issued)
		p = setProp(p, "status", field(rec, cStatus))
		p = setProp(p, "holder_iin", holder)
		card := graph.Ref{Kind: graph.KindCard, Key: pan}
		person := graph.Ref{Kind: graph.KindPerson, Key: holder}
		if err := im.stub(person, src); err != nil {
			return rowError{}, err
		}
		if err := im.put(graph.Entity{Ref: card, Props: p, Src: src}); err != nil {
			return rowError{}, err
		}
		if err := im.link(graph.Link{From: person, To: card, Type: graph.LinkHolds, Src: src}, false); err != nil {
			return rowError{}, err
		}
		if iban != "" {
			acct := graph.Ref{Kind: graph.KindAccount, Key: iban}
			if err := im.stub(acct, src); err != nil {
				return rowError{}, err
			}
			if err := im.link(graph.Link{From: card, To: acct, Type: graph.LinkCardOf, Src: src}, false); err != nil {
				return rowError{}, err
			}
			if err := im.link(graph.Link{From: person, To: acct, Type: graph.LinkHolds, Src: src}, true); err != nil {
				return rowError{}, err
			}
		}
		return rowError{}, nil
	}
}

func (im *importer) exchangeRow() func([]string, graph.Provenance) (rowError, error) {
	cID, cName, cDomain, cLic, cStatus := im.idx("exchange_id"), im.idx("name"), im.idx("domain"), im.idx("afsa_licence"), im.idx("status")
	return func(rec []string, src graph.Provenance) (rowError, error) {
		id, name := field(rec, cID), NormalizeName(field(rec, cName))
		if re := required("exchange_id", id); re.failed() {
			return re, nil
		}
		if re := required("name", name); re.failed() {
			return re, nil
		}
		p := im.props(rec)
		p = setProp(p, "domain", strings.ToLower(field(rec, cDomain)))
		p = setProp(p, "status", field(rec, cStatus))
		if p == nil {
			p = make(map[string]string, 1)
		}
		// Kept even when empty: an empty licence says "no AFSA licence".
		p["afsa_licence"] = field(rec, cLic)
		ex := graph.Ref{Kind: graph.KindExchange, Key: id}
		if err := im.put(graph.Entity{Ref: ex, Name: name, Props: p, Src: src}); err != nil {
			return rowError{}, err
		}
		return rowError{}, nil
	}
}

func (im *importer) groupRow() func([]string, graph.Provenance) (rowError, error) {
	cID, cName, cCase := im.idx("group_id"), im.idx("name"), im.idx("case_ref")
	return func(rec []string, src graph.Provenance) (rowError, error) {
		id, name := field(rec, cID), NormalizeName(field(rec, cName))
		if re := required("group_id", id); re.failed() {
			return re, nil
		}
		if re := required("name", name); re.failed() {
			return re, nil
		}
		p := setProp(im.props(rec), "case_ref", field(rec, cCase))
		g := graph.Ref{Kind: graph.KindGroup, Key: id}
		if err := im.put(graph.Entity{Ref: g, Name: name, Props: p, Src: src}); err != nil {
			return rowError{}, err
		}
		return rowError{}, nil
	}
}

// memberRef resolves the member column: a bare 12-digit value is an IIN,
// a typed reference (iin:…, exchange:…) is taken as such, anything else is
// an exchange id.
func memberRef(s string) (graph.Ref, error) {
	if strings.IndexByte(s, ':') >= 0 {
		r, err := ParseRef(s)
		if err != nil {
			return graph.Ref{}, err
		}
		if r.Kind != graph.KindPerson && r.Kind != graph.KindExchange {
			return graph.Ref{}, fmt.Errorf("member %q: want an IIN or an exchange id, got a %s", s, r.Kind)
		}
		return r, nil
	}
	if d := stripSeparators(s, " \t"); len(d) == 12 && allDigits(d) {
		iin, err := NormalizeIIN(d)
		if err != nil {
			return graph.Ref{}, err
		}
		return graph.Ref{Kind: graph.KindPerson, Key: iin}, nil
	}
	return graph.Ref{Kind: graph.KindExchange, Key: s}, nil
}

func (im *importer) membershipRow() func([]string, graph.Provenance) (rowError, error) {
	cGroup, cMember, cRole := im.idx("group_id"), im.idx("member"), im.idx("role")
	return func(rec []string, src graph.Provenance) (rowError, error) {
		gid, rawMember := field(rec, cGroup), field(rec, cMember)
		if re := required("group_id", gid); re.failed() {
			return re, nil
		}
		if re := required("member", rawMember); re.failed() {
			return re, nil
		}
		member, err := memberRef(rawMember)
		if err != nil {
			return bad("member", rawMember, err), nil
		}
		g := graph.Ref{Kind: graph.KindGroup, Key: gid}
		if err := im.stub(g, src); err != nil {
			return rowError{}, err
		}
		if err := im.stub(member, src); err != nil {
			return rowError{}, err
		}
		l := graph.Link{From: member, To: g, Type: graph.LinkMemberOf, Role: field(rec, cRole), Src: src}
		if member.Kind == graph.KindExchange {
			l.From, l.To, l.Type = g, member, graph.LinkOperates
		}
		if err := im.link(l, false); err != nil {
			return rowError{}, err
		}
		return rowError{}, nil
	}
}

// validCurrency reports whether s is three ASCII upper-case letters.
func validCurrency(s string) bool {
	return len(s) == 3 && isUpper(s[0]) && isUpper(s[1]) && isUpper(s[2])
}

func (im *importer) txnRow() func([]string, graph.Provenance) (rowError, error) {
	cID, cTime, cFrom, cTo, cAmount := im.idx("tx_id"), im.idx("time"), im.idx("from"), im.idx("to"), im.idx("amount")
	cCur, cChan, cATM, cDev, cIP := im.idx("currency"), im.idx("channel"), im.idx("atm_id"), im.idx("device_id"), im.idx("ip")
	cIINP, cApp, cRefText := im.idx("iin_provided"), im.idx("app_confirmed"), im.idx("reference")
	return func(rec []string, src graph.Provenance) (rowError, error) {
		id, rawTime, rawFrom, rawTo, rawAmount := field(rec, cID), field(rec, cTime), field(rec, cFrom), field(rec, cTo), field(rec, cAmount)
		for _, c := range [...]struct{ name, v string }{{"tx_id", id}, {"time", rawTime}, {"from", rawFrom}, {"to", rawTo}, {"amount", rawAmount}} {
			if re := required(c.name, c.v); re.failed() {
				return re, nil
			}
		}
		at, err := ParseTime(rawTime, im.loc)
		if err != nil {
			return bad("time", rawTime, err), nil
		}
		im.rep.Times.AddTimestamp(at, im.loc)
		off, explicit := timeOffset(strings.TrimSpace(rawTime))
		im.rep.Times.AddOffset(off, explicit)
		if im.firstTxn.IsZero() {
			im.firstTxn = at
		}
		from, err := ParseRef(rawFrom)
		if err != nil {
			return bad("from", rawFrom, err), nil
		}
		to, err := ParseRef(rawTo)
		if err != nil {
			return bad("to", rawTo, err), nil
		}
		amount, err := ParseAmount(rawAmount)
		if err != nil {
			return bad("amount", rawAmount, err), nil
		}
		if amount <= 0 {
			return rowError{column: "amount", value: rawAmount, reason: "amount must be greater than zero"}, nil
		}
		t := graph.Txn{ID: id, Time: at, From: from, To: to, Amount: amount, Currency: "KZT",
			Channel: graph.ChannelTransfer, Src: src}
		if cur := field(rec, cCur); cur != "" {
			if !validCurrency(cur) {
				up := strings.ToUpper(cur)
				if !validCurrency(up) {
					return rowError{column: "currency", value: cur, reason: "want an ISO 4217 code such as KZT"}, nil
				}
				cur = up
			}
			t.Currency = cur
		}
		if ch := field(rec, cChan); ch != "" {
			if t.Channel, err = graph.ParseChannel(ch); err != nil {
				return bad("channel", ch, err), nil
			}
		}
		t.ATM = field(rec, cATM)
		if t.ATM == "" {
			// A cash deposit or withdrawal at a terminal names it as an endpoint.
			if from.Kind == graph.KindATM {
				t.ATM = from.Key
			} else if to.Kind == graph.KindATM {
				t.ATM = to.Key
			}
		}
		t.Device = field(rec, cDev)
		if ip := field(rec, cIP); ip != "" {
			if t.IP, err = normalizeKey(graph.KindIP, ip); err != nil {
				return bad("ip", ip, err), nil
			}
		}
		t.Props = im.props(rec)
		if v := field(rec, cIINP); v != "" {
			var ok bool
			if t.IINProvided, ok = parseTri(v); !ok {
				iin, err := NormalizeIIN(v)
				if err != nil {
					return rowError{column: "iin_provided", value: v, reason: "want the sender's IIN or yes/no: " + err.Error()}, nil
				}
				t.IINProvided = graph.TriYes
				t.Props = setProp(t.Props, "iin_provided", iin)
			}
		}
		if v := field(rec, cApp); v != "" {
			var ok bool
			if t.AppConfirmed, ok = parseTri(v); !ok {
				return rowError{column: "app_confirmed", value: v, reason: "want yes/no, true/false, 1/0 or да/нет"}, nil
			}
		}
		t.Reference = field(rec, cRefText)

		if err := im.stub(from, src); err != nil {
			return rowError{}, err
		}
		if err := im.stub(to, src); err != nil {
			return rowError{}, err
		}
		if err := im.sink.PutTxn(t); err != nil {
			return rowError{}, fmt.Errorf("put transaction %s: %w", id, err)
		}
		if from.Kind == graph.KindCash {
			return rowError{}, nil
		}
		if t.Device != "" {
			if err := im.identLink(from, graph.Ref{Kind: graph.KindDevice, Key: t.Device}, graph.LinkUsesDevice, src); err != nil {
				return rowError{}, err
			}
		}
		if t.IP != "" {
			if err := im.identLink(from, graph.Ref{Kind: graph.KindIP, Key: t.IP}, graph.LinkUsesIP, src); err != nil {
				return rowError{}, err
			}
		}
		return rowError{}, nil
	}
}
