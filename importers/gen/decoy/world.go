package decoy

import (
	"fmt"
	"strconv"
	"time"
)

// Roles a person can play. Everyone not in a dropper group or a decoy unit
// is background.
const (
	roleBackground = iota
	roleOrganiser
	roleCourier
	roleDropper
	roleDecoy
)

type person struct {
	iin, name, phone, phoneText, address string
	birth                                time.Time
	male, resident                       bool
	city                                 int
	cards                                []int
	device, mobileIP, homeIP             string
	role                                 int
	decoy                                string // decoy type, roleDecoy only
	unit                                 string // decoy unit or group id
	employer                             int    // index in w.orgs, -1 none
	salary                               float64
	night                                bool    // works nights
	homeDev                              string  // a shared home/office device, if any
	sharedIP                             string  // a shared home/office IP, if any
	sharedUse                            float64 // share of app operations from the shared device/IP
	office                               int     // office org whose PC and IP the person uses on workdays, -1 none
	school                               int     // university paying a stipend, -1 none
	intensity                            float64 // activity level of everyday life
	vpnIPs                               []string
	vpnUse                               float64 // share of app operations through the VPN
	contacts                             []int
}

type card struct {
	pan, iban string
	bank      int
	holder    int
	issued    int // day offset from the start; negative = before
	status    string
}

// org is an account-holding organisation: employer, merchant, utility,
// university, supplier.
type org struct {
	name, iban string
	kind       string
	city       int
	device, ip string
}

type exchange struct {
	id, name, domain, licence, status string
	licensed                          bool
}

type atm struct {
	id   string
	city int
}

type txn struct {
	at                             int64 // seconds since the first day's local midnight
	from, to                       string
	amount                         int64 // tiyn
	channel                        string
	atm, device, ip, iin, app, ref string
}

type world struct {
	seed     int64
	n        int
	currency string
	ids      idSet
	people   []person
	cards    []card
	orgs     []org
	exch     []exchange
	atms     []atm
	byCity   [][]int // background persons per city
	cityATMs [][]int
	groups   []*group
	units    []*unit
	txns     []txn
	nextTx   int
	// orgs by kind
	employers, merchants, utilities, suppliers, universities []int
	pensionFund, telecom                                     int
}

var startDay = time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)

const (
	numDays = 61 // 1 March – 30 April 2025
	daySec  = 86400
)

func (w *world) add(t txn) {
	if t.at < 0 || t.at >= numDays*daySec || t.amount <= 0 {
		return
	}
	w.txns = append(w.txns, t)
}

func cardRef(w *world, c int) string { return "card:" + w.cards[c].pan }

// Hour weights of card activity in Almaty local time.
var (
	dayHours     = []float64{0.6, 0.3, 0.15, 0.1, 0.1, 0.3, 1.2, 3, 5, 6, 7, 7.5, 8.5, 8, 7, 7, 7.5, 8.5, 9.5, 9.5, 8, 6, 3.5, 1.6}
	nightHours   = []float64{6, 6, 5.5, 5, 4.5, 3.5, 2.5, 3, 3.5, 2, 1, 0.8, 0.8, 1, 1, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 5.5}
	eveningHours = []float64{1.5, 0.8, 0.3, 0.1, 0.1, 0.1, 0.3, 1, 2, 3, 4, 5, 6, 6, 5, 5, 5.5, 6.5, 8, 9, 9.5, 9, 7, 4}
	workHours    = []float64{0, 0, 0, 0, 0, 0, 0, 0.2, 1.5, 4, 5, 5, 4.5, 5, 5, 5, 4.5, 4, 2, 0.5, 0, 0, 0, 0}
)

// clock draws a second of day d from hour weights.
func clock(r rng, d int, hours []float64) int64 {
	h := r.weighted(hours)
	return int64(d)*daySec + int64(h)*3600 + int64(r.IntN(3600))
}

func weekday(d int) time.Weekday { return startDay.AddDate(0, 0, d).Weekday() }

