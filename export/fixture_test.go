package export

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"casegraph/graph"
)

// Identifiers of the fixture; all pass their checksums.
const (
	iinA   = "850312300002"
	iinB   = "900515300008"
	iinC   = "920710450123"
	panA   = "4400430000000015"
	panB   = "4003031234567893"
	panC   = "5536919876543219"
	masked = "440043******7894~KASPI"
	iban   = "KZ45722S000054326792"
	phoneA = "+77015551234"
	phoneB = "+77470001122"
)

// testKey makes the fixture's redacted exports reproducible.
var testKey = []byte("casegraph export test pseudonym key")

// psOf is the pseudonym the fixture's exports give an identifier.
func psOf(k graph.Kind, value string) string {
	p, _ := newPseudonyms(testKey)
	return p.of(k, normal(k, value))
}

func ref(k graph.Kind, key string) graph.Ref { return graph.Ref{Kind: k, Key: key} }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// fixture is a small dropper case: an organiser and two droppers, their
// cards, an account, a wallet, an unlicensed exchange, a group, a shared
// phone, an address and an ATM; cash top-ups, transfers, trades and a
// cash-out over four days.
func fixture() Input {
	pA, pB, pC := ref(graph.KindPerson, iinA), ref(graph.KindPerson, iinB), ref(graph.KindPerson, iinC)
	cA, cB, cC := ref(graph.KindCard, panA), ref(graph.KindCard, panB), ref(graph.KindCard, panC)
	cM := ref(graph.KindCard, masked)
	acc := ref(graph.KindAccount, iban)
	wal := ref(graph.KindWallet, "TRON:TXYZ9fGh2kLmN")
	ex := ref(graph.KindExchange, "EX-0001")
	grp := ref(graph.KindGroup, "G-ALA-3")
	ph := ref(graph.KindPhone, phoneA)
	addr := ref(graph.KindAddress, "Алматы, ул. Абая 10, кв 5")
	atm := ref(graph.KindATM, "ATM-ALA-0042")
	src := func(f string, l int) graph.Provenance { return graph.Provenance{File: f, Line: l, Batch: 1} }
	return Input{
		Case: Case{
			Name:        "AFM-2025-0813 Жанболат & Co",
			Description: "Dropper network cashing out via EX-0001; organiser reachable at +7 701 555 12 34.",
			Tags:        []string{"droppers", "crypto"},
			Bookmarks: []Bookmark{
				{Ref: pA, Note: "organiser, IIN " + iinA, Tags: []string{"organiser"}},
				{Ref: cB, Note: "dropper card " + panB},
				{Ref: ex, Note: "unlicensed"},
			},
			Notes: []Note{
				{Time: at("2025-03-16T09:00:00Z"), Text: "Card 4400 4300 0000 0015 topped up three times below 500k."},
				{Time: at("2025-03-15T08:00:00Z"), Ref: pB, Text: "Dropper says phone 87470001122 is not hers.\nCheck."},
			},
		},
		Entities: []graph.Entity{
			{Ref: pA, Name: "Ахметов Жанболат Серікұлы", Props: map[string]string{"birth_date": "1985-03-12",
				"phone": phoneA, "address": "Алматы, ул. Абая 10, кв 5"}, Src: src("persons.csv", 2)},
			{Ref: pB, Name: "Иванова Анна", Props: map[string]string{"birth_date": "1990-05-15", "phone": phoneB},
				Src: src("persons.csv", 3)},
			{Ref: pC, Name: "Sarsenov \"Dias\" | Bek", Src: src("persons.csv", 4)},
			{Ref: cA, Props: map[string]string{"bank": "Kaspi Bank", "holder_iin": iinA, "iban": iban,
				"issued": "2025-01-10", "status": "active"}, Src: src("cards.csv", 2)},
			{Ref: cB, Props: map[string]string{"bank": "Halyk", "holder_iin": iinB}, Src: src("cards.csv", 3)},
			{Ref: cC, Props: map[string]string{"bank": "Freedom", "holder_iin": iinC}, Src: src("cards.csv", 4)},
			{Ref: cM, Stub: true},
			{Ref: acc, Stub: true},
			{Ref: wal, Stub: true},
			{Ref: ex, Name: "ТенгеОбмен24", Props: map[string]string{"domain": "tengeobmen24.kz", "afsa_licence": "",
				"status": "closed_by_afm"}, Src: src("exchanges.csv", 2)},
			{Ref: grp, Name: "Жанболат & Co", Props: map[string]string{"case_ref": "AFM-2025-0813"},
				Src: src("groups.csv", 2)},
			{Ref: ph, Stub: true},
			{Ref: addr, Stub: true},
			// The same card again as a stub: the full record must win.
			{Ref: cA, Stub: true},
		},
		Links: []graph.Link{
			{From: pA, To: cA, Type: graph.LinkHolds, Src: src("cards.csv", 2)},
			{From: pA, To: acc, Type: graph.LinkHolds, Src: src("cards.csv", 2)},
			{From: cA, To: acc, Type: graph.LinkCardOf, Src: src("cards.csv", 2)},
			{From: pB, To: cB, Type: graph.LinkHolds, Src: src("cards.csv", 3)},
			{From: pC, To: cC, Type: graph.LinkHolds, Src: src("cards.csv", 4)},
			{From: pA, To: wal, Type: graph.LinkHolds},
			{From: pA, To: grp, Type: graph.LinkMemberOf, Role: "organiser", Src: src("memberships.csv", 2)},
			{From: pB, To: grp, Type: graph.LinkMemberOf, Role: "dropper", Src: src("memberships.csv", 3)},
			{From: grp, To: ex, Type: graph.LinkOperates, Src: src("memberships.csv", 4)},
			{From: pA, To: ph, Type: graph.LinkUsesPhone, Src: src("persons.csv", 2)},
			{From: pA, To: addr, Type: graph.LinkResidesAt, Src: src("persons.csv", 2)},
			// A duplicate: written once.
			{From: pB, To: cB, Type: graph.LinkHolds, Src: src("cards.csv", 3)},
		},
		Txns: []graph.Txn{
			{ID: "T000001", Time: at("2025-03-13T05:22:00Z"), From: atm, To: cB, Amount: 49_500_000, Currency: "KZT",
				Channel: graph.ChannelTopup, ATM: "ATM-ALA-0042", AppConfirmed: graph.TriNo, Src: src("transactions.csv", 2)},
			{ID: "T000002", Time: at("2025-03-13T07:00:00Z"), From: atm, To: cC, Amount: 48_000_000, Currency: "KZT",
				Channel: graph.ChannelTopup, ATM: "ATM-ALA-0042", Src: src("transactions.csv", 3)},
			{ID: "T000003", Time: at("2025-03-14T10:15:00+05:00"), From: cB, To: cA, Amount: 49_000_000,
				Channel: graph.ChannelTransfer, Reference: "за iPhone, звоните +7 (701) 555-12-34",
				Props: map[string]string{"iin_provided": iinB}, IINProvided: graph.TriYes, Src: src("transactions.csv", 4)},
			{ID: "T000004", Time: at("2025-03-14T11:00:00Z"), From: cC, To: cA, Amount: 47_500_000, Currency: "KZT",
				Channel: graph.ChannelTransfer, Reference: "P2P USDT order 8841", Src: src("transactions.csv", 5)},
			{ID: "T000005", Time: at("2025-03-15T01:05:00Z"), From: cA, To: ex, Amount: 140_000_000, Currency: "KZT",
				Channel: graph.ChannelTrade, Device: "DEV-9F3A", IP: "10.1.2.3", Reference: "buy USDT",
				Src: src("transactions.csv", 6)},
			{ID: "T000006", Time: at("2025-03-15T01:30:00Z"), From: ex, To: wal, Amount: 2_650_00, Currency: "USD",
				Channel: graph.ChannelTrade, Src: src("transactions.csv", 7)},
			{ID: "T000007", Time: at("2025-03-16T20:45:00Z"), From: cM, To: atm, Amount: 10_000_000, Currency: "KZT",
				Channel: graph.ChannelCashOut, ATM: "ATM-ALA-0042", Src: src("transactions.csv", 8)},
			{ID: "T000008", Time: at("2025-03-16T21:00:00Z"), From: acc, To: graph.CashRef, Amount: 5_000_000,
				Currency: "KZT", Channel: graph.ChannelCashOut, Src: src("transactions.csv", 9)},
			// A duplicate id: written once.
			{ID: "T000001", Time: at("2025-03-13T05:22:00Z"), From: atm, To: cB, Amount: 49_500_000, Currency: "KZT",
				Channel: graph.ChannelTopup, ATM: "ATM-ALA-0042", Src: src("transactions.csv", 2)},
		},
		Flags: []FlagRow{
			{Rule: "R3", Ref: cA, Score: 0.9, Reason: "3 credits in [450,000; 500,000) KZT in 7 days to card " + panA,
				Evidence: []string{"T000004", "T000003", "T000099"}},
			{Rule: "R11", Ref: ex, Score: 1, Reason: "trade with an exchange without AFSA licence",
				Evidence: []string{"T000005"}},
		},
		Sources: []graph.Batch{
			{ID: 2, File: "data/transactions.csv", SHA256: "9f2c", Format: "transactions", Read: 8, Imported: 8,
				At: time.Now()},
			{ID: 1, File: "data/persons.csv", SHA256: "1a0b", Format: "persons", Read: 3, Imported: 3, At: time.Now()},
		},
		Queries: []string{"bookmark iin:" + iinA, "bookmark card:" + panB, "bookmark exchange:EX-0001",
			"neighbours 1 hop", "transactions among selected entities"},
		Version: "test-1",
	}
}

