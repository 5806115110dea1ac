package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as text: "24h",
// "90m", and also whole days such as "30d" or "7d".
type Duration time.Duration

// Seconds returns the duration in whole seconds (index times are Unix seconds).
func (d Duration) Seconds() int64 { return int64(time.Duration(d) / time.Second) }

// String renders the duration the way it is read: "30d", "24h", "15m".
func (d Duration) String() string {
	td := time.Duration(d)
	if td > 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	s := td.String()
	s = strings.TrimSuffix(s, "0s")
	s = strings.TrimSuffix(s, "0m")
	if s == "" {
		return "0s"
	}
	return s
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "24h", "30d", "1h30m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"24h\" or \"30d\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration parses a Go duration ("6h", "90m") or whole days ("30d").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("duration %q: want whole days such as \"30d\"", s)
		}
		return Duration(time.Duration(days) * 24 * time.Hour), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q: negative", s)
	}
	return Duration(v), nil
}

// Rule identifiers, in table order (DOMAIN §4).
var RuleIDs = []string{"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
	"R16", "R17", "R18", "R19", "R20", "R21", "R22", "R23"}

// RuleConfig holds every threshold of the red-flag rules R1–R23. Amounts are
// whole tenge (KZT); durations are strings such as "24h" or "30d". The
// defaults are DOMAIN §4's starting points; a JSON file need only name the
// fields it changes (see docs/DETECTION.md).
type RuleConfig struct {
	// FlagThreshold is the risk (0–1) from which an entity counts as flagged.
	FlagThreshold float64 `json:"flag_threshold"`
	// HolderToCard is the share of a holder's risk passed to each card and
	// account they hold; CardToHolder the share of an instrument's risk
	// passed to its holder.
	HolderToCard float64 `json:"holder_to_card"`
	CardToHolder float64 `json:"card_to_holder"`
	// MaxEvidence caps the transactions kept as evidence per hit.
	MaxEvidence int `json:"max_evidence"`
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int `json:"workers"`

	R1  FanInRule       `json:"R1"`
	R2  PassThroughRule `json:"R2"`
	R3  StructuringRule `json:"R3"`
	R4  MultiBankRule   `json:"R4"`
	R5  SharedIDRule    `json:"R5"`
	R6  ATMRunRule      `json:"R6"`
	R7  NewCardRule     `json:"R7"`
	R8  DormantRule     `json:"R8"`
	R9  NightRule       `json:"R9"`
	R10 P2PRule         `json:"R10"`
	R11 UnlicensedRule  `json:"R11"`
	R12 FanOutRule      `json:"R12"`
	R13 LayeringRule    `json:"R13"`
	R14 CycleRule       `json:"R14"`
	R15 RepeatRule      `json:"R15"`
	R23 CollectorRule   `json:"R23"`
	// Money-flow typologies (docs/DETECTION.md "Flow typologies"): no
	// amount threshold in a currency, no cash or exchange exit.
	R16 IdenticalBurstRule `json:"R16"`
	R17 AnyCycleRule       `json:"R17"`
	R18 GatherRule         `json:"R18"`
	R19 ScatterRule        `json:"R19"`
	R20 GatherScatterRule  `json:"R20"`
	R21 ScatterGatherRule  `json:"R21"`
	R22 RelayRule          `json:"R22"`

	// Currencies converts the tenge thresholds (the *_kzt fields) for
	// transactions in other currencies: KZT per unit of each ISO 4217 code.
	// The defaults are approximate mid-2024 rates, not a rate feed: set the
	// rates of the case's period. A currency without a rate (or with rate 0)
	// reads the thresholds relative to its own amounts (RelativeScale).
	Currencies map[string]float64 `json:"currencies"`
	// ReportingThresholds are R3's reporting thresholds in whole units of a
	// currency, where its jurisdiction sets one (USD and EUR 10,000, RUB
	// 600,000). KZT uses R3.threshold_kzt; any other currency, and one set
	// to 0 (a Kazakh bank's dollar accounts), the tenge threshold converted
	// like every other amount.
	ReportingThresholds map[string]float64 `json:"reporting_thresholds"`
	// RelativeScale is how the thresholds read in a currency without a rate.
	RelativeScale RelativeScale `json:"relative_scale"`
}

