package importers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
)

// recordingSink keeps everything it receives.
type recordingSink struct {
	entities []graph.Entity
	links    []graph.Link
	txns     []graph.Txn
	failOn   int // fail the n-th call (1-based) when > 0
	calls    int
}

var errSinkFull = errors.New("sink full")

func (s *recordingSink) fail() error {
	s.calls++
	if s.failOn > 0 && s.calls == s.failOn {
		return errSinkFull
	}
	return nil
}

func (s *recordingSink) PutEntity(e graph.Entity) error {
	if err := s.fail(); err != nil {
		return err
	}
	s.entities = append(s.entities, e)
	return nil
}

func (s *recordingSink) PutLink(l graph.Link) error {
	if err := s.fail(); err != nil {
		return err
	}
	s.links = append(s.links, l)
	return nil
}

func (s *recordingSink) PutTxn(t graph.Txn) error {
	if err := s.fail(); err != nil {
		return err
	}
	s.txns = append(s.txns, t)
	return nil
}

func (s *recordingSink) entity(r graph.Ref) (graph.Entity, bool) {
	for _, e := range s.entities {
		if e.Ref == r {
			return e, true
		}
	}
	return graph.Entity{}, false
}

func (s *recordingSink) hasLink(from graph.Ref, typ graph.LinkType, to graph.Ref) bool {
	for _, l := range s.links {
		if l.From == from && l.Type == typ && l.To == to {
			return true
		}
	}
	return false
}

func importFile(t *testing.T, name string) (Report, *recordingSink, string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "canonical", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rej bytes.Buffer
	sink := &recordingSink{}
	rep, err := ImportReader(context.Background(), f, sink, Options{Name: name, Batch: 7, Rejects: NewRejectWriter(&rej)})
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	if !rep.Reconciles() {
		t.Errorf("%s: report does not reconcile: %+v", name, rep)
	}
	return rep, sink, rej.String()
}

func ref(k graph.Kind, key string) graph.Ref { return graph.Ref{Kind: k, Key: key} }

func TestImportPersons(t *testing.T) {
	rep, sink, _ := importFile(t, "persons.csv") // starts with a BOM
	if rep.Format != FormatPersons || rep.Read != 4 || rep.Imported != 4 || rep.Rejected != 0 || rep.Skipped != 0 {
		t.Fatalf("report = %+v", rep)
	}
	p, ok := sink.entity(ref(graph.KindPerson, "850312300002"))
	if !ok {
		t.Fatal("person 850312300002 not emitted")
	}
	if p.Name != "Ахметов Жанболат Серікұлы" {
		t.Errorf("name = %q, want spaces collapsed", p.Name)
	}
	if p.Props["nationality"] != "KZ" || p.Props["phone"] != "+77015551234" || p.Props["birth_date"] != "1985-03-12" {
		t.Errorf("props = %v", p.Props)
	}
	if p.Stub || p.Src != (graph.Provenance{File: "persons.csv", Line: 2, Batch: 7}) {
		t.Errorf("stub=%v src=%+v", p.Stub, p.Src)
	}
	person := ref(graph.KindPerson, "900515300008")
	if !sink.hasLink(person, graph.LinkUsesPhone, ref(graph.KindPhone, "+77021112233")) {
		t.Error("missing uses_phone link with normalised phone")
	}
	addr := ref(graph.KindAddress, "Алматы, ул. Абая 10, кв 5")
	if !sink.hasLink(ref(graph.KindPerson, "920711400122"), graph.LinkResidesAt, addr) {
		t.Error("missing resides_at link")
	}
	n := 0
	for _, e := range sink.entities {
		if e.Ref == addr {
			n++
		}
	}
	if n != 1 {
		t.Errorf("shared address emitted %d times, want once per file", n)
	}
	if _, ok := sink.entity(ref(graph.KindPerson, "881102300336")); !ok {
		t.Error("person without optional columns not emitted")
	}
}

