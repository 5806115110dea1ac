// Package gen writes a seeded, deterministic demo world in the canonical CSV
// formats of docs/FORMATS.md: Kazakh-flavoured background activity (salaries,
// shopping, transfers, ATM use, licensed crypto trades) with planted criminal
// groups of nominee card holders ("droppers") whose money moves in the
// typologies of DOMAIN §2 and trips the red-flag rules of DOMAIN §4. A
// ground_truth.json lists the planted groups so that detectors can be scored.
//
// The same seed and scale always give byte-identical files (on one CPU
// architecture: amounts come from math.Exp, whose last bit may differ across
// architectures). Transactions are streamed one day at a time, so the large
// scale (10M rows) never sits in memory.
//
// ground_truth.json holds {seed, scale, start, days, groups, mule_cards}.
// Each group has group_id, name, case_ref, typologies, organiser, members
// (IINs), cards (PANs of all members), exchanges (ids the group pays into or
// runs), atms (terminals of its cash-outs and top-ups), devices, ips, phones
// (shared identifiers) and wallet. mule_cards are the droppers' cards. All
// lists are sorted. Typologies and the rules of DOMAIN §4 they target:
// fan_in_cash_out (R1, R9), pass_through (R2), structured_topups (R3),
// multi_bank_cards (R4), shared_identifiers (R5), atm_run (R6),
// unlicensed_exchange (R10, R11), layering_chain (R13). Fresh dropper cards
// also trip R7.
package gen

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// Scale selects the size of the generated world.
type Scale string

// Scales.
const (
	ScaleSmall  Scale = "small"  // ≈20k persons, 300k transactions: imports in seconds
	ScaleMedium Scale = "medium" // ≈100k persons, 2M transactions
	ScaleLarge  Scale = "large"  // ≈1M entities, 10M transactions
	ScaleXLarge Scale = "xlarge" // ≈3M entities, 30M transactions: how cost grows (docs/PERFORMANCE.md)
	scaleTiny   Scale = "tiny"   // tests only
)

// ParseScale parses "small", "medium", "large" or "xlarge" (any case).
func ParseScale(s string) (Scale, error) {
	switch sc := Scale(strings.ToLower(strings.TrimSpace(s))); sc {
	case ScaleSmall, ScaleMedium, ScaleLarge, ScaleXLarge:
		return sc, nil
	}
	return "", fmt.Errorf("unknown scale %q (want small, medium, large or xlarge)", s)
}

// Config chooses the world.
type Config struct {
	Seed  int64
	Scale Scale // empty means small
	// Start is the first day of activity; only its calendar date (in its own
	// location) is used, and all times are written as Almaty local time. The
	// zero value means 2025-01-01.
	Start time.Time
}

// Summary reports what Generate wrote.
type Summary struct {
	Files        []string // paths of the files written, in write order
	Persons      int      // rows of persons.csv
	Cards        int      // rows of cards.csv
	Accounts     int      // distinct IBANs: card accounts plus employer and shop accounts
	Exchanges    int      // rows of exchanges.csv
	Groups       int      // rows of groups.csv (all planted)
	Transactions int      // rows of transactions.csv
	Planted      int      // transactions belonging to planted criminal activity
}

// params sizes a world.
type params struct {
	persons     int // background persons
	txns        int // transaction rows, background and planted
	groups      int
	exchanges   int
	days        int
	atms        int
	employers   int
	shops       int
	maxDroppers int // 0 = the usual 5–30
}

func paramsFor(s Scale) (params, error) {
	var p params
	switch s {
	case scaleTiny:
		p = params{persons: 300, txns: 3000, groups: 3, exchanges: 12, days: 21, maxDroppers: 6}
	case ScaleSmall, "":
		p = params{persons: 20000, txns: 300000, groups: 15, exchanges: 40, days: 90}
	case ScaleMedium:
		p = params{persons: 100000, txns: 2000000, groups: 60, exchanges: 60, days: 120}
	case ScaleLarge:
		p = params{persons: 120000, txns: 10000000, groups: 300, exchanges: 120, days: 180}
	case ScaleXLarge:
		// Three large demos side by side: three times the persons, groups,
		// exchanges and transactions over the same 180 days.
		p = params{persons: 360000, txns: 30000000, groups: 900, exchanges: 360, days: 180}
	default:
		return p, fmt.Errorf("unknown scale %q (want small, medium, large or xlarge)", s)
	}
	p.atms = p.persons/40 + 20
	p.employers = p.persons/60 + 5
	p.shops = p.persons/40 + 25
	return p, nil
}

// Random streams: each phase draws from its own PCG stream of the seed, so a
// change in one phase never shifts another.
const (
	streamWorld  = 1
	streamPlant  = 2
	streamShuf   = 3
	streamBudget = 4
	streamDay    = 1 << 20 // + day index
)

// Names of the files Generate writes, in order.
const (
	filePersons     = "persons.csv"
	fileCards       = "cards.csv"
	fileExchanges   = "exchanges.csv"
	fileGroups      = "groups.csv"
	fileMemberships = "memberships.csv"
	fileTxns        = "transactions.csv"
	// The answer key lives apart from the inputs, so that importing the
	// data directory never reads it.
	fileTruth = "truth/ground_truth.json"
)

// Generate writes the demo world into dir (created if missing): persons.csv,
// cards.csv, exchanges.csv, groups.csv, memberships.csv, transactions.csv
// and truth/ground_truth.json. progress, if not nil, is called with rows written so
// far out of the exact total. On cancellation it returns ctx's error; files
// already written are left in place.
func Generate(ctx context.Context, dir string, cfg Config, progress func(done, total int64)) (Summary, error) {
	p, err := paramsFor(cfg.Scale)
	if err != nil {
		return Summary{}, err
	}
	scale := cfg.Scale
	if scale == "" {
		scale = ScaleSmall
	}
	start := civil{2025, 1, 1}
	if !cfg.Start.IsZero() {
		start = civilOf(cfg.Start)
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, fmt.Errorf("generate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("generate: %w", err)
	}
	w := buildWorld(cfg.Seed, p, start)
	planted := w.plant()
	w.ids = nil // the uniqueness sets are the bulk of the world's memory
	if err := ctx.Err(); err != nil {
		return Summary{}, fmt.Errorf("generate: %w", err)
	}
	out := &writer{w: w, dir: dir, ctx: ctx, progress: progress, scale: scale}
	return out.run(planted)
}
