package decoy

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"casegraph/graph"
	"casegraph/importers"
)

var files = []string{FilePersons, FileCards, FileExchanges, FileGroups, FileMemberships, FileTxns, FileTruth}

func gen(t *testing.T, cfg Config) (string, Summary) {
	t.Helper()
	dir := t.TempDir()
	sum, err := Generate(context.Background(), dir, cfg)
	if err != nil {
		t.Fatalf("generate %+v: %v", cfg, err)
	}
	return dir, sum
}

// The default-size world is generated once and shared by the tests that
// only read it.
var (
	fullOnce sync.Once
	fullDir  string
	fullSum  Summary
	fullErr  error
)

func full(t *testing.T) (string, Summary) {
	t.Helper()
	fullOnce.Do(func() {
		fullDir, fullErr = os.MkdirTemp("", "decoy-world-")
		if fullErr == nil {
			fullSum, fullErr = Generate(context.Background(), fullDir, Config{Seed: 2026})
		}
	})
	if fullErr != nil {
		t.Fatal(fullErr)
	}
	return fullDir, fullSum
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fullDir != "" {
		os.RemoveAll(fullDir)
	}
	os.Exit(code)
}

func readCSV(t *testing.T, dir, name string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return all[0], all[1:]
}

func col(t *testing.T, h []string, name string) int {
	t.Helper()
	i := slices.Index(h, name)
	if i < 0 {
		t.Fatalf("no column %q in %v", name, h)
	}
	return i
}

