package decoy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"casegraph/importers"
)

// rng wraps one seeded PCG stream with the draws the world needs.
type rng struct{ *rand.Rand }

func newRNG(seed int64, stream uint64) rng {
	return rng{rand.New(rand.NewPCG(uint64(seed)^0x9e3779b97f4a7c15, stream*0x2545f4914f6cdd1d+0xdec0))}
}

// between draws an int in [a, b].
func (r rng) between(a, b int) int {
	if b <= a {
		return a
	}
	return a + r.IntN(b-a+1)
}

// uniform draws a float in [a, b).
func (r rng) uniform(a, b float64) float64 { return a + (b-a)*r.Float64() }

func (r rng) chance(p float64) bool { return r.Float64() < p }

// lognormal draws around median with log-spread sigma.
func (r rng) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// poisson draws a Poisson count (Knuth; lambda is small here).
func (r rng) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func pick[T any](r rng, xs []T) T { return xs[r.IntN(len(xs))] }

// weighted draws an index by weight.
func (r rng) weighted(ws []float64) int {
	t := 0.0
	for _, w := range ws {
		t += w
	}
	x := r.Float64() * t
	for i, w := range ws {
		if x < w {
			return i
		}
		x -= w
	}
	return len(ws) - 1
}

// tenge converts a KZT amount to tiyn, rounded to step tenge (step 0 keeps
// tiyn).
func tenge(v float64, step int64) int64 {
	if v < 1 {
		v = 1
	}
	if step <= 0 {
		return int64(math.Round(v * 100))
	}
	n := int64(math.Round(v/float64(step))) * step
	if n < step {
		n = step
	}
	return n * 100
}

// issuer is one bank. IBAN codes are the NBK codes of DOMAIN §1.2; the BINs
// are invented for this world (no authoritative list exists, DOMAIN §1.3)
// and deliberately differ from the demo generator's.
type issuer struct {
	name  string
	code  string
	bins  []string
	share float64
	style byte // IBAN account part: 'L' letter+12 digits, 'C' letter+9 digits+KZT, 'D' 13 digits
	lead  byte
}

var issuers = []issuer{
	{"Kaspi Bank", "722", []string{"440043", "415891", "526170"}, 46, 'L', 'S'},
	{"Halyk Bank", "601", []string{"440564", "535912", "409716"}, 21, 'D', 0},
	{"ForteBank", "965", []string{"402817", "541299"}, 7, 'C', 'F'},
	{"Bank CenterCredit", "856", []string{"405655", "549812"}, 7, 'D', 0},
	{"Freedom Bank Kazakhstan", "551", []string{"427231", "518846"}, 7, 'C', 'A'},
	{"Alatau City Bank", "998", []string{"419530", "522109"}, 3, 'L', 'C'},
	{"Bereke Bank", "914", []string{"416915", "533701"}, 3, 'D', 0},
	{"Eurasian Bank", "948", []string{"422745", "557301"}, 2, 'L', 'E'},
	{"Home Credit Bank", "886", []string{"446690", "549233"}, 2, 'D', 0},
	{"RBK Bank", "821", []string{"417893", "526199"}, 1, 'C', 'R'},
	{"Nurbank", "849", []string{"413210", "530077"}, 1, 'D', 0},
}

func (r rng) bank() int {
	ws := make([]float64, len(issuers))
	for i, b := range issuers {
		ws[i] = b.share
	}
	return r.weighted(ws)
}

// otherBanks draws n distinct banks, at least one of them not in have.
func (r rng) distinctBanks(n int) []int {
	n = min(n, len(issuers))
	perm := r.Perm(len(issuers))
	// Large banks first more often: Kaspi and Halyk are in most wallets.
	out := []int{}
	if r.chance(0.8) {
		out = append(out, 0)
	}
	if r.chance(0.6) {
		out = append(out, 1)
	}
	for _, b := range perm {
		if len(out) >= n {
			break
		}
		dup := false
		for _, x := range out {
			dup = dup || x == b
		}
		if !dup {
			out = append(out, b)
		}
	}
	return out[:n]
}

