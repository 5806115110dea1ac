package decoy

import (
	"fmt"
	"math"
)

// Decoy types: honest people whose everyday behaviour looks like a red flag
// taken alone.
const (
	decoyFamily  = "family"       // 3–6 relatives on one home tablet/PC and one home IP
	decoyOffice  = "office"       // 10–40 colleagues on an office PC and IP, paid from one payroll account
	decoyShop    = "cash_shop"    // shop owners: QR payments from many customers, daily cash deposits, frequent ATM use
	decoyOneOff  = "oneoff_buyer" // a single small purchase on an unlicensed exchange
	decoyNight   = "night_shift"  // taxi drivers, nurses, guards: activity and cash at night
	decoyMulti   = "multi_bank"   // many cards in many banks, money moved between own cards
	decoyStudent = "student"      // many small transfers to many peers, collections for the group
	decoyP2P     = "p2p_hobbyist" // crypto on licensed exchanges and P2P payments from strangers
	decoyVPN     = "vpn_user"     // banking through a commercial VPN whose exits strangers share
)

// DecoyTypes lists the decoy types in the order reports use.
var DecoyTypes = []string{decoyFamily, decoyOffice, decoyShop, decoyOneOff, decoyNight, decoyMulti, decoyStudent, decoyP2P, decoyVPN}

type unit struct {
	id, typ string
	members []int
	org     int // office employer, shop supplier list entry, -1 none
	device  string
	ip      string
	flavour string // night_shift: taxi|nurse|guard
}

// unitCounts sizes the decoy population for n persons (≈10 % of persons
// at the default 6,000), each count jittered by ±15 %.
func unitCounts(r rng, n int) map[string]int {
	base := map[string]float64{decoyFamily: 34, decoyOffice: 5, decoyShop: 38, decoyOneOff: 50,
		decoyNight: 42, decoyMulti: 38, decoyStudent: 4, decoyP2P: 25, decoyVPN: 36}
	out := map[string]int{}
	for _, t := range DecoyTypes {
		v := base[t] * float64(n) / 6000 * r.uniform(0.85, 1.15)
		out[t] = max(1, int(math.Round(v)))
	}
	return out
}

func (w *world) newUnit(typ string, k int) *unit {
	u := &unit{id: fmt.Sprintf("%s-%03d", typ, k), typ: typ, org: -1}
	w.units = append(w.units, u)
	return u
}

func (w *world) decoyPerson(r rng, u *unit, minAge, maxAge int, residentP float64) int {
	p := w.newPerson(r, minAge, maxAge, residentP)
	w.people[p].role = roleDecoy
	w.people[p].decoy = u.typ
	w.people[p].unit = u.id
	u.members = append(u.members, p)
	return p
}

func (w *world) employ(r rng, p int) {
	if r.chance(0.82) {
		w.people[p].employer = pick(r, w.employers)
		w.people[p].salary = r.lognormal(330000, 0.45)
	}
}