// RelativeScale sets the tenge value of a currency that has no rate from
// the data themselves: the currency's Quantile transaction amount is read
// as R2.min_in_kzt (1M ₸, the "large transfer" a pass-through starts at),
// and every other threshold is converted at that implied rate. With fewer
// than MinTransactions transactions in the currency no scale is set, and its
// transactions reach no amount threshold.
type RelativeScale struct {
	Quantile        float64 `json:"quantile"`         // 0.99
	MinTransactions int     `json:"min_transactions"` // 100
}

// DefaultCurrencies returns the default KZT-per-unit rates: approximate
// (mid-2024 National Bank of Kazakhstan levels, rounded), for reading
// thresholds, not for accounting.
func DefaultCurrencies() map[string]float64 {
	return map[string]float64{
		"USD": 470, "EUR": 510, "RUB": 5.3, "GBP": 600, "CHF": 530, "CNY": 65, "JPY": 3.1,
		"CZK": 20.5, "PLN": 118, "TRY": 14.5, "UAH": 11.5, "KGS": 5.4, "UZS": 0.037, "AED": 128,
		"INR": 5.6, "CAD": 345, "AUD": 310, "ILS": 127, "MXN": 26, "BRL": 90, "SAR": 125,
	}
}

// DefaultReportingThresholds returns R3's per-currency reporting
// thresholds: the US currency transaction report and the EU cash control
// (10,000), Russia's mandatory control (115-FZ, 600,000 RUB).
func DefaultReportingThresholds() map[string]float64 {
	return map[string]float64{"USD": 10_000, "EUR": 10_000, "RUB": 600_000}
}

// RuleBase is common to every rule: whether it runs, and the risk (0–1) a
// hit contributes before strengthening.
type RuleBase struct {
	Enabled bool    `json:"enabled"`
	Weight  float64 `json:"weight"`
}

// FanInRule is R1: an instrument credited by many distinct senders whose
// money leaves by cash or exchange soon after.
type FanInRule struct {
	RuleBase
	Senders      int      `json:"senders"`        // distinct senders within Window
	Window       Duration `json:"window"`         // 24h
	SendersLong  int      `json:"senders_long"`   // distinct senders within WindowLong
	WindowLong   Duration `json:"window_long"`    // 30d
	CashOutShare float64  `json:"cash_out_share"` // share of the credits that must leave
	Within       Duration `json:"within"`         // after the last credit
	// MinInKZT is the least the senders must pay in for the fan-in to be
	// money worth laundering (tips, fares and small sales are not); half of
	// the Bank of Russia's 16-MR daily sign of 100k RUB (docs/DETECTION.md).
	MinInKZT int64 `json:"min_in_kzt"`
	// SourceShare is the least share of all the money credited from the
	// first credit to the last exit that the senders' transfers make up: a
	// shop that takes card payments and banks its cash takings cashes out
	// its cash, not the fan-in.
	SourceShare float64 `json:"source_share"`
}

// PassThroughRule is R2: money that comes in and goes straight out.
type PassThroughRule struct {
	RuleBase
	MinInKZT    int64    `json:"min_in_kzt"`
	Window      Duration `json:"window"`
	OutShare    float64  `json:"out_share"`    // out ≥ OutShare × in
	MedianDwell Duration `json:"median_dwell"` // or FIFO median dwell ≤ this
}

// StructuringRule is R3: top-ups just below the 500,000 KZT threshold that
// needs the sender's IIN and app confirmation.
type StructuringRule struct {
	RuleBase
	ThresholdKZT int64    `json:"threshold_kzt"` // 500000
	Band         float64  `json:"band"`          // 0.10: credits in [450k; 500k)
	Count        int      `json:"count"`         // ≥3 in Window
	Window       Duration `json:"window"`        // 7d
	PieceWindow  Duration `json:"piece_window"`  // 24h: sub-threshold pieces summing ≥ threshold
	MinPieces    int      `json:"min_pieces"`
}

// MultiBankRule is R4: one holder with cards in many banks.
type MultiBankRule struct {
	RuleBase
	Banks      int `json:"banks"`       // cards in ≥3 banks
	PerBank    int `json:"per_bank"`    // or ≥10 cards in one bank
	TotalCards int `json:"total_cards"` // or ≥20 cards in all
}

