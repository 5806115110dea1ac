package ftm

import (
	"casegraph/internal/fuzzbudget"

	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/internal/rectest"
)

func importFile(t *testing.T, path string) (Result, *rectest.Sink) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sink := &rectest.Sink{}
	res, err := Import(context.Background(), f, sink, importers.Options{Name: "x.ftm.json", Batch: 1})
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	if !res.Reconciles() {
		t.Fatalf("counts do not reconcile: %+v", res.Report)
	}
	return res, sink
}

func TestZalaSanctionsCluster(t *testing.T) {
	res, sink := importFile(t, rectest.SharedData(t, "opensanctions-ftm/zala_entities.ftm.json"))
	if res.Read != 91 {
		t.Errorf("read %d, want 91", res.Read)
	}
	// The one Passport is not imported, and the reject names its line.
	if res.Rejected != 1 || res.Rejects[0].Column != "schema" || res.Rejects[0].Value != "Passport" || res.Rejects[0].Line < 1 {
		t.Errorf("rejects %+v, want the Passport", res.Rejects)
	}
	addr := 0
	for _, d := range res.Dangling {
		if d.Property == "addressEntity" {
			addr++
		}
	}
	if addr != 16 {
		t.Errorf("dangling addressEntity %d, want 16 (SOURCE.md); all: %+v", addr, res.Dangling)
	}
	if n := sink.Count(graph.KindPerson); n != 6 {
		t.Errorf("persons %d, want 6", n)
	}
	if n := sink.Count(graph.KindOrganisation) + sink.Count(graph.KindExchange); n != 11 {
		t.Errorf("companies %d, want 11", n)
	}
	zak := graph.Ref{Kind: graph.KindPerson, Key: "ftm:NK-aU5ybkbRFJucf8YMwsJvDw"}
	cst := graph.Ref{Kind: graph.KindOrganisation, Key: "ftm:NK-abdzbEBkqyT29GyREbiURZ"}
	e, ok := sink.Entity(zak)
	if !ok || e.Props["list_status"] != "sanctioned" || !strings.Contains(e.Props["alias"], graph.MultiSep) {
		t.Errorf("Zakharov = %+v, want sanctioned with several aliases", e)
	}
	owns := 0
	for _, l := range sink.Links {
		if l.From == zak && l.To == cst && l.Type == graph.LinkControls && strings.HasPrefix(l.Role, "owner") {
			owns++
		}
	}
	// Three Ownership records join these two ids (50, 48 and 51 %).
	if owns != 3 {
		t.Errorf("Zakharov owner links to LLC CST: %d, want 3", owns)
	}
	fam := 0
	for _, l := range sink.Links {
		if l.Type == graph.LinkRelated && strings.HasPrefix(l.Role, "family") {
			fam++
		}
	}
	if fam != 4 {
		t.Errorf("family links %d, want 4", fam)
	}
}

func TestPartyDonationsPayments(t *testing.T) {
	res, sink := importFile(t, rectest.SharedData(t, "opensanctions-ftm/parteispenden_entities.ftm.json"))
	if res.Read != 474 || res.Rejected != 0 || res.DanglingCount != 0 {
		t.Errorf("read %d rejected %d dangling %d, want 474, 0, 0 (%+v)", res.Read, res.Rejected, res.DanglingCount, res.Rejects)
	}
	if len(sink.Txns) != 290 {
		t.Fatalf("payments %d, want 290", len(sink.Txns))
	}
	var total int64
	payers := map[graph.Ref]bool{}
	for _, tx := range sink.Txns {
		if tx.Currency != "EUR" {
			t.Errorf("%s currency %s", tx.ID, tx.Currency)
		}
		total += tx.Amount
		payers[tx.From] = true
	}
	if total != 4058968915 {
		t.Errorf("total %s EUR, want 40,589,689.15", graph.FormatAmount(total))
	}
	if len(payers) != 84 {
		t.Errorf("distinct payers %d, want 84", len(payers))
	}
}

const fixture = `{"id":"p1","schema":"Person","properties":{"name":["Ахметов Жанболат","Zhanbolat Akhmetov"],"birthDate":["1985-03-12"],"country":["kz"],"idNumber":["850312300002"],"phone":["+7 701 555 1234"]}}
{"id":"p2","schema":"Person","properties":{"name":["Ivan Petrov"],"country":["ru"],"innCode":["850312300002"]}}
{"id":"x1","schema":"Company","properties":{"name":["TengeObmen24"],"website":["https://www.tengeobmen24.kz/about"]}}
{"id":"o1","schema":"Company","properties":{"name":["ТОО Ромашка"]}}
{"id":"w1","schema":"CryptoWallet","properties":{"publicKey":["TXYZabcdefghijklmnopqrstuvwxyz1234"],"holder":["p1"],"mangingExchange":["o1"]}}
{"id":"w2","schema":"CryptoWallet","properties":{"holder":["p1"]}}
{"id":"a1","schema":"BankAccount","properties":{"iban":["KZ45 722S 0000 5432 6792"],"bankName":["Kaspi Bank"]}}
{"id":"pay1","schema":"Payment","properties":{"payer":["p1"],"payerAccount":["a1"],"beneficiary":["o1"],"amount":["1400000.5"],"currency":["kzt"],"date":["2025-03-15"]}}
{"id":"pay2","schema":"Payment","properties":{"payer":["p1"],"beneficiary":["nope"],"amount":["1"],"currency":["KZT"],"date":["2025-03-15"]}}
{"id":"m1","schema":"Membership","properties":{"member":["p2"],"organization":["o1"],"role":["founder"]}}

not json
{"id":"s1","schema":"Sanction","properties":{"entity":["p2"],"program":["SDN"]}}
{"id":"t1","schema":"Thing","properties":{}}
{"schema":"Person","properties":{}}
`