// buildDecoys creates the decoy units and their people and cards.
func (w *world) buildDecoys(r rng) {
	counts := unitCounts(r, w.n)
	for k := 0; k < counts[decoyFamily]; k++ {
		u := w.newUnit(decoyFamily, k+1)
		size := r.between(3, 6)
		u.device, u.ip = w.ids.device(r), w.ids.ip(r, homeNets)
		c := -1
		addr := ""
		sur := ""
		for i := 0; i < size; i++ {
			var p int
			switch {
			case i < 2:
				p = w.decoyPerson(r, u, 28, 55, 0.98)
			case i == size-1 && r.chance(0.4):
				p = w.decoyPerson(r, u, 60, 82, 0.98)
			default:
				p = w.decoyPerson(r, u, 14, 25, 0.98)
			}
			ps := &w.people[p]
			if c < 0 {
				c, addr, sur = ps.city, w.address(r, ps.city), surnameOf(ps.name)
			}
			ps.city, ps.address, ps.resident = c, addr, true
			if r.chance(0.7) { // relatives mostly share the surname
				ps.name = ps.name[len(surnameOf(ps.name)):]
				s := sur
				if !ps.male {
					s = feminine(trimFem(sur))
				} else {
					s = trimFem(sur)
				}
				ps.name = s + ps.name
			}
			ps.homeDev, ps.sharedIP, ps.homeIP = u.device, u.ip, u.ip
			ps.sharedUse = r.uniform(0.25, 0.6)
			if w.age(p) >= 22 && w.age(p) < 63 {
				w.employ(r, p)
			}
			if w.age(p) >= 60 && w.people[u.members[0]].phone != "" && r.chance(0.3) { // the grandparent gave a child's phone to the bank
				ps.phone = w.people[u.members[0]].phone
				ps.phoneText = phoneAsTyped(r, ps.phone)
			}
			w.ordinaryCards(r, p)
		}
		if r.chance(0.35) { // one relative keeps cards in three or four banks
			p := u.members[r.IntN(2)]
			for _, b := range r.distinctBanks(r.between(3, 4)) {
				if !w.hasBank(p, b) {
					w.addCard(r, p, b, -r.between(30, 1500), "")
				}
			}
		}
	}
	for k := 0; k < counts[decoyOffice]; k++ {
		u := w.newUnit(decoyOffice, k+1)
		o := w.newOrg(r, "employer", r.IntN(len(cities)))
		u.org = o
		u.device, u.ip = w.orgs[o].device, w.orgs[o].ip
		med := r.uniform(220000, 600000)
		size := r.between(10, 40)
		share := r.uniform(0.3, 0.7)
		for i := 0; i < size; i++ {
			p := w.decoyPerson(r, u, 22, 60, 0.96)
			ps := &w.people[p]
			ps.city = w.orgs[o].city
			ps.employer, ps.salary = o, r.lognormal(med, 0.35)
			ps.office, ps.sharedUse = o, share
			w.ordinaryCards(r, p)
		}
		// The director holds the company card on the payroll account.
		dir := u.members[0]
		w.addCard(r, dir, w.bankOf(w.orgs[o].iban), -r.between(100, 1500), w.orgs[o].iban)
	}
	for k := 0; k < counts[decoyShop]; k++ {
		u := w.newUnit(decoyShop, k+1)
		p := w.decoyPerson(r, u, 26, 62, 0.95)
		w.addCard(r, p, 0, -r.between(60, 2000), "") // the Kaspi card customers pay by QR
		if r.chance(0.6) {
			w.addCard(r, p, pick(r, []int{1, 2, 3, 4}), -r.between(60, 2000), "")
		}
		if r.chance(0.35) { // the spouse works the till too
			q := w.decoyPerson(r, u, 24, 62, 0.95)
			w.people[q].city, w.people[q].address = w.people[p].city, w.people[p].address
			w.ordinaryCards(r, q)
		}
		u.org = pick(r, w.suppliers)
	}
	unlic := w.unlicensedExchanges()
	for k := 0; k < counts[decoyOneOff]; k++ {
		u := w.newUnit(decoyOneOff, k+1)
		p := w.decoyPerson(r, u, 18, 60, 0.95)
		w.employ(r, p)
		w.ordinaryCards(r, p)
		u.org = pick(r, unlic) // the exchange, not an org
	}
	for k := 0; k < counts[decoyNight]; k++ {
		u := w.newUnit(decoyNight, k+1)
		u.flavour = pick(r, []string{"taxi", "taxi", "nurse", "guard", "baker"})
		p := w.decoyPerson(r, u, 21, 60, 0.9)
		w.people[p].night = true
		w.employ(r, p)
		w.ordinaryCards(r, p)
	}
	for k := 0; k < counts[decoyMulti]; k++ {
		u := w.newUnit(decoyMulti, k+1)
		p := w.decoyPerson(r, u, 22, 55, 0.97)
		w.employ(r, p)
		nb := r.between(4, 9)
		for _, b := range r.distinctBanks(nb) {
			for j := 0; j < r.between(1, 2); j++ {
				issued := -r.between(10, 1800)
				if r.chance(0.12) {
					issued = r.between(0, numDays-10) // a new card during the period
				}
				w.addCard(r, p, b, issued, "")
			}
		}
		w.people[p].intensity = 1.3
	}
	for k := 0; k < counts[decoyStudent]; k++ {
		u := w.newUnit(decoyStudent, k+1)
		uni := pick(r, w.universities)
		size := r.between(8, 24)
		c := r.IntN(2) // Almaty or Astana
		for i := 0; i < size; i++ {
			p := w.decoyPerson(r, u, 17, 23, 0.75)
			ps := &w.people[p]
			ps.city, ps.school, ps.intensity = c, uni, 0.8
			n := 1
			if r.chance(0.35) {
				n = 2
			}
			for _, b := range r.distinctBanks(n) {
				issued := -r.between(20, 900)
				if r.chance(0.3) {
					issued = -r.between(0, 45)
				}
				w.addCard(r, p, b, issued, "")
			}
		}
	}
	exits := []string{} // a VPN service's exit addresses
	for k := max(3, counts[decoyVPN]/6); k > 0; k-- {
		exits = append(exits, w.ids.ip(r, vpnNets))
	}
	for k := 0; k < counts[decoyVPN]; k++ {
		u := w.newUnit(decoyVPN, k+1)
		p := w.decoyPerson(r, u, 18, 50, 0.95)
		w.employ(r, p)
		w.ordinaryCards(r, p)
		ps := &w.people[p]
		ps.vpnUse = r.uniform(0.4, 0.9)
		for j := r.between(1, 3); j > 0; j-- {
			ps.vpnIPs = append(ps.vpnIPs, pick(r, exits))
		}
	}
	for k := 0; k < counts[decoyP2P]; k++ {
		u := w.newUnit(decoyP2P, k+1)
		p := w.decoyPerson(r, u, 20, 45, 0.95)
		w.employ(r, p)
		w.ordinaryCards(r, p)
	}
}