func (w *world) newPerson(r rng, minAge, maxAge int, residentP float64) int {
	p := person{employer: -1, office: -1, school: -1, intensity: 1}
	p.male = r.chance(0.5)
	p.resident = r.chance(residentP)
	age := r.between(minAge, maxAge)
	p.birth = time.Date(2025-age, time.Month(r.between(1, 12)), r.between(1, 28), 0, 0, 0, 0, time.UTC)
	p.iin = w.ids.iin(r, p.birth.Year(), int(p.birth.Month()), p.birth.Day(), p.male)
	p.name = fullName(r, p.male, p.resident)
	ws := make([]float64, len(cities))
	for i, c := range cities {
		ws[i] = c.share
	}
	p.city = r.weighted(ws)
	if r.chance(0.93) {
		p.phone = w.ids.phone(r, !p.resident && r.chance(0.4))
		p.phoneText = phoneAsTyped(r, p.phone)
	}
	if r.chance(0.85) {
		p.address = w.address(r, p.city)
	}
	p.device = w.ids.device(r)
	p.mobileIP = w.ids.ip(r, mobileNets)
	p.homeIP = w.ids.ip(r, homeNets)
	w.people = append(w.people, p)
	return len(w.people) - 1
}

func (w *world) address(r rng, c int) string {
	s := cities[c].name + ", " + pick(r, streets) + " " + strconv.Itoa(r.between(1, 240))
	if r.chance(0.7) {
		s += ", кв " + strconv.Itoa(r.between(1, 180))
	}
	return s
}

func (w *world) age(p int) int { return 2025 - w.people[p].birth.Year() }

// addCard issues a card of bank b to holder p, issued on day offset issued.
func (w *world) addCard(r rng, p, b, issued int, iban string) int {
	if iban == "" {
		iban = w.ids.iban(r, b)
	}
	status := "active"
	if issued < -900 && len(w.people[p].cards) > 0 && r.chance(0.1) { // an old card next to a newer one
		status = "expired"
	}
	w.cards = append(w.cards, card{pan: w.ids.pan(r, b), iban: iban, bank: b, holder: p, issued: issued, status: status})
	c := len(w.cards) - 1
	w.people[p].cards = append(w.people[p].cards, c)
	return c
}

// ordinaryCards gives a person the wallet an ordinary customer has: mostly
// one or two banks, now and then three.
func (w *world) ordinaryCards(r rng, p int) {
	n := 1
	switch x := r.Float64(); {
	case x < 0.04:
		n = 3
	case x < 0.38:
		n = 2
	}
	for _, b := range r.distinctBanks(n) {
		w.addCard(r, p, b, -r.between(20, 2200), "")
	}
	if r.chance(0.08) { // a second card on the same account (virtual or reissued)
		c := w.cards[w.people[p].cards[0]]
		w.addCard(r, p, c.bank, -r.between(1, 400), c.iban)
	}
}

func (w *world) newOrg(r rng, kind string, c int) int {
	o := org{name: orgName(r), iban: w.ids.iban(r, r.bank()), kind: kind, city: c}
	o.device = w.ids.device(r)
	o.ip = w.ids.ip(r, homeNets)
	w.orgs = append(w.orgs, o)
	return len(w.orgs) - 1
}

var merchantNames = []string{"Magnum Cash&Carry", "Small", "Technodom", "Sulpak", "Glovo", "Wolt", "Arbuz.kz", "Yandex Go",
	"Chocofamily", "Kaspi Магазин", "Air Astana", "Мечта Маркет", "Europharma", "Biosfera", "Gloria Jeans", "LC Waikiki",
	"Dodo Pizza", "Coffee Boom", "Salem Social", "Qazaq Oil", "Helios", "Sinooil", "Beeline", "Kcell", "Tele2", "Kinopark"}

var utilityNames = []string{"ТОО «Алматы Су»", "АО «Алсеко»", "АО «Казахтелеком»", "ТОО «Астана-ЕРЦ»", "АО «АлЭС»", "ТОО «Шымкент Водоканал»"}

