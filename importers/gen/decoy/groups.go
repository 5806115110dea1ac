package decoy

import (
	"fmt"
	"math"
	"slices"
)

// Typologies a dropper group may run (DOMAIN §2). Each group runs its own
// mix; collection of the mule cards' money on the organiser's and couriers'
// cards is common to all.
const (
	tyVictims    = "victim_fan_in"       // scam victims and illegal-casino players pay the mule cards
	tyTopups     = "structured_topups"   // cash deposits just under 500,000 KZT, no IIN
	tyP2PIn      = "p2p_fiat_leg"        // buyers of the group's crypto pay the mule cards
	tyATM        = "atm_cash_out"        // mule cards emptied at ATMs
	tyNight      = "night_atm_runs"      // … at night, several cards at one ATM
	tyChain      = "layering_chain"      // mule → mule → mule before leaving
	tyUnlicensed = "unlicensed_exchange" // trades on exchanges without an AFSA licence
	tyDevices    = "shared_devices"      // the droppers' banking apps run on the couriers' phones
	tyMultiBank  = "multi_bank_cards"    // droppers hold cards in several banks
	tyCollect    = "collection"          // mule cards → couriers' and organiser's own cards
)

type group struct {
	id, name, caseRef string
	typ               []string
	organiser         int
	couriers          []int
	droppers          []int
	mules             []int // cards of the droppers
	sleepy            map[int]bool
	collectors        []int // couriers' cards (the organiser's when none)
	orgCards          []int
	devices, ips      []string
	phones            []string
	exchanges         []int
	atms              []int
	wallet            string
	city              int
	start, end        int
	// behaviour
	victims      []int
	victimMedian float64
	activity     float64
	dwell        float64 // median seconds between credit and debit
	nightP       float64
	bandLow      float64
	routes       []float64 // collect, atm, chain, exchange
	known        bool
}

func (g *group) has(t string) bool { return slices.Contains(g.typ, t) }

var groupNames = []string{"Степные", "Кассиры", "Тенге-Экспресс", "Ночные", "Обменники", "Арна", "Студенты", "Карточники", "Бегунки", "Жетісу", "Сарыарқа", "Алтай"}

