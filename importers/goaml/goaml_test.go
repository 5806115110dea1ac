package goaml

import (
	"casegraph/internal/fuzzbudget"

	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/internal/rectest"
)

func TestSharedSamples(t *testing.T) {
	dir := rectest.SharedData(t, "goaml/samples")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.xml"))
	if len(files) != 10 {
		t.Fatalf("found %d sample reports, want 10", len(files))
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !Sniff(data[:min(len(data), 4096)]) {
			t.Errorf("%s: not sniffed as goAML", path)
		}
		// Rows are transaction and report_party elements.
		want := strings.Count(string(data), "<transaction>") + strings.Count(string(data), "<report_party>")
		sink := &rectest.Sink{}
		rep, err := Import(context.Background(), bytes.NewReader(data), sink, importers.Options{Name: filepath.Base(path)})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if rep.Read != want || rep.Imported != want || !rep.Reconciles() {
			t.Errorf("%s: report %+v, want %d rows imported", path, rep, want)
		}
	}
}

func TestSTR(t *testing.T) {
	path := filepath.Join(rectest.SharedData(t, "goaml/samples"), "golden-vyttah", "STR.xml")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sink := &rectest.Sink{}
	if _, err := Import(context.Background(), f, sink, importers.Options{Name: "STR.xml"}); err != nil {
		t.Fatal(err)
	}
	if len(sink.Txns) != 1 {
		t.Fatalf("txns %+v", sink.Txns)
	}
	tx := sink.Txns[0]
	if tx.ID != "goaml:101:TXN-987654" || tx.Amount != 12000000 || tx.Currency != "AED" || tx.Props["transmode_code"] != "ELCFT" {
		t.Errorf("txn %+v", tx)
	}
	from, _ := sink.Entity(tx.From)
	if from.Name != "Hassan Layla" || from.Props["birth_date"] != "1989-07-02" || from.Props["goaml_report"] != "STR-2026-0042" {
		t.Errorf("from %+v", from)
	}
	if to, _ := sink.Entity(tx.To); to.Name != "Smith John" || to.Ref.Kind != graph.KindPerson {
		t.Errorf("to %+v", to)
	}
}

const fixture = `<?xml version="1.0" encoding="UTF-8"?>
<report>
  <rentity_id>7</rentity_id>
  <report_code>STR</report_code>
  <entity_reference>KZ-1</entity_reference>
  <currency_code_local>KZT</currency_code_local>
  <transaction>
    <transactionnumber>T1</transactionnumber>
    <date_transaction>2025-03-15T02:10:00</date_transaction>
    <amount_local>495000.00</amount_local>
    <t_from_my_client>
      <from_account>
        <institution_name>Kaspi Bank</institution_name>
        <iban>KZ45 722S 0000 5432 6792</iban>
        <signatory><is_primary>true</is_primary><t_person><first_name>Жанболат</first_name><last_name>Ахметов</last_name><ssn>850312300002</ssn></t_person><role>A</role></signatory>
      </from_account>
    </t_from_my_client>
    <t_to>
      <to_entity><name>ТОО Ромашка</name><incorporation_number>040340004345</incorporation_number></to_entity>
    </t_to>
  </transaction>
  <transaction>
    <transactionnumber>T2</transactionnumber>
    <date_transaction>15.03.2025</date_transaction>
    <amount_local>1</amount_local>
  </transaction>
  <transaction>
    <transactionnumber>T3</transactionnumber>
    <date_transaction>2025-03-15T02:10:00</date_transaction>
    <amount_local>10</amount_local>
    <t_from><from_person></from_person></t_from>
    <t_to><to_person><first_name>A</first_name></to_person></t_to>
  </transaction>
</report>`