func TestFixture(t *testing.T) {
	sink := &rectest.Sink{}
	res, err := Import(context.Background(), strings.NewReader(fixture), sink, importers.Options{Name: "f.json"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 14 || !res.Reconciles() {
		t.Fatalf("report %+v", res.Report)
	}
	lines := map[int]string{}
	for _, r := range res.Rejects {
		lines[r.Line] = r.Column
	}
	want := map[int]string{6: "publicKey", 9: "payer", 12: "", 14: "schema", 15: "id"}
	for l, c := range want {
		if got, ok := lines[l]; !ok || got != c {
			t.Errorf("reject at line %d: got column %q (present %v), want %q; all %+v", l, got, ok, c, res.Rejects)
		}
	}
	if res.Rejected != len(want) {
		t.Errorf("rejected %d, want %d: %+v", res.Rejected, len(want), res.Rejects)
	}
	// Kazakh person keyed by IIN; Russian INN with the same digits is not.
	kz := graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	if e, ok := sink.Entity(kz); !ok || e.Props["alias"] != "Zhanbolat Akhmetov" || e.Props["birth_date"] != "1985-03-12" || e.Props["phone"] != "+77015551234" {
		t.Errorf("kz person %+v", e)
	}
	ru := graph.Ref{Kind: graph.KindPerson, Key: "ftm:p2"}
	if e, ok := sink.Entity(ru); !ok || e.Props["list_status"] != "sanctioned" || e.Props["sanction_program"] != "SDN" {
		t.Errorf("ru person %+v", e)
	}
	// o1 manages a wallet: an exchange; x1 by its name; domain from website.
	if _, ok := sink.Entity(graph.Ref{Kind: graph.KindExchange, Key: "ftm:o1"}); !ok {
		t.Error("o1 should be an exchange (managing exchange of a wallet)")
	}
	if e, ok := sink.Entity(graph.Ref{Kind: graph.KindExchange, Key: "ftm:x1"}); !ok || e.Props["domain"] != "tengeobmen24.kz" {
		t.Errorf("x1 = %+v, want an exchange with its domain", e)
	}
	if len(sink.Txns) != 1 {
		t.Fatalf("txns %+v", sink.Txns)
	}
	tx := sink.Txns[0]
	if tx.From != (graph.Ref{Kind: graph.KindAccount, Key: "KZ45722S000054326792"}) || tx.Amount != 140000050 || tx.Currency != "KZT" {
		t.Errorf("payment %+v", tx)
	}
	// The payment gives a date only: no clock time, and the batch says so.
	if r, unit, zone := res.Clock(); !tx.DateOnly || r != graph.TimeDates || unit != 86400 || zone != "Asia/Almaty" {
		t.Errorf("payment date-only %v; clock %s/%d/%s", tx.DateOnly, r, unit, zone)
	}
	if res.DanglingCount != 1 || res.Dangling[0].Missing != "nope" || res.Dangling[0].Line != 9 {
		t.Errorf("dangling %+v", res.Dangling)
	}
	var holds, managed bool
	for _, l := range sink.Links {
		if l.Type == graph.LinkHolds && l.From == kz && l.To.Kind == graph.KindWallet {
			holds = true
		}
		if l.Type == graph.LinkHolds && l.Role == "managing_exchange" {
			managed = true
		}
	}
	if !holds || !managed {
		t.Errorf("wallet links holder %v managing %v: %+v", holds, managed, sink.Links)
	}
}

func TestJSONArray(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, l := range strings.Split(strings.TrimSpace(fixture), "\n") {
		if l == "" || l == "not json" {
			continue
		}
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(l)
	}
	b.WriteString("\n]\n")
	sink := &rectest.Sink{}
	res, err := Import(context.Background(), bytes.NewReader(b.Bytes()), sink, importers.Options{Name: "a.json"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 13 || res.Rejected != 4 || !res.Reconciles() || len(sink.Txns) != 1 {
		t.Errorf("array: %+v txns %d", res.Report, len(sink.Txns))
	}
}

func TestSinkErrorStops(t *testing.T) {
	sink := &rectest.Sink{FailOn: 3}
	res, err := Import(context.Background(), strings.NewReader(fixture), sink, importers.Options{Name: "f.json"})
	if !errors.Is(err, rectest.ErrRefused) || !res.Reconciles() {
		t.Errorf("err %v report %+v", err, res.Report)
	}
}

func TestSniff(t *testing.T) {
	if !Sniff([]byte(fixture[:200])) || !Sniff([]byte("\ufeff [ {\"id\":\"1\",\"schema\":\"Person\"")) {
		t.Error("FtM not sniffed")
	}
	if Sniff([]byte("iin,name\n")) || Sniff([]byte(`{"a":1}`)) {
		t.Error("non-FtM sniffed")
	}
}

func FuzzFtM(f *testing.F) {
	for _, l := range strings.Split(fixture, "\n") {
		f.Add([]byte(l))
	}
	f.Add([]byte(fixture))
	f.Add([]byte(`[{"id":"a","schema":"Payment","properties":{"payer":["a"],"beneficiary":["a"],"amount":["1e308"],"currency":["EUR"],"date":["2025-01-01"]}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzzbudget.Start(t, len(data))()
		sink := &rectest.Sink{}
		res, _ := Import(context.Background(), bytes.NewReader(data), sink, importers.Options{Name: "fuzz"})
		if !res.Reconciles() {
			t.Fatalf("does not reconcile: %+v", res.Report)
		}
		for _, e := range sink.Entities {
			if e.Ref.Kind == graph.KindUnknown || e.Ref.Key == "" {
				t.Fatalf("entity without key: %+v", e)
			}
		}
	})
}
