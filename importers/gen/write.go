package gen

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Headers of the canonical files (docs/FORMATS.md). persons.csv carries one
// extra column, residency, which the importers keep as a property.
var (
	headPersons     = []string{"iin", "name", "birth_date", "phone", "address", "residency"}
	headCards       = []string{"pan", "holder_iin", "bank", "iban", "issued", "status"}
	headExchanges   = []string{"exchange_id", "name", "domain", "afsa_licence", "status"}
	headGroups      = []string{"group_id", "name", "case_ref"}
	headMemberships = []string{"group_id", "member", "role"}
	headTxns        = []string{"tx_id", "time", "from", "to", "amount", "currency", "channel", "atm_id",
		"device_id", "ip", "iin_provided", "app_confirmed", "reference"}
)

// writer streams the world into dir.
type writer struct {
	w        *world
	dir      string
	ctx      context.Context
	progress func(done, total int64)
	scale    Scale
	done     int64
	total    int64
	sum      Summary
}

func (o *writer) tick(n int) {
	o.done += int64(n)
	if o.progress != nil {
		o.progress(o.done, o.total)
	}
}

// csvFile is one output file being written.
type csvFile struct {
	f    *os.File
	buf  *bufio.Writer
	csv  *csv.Writer
	path string
}

func (o *writer) create(name string, header []string) (*csvFile, error) {
	path := filepath.Join(o.dir, name)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	cf := &csvFile{f: f, buf: buf, csv: csv.NewWriter(buf), path: path}
	if err := cf.csv.Write(header); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s header: %w", name, err)
	}
	o.sum.Files = append(o.sum.Files, path)
	return cf, nil
}

func (cf *csvFile) close() error {
	cf.csv.Flush()
	err := cf.csv.Error()
	if err == nil {
		err = cf.buf.Flush()
	}
	if cerr := cf.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(cf.path), err)
	}
	return nil
}

// writeFile writes one CSV file whose rows come from rows, which calls emit
// once per row.
func (o *writer) writeFile(name string, header []string, rows func(emit func(...string) error) error) (int, error) {
	cf, err := o.create(name, header)
	if err != nil {
		return 0, err
	}
	n := 0
	err = rows(func(rec ...string) error {
		n++
		if n%65536 == 0 {
			if err := o.ctx.Err(); err != nil {
				return err
			}
		}
		return cf.csv.Write(rec)
	})
	if err != nil {
		cf.f.Close()
		return n, fmt.Errorf("write %s: %w", name, err)
	}
	if err := cf.close(); err != nil {
		return n, err
	}
	o.tick(n)
	return n, o.ctx.Err()
}

