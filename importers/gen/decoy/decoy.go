// Package decoy writes an independent evaluation world: a Kazakh case of
// about 6,000 persons with ~8 dropper groups hidden among ~600 hard decoys
// (honest people whose everyday behaviour looks like one red flag taken
// alone) and ordinary background customers, in the canonical CSV formats of
// docs/FORMATS.md, with truth/ground_truth.json for `casegraph eval`.
//
// It shares nothing with the demo generator (importers/gen) but the file
// formats: its own world model, name lists, issuer BINs, identifier shapes
// and seeded random streams. It is designed from the typologies of DOMAIN
// §2 and from how bank data looks, not from how the red-flag rules work, so
// that rules tuned on one world can be measured on another.
//
// Every count, amount, time and role is drawn at random: the number of
// groups (≈ persons/750), each group's typology mix (victim fan-in,
// structured cash top-ups just under 500,000 KZT without IIN, a P2P fiat
// leg, ATM cash-out by day or at night, layering chains, unlicensed
// exchanges, shared devices, multi-bank cards; collection on the couriers'
// and organiser's own cards always), its 0–3 couriers and 10–50 droppers,
// and the decoy units (see DecoyTypes).
//
// Times are written without a zone, as Asia/Almaty local time (UTC+5 in the
// period, 1 March – 30 April 2025), which is how the canonical importer
// reads zone-less times. The same seed, size and currency give
// byte-identical files (on one CPU architecture: amounts pass through
// math.Exp).
//
// ground_truth.json is a graph.GroundTruth (seed, scale = "decoys", start,
// days, groups, mule_cards) with its decoy-world fields filled: world,
// currency, persons; per group known, couriers, organiser_cards,
// mule_cards and dormant_mule_cards; and decoys, one entry per decoy person
// {type, unit, iin, cards}, sorted by type then IIN.
package decoy

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// DefaultPersons is the size of the world when Config.Persons is 0.
const DefaultPersons = 6000

// KZTPerUSD is the rate a USD world divides tenge amounts by.
const KZTPerUSD = 470

// Config chooses the world.
type Config struct {
	Seed     int64
	Persons  int    // total persons; 0 means DefaultPersons; at least 1,000
	Currency string // "KZT" (default) or "USD": the same world with amounts ÷ KZTPerUSD
}

// Summary reports what Generate wrote.
type Summary struct {
	Files        []string
	Persons      int
	Cards        int
	Exchanges    int
	Groups       int // dropper groups planted
	KnownGroups  int // rows of groups.csv: groups investigators already have a case on
	Droppers     int
	MuleCards    int
	Decoys       int // decoy persons
	DecoyCards   int
	Transactions int
	Currency     string
}

// Check reports a configuration Generate refuses.
func (c Config) Check() error {
	if c.Persons != 0 && (c.Persons < 1000 || c.Persons > 200000) {
		return fmt.Errorf("decoy world: persons %d out of range (1,000–200,000)", c.Persons)
	}
	if cur := strings.ToUpper(strings.TrimSpace(c.Currency)); cur != "" && cur != "KZT" && cur != "USD" {
		return fmt.Errorf("decoy world: currency %q (want KZT or USD)", c.Currency)
	}
	return nil
}

// Generate builds the world for cfg and writes it into dir (created if
// missing): persons.csv, cards.csv, exchanges.csv, groups.csv,
// memberships.csv, transactions.csv and truth/ground_truth.json.
func Generate(ctx context.Context, dir string, cfg Config) (Summary, error) {
	if err := cfg.Check(); err != nil {
		return Summary{}, err
	}
	if cfg.Persons == 0 {
		cfg.Persons = DefaultPersons
	}
	cur := strings.ToUpper(strings.TrimSpace(cfg.Currency))
	if cur == "" {
		cur = "KZT"
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	w := build(cfg.Seed, cfg.Persons, cur)
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("decoy world: %w", err)
	}
	return w.write(ctx, dir)
}

// Random streams, one per phase.
const (
	streamInfra = iota + 1
	streamGroups
	streamDecoys
	streamBackground
	streamContacts
	streamLife
	streamDecoyLife
	streamGroupLife
	streamWrite
)

func build(seed int64, n int, currency string) *world {
	w := &world{seed: seed, n: n, currency: currency, ids: idSet{}}
	w.buildInfra(newRNG(seed, streamInfra))
	w.buildGroups(newRNG(seed, streamGroups))
	w.buildDecoys(newRNG(seed, streamDecoys))
	r := newRNG(seed, streamBackground)
	for len(w.people) < n {
		p := w.newPerson(r, 18, 80, 0.96)
		if a := w.age(p); a >= 21 && a < 63 {
			w.employ(r, p)
		}
		w.ordinaryCards(r, p)
		w.people[p].intensity = r.lognormal(1, 0.4)
	}
	w.byCity = make([][]int, len(cities))
	for p, ps := range w.people {
		if ps.role == roleBackground {
			w.byCity[ps.city] = append(w.byCity[ps.city], p)
		}
	}
	w.assignContacts(newRNG(seed, streamContacts))
	for _, u := range w.units { // relatives, colleagues and classmates know each other
		if u.typ != decoyFamily && u.typ != decoyOffice && u.typ != decoyStudent {
			continue
		}
		for _, p := range u.members {
			w.people[p].contacts = append(w.people[p].contacts, u.members...)
		}
	}
	lr := newRNG(seed, streamLife)
	for p := range w.people {
		w.everydayLife(lr, p)
	}
	w.decoyActivity(newRNG(seed, streamDecoyLife))
	gr := newRNG(seed, streamGroupLife)
	for _, g := range w.groups {
		w.groupActivity(gr, g)
	}
	return w
}