func TestImportCards(t *testing.T) {
	rep, sink, _ := importFile(t, "cards.csv")
	if rep.Format != FormatCards || rep.Read != 5 || rep.Imported != 5 {
		t.Fatalf("report = %+v", rep)
	}
	card, ok := sink.entity(ref(graph.KindCard, "4400430000000015"))
	if !ok {
		t.Fatal("card not emitted")
	}
	want := map[string]string{"bank": "Kaspi Bank", "iban": "KZ45722S000054326792", "issued": "2025-01-10",
		"status": "active", "holder_iin": "850312300002", "product": "Kaspi Gold"}
	for k, v := range want {
		if card.Props[k] != v {
			t.Errorf("card prop %s = %q, want %q", k, card.Props[k], v)
		}
	}
	holder := ref(graph.KindPerson, "850312300002")
	acct := ref(graph.KindAccount, "KZ45722S000054326792")
	if !sink.hasLink(holder, graph.LinkHolds, card.Ref) || !sink.hasLink(card.Ref, graph.LinkCardOf, acct) ||
		!sink.hasLink(holder, graph.LinkHolds, acct) {
		t.Errorf("missing holds/card_of links: %+v", sink.links)
	}
	if e, ok := sink.entity(acct); !ok || !e.Stub {
		t.Errorf("account stub = %+v, %v", e, ok)
	}
	if _, ok := sink.entity(ref(graph.KindCard, "440043******7894")); !ok {
		t.Error("masked card not emitted in canonical form")
	}
	if _, ok := sink.entity(ref(graph.KindAccount, "KZ84722S000099887766")); !ok {
		t.Error("lower-case spaced IBAN not normalised")
	}
	// Holders: 850312300002 (twice), 900515300008, 920711400122, 781231300664 → 4 person stubs, 3 account stubs.
	if rep.Stubs != 7 {
		t.Errorf("stubs = %d, want 7 (each stub once per file)", rep.Stubs)
	}
}

func TestImportExchangesGroupsMemberships(t *testing.T) {
	rep, sink, _ := importFile(t, "exchanges.csv")
	if rep.Format != FormatExchanges || rep.Imported != 2 {
		t.Fatalf("report = %+v", rep)
	}
	ex, _ := sink.entity(ref(graph.KindExchange, "EX-0001"))
	if v, ok := ex.Props["afsa_licence"]; !ok || v != "" {
		t.Errorf("unlicensed exchange: afsa_licence = %q, %v; want present and empty", v, ok)
	}
	if ex.Props["domain"] != "tengeobmen24.kz" || ex.Props["telegram"] != "@tengeobmen24" || ex.Name != "ТенгеОбмен24" {
		t.Errorf("exchange = %+v", ex)
	}

	rep, sink, _ = importFile(t, "groups.csv")
	if rep.Format != FormatGroups || rep.Imported != 2 {
		t.Fatalf("report = %+v", rep)
	}
	g, _ := sink.entity(ref(graph.KindGroup, "G-ALA-3"))
	if g.Name != "Жанболат & Co" || g.Props["case_ref"] != "AFM-2025-0813" {
		t.Errorf("group = %+v", g)
	}

	rep, sink, _ = importFile(t, "memberships.csv")
	if rep.Format != FormatMemberships || rep.Imported != 4 {
		t.Fatalf("report = %+v", rep)
	}
	grp := ref(graph.KindGroup, "G-ALA-3")
	var organiser bool
	for _, l := range sink.links {
		if l.From == ref(graph.KindPerson, "850312300002") && l.To == grp && l.Type == graph.LinkMemberOf && l.Role == "organiser" {
			organiser = true
		}
	}
	if !organiser {
		t.Error("missing member_of with role organiser")
	}
	if !sink.hasLink(grp, graph.LinkOperates, ref(graph.KindExchange, "EX-0001")) {
		t.Error("missing operates link for an exchange member")
	}
	if !sink.hasLink(ref(graph.KindPerson, "920711400122"), graph.LinkMemberOf, ref(graph.KindGroup, "G-AST-1")) {
		t.Error("typed iin: member not resolved")
	}
}

