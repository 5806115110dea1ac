package gen

import (
	"math"
	"math/rand/v2"
	"time"
)

// civil is a calendar date without a zone.
type civil struct{ y, m, d int }

func civilOf(t time.Time) civil { return civil{t.Year(), int(t.Month()), t.Day()} }

// add returns the date n days later (n may be negative).
func (c civil) add(n int) civil {
	return civilOf(time.Date(c.y, time.Month(c.m), c.d+n, 0, 0, 0, 0, time.UTC))
}

func (c civil) String() string {
	b := make([]byte, 0, 10)
	return string(appendDate(b, c))
}

func appendDate(b []byte, c civil) []byte {
	b = append4(b, c.y)
	b = append(b, '-')
	b = append2(b, c.m)
	b = append(b, '-')
	return append2(b, c.d)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10%10), byte('0'+n%10)) }

func append4(b []byte, n int) []byte {
	return append(b, byte('0'+n/1000%10), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// Times inside the generator are seconds since local (Almaty) midnight of
// the first day. They are written as local wall-clock time, so the output
// never depends on the machine's time zone database.
const day = 24 * 60 * 60

// person is one natural person of the world, background or planted.
type person struct {
	iin, name string
	birth     civil
	phone     string // E.164, empty if none
	phoneText string // as written in persons.csv
	address   string
	male      bool
	resident  bool
	city      int
	cards     []int // active cards (indices into world.cards) used in transactions
	device    string
	ip        string
	employer  int   // index into world.employers, -1 if not employed
	salary    int64 // monthly net pay in tiyn
	atms      [2]int
}

// card is one payment card with its card account.
type card struct {
	ref       string // "card:" + PAN, built once: it is written millions of times
	pan, iban string
	bank      int
	holder    int // index into world.persons
	issued    int // day offset from the first day; negative = before it
	status    string
}

// org is an employer or a shop: only its account appears in the files.
type org struct {
	iban, name string
	payday     int // day of month salaries are paid (employers)
}

type atm struct {
	id   string
	city int
}

type exchange struct {
	id, name, domain, licence, status string
	operatedBy                        int // group index, -1 if none
}

func newCard(pan, iban string, bank, holder, issued int) card {
	return card{ref: "card:" + pan, pan: pan, iban: iban, bank: bank, holder: holder, issued: issued, status: "active"}
}

// world is everything generated before the transactions are streamed.
type world struct {
	p      params
	seed   int64
	start  civil
	ids    *ids
	people []*person // background persons first, then planted ones
	nBack  int       // number of background persons
	cards  []card
	emps   []org
	shops  []org
	atms   []atm
	byCity [][]int // ATM indices per city
	exch   []exchange
	lic    []int // licensed exchange indices
	unlic  []int // unlicensed exchange indices
	groups []*group
}

// lognormal draws exp(N(ln median, sigma)).
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

func pickCity(r *rand.Rand) int {
	n := r.IntN(100)
	for i, c := range cities {
		if n < c.weight {
			return i
		}
		n -= c.weight
	}
	return 0
}

// birthDate draws a date of birth with a year in [from, to].
func birthDate(r *rand.Rand, from, to int) civil {
	y := from + r.IntN(to-from+1)
	return civil{y, 1, 1}.add(r.IntN(365))
}

// buildWorld creates the background population, its instruments, the ATMs,
// organisations and exchanges.
func buildWorld(seed int64, p params, start civil) *world {
	r := rand.New(rand.NewPCG(uint64(seed), streamWorld))
	w := &world{p: p, seed: seed, start: start, ids: newIDs()}

	w.byCity = make([][]int, len(cities))
	perCity := make([]int, len(cities))
	for i := 0; i < p.atms; i++ {
		c := pickCity(r)
		if i < len(cities) {
			c = i // every city has at least one ATM
		}
		perCity[c]++
		w.byCity[c] = append(w.byCity[c], len(w.atms))
		w.atms = append(w.atms, atm{id: "ATM-" + cities[c].code + "-" + pad4(perCity[c]), city: c})
	}

	for i := 0; i < p.employers; i++ {
		w.emps = append(w.emps, org{iban: w.ids.iban(r, pickBank(r)), name: orgName(r), payday: 5 * (1 + r.IntN(5))})
	}
	for i := 0; i < p.shops; i++ {
		name := orgName(r)
		if i < len(shops) {
			name = shops[i]
		}
		w.shops = append(w.shops, org{iban: w.ids.iban(r, pickBank(r)), name: name})
	}

	w.buildExchanges(r)

	for i := 0; i < p.persons; i++ {
		w.addBackgroundPerson(r)
	}
	w.nBack = len(w.people)
	return w
}

func pad4(n int) string {
	b := make([]byte, 0, 4)
	return string(append4(b, n))
}

func (w *world) addBackgroundPerson(r *rand.Rand) {
	male := r.IntN(2) == 0
	resident := r.IntN(40) != 0
	birth := birthDate(r, 1955, 2005)
	ps := &person{
		iin:      w.ids.iin(r, birth, male),
		name:     personName(r, male, resident),
		birth:    birth,
		male:     male,
		resident: resident,
		city:     pickCity(r),
		employer: -1,
		device:   w.ids.device(r),
		ip:       w.ids.ip(r, kzNets),
	}
	if r.IntN(100) < 92 {
		ps.phone = w.ids.phone(r, false)
		ps.phoneText = phoneText(r, ps.phone)
	}
	if r.IntN(100) < 85 {
		ps.address = address(r, cities[ps.city])
	}
	if r.IntN(100) < 60 {
		ps.employer = r.IntN(len(w.emps))
		s := lognormal(r, 280000, 0.5)
		s = math.Max(85000, math.Min(s, 4000000))
		ps.salary = int64(s*100) / 100 * 100
		ps.salary += int64(r.IntN(100))
	}
	local := w.byCity[ps.city]
	ps.atms = [2]int{local[r.IntN(len(local))], local[r.IntN(len(local))]}
	idx := len(w.people)
	w.people = append(w.people, ps)

	// Card count 1–4, at most two banks: background holders stay below the
	// multi-bank rule (R4), which belongs to the planted droppers.
	n := 1
	switch k := r.IntN(100); {
	case k >= 97:
		n = 4
	case k >= 85:
		n = 3
	case k >= 50:
		n = 2
	}
	b1 := pickBank(r)
	b2 := b1
	if r.IntN(100) < 45 {
		b2 = pickBank(r)
	}
	for j := 0; j < n; j++ {
		b := b1
		if j > 0 && r.IntN(2) == 0 {
			b = b2
		}
		issued := -30 - r.IntN(5*365)
		c := newCard(w.ids.pan(r, b), w.ids.iban(r, b), b, idx, issued)
		if r.IntN(25) == 0 {
			// An older card on the same account, replaced on reissue.
			old := newCard(w.ids.pan(r, b), c.iban, b, idx, issued)
			old.issued = issued - 3*365 - r.IntN(365)
			old.status = pick(r, []string{"expired", "blocked", "reissued"})
			w.cards = append(w.cards, old)
		}
		ps.cards = append(ps.cards, len(w.cards))
		w.cards = append(w.cards, c)
	}
}

// Exchange names. The curated ones come first; more are composed when the
// scale asks for more exchanges.
var (
	unlicNames = []string{"ТенгеОбмен24", "KZT-Crypto", "Aqsha P2P", "КриптоДала", "BaiCoin Exchange",
		"Nomad Swap", "АлтынОбмен", "Steppe USDT", "QazCoin P2P", "Тез Айырбас", "Жылдам Крипто",
		"Bitkaz Obmen", "Tenge2USDT", "ОбменникАлматы", "Astana Change", "Шымкент Крипто",
		"USDT Kassa", "Ақша Алмасу", "CryptoTenge Pro", "Сарыарқа Коин"}
	unlicPre = []string{"Тенге", "Крипто", "Qazaq", "Aqsha", "Dala", "Nomad", "Tulpar", "Алтын", "Bit", "Coin"}
	unlicSuf = []string{"Обмен", " P2P", "Swap", " Exchange", "Change", "24", " USDT", "Pay"}
	licNames = []string{"Qazaq Digital Exchange Ltd", "AIFC Crypto Hub Ltd", "Silk Road Digital Ltd",
		"Astana Asset Exchange Ltd", "Eurasia DAX Ltd", "Tengri Digital Markets Ltd", "Baiterek Crypto Ltd",
		"Khan Tengri DATF Ltd", "Altyn Orda Digital Ltd", "Steppe Digital Assets Ltd"}
	tlds = []string{".kz", ".kz", ".com", ".net", ".io", ".pro"}
)

// domainOf makes a host name from an exchange name.
func domainOf(name string) string {
	b := make([]byte, 0, len(name))
	for _, c := range []byte(translit(name)) {
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	return string(b)
}

func (w *world) buildExchanges(r *rand.Rand) {
	nLic := max(3, w.p.exchanges/8)
	var names []string
	seen := map[string]bool{}
	names = append(names, unlicNames...)
	for _, n := range unlicNames {
		seen[n] = true
	}
	for i := 0; len(names) < w.p.exchanges-nLic; i++ {
		n := unlicPre[i%len(unlicPre)] + unlicSuf[(i/len(unlicPre)+i)%len(unlicSuf)]
		if i >= len(unlicPre)*len(unlicSuf) {
			n += itoa(i / (len(unlicPre) * len(unlicSuf)))
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	names = names[:w.p.exchanges-nLic]
	isLic := make([]bool, w.p.exchanges)
	for _, i := range r.Perm(w.p.exchanges)[:nLic] {
		isLic[i] = true
	}
	li, ui := 0, 0
	for i := 0; i < w.p.exchanges; i++ {
		e := exchange{id: "EX-" + pad4(i+1), operatedBy: -1}
		if isLic[i] {
			e.name = licNames[li%len(licNames)]
			if li >= len(licNames) {
				e.name += " " + itoa(li/len(licNames)+1)
			}
			e.domain = domainOf(e.name) + ".com"
			// Licence numbers are unique by construction: 5 numbers apart.
			e.licence = "AFSA-A-LA-" + itoa(2021+r.IntN(4)) + "-" + pad4(li*5+1+r.IntN(5))
			e.status = "active"
			li++
			w.lic = append(w.lic, i)
		} else {
			e.name = names[ui]
			ui++
			e.domain = domainOf(e.name) + pick(r, tlds)
			switch k := r.IntN(10); {
			case k < 3:
				e.status = "closed_by_afm"
			case k < 4:
				e.status = "blocked"
			default:
				e.status = "active"
			}
			w.unlic = append(w.unlic, i)
		}
		w.exch = append(w.exch, e)
	}
}