// SharedIDRule is R5: a device, IP or phone used by several holders.
type SharedIDRule struct {
	RuleBase
	Holders int `json:"holders"`
}

// ATMRunRule is R6: several holders' cards cashed out at one ATM in a short
// time, or one card at many withdrawals a day.
type ATMRunRule struct {
	RuleBase
	Holders       int      `json:"holders"`
	Window        Duration `json:"window"`
	PerCardPerDay int      `json:"per_card_per_day"`
	NightFactor   float64  `json:"night_factor"` // weight multiplier when the run is at night
}

// NewCardRule is R7: a fresh card that bursts into activity.
type NewCardRule struct {
	RuleBase
	FirstUseWithin Duration `json:"first_use_within"` // after issue
	Burst          Duration `json:"burst"`            // first 7d of activity
	TurnoverKZT    int64    `json:"turnover_kzt"`
	Credits        int      `json:"credits"`
}

// DormantRule is R8: a long silence, then large turnover.
type DormantRule struct {
	RuleBase
	Silence     Duration `json:"silence"`
	Burst       Duration `json:"burst"`
	TurnoverKZT int64    `json:"turnover_kzt"`
}

// NightRule is R9: activity between 00:00 and 06:00 Almaty time.
type NightRule struct {
	RuleBase
	Share    float64  `json:"share"`     // ≥50% of operations
	MinOps   int      `json:"min_ops"`   // only with at least this many operations
	ATMCount int      `json:"atm_count"` // or ≥3 night ATM withdrawals
	Window   Duration `json:"window"`    // 30d
	FromHour int      `json:"from_hour"` // 0
	ToHour   int      `json:"to_hour"`   // 6
}

// P2PRule is R10: card-to-card credits that look like crypto P2P trades.
type P2PRule struct {
	RuleBase
	MatchWindow Duration `json:"match_window"` // exchange trade of the exact amount within ±15m
	MinCredits  int      `json:"min_credits"`
}

// UnlicensedRule is R11: money to or from an exchange without an AFSA
// licence (or not in the register at all).
type UnlicensedRule struct {
	RuleBase
	// UnknownFactor scales the weight when the exchange is only a stub, not
	// in the imported register.
	UnknownFactor float64 `json:"unknown_factor"`
	// RepeatDays is the number of distinct days with unlicensed-exchange
	// transactions from which R11 counts as a typology, not context
	// (0: never).
	RepeatDays int `json:"repeat_days"`
}

// FanOutRule is R12: many recipients with similar amounts.
type FanOutRule struct {
	RuleBase
	Recipients int      `json:"recipients"`
	Window     Duration `json:"window"`
	MaxCV      float64  `json:"max_cv"`
}

// LayeringRule is R13: a time-respecting chain of hops ending in cash or an
// exchange.
type LayeringRule struct {
	RuleBase
	MinHops   int      `json:"min_hops"`
	MaxHops   int      `json:"max_hops"`
	MaxDwell  Duration `json:"max_dwell"`
	MaxShrink float64  `json:"max_shrink"` // per hop
	MinKZT    int64    `json:"min_kzt"`    // smallest first hop considered
}

// CycleRule is R14: money that returns to where it started.
type CycleRule struct {
	RuleBase
	MaxHops     int      `json:"max_hops"`
	Window      Duration `json:"window"`
	ReturnShare float64  `json:"return_share"`
	MinKZT      int64    `json:"min_kzt"`
	// MaxFanout bounds the branches followed from one node per step, so a
	// hub cannot make the search explode.
	MaxFanout int `json:"max_fanout"`
}

// RepeatRule is R15: the same amount to the same account on most days, or a
// holder on an imported grey/black list.
type RepeatRule struct {
	RuleBase
	Days      int     `json:"days"`       // on ≥5
	OfDays    int     `json:"of_days"`    // of 7 days
	MinKZT    int64   `json:"min_kzt"`    // ignore tiny payments
	ListGrey  float64 `json:"list_grey"`  // weight of a grey-list entry
	ListBlack float64 `json:"list_black"` // weight of a black-list entry
}

