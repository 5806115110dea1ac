package decoy

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"casegraph/graph"
)

// File names, as in docs/FORMATS.md.
const (
	FilePersons     = "persons.csv"
	FileCards       = "cards.csv"
	FileExchanges   = "exchanges.csv"
	FileGroups      = "groups.csv"
	FileMemberships = "memberships.csv"
	FileTxns        = "transactions.csv"
	FileTruth       = "truth/ground_truth.json"
)

type csvOut struct {
	f   *os.File
	b   *bufio.Writer
	c   *csv.Writer
	n   int
	err error
}

func createCSV(path string, header ...string) (*csvOut, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	o := &csvOut{f: f, b: bufio.NewWriterSize(f, 1<<20)}
	o.c = csv.NewWriter(o.b)
	o.err = o.c.Write(header)
	return o, nil
}

func (o *csvOut) row(rec ...string) {
	if o.err == nil {
		o.err = o.c.Write(rec)
		o.n++
	}
}

func (o *csvOut) close() error {
	o.c.Flush()
	err := o.err
	if err == nil {
		err = o.c.Error()
	}
	if err == nil {
		err = o.b.Flush()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// amountText renders tiyn in the world's currency.
func (w *world) amountText(tiyn int64) string {
	if w.currency == "USD" {
		cents := (tiyn + KZTPerUSD/2) / KZTPerUSD
		cents = max(cents, 1)
		return centsText(cents)
	}
	return centsText(tiyn)
}

func centsText(v int64) string {
	s := strconv.FormatInt(v/100, 10)
	if c := v % 100; c != 0 {
		s += "." + strconv.Itoa(int(c/10)) + strconv.Itoa(int(c%10))
	}
	return s
}

func dateText(d int) string { return startDay.AddDate(0, 0, d).Format("2006-01-02") }

func (w *world) write(ctx context.Context, dir string) (Summary, error) {
	sum := Summary{Currency: w.currency, Groups: len(w.groups)}
	r := newRNG(w.seed, streamWrite)
	order := r.Perm(len(w.people))
	path := func(name string) string {
		p := filepath.Join(dir, name)
		sum.Files = append(sum.Files, p)
		return p
	}
	fail := func(name string, err error) (Summary, error) {
		return sum, fmt.Errorf("decoy world: write %s: %w", name, err)
	}

	o, err := createCSV(path(FilePersons), "iin", "name", "birth_date", "phone", "address", "residency")
	if err != nil {
		return fail(FilePersons, err)
	}
	for _, i := range order {
		p := w.people[i]
		res := "resident"
		if !p.resident {
			res = "non_resident"
		}
		o.row(p.iin, p.name, p.birth.Format("2006-01-02"), p.phoneText, p.address, res)
	}
	sum.Persons = o.n
	if err := o.close(); err != nil {
		return fail(FilePersons, err)
	}

	if o, err = createCSV(path(FileCards), "pan", "holder_iin", "bank", "iban", "issued", "status"); err != nil {
		return fail(FileCards, err)
	}
	for _, i := range order {
		for _, c := range w.people[i].cards {
			cd := w.cards[c]
			o.row(cd.pan, w.people[i].iin, issuers[cd.bank].name, cd.iban, dateText(cd.issued), cd.status)
		}
	}
	sum.Cards = o.n
	if err := o.close(); err != nil {
		return fail(FileCards, err)
	}

	if o, err = createCSV(path(FileExchanges), "exchange_id", "name", "domain", "afsa_licence", "status"); err != nil {
		return fail(FileExchanges, err)
	}
	for _, e := range w.exch {
		o.row(e.id, e.name, e.domain, e.licence, e.status)
	}
	sum.Exchanges = o.n
	if err := o.close(); err != nil {
		return fail(FileExchanges, err)
	}

	// Known cases: part of each known group's people, as an investigation
	// would have them.
	if o, err = createCSV(path(FileGroups), "group_id", "name", "case_ref"); err != nil {
		return fail(FileGroups, err)
	}
	m, err := createCSV(path(FileMemberships), "group_id", "member", "role")
	if err != nil {
		return fail(FileMemberships, err)
	}
	for _, g := range w.groups {
		if !g.known {
			continue
		}
		o.row(g.id, g.name, g.caseRef)
		if r.chance(0.6) {
			m.row(g.id, w.people[g.organiser].iin, "organiser")
		}
		for _, c := range g.couriers {
			if r.chance(0.5) {
				m.row(g.id, w.people[c].iin, "courier")
			}
		}
		share := r.uniform(0.2, 0.5)
		for _, d := range g.droppers {
			if r.chance(share) {
				m.row(g.id, w.people[d].iin, "dropper")
			}
		}
		for _, e := range g.exchanges {
			if !w.exch[e].licensed && r.chance(0.5) {
				m.row(g.id, w.exch[e].id, "")
			}
		}
	}
	sum.KnownGroups = o.n
	if err := o.close(); err != nil {
		return fail(FileGroups, err)
	}
	if err := m.close(); err != nil {
		return fail(FileMemberships, err)
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}

	slices.SortStableFunc(w.txns, func(a, b txn) int { return cmp.Compare(a.at, b.at) })
	if o, err = createCSV(path(FileTxns), "tx_id", "time", "from", "to", "amount", "currency", "channel", "atm_id",
		"device_id", "ip", "iin_provided", "app_confirmed", "reference"); err != nil {
		return fail(FileTxns, err)
	}
	base := startDay.Unix()
	for i, t := range w.txns {
		ts := unixText(base + t.at)
		o.row("TX"+strconv.Itoa(25000000+i*3+r.IntN(3)), ts, t.from, t.to, w.amountText(t.amount), w.currency, t.channel,
			t.atm, t.device, t.ip, t.iin, t.app, t.ref)
	}
	sum.Transactions = o.n
	if err := o.close(); err != nil {
		return fail(FileTxns, err)
	}

	tr := w.truth()
	sum.MuleCards = len(tr.MuleCards)
	sum.Decoys = len(tr.Decoys)
	for _, g := range w.groups {
		sum.Droppers += len(g.droppers)
	}
	for _, d := range tr.Decoys {
		sum.DecoyCards += len(d.Cards)
	}
	b, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		return fail(FileTruth, err)
	}
	tp := path(FileTruth)
	if err := os.MkdirAll(filepath.Dir(tp), 0o755); err != nil {
		return fail(FileTruth, err)
	}
	if err := os.WriteFile(tp, append(b, '\n'), 0o644); err != nil {
		return fail(FileTruth, err)
	}
	return sum, nil
}

// unixText writes seconds as "YYYY-MM-DD HH:MM:SS" (the UTC fields of a
// local-time clock, so no zone conversion happens here).
func unixText(sec int64) string { return time.Unix(sec, 0).UTC().Format("2006-01-02 15:04:05") }

// truth is ground_truth.json in graph.GroundTruth's layout, with the
// decoy-world fields filled.
func (w *world) truth() graph.GroundTruth {
	tr := graph.GroundTruth{World: "decoys", Seed: w.seed, Scale: "decoys", Currency: w.currency, Start: dateText(0), Days: numDays,
		Persons: len(w.people), Groups: []graph.TruthGroup{}, MuleCards: []string{}, Decoys: []graph.TruthDecoy{}}
	pans := func(p int) []string {
		var out []string
		for _, c := range w.people[p].cards {
			out = append(out, w.cards[c].pan)
		}
		return out
	}
	for _, g := range w.groups {
		tg := graph.TruthGroup{GroupID: g.id, Name: g.name, CaseRef: g.caseRef, Known: g.known, Typologies: slices.Clone(g.typ),
			Organiser: w.people[g.organiser].iin, Couriers: []string{}, Exchanges: []string{}, ATMs: []string{}, DormantMuleCards: []string{},
			Devices: append([]string{}, g.devices...), IPs: append([]string{}, g.ips...), Phones: append([]string{}, g.phones...), Wallet: g.wallet}
		tg.OrganiserCards = pans(g.organiser)
		people := append(append([]int{g.organiser}, g.couriers...), g.droppers...)
		for _, p := range people {
			tg.Members = append(tg.Members, w.people[p].iin)
			tg.Cards = append(tg.Cards, pans(p)...)
		}
		for _, c := range g.couriers {
			tg.Couriers = append(tg.Couriers, w.people[c].iin)
		}
		for _, c := range g.mules {
			tg.GroupMuleCards = append(tg.GroupMuleCards, w.cards[c].pan)
			if g.sleepy[c] {
				tg.DormantMuleCards = append(tg.DormantMuleCards, w.cards[c].pan)
			}
		}
		tr.MuleCards = append(tr.MuleCards, tg.GroupMuleCards...)
		for _, e := range g.exchanges {
			tg.Exchanges = append(tg.Exchanges, w.exch[e].id)
		}
		for _, a := range uniq(g.atms) {
			tg.ATMs = append(tg.ATMs, w.atms[a].id)
		}
		for _, s := range [][]string{tg.OrganiserCards, tg.Couriers, tg.Members, tg.Cards, tg.GroupMuleCards, tg.DormantMuleCards,
			tg.Exchanges, tg.ATMs, tg.Devices, tg.IPs, tg.Phones} {
			slices.Sort(s)
		}
		tr.Groups = append(tr.Groups, tg)
	}
	slices.Sort(tr.MuleCards)
	for _, u := range w.units {
		for _, p := range u.members {
			cs := pans(p)
			slices.Sort(cs)
			tr.Decoys = append(tr.Decoys, graph.TruthDecoy{Type: u.typ, Unit: u.id, IIN: w.people[p].iin, Cards: cs})
		}
	}
	slices.SortFunc(tr.Decoys, func(a, b graph.TruthDecoy) int {
		return cmp.Or(cmp.Compare(slices.Index(DecoyTypes, a.Type), slices.Index(DecoyTypes, b.Type)), cmp.Compare(a.IIN, b.IIN))
	})
	return tr
}