// shuffled returns the fixture with every list in a different order, which
// must not change a single byte of the export.
func shuffled() Input {
	in := fixture()
	rev := func(n int, swap func(i, j int)) {
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			swap(i, j)
		}
	}
	rev(len(in.Entities), func(i, j int) { in.Entities[i], in.Entities[j] = in.Entities[j], in.Entities[i] })
	// Reversed, the stub duplicate of card A now comes before its full
	// record; the full record must still win.
	rev(len(in.Links), func(i, j int) { in.Links[i], in.Links[j] = in.Links[j], in.Links[i] })
	rev(len(in.Txns), func(i, j int) { in.Txns[i], in.Txns[j] = in.Txns[j], in.Txns[i] })
	rev(len(in.Flags), func(i, j int) { in.Flags[i], in.Flags[j] = in.Flags[j], in.Flags[i] })
	rev(len(in.Sources), func(i, j int) { in.Sources[i], in.Sources[j] = in.Sources[j], in.Sources[i] })
	rev(len(in.Case.Bookmarks), func(i, j int) {
		in.Case.Bookmarks[i], in.Case.Bookmarks[j] = in.Case.Bookmarks[j], in.Case.Bookmarks[i]
	})
	for i := range in.Sources {
		in.Sources[i].At = in.Sources[i].At.Add(time.Hour) // import times never reach the files
	}
	return in
}

// export writes the fixture into a fresh folder and returns the folder.
func export(t *testing.T, in Input, redact bool) (string, Manifest) {
	t.Helper()
	dir := t.TempDir()
	m, err := Write(dir, in, Options{Redact: redact, PseudonymKey: testKey})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return dir, m
}

// readAll returns every file of an export folder by name.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