func trimFem(s string) string {
	for _, suf := range []string{"ова", "ева", "ина"} {
		if len(s) > len(suf) && s[len(s)-len(suf):] == suf {
			return s[:len(s)-len("а")]
		}
	}
	return s
}

func (w *world) hasBank(p, b int) bool {
	for _, c := range w.people[p].cards {
		if w.cards[c].bank == b {
			return true
		}
	}
	return false
}

func (w *world) bankOf(iban string) int {
	for i, b := range issuers {
		if iban[4:7] == b.code {
			return i
		}
	}
	return 0
}

// randomBackground draws a background person of a city (any city if c < 0)
// who holds a usable card on day d; -1 if none was found.
func (w *world) randomPayer(r rng, c, d int) (int, int) {
	for try := 0; try < 8; try++ {
		var p int
		if c >= 0 && len(w.byCity[c]) > 0 && r.chance(0.85) {
			p = pick(r, w.byCity[c])
		} else {
			p = r.IntN(len(w.people))
		}
		if w.people[p].role != roleBackground {
			continue
		}
		if cd := w.mainCard(p, d); cd >= 0 {
			return p, cd
		}
	}
	return -1, -1
}

// payFrom writes a person-to-card app transfer.
func (w *world) payFrom(r rng, p, from, to int, at int64, amount int64, ref string) {
	t := txn{at: at, from: cardRef(w, from), to: cardRef(w, to), channel: "transfer", amount: amount, ref: ref}
	t.device, t.ip = w.appIDs(r, p, at)
	w.add(t)
}

// decoyActivity writes what each decoy unit does beyond everyday life.
func (w *world) decoyActivity(r rng) {
	for _, u := range w.units {
		switch u.typ {
		case decoyFamily:
			w.familyLife(r, u)
		case decoyOffice:
			w.officeLife(r, u)
		case decoyShop:
			w.shopLife(r, u)
		case decoyOneOff:
			w.oneOff(r, u)
		case decoyNight:
			w.nightLife(r, u)
		case decoyMulti:
			w.multiLife(r, u)
		case decoyStudent:
			w.studentLife(r, u)
		case decoyP2P:
			w.p2pLife(r, u)
		}
	}
}

func (w *world) familyLife(r rng, u *unit) {
	parents := u.members[:2]
	for _, m := range u.members { // everyone orders something on the home tablet
		for k := r.between(1, 3); k > 0; k-- {
			d := r.between(0, numDays-1)
			c := w.mainCard(m, d)
			if c < 0 {
				continue
			}
			mer := w.orgs[pick(r, w.merchants)]
			w.add(txn{at: int64(d)*daySec + int64(r.between(19*3600, 23*3600)), from: cardRef(w, c), to: "iban:" + mer.iban, channel: "transfer",
				amount: tenge(r.lognormal(7000, 0.9), 10), device: u.device, ip: u.ip, ref: "Оплата онлайн " + mer.name})
		}
	}
	for d := 0; d < numDays; d++ {
		for _, m := range u.members[2:] {
			if (weekday(d) == 1 || weekday(d) == 5) && r.chance(0.5) {
				par := pick(r, parents)
				from, to := w.mainCard(par, d), w.mainCard(m, d)
				if from < 0 || to < 0 {
					continue
				}
				amt := float64(pick(r, []int{3000, 5000, 5000, 10000, 15000, 20000}))
				if w.age(m) >= 60 {
					amt = r.lognormal(40000, 0.4)
				}
				w.payFrom(r, par, from, to, clock(r, d, dayHours), tenge(amt, 1000), pick(r, []string{"", "на карманные", "на проезд", "мама", "папа", "на лекарства"}))
			}
		}
		if r.chance(0.06) {
			a, b := parents[0], parents[1]
			if r.chance(0.5) {
				a, b = b, a
			}
			from, to := w.mainCard(a, d), w.mainCard(b, d)
			if from >= 0 && to >= 0 {
				w.payFrom(r, a, from, to, clock(r, d, dayHours), tenge(r.lognormal(45000, 0.9), 1000), pick(r, []string{"", "на продукты", "за квартиру", "на ремонт"}))
			}
		}
	}
}

