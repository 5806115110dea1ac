package gen

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Typologies planted in criminal groups. The comments name the red-flag rule
// of DOMAIN §4 each one is built to trigger.
const (
	tyFanIn       = "fan_in_cash_out"     // R1 fan-in → cash-out, R9 night ATM
	tyPassThrough = "pass_through"        // R2 pass-through
	tyStructuring = "structured_topups"   // R3 structuring below 500,000 KZT
	tyExchange    = "unlicensed_exchange" // R10 P2P crypto, R11 unlicensed exchange
	tyLayering    = "layering_chain"      // R13 layering chain
	tyATMRun      = "atm_run"             // R6 ATM run
	tyMultiBank   = "multi_bank_cards"    // R4 multi-bank cards (every group)
	tyShared      = "shared_identifiers"  // R5 shared phone/device/IP (every group)
)

// behaviours are the typologies a group may be given, in a fixed order.
var behaviours = []string{tyFanIn, tyPassThrough, tyStructuring, tyExchange, tyLayering, tyATMRun}

// txn is one transaction row. Times are seconds since the first local
// midnight; amounts are in tiyn.
type txn struct {
	at       int64
	from, to string
	amount   int64
	channel  uint8
	atm      string
	device   string
	ip       string
	iin      string // iin_provided
	app      string // app_confirmed
	ref      string
}

// Channels, as written in the channel column.
const (
	chTransfer uint8 = iota
	chTopup
	chCashOut
	chTrade
)

var channelText = [...]string{"transfer", "topup", "cash_out", "trade"}

// group is one planted criminal group.
type group struct {
	id, name, caseRef string
	city              int
	organiser         int
	couriers          []int
	droppers          []int
	cards             []int // dropper cards
	ownCards          []int // organiser and courier cards
	devices, ips      []string
	phones            []string
	exchanges         []int // unlicensed exchanges the group pays into
	operates          []int // exchanges the group runs
	atms              []int
	typologies        []string
	wallet            string
	from, to          int // first and last day an episode may start
}

// planter plants the groups and their transactions.
type planter struct {
	w    *world
	r    *rand.Rand
	txns []txn
	g    *group
	atms map[int]bool // ATMs used by the current group (membership only)
}

func kzt(x float64, step int64) int64 {
	v := int64(x) / step * step
	if v < step {
		v = step
	}
	return v * 100
}

func cardRef(w *world, c int) string { return w.cards[c].ref }

var (
	scamRefs = []string{"Перевод", "оплата за товар", "предоплата", "за аренду квартиры", "OLX заказ",
		"возврат долга", "Аударым", "инвестиции", "доставка", ""}
	p2pRefs = []string{"USDT P2P order %d", "P2P USDT order %d", "оплата ордера %d", "Binance P2P %d",
		"Bybit P2P order %d", "USDT TRC20 %d"}
)

func p2pRef(r *rand.Rand) string {
	return strings.Replace(pick(r, p2pRefs), "%d", strconv.Itoa(100000+r.IntN(900000000)), 1)
}

// plant creates the groups and returns their transactions (unsorted).
func (w *world) plant() []txn {
	r := rand.New(rand.NewPCG(uint64(w.seed), streamPlant))
	pl := &planter{w: w, r: r}
	perCity := make([]int, len(cities))
	for gi := 0; gi < w.p.groups; gi++ {
		g := &group{city: pickCity(r)}
		perCity[g.city]++
		g.id = "G-" + cities[g.city].code + "-" + strconv.Itoa(perCity[g.city])
		g.caseRef = "AFM-" + strconv.Itoa(w.start.y) + "-" + pad4(100+gi*29+r.IntN(29)) // unique for up to 340 groups
		g.from = r.IntN(max(1, w.p.days/3))
		g.to = w.p.days - 3
		// Every group gets two behaviours by rotation, so that all of them
		// are present as soon as there are three groups, plus random extras.
		set := []string{behaviours[(2*gi)%len(behaviours)], behaviours[(2*gi+1)%len(behaviours)]}
		for _, b := range behaviours {
			if !slices.Contains(set, b) && r.IntN(4) == 0 {
				set = append(set, b)
			}
		}
		pl.g = g
		pl.atms = map[int]bool{}
		pl.members()
		if slices.Contains(set, tyExchange) {
			pl.chooseExchanges(gi)
		}
		g.typologies = append(g.typologies, tyMultiBank, tyShared)
		for _, b := range behaviours { // fixed order: output stays deterministic
			if !slices.Contains(set, b) {
				continue
			}
			g.typologies = append(g.typologies, b)
			switch b {
			case tyFanIn:
				pl.fanIn()
			case tyPassThrough:
				pl.passThrough()
			case tyStructuring:
				pl.structuring()
			case tyExchange:
				pl.exchange()
			case tyLayering:
				pl.layering()
			case tyATMRun:
				pl.atmRun()
			}
		}
		slices.Sort(g.typologies)
		g.atms = g.atms[:0]
		for i := range w.atms {
			if pl.atms[i] {
				g.atms = append(g.atms, i)
			}
		}
		w.groups = append(w.groups, g)
	}
	return pl.txns
}