func (w *world) buildGroups(r rng) {
	n := max(2, int(math.Round(float64(w.n)/750*r.uniform(0.9, 1.12))))
	for i := 0; i < n; i++ {
		g := &group{id: fmt.Sprintf("OPG-%02d", i+1), sleepy: map[int]bool{}}
		g.name = "ОПГ «" + groupNames[i%len(groupNames)] + "»"
		g.caseRef = fmt.Sprintf("AFM-2025-%04d", r.between(100, 9999))
		g.city = r.weighted([]float64{32, 22, 14, 9, 7, 6, 5, 5})
		// Typology mix.
		if r.chance(0.7) {
			g.typ = append(g.typ, tyVictims)
		}
		if r.chance(0.5) {
			g.typ = append(g.typ, tyTopups)
		}
		if r.chance(0.35) {
			g.typ = append(g.typ, tyP2PIn)
		}
		if !g.has(tyVictims) && !g.has(tyTopups) && !g.has(tyP2PIn) {
			g.typ = append(g.typ, pick(r, []string{tyVictims, tyTopups, tyP2PIn}))
		}
		if r.chance(0.7) {
			g.typ = append(g.typ, tyATM)
			if r.chance(0.55) {
				g.typ = append(g.typ, tyNight)
			}
		}
		if r.chance(0.45) {
			g.typ = append(g.typ, tyChain)
		}
		if r.chance(0.5) || g.has(tyP2PIn) {
			g.typ = append(g.typ, tyUnlicensed)
		}
		if r.chance(0.5) {
			g.typ = append(g.typ, tyDevices)
		}
		if r.chance(0.5) {
			g.typ = append(g.typ, tyMultiBank)
		}
		g.typ = append(g.typ, tyCollect)
		slices.Sort(g.typ)

		g.start = r.between(0, 20)
		g.end = r.between(max(g.start+15, numDays-25), numDays-1)
		g.victimMedian = r.lognormal(60000, 0.6)
		g.activity = r.uniform(0.2, 0.5)
		g.dwell = r.lognormal(2*3600, 0.8)
		g.nightP = 0.1
		if g.has(tyNight) {
			g.nightP = r.uniform(0.55, 0.9)
		}
		g.bandLow = r.uniform(430000, 485000)
		g.routes = []float64{r.uniform(0.3, 1), 0, 0, 0}
		if g.has(tyATM) {
			g.routes[1] = r.uniform(0.5, 1.2)
		}
		if g.has(tyChain) {
			g.routes[2] = r.uniform(0.2, 0.5)
		}
		if g.has(tyUnlicensed) {
			g.routes[3] = r.uniform(0.2, 0.8)
		}

		// People.
		fresh := r.chance(0.6)
		residentP := r.uniform(0.1, 0.9)
		g.organiser = w.newPerson(r, 26, 48, 0.95)
		w.people[g.organiser].role = roleOrganiser
		w.people[g.organiser].city = g.city
		w.employ(r, g.organiser)
		w.ordinaryCards(r, g.organiser)
		if r.chance(0.5) {
			w.addCard(r, g.organiser, r.bank(), -r.between(30, 600), "")
		}
		for k := r.between(0, 3); k > 0; k-- {
			c := w.newPerson(r, 19, 36, 0.8)
			w.people[c].role = roleCourier
			w.people[c].city = g.city
			g.couriers = append(g.couriers, c)
			for _, b := range r.distinctBanks(r.between(1, 3)) {
				w.addCard(r, c, b, -r.between(10, 900), "")
			}
			w.people[c].intensity = 0.7
		}
		nd := r.between(10, 50)
		if w.n < 3000 {
			nd = r.between(6, max(8, 50*w.n/6000))
		}
		for k := 0; k < len(g.couriers)+1 && g.has(tyDevices); k++ {
			g.devices = append(g.devices, w.ids.device(r))
			g.ips = append(g.ips, w.ids.ip(r, vpnNets))
		}
		if g.has(tyDevices) {
			for k := r.between(1, 3); k > 0; k-- {
				g.phones = append(g.phones, w.ids.phone(r, false))
			}
		}
		sleepyP := r.uniform(0.1, 0.35)
		for k := 0; k < nd; k++ {
			minAge, maxAge := 18, 29
			if r.chance(0.2) {
				minAge, maxAge = 30, 58
			}
			d := w.newPerson(r, minAge, maxAge, residentP)
			ps := &w.people[d]
			ps.role = roleDropper
			ps.intensity = r.uniform(0.2, 0.6)
			if r.chance(0.7) {
				ps.city = g.city
			}
			if g.has(tyDevices) && r.chance(r.uniform(0.3, 0.7)) {
				ps.phone = pick(r, g.phones)
				ps.phoneText = phoneAsTyped(r, ps.phone)
			}
			g.droppers = append(g.droppers, d)
			nc := 1
			if r.chance(0.3) {
				nc = 2
			}
			if g.has(tyMultiBank) && r.chance(0.7) {
				nc = r.between(3, 5)
			}
			for _, b := range r.distinctBanks(nc) {
				issued := -r.between(60, 1500) // an old account sold to the group
				if fresh && r.chance(0.8) {
					issued = r.between(-30, 20)
				}
				if issued < 0 && g.start+issued < -60 && r.chance(0.3) {
					issued = -r.between(100, 400) // dormant, then busy
				}
				c := w.addCard(r, d, b, issued, "")
				g.mules = append(g.mules, c)
				if r.chance(sleepyP) {
					g.sleepy[c] = true
				}
			}
		}
		for _, c := range g.couriers {
			g.collectors = append(g.collectors, w.people[c].cards...)
		}
		g.orgCards = slices.Clone(w.people[g.organiser].cards)
		if len(g.collectors) == 0 {
			g.collectors = g.orgCards
		}
		for k := r.between(2, 6); k > 0; k-- {
			g.atms = append(g.atms, pick(r, w.cityATMs[g.city]))
		}
		if g.has(tyUnlicensed) {
			un := w.unlicensedExchanges()
			for k := r.between(1, 2); k > 0; k-- {
				g.exchanges = append(g.exchanges, pick(r, un))
			}
		}
		if r.chance(0.6) || !g.has(tyUnlicensed) {
			g.exchanges = append(g.exchanges, pick(r, w.licensedExchanges()))
		}
		g.exchanges = uniq(g.exchanges)
		g.wallet = w.ids.wallet(r)
		w.groups = append(w.groups, g)
	}
	// Two or three groups are known to investigators already: a case with
	// part of its people (groups.csv and memberships.csv).
	for _, i := range r.Perm(len(w.groups))[:min(len(w.groups), r.between(2, 3))] {
		w.groups[i].known = true
	}
}