// CollectorRule is R23: the instruments that collect the money of flagged
// subjects, or fund them, and through them their holders (organisers,
// couriers). It runs after the other rules, on their scores.
type CollectorRule struct {
	RuleBase
	MinSubjects  int     `json:"min_subjects"`  // distinct flagged subjects paying in
	FundSubjects int     `json:"fund_subjects"` // distinct flagged subjects paid
	MinShare     float64 `json:"min_share"`     // their share of everything received (or paid)
	// IdentWeight is the risk of a subject using a device, IP or phone that
	// flagged subjects make up at least MinShare of the other users of (at
	// least MinSubjects of them): a gang's identifier (0: off).
	IdentWeight float64 `json:"ident_weight"`
	// IdentShare is the share of an identifier's other users that must be
	// flagged for it to count as a gang's.
	IdentShare float64 `json:"ident_share"`
}

// IdenticalBurstRule is R16: several transfers of the identical amount to
// one counterparty within one time unit of the data.
type IdenticalBurstRule struct {
	RuleBase
	Count  int      `json:"count"`  // ≥3 transfers
	Window Duration `json:"window"` // 24h: one time unit (a day step in day-resolution data)
	// PayerFactor scales the payer's hit: the receiver collects the burst,
	// the payer may be a victim told to split a transfer.
	PayerFactor float64 `json:"payer_factor"`
	// ReceiverShare: the burst must be at least this share of the
	// receiver's transfer credits over its span (a shop is paid by many).
	ReceiverShare float64 `json:"receiver_share"`
}

// AnyCycleRule is R17: a time-respecting cycle back to the origin within a
// long window, whatever the amounts (R14 keeps the amount bound).
type AnyCycleRule struct {
	RuleBase
	MinHops int      `json:"min_hops"` // 3: a 2-hop cycle is a repayment as often as not
	MaxHops int      `json:"max_hops"` // 12
	Window  Duration `json:"window"`   // 30d
	// MaxDwell bounds each intermediary's wait between receiving and
	// passing on; so does PaceShare × the data set's mean time between two
	// one-off payments of an instrument, whichever is shorter.
	MaxDwell  Duration `json:"max_dwell"`
	PaceShare float64  `json:"pace_share"`
	// MaxFanout bounds the transfers followed from one node per step, and
	// MaxVisits the transfers examined per origin, so that the search stays
	// linear in the number of transfers.
	MaxFanout int `json:"max_fanout"`
	MaxVisits int `json:"max_visits"`
	// MaxChance rejects a cycle that chance explains: the transfers the
	// search examined times the share of the data set's active instruments
	// that paid the origin in the window must stay below it.
	MaxChance float64 `json:"max_chance"`
}

// GatherRule is R18, fan-in: many one-off senders in a short window that
// make up most of the account's senders ever, or many senders who each
// paid it the identical amount once.
type GatherRule struct {
	RuleBase
	Senders      int      `json:"senders"`       // ≥5 one-off, otherwise quiet senders within Window
	Window       Duration `json:"window"`        // 7d
	HistoryShare float64  `json:"history_share"` // and ≥ this share of all its distinct senders
	SameAmount   int      `json:"same_amount"`   // or ≥5 distinct senders each paying the identical amount once
	SameShare    float64  `json:"same_share"`    // that are ≥ this share of all its distinct senders
	SenderFactor float64  `json:"sender_factor"` // the senders of a flagged fan-in get Weight × this
	// MaxChance raises Senders to the count that chance explains at most
	// this often in the whole data set, given its pace (burstFloor).
	MaxChance float64 `json:"max_chance"`
}

// ScatterRule is R19, fan-out: many one-off recipients in a short window
// that make up most of the account's recipients ever.
type ScatterRule struct {
	RuleBase
	Recipients   int      `json:"recipients"` // ≥5 one-off, otherwise quiet recipients within Window
	Window       Duration `json:"window"`
	HistoryShare float64  `json:"history_share"`
	MaxChance    float64  `json:"max_chance"` // as R18
}