var gangWords = []string{"Север", "Восток", "Барс", "Тұлпар", "Шторм", "Қыран", "Бүркіт", "Легион", "Дала"}

// members creates the organiser, couriers and droppers with their cards,
// shared phones, devices and IPs.
func (pl *planter) members() {
	w, r, g := pl.w, pl.r, pl.g
	home := cities[g.city]
	nDevices, nIPs, nPhones := 1+r.IntN(3), 1+r.IntN(2), 1+r.IntN(3)
	for i := 0; i < nDevices; i++ {
		g.devices = append(g.devices, w.ids.device(r))
	}
	for i := 0; i < nIPs; i++ {
		g.ips = append(g.ips, w.ids.ip(r, vpnNets))
	}
	for i := 0; i < nPhones; i++ {
		g.phones = append(g.phones, w.ids.phone(r, false))
	}
	hostel := address(r, home)

	newPerson := func(resident bool, from, to int) *person {
		male := r.IntN(10) < 7
		birth := birthDate(r, from, to)
		ps := &person{iin: w.ids.iin(r, birth, male), name: personName(r, male, resident), birth: birth,
			male: male, resident: resident, city: g.city, employer: -1}
		return ps
	}
	addCard := func(pi, b, issued int) int {
		c := newCard(w.ids.pan(r, b), w.ids.iban(r, b), b, pi, issued)
		w.cards = append(w.cards, c)
		w.people[pi].cards = append(w.people[pi].cards, len(w.cards)-1)
		return len(w.cards) - 1
	}

	org := newPerson(true, 1972, 1996)
	org.phone = w.ids.phone(r, false)
	org.phoneText = phoneText(r, org.phone)
	org.address = address(r, home)
	org.device, org.ip = w.ids.device(r), w.ids.ip(r, kzNets)
	g.organiser = len(w.people)
	w.people = append(w.people, org)
	for i, n := 0, 1+r.IntN(2); i < n; i++ {
		g.ownCards = append(g.ownCards, addCard(g.organiser, pickBank(r), -200-r.IntN(1500)))
	}
	g.wallet = w.ids.tronWallet(r)
	switch r.IntN(3) {
	case 0:
		g.name = pick(r, []string{"Бригада «", "Группа «", "ОПГ «"}) + pick(r, gangWords) + "»"
	case 1:
		g.name = "Обнал-" + home.name
	default:
		first := org.name
		if sp := strings.IndexByte(first, ' '); sp >= 0 {
			first = first[sp+1:]
			if sp2 := strings.IndexByte(first, ' '); sp2 >= 0 {
				first = first[:sp2]
			}
		}
		g.name = first + " & Co"
	}

	for i, n := 0, r.IntN(3); i < n; i++ {
		c := newPerson(true, 1988, 2004)
		c.phone = w.ids.phone(r, false)
		c.phoneText = phoneText(r, c.phone)
		c.address = address(r, home)
		c.device, c.ip = g.devices[0], g.ips[0]
		pi := len(w.people)
		w.people = append(w.people, c)
		g.couriers = append(g.couriers, pi)
		g.ownCards = append(g.ownCards, addCard(pi, pickBank(r), -100-r.IntN(900)))
	}

	nDrop := 5 + r.IntN(26)
	if w.p.maxDroppers > 0 {
		nDrop = min(nDrop, w.p.maxDroppers)
	}
	for i := 0; i < nDrop; i++ {
		resident := r.IntN(4) == 0
		d := newPerson(resident, 1996, 2006)
		switch {
		case r.IntN(10) < 7:
			d.phone = pick(r, g.phones)
		default:
			d.phone = w.ids.phone(r, !resident && r.IntN(3) == 0)
		}
		d.phoneText = phoneText(r, d.phone)
		if r.IntN(10) < 6 {
			d.address = hostel
		} else if resident {
			d.address = address(r, home)
		}
		d.device, d.ip = pick(r, g.devices), pick(r, g.ips)
		pi := len(w.people)
		w.people = append(w.people, d)
		g.droppers = append(g.droppers, pi)

		// 3–12 cards across at least three banks, issued shortly before the
		// group starts (fresh cards burst into activity: R7).
		nCards := 3 + r.IntN(10)
		var bs []int
		for len(bs) < min(3+r.IntN(3), nCards) {
			if b := pickBank(r); !slices.Contains(bs, b) {
				bs = append(bs, b)
			}
		}
		for j := 0; j < nCards; j++ {
			c := addCard(pi, bs[j%len(bs)], g.from-1-r.IntN(25))
			if r.IntN(7) == 0 {
				w.cards[c].status = "blocked"
			}
			g.cards = append(g.cards, c)
		}
	}
}

