package profile

import (
	"bytes"
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/gen"
)

// kzIBAN and makeIIN are gen's valid identifiers of a bank code and serial
// number, as in its statements.
var (
	kzIBAN  = gen.SerialIBAN
	makeIIN = gen.SerialIIN
)

// writeStatement writes gen's Windows-1251 bank statement (the holder's
// account is kzIBAN("722", 1), its IIN makeIIN(1)).
func writeStatement(w io.Writer, rows int) error { return gen.WriteStatement(w, rows) }

func importStatement(t testing.TB, data []byte, sink importers.Sink) importers.Report {
	t.Helper()
	p, err := Builtin("bank-statement")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Import(context.Background(), bytes.NewReader(data), sink, Options{Options: importers.Options{Name: "statement.csv"}})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

func TestBankStatement(t *testing.T) {
	var buf bytes.Buffer
	if err := writeStatement(&buf, 300); err != nil {
		t.Fatal(err)
	}
	// Two broken rows: a bad date and both debit and credit filled in.
	data := buf.Bytes()
	data = bytes.Replace(data, []byte("05.03.2025 04:04"), []byte("35.03.2025 04:04"), 1)
	enc, _ := charmap.Windows1251.NewEncoder().String("01.03.2025;11;12,00;13,00;KZT;x;;;двойная\r\n")
	data = append(data, enc...)
	sink := newSink()
	rep := importStatement(t, data, sink)
	if !rep.Reconciles() {
		t.Fatalf("does not reconcile: %+v", rep)
	}
	// 4 metadata rows + 300 data + 2 totals + 1 broken = 307 rows read.
	if rep.Read != 307 || rep.Skipped != 6 || rep.Rejected != 2 || rep.Imported != 299 {
		t.Fatalf("read %d imported %d rejected %d skipped %d; rejects %v skips %v",
			rep.Read, rep.Imported, rep.Rejected, rep.Skipped, rep.Rejects, rep.Skips)
	}
	if rep.Rejects[0].Line != 10 || rep.Rejects[0].Column != "Дата" || rep.Rejects[1].Line != 308 || rep.Rejects[1].Reason != "both debit and credit are filled in" {
		t.Errorf("rejects %+v", rep.Rejects)
	}
	if rep.Skips[4].Line != 306 || !strings.Contains(rep.Skips[4].Reason, "Итого") {
		t.Errorf("skips %+v", rep.Skips)
	}
	holder := graph.Ref{Kind: graph.KindAccount, Key: kzIBAN("722", 1)}
	var debits, credits, cash int
	for _, x := range sink.txns {
		switch {
		case x.From == holder && x.To == graph.CashRef:
			cash++
		case x.From == holder:
			debits++
		case x.To == holder:
			credits++
		default:
			t.Fatalf("txn %s does not touch the statement's account: %s → %s", x.ID, x.From, x.To)
		}
		if x.Amount <= 0 || x.Currency != "KZT" {
			t.Fatalf("txn %+v", x)
		}
	}
	if cash == 0 || credits == 0 || debits == 0 {
		t.Errorf("debits %d credits %d cash %d", debits, credits, cash)
	}
	first := sink.txns[0] // row 0 is a credit without counterparty account (i%7, i%11)
	if first.To != holder || first.Amount != 100000 || first.Time.Hour() != 19 || first.Time.Day() != 28 {
		t.Errorf("first txn %+v (01.03.2025 00:00 Almaty is 28.02 19:00 UTC)", first)
	}
	owner := sink.ents[graph.Ref{Kind: graph.KindPerson, Key: makeIIN(1)}]
	if owner.Name != `ТОО "Ромашка"` {
		t.Errorf("statement holder from metadata = %+v", owner)
	}
	partyLinks := 0
	for _, l := range sink.links {
		if l.Type == graph.LinkHolds && l.To.Kind == graph.KindAccount && l.To != holder {
			partyLinks++
		}
	}
	if partyLinks == 0 {
		t.Error("counterparties should hold their accounts")
	}
}

// countSink counts records and keeps nothing, for benchmarks.
type countSink struct{ ents, links, txns int }

func (s *countSink) PutEntity(graph.Entity) error { s.ents++; return nil }
func (s *countSink) PutLink(graph.Link) error     { s.links++; return nil }
func (s *countSink) PutTxn(graph.Txn) error       { s.txns++; return nil }

// BenchmarkStatementImport imports a generated 1M-row Windows-1251 `;`
// bank statement through the bank-statement profile into a counting sink.
func BenchmarkStatementImport(b *testing.B) {
	const rows = 1_000_000
	var buf bytes.Buffer
	if err := writeStatement(&buf, rows); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		var sink countSink
		rep := importStatement(b, data, &sink)
		if rep.Imported != rows || !rep.Reconciles() {
			b.Fatalf("report %+v", rep)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	// The machine is shared: rows per second of this process's CPU time
	// shows the importer's own speed when other work steals the cores.
	b.ReportMetric(float64(rows)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
}

// cpuTime is the user and system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