// GatherScatterRule is R20: one account gathers from several one-off
// senders and scatters to several one-off recipients within one window that
// holds most of its counterparties ever.
type GatherScatterRule struct {
	RuleBase
	Senders      int      `json:"senders"`    // ≥3
	Recipients   int      `json:"recipients"` // ≥3, paid after the first gathered credit
	Window       Duration `json:"window"`
	HistoryShare float64  `json:"history_share"`
	MaxChance    float64  `json:"max_chance"` // as R18, on senders and recipients together
}

// ScatterGatherRule is R21: one source pays several intermediaries that each
// pass money on to one sink, whose senders in that window are mostly those
// intermediaries.
type ScatterGatherRule struct {
	RuleBase
	Intermediaries int      `json:"intermediaries"` // ≥3 distinct
	Window         Duration `json:"window"`         // both legs within this of the first leg
	SinkShare      float64  `json:"sink_share"`     // intermediaries ≥ this share of the sink's senders in the window
	AmountRatio    float64  `json:"amount_ratio"`   // the gathered leg is within [scattered ÷ r, scattered × r]
	MaxFanout      int      `json:"max_fanout"`     // transfers followed per intermediary
	// MaxChance rejects a shared sink that chance explains, given the
	// paths followed and the data set's active instruments.
	MaxChance float64 `json:"max_chance"`
}

// RelayRule is R22, a layer of a stack: an account whose whole observed use
// is transit, each credit passed on to someone else within MaxDwell.
type RelayRule struct {
	RuleBase
	MaxDwell     Duration `json:"max_dwell"`     // 24h, and at most
	PaceShare    float64  `json:"pace_share"`    // this share of the data set's mean gap between one-off payments (as R17)
	MinRelays    int      `json:"min_relays"`    // ≥1 credit passed on
	TransitShare float64  `json:"transit_share"` // ≥ this share of its credits and of its debits are relays
	AmountRatio  float64  `json:"amount_ratio"`  // the debit is within [credit ÷ r, credit × r]
}

func hours(h int) Duration { return Duration(time.Duration(h) * time.Hour) }
func days(n int) Duration  { return hours(24 * n) }

