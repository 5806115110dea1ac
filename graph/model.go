// Package graph holds casegraph's data model, its in-memory indexes and its
// algorithms. It is pure Go: no IO, no terminal, no storage engine.
package graph

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Kind is the kind of an entity (a node of the link graph).
type Kind uint8

// Entity kinds. The numeric values are persisted by the store: append only.
const (
	KindUnknown Kind = iota
	KindPerson
	KindCard
	KindAccount
	KindWallet
	KindExchange
	KindGroup
	KindPhone
	KindDevice
	KindIP
	KindAddress
	KindATM
	KindCash
	KindOrganisation // company or other legal entity that is not an exchange (FtM, goAML)
	kindCount
)

// Kinds lists every real kind in display order.
var Kinds = []Kind{KindPerson, KindCard, KindAccount, KindWallet, KindExchange, KindGroup,
	KindPhone, KindDevice, KindIP, KindAddress, KindATM, KindCash, KindOrganisation}

var kindNames = [kindCount]string{"unknown", "person", "card", "account", "wallet", "exchange",
	"group", "phone", "device", "ip", "address", "atm", "cash", "organisation"}

// kindSchemes are the reference prefixes used in input files (`card:…`, `iin:…`).
var kindSchemes = [kindCount]string{"", "iin", "card", "iban", "wallet", "exchange",
	"group", "phone", "device", "ip", "address", "atm", "cash", "org"}

// String returns the lower-case kind name, e.g. "card".
func (k Kind) String() string {
	if k >= kindCount {
		return fmt.Sprintf("kind(%d)", uint8(k))
	}
	return kindNames[k]
}

// Scheme returns the reference prefix of the kind, e.g. "iin" for persons.
func (k Kind) Scheme() string {
	if k >= kindCount {
		return ""
	}
	return kindSchemes[k]
}

// ParseKind accepts a kind name ("person") or a reference scheme ("iin").
func ParseKind(s string) (Kind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for k := KindPerson; k < kindCount; k++ {
		if s == kindNames[k] || s == kindSchemes[k] {
			return k, nil
		}
	}
	return KindUnknown, fmt.Errorf("unknown entity kind %q", s)
}

// Ref names one entity: its kind and its canonical key. Keys are normalised by
// the importers (IIN digits, PAN digits, IBAN upper case without spaces,
// E.164 phone, "CHAIN:address" for wallets); the graph compares them as bytes.
type Ref struct {
	Kind Kind
	Key  string
}

// CashRef is the single "cash" endpoint used for cash deposits and withdrawals
// that name no ATM.
var CashRef = Ref{Kind: KindCash, Key: "cash"}

// String renders the reference in its input form: "card:4400430000000015",
// "iin:850312300002", "cash".
func (r Ref) String() string {
	if r.Kind == KindCash {
		return "cash"
	}
	return r.Kind.Scheme() + ":" + r.Key
}

// IsZero reports whether r is the zero reference.
func (r Ref) IsZero() bool { return r.Kind == KindUnknown && r.Key == "" }

// Less orders references by kind, then key.
func (r Ref) Less(o Ref) bool {
	if r.Kind != o.Kind {
		return r.Kind < o.Kind
	}
	return r.Key < o.Key
}

// ParseRef parses "scheme:key" (or "cash"). It checks the scheme only; the
// importers validate and normalise keys.
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "cash") {
		return CashRef, nil
	}
	scheme, key, ok := strings.Cut(s, ":")
	if !ok || key == "" {
		return Ref{}, fmt.Errorf("reference %q: want scheme:key, e.g. card:4400430000000015", s)
	}
	k, err := ParseKind(scheme)
	if err != nil {
		return Ref{}, fmt.Errorf("reference %q: %w", s, err)
	}
	if k == KindCash {
		return CashRef, nil
	}
	return Ref{Kind: k, Key: key}, nil
}