func uniq(xs []int) []int {
	out := []int{}
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

var victimRefs = []string{"", "", "Перевод", "долг", "за товар", "предоплата", "депозит", "пополнение", "займ", "за аренду", "бронь", "инвестиция"}

// muleIDs is the device and IP of an operation on a mule card: the
// couriers' phones in groups that hold the droppers' apps, else the
// dropper's own phone.
func (w *world) muleIDs(r rng, g *group, c int, at int64) (string, string) {
	if len(g.devices) > 0 && r.chance(0.85) {
		i := r.IntN(len(g.devices))
		if r.chance(0.6) {
			return g.devices[i], g.ips[i]
		}
		return g.devices[i], w.people[w.cards[c].holder].mobileIP
	}
	return w.appIDs(r, w.cards[c].holder, at)
}

func (w *world) groupActivity(r rng, g *group) {
	// Victims and players are ordinary people of all cities.
	for k := r.between(30, 250); k > 0; k-- {
		if p, _ := w.randomPayer(r, -1, g.start); p >= 0 {
			g.victims = append(g.victims, p)
		}
	}
	bal := map[int]int64{} // money on collector cards
	hours := dayHours
	for d := g.start; d <= g.end; d++ {
		for _, c := range g.mules {
			if w.cards[c].issued > d {
				continue
			}
			if g.sleepy[c] {
				if r.chance(0.01) { // a test payment now and then
					col := pick(r, g.collectors)
					if w.cards[col].issued <= d {
						w.add(txn{at: clock(r, d, hours), from: cardRef(w, col), to: cardRef(w, c), channel: "transfer", amount: tenge(float64(pick(r, []int{100, 500, 1000, 1000, 2000})), 1)})
					}
				}
				continue
			}
			if !r.chance(g.activity) {
				continue
			}
			var in int64
			last := int64(0)
			credit := func(t txn) {
				w.add(t)
				in += t.amount
				last = max(last, t.at)
			}
			if g.has(tyVictims) {
				for k := 1 + r.poisson(r.uniform(0.5, 4)); k > 0; k-- {
					v := pick(r, g.victims)
					vc := w.mainCard(v, d)
					if vc < 0 {
						continue
					}
					at := clock(r, d, hours)
					t := txn{at: at, from: cardRef(w, vc), to: cardRef(w, c), channel: "transfer",
						amount: tenge(r.lognormal(g.victimMedian, 0.85), pick(r, []int64{1, 100, 1000, 1000, 5000})), ref: pick(r, victimRefs)}
					t.device, t.ip = w.appIDs(r, v, at)
					credit(t)
				}
			}
			if g.has(tyTopups) && r.chance(0.4) {
				for k := r.between(1, 2); k > 0; k-- {
					a := w.atms[pick(r, g.atms)]
					amt := r.uniform(g.bandLow, 499999)
					t := txn{at: clock(r, d, hours), from: "atm:" + a.id, to: cardRef(w, c), channel: "topup", atm: a.id,
						amount: tenge(amt, pick(r, []int64{500, 1000, 1000})), app: pick(r, []string{"no", "", "no"})}
					if r.chance(0.08) { // now and then a bigger deposit, the dropper shows up with the IIN
						t.amount = tenge(r.uniform(500000, 900000), 1000)
						t.iin, t.app = w.people[w.cards[c].holder].iin, "yes"
					}
					credit(t)
				}
			}
			if g.has(tyP2PIn) && r.chance(0.5) {
				for k := r.between(1, 4); k > 0; k-- {
					b, bc := w.randomPayer(r, -1, d)
					if b < 0 {
						continue
					}
					at := clock(r, d, hours)
					t := txn{at: at, from: cardRef(w, bc), to: cardRef(w, c), channel: "transfer",
						amount: tenge(r.lognormal(150000, 0.7), pick(r, []int64{1, 100, 1000})), ref: pick(r, []string{"", "P2P", "USDT", "order " + numStr(r, 11), "Перевод"})}
					t.device, t.ip = w.appIDs(r, b, at)
					credit(t)
				}
			}
			if in > 0 {
				w.route(r, g, c, in, last, 0, false, bal)
			}
		}
		w.collectorDay(r, g, d, bal)
	}
}

// route moves money that arrived on mule card c by at onward. hops > 0
// means the money is inside a layering chain with that many mule-to-mule
// hops still to go; inChain tells the last hop of a chain, which leaves
// the chain by any other route.
func (w *world) route(r rng, g *group, c int, amount, at int64, hops int, inChain bool, bal map[int]int64) {
	out := amount - amount*int64(r.between(0, 300))/10000 // the dropper's cut
	dwell := r.lognormal(g.dwell, 0.7)
	if inChain {
		dwell = r.uniform(600, 3*3600) // layering is quick
	}
	t := at + int64(math.Max(300, dwell))
	way := 2
	if hops == 0 {
		routes := slices.Clone(g.routes)
		if inChain {
			routes[2] = 0
		}
		way = r.weighted(routes)
		if way == 2 {
			hops = r.between(2, 4)
		}
	}
	switch way {
	case 0: // to a collector
		col := pick(r, g.collectors)
		tx := txn{at: t, from: cardRef(w, c), to: cardRef(w, col), channel: "transfer", amount: roundOut(r, out), ref: pick(r, []string{"", "", "Перевод", "возврат"})}
		tx.device, tx.ip = w.muleIDs(r, g, c, t)
		w.add(tx)
		bal[col] += tx.amount
	case 1: // cash
		w.cashOut(r, g, c, out, t, -1)
	case 2: // another mule
		next := pick(r, g.mules)
		if next == c || g.sleepy[next] || w.cards[next].issued > int(t/daySec) {
			w.cashOut(r, g, c, out, t, -1)
			return
		}
		tx := txn{at: t, from: cardRef(w, c), to: cardRef(w, next), channel: "transfer", amount: roundOut(r, out), ref: pick(r, []string{"", "Перевод", "долг"})}
		tx.device, tx.ip = w.muleIDs(r, g, c, t)
		w.add(tx)
		w.route(r, g, next, tx.amount, t, hops-1, true, bal)
	default: // straight to an exchange
		e := w.exch[pick(r, g.exchanges)]
		tx := txn{at: t, from: cardRef(w, c), to: "exchange:" + e.id, channel: "trade", amount: roundOut(r, out), ref: pick(r, []string{"", "USDT", "P2P order " + numStr(r, 12), "buy"})}
		tx.device, tx.ip = w.muleIDs(r, g, c, t)
		w.add(tx)
	}
}

// roundOut rounds an amount the way people type it: mostly whole thousands.
func roundOut(r rng, v int64) int64 {
	switch r.IntN(4) {
	case 0:
		return v
	case 1:
		return max(100, v/10000*10000)
	default:
		return max(100000, v/100000*100000)
	}
}

// nightly moves a cash-out to the coming night with the group's
// probability.
func nightly(r rng, g *group, at int64) int64 {
	if !r.chance(g.nightP) {
		return at
	}
	d := at / daySec
	if at%daySec/3600 >= 6 {
		d++ // wait for the night
	}
	return max(at, d*daySec+int64(r.between(0, 5*3600)))
}

// cashOut empties a card at an ATM of the group (ai, or any when ai < 0),
// in pieces.
func (w *world) cashOut(r rng, g *group, c int, amount, at int64, ai int) {
	if ai < 0 {
		at = nightly(r, g, at)
		ai = pick(r, g.atms)
	}
	a := w.atms[ai]
	amount = amount / (1000 * 100) * (1000 * 100) // banknotes; the rest stays on the card
	for amount >= 5000*100 {
		piece := min(amount, tenge(r.uniform(100000, 400000), 5000))
		w.add(txn{at: at, from: cardRef(w, c), to: "atm:" + a.id, channel: "cash_out", atm: a.id, amount: piece})
		amount -= piece
		at += int64(r.between(40, 400))
		if r.chance(0.2) {
			a = w.atms[pick(r, g.atms)]
			at += int64(r.between(600, 2400))
		}
	}
}

// collectorDay: couriers pass money up to the organiser and fund ATM runs;
// the organiser buys crypto and withdraws it to the group's wallet.
func (w *world) collectorDay(r rng, g *group, d int, bal map[int]int64) {
	for _, col := range g.collectors {
		if bal[col] < 300000*100 || !r.chance(0.35) {
			continue
		}
		at := clock(r, d, dayHours)
		if g.has(tyATM) && r.chance(0.5) {
			// An ATM run: money onto a few mule cards, then all of them
			// emptied at one machine within the hour.
			k := r.between(2, 6)
			share := bal[col] * int64(r.between(40, 80)) / 100 / int64(k)
			runAt := nightly(r, g, at+int64(r.between(1800, 4*3600)))
			runATM := pick(r, g.atms)
			for i := 0; i < k; i++ {
				m := pick(r, g.mules)
				if g.sleepy[m] || w.cards[m].issued > d {
					continue
				}
				amt := roundOut(r, share)
				tx := txn{at: at + int64(i*r.between(30, 300)), from: cardRef(w, col), to: cardRef(w, m), channel: "transfer", amount: amt}
				tx.device, tx.ip = w.muleIDs(r, g, col, tx.at)
				w.add(tx)
				bal[col] -= amt
				w.cashOut(r, g, m, amt, runAt+int64(i*r.between(120, 600)), runATM)
			}
			continue
		}
		if slices.Contains(g.orgCards, col) {
			continue // the organiser's own card: buys crypto below
		}
		up := bal[col] * int64(r.between(50, 90)) / 100
		oc := pick(r, g.orgCards)
		tx := txn{at: at, from: cardRef(w, col), to: cardRef(w, oc), channel: "transfer", amount: roundOut(r, up), ref: pick(r, []string{"", "Перевод", "за товар"})}
		tx.device, tx.ip = w.appIDs(r, w.cards[col].holder, at)
		w.add(tx)
		bal[col] -= tx.amount
		bal[oc] += tx.amount
	}
	for _, oc := range g.orgCards {
		if bal[oc] < 400000*100 || !r.chance(0.3) {
			continue
		}
		e := w.exch[pick(r, g.exchanges)]
		at := clock(r, d, dayHours)
		amt := roundOut(r, bal[oc]*int64(r.between(60, 95))/100)
		tx := txn{at: at, from: cardRef(w, oc), to: "exchange:" + e.id, channel: "trade", amount: amt, ref: pick(r, []string{"Buy USDT", "USDT TRC20", "", "покупка"})}
		tx.device, tx.ip = w.appIDs(r, g.organiser, at)
		w.add(tx)
		bal[oc] -= amt
		w.add(txn{at: at + int64(r.between(600, 7200)), from: "exchange:" + e.id, to: "wallet:" + g.wallet, channel: "trade",
			amount: amt * int64(r.between(97, 99)) / 100, ref: "withdraw USDT TRC20"})
	}
}