// DefaultRuleConfig returns the DOMAIN §4 defaults. Weights are the risk a
// single hit contributes; a single weak signal (multi-bank cards, a daytime
// ATM coincidence) stays below FlagThreshold, two of them or one strong
// typology (fan-in to cash, layering, structuring without IIN) cross it.
func DefaultRuleConfig() RuleConfig {
	on := func(w float64) RuleBase { return RuleBase{Enabled: true, Weight: w} }
	return RuleConfig{
		FlagThreshold: 0.5,
		HolderToCard:  0.9,
		CardToHolder:  0.9,
		MaxEvidence:   50,
		R1:            FanInRule{RuleBase: on(0.7), Senders: 10, Window: hours(24), SendersLong: 50, WindowLong: days(30), CashOutShare: 0.8, Within: hours(24), MinInKZT: 300_000, SourceShare: 0.5},
		R2:            PassThroughRule{RuleBase: on(0.6), MinInKZT: 1_000_000, Window: hours(24), OutShare: 0.9, MedianDwell: hours(2)},
		R3:            StructuringRule{RuleBase: on(0.6), ThresholdKZT: 500_000, Band: 0.10, Count: 3, Window: days(7), PieceWindow: hours(24), MinPieces: 2},
		R4:            MultiBankRule{RuleBase: on(0.35), Banks: 3, PerBank: 10, TotalCards: 20},
		R5:            SharedIDRule{RuleBase: on(0.4), Holders: 3},
		R6:            ATMRunRule{RuleBase: on(0.3), Holders: 3, Window: Duration(time.Hour), PerCardPerDay: 5, NightFactor: 1.7},
		R7:            NewCardRule{RuleBase: on(0.3), FirstUseWithin: days(30), Burst: days(7), TurnoverKZT: 2_000_000, Credits: 20},
		R8:            DormantRule{RuleBase: on(0.3), Silence: days(90), Burst: days(7), TurnoverKZT: 1_000_000},
		R9:            NightRule{RuleBase: on(0.3), Share: 0.5, MinOps: 6, ATMCount: 3, Window: days(30), FromHour: 0, ToHour: 6},
		R10:           P2PRule{RuleBase: on(0.35), MatchWindow: Duration(15 * time.Minute), MinCredits: 1},
		R11:           UnlicensedRule{RuleBase: on(0.6), UnknownFactor: 0.5, RepeatDays: 3},
		R12:           FanOutRule{RuleBase: on(0.4), Recipients: 10, Window: hours(24), MaxCV: 0.2},
		R13:           LayeringRule{RuleBase: on(0.7), MinHops: 3, MaxHops: 8, MaxDwell: hours(6), MaxShrink: 0.10, MinKZT: 100_000},
		R14:           CycleRule{RuleBase: on(0.6), MaxHops: 6, Window: hours(72), ReturnShare: 0.8, MinKZT: 100_000, MaxFanout: 64},
		R15:           RepeatRule{RuleBase: on(0.35), Days: 5, OfDays: 7, MinKZT: 1_000, ListGrey: 0.5, ListBlack: 0.9},
		R23:           CollectorRule{RuleBase: on(0.7), MinSubjects: 2, FundSubjects: 3, MinShare: 0.5, IdentWeight: 0.55, IdentShare: 0.34},

		Currencies:          DefaultCurrencies(),
		ReportingThresholds: DefaultReportingThresholds(),
		RelativeScale:       RelativeScale{Quantile: 0.99, MinTransactions: 100},
		R16:                 IdenticalBurstRule{RuleBase: on(0.6), Count: 3, Window: hours(24), PayerFactor: 0.6, ReceiverShare: 0.5},
		R17:                 AnyCycleRule{RuleBase: on(0.6), MinHops: 3, MaxHops: 12, Window: days(30), MaxDwell: days(7), PaceShare: 0.25, MaxFanout: 8, MaxVisits: 128, MaxChance: 0.05},
		R18:                 GatherRule{RuleBase: on(0.6), Senders: 5, Window: days(7), HistoryShare: 0.5, SameAmount: 5, SameShare: 0.5, SenderFactor: 1, MaxChance: 0.05},
		R19:                 ScatterRule{RuleBase: on(0.6), Recipients: 5, Window: days(7), HistoryShare: 0.5, MaxChance: 0.05},
		R20:                 GatherScatterRule{RuleBase: on(0.6), Senders: 3, Recipients: 3, Window: days(7), HistoryShare: 0.5, MaxChance: 0.05},
		R21:                 ScatterGatherRule{RuleBase: on(0.7), Intermediaries: 3, Window: days(7), SinkShare: 0.5, AmountRatio: 2, MaxFanout: 32, MaxChance: 0.05},
		R22:                 RelayRule{RuleBase: on(0.5), MaxDwell: hours(24), PaceShare: 0.25, MinRelays: 1, TransitShare: 1, AmountRatio: 2},
	}
}