// episodeDay draws a start day for an episode lasting span days.
func (pl *planter) episodeDay(span int) int {
	g := pl.g
	last := max(g.from, g.to-span)
	return g.from + pl.r.IntN(last-g.from+1)
}

func (pl *planter) count(per int) int { return 1 + (pl.g.to-pl.g.from)/per + pl.r.IntN(2) }

// victim picks a background person with a card and returns the card.
func (pl *planter) victim() (*person, int) {
	ps := pl.w.people[pl.r.IntN(pl.w.nBack)]
	return ps, pick(pl.r, ps.cards)
}

// dropperCard picks a dropper card, optionally not held by the holder of avoid.
func (pl *planter) dropperCard(avoid int) int {
	for {
		c := pick(pl.r, pl.g.cards)
		if avoid < 0 || pl.w.cards[c].holder != pl.w.cards[avoid].holder || len(pl.g.droppers) < 2 {
			return c
		}
	}
}

func (pl *planter) groupATM() int {
	g := pl.g
	local := pl.w.byCity[g.city]
	// A group works a few ATMs: the first three of its city pool it touches.
	a := local[pl.r.IntN(min(3, len(local)))]
	pl.atms[a] = true
	return a
}

func (pl *planter) add(t txn) { pl.txns = append(pl.txns, t) }

// send is a transfer made from a dropper card through the group's devices.
func (pl *planter) send(at int64, from, to string, amount int64, ref string) {
	pl.add(txn{at: at, from: from, to: to, amount: amount, channel: chTransfer,
		device: pick(pl.r, pl.g.devices), ip: pick(pl.r, pl.g.ips), ref: ref})
}

// cashOut withdraws amount from card c at ATM a in pieces of at most
// 400,000 KZT, a few minutes apart, starting at t. It returns the end time.
func (pl *planter) cashOut(t int64, c, a int, amount int64) int64 {
	amount = amount / 100000 * 100000 // whole thousands of tenge
	for amount > 0 {
		piece := min(amount, kzt(150000+pl.r.Float64()*250000, 1000))
		pl.add(txn{at: t, from: cardRef(pl.w, c), to: "atm:" + pl.w.atms[a].id, amount: piece,
			channel: chCashOut, atm: pl.w.atms[a].id})
		amount -= piece
		t += int64(60 + pl.r.IntN(7*60))
	}
	return t
}

// night returns a time between 00:20 and 05:30 of day d.
func (pl *planter) night(d int) int64 {
	return int64(d)*day + 20*60 + int64(pl.r.IntN(5*3600+10*60))
}

func (pl *planter) fanIn() {
	w, r := pl.w, pl.r
	for e, n := 0, pl.count(20); e < n; e++ {
		d := pl.episodeDay(2)
		c := pl.dropperCard(-1)
		senders := 10 + r.IntN(13)
		seen := make([]int, 0, senders)
		var sum int64
		for len(seen) < senders {
			v, vc := pl.victim()
			if slices.Contains(seen, vc) {
				continue
			}
			seen = append(seen, vc)
			amt := kzt(math.Min(400000, math.Max(10000, lognormal(r, 60000, 0.6))), 500)
			sum += amt
			at := int64(d)*day + 8*3600 + int64(r.IntN(13*3600))
			pl.add(txn{at: at, from: cardRef(w, vc), to: cardRef(w, c), amount: amt, channel: chTransfer,
				device: v.device, ip: v.ip, ref: pick(r, scamRefs)})
		}
		// At least 85% leaves by ATM in the small hours, well within 24 hours
		// of the first credit.
		out := sum * int64(85+r.IntN(14)) / 100
		pl.cashOut(int64(d+1)*day+20*60+int64(r.IntN(3*3600)), c, pl.groupATM(), out)
	}
}