func (w *world) officeLife(r rng, u *unit) {
	o := w.orgs[u.org]
	dir := u.members[0]
	corp := w.people[dir].cards[len(w.people[dir].cards)-1]
	for d := 0; d < numDays; d++ {
		if wd := weekday(d); wd == 0 || wd == 6 {
			continue
		}
		for k := r.poisson(0.7); k > 0; k-- {
			m := w.orgs[pick(r, append(w.merchants[:10:10], w.suppliers...))]
			at := clock(r, d, workHours)
			w.add(txn{at: at, from: cardRef(w, corp), to: "iban:" + m.iban, channel: "transfer", amount: tenge(r.lognormal(45000, 1.0), 0),
				device: o.device, ip: o.ip, ref: "Оплата по счёту, " + m.name})
		}
	}
	// Collections for a colleague's birthday: the same sum from many
	// colleagues within a working day, then a gift.
	for e := r.between(1, 3); e > 0; e-- {
		d := r.between(3, numDays-3)
		for weekday(d) == 0 || weekday(d) == 6 {
			d++
		}
		hero := pick(r, u.members)
		to := w.mainCard(hero, d)
		if to < 0 {
			continue
		}
		amt := float64(pick(r, []int{2000, 3000, 3000, 5000, 5000, 10000}))
		total := int64(0)
		for _, m := range u.members {
			if m == hero || !r.chance(0.75) {
				continue
			}
			from := w.mainCard(m, d)
			if from < 0 {
				continue
			}
			a := amt
			if r.chance(0.15) {
				a *= 2
			}
			at := int64(d)*daySec + int64(r.between(9*3600, 17*3600))
			t := txn{at: at, from: cardRef(w, from), to: cardRef(w, to), channel: "transfer", amount: tenge(a, 1), ref: pick(r, []string{"", "на ДР", "на подарок", "др"})}
			if r.chance(0.6) {
				t.device, t.ip = o.device, o.ip
			} else {
				t.device, t.ip = w.appIDs(r, m, at)
			}
			w.add(t)
			total += tenge(a, 1)
		}
		collector := u.members[0]
		if collector == hero {
			collector = u.members[1]
		}
		if c := w.mainCard(collector, d+1); c >= 0 && total > 0 {
			m := w.orgs[pick(r, w.merchants)]
			w.add(txn{at: clock(r, d+1, dayHours), from: cardRef(w, c), to: "iban:" + m.iban, channel: "transfer", amount: tenge(r.lognormal(60000, 0.5), 10), ref: "Покупка " + m.name})
		}
	}
}