// idSet keeps drawn identifiers unique. Only membership is consulted.
type idSet map[string]struct{}

func (s idSet) claim(v string) bool {
	if _, ok := s[v]; ok {
		return false
	}
	s[v] = struct{}{}
	return true
}

func numStr(r rng, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// iin: YYMMDD, century/sex digit, 4-digit serial, check digit.
func (s idSet) iin(r rng, y, m, d int, male bool) string {
	c := 3
	if y >= 2000 {
		c = 5
	}
	if !male {
		c++
	}
	head := fmt.Sprintf("%02d%02d%02d%d", y%100, m, d, c)
	for {
		first := head + numStr(r, 4)
		cd, ok := importers.IINCheckDigit(first)
		if !ok {
			continue
		}
		v := first + strconv.Itoa(cd)
		if s.claim(v) {
			return v
		}
	}
}

func (s idSet) pan(r rng, b int) string {
	for {
		p := pick(r, issuers[b].bins) + numStr(r, 9)
		v := p + strconv.Itoa(importers.LuhnCheckDigit(p))
		if s.claim(v) {
			return v
		}
	}
}

func (s idSet) iban(r rng, b int) string {
	bk := issuers[b]
	for {
		var acct string
		switch bk.style {
		case 'L':
			acct = string(bk.lead) + numStr(r, 12)
		case 'C':
			acct = string(bk.lead) + numStr(r, 9) + "KZT"
		default:
			acct = numStr(r, 13)
		}
		bban := bk.code + acct
		v := "KZ" + importers.IBANCheckDigits("KZ", bban) + bban
		if s.claim(v) {
			return v
		}
	}
}

var kzOperators = []string{"700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"}
var foreignOperators = []string{"903", "916", "926", "985"} // Russian numbers some non-residents keep

func (s idSet) phone(r rng, foreign bool) string {
	ops := kzOperators
	if foreign {
		ops = foreignOperators
	}
	for {
		v := "+7" + pick(r, ops) + numStr(r, 7)
		if s.claim(v) {
			return v
		}
	}
}

// phoneAsTyped renders an E.164 number the way bank exports show it.
func phoneAsTyped(r rng, e string) string {
	n := e[2:]
	switch r.IntN(10) {
	case 0, 1, 2, 3, 4:
		return e
	case 5, 6:
		return "8" + n
	case 7:
		return "8 (" + n[:3] + ") " + n[3:6] + "-" + n[6:8] + "-" + n[8:]
	default:
		return "+7 " + n[:3] + " " + n[3:6] + " " + n[6:]
	}
}

const hexLower = "0123456789abcdef"

// device draws an app-installation identifier in the UUID shape mobile
// banking back ends log.
func (s idSet) device(r rng) string {
	for {
		b := make([]byte, 36)
		for i := range b {
			switch i {
			case 8, 13, 18, 23:
				b[i] = '-'
			default:
				b[i] = hexLower[r.IntN(16)]
			}
		}
		if s.claim(string(b)) {
			return string(b)
		}
	}
}

// Address blocks: fixed broadband, mobile carriers, and hosting/VPN exits.
var (
	homeNets   = []string{"95.59", "178.91", "2.72", "92.47", "188.0", "37.150", "82.200", "213.211"}
	mobileNets = []string{"37.99", "5.76", "5.251", "46.34", "89.218", "176.64", "147.30"}
	vpnNets    = []string{"185.107", "45.142", "193.29", "77.83", "104.244"}
)

func (s idSet) ip(r rng, nets []string) string {
	for {
		v := pick(r, nets) + "." + strconv.Itoa(r.between(1, 254)) + "." + strconv.Itoa(r.between(1, 254))
		if s.claim(v) {
			return v
		}
	}
}

const b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func (s idSet) wallet(r rng) string {
	for {
		b := []byte{'T'}
		for len(b) < 34 {
			b = append(b, b58[r.IntN(len(b58))])
		}
		if s.claim(string(b)) {
			return "TRON:" + string(b)
		}
	}
}