func TestFixture(t *testing.T) {
	sink := &rectest.Sink{}
	rep, err := Import(context.Background(), strings.NewReader(fixture), sink, importers.Options{Name: "f.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != 3 || rep.Imported != 1 || rep.Rejected != 2 || !rep.Reconciles() {
		t.Fatalf("report %+v", rep)
	}
	if r := rep.Rejects[0]; r.Line != 22 || r.Column != "report/transaction" || !strings.Contains(r.Reason, "date_transaction") {
		t.Errorf("reject %+v", r)
	}
	if r := rep.Rejects[1]; r.Line != 27 || !strings.Contains(r.Reason, "t_from") {
		t.Errorf("reject %+v", r)
	}
	tx := sink.Txns[0]
	iban := graph.Ref{Kind: graph.KindAccount, Key: "KZ45722S000054326792"}
	if tx.From != iban || tx.Amount != 49500000 || tx.Time.Hour() != 21 {
		t.Errorf("txn %+v", tx)
	}
	holder := graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	found := false
	for _, l := range sink.Links {
		if l.From == holder && l.To == iban && l.Type == graph.LinkHolds && l.Role == "signatory: A (primary)" {
			found = true
		}
	}
	if !found {
		t.Errorf("signatory link missing: %+v", sink.Links)
	}
}

func TestMalformed(t *testing.T) {
	for _, in := range []string{"<report><transaction>", "<nope/>", "", "<report><rentity_id>1</rentity_id></repor>"} {
		rep, err := Import(context.Background(), strings.NewReader(in), &rectest.Sink{}, importers.Options{Name: "m.xml"})
		if err == nil || !rep.Reconciles() {
			t.Errorf("%q: err %v report %+v", in, err, rep)
		}
	}
}

func FuzzGoAML(f *testing.F) {
	f.Add(fixture)
	f.Add("<report><activity><report_parties><report_party><person><first_name>x</first_name></person></report_party></report_parties></activity></report>")
	f.Fuzz(func(t *testing.T, in string) {
		defer fuzzbudget.Start(t, len(in))()
		sink := &rectest.Sink{}
		rep, _ := Import(context.Background(), strings.NewReader(in), sink, importers.Options{Name: "f"})
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

const multiParty = `<?xml version="1.0" encoding="UTF-8"?>
<report>
  <rentity_id>7</rentity_id>
  <currency_code_local>KZT</currency_code_local>
  <transaction>
    <transactionnumber>M1</transactionnumber>
    <date_transaction>2025-03-15T02:10:00</date_transaction>
    <amount_local>250000</amount_local>
    <involved_parties>
      <party><role>RMITR</role><account><iban>KZ45722S000054326792</iban></account><country>KZ</country></party>
      <party><role>BNFCR</role><person><first_name>Ерлан</first_name><last_name>Ахметов</last_name><ssn>850312300002</ssn></person><country>KZ</country></party>
      <party><role>WITN</role><person><first_name>Анна</first_name><last_name>Ли</last_name><birthdate>1990-01-02</birthdate></person><country>KZ</country></party>
    </involved_parties>
  </transaction>
  <transaction>
    <transactionnumber>M2</transactionnumber>
    <date_transaction>2025-03-16T02:10:00</date_transaction>
    <amount_local>100</amount_local>
    <involved_parties>
      <party><role>RMITR</role><account><iban>KZ45722S000054326792</iban></account><country>KZ</country></party>
      <party><role>RMITR</role><person><first_name>Анна</first_name><last_name>Ли</last_name><birthdate>1990-01-02</birthdate></person><country>KZ</country></party>
      <party><role>BNFCR</role><person><first_name>Ерлан</first_name><last_name>Ахметов</last_name><ssn>850312300002</ssn></person><country>KZ</country></party>
    </involved_parties>
  </transaction>
</report>`

// TestMultiParty: a multi-party transaction whose roles name one remitter
// and one beneficiary becomes a transaction between them; with two
// remitters the direction is unknown and only the parties are imported.
func TestMultiParty(t *testing.T) {
	sink := &rectest.Sink{}
	rep, err := Import(context.Background(), strings.NewReader(multiParty), sink, importers.Options{Name: "m.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != 2 || rep.Imported != 2 || !rep.Reconciles() {
		t.Fatalf("report %+v", rep)
	}
	if len(sink.Txns) != 1 {
		t.Fatalf("%d transactions, want the one with a remitter and a beneficiary: %+v", len(sink.Txns), sink.Txns)
	}
	tx := sink.Txns[0]
	iban := graph.Ref{Kind: graph.KindAccount, Key: "KZ45722S000054326792"}
	person := graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	if tx.ID != "goaml:7:M1" || tx.From != iban || tx.To != person || tx.Amount != 25000000 || tx.Props["involved_parties"] != "3" {
		t.Errorf("txn %+v", tx)
	}
	for _, r := range []graph.Ref{tx.From, tx.To} {
		if _, ok := sink.Entity(r); !ok {
			t.Errorf("party %s not imported", r)
		}
	}
}