func (pl *planter) passThrough() {
	w, r := pl.w, pl.r
	for e, n := 0, pl.count(15); e < n; e++ {
		d := pl.episodeDay(2)
		a := pl.dropperCard(-1)
		total := kzt(math.Max(1050000, lognormal(r, 2200000, 0.5)), 1000)
		var src string
		if r.IntN(2) == 0 {
			src = "iban:" + pick(r, w.emps).iban
		} else {
			_, vc := pl.victim()
			src = cardRef(w, vc)
		}
		t := int64(d)*day + 9*3600 + int64(r.IntN(10*3600))
		parts := 1 + r.IntN(3)
		rest := total
		for i := 0; i < parts; i++ {
			amt := rest
			if i < parts-1 {
				amt = rest / int64(parts-i) / 100000 * 100000
			}
			pl.add(txn{at: t, from: src, to: cardRef(w, a), amount: amt, channel: chTransfer, ref: pick(r, scamRefs)})
			rest -= amt
			t += int64(60 + r.IntN(10*60))
		}
		t += int64(10*60 + r.IntN(50*60))
		out := total * int64(92+r.IntN(8)) / 100 / 10000 * 10000
		b := pl.dropperCard(a)
		if len(pl.g.exchanges) > 0 && r.IntN(2) == 0 {
			ex := pl.w.exch[pick(r, pl.g.exchanges)].id
			pl.add(txn{at: t, from: cardRef(w, a), to: "exchange:" + ex, amount: out, channel: chTrade,
				device: pick(r, pl.g.devices), ip: pick(r, pl.g.ips), ref: p2pRef(r)})
			continue
		}
		pl.send(t, cardRef(w, a), cardRef(w, b), out, "")
		// The receiving card empties itself at night.
		pl.cashOut(pl.night(d+1), b, pl.groupATM(), out*int64(95+r.IntN(5))/100)
	}
}

func (pl *planter) structuring() {
	w, r, g := pl.w, pl.r, pl.g
	nd := min(2+r.IntN(4), len(g.droppers))
	for _, di := range r.Perm(len(g.droppers))[:nd] {
		holder := w.people[g.droppers[di]]
		d := pl.episodeDay(8)
		a := pl.groupATM()
		k := 3 + r.IntN(4)
		for i := 0; i < k; i++ {
			c := pick(r, holder.cards)
			amt := int64(450000 + r.IntN(50000))
			if r.IntN(2) == 0 {
				amt = amt / 1000 * 1000
			}
			at := int64(d+i*7/k)*day + 10*3600 + int64(r.IntN(11*3600))
			iin := "no"
			if r.IntN(3) == 0 {
				iin = ""
			}
			pl.add(txn{at: at, from: "atm:" + w.atms[a].id, to: cardRef(w, c), amount: amt * 100, channel: chTopup,
				atm: w.atms[a].id, iin: iin, app: "no"})
			// The cash leaves within hours: to the organiser, or into crypto.
			at += int64(3600 + r.IntN(8*3600))
			out := amt * 100 * int64(96+r.IntN(4)) / 100 / 100 * 100
			if len(g.exchanges) > 0 && r.IntN(2) == 0 {
				pl.add(txn{at: at, from: cardRef(w, c), to: "exchange:" + w.exch[pick(r, g.exchanges)].id, amount: out,
					channel: chTrade, device: pick(r, g.devices), ip: pick(r, g.ips), ref: p2pRef(r)})
			} else {
				pl.send(at, cardRef(w, c), cardRef(w, pick(r, g.ownCards)), out, "")
			}
		}
	}
}

// chooseExchanges picks the unlicensed exchanges the group pays into; some
// groups run one of their own, whose clients pay the droppers' cards with P2P
// order references.
func (pl *planter) chooseExchanges(gi int) {
	w, r, g := pl.w, pl.r, pl.g
	g.exchanges = append(g.exchanges, pick(r, w.unlic))
	if r.IntN(2) == 0 {
		if e := pick(r, w.unlic); !slices.Contains(g.exchanges, e) {
			g.exchanges = append(g.exchanges, e)
		}
	}
	if r.IntN(2) == 0 {
		for _, e := range r.Perm(len(w.unlic)) {
			ex := w.unlic[e]
			if w.exch[ex].operatedBy < 0 {
				w.exch[ex].operatedBy = gi
				g.operates = append(g.operates, ex)
				if !slices.Contains(g.exchanges, ex) {
					g.exchanges = append(g.exchanges, ex)
				}
				break
			}
		}
	}
	slices.Sort(g.exchanges)
}