func (w *world) shopLife(r rng, u *unit) {
	owner := u.members[0]
	ps := &w.people[owner]
	qr := ps.cards[0]
	customers := r.uniform(10, 45)
	deposit := r.uniform(120000, 330000)
	openDays := 6 + r.IntN(2)
	late := r.chance(0.3)                                       // open till midnight
	near := []int{w.nearATM(r, ps.city), w.nearATM(r, ps.city)} // the terminals next to the shop
	for d := 0; d < numDays; d++ {
		if openDays == 6 && weekday(d) == 0 {
			continue
		}
		for k := r.poisson(customers); k > 0; k-- {
			p, c := w.randomPayer(r, ps.city, d)
			if p < 0 {
				continue
			}
			at := int64(d)*daySec + int64(r.between(8*3600, 22*3600))
			w.payFrom(r, p, c, qr, at, tenge(r.lognormal(3200, 0.9), pick(r, []int64{0, 1, 10})), pick(r, []string{"Kaspi QR", "Оплата по QR", "", "Перевод"}))
		}
		if r.chance(0.8) { // the day's cash goes into the account
			n := 1
			if r.chance(0.2) {
				n = 2
			}
			for i := 0; i < n; i++ {
				amt := tenge(r.lognormal(deposit/float64(n), 0.45), pick(r, []int64{500, 1000, 1000}))
				h := r.between(19, 22)
				if late && r.chance(0.5) {
					h = pick(r, []int{23, 0, 0, 1})
				}
				at := int64(d)*daySec + int64(h)*3600 + int64(r.IntN(3600))
				if h < 12 {
					at += daySec
				}
				a := w.atms[pick(r, near)]
				if r.chance(0.15) {
					a = w.atms[w.nearATM(r, ps.city)]
				}
				t := txn{at: at, from: "atm:" + a.id, to: cardRef(w, pick(r, ps.cards)), channel: "topup", atm: a.id, amount: amt, app: pick(r, []string{"", "no"})}
				if amt >= 500000*100 {
					t.iin, t.app = ps.iin, "yes"
				}
				w.add(t)
			}
		}
		for k := r.poisson(0.6); k > 0; k-- { // change and cash purchases at the wholesale market
			a := w.atms[w.nearATM(r, ps.city)]
			hours := dayHours
			if late {
				hours = nightHours
			}
			w.add(txn{at: clock(r, d, hours), from: cardRef(w, pick(r, ps.cards)), to: "atm:" + a.id, channel: "cash_out", atm: a.id,
				amount: tenge(r.lognormal(90000, 0.8), 5000)})
		}
		if r.chance(0.4) {
			s := w.orgs[pick(r, w.suppliers)]
			if r.chance(0.5) {
				s = w.orgs[u.org]
			}
			at := clock(r, d, workHours)
			t := txn{at: at, from: cardRef(w, qr), to: "iban:" + s.iban, channel: "transfer", amount: tenge(r.lognormal(550000, 0.7), 0), ref: "Оплата за товар по накладной №" + numStr(r, 4)}
			t.device, t.ip = w.appIDs(r, owner, at)
			w.add(t)
		}
	}
}

func (w *world) oneOff(r rng, u *unit) {
	p := u.members[0]
	d := r.between(0, numDays-1)
	c := w.mainCard(p, d)
	if c < 0 {
		return
	}
	at := clock(r, d, dayHours)
	e := w.exch[u.org]
	t := txn{at: at, from: cardRef(w, c), to: "exchange:" + e.id, channel: "trade", amount: tenge(r.lognormal(30000, 0.7), pick(r, []int64{1, 100, 1000})),
		ref: pick(r, []string{"USDT", "покупка USDT", "", "order " + numStr(r, 10), "P2P"})}
	t.device, t.ip = w.appIDs(r, p, at)
	w.add(t)
}

func (w *world) nightLife(r rng, u *unit) {
	p := u.members[0]
	ps := &w.people[p]
	for d := 0; d < numDays; d++ {
		if !r.chance(0.62) { // a shift
			continue
		}
		c := w.mainCard(p, d)
		if c < 0 {
			continue
		}
		if u.flavour == "taxi" {
			for k := r.between(3, 16); k > 0; k-- {
				q, qc := w.randomPayer(r, ps.city, d)
				if q < 0 {
					continue
				}
				at := int64(d)*daySec + 20*3600 + int64(r.IntN(9*3600))
				w.payFrom(r, q, qc, c, at, tenge(r.lognormal(1900, 0.5), pick(r, []int64{10, 50, 100})), pick(r, []string{"", "", "такси", "за поездку"}))
			}
			m := w.orgs[pick(r, w.merchants)]
			w.add(txn{at: int64(d)*daySec + int64(r.between(0, 5*3600)) + daySec, from: cardRef(w, c), to: "iban:" + m.iban, channel: "transfer",
				amount: tenge(r.uniform(5000, 16000), 1), ref: "АЗС " + m.name})
		}
		if r.chance(0.3) {
			a := w.atms[w.nearATM(r, ps.city)]
			w.add(txn{at: int64(d)*daySec + int64(r.between(0, 6*3600)), from: cardRef(w, c), to: "atm:" + a.id, channel: "cash_out", atm: a.id,
				amount: tenge(r.lognormal(25000, 0.6), 1000)})
		}
	}
}

