package lists

import (
	"casegraph/internal/fuzzbudget"

	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/internal/rectest"
)

// fakeCase is a Lookup over a fixed set of entities.
type fakeCase map[graph.Ref]graph.Entity

func (f fakeCase) Entity(_ context.Context, r graph.Ref) (graph.Entity, error) {
	if e, ok := f[r]; ok {
		return e, nil
	}
	return graph.Entity{}, fmt.Errorf("entity %s: %w", r, graph.ErrNotFound)
}

func (f fakeCase) Entities(_ context.Context, k graph.Kind, fn func(graph.Entity) error) error {
	for _, e := range f {
		if e.Ref.Kind == k {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

var (
	person = graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	wallet = graph.Ref{Kind: graph.KindWallet, Key: "ETH:0x098b716b8aaf21512996dc57eb0615e2383e2f96"}
	exch   = graph.Ref{Kind: graph.KindExchange, Key: "EX-0001"}
)

func testCase() fakeCase {
	return fakeCase{
		person: {Ref: person, Name: "Ахметов Жанболат", Props: map[string]string{"birth_date": "1985-03-12", "list_status": "grey"}},
		wallet: {Ref: wallet, Stub: true},
		exch:   {Ref: exch, Name: "ТенгеОбмен24", Props: map[string]string{"domain": "tengeobmen24.kz", "afsa_licence": ""}},
	}
}

func TestWatchlistCSV(t *testing.T) {
	in := "iin,pan,wallet,name,list_status,reason\n" +
		"850312300002,,,Ахметов,black,dropper\n" +
		",4400430000000015,,,grey,\n" +
		",,TRON:TXYZabcdefghijklmnopqrstuvwxyz1234,,,\n" +
		"850312300003,,,,black,\n" +
		",,,nobody,black,\n" +
		"850312300002,,,,purple,\n" +
		"1,2\n"
	sink := &rectest.Sink{}
	rep, err := Import(context.Background(), strings.NewReader(in), sink, testCase(), Options{Options: importers.Options{Name: "w.csv"}, Status: "sanctioned"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != FormatWatchlist || rep.Read != 7 || rep.Imported != 3 || rep.Rejected != 4 || !rep.Reconciles() {
		t.Fatalf("report %+v", rep)
	}
	wantLines := []int{5, 6, 7, 8}
	for i, r := range rep.Rejects {
		if r.Line != wantLines[i] {
			t.Errorf("reject %d at line %d, want %d: %+v", i, r.Line, wantLines[i], r)
		}
	}
	e, _ := sink.Entity(person)
	if e.Stub || e.Name != "Ахметов Жанболат" || e.Props["birth_date"] != "1985-03-12" || e.Props["list_status"] != "black" || e.Props["list_reason"] != "dropper" {
		t.Errorf("person %+v: want the full entity kept, black", e)
	}
	c, _ := sink.Entity(graph.Ref{Kind: graph.KindCard, Key: "4400430000000015"})
	if !c.Stub || c.Props["list_status"] != "grey" {
		t.Errorf("card %+v: want a grey stub", c)
	}
	w, _ := sink.Entity(graph.Ref{Kind: graph.KindWallet, Key: "TRON:TXYZabcdefghijklmnopqrstuvwxyz1234"})
	if w.Props["list_status"] != "sanctioned" {
		t.Errorf("wallet %+v: want the file default", w)
	}
}

func TestOFACEthereumAddresses(t *testing.T) {
	path := rectest.SharedData(t, "ofac-sdn-crypto-addresses/eth_addresses_with_entity_ultrasoundmoney.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sink := &rectest.Sink{}
	rep, err := Import(context.Background(), f, sink, testCase(), Options{Options: importers.Options{Name: "ofac.csv"}, Status: "sanctioned", Chain: "ETH"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != 97 || rep.Imported != 97 || !rep.Reconciles() {
		t.Fatalf("report %+v", rep)
	}
	// The case's lower-case wallet matches the EIP-55 listed address.
	w, _ := sink.Entity(wallet)
	if w.Props["list_status"] != "sanctioned" || w.Props["list_name"] != "LAZARUS GROUP" {
		t.Errorf("case wallet %+v", w)
	}
	garantex := 0
	for _, e := range sink.Entities {
		if e.Props["list_name"] == "GARANTEX EUROPE OU" {
			garantex++
		}
	}
	if garantex != 7 {
		t.Errorf("Garantex addresses %d, want 7", garantex)
	}
}

func TestAddressList(t *testing.T) {
	path := rectest.SharedData(t, "ofac-sdn-crypto-addresses/by-asset-0xB10C/sanctioned_addresses_XBT.txt")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	sink := &rectest.Sink{}
	rep, err := Import(context.Background(), bytes.NewReader(data), sink, nil, Options{Options: importers.Options{Name: filepath.Base(path)}, Status: "sanctioned", Chain: "XBT"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != FormatAddresses || rep.Read != n || rep.Imported != n || !rep.Reconciles() {
		t.Fatalf("report %+v, want %d addresses", rep, n)
	}
	if !strings.HasPrefix(sink.Entities[0].Ref.Key, "BTC:") {
		t.Errorf("key %q: want BTC chain", sink.Entities[0].Ref.Key)
	}
}

func TestAFSARegister(t *testing.T) {
	in := "name,licence number,status,date\n" +
		"Tenge Obmen 24,AFSA-A-LA-2023-0001,active,2023-05-01\n" +
		"Licensed Co,AFSA-A-LA-2024-0002,revoked,2024-01-15\n" +
		"No Licence,,active,2024-01-15\n" +
		"Bad Date,AFSA-X,active,15.01.2024\n"
	sink := &rectest.Sink{}
	rep, err := Import(context.Background(), strings.NewReader(in), sink, testCase(), Options{Options: importers.Options{Name: "afsa.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != FormatRegister || rep.Read != 4 || rep.Imported != 2 || rep.Rejected != 2 || !rep.Reconciles() {
		t.Fatalf("report %+v", rep)
	}
	e, _ := sink.Entity(exch)
	if e.Props["afsa_licence"] != "AFSA-A-LA-2023-0001" || e.Props["licence_status"] != "active" || e.Props["domain"] != "tengeobmen24.kz" {
		t.Errorf("matched exchange %+v", e)
	}
	r, ok := sink.Entity(graph.Ref{Kind: graph.KindExchange, Key: "afsa:AFSA-A-LA-2024-0002"})
	if !ok || r.Props["afsa_licence"] != "" || r.Props["afsa_licence_inactive"] != "AFSA-A-LA-2024-0002" || r.Props["register_only"] != "yes" {
		t.Errorf("register-only exchange %+v", r)
	}
}

func TestDetect(t *testing.T) {
	for line, want := range map[string]importers.Format{
		"address,name":                  FormatWatchlist,
		"IIN,Name,Status":               FormatWatchlist,
		"name,licence,status,date":      FormatRegister,
		"123WBUDmSJv4GctdVEz6Qq6z8nXSK": FormatAddresses,
		"tx_id,time,from,to,amount":     "",
		"hello world":                   "",
	} {
		if got, _ := Detect(line); got != want {
			t.Errorf("Detect(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestClaims: a header naming list_status is a watch list even when it
// also reads as persons; "status" alone is a card or exchange column.
func TestClaims(t *testing.T) {
	for line, want := range map[string]bool{
		"iin,name,list_status":     true,
		"IIN,Name,List_Status\r":   true,
		"iin,name,birth_date":      false,
		"pan,holder_iin,status":    false,
		"name,licence,list_status": false, // a register
	} {
		if got := Claims(line); got != want {
			t.Errorf("Claims(%q) = %v, want %v", line, got, want)
		}
	}
}

func FuzzLists(f *testing.F) {
	f.Add("iin,pan,wallet,name,list_status\n850312300002,,,x,black\n,,0xabc,,\n")
	f.Add("name,licence,status,date\nTenge Obmen 24,L1,active,2023-05-01\n")
	f.Add("0xabc\n\nT123\n")
	f.Add("address,name\n\"0x1,\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		defer fuzzbudget.Start(t, len(in))()
		sink := &rectest.Sink{}
		rep, _ := Import(context.Background(), strings.NewReader(in), sink, testCase(), Options{Options: importers.Options{Name: "f"}, Status: "black"})
		if !rep.Reconciles() {
			t.Fatalf("does not reconcile: %+v", rep)
		}
		for _, e := range sink.Entities {
			if e.Ref.Kind == graph.KindUnknown || e.Ref.Key == "" {
				t.Fatalf("entity without key: %+v", e)
			}
		}
	})
}
