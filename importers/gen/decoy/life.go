package decoy

// Everyday life: salaries and pensions, card purchases (in shop and
// online), transfers to relatives and friends, utility and phone bills, ATM
// withdrawals and the odd cash deposit. Every person lives it, at their own
// intensity; decoys and group members do their extra things on top.

var p2pRefs = []string{"", "", "", "Перевод", "Перевод с карты на карту", "Kaspi перевод", "за обед", "долг", "Возврат долга",
	"на подарок", "спасибо", "за билеты", "аренда", "на продукты", "Аударым", "за такси"}

func dayOfMonth(d int) int { return startDay.AddDate(0, 0, d).Day() }

// appIDs is the device and IP of a person's mobile-banking operation at a
// moment: their phone on mobile data or home Wi-Fi, or a shared home or
// office device when they have one.
func (w *world) appIDs(r rng, p int, at int64) (string, string) {
	ps := &w.people[p]
	d, h := int(at/daySec), int(at%daySec/3600)
	if len(ps.vpnIPs) > 0 && r.chance(ps.vpnUse) {
		return ps.device, pick(r, ps.vpnIPs)
	}
	if ps.office >= 0 && weekday(d) >= 1 && weekday(d) <= 5 && h >= 9 && h < 19 && r.chance(ps.sharedUse) {
		o := w.orgs[ps.office]
		return o.device, o.ip
	}
	if ps.homeDev != "" && (h >= 18 || h < 9 || weekday(d) == 0 || weekday(d) == 6) && r.chance(ps.sharedUse) {
		return ps.homeDev, ps.sharedIP
	}
	if h >= 19 || h < 8 {
		if r.chance(0.55) {
			return ps.device, ps.homeIP
		}
	} else if r.chance(0.2) {
		return ps.device, ps.homeIP
	}
	return ps.device, ps.mobileIP
}

// usable lists the person's cards issued by day d.
func (w *world) usable(p, d int) []int {
	var out []int
	for _, c := range w.people[p].cards {
		if w.cards[c].issued <= d && w.cards[c].status == "active" {
			out = append(out, c)
		}
	}
	return out
}

// payCard is the card that receives salary: the first usable one.
func (w *world) mainCard(p, d int) int {
	u := w.usable(p, d)
	if len(u) == 0 {
		return -1
	}
	return u[0]
}