func TestImportTransactions(t *testing.T) {
	rep, sink, _ := importFile(t, "transactions.csv")
	if rep.Format != FormatTransactions || rep.Read != 5 || rep.Imported != 5 || len(sink.txns) != 5 {
		t.Fatalf("report = %+v, txns = %d", rep, len(sink.txns))
	}
	t1 := sink.txns[0]
	if t1.ID != "T000001" || t1.Amount != 49500000 || t1.Channel != graph.ChannelTopup || t1.ATM != "ATM-ALA-0042" ||
		t1.AppConfirmed != graph.TriNo || t1.IINProvided != graph.TriUnknown || t1.Props["city"] != "Almaty" {
		t.Errorf("T000001 = %+v", t1)
	}
	if want := time.Date(2025, 3, 13, 5, 22, 0, 0, time.UTC); !t1.Time.Equal(want) {
		t.Errorf("zone-less time = %v, want %v (Almaty is UTC+5)", t1.Time, want)
	}
	if t1.From != ref(graph.KindATM, "ATM-ALA-0042") || t1.To != ref(graph.KindCard, "4400430000000015") {
		t.Errorf("endpoints = %v → %v", t1.From, t1.To)
	}
	t3 := sink.txns[2]
	if t3.Amount != 25000050 || t3.Currency != "KZT" || t3.IINProvided != graph.TriYes ||
		t3.Props["iin_provided"] != "850312300002" || t3.Reference != "за ремонт, долг" ||
		t3.From != ref(graph.KindCard, "4400431234567894") || t3.To != ref(graph.KindCard, "440043******7894") {
		t.Errorf("T000003 = %+v", t3)
	}
	t4 := sink.txns[3]
	if t4.To != graph.CashRef || t4.Channel != graph.ChannelCashOut {
		t.Errorf("T000004 = %+v", t4)
	}
	t5 := sink.txns[4]
	if t5.From != ref(graph.KindAccount, "KZ45722S000054326792") || t5.To != ref(graph.KindWallet, "TRON:TXYZabc123") ||
		t5.Channel != graph.ChannelTransfer || t5.Currency != "KZT" || t5.IINProvided != graph.TriNo || t5.AppConfirmed != graph.TriYes {
		t.Errorf("T000005 = %+v", t5)
	}
	for _, e := range sink.entities {
		if e.Ref.Kind == graph.KindCash {
			t.Errorf("cash endpoint emitted as an entity: %+v", e)
		}
	}
	dev := ref(graph.KindDevice, "DEV-9F3A")
	if !sink.hasLink(ref(graph.KindCard, "4400430000000015"), graph.LinkUsesDevice, dev) ||
		!sink.hasLink(ref(graph.KindCard, "4400431234567894"), graph.LinkUsesDevice, dev) ||
		!sink.hasLink(ref(graph.KindCard, "4400430000000015"), graph.LinkUsesIP, ref(graph.KindIP, "10.1.2.3")) {
		t.Errorf("device/ip links = %+v", sink.links)
	}
	// Stubs: atm, card …015, exchange, card …894, masked card, card …213, iban, wallet.
	if rep.Stubs != 8 {
		t.Errorf("stubs = %d, want 8", rep.Stubs)
	}
}

