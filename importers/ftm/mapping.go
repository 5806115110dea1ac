package ftm

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/importers"
)

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
	if err != nil || f != f {
		return 0, fmt.Errorf("amount %q: want a decimal number", v)
	}
	// The bound of every importer (importers.MaxAmountMinor): a larger
	// amount is rejected, never stored near the int64 limit.
	if math.Abs(f*100) > importers.MaxAmountMinor {
		return 0, fmt.Errorf("amount %q is out of range: at most %d minor units (10^13 in major units) either way", v, int64(importers.MaxAmountMinor))
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
