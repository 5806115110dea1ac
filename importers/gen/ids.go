package gen

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"casegraph/importers"
)

// bank is an issuer. The IBAN codes are the NBK codes of DOMAIN §1.2.
//
// The BINs are invented: no authoritative public list of Kazakh issuer BINs
// exists (DOMAIN §1.3), so these are plausible Visa (4…) and Mastercard (5…)
// prefixes chosen for the demo. Only 440043 has weak public evidence (a Kaspi
// Gold sample number). Nothing downstream may treat them as real issuer data.
type bank struct {
	name   string
	code   string // 3-digit IBAN bank code
	bins   []string
	weight int    // share of cards issued, in percent
	acct   string // account-part style: "S" = letter + 12 digits, "A" = letter + 9 digits + KZT, "" = 13 digits
	letter byte
}

var banks = []bank{
	{"Kaspi Bank", "722", []string{"440043", "400303", "517792"}, 42, "S", 'S'},
	{"Halyk Bank", "601", []string{"440563", "539545", "405866"}, 22, "", 0},
	{"ForteBank", "965", []string{"404932", "548893"}, 7, "A", 'F'},
	{"Bank CenterCredit", "856", []string{"405654", "544214"}, 7, "", 0},
	{"Freedom Bank Kazakhstan", "551", []string{"427229", "516949"}, 6, "A", 'A'},
	{"Alatau City Bank", "998", []string{"419525", "520306"}, 4, "S", 'C'},
	{"Bereke Bank", "914", []string{"416912", "532476"}, 4, "", 0},
	{"Eurasian Bank", "948", []string{"422722", "557061"}, 3, "S", 'E'},
	{"Home Credit Bank", "886", []string{"446672", "549219"}, 3, "", 0},
	{"RBK Bank", "821", []string{"417891", "526148"}, 2, "A", 'R'},
}

// pickBank draws a bank by card-market share.
func pickBank(r *rand.Rand) int {
	n := r.IntN(100)
	for i, b := range banks {
		if n < b.weight {
			return i
		}
		n -= b.weight
	}
	return 0
}

// ids draws unique identifiers. The set is consulted only for membership,
// never iterated, so it cannot leak map order into the output.
type ids struct {
	used map[string]struct{}
}

func newIDs() *ids { return &ids{used: make(map[string]struct{}, 1<<16)} }

func (x *ids) claim(s string) bool {
	if _, ok := x.used[s]; ok {
		return false
	}
	x.used[s] = struct{}{}
	return true
}

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// iin draws a unique IIN: birth date YYMMDD, the century/sex digit, a serial
// and the check digit. Serials whose check digit is undefined ("never
// issued", DOMAIN §1.1) are skipped.
func (x *ids) iin(r *rand.Rand, birth civil, male bool) string {
	c := 3
	if birth.y >= 2000 {
		c = 5
	}
	if !male {
		c++
	}
	head := fmt.Sprintf("%02d%02d%02d%d", birth.y%100, birth.m, birth.d, c)
	for {
		first11 := head + digits(r, 4)
		cd, ok := importers.IINCheckDigit(first11)
		if !ok {
			continue
		}
		s := first11 + strconv.Itoa(cd)
		if x.claim(s) {
			return s
		}
	}
}

// pan draws a unique 16-digit Luhn-valid card number of the bank.
func (x *ids) pan(r *rand.Rand, b int) string {
	for {
		partial := pick(r, banks[b].bins) + digits(r, 9)
		s := partial + strconv.Itoa(importers.LuhnCheckDigit(partial))
		if x.claim(s) {
			return s
		}
	}
}

// iban draws a unique Kazakh IBAN at the bank: KZ, check digits, the 3-digit
// bank code and a 13-character account part in the bank's style.
func (x *ids) iban(r *rand.Rand, b int) string {
	bk := banks[b]
	for {
		var acct string
		switch bk.acct {
		case "S":
			acct = string(bk.letter) + digits(r, 12)
		case "A":
			acct = string(bk.letter) + digits(r, 9) + "KZT"
		default:
			acct = digits(r, 13)
		}
		bban := bk.code + acct
		s := "KZ" + importers.IBANCheckDigits("KZ", bban) + bban
		if x.claim(s) {
			return s
		}
	}
}

// Mobile prefixes of Kazakh operators (libphonenumber KZ metadata, DOMAIN §1.4).
var kzMobile = []string{"700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"}

// Russian mobile prefixes, for some non-resident droppers.
var ruMobile = []string{"903", "905", "916", "926", "977", "999"}

// phone draws a unique E.164 number.
func (x *ids) phone(r *rand.Rand, russian bool) string {
	prefixes := kzMobile
	if russian {
		prefixes = ruMobile
	}
	for {
		s := "+7" + pick(r, prefixes) + digits(r, 7)
		if x.claim(s) {
			return s
		}
	}
}

// phoneText writes an E.164 number (+7XXXXXXXXXX) in one of the forms seen in
// real exports, so that the importers' normalisation is exercised.
func phoneText(r *rand.Rand, e164 string) string {
	n := e164[2:] // 10 digits
	switch k := r.IntN(20); {
	case k < 12:
		return e164
	case k < 15:
		return "8 (" + n[:3] + ") " + n[3:6] + "-" + n[6:8] + "-" + n[8:]
	case k < 17:
		return "8" + n
	case k < 19:
		return "+7 " + n[:3] + " " + n[3:6] + " " + n[6:]
	default:
		return "+7 (" + n[:3] + ") " + n[3:6] + " " + n[6:8] + " " + n[8:]
	}
}

const hexDigits = "0123456789ABCDEF"

// device draws a unique device identifier such as DEV-9F3A41C2.
func (x *ids) device(r *rand.Rand) string {
	for {
		b := []byte("DEV-00000000")
		for i := 4; i < len(b); i++ {
			b[i] = hexDigits[r.IntN(16)]
		}
		if x.claim(string(b)) {
			return string(b)
		}
	}
}

// Address blocks of Kazakh mobile and fixed operators (plausible, for the
// demo) and of VPN/hosting providers used by the planted groups.
var (
	kzNets  = []string{"2.132", "2.133", "2.134", "37.150", "37.151", "95.56", "95.57", "178.88", "178.89", "89.218", "92.46", "176.64"}
	vpnNets = []string{"185.220", "45.137", "193.36", "91.132", "146.70"}
)

// ip draws a unique IPv4 address from the given blocks.
func (x *ids) ip(r *rand.Rand, nets []string) string {
	for {
		s := pick(r, nets) + "." + strconv.Itoa(1+r.IntN(254)) + "." + strconv.Itoa(1+r.IntN(254))
		if x.claim(s) {
			return s
		}
	}
}

// base58 is the Bitcoin/TRON alphabet.
const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// tronWallet draws a TRON-looking address (T + 33 base58 characters). Its
// checksum is not computed: the formats only require CHAIN:address.
func (x *ids) tronWallet(r *rand.Rand) string {
	for {
		b := make([]byte, 34)
		b[0] = 'T'
		for i := 1; i < len(b); i++ {
			b[i] = base58[r.IntN(len(base58))]
		}
		if x.claim(string(b)) {
			return "TRON:" + string(b)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