func (w *world) buildInfra(r rng) {
	for i := 0; i < w.n/80+10; i++ {
		w.employers = append(w.employers, w.newOrg(r, "employer", r.IntN(len(cities))))
	}
	for i := 0; i < w.n/30+20; i++ {
		m := w.newOrg(r, "merchant", r.IntN(len(cities)))
		if i < len(merchantNames) {
			w.orgs[m].name = merchantNames[i]
		} else {
			w.orgs[m].name = "ИП «" + pick(r, orgWords) + " " + pick(r, []string{"Маркет", "Кафе", "Аптека", "Азс", "Салон", "Дүкен"}) + "»"
		}
		w.merchants = append(w.merchants, m)
	}
	for _, u := range utilityNames {
		i := w.newOrg(r, "utility", 0)
		w.orgs[i].name = u
		w.utilities = append(w.utilities, i)
	}
	for i := 0; i < w.n/200+8; i++ {
		w.suppliers = append(w.suppliers, w.newOrg(r, "supplier", r.IntN(len(cities))))
	}
	for _, u := range []string{"КазНУ им. аль-Фараби", "ЕНУ им. Гумилёва", "КБТУ", "Satbayev University"} {
		i := w.newOrg(r, "university", 0)
		w.orgs[i].name = u
		w.universities = append(w.universities, i)
	}
	w.pensionFund = w.newOrg(r, "pension", 0)
	w.orgs[w.pensionFund].name = "НАО «Государственная корпорация „Правительство для граждан“»"
	w.telecom = w.newOrg(r, "telecom", 0)

	w.cityATMs = make([][]int, len(cities))
	bankPrefix := []string{"KSP", "HSB", "FRT", "BCC", "FRD", "ACB", "BRK", "EUB", "HCB", "RBK", "NUR"}
	for c := range cities {
		k := int(float64(w.n)/60*cities[c].share/100) + 6
		for i := 0; i < k; i++ {
			b := r.bank()
			id := bankPrefix[b] + cities[c].code + fmt.Sprintf("%04d", r.IntN(10000))
			if !w.ids.claim("atm:" + id) {
				i--
				continue
			}
			w.atms = append(w.atms, atm{id: id, city: c})
			w.cityATMs[c] = append(w.cityATMs[c], len(w.atms)-1)
		}
	}

	licensed := []string{"Tengri Digital Exchange", "Astana Crypto Hub", "Qazaq Digital Assets", "Caspian Coin", "Nomad DAX", "Silk Road Digital", "Baiterek Crypto", "Eurasia Digital Trade"}
	unlicensed := []string{"ОбменКрипто24", "USDT-Тенге Экспресс", "Быстрый Обмен KZ", "CryptoKZ P2P", "ТеңгеСвап", "FastSwap Almaty", "Крипто-Касса", "Алатау Обмен", "Bitkassa", "Darkhan Exchange"}
	id := 0
	for _, nm := range licensed {
		id++
		w.exch = append(w.exch, exchange{id: fmt.Sprintf("VASP-%03d", id*7+r.IntN(7)), name: nm, domain: domainFor(nm, "kz"),
			licence: fmt.Sprintf("AFSA-A-LA-%d-%04d", r.between(2021, 2024), r.IntN(10000)), status: "active", licensed: true})
	}
	for _, nm := range unlicensed {
		id++
		st := "active"
		if r.chance(0.4) {
			st = "closed_by_afm"
		}
		w.exch = append(w.exch, exchange{id: fmt.Sprintf("VASP-%03d", id*7+r.IntN(7)), name: nm, domain: domainFor(nm, pick(r, []string{"com", "io", "net", "kz"})), status: st})
	}
	// Interleave licensed and unlicensed in the file order.
	r.Shuffle(len(w.exch), func(i, j int) { w.exch[i], w.exch[j] = w.exch[j], w.exch[i] })
}

var latin = map[rune]string{'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ж': "zh", 'з': "z", 'и': "i", 'й': "i",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh",
	'ц': "ts", 'ч': "ch", 'ш': "sh", 'ы': "y", 'э': "e", 'ю': "yu", 'я': "ya", 'ң': "n", 'ә': "a", 'і': "i", 'ғ': "g",
	'қ': "k", 'ө': "o", 'ұ': "u", 'ү': "u", 'һ': "h"}

func domainFor(name, tld string) string {
	var b []byte
	for _, c := range []rune(name) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b = append(b, byte(c))
		case c >= 'A' && c <= 'Z':
			b = append(b, byte(c-'A'+'a'))
		case c >= 'А' && c <= 'я' || c > 0x400:
			lc := c
			if c >= 'А' && c <= 'Я' {
				lc = c + 32
			}
			if c == 'Ә' || c == 'Қ' || c == 'Ң' || c == 'Ғ' || c == 'Ө' || c == 'Ұ' || c == 'Ү' || c == 'І' {
				lc = c + 1
			}
			b = append(b, latin[lc]...)
		}
	}
	return string(b) + "." + tld
}

func (w *world) unlicensedExchanges() []int {
	var out []int
	for i, e := range w.exch {
		if !e.licensed {
			out = append(out, i)
		}
	}
	return out
}

func (w *world) licensedExchanges() []int {
	var out []int
	for i, e := range w.exch {
		if e.licensed {
			out = append(out, i)
		}
	}
	return out
}

// nearATM draws an ATM of the person's city (now and then elsewhere).
func (w *world) nearATM(r rng, city int) int {
	if r.chance(0.05) {
		city = r.IntN(len(cities))
	}
	return pick(r, w.cityATMs[city])
}
