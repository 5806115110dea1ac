package profile

import (
	"bytes"
	"context"
	"maps"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"casegraph/graph"
	"casegraph/importers"
)

const defineProfile = `name: define
files:
  - match: "*.csv"
    meta:
      account: "(?i)^account"
    records:
      - txn:
          id: "{id}"
          time: {value: "{date}", format: dmy}
          from: {kind: account, key: "{meta.account}", validate: true}
          to: {kind: person, key: "{iin}", validate: true}
          amount: {value: "{amount}"}
      - entity:
          ref: {kind: person, key: "{iin}", validate: true}
          name: "{name}"
          props: {birth_date: {column: born, date: {format: dmy}}}
      - link:
          from: {kind: person, key: "{iin}", validate: true}
          to: {kind: account, key: "{meta.account}", validate: true}
          type: holds
`

func importDefine(t *testing.T, csv string) (*recSink, importers.Report) {
	t.Helper()
	p, err := Parse([]byte(defineProfile))
	if err != nil {
		t.Fatal(err)
	}
	sink := newSink()
	rep, err := p.Import(context.Background(), strings.NewReader(csv), sink, Options{Options: importers.Options{Name: "x.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Reconciles() {
		t.Fatalf("does not reconcile: %+v", rep)
	}
	return sink, rep
}

// TestFirstRowDefines: an entity or link is sent once, from the first
// imported row defining it; a later row's values for it are still checked
// (a bad one rejects the row) and compared: a later row that gives it a
// different name or property is a conflicting duplicate, rejected naming
// both lines, never dropped unseen; a rejected row defines nothing.
func TestFirstRowDefines(t *testing.T) {
	a, b := makeIIN(10), makeIIN(20)
	acct := kzIBAN("722", 1)
	csv := "account;" + acct + "\n" +
		"id;date;iin;name;born;amount\n" +
		"1;01.03.2025;" + b + ";Rejected Name;31.02.1990;1\n" + // bad birth date: rejected
		"2;01.03.2025;" + a + ";First Name;01.02.1990;1\n" +
		"3;02.03.2025;" + a + ";Second Name;02.02.1990;2\n" + // defined already, differently: a conflict
		"4;03.03.2025;" + a + ";Third Name;30.02.1990;3\n" + // defined, but a bad value: rejected
		"5;04.03.2025;" + b + ";B Name;03.02.1990;4\n" +
		"6;05.03.2025;" + a + ";First Name;01.02.1990;5\n" // the same values again: imported
	sink, rep := importDefine(t, csv)
	if rep.Imported != 3 || rep.Rejected != 3 {
		t.Fatalf("imported %d rejected %d: %+v", rep.Imported, rep.Rejected, rep.Rejects)
	}
	if rep.Rejects[0].Line != 3 || rep.Rejects[2].Line != 6 || rep.Rejects[2].Column != "born" {
		t.Errorf("rejects %+v", rep.Rejects)
	}
	if r := rep.Rejects[1]; r.Line != 5 || r.Column != "name" || !strings.Contains(r.Reason, "x.csv:5") || !strings.Contains(r.Reason, "x.csv:4") {
		t.Errorf("conflict reject %+v: want line 5 naming x.csv:5 and x.csv:4", r)
	}
	pa, pb := graph.Ref{Kind: graph.KindPerson, Key: a}, graph.Ref{Kind: graph.KindPerson, Key: b}
	if e := sink.ents[pa]; e.Name != "First Name" || e.Props["birth_date"] != "1990-02-01" || e.Src.Line != 4 {
		t.Errorf("a = %+v, want the first imported row's values", e)
	}
	if e := sink.ents[pb]; e.Name != "B Name" || e.Src.Line != 7 {
		t.Errorf("b = %+v, want the row after the rejected one", e)
	}
	if len(sink.links) != 2 {
		t.Errorf("%d links sent, want one per holder: %+v", len(sink.links), sink.links)
	}
	if len(sink.txns) != 3 {
		t.Errorf("%d transactions, want 3", len(sink.txns))
	}
}

// TestMetadataRefRejectsEveryRow: a reference read from the metadata is
// evaluated once per file, and when it is invalid every row is rejected
// naming the metadata field.
func TestMetadataRefRejectsEveryRow(t *testing.T) {
	csv := "account;KZ000000000000000000\n" +
		"id;date;iin;name;born;amount\n" +
		"1;01.03.2025;" + makeIIN(10) + ";A;01.02.1990;1\n" +
		"2;01.03.2025;" + makeIIN(20) + ";B;01.02.1990;1\n" +
		"3;01.03.2025;" + makeIIN(30) + ";C;01.02.1990;1\n"
	sink, rep := importDefine(t, csv)
	if rep.Rejected != 3 || rep.Imported != 0 || len(sink.ents) != 0 {
		t.Fatalf("rejected %d imported %d ents %d", rep.Rejected, rep.Imported, len(sink.ents))
	}
	for _, r := range rep.Rejects {
		if r.Column != "meta.account" || r.Value != "KZ000000000000000000" {
			t.Errorf("reject %+v", r)
		}
	}
}

// copySink copies what it is given, as the store does, and says so: the
// importer then reuses property maps.
type copySink struct{ *recSink }

func (s copySink) CopiesRecords() {}

func (s copySink) PutEntity(e graph.Entity) error {
	e.Props = maps.Clone(e.Props)
	return s.recSink.PutEntity(e)
}

func (s copySink) PutTxn(t graph.Txn) error {
	t.Props = maps.Clone(t.Props)
	return s.recSink.PutTxn(t)
}

// TestReusedPropertyMaps: with a sink that copies records the importer
// recycles property maps, and the records received are those a keeping
// sink receives.
func TestReusedPropertyMaps(t *testing.T) {
	var buf bytes.Buffer
	if err := writeStatement(&buf, 3000); err != nil {
		t.Fatal(err)
	}
	// Cash rows name no counterparty: a reused map must not keep the
	// previous row's.
	cash, _ := charmap.Windows1251.NewEncoder().Bytes([]byte("Снятие наличных"))
	data := bytes.ReplaceAll(buf.Bytes(), cash, nil)
	kept, copied := newSink(), copySink{newSink()}
	importStatement(t, data, kept)
	importStatement(t, data, copied)
	if !reflect.DeepEqual(kept.txns, copied.txns) || !reflect.DeepEqual(kept.ents, copied.ents) {
		t.Fatal("records differ when property maps are reused")
	}
	if kept.txns[len(kept.txns)-1].Props["document"] != "3000" || kept.txns[0].Props["counterparty"] != "" {
		t.Fatalf("first and last transactions' props %v, %v", kept.txns[0].Props, kept.txns[len(kept.txns)-1].Props)
	}
}
