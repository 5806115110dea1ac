package gen

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"casegraph/importers"
)

// tx is a parsed transaction row for the pattern checks.
type tx struct {
	at             int64 // unix seconds
	hour           int   // local hour
	from, to       string
	amount         int64 // tiyn
	channel        string
	atm, device    string
	iin, app, text string
}

// fixture is a generated tiny world, parsed.
type fixture struct {
	tr       truth
	txns     []tx
	out, in  map[string][]int // card ref → transaction indices
	holder   map[string]string
	bank     map[string]string
	licence  map[string]string // exchange ref → AFSA licence
	roles    map[string]string // group/iin → role
	hasPhone map[string][]string
}

func loadFixture(t *testing.T, seed int64) *fixture {
	t.Helper()
	dir, _ := generateTiny(t, seed)
	return loadFixtureDir(t, dir)
}

func loadFixtureDir(t *testing.T, dir string) *fixture {
	t.Helper()
	fx := &fixture{tr: readTruth(t, dir), out: map[string][]int{}, in: map[string][]int{}, holder: map[string]string{},
		bank: map[string]string{}, licence: map[string]string{}, roles: map[string]string{}, hasPhone: map[string][]string{}}
	h, rows := readCSV(t, dir, fileCards)
	for _, r := range rows {
		ref := "card:" + r[slices.Index(h, "pan")]
		fx.holder[ref] = r[slices.Index(h, "holder_iin")]
		fx.bank[ref] = r[slices.Index(h, "bank")]
	}
	h, rows = readCSV(t, dir, fileExchanges)
	for _, r := range rows {
		fx.licence["exchange:"+r[slices.Index(h, "exchange_id")]] = r[slices.Index(h, "afsa_licence")]
	}
	h, rows = readCSV(t, dir, fileMemberships)
	for _, r := range rows {
		fx.roles[r[0]+"/"+r[slices.Index(h, "member")]] = r[slices.Index(h, "role")]
	}
	h, rows = readCSV(t, dir, filePersons)
	for _, r := range rows {
		if p := r[slices.Index(h, "phone")]; p != "" {
			e, err := importers.NormalizePhone(p)
			if err != nil {
				t.Fatal(err)
			}
			fx.hasPhone[e] = append(fx.hasPhone[e], r[0])
		}
	}
	h, rows = readCSV(t, dir, fileTxns)
	loc := importers.Almaty()
	col := func(r []string, name string) string { return r[slices.Index(h, name)] }
	for _, r := range rows {
		at, err := importers.ParseTime(col(r, "time"), loc)
		if err != nil {
			t.Fatal(err)
		}
		amt, err := importers.ParseAmount(col(r, "amount"))
		if err != nil {
			t.Fatal(err)
		}
		x := tx{at: at.Unix(), hour: at.In(loc).Hour(), from: col(r, "from"), to: col(r, "to"), amount: amt,
			channel: col(r, "channel"), atm: col(r, "atm_id"), device: col(r, "device_id"),
			iin: col(r, "iin_provided"), app: col(r, "app_confirmed"), text: col(r, "reference")}
		fx.out[x.from] = append(fx.out[x.from], len(fx.txns))
		fx.in[x.to] = append(fx.in[x.to], len(fx.txns))
		fx.txns = append(fx.txns, x)
	}
	return fx
}

func (fx *fixture) groupCards(g truthGroup) []string {
	var cs []string
	for _, c := range g.Cards {
		cs = append(cs, "card:"+c)
	}
	return cs
}

// fanIn: a card credited by ≥10 distinct senders within 24 h, ≥80% of which
// leaves by ATM at night within 24 h of the first of those credits (R1, R9).
func (fx *fixture) fanIn(g truthGroup) bool {
	for _, c := range fx.groupCards(g) {
		in := fx.in[c]
		for i := range in {
			first := fx.txns[in[i]]
			senders := map[string]bool{}
			var sum int64
			for _, j := range in[i:] {
				if x := fx.txns[j]; x.at-first.at <= 24*3600 && x.channel == "transfer" {
					senders[x.from] = true
					sum += x.amount
				}
			}
			if len(senders) < 10 {
				continue
			}
			var cash int64
			for _, j := range fx.out[c] {
				if x := fx.txns[j]; x.channel == "cash_out" && x.at >= first.at && x.at-first.at <= 24*3600 && x.hour < 6 {
					cash += x.amount
				}
			}
			if cash*10 >= sum*8 {
				return true
			}
		}
	}
	return false
}