func (o *writer) run(planted []txn) (Summary, error) {
	w := o.w
	pay := w.payroll()
	salaries := 0
	for d := 0; d < w.p.days; d++ {
		salaries += len(w.paid(d, &pay))
	}
	counts := w.budget(max(w.p.txns-len(planted)-salaries, 20*w.p.days))
	slices.SortStableFunc(planted, func(a, b txn) int { return cmp.Compare(a.at, b.at) })

	memberships := 0
	for _, g := range w.groups {
		memberships += 1 + len(g.couriers) + len(g.droppers) + len(g.operates)
	}
	nTxns := len(planted) + salaries
	for _, c := range counts {
		nTxns += c
	}
	o.total = int64(len(w.people) + len(w.cards) + len(w.exch) + len(w.groups) + memberships + nTxns)

	// Persons are written in a shuffled order so that file position says
	// nothing about who is planted.
	order := rand.New(rand.NewPCG(uint64(w.seed), streamShuf)).Perm(len(w.people))
	var err error
	o.sum.Persons, err = o.writeFile(filePersons, headPersons, func(emit func(...string) error) error {
		for _, i := range order {
			ps := w.people[i]
			res := "resident"
			if !ps.resident {
				res = "non_resident"
			}
			if err := emit(ps.iin, ps.name, ps.birth.String(), ps.phoneText, ps.address, res); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return o.sum, err
	}

	accounts := len(w.emps) + len(w.shops)
	o.sum.Cards, err = o.writeFile(fileCards, headCards, func(emit func(...string) error) error {
		// Cards are written holder by holder, in the persons' order. An
		// account shared by a reissued card is counted once.
		byHolder := make([][]int, len(w.people))
		for i, c := range w.cards {
			byHolder[c.holder] = append(byHolder[c.holder], i)
		}
		for _, pi := range order {
			lastIBAN := ""
			for _, ci := range byHolder[pi] {
				c := w.cards[ci]
				if c.iban != lastIBAN {
					accounts++
				}
				lastIBAN = c.iban
				if err := emit(c.pan, w.people[c.holder].iin, banks[c.bank].name, c.iban,
					w.start.add(c.issued).String(), c.status); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return o.sum, err
	}
	o.sum.Accounts = accounts

	o.sum.Exchanges, err = o.writeFile(fileExchanges, headExchanges, func(emit func(...string) error) error {
		for _, e := range w.exch {
			if err := emit(e.id, e.name, e.domain, e.licence, e.status); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return o.sum, err
	}

	o.sum.Groups, err = o.writeFile(fileGroups, headGroups, func(emit func(...string) error) error {
		for _, g := range w.groups {
			if err := emit(g.id, g.name, g.caseRef); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return o.sum, err
	}

	_, err = o.writeFile(fileMemberships, headMemberships, func(emit func(...string) error) error {
		for _, g := range w.groups {
			if err := emit(g.id, w.people[g.organiser].iin, "organiser"); err != nil {
				return err
			}
			for _, c := range g.couriers {
				if err := emit(g.id, w.people[c].iin, "courier"); err != nil {
					return err
				}
			}
			for _, d := range g.droppers {
				if err := emit(g.id, w.people[d].iin, "dropper"); err != nil {
					return err
				}
			}
			for _, e := range g.operates {
				if err := emit(g.id, w.exch[e].id, ""); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return o.sum, err
	}

	if err := o.writeTxns(planted, counts, &pay); err != nil {
		return o.sum, err
	}
	o.sum.Planted = len(planted)

	if err := o.writeTruth(); err != nil {
		return o.sum, err
	}
	return o.sum, nil
}

// writeTxns streams transactions.csv day by day: each day's planted and
// background rows are merged in time order, then numbered.
func (o *writer) writeTxns(planted []txn, counts []int, pay *[5][]int) error {
	w := o.w
	cf, err := o.create(fileTxns, headTxns)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		cf.f.Close()
		return fmt.Errorf("write %s: %w", fileTxns, err)
	}
	rec := make([]string, len(headTxns))
	id := make([]byte, 0, 16)
	ts := make([]byte, 0, 32)
	next := 0
	var dayTxns []txn
	var idx []int32
	for d := 0; d < w.p.days; d++ {
		if err := o.ctx.Err(); err != nil {
			return fail(err)
		}
		dayTxns = dayTxns[:0]
		for next < len(planted) && planted[next].at < int64(d+1)*day {
			dayTxns = append(dayTxns, planted[next])
			next++
		}
		dayTxns = append(dayTxns, w.backgroundDay(d, counts[d], w.paid(d, pay))...)
		// Sort indices, not the wide rows; stable, so equal times keep
		// their generation order.
		idx = idx[:0]
		for i := range dayTxns {
			idx = append(idx, int32(i))
		}
		slices.SortStableFunc(idx, func(a, b int32) int { return cmp.Compare(dayTxns[a].at, dayTxns[b].at) })
		date := appendDate(make([]byte, 0, 11), w.start.add(d))
		date = append(date, ' ')
		for _, i := range idx {
			t := &dayTxns[i]
			o.sum.Transactions++
			id = append(id[:0], 'T')
			id = appendPadded(id, o.sum.Transactions, 8)
			sec := int(t.at - int64(d)*day)
			ts = append(ts[:0], date...)
			ts = append2(ts, sec/3600)
			ts = append(ts, ':')
			ts = append2(ts, sec/60%60)
			ts = append(ts, ':')
			ts = append2(ts, sec%60)
			rec[0] = string(id)
			rec[1] = string(ts)
			rec[2] = t.from
			rec[3] = t.to
			rec[4] = money(t.amount)
			rec[5] = "KZT"
			rec[6] = channelText[t.channel]
			rec[7] = t.atm
			rec[8] = t.device
			rec[9] = t.ip
			rec[10] = t.iin
			rec[11] = t.app
			rec[12] = t.ref
			if err := cf.csv.Write(rec); err != nil {
				return fail(err)
			}
		}
		o.tick(len(dayTxns))
	}
	if next != len(planted) {
		cf.f.Close()
		return fmt.Errorf("write %s: %d planted transactions fall after the last day", fileTxns, len(planted)-next)
	}
	return cf.close()
}

// appendPadded appends n in decimal, zero-padded to width.
func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// money renders tiyn as KZT: "495000" or "495000.50".
func money(tiyn int64) string {
	whole := strconv.FormatInt(tiyn/100, 10)
	if c := tiyn % 100; c != 0 {
		return whole + "." + string([]byte{byte('0' + c/10), byte('0' + c%10)})
	}
	return whole
}

// Ground truth, as written to ground_truth.json.
type truth struct {
	Seed      int64        `json:"seed"`
	Scale     Scale        `json:"scale"`
	Start     string       `json:"start"`
	Days      int          `json:"days"`
	Groups    []truthGroup `json:"groups"`
	MuleCards []string     `json:"mule_cards"`
}

type truthGroup struct {
	GroupID    string   `json:"group_id"`
	Name       string   `json:"name"`
	CaseRef    string   `json:"case_ref"`
	Typologies []string `json:"typologies"`
	Organiser  string   `json:"organiser"`
	Members    []string `json:"members"`
	Cards      []string `json:"cards"`
	Exchanges  []string `json:"exchanges"`
	ATMs       []string `json:"atms"`
	Devices    []string `json:"devices"`
	IPs        []string `json:"ips"`
	Phones     []string `json:"phones"`
	Wallet     string   `json:"wallet"`
}

func (o *writer) writeTruth() error {
	w := o.w
	t := truth{Seed: w.seed, Scale: o.scale, Start: w.start.String(), Days: w.p.days,
		Groups: []truthGroup{}, MuleCards: []string{}}
	for _, g := range w.groups {
		tg := truthGroup{GroupID: g.id, Name: g.name, CaseRef: g.caseRef, Typologies: g.typologies,
			Organiser: w.people[g.organiser].iin, Exchanges: []string{}, ATMs: []string{}, Wallet: g.wallet}
		members := append(append([]int{g.organiser}, g.couriers...), g.droppers...)
		for _, m := range members {
			tg.Members = append(tg.Members, w.people[m].iin)
			for _, c := range w.people[m].cards {
				tg.Cards = append(tg.Cards, w.cards[c].pan)
			}
		}
		for _, c := range g.cards {
			t.MuleCards = append(t.MuleCards, w.cards[c].pan)
		}
		for _, e := range g.exchanges {
			tg.Exchanges = append(tg.Exchanges, w.exch[e].id)
		}
		for _, a := range g.atms {
			tg.ATMs = append(tg.ATMs, w.atms[a].id)
		}
		tg.Devices = slices.Clone(g.devices)
		tg.IPs = slices.Clone(g.ips)
		tg.Phones = slices.Clone(g.phones)
		for _, s := range [][]string{tg.Members, tg.Cards, tg.Exchanges, tg.ATMs, tg.Devices, tg.IPs, tg.Phones} {
			slices.Sort(s)
		}
		t.Groups = append(t.Groups, tg)
	}
	slices.Sort(t.MuleCards)
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", fileTruth, err)
	}
	path := filepath.Join(o.dir, fileTruth)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", fileTruth, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", fileTruth, err)
	}
	o.sum.Files = append(o.sum.Files, path)
	return nil
}
