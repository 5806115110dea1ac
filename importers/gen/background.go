package gen

import (
	"math"
	"math/rand/v2"
	"time"
)

// hourWeights shapes the time of day of background activity (local time):
// quiet nights, a morning ramp, busy evenings.
var hourWeights = [24]int{10, 6, 4, 3, 3, 5, 15, 30, 50, 70, 80, 80, 85, 80, 75, 75, 80, 85, 90, 90, 80, 60, 40, 20}

var hourCum = func() (c [24]int) {
	s := 0
	for i, w := range hourWeights {
		s += w
		c[i] = s
	}
	return c
}()

// timeOfDay draws seconds since midnight following hourWeights.
func timeOfDay(r *rand.Rand) int64 {
	n := r.IntN(hourCum[23])
	h := 0
	for hourCum[h] <= n {
		h++
	}
	return int64(h)*3600 + int64(r.IntN(3600))
}

var (
	p2pText = []string{"", "", "", "Перевод", "за обед", "қарыз", "долг", "подарок", "Аударым",
		"на подарок", "за такси", "коммуналка", "ақша", "спасибо"}
	monthsRu = []string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
		"сентябрь", "октябрь", "ноябрь", "декабрь"}
)

// payroll lists, for each payday (5, 10, 15, 20, 25), the employed background
// persons paid that day, in person order.
func (w *world) payroll() [5][]int {
	var p [5][]int
	for i := 0; i < w.nBack; i++ {
		if e := w.people[i].employer; e >= 0 {
			k := w.emps[e].payday/5 - 1
			p[k] = append(p[k], i)
		}
	}
	return p
}

// paid returns who is paid a salary on day d.
func (w *world) paid(d int, pay *[5][]int) []int {
	dom := w.start.add(d).d
	if dom%5 != 0 || dom > 25 {
		return nil
	}
	return pay[dom/5-1]
}

// budget splits n background rows (besides salaries) over the days, with a
// weekly rhythm and some day-to-day noise. The counts sum to exactly n.
func (w *world) budget(n int) []int {
	r := rand.New(rand.NewPCG(uint64(w.seed), streamBudget))
	weights := make([]float64, w.p.days)
	sum := 0.0
	for d := range weights {
		wd := time.Date(w.start.y, time.Month(w.start.m), w.start.d+d, 0, 0, 0, 0, time.UTC).Weekday()
		f := 1.0
		switch wd {
		case time.Friday:
			f = 1.15
		case time.Saturday:
			f = 0.95
		case time.Sunday:
			f = 0.8
		}
		weights[d] = f * (0.9 + 0.2*r.Float64())
		sum += weights[d]
	}
	counts := make([]int, w.p.days)
	left := n
	for d, x := range weights {
		counts[d] = int(float64(n) * x / sum)
		left -= counts[d]
	}
	for d := 0; left > 0; d = (d + 1) % len(counts) {
		counts[d]++
		left--
	}
	return counts
}

// sender picks an active background person. Activity is skewed: a few people
// make many payments, most make a few.
func (w *world) sender(r *rand.Rand) *person {
	return w.people[int(float64(w.nBack)*math.Pow(r.Float64(), 1.6))]
}