func (w *world) multiLife(r rng, u *unit) {
	p := u.members[0]
	for d := 0; d < numDays; d++ {
		if !r.chance(0.45) {
			continue
		}
		cs := w.usable(p, d)
		if len(cs) < 2 {
			continue
		}
		i, j := r.IntN(len(cs)), r.IntN(len(cs)-1)
		if j >= i {
			j++
		}
		w.payFrom(r, p, cs[i], cs[j], clock(r, d, dayHours), tenge(r.lognormal(60000, 1.0), pick(r, []int64{1000, 5000, 1})),
			pick(r, []string{"", "Перевод между своими счетами", "на депозит", "кэшбэк"}))
	}
}

func (w *world) studentLife(r rng, u *unit) {
	for d := 0; d < numDays; d++ {
		for _, s := range u.members {
			if !r.chance(0.35) {
				continue
			}
			from := w.mainCard(s, d)
			peer := pick(r, u.members)
			to := w.mainCard(peer, d)
			if peer == s || from < 0 || to < 0 {
				continue
			}
			w.payFrom(r, s, from, to, clock(r, d, eveningHours), tenge(r.lognormal(1800, 0.7), pick(r, []int64{1, 10, 100, 500})), pick(r, p2pRefs))
		}
	}
	// Collections for a trip or an event, and the refund of what was over.
	for e := r.between(1, 3); e > 0; e-- {
		d := r.between(2, numDays-4)
		head := pick(r, u.members)
		hc := w.mainCard(head, d)
		if hc < 0 {
			continue
		}
		amt := float64(pick(r, []int{3000, 5000, 7000, 10000, 15000}))
		var paid []int
		total := int64(0)
		for _, s := range u.members {
			if s == head || !r.chance(0.85) {
				continue
			}
			c := w.mainCard(s, d)
			if c < 0 {
				continue
			}
			at := int64(d)*daySec + int64(r.between(10*3600, 23*3600))
			w.payFrom(r, s, c, hc, at, tenge(amt, 1), pick(r, []string{"", "на поездку", "за экскурсию", "сбор", "за билеты"}))
			paid = append(paid, s)
			total += tenge(amt, 1)
		}
		sup := w.orgs[pick(r, w.suppliers)]
		w.add(txn{at: clock(r, d+1, workHours), from: cardRef(w, hc), to: "iban:" + sup.iban, channel: "transfer", amount: total * 9 / 10, ref: "Оплата тура"})
		if r.chance(0.6) { // the remainder back to everyone, same sum each
			back := tenge(float64(total)/100/10/float64(max(1, len(paid))), 10)
			for _, s := range paid {
				if c := w.mainCard(s, d+2); c >= 0 {
					w.payFrom(r, head, hc, c, int64(d+2)*daySec+int64(r.between(18*3600, 23*3600)), back, "возврат")
				}
			}
		}
	}
}

func (w *world) p2pLife(r rng, u *unit) {
	p := u.members[0]
	lic := w.licensedExchanges()
	home := pick(r, lic)
	p2p := r.chance(0.5)
	for d := 0; d < numDays; d++ {
		if !r.chance(0.3) {
			continue
		}
		c := w.mainCard(p, d)
		if c < 0 {
			continue
		}
		e := w.exch[home]
		if r.chance(0.15) {
			e = w.exch[pick(r, lic)]
		}
		at := clock(r, d, dayHours)
		amt := tenge(r.lognormal(90000, 0.9), pick(r, []int64{1, 100, 1000}))
		if r.chance(0.55) {
			t := txn{at: at, from: cardRef(w, c), to: "exchange:" + e.id, channel: "trade", amount: amt, ref: pick(r, []string{"Buy USDT", "BTC", "Покупка USDT", "deposit"})}
			t.device, t.ip = w.appIDs(r, p, at)
			w.add(t)
		} else {
			w.add(txn{at: at, from: "exchange:" + e.id, to: cardRef(w, c), channel: "trade", amount: amt, ref: pick(r, []string{"Sell USDT", "withdrawal", "Вывод средств"})})
		}
		if p2p && r.chance(0.5) {
			for k := r.between(1, 4); k > 0; k-- {
				q, qc := w.randomPayer(r, -1, d)
				if q < 0 {
					continue
				}
				w.payFrom(r, q, qc, c, at-int64(r.between(600, 7200)), tenge(r.lognormal(60000, 0.8), pick(r, []int64{1, 100, 1000})),
					pick(r, []string{"P2P", "USDT", "order " + numStr(r, 11), "", "p2p " + e.name}))
			}
		}
	}
}