func TestImportBadTransactions(t *testing.T) {
	rep, sink, rejCSV := importFile(t, "bad_transactions.csv")
	if rep.Read != 15 || rep.Imported != 2 || rep.Rejected != 13 {
		t.Fatalf("report read=%d imported=%d rejected=%d, want 15/2/13; rejects %+v", rep.Read, rep.Imported, rep.Rejected, rep.Rejects)
	}
	want := []struct {
		line   int
		column string
		reason string
	}{
		{2, "from", "luhn"},
		{3, "from", "checksum"},
		{4, "from", "mod-97"},
		{5, "amount", "at most 2 decimals"},
		{6, "amount", "greater than zero"},
		{7, "time", "out of range"},
		{8, "from", "unknown entity kind"},
		{9, "to", "required value is empty"},
		{10, "", "want 13 fields as in the header, got 7"},
		{13, "channel", "unknown channel"}, // after a quoted field spanning lines 11–12
		{14, "iin_provided", "want the sender's IIN"},
		{15, "", "malformed CSV: bare \""},
		{16, "", "malformed CSV: extraneous or missing \" in quoted-field"},
	}
	if len(rep.Rejects) != len(want) {
		t.Fatalf("rejects = %d, want %d: %+v", len(rep.Rejects), len(want), rep.Rejects)
	}
	for i, w := range want {
		r := rep.Rejects[i]
		if r.File != "bad_transactions.csv" || r.Line != w.line || r.Column != w.column || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("reject %d = %+v; want line %d column %q reason ~%q", i, r, w.line, w.column, w.reason)
		}
	}
	if len(sink.txns) != 2 || sink.txns[0].ID != "G001" || sink.txns[0].Src.Line != 11 || sink.txns[1].ID != "G002" || sink.txns[1].Src.Line != 17 {
		t.Errorf("imported = %+v", sink.txns)
	}
	rows, err := csv.NewReader(strings.NewReader(rejCSV)).ReadAll()
	if err != nil {
		t.Fatalf("rejects file is not CSV: %v", err)
	}
	if len(rows) != rep.Rejected+1 || strings.Join(rows[0], ",") != "file,line,column,value,reason" {
		t.Fatalf("rejects file has %d rows, header %v", len(rows), rows[0])
	}
	if r := rows[1]; r[0] != "bad_transactions.csv" || r[1] != "2" || r[2] != "from" || r[3] != "card:4400430000000016" {
		t.Errorf("first rejects row = %q", r)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		header []string
		want   Format
		err    string
	}{
		{[]string{"iin", "name"}, FormatPersons, ""},
		{[]string{" Name ", "IIN", "phone"}, FormatPersons, ""},
		{[]string{"\ufeffiin", "name"}, FormatPersons, ""},
		{[]string{"status", "holder_iin", "PAN"}, FormatCards, ""},
		{[]string{"name", "exchange_id"}, FormatExchanges, ""},
		{[]string{"case_ref", "name", "group_id"}, FormatGroups, ""},
		{[]string{"role", "member", "group_id"}, FormatMemberships, ""},
		{[]string{"amount", "to", "from", "time", "tx_id", "extra"}, FormatTransactions, ""},
		{[]string{"a", "b"}, "", "transactions needs tx_id, time, from, to, amount"},
		{[]string{"tx_id", "time", "from", "to"}, "", "unrecognised header"},
		{[]string{"group_id", "name", "member"}, "", "ambiguous"},
		{[]string{"iin", "name", "IIN"}, "", "twice"},
	}
	for _, tt := range tests {
		got, err := Detect(tt.header)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("Detect(%q) = %q, %v; want %q", tt.header, got, err, tt.want)
			}
		} else if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Detect(%q) = %q, %v; want error ~%q", tt.header, got, err, tt.err)
		}
	}
}

func importString(t *testing.T, name, data string, sink Sink) (Report, error) {
	t.Helper()
	if sink == nil {
		sink = &recordingSink{}
	}
	rep, err := ImportReader(context.Background(), strings.NewReader(data), sink, Options{Name: name})
	if !rep.Reconciles() {
		t.Errorf("%s: report does not reconcile: %+v", name, rep)
	}
	return rep, err
}

func TestImportUnnamedColumnKept(t *testing.T) {
	sink := &recordingSink{}
	if _, err := importString(t, "g.csv", "group_id,,name\nG1,note,One\n", sink); err != nil {
		t.Fatal(err)
	}
	if g, _ := sink.entity(ref(graph.KindGroup, "G1")); g.Name != "One" || g.Props["column_2"] != "note" {
		t.Errorf("group = %+v", g)
	}
}

func TestImportHeaderErrors(t *testing.T) {
	if _, err := importString(t, "empty.csv", "", nil); err == nil || !strings.Contains(err.Error(), "empty.csv: empty file") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := importString(t, "odd.csv", "x,y\n1,2\n", nil); err == nil || !strings.Contains(err.Error(), "odd.csv: unrecognised header") {
		t.Errorf("unknown header: %v", err)
	}
}