func (pl *planter) exchange() {
	w, r, g := pl.w, pl.r, pl.g
	span := g.to - g.from
	for i, n := 0, 4+span/4; i < n; i++ {
		d := pl.episodeDay(1)
		c := pl.dropperCard(-1)
		at := int64(d)*day + int64(r.IntN(day))
		amt := kzt(math.Min(3000000, math.Max(100000, lognormal(r, 600000, 0.6))), 1000)
		pl.add(txn{at: at, from: cardRef(w, c), to: "exchange:" + w.exch[pick(r, g.exchanges)].id, amount: amt,
			channel: chTrade, device: pick(r, g.devices), ip: pick(r, g.ips), ref: p2pRef(r)})
	}
	for _, ex := range g.operates {
		for i, n := 0, 10+span; i < n; i++ {
			d := pl.episodeDay(1)
			c := pl.dropperCard(-1)
			v, vc := pl.victim()
			at := int64(d)*day + 7*3600 + int64(r.IntN(17*3600))
			amt := kzt(math.Min(2500000, math.Max(20000, lognormal(r, 250000, 0.8))), 1000)
			if r.IntN(4) == 0 {
				// A client sells USDT: the group pays out from a dropper card.
				pl.send(at, cardRef(w, c), cardRef(w, vc), amt, p2pRef(r))
				continue
			}
			pl.add(txn{at: at, from: cardRef(w, vc), to: cardRef(w, c), amount: amt, channel: chTransfer,
				device: v.device, ip: v.ip, ref: p2pRef(r)})
		}
		// The exchange pays the organiser out in USDT.
		for i, n := 0, 2+r.IntN(4); i < n; i++ {
			at := int64(pl.episodeDay(1))*day + int64(r.IntN(day))
			pl.add(txn{at: at, from: "exchange:" + w.exch[ex].id, to: "wallet:" + g.wallet,
				amount: kzt(lognormal(r, 3000000, 0.5), 1000), channel: chTrade, ref: "withdraw USDT TRC20"})
		}
	}
}

func (pl *planter) layering() {
	w, r, g := pl.w, pl.r, pl.g
	for e, n := 0, pl.count(10); e < n; e++ {
		d := pl.episodeDay(2)
		_, vc := pl.victim()
		amt := kzt(math.Min(4000000, math.Max(300000, lognormal(r, 900000, 0.5))), 1000)
		at := int64(d)*day + 9*3600 + int64(r.IntN(11*3600))
		c := pl.dropperCard(-1)
		pl.add(txn{at: at, from: cardRef(w, vc), to: cardRef(w, c), amount: amt, channel: chTransfer, ref: pick(r, scamRefs)})
		hops := 3 + r.IntN(3)
		for h := 0; h < hops; h++ {
			next := pl.dropperCard(c)
			at += int64(10*60 + r.IntN(5*3600))
			amt = amt * int64(92+r.IntN(8)) / 100 / 10000 * 10000
			pl.send(at, cardRef(w, c), cardRef(w, next), amt, "")
			c = next
		}
		at += int64(10*60 + r.IntN(5*3600))
		if len(g.exchanges) > 0 && r.IntN(2) == 0 {
			pl.add(txn{at: at, from: cardRef(w, c), to: "exchange:" + w.exch[pick(r, g.exchanges)].id,
				amount: amt * 98 / 100 / 100 * 100, channel: chTrade, device: pick(r, g.devices), ip: pick(r, g.ips), ref: p2pRef(r)})
			continue
		}
		pl.cashOut(at, c, pl.groupATM(), amt*98/100)
	}
}

func (pl *planter) atmRun() {
	w, r, g := pl.w, pl.r, pl.g
	for e, n := 0, pl.count(12); e < n; e++ {
		d := pl.episodeDay(2)
		a := pl.groupATM()
		k := min(3+r.IntN(4), len(g.droppers))
		// The courier works between 01:00 and 04:00, leaving room for the
		// whole run before dawn.
		t0 := int64(d+1)*day + 3600 + int64(r.IntN(3*3600))
		hub := pick(r, g.ownCards)
		for _, di := range r.Perm(len(g.droppers))[:k] {
			c := pick(r, w.people[g.droppers[di]].cards)
			amt := kzt(150000+r.Float64()*330000, 1000)
			fund := int64(d)*day + 19*3600 + int64(r.IntN(4*3600))
			pl.send(fund, cardRef(w, hub), cardRef(w, c), amt, "")
			pl.cashOut(t0+int64(r.IntN(50*60)), c, a, amt*int64(97+r.IntN(4))/100)
		}
	}
}