// contact picks someone the person pays often (family, friends), or anyone.
func (w *world) contact(r *rand.Rand, ps *person) *person {
	if r.IntN(10) < 6 {
		j := uint64(r.IntN(6))
		h := (fnv(ps.iin) + j*40503) % uint64(w.nBack)
		return w.people[h]
	}
	return w.people[r.IntN(w.nBack)]
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// amount rounds a KZT draw the way people type amounts: mostly to 100 or
// 1,000 tenge, sometimes exact with tiyn.
func amount(r *rand.Rand, x, lo, hi float64) int64 {
	x = math.Max(lo, math.Min(hi, x))
	switch k := r.IntN(20); {
	case k < 12:
		return kzt(x, 100)
	case k < 17:
		return kzt(x, 1000)
	default:
		return int64(x * 100) // exact, with tiyn
	}
}

// backgroundDay makes the legitimate activity of day d: the salaries due that
// day and n other rows.
func (w *world) backgroundDay(d, n int, paid []int) []txn {
	r := rand.New(rand.NewPCG(uint64(w.seed), streamDay+uint64(d)))
	out := make([]txn, 0, n+len(paid))
	base := int64(d) * day
	if len(paid) > 0 {
		c := w.start.add(d - 10)
		ref := "Заработная плата за " + monthsRu[c.m-1] + " " + itoa(c.y)
		for _, pi := range paid {
			ps := w.people[pi]
			amt := ps.salary
			if r.IntN(6) == 0 { // bonus or deduction
				amt = amt * int64(80+r.IntN(50)) / 100
			}
			out = append(out, txn{at: base + 9*3600 + int64(r.IntN(4*3600)), from: "iban:" + w.emps[ps.employer].iban,
				to: cardRef(w, ps.cards[0]), amount: amt, channel: chTransfer, ref: ref})
		}
	}
	for i := 0; i < n; i++ {
		ps := w.sender(r)
		c := pick(r, ps.cards)
		t := txn{at: base + timeOfDay(r), from: cardRef(w, c), channel: chTransfer}
		if r.IntN(100) < 85 {
			t.device, t.ip = ps.device, ps.ip
		}
		switch k := r.IntN(1000); {
		case k < 470 || (k < 520 && len(ps.cards) < 2):
			to := w.contact(r, ps)
			if to == ps {
				to = w.people[r.IntN(w.nBack)]
			}
			t.to = cardRef(w, pick(r, to.cards))
			t.amount = amount(r, lognormal(r, 7000, 1.1), 100, 2000000)
			t.ref = pick(r, p2pText)
		case k < 520: // between one's own cards
			other := ps.cards[r.IntN(len(ps.cards))]
			if other == c {
				other = ps.cards[(indexOf(ps.cards, c)+1)%len(ps.cards)]
			}
			t.to = cardRef(w, other)
			t.amount = kzt(math.Min(3000000, lognormal(r, 40000, 0.9)), 1000)
		case k < 770: // shops, services, utilities: big chains get most of it
			s := w.shops[int(float64(len(w.shops))*math.Pow(r.Float64(), 2.5))]
			t.to = "iban:" + s.iban
			t.amount = amount(r, lognormal(r, 9000, 1.0), 150, 1500000)
			t.ref = "Оплата: " + s.name
		case k < 870:
			a := w.atms[ps.atms[r.IntN(2)]].id
			t = txn{at: t.at, from: t.from, to: "atm:" + a, channel: chCashOut, atm: a,
				amount: kzt(math.Max(2000, math.Min(500000, lognormal(r, 25000, 0.8))), 1000)}
		case k < 950:
			a := w.atms[ps.atms[r.IntN(2)]].id
			t = txn{at: t.at, from: "atm:" + a, to: t.from, channel: chTopup, atm: a,
				amount: kzt(math.Max(1000, math.Min(3000000, lognormal(r, 35000, 0.9))), 1000)}
			if t.amount >= 500000*100 {
				t.iin, t.app = ps.iin, "yes"
			}
		case k < 965:
			ex := w.exch[pick(r, w.lic)].id
			t.channel = chTrade
			t.amount = kzt(lognormal(r, 150000, 0.9), 1000)
			if r.IntN(10) < 7 {
				t.to = "exchange:" + ex
				t.ref = pick(r, []string{"buy USDT", "buy BTC", "Покупка USDT", "deposit KZT"})
			} else {
				t.from, t.to = "exchange:"+ex, t.from
				t.ref = pick(r, []string{"sell USDT", "sell BTC", "withdraw KZT"})
				t.device, t.ip = "", ""
			}
		default: // rent and family support: larger, regular
			to := w.contact(r, ps)
			if to == ps {
				to = w.people[r.IntN(w.nBack)]
			}
			t.to = cardRef(w, pick(r, to.cards))
			t.amount = kzt(lognormal(r, 120000, 0.5), 1000)
			t.ref = pick(r, []string{"аренда", "за квартиру", "пәтерақы", "маме", "на учебу"})
		}
		out = append(out, t)
	}
	return out
}

func indexOf(xs []int, x int) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