// passThrough: ≥1M KZT in, ≥90% out within 2 h (R2).
func (fx *fixture) passThrough(g truthGroup) bool {
	for _, c := range fx.groupCards(g) {
		for _, i := range fx.in[c] {
			first := fx.txns[i]
			var in, out int64
			for _, j := range fx.in[c] {
				if x := fx.txns[j]; x.at >= first.at && x.at-first.at <= 3600 {
					in += x.amount
				}
			}
			for _, j := range fx.out[c] {
				if x := fx.txns[j]; x.at >= first.at && x.at-first.at <= 2*3600 {
					out += x.amount
				}
			}
			if in >= 1000000*100 && out*10 >= in*9 {
				return true
			}
		}
	}
	return false
}

// structuring: ≥3 top-ups in [450,000; 500,000) KZT within 7 days to the
// cards of one holder, none with the sender's IIN or app confirmation (R3).
func (fx *fixture) structuring(g truthGroup) bool {
	byHolder := map[string][]int64{}
	for _, c := range fx.groupCards(g) {
		for _, i := range fx.in[c] {
			x := fx.txns[i]
			if x.channel == "topup" && x.amount >= 45000000 && x.amount < 50000000 && x.app == "no" && len(x.iin) != 12 {
				byHolder[fx.holder[c]] = append(byHolder[fx.holder[c]], x.at)
			}
		}
	}
	for _, ts := range byHolder {
		slices.Sort(ts)
		for i := 2; i < len(ts); i++ {
			if ts[i]-ts[i-2] <= 7*24*3600 {
				return true
			}
		}
	}
	return false
}

var p2pPattern = regexp.MustCompile(`(?i)usdt|p2p|binance|bybit|ордер`)

// exchange: trades from group cards into an exchange without an AFSA
// licence, with P2P-looking references (R10, R11).
func (fx *fixture) exchange(g truthGroup) bool {
	for _, c := range fx.groupCards(g) {
		for _, i := range fx.out[c] {
			x := fx.txns[i]
			if x.channel == "trade" && strings.HasPrefix(x.to, "exchange:") && fx.licence[x.to] == "" &&
				p2pPattern.MatchString(x.text) && slices.Contains(g.Exchanges, strings.TrimPrefix(x.to, "exchange:")) {
				return true
			}
		}
	}
	return false
}

// layering: card → card → card → card, each dwell ≤6 h and each hop losing
// at most 10% (R13).
func (fx *fixture) layering(g truthGroup) bool {
	var hop func(card string, after, amount int64, depth int) bool
	hop = func(card string, after, amount int64, depth int) bool {
		if depth == 3 {
			return true
		}
		for _, i := range fx.out[card] {
			x := fx.txns[i]
			if x.channel == "transfer" && strings.HasPrefix(x.to, "card:") && x.at > after && x.at-after <= 6*3600 &&
				x.amount <= amount && x.amount*10 >= amount*9 && hop(x.to, x.at, x.amount, depth+1) {
				return true
			}
		}
		return false
	}
	for _, c := range fx.groupCards(g) {
		for _, i := range fx.in[c] {
			if x := fx.txns[i]; hop(c, x.at, x.amount, 0) {
				return true
			}
		}
	}
	return false
}

// atmRun: cards of ≥3 distinct holders cashed out at one ATM within 60 min (R6).
func (fx *fixture) atmRun(g truthGroup) bool {
	byATM := map[string][]tx{}
	for _, c := range fx.groupCards(g) {
		for _, i := range fx.out[c] {
			if x := fx.txns[i]; x.channel == "cash_out" {
				byATM[x.atm] = append(byATM[x.atm], x)
			}
		}
	}
	for _, xs := range byATM {
		for _, a := range xs {
			holders := map[string]bool{}
			for _, b := range xs {
				if b.at >= a.at && b.at-a.at <= 3600 {
					holders[fx.holder[b.from]] = true
				}
			}
			if len(holders) >= 3 {
				return true
			}
		}
	}
	return false
}