func readTruth(t *testing.T, dir string) graph.GroundTruth {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, FileTruth))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := graph.ParseGroundTruth(f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestDeterministic(t *testing.T) {
	a, sa := gen(t, Config{Seed: 5, Persons: 1500})
	b, sb := gen(t, Config{Seed: 5, Persons: 1500})
	c, _ := gen(t, Config{Seed: 6, Persons: 1500})
	if sa.Transactions != sb.Transactions || sa.Decoys != sb.Decoys {
		t.Fatalf("summaries differ: %+v vs %+v", sa, sb)
	}
	for _, name := range files {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		z, _ := os.ReadFile(filepath.Join(c, name))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with seed 5", name)
		}
		if bytes.Equal(x, z) {
			t.Errorf("%s is the same for seeds 5 and 6", name)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, cfg := range []Config{{Persons: 10}, {Currency: "EUR"}} {
		if _, err := Generate(context.Background(), t.TempDir(), cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, t.TempDir(), Config{}); err == nil {
		t.Error("a cancelled context generated a world")
	}
}

type countingSink struct{ entities, links, txns int }

func (s *countingSink) PutEntity(graph.Entity) error { s.entities++; return nil }
func (s *countingSink) PutLink(graph.Link) error     { s.links++; return nil }
func (s *countingSink) PutTxn(graph.Txn) error       { s.txns++; return nil }

func importClean(t *testing.T, dir string, sum Summary) {
	t.Helper()
	want := map[string]int{FilePersons: sum.Persons, FileCards: sum.Cards, FileExchanges: sum.Exchanges,
		FileGroups: sum.KnownGroups, FileTxns: sum.Transactions}
	for _, name := range files[:6] {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var sink countingSink
		rep, err := importers.ImportReader(context.Background(), f, &sink, importers.Options{Name: name, Batch: 1})
		f.Close()
		if err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
		if rep.Rejected != 0 || rep.Skipped != 0 {
			t.Errorf("import %s: %d rejected, %d skipped; first: %+v", name, rep.Rejected, rep.Skipped, rep.Rejects)
		}
		if n, ok := want[name]; ok && rep.Read != n {
			t.Errorf("import %s: read %d rows, summary says %d", name, rep.Read, n)
		}
		if name == FileTxns && sink.txns != sum.Transactions {
			t.Errorf("sink got %d transactions, want %d", sink.txns, sum.Transactions)
		}
	}
}

func TestImportsCleanly(t *testing.T) {
	dir, sum := full(t)
	importClean(t, dir, sum)
}

// The USD world is the KZT world with amounts divided by the rate.
func TestUSDWorld(t *testing.T) {
	k, sk := gen(t, Config{Seed: 8, Persons: 1200})
	u, su := gen(t, Config{Seed: 8, Persons: 1200, Currency: "usd"})
	if su.Currency != "USD" || su.Transactions != sk.Transactions {
		t.Fatalf("usd summary %+v vs kzt %+v", su, sk)
	}
	importClean(t, u, su)
	for _, name := range files[:5] {
		x, _ := os.ReadFile(filepath.Join(k, name))
		y, _ := os.ReadFile(filepath.Join(u, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between the KZT and the USD world", name)
		}
	}
	hk, rk := readCSV(t, k, FileTxns)
	hu, ru := readCSV(t, u, FileTxns)
	ak, au, cu := col(t, hk, "amount"), col(t, hu, "amount"), col(t, hu, "currency")
	for i := range rk {
		if ru[i][cu] != "USD" {
			t.Fatalf("row %d: currency %q", i, ru[i][cu])
		}
		kzt, _ := strconv.ParseFloat(rk[i][ak], 64)
		usd, _ := strconv.ParseFloat(ru[i][au], 64)
		if usd <= 0 || math.Abs(usd-kzt/KZTPerUSD) > 0.006 {
			t.Fatalf("row %d: %s KZT became %s USD", i, rk[i][ak], ru[i][au])
		}
	}
}

// Everything the truth names is in the files, and decoys are not members.
func TestTruthReferences(t *testing.T) {
	dir, sum := full(t)
	tr := readTruth(t, dir)
	if tr.Scale != "decoys" || len(tr.Groups) != sum.Groups || len(tr.MuleCards) != sum.MuleCards || len(tr.Decoys) != sum.Decoys {
		t.Fatalf("truth: scale %q, %d groups, %d mule cards, %d decoys; summary %+v", tr.Scale, len(tr.Groups), len(tr.MuleCards), len(tr.Decoys), sum)
	}
	set := func(name, c string) map[string]bool {
		h, rows := readCSV(t, dir, name)
		i := col(t, h, c)
		m := map[string]bool{}
		for _, r := range rows {
			m[r[i]] = true
		}
		return m
	}
	persons, cards, exch := set(FilePersons, "iin"), set(FileCards, "pan"), set(FileExchanges, "exchange_id")
	h, rows := readCSV(t, dir, FileTxns)
	used := map[string]bool{}
	for _, r := range rows {
		used[r[col(t, h, "from")]] = true
		used[r[col(t, h, "to")]] = true
		used["atm_id:"+r[col(t, h, "atm_id")]] = true
		used["device:"+r[col(t, h, "device_id")]] = true
	}
	member := map[string]bool{}
	for _, g := range tr.Groups {
		if !slices.IsSorted(g.Members) || !slices.IsSorted(g.Cards) {
			t.Errorf("group %s: lists not sorted", g.GroupID)
		}
		for _, m := range g.Members {
			member[m] = true
			if !persons[m] {
				t.Errorf("group %s: member %s not in persons.csv", g.GroupID, m)
			}
		}
		for _, c := range append(slices.Clone(g.Cards), g.OrganiserCards...) {
			if !cards[c] {
				t.Errorf("group %s: card %s not in cards.csv", g.GroupID, c)
			}
		}
		for _, e := range g.Exchanges {
			if !exch[e] {
				t.Errorf("group %s: exchange %s not in exchanges.csv", g.GroupID, e)
			}
		}
		for _, d := range g.Devices {
			if !used["device:"+d] {
				t.Errorf("group %s: device %s never used", g.GroupID, d)
			}
		}
		active := 0
		for _, c := range g.Cards {
			if used["card:"+c] {
				active++
			}
		}
		if active < 5 {
			t.Errorf("group %s: only %d cards transact", g.GroupID, active)
		}
	}
	moving := 0
	for _, c := range tr.MuleCards {
		if !cards[c] {
			t.Errorf("mule card %s not in cards.csv", c)
		}
		if used["card:"+c] {
			moving++
		}
	}
	if moving < len(tr.MuleCards)/2 {
		t.Errorf("only %d of %d mule cards transact", moving, len(tr.MuleCards))
	}
	for _, d := range tr.Decoys {
		if !persons[d.IIN] || member[d.IIN] {
			t.Errorf("decoy %s (%s): in persons.csv %v, group member %v", d.IIN, d.Type, persons[d.IIN], member[d.IIN])
		}
		for _, c := range d.Cards {
			if !cards[c] || slices.Contains(tr.MuleCards, c) {
				t.Errorf("decoy card %s: in cards.csv %v, mule card", c, cards[c])
			}
		}
	}
	// Known groups: groups.csv rows and memberships name truth groups.
	gh, grows := readCSV(t, dir, FileGroups)
	for _, r := range grows {
		if !slices.ContainsFunc(tr.Groups, func(g graph.TruthGroup) bool { return g.GroupID == r[col(t, gh, "group_id")] }) {
			t.Errorf("groups.csv names %v, not a planted group", r)
		}
	}
}

// The shape promised in the package comment, at the default size.
func TestShape(t *testing.T) {
	dir, sum := full(t)
	tr := readTruth(t, dir)
	if sum.Persons != DefaultPersons {
		t.Errorf("%d persons, want %d", sum.Persons, DefaultPersons)
	}
	if sum.Groups < 6 || sum.Groups > 10 || sum.KnownGroups < 2 || sum.KnownGroups > 3 {
		t.Errorf("%d groups, %d known", sum.Groups, sum.KnownGroups)
	}
	typologies := map[string]int{}
	for _, g := range tr.Groups {
		droppers := len(g.Members) - 1 - len(g.Couriers)
		if droppers < 10 || droppers > 50 || len(g.Couriers) > 3 || len(g.OrganiserCards) == 0 {
			t.Errorf("group %s: %d droppers, %d couriers, %d organiser cards", g.GroupID, droppers, len(g.Couriers), len(g.OrganiserCards))
		}
		for _, ty := range g.Typologies {
			typologies[ty]++
		}
	}
	if len(typologies) < 7 {
		t.Errorf("typologies across groups: %v", typologies)
	}
	if sum.Decoys < 500 || sum.Decoys > 800 {
		t.Errorf("%d decoys", sum.Decoys)
	}
	units := map[string]map[string]int{} // type → unit → size
	for _, d := range tr.Decoys {
		if units[d.Type] == nil {
			units[d.Type] = map[string]int{}
		}
		units[d.Type][d.Unit]++
	}
	for _, ty := range DecoyTypes {
		if len(units[ty]) == 0 {
			t.Errorf("no decoys of type %s", ty)
		}
	}
	for u, n := range units[decoyFamily] {
		if n < 3 || n > 6 {
			t.Errorf("family %s has %d persons", u, n)
		}
	}
	for u, n := range units[decoyOffice] {
		if n < 10 || n > 40 {
			t.Errorf("office %s has %d persons", u, n)
		}
	}
	// Every family and office shares a device among at least three card
	// holders; some shop deposits land in 450–500k by chance; one-off
	// buyers trade once.
	decoyOf := map[string]decoyRef{}
	for _, d := range tr.Decoys {
		for _, c := range d.Cards {
			decoyOf["card:"+c] = decoyRef{d.Type, d.Unit, d.IIN}
		}
	}
	h, rows := readCSV(t, dir, FileTxns)
	fromI, toI, devI, chI, amtI := col(t, h, "from"), col(t, h, "to"), col(t, h, "device_id"), col(t, h, "channel"), col(t, h, "amount")
	holders := map[string]map[string]bool{} // device → decoy holders
	band, trades := 0, map[string]int{}
	for _, r := range rows {
		if d, ok := decoyOf[r[fromI]]; ok && r[devI] != "" && (d.typ == decoyFamily || d.typ == decoyOffice) {
			if holders[d.unit+"/"+r[devI]] == nil {
				holders[d.unit+"/"+r[devI]] = map[string]bool{}
			}
			holders[d.unit+"/"+r[devI]][d.iin] = true
		}
		if d, ok := decoyOf[r[toI]]; ok && d.typ == decoyShop && r[chI] == "topup" {
			if a, _ := strconv.ParseFloat(r[amtI], 64); a >= 450000 && a < 500000 {
				band++
			}
		}
		if d, ok := decoyOf[r[fromI]]; ok && d.typ == decoyOneOff && r[chI] == "trade" {
			trades[d.iin]++
		}
	}
	shared := map[string]bool{}
	for k, hs := range holders {
		if len(hs) >= 3 {
			shared[k[:strings.IndexByte(k, '/')]] = true
		}
	}
	for u := range units[decoyFamily] {
		if !shared[u] {
			t.Errorf("family %s: no device shared by 3 holders", u)
		}
	}
	for u := range units[decoyOffice] {
		if !shared[u] {
			t.Errorf("office %s: no device shared by 3 holders", u)
		}
	}
	if band == 0 {
		t.Error("no cash-shop deposit in 450–500k")
	}
	for iin, n := range trades {
		if n != 1 {
			t.Errorf("one-off buyer %s traded %d times", iin, n)
		}
	}
}

type decoyRef struct{ typ, unit, iin string }