func TestImportUnterminatedQuote(t *testing.T) {
	data := "group_id,name\nG1,One\nG2,\"Two\nG3,Three\nG4,Four\n"
	sink := &recordingSink{}
	rep, err := importString(t, "g.csv", data, sink)
	if err == nil || !strings.Contains(err.Error(), "g.csv: line 3: quoted field never closed") {
		t.Fatalf("err = %v", err)
	}
	if rep.Read != 2 || rep.Imported != 1 || rep.Rejected != 1 || rep.UnreadLines != 2 || rep.Rejects[0].Line != 3 {
		t.Errorf("report = %+v", rep)
	}
}

func TestImportSinkErrorAborts(t *testing.T) {
	data := "group_id,name\nG1,One\nG2,Two\nG3,Three\n"
	sink := &recordingSink{failOn: 2}
	rep, err := importString(t, "g.csv", data, sink)
	if !errors.Is(err, errSinkFull) || !strings.Contains(err.Error(), "g.csv: line 3") {
		t.Fatalf("err = %v", err)
	}
	if rep.Imported != 1 {
		t.Errorf("report = %+v", rep)
	}
}

func TestImportRejectWriterError(t *testing.T) {
	data := "group_id,name\nG1,\n"
	_, err := ImportReader(context.Background(), strings.NewReader(data), &recordingSink{},
		Options{Name: "g.csv", Rejects: failingWriter{}})
	if err == nil || !strings.Contains(err.Error(), "write reject of line 2") {
		t.Fatalf("err = %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

func TestImportCancelled(t *testing.T) {
	var b strings.Builder
	b.WriteString("group_id,name\n")
	for i := 0; i < 10000; i++ {
		b.WriteString("G,N\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := ImportReader(ctx, strings.NewReader(b.String()), &recordingSink{}, Options{Name: "g.csv"})
	if !errors.Is(err, context.Canceled) || rep.Read >= 10000 || !rep.Reconciles() {
		t.Fatalf("rep = %+v, err = %v", rep, err)
	}
}

func TestImportProgressAndStubBound(t *testing.T) {
	var b strings.Builder
	b.WriteString("tx_id,time,from,to,amount\n")
	for i := 0; i < 3*4096; i++ {
		b.WriteString("T,2025-03-15 02:10,card:4400430000000015,atm:A1,10\n")
	}
	var calls, lastRows int
	var lastBytes int64
	sink := &recordingSink{}
	rep, err := ImportReader(context.Background(), strings.NewReader(b.String()), sink, Options{
		Name: "t.csv",
		Progress: func(n int64, rows int) {
			calls++
			lastBytes, lastRows = n, rows
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || lastRows != 3*4096 || lastBytes != int64(b.Len()) {
		t.Errorf("progress calls=%d last=(%d bytes, %d rows), want final (%d, %d)", calls, lastBytes, lastRows, b.Len(), 3*4096)
	}
	if rep.Stubs != 2 || len(sink.entities) != 2 {
		t.Errorf("stubs = %d, entities = %d; want each endpoint stubbed once", rep.Stubs, len(sink.entities))
	}
}

func TestImportRejectsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("group_id,name\n")
	for i := 0; i < MaxRejectsKept+10; i++ {
		b.WriteString("G,\n")
	}
	rep, err := importString(t, "g.csv", b.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != MaxRejectsKept+10 || len(rep.Rejects) != MaxRejectsKept {
		t.Errorf("rejected=%d kept=%d", rep.Rejected, len(rep.Rejects))
	}
}

func TestImportCRLFAndATMEndpoint(t *testing.T) {
	data := "\ufefftx_id,time,from,to,amount\r\n" +
		"T1,2025-03-15 02:10,atm:A-7,card:4400430000000015,100\r\n" +
		"\r\n" +
		"T2,2025-03-15 02:11,card:4400430000000015,cash,abc\r\n"
	sink := &recordingSink{}
	rep, err := importString(t, "crlf.csv", data, sink)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != 2 || rep.Imported != 1 || rep.Rejects[0].Line != 4 || rep.Rejects[0].Column != "amount" {
		t.Fatalf("report = %+v", rep)
	}
	if tx := sink.txns[0]; tx.ATM != "A-7" || tx.Src.Line != 2 {
		t.Errorf("txn = %+v", tx)
	}
}