// Provenance says where a record came from.
type Provenance struct {
	File  string // base name of the source file
	Line  int    // 1-based physical line of the record in that file
	Batch uint32 // import batch number
}

// String renders "cards.csv:2 · import #3".
func (p Provenance) String() string {
	if p.File == "" {
		return "derived"
	}
	return fmt.Sprintf("%s:%d · import #%d", p.File, p.Line, p.Batch)
}

// Entity is a node: a person, an instrument, an exchange, a group or a linking
// identifier.
type Entity struct {
	Ref   Ref
	Name  string            // display name; empty for most instruments
	Props map[string]string // every other column, including unknown ones
	Stub  bool              // created because a transaction or link referenced it
	Src   Provenance
}

// SortedProps returns the properties as key/value pairs ordered by key.
func (e Entity) SortedProps() [][2]string {
	out := make([][2]string, 0, len(e.Props))
	for k, v := range e.Props {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// LinkType is the relation of a non-monetary edge.
type LinkType uint8

// Link types. Persisted by the store: append only.
const (
	LinkUnknown    LinkType = iota
	LinkHolds               // person → card / account / wallet
	LinkCardOf              // card → account
	LinkMemberOf            // person → group
	LinkOperates            // person / group → exchange
	LinkUsesPhone           // person or instrument → phone
	LinkUsesDevice          // instrument → device
	LinkUsesIP              // instrument → ip
	LinkResidesAt           // person → address
	LinkSameAs              // entity → entity (entity resolution)
	LinkControls            // person / organisation → organisation (owner, director; Role says which)
	LinkRelated             // person ↔ person (family, associate; Role says which)
	linkCount
)

var linkNames = [linkCount]string{"unknown", "holds", "card_of", "member_of", "operates",
	"uses_phone", "uses_device", "uses_ip", "resides_at", "same_as", "controls", "related"}

// String returns the relation name, e.g. "holds".
func (t LinkType) String() string {
	if t >= linkCount {
		return fmt.Sprintf("link(%d)", uint8(t))
	}
	return linkNames[t]
}

// ParseLinkType parses a relation name.
func ParseLinkType(s string) (LinkType, error) {
	for t := LinkHolds; t < linkCount; t++ {
		if s == linkNames[t] {
			return t, nil
		}
	}
	return LinkUnknown, fmt.Errorf("unknown relation %q", s)
}

// Link is a directed non-monetary edge.
type Link struct {
	From, To Ref
	Type     LinkType
	Role     string // e.g. "organiser", "dropper" for member_of
	Src      Provenance
}

// Channel is the kind of a transaction.
type Channel uint8

// Transaction channels. Persisted by the store: append only.
const (
	ChannelUnknown Channel = iota
	ChannelTransfer
	ChannelTopup
	ChannelCashOut
	ChannelTrade
	channelCount
)

var channelNames = [channelCount]string{"unknown", "transfer", "topup", "cash_out", "trade"}

// String returns the channel name, e.g. "cash_out".
func (c Channel) String() string {
	if c >= channelCount {
		return fmt.Sprintf("channel(%d)", uint8(c))
	}
	return channelNames[c]
}

// ParseChannel parses a channel name.
func ParseChannel(s string) (Channel, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for c := ChannelTransfer; c < channelCount; c++ {
		if s == channelNames[c] {
			return c, nil
		}
	}
	return ChannelUnknown, fmt.Errorf("unknown channel %q (want transfer, topup, cash_out or trade)", s)
}

// Tri is a yes/no/unknown flag (iin_provided, app_confirmed).
type Tri uint8

// Tri values.
const (
	TriUnknown Tri = iota
	TriNo
	TriYes
)

// Txn is one monetary transaction between two instruments.
type Txn struct {
	ID           string
	Time         time.Time // UTC
	From, To     Ref
	Amount       int64  // minor units (tiyn for KZT): 495000.00 KZT = 49500000
	Currency     string // ISO 4217, upper case
	Channel      Channel
	ATM          string // terminal id, when the channel involves one
	Device       string
	IP           string
	IINProvided  Tri
	AppConfirmed Tri
	Reference    string            // free text / payment purpose
	Props        map[string]string // unknown columns
	Src          Provenance
	// Via is, in a holder's combined listing (a person's or organisation's
	// transactions over everything they hold), the held instrument whose
	// row this is; zero in an instrument's own listing. A transfer between
	// two of the holder's instruments is listed once for each.
	Via Ref
	// DateOnly says the source gave a calendar date and no clock time: Time
	// is local midnight of that date, and no rule reads a clock hour from it
	// (docs/DETECTION.md, "Currencies and clocks").
	DateOnly bool
}

// Direction of an edge relative to the entity being viewed.
type Direction uint8

// Directions.
const (
	DirOut Direction = iota + 1
	DirIn
)

// Arrow returns "→" for out and "←" for in.
func (d Direction) Arrow() string {
	if d == DirIn {
		return "←"
	}
	return "→"
}

// WithMissingProps returns props with the properties of other that it
// lacks (an empty value is none) added; props itself when it lacks none,
// else a new map (props is never changed). The stores use it wherever a
// record takes what an earlier version or its stub gave
// (docs/FORMATS.md, conflicting records).
func WithMissingProps(props, other map[string]string) map[string]string {
	var out map[string]string
	for k, v := range other {
		if props[k] != "" {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(props)+len(other))
			for pk, pv := range props {
				out[pk] = pv
			}
		}
		out[k] = v
	}
	if out == nil {
		return props
	}
	return out
}

// RankedNeighbor is a neighbour row with its relation's place in the view
// (links before money, each in its own order), which the row's Relation
// names but does not rank.
type RankedNeighbor struct {
	Rank int
	Row  *Neighbor
}

// SortNeighbors orders neighbour rows for a page: by rank, then by count,
// most first, then by entity and direction, so that two backends list the
// same rows alike.
func SortNeighbors(rows []RankedNeighbor) {
	slices.SortFunc(rows, func(x, y RankedNeighbor) int {
		if c := cmp.Compare(x.Rank, y.Rank); c != 0 {
			return c
		}
		a, b := x.Row, y.Row
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if a.Ref != b.Ref {
			if a.Ref.Less(b.Ref) {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Dir, b.Dir)
	})
}

// Neighbor is an aggregated edge from the viewed entity to another one:
// one row per (relation, direction, other entity).
type Neighbor struct {
	Ref       Ref
	Name      string // display name of the other entity, if known and not only its reference (ListedName)
	Relation  string // a LinkType name or a Channel name
	Role      string // the link's role, e.g. "organiser" for member_of (imported case data)
	Dir       Direction
	Count     int   // links or transactions aggregated into this row
	Amount    int64 // sum of transaction amounts in minor units (KZT and others summed as is)
	FirstSeen time.Time
	LastSeen  time.Time
	Src       Provenance // a link row: the import that wrote the link (a transaction row: zero)
	// Via is, in a holder's combined neighbours, the held instrument the
	// most of the row's transactions went through, and ViaCount how many
	// of its instruments the row's transactions went through; zero otherwise.
	Via      Ref
	ViaCount int
}

// TxSort orders a transaction listing.
type TxSort uint8

// Transaction orders.
const (
	SortTimeDesc TxSort = iota
	SortTimeAsc
	SortAmountDesc
	SortAmountAsc
)

// TxQuery asks for one page of an instrument's transactions.
type TxQuery struct {
	Sort   TxSort
	Offset int
	Limit  int
	// From and To, when set, keep the rows in [From, To) (a range brushed
	// on the timeline); the page's totals are then over that range.
	From, To time.Time
	// Via narrows a holder's combined listing (a person's or
	// organisation's, workbench) to one held instrument; zero lists them all.
	Via Ref
	// MinAmount and MaxAmount, when either is set, keep the rows whose
	// amount (minor units) is in [MinAmount, MaxAmount), half open as the
	// time range is; zero leaves that side open (a band from 0 keeps
	// negative amounts too). Currency, when set, keeps only the rows in that
	// ISO 4217 code (a row without one is KZT): a band read off the amount
	// histogram is in one currency's units. Without Currency every
	// currency's amounts compare as they are, as the page's totals add them.
	// The page's totals are then over the rows kept.
	MinAmount, MaxAmount int64
	Currency             string
}

// Ranged reports whether q keeps a time range only.
func (q TxQuery) Ranged() bool { return !q.From.IsZero() || !q.To.IsZero() }

// Banded reports whether q keeps an amount band or one currency only.
func (q TxQuery) Banded() bool { return q.MinAmount != 0 || q.MaxAmount != 0 || q.Currency != "" }

// AmountIn reports whether amount is in q's band (any amount without one).
func (q TxQuery) AmountIn(amount int64) bool {
	return (q.MinAmount == 0 || amount >= q.MinAmount) && (q.MaxAmount == 0 || amount < q.MaxAmount)
}

// Keeps reports whether a row of amount in currency is in q's band and
// currency (the time range and Via aside).
func (q TxQuery) Keeps(amount int64, currency string) bool {
	if !q.AmountIn(amount) {
		return false
	}
	if q.Currency == "" {
		return true
	}
	if currency == "" {
		currency = "KZT"
	}
	return currency == q.Currency
}

// Holding is one instrument a person or organisation holds (a holds link),
// with its transaction totals.
type Holding struct {
	Ref     Ref
	Name    string
	Txns    int
	In, Out int64
}

// Holdings is what a person or organisation holds and the money of all of
// it: the holder's own transactions and every held instrument's, added up.
type Holdings struct {
	Items []Holding // most transactions first, at most the limit asked for
	Total int       // instruments held (at most MaxHoldings are read)
	// Txns, In and Out add up the holder's own totals and every held
	// instrument's, Items or not: the sum of their TxPage totals.
	Txns      int
	In, Out   int64
	Truncated bool // more than MaxHoldings instruments: the rest are not counted
}

// SumHoldings completes h from the holder's own totals and its held
// instruments (each item's totals read by totals): it adds them up, orders
// the items by transactions (most first, then reference) and keeps at most
// limit of them (all when limit ≤ 0). Both engines build a holder's page
// with it (store, workbench over a cluster).
func SumHoldings(h *Holdings, own TxPage, items []Holding, limit int, totals func(Ref) (TxPage, error)) error {
	h.Txns, h.In, h.Out = own.Total, own.In, own.Out
	for i := range items {
		p, err := totals(items[i].Ref)
		if err != nil {
			return err
		}
		items[i].Txns, items[i].In, items[i].Out = p.Total, p.In, p.Out
		h.Txns += p.Total
		h.In, h.Out = AddSat(h.In, p.In), AddSat(h.Out, p.Out)
		h.Truncated = h.Truncated || p.Truncated
	}
	slices.SortFunc(items, func(a, b Holding) int {
		if c := cmp.Compare(b.Txns, a.Txns); c != 0 {
			return c
		}
		if a.Ref.Less(b.Ref) {
			return -1
		}
		if b.Ref.Less(a.Ref) {
			return 1
		}
		return 0
	})
	h.Total = len(items)
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	h.Items = items
	return nil
}

// PickVia names, for each neighbour of a holder's combined counterparties,
// the held instrument that carried most of its transactions with it (ties
// to the lower reference) and how many instruments it came through.
func PickVia(via map[*Neighbor]map[Ref]int) {
	for n, owners := range via {
		best, bestN := Ref{}, -1
		for o, c := range owners {
			if c > bestN || c == bestN && o.Less(best) {
				best, bestN = o, c
			}
		}
		n.Via, n.ViaCount = best, len(owners)
	}
}

// MaxHoldings bounds the instruments read for one holder; MaxMerged bounds
// the instruments whose transactions one combined listing merges (a k-way
// merge by time keeps one iterator per instrument open).
const (
	MaxHoldings = 10_000
	MaxMerged   = 64
)

// TxPage is one page of transactions with totals over all of them.
type TxPage struct {
	Txns      []Txn
	Total     int   // all transactions of the entity
	In, Out   int64 // sums of incoming and outgoing amounts over all of them
	Truncated bool  // totals are over the first N only (very large hubs)
	// Omitted counts, in a holder's combined listing, the held instruments
	// left out of the merge (beyond MaxMerged; the listing says so).
	Omitted int
}

// Stats counts what a database holds.
type Stats struct {
	Entities   map[Kind]int
	Stubs      int
	Links      map[LinkType]int
	Txns       int
	TxnsByChan map[Channel]int
	Batches    []Batch
}

// BatchBook hands out import batch numbers and completes an ended batch
// from what its beginning said. Every loader keeps one: the store's, the
// Dgraph client's and the Dgraph bulk writer. Seq is the last number
// handed out (a loader sets it from the batches already stored).
type BatchBook struct {
	Seq   uint32
	begun map[uint32]Batch
}

// Begin hands out the next batch number for a file.
func (b *BatchBook) Begin(file, sha256, format string) uint32 {
	b.Seq++
	if b.begun == nil {
		b.begun = make(map[uint32]Batch)
	}
	b.begun[b.Seq] = Batch{ID: b.Seq, File: file, SHA256: sha256, Format: format}
	return b.Seq
}

// End completes x, a batch begun here: the file, hash and format given at
// Begin where x leaves them empty, and now as its time when it has none.
// A batch not begun here, or ended already, is an error.
func (b *BatchBook) End(x Batch, now time.Time) (Batch, error) {
	begun, ok := b.begun[x.ID]
	if !ok {
		return x, fmt.Errorf("end batch %d: not begun by this loader, or already ended", x.ID)
	}
	delete(b.begun, x.ID)
	if x.File == "" {
		x.File = begun.File
	}
	if x.SHA256 == "" {
		x.SHA256 = begun.SHA256
	}
	if x.Format == "" {
		x.Format = begun.Format
	}
	if x.At.IsZero() {
		x.At = now.UTC()
	}
	return x, nil
}

// Batch describes one import batch (one file imported once).
type Batch struct {
	ID       uint32
	File     string // path as given
	SHA256   string
	Format   string // detected kind of file, e.g. "transactions"
	Read     int
	Imported int
	Rejected int
	Skipped  int // metadata and total rows a profile import skipped: read = imported + rejected + skipped
	At       time.Time
	// TimeResolution says how the file gave its transaction times: full
	// timestamps, dates only or simulation steps (TimeTimestamps, TimeDates,
	// TimeSteps, TimeMixed); empty for a file without transactions and for
	// batches recorded before it was kept (read as timestamps).
	TimeResolution string `json:",omitempty"`
	// TimeUnit is the finest time step, in seconds, the file resolves: 1 for
	// timestamps, 86400 for dates, the step for simulation steps; 0 unknown.
	TimeUnit int64 `json:",omitempty"`
	// TimeZone is the IANA zone (or "UTC+05:00") of the file's wall clock:
	// clock-of-day rules read its times there. Empty means Asia/Almaty.
	TimeZone string `json:",omitempty"`
}

// Time resolutions of an import batch (Batch.TimeResolution).
const (
	TimeTimestamps = "timestamps" // date and clock time
	TimeDates      = "dates"      // calendar dates only: the clock time is unknown
	TimeSteps      = "steps"      // simulation steps of Batch.TimeUnit seconds
	TimeMixed      = "mixed"      // some rows with a clock time, some without
)

// DefaultTimeZone is the zone of a batch that names none: casegraph's own
// data are Kazakh, their night and calendar days Almaty time (docs/DETECTION.md).
const DefaultTimeZone = "Asia/Almaty"