// ParseRuleConfig reads a JSON rule configuration over the defaults: fields
// the file leaves out keep their default. Unknown fields are an error, so a
// misspelt threshold never silently does nothing.
func ParseRuleConfig(r io.Reader) (RuleConfig, error) {
	cfg := DefaultRuleConfig()
	b, err := io.ReadAll(r)
	if err != nil {
		return cfg, fmt.Errorf("read rule config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("parse rule config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Validate checks that the thresholds make sense.
func (c RuleConfig) Validate() error {
	var bad []string
	check := func(ok bool, what string) {
		if !ok {
			bad = append(bad, what)
		}
	}
	check(c.FlagThreshold > 0 && c.FlagThreshold <= 1, "flag_threshold must be in (0, 1]")
	check(c.HolderToCard >= 0 && c.HolderToCard <= 1, "holder_to_card must be in [0, 1]")
	check(c.CardToHolder >= 0 && c.CardToHolder <= 1, "card_to_holder must be in [0, 1]")
	check(c.MaxEvidence >= 1, "max_evidence must be ≥ 1")
	check(c.Workers >= 0, "workers must be ≥ 0")
	for _, rb := range []struct {
		id string
		b  RuleBase
	}{{"R1", c.R1.RuleBase}, {"R2", c.R2.RuleBase}, {"R3", c.R3.RuleBase}, {"R4", c.R4.RuleBase},
		{"R5", c.R5.RuleBase}, {"R6", c.R6.RuleBase}, {"R7", c.R7.RuleBase}, {"R8", c.R8.RuleBase},
		{"R9", c.R9.RuleBase}, {"R10", c.R10.RuleBase}, {"R11", c.R11.RuleBase}, {"R12", c.R12.RuleBase},
		{"R13", c.R13.RuleBase}, {"R14", c.R14.RuleBase}, {"R15", c.R15.RuleBase},
		{"R16", c.R16.RuleBase}, {"R17", c.R17.RuleBase}, {"R18", c.R18.RuleBase}, {"R19", c.R19.RuleBase},
		{"R20", c.R20.RuleBase}, {"R21", c.R21.RuleBase}, {"R22", c.R22.RuleBase}, {"R23", c.R23.RuleBase}} {
		check(rb.b.Weight >= 0 && rb.b.Weight <= 1, rb.id+".weight must be in [0, 1]")
	}
	check(c.R1.Senders >= 1 && c.R1.SendersLong >= 1, "R1 senders must be ≥ 1")
	check(c.R1.CashOutShare >= 0 && c.R1.CashOutShare <= 1, "R1.cash_out_share must be in [0, 1]")
	check(c.R1.MinInKZT >= 0 && c.R1.SourceShare >= 0 && c.R1.SourceShare <= 1, "R1.min_in_kzt ≥ 0 and source_share in [0, 1]")
	check(c.R2.OutShare >= 0 && c.R2.OutShare <= 1, "R2.out_share must be in [0, 1]")
	check(c.R3.Count >= 1 && c.R3.Band > 0 && c.R3.Band < 1, "R3 count ≥ 1 and band in (0, 1)")
	check(c.R4.Banks >= 1 && c.R4.PerBank >= 1 && c.R4.TotalCards >= 1, "R4 thresholds must be ≥ 1")
	check(c.R5.Holders >= 2, "R5.holders must be ≥ 2")
	check(c.R6.Holders >= 2 && c.R6.PerCardPerDay >= 1, "R6 thresholds must be ≥ 2 and ≥ 1")
	check(c.R9.FromHour >= 0 && c.R9.ToHour <= 24 && c.R9.FromHour < c.R9.ToHour, "R9 hours must satisfy 0 ≤ from < to ≤ 24")
	check(c.R12.Recipients >= 2, "R12.recipients must be ≥ 2")
	check(c.R13.MinHops >= 1 && c.R13.MaxHops >= c.R13.MinHops && c.R13.MaxHops <= 32, "R13 needs 1 ≤ min_hops ≤ max_hops ≤ 32")
	check(c.R13.MaxShrink >= 0 && c.R13.MaxShrink < 1, "R13.max_shrink must be in [0, 1)")
	check(c.R14.MaxHops >= 2 && c.R14.MaxHops <= 12, "R14.max_hops must be in [2, 12]")
	check(c.R14.MaxFanout >= 1, "R14.max_fanout must be ≥ 1")
	check(c.R23.MinSubjects >= 2 && c.R23.FundSubjects >= 2, "R23.min_subjects and fund_subjects must be ≥ 2")
	check(c.R23.IdentWeight >= 0 && c.R23.IdentWeight <= 1, "R23.ident_weight must be in [0, 1]")
	check(c.R23.IdentShare > 0 && c.R23.IdentShare <= 1, "R23.ident_share must be in (0, 1]")
	check(c.R23.MinShare > 0 && c.R23.MinShare <= 1, "R23.min_share must be in (0, 1]")
	check(c.R15.Days >= 1 && c.R15.OfDays >= c.R15.Days, "R15 needs 1 ≤ days ≤ of_days")
	bad = append(bad, c.validateCurrencies()...)
	share := func(x float64) bool { return x > 0 && x <= 1 }
	check(c.R16.Count >= 2 && c.R16.Window > 0, "R16 needs count ≥ 2 and a window")
	check(c.R16.PayerFactor >= 0 && c.R16.PayerFactor <= 1, "R16.payer_factor must be in [0, 1]")
	check(c.R16.ReceiverShare >= 0 && c.R16.ReceiverShare <= 1, "R16.receiver_share must be in [0, 1]")
	check(c.R17.MinHops >= 2 && c.R17.MaxHops >= c.R17.MinHops && c.R17.MaxHops <= 16, "R17 needs 2 ≤ min_hops ≤ max_hops ≤ 16")
	check(c.R17.MaxFanout >= 1 && c.R17.MaxVisits >= 1 && c.R17.Window > 0, "R17 needs max_fanout, max_visits ≥ 1 and a window")
	check(c.R17.MaxChance > 0 && c.R17.MaxDwell > 0, "R17 needs max_chance > 0 and a max_dwell")
	check(c.R17.PaceShare > 0 && c.R17.PaceShare <= 1, "R17.pace_share must be in (0, 1]")
	check(c.R18.Senders >= 2 && c.R18.SameAmount >= 2 && c.R18.Window > 0, "R18 needs senders, same_amount ≥ 2 and a window")
	check(share(c.R18.HistoryShare) && share(c.R18.SameShare), "R18 shares must be in (0, 1]")
	check(c.R18.MaxChance > 0 && c.R19.MaxChance > 0 && c.R20.MaxChance > 0, "R18, R19, R20 max_chance must be > 0")
	check(c.R18.SenderFactor >= 0 && c.R18.SenderFactor <= 1, "R18.sender_factor must be in [0, 1]")
	check(c.R19.Recipients >= 2 && c.R19.Window > 0 && share(c.R19.HistoryShare), "R19 needs recipients ≥ 2, a window and history_share in (0, 1]")
	check(c.R20.Senders >= 1 && c.R20.Recipients >= 1 && c.R20.Window > 0 && share(c.R20.HistoryShare), "R20 needs senders, recipients ≥ 1, a window and history_share in (0, 1]")
	check(c.R21.MaxChance > 0 && c.R21.AmountRatio >= 1, "R21.max_chance must be > 0 and amount_ratio ≥ 1")
	check(c.R21.Intermediaries >= 2 && c.R21.MaxFanout >= 1 && c.R21.Window > 0 && share(c.R21.SinkShare), "R21 needs intermediaries ≥ 2, max_fanout ≥ 1, a window and sink_share in (0, 1]")
	check(c.R22.PaceShare > 0 && c.R22.PaceShare <= 1, "R22.pace_share must be in (0, 1]")
	check(c.R22.MinRelays >= 1 && c.R22.MaxDwell > 0 && share(c.R22.TransitShare) && c.R22.AmountRatio >= 1, "R22 needs min_relays ≥ 1, a dwell, transit_share in (0, 1] and amount_ratio ≥ 1")
	if len(bad) > 0 {
		return fmt.Errorf("rule config: %s", strings.Join(bad, "; "))
	}
	return nil
}

// WriteJSON writes the configuration as indented JSON.
func (c RuleConfig) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode rule config: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write rule config: %w", err)
	}
	return nil
}

// validateCurrencies checks the currency sections: ISO codes, rates ≥ 0
// (0 means none), thresholds > 0, a quantile in (0, 1).
func (c RuleConfig) validateCurrencies() []string {
	var bad []string
	iso := func(code string) bool {
		if len(code) != 3 {
			return false
		}
		for i := 0; i < 3; i++ {
			if code[i] < 'A' || code[i] > 'Z' {
				return false
			}
		}
		return true
	}
	for code, r := range c.Currencies {
		if !iso(code) || r < 0 || r != r {
			bad = append(bad, fmt.Sprintf("currencies.%s must be an upper-case ISO code with a rate ≥ 0", code))
		}
	}
	for code, v := range c.ReportingThresholds {
		switch {
		case code == "KZT":
			bad = append(bad, "reporting_thresholds.KZT: set R3.threshold_kzt instead")
		case !iso(code) || !(v >= 0):
			bad = append(bad, fmt.Sprintf("reporting_thresholds.%s must be an upper-case ISO code with a threshold ≥ 0", code))
		}
	}
	if !(c.RelativeScale.Quantile > 0 && c.RelativeScale.Quantile < 1) || c.RelativeScale.MinTransactions < 1 {
		bad = append(bad, "relative_scale needs 0 < quantile < 1 and min_transactions ≥ 1")
	}
	slices.Sort(bad)
	return bad
}