func (w *world) everydayLife(r rng, p int) {
	ps := &w.people[p]
	if len(ps.cards) == 0 {
		return
	}
	hours := dayHours
	if ps.night {
		hours = nightHours
	}
	utilDay, phoneDay := r.between(5, 25), r.between(1, 28)
	payA, payB := 0, 0
	if ps.employer >= 0 {
		// An employer pays on its own days: the same draw for everyone there.
		er := newRNG(w.seed, 9000+uint64(ps.employer))
		payA, payB = er.between(3, 10), er.between(18, 25)
	}
	pensioner := ps.employer < 0 && w.age(p) >= 63
	stipend := ps.school >= 0
	for d := 0; d < numDays; d++ {
		cs := w.usable(p, d)
		if len(cs) == 0 {
			continue
		}
		choose := func() int {
			if len(cs) == 1 || r.chance(0.65) {
				return cs[0]
			}
			return pick(r, cs)
		}
		dom := dayOfMonth(d)
		wd := weekday(d)
		// Income.
		if ps.employer >= 0 && (dom == payA || dom == payB) {
			at := int64(d)*daySec + int64(r.between(9*3600, 15*3600))
			if wd == 0 {
				at -= 2 * daySec
			} else if wd == 6 {
				at -= daySec
			}
			share := 0.4
			ref := "Аванс за " + monthName(d)
			if dom == payB {
				share = 0.6
				ref = "Заработная плата за " + monthName(d)
			}
			w.add(txn{at: at, from: "iban:" + w.orgs[ps.employer].iban, to: cardRef(w, cs[0]), channel: "transfer",
				amount: tenge(ps.salary*share*r.uniform(0.97, 1.03), 0), ref: ref})
		}
		if pensioner && dom == 22 {
			w.add(txn{at: int64(d)*daySec + int64(r.between(8*3600, 12*3600)), from: "iban:" + w.orgs[w.pensionFund].iban,
				to: cardRef(w, cs[0]), channel: "transfer", amount: tenge(r.lognormal(105000, 0.2), 0), ref: "Пенсионные выплаты"})
		}
		if stipend && dom == 25 {
			w.add(txn{at: int64(d)*daySec + int64(r.between(10*3600, 16*3600)), from: "iban:" + w.orgs[ps.school].iban,
				to: cardRef(w, cs[0]), channel: "transfer", amount: tenge(r.uniform(36000, 52000), 0), ref: "Стипендия"})
		}
		// Purchases.
		for k := r.poisson(0.42 * ps.intensity); k > 0; k-- {
			at := clock(r, d, hours)
			m := w.orgs[pick(r, w.merchants)]
			t := txn{at: at, from: cardRef(w, choose()), to: "iban:" + m.iban, channel: "transfer",
				amount: tenge(r.lognormal(4300, 1.0), pick(r, []int64{0, 1, 10, 10, 50})), ref: "Покупка " + m.name}
			if r.chance(0.3) {
				t.device, t.ip = w.appIDs(r, p, at)
				t.ref = "Оплата онлайн " + m.name
			}
			w.add(t)
		}
		// Transfers to people they know.
		if len(ps.contacts) > 0 && r.chance(0.09*ps.intensity) {
			to := pick(r, ps.contacts)
			if tc := w.mainCard(to, d); tc >= 0 {
				at := clock(r, d, hours)
				t := txn{at: at, from: cardRef(w, choose()), to: cardRef(w, tc), channel: "transfer",
					amount: tenge(r.lognormal(9000, 0.95), pick(r, []int64{100, 500, 1000, 1000, 5000, 1})), ref: pick(r, p2pRefs)}
				t.device, t.ip = w.appIDs(r, p, at)
				w.add(t)
			}
		}
		// Cash.
		if r.chance(0.045 * ps.intensity) {
			a := w.atms[w.nearATM(r, ps.city)]
			w.add(txn{at: clock(r, d, hours), from: cardRef(w, choose()), to: "atm:" + a.id, channel: "cash_out", atm: a.id,
				amount: tenge(r.lognormal(25000, 0.8), pick(r, []int64{1000, 5000, 5000, 10000}))})
		}
		if r.chance(0.007 * ps.intensity) {
			a := w.atms[w.nearATM(r, ps.city)]
			w.add(txn{at: clock(r, d, dayHours), from: "atm:" + a.id, to: cardRef(w, choose()), channel: "topup", atm: a.id,
				amount: tenge(r.lognormal(40000, 0.9), 500), app: pick(r, []string{"", "no"})})
		}
		// Bills, mostly from the app.
		if dom == utilDay && w.age(p) >= 24 && r.chance(0.6) {
			at := clock(r, d, dayHours)
			u := w.orgs[pick(r, w.utilities)]
			t := txn{at: at, from: cardRef(w, choose()), to: "iban:" + u.iban, channel: "transfer",
				amount: tenge(r.lognormal(14000, 0.6), 0), ref: "Коммунальные услуги, лицевой счёт " + numStr(r, 8)}
			t.device, t.ip = w.appIDs(r, p, at)
			w.add(t)
		}
		if dom == phoneDay && ps.phone != "" && r.chance(0.8) {
			at := clock(r, d, hours)
			t := txn{at: at, from: cardRef(w, choose()), to: "iban:" + w.orgs[w.telecom].iban, channel: "transfer",
				amount: tenge(float64(pick(r, []int{1500, 2000, 2500, 3000, 4000, 5000, 7000})), 1), ref: "Пополнение баланса " + ps.phone}
			t.device, t.ip = w.appIDs(r, p, at)
			w.add(t)
		}
	}
}

var months = []string{"январь", "февраль", "март", "апрель", "май", "июнь"}

func monthName(d int) string {
	m := startDay.AddDate(0, 0, d).Month()
	if dayOfMonth(d) < 15 {
		m-- // the salary early in a month is for the month before
	}
	if m < 1 {
		m = 12
	}
	if int(m) <= len(months) {
		return months[m-1]
	}
	return "месяц"
}

// assignContacts gives everyone a few people they send money to: family
// and friends, mostly in the same city.
func (w *world) assignContacts(r rng) {
	for p := range w.people {
		ps := &w.people[p]
		k := r.between(2, 8)
		for i := 0; i < k; i++ {
			var q int
			if r.chance(0.8) && len(w.byCity[ps.city]) > 0 {
				q = pick(r, w.byCity[ps.city])
			} else {
				q = r.IntN(len(w.people))
			}
			if q != p {
				ps.contacts = append(ps.contacts, q)
			}
		}
	}
}