// multiBank: every dropper holds cards in at least three banks (R4).
func (fx *fixture) multiBank(g truthGroup) bool {
	banksOf := map[string]map[string]bool{}
	for _, c := range fx.groupCards(g) {
		h := fx.holder[c]
		if banksOf[h] == nil {
			banksOf[h] = map[string]bool{}
		}
		banksOf[h][fx.bank[c]] = true
	}
	droppers := 0
	for _, m := range g.Members {
		if fx.roles[g.GroupID+"/"+m] == "dropper" {
			droppers++
			if len(banksOf[m]) < 3 {
				return false
			}
		}
	}
	return droppers >= 5
}

// shared: a device used by ≥3 holders, and a phone listed for ≥3 persons or
// a device shared likewise (R5).
func (fx *fixture) shared(g truthGroup) bool {
	users := map[string]map[string]bool{}
	for _, c := range fx.groupCards(g) {
		for _, i := range fx.out[c] {
			if x := fx.txns[i]; x.device != "" {
				if users[x.device] == nil {
					users[x.device] = map[string]bool{}
				}
				users[x.device][fx.holder[c]] = true
			}
		}
	}
	for _, u := range users {
		if len(u) >= 3 {
			return true
		}
	}
	for _, p := range g.Phones {
		if len(fx.hasPhone[p]) >= 3 {
			return true
		}
	}
	return false
}

// Each group shows every typology the ground truth claims for it, in the
// form the red-flag rules of DOMAIN §4 look for.
func TestPlantedTypologies(t *testing.T) {
	checks := map[string]func(*fixture, truthGroup) bool{
		tyFanIn: (*fixture).fanIn, tyPassThrough: (*fixture).passThrough, tyStructuring: (*fixture).structuring,
		tyExchange: (*fixture).exchange, tyLayering: (*fixture).layering, tyATMRun: (*fixture).atmRun,
		tyMultiBank: (*fixture).multiBank, tyShared: (*fixture).shared,
	}
	seen := map[string]bool{}
	for _, seed := range []int64{1, 2, 3} {
		fx := loadFixture(t, seed)
		for _, g := range fx.tr.Groups {
			for _, ty := range g.Typologies {
				check, ok := checks[ty]
				if !ok {
					t.Errorf("seed %d group %s: unknown typology %q", seed, g.GroupID, ty)
					continue
				}
				seen[ty] = true
				if !check(fx, g) {
					t.Errorf("seed %d group %s: typology %s is claimed but not in the data", seed, g.GroupID, ty)
				}
			}
		}
	}
	for ty := range checks {
		if !seen[ty] {
			t.Errorf("typology %s never planted", ty)
		}
	}
}

// Background people stay below the structural rules, so that the planted
// groups stand out: nobody outside a group holds cards in three banks or
// shares a device with two others.
func TestBackgroundStaysClean(t *testing.T) {
	fx := loadFixture(t, 4)
	inGroup := map[string]bool{}
	for _, g := range fx.tr.Groups {
		for _, m := range g.Members {
			inGroup[m] = true
		}
	}
	banksOf := map[string]map[string]bool{}
	for c, h := range fx.holder {
		if inGroup[h] {
			continue
		}
		if banksOf[h] == nil {
			banksOf[h] = map[string]bool{}
		}
		banksOf[h][fx.bank[c]] = true
	}
	for h, b := range banksOf {
		if len(b) >= 3 {
			t.Errorf("background person %s holds cards in %d banks", h, len(b))
		}
	}
	users := map[string]map[string]bool{}
	for _, x := range fx.txns {
		h, ok := fx.holder[x.from]
		if !ok || inGroup[h] || x.device == "" {
			continue
		}
		if users[x.device] == nil {
			users[x.device] = map[string]bool{}
		}
		users[x.device][h] = true
	}
	for d, u := range users {
		if len(u) >= 2 {
			t.Errorf("background device %s used by %d holders", d, len(u))
		}
	}
}
