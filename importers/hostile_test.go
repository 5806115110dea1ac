package importers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"strings"
	"testing"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/internal/rectest"
	"casegraph/internal/hostile"
)

// importHostile imports one corpus file through the canonical importer and
// returns the report, the sink and the rejects file.
func importHostile(t *testing.T, name string, data []byte) (importers.Report, *rectest.Sink, string, error) {
	t.Helper()
	sink := &rectest.Sink{}
	var rej bytes.Buffer
	rep, err := importers.ImportReader(context.Background(), bytes.NewReader(data), sink,
		importers.Options{Name: name, Rejects: importers.NewRejectWriter(&rej)})
	if !rep.Reconciles() {
		t.Errorf("%s: report does not reconcile: %+v", name, rep)
	}
	return rep, sink, rej.String(), err
}

// TestHostileUnrecognisedIsRefused: binary noise, two byte-order marks and
// a duplicated column are refused with the file and the reason, and nothing
// reaches the sink.
func TestHostileUnrecognisedIsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"garbage.csv", hostile.Garbage(64 << 10), "binary content"},
		{"double_bom.csv", hostile.DoubleBOM(), "two byte-order marks"},
		{"duplicate_column.csv", hostile.DuplicateColumn(), `"name" twice`},
	} {
		_, sink, _, err := importHostile(t, c.name, c.data)
		if err == nil || !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming the file and %q", c.name, err, c.want)
		}
		if len(sink.Entities)+len(sink.Txns)+len(sink.Links) > 0 {
			t.Errorf("%s: %d entities, %d transactions reached the sink", c.name, len(sink.Entities), len(sink.Txns))
		}
		if err != nil && len(err.Error()) > 2000 {
			t.Errorf("%s: error of %d bytes", c.name, len(err.Error()))
		}
	}
}

// TestHostileCROnlyLineEnds: files with classic-Mac CR line ends import
// every row.
func TestHostileCROnlyLineEnds(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		rows int
	}{
		{"persons_cr.csv", hostile.Persons(200, "\r"), 200},
		{"cards_cr.csv", hostile.Cards(200, "\r"), 200},
		{"exchanges_cr.csv", hostile.Exchanges(40, "\r"), 40},
		{"persons_crlf.csv", hostile.Persons(20, "\r\n"), 20},
	} {
		rep, _, _, err := importHostile(t, c.name, c.data)
		if err != nil || rep.Read != c.rows || rep.Imported != c.rows {
			t.Errorf("%s: read %d imported %d (err %v), want %d", c.name, rep.Read, rep.Imported, err, c.rows)
		}
		if len(rep.Rejects) > 0 && rep.Rejects[len(rep.Rejects)-1].Line != c.rows+1 {
			t.Errorf("%s: last reject at line %d", c.name, rep.Rejects[len(rep.Rejects)-1].Line)
		}
	}
}

// TestHostileInvalidUTF8AndNUL: a Windows-1251 file given as UTF-8, and NUL
// bytes, are rejected row by row with the reason, never stored.
func TestHostileInvalidUTF8AndNUL(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		rows int
		want string
	}{
		{"persons_cp1251.csv", hostile.PersonsCP1251(200), 200, "not valid UTF-8"},
		{"persons_nul.csv", hostile.PersonsNUL(20), 20, "NUL byte"},
	} {
		rep, sink, rej, err := importHostile(t, c.name, c.data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rep.Rejected != c.rows || rep.Imported != 0 || len(sink.Entities) != 0 {
			t.Errorf("%s: rejected %d imported %d, %d entities stored; want all %d rejected", c.name, rep.Rejected, rep.Imported, len(sink.Entities), c.rows)
		}
		if len(rep.Rejects) == 0 || rep.Rejects[0].Column != "name" || !strings.Contains(rep.Rejects[0].Reason, c.want) {
			t.Errorf("%s: first reject %+v, want column name and %q", c.name, rep.Rejects, c.want)
		}
		if !strings.Contains(rej, c.want) || strings.ContainsRune(rej, 0) || !utf8Valid(rej) {
			t.Errorf("%s: rejects file must give the reason in UTF-8 without NUL", c.name)
		}
		// The reason says how to read a Windows-1251 file.
		if r := rep.Rejects[0].Reason; c.rows == 200 && (!strings.Contains(r, "iconv -f WINDOWS-1251") || !strings.Contains(r, "encoding: windows-1251")) {
			t.Errorf("%s: reason %q does not say what to do", c.name, r)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// TestHostileConflictingDuplicates: the same id with different data is
// rejected naming both lines; an identical repeat is idempotent.
func TestHostileConflictingDuplicates(t *testing.T) {
	rep, sink, _, err := importHostile(t, "tx.csv", hostile.ConflictingTxns())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 3 || rep.Rejected != 1 {
		t.Fatalf("imported %d rejected %d, want 3 and 1: %+v", rep.Imported, rep.Rejected, rep.Rejects)
	}
	r := rep.Rejects[0]
	if r.Line != 3 || r.Column != "tx_id" || !strings.Contains(r.Reason, "tx.csv:3") || !strings.Contains(r.Reason, "tx.csv:2") {
		t.Errorf("reject %+v: want line 3 naming tx.csv:2 and tx.csv:3", r)
	}
	for _, tx := range sink.Txns {
		if tx.ID == "T1" && tx.Amount != 10000 {
			t.Errorf("T1 overwritten: %+v", tx)
		}
	}
	rep, sink, _, err = importHostile(t, "ex.csv", hostile.ConflictingExchanges())
	if err != nil || rep.Imported != 1 || rep.Rejected != 1 {
		t.Fatalf("exchanges: %+v %v", rep, err)
	}
	if e, _ := sink.Entity(graph.Ref{Kind: graph.KindExchange, Key: "EX-1"}); e.Name != "ТенгеОбмен" {
		t.Errorf("exchange renamed to %q", e.Name)
	}
}

// TestHostileAmountsAndDates: amounts beyond 10^15 minor units and years
// outside 1800–2200 are rejected with the reason, never stored wrapped.
func TestHostileAmountsAndDates(t *testing.T) {
	rep, sink, _, err := importHostile(t, "max.csv", hostile.MaxAmounts())
	if err != nil || rep.Rejected != 2 || len(sink.Txns) != 0 {
		t.Fatalf("max amounts: rejected %d, %d stored (%v): %+v", rep.Rejected, len(sink.Txns), err, rep.Rejects)
	}
	if r := rep.Rejects[0]; r.Column != "amount" || !strings.Contains(r.Reason, "out of range") {
		t.Errorf("reject %+v", r)
	}
	txns, persons := hostile.FarDates()
	for name, data := range map[string][]byte{"dates_tx.csv": txns, "dates_persons.csv": persons} {
		rep, sink, _, err := importHostile(t, name, data)
		if err != nil || rep.Rejected != 2 || len(sink.Txns)+len(sink.Entities) != 0 {
			t.Errorf("%s: rejected %d, stored %d (%v): %+v", name, rep.Rejected, len(sink.Txns)+len(sink.Entities), err, rep.Rejects)
			continue
		}
		for _, r := range rep.Rejects {
			if !strings.Contains(r.Reason, "outside the supported range") {
				t.Errorf("%s: reject %+v", name, r)
			}
		}
	}
	if s := graph.AddSat(9e18, 9e18); s != 1<<63-1 {
		t.Errorf("AddSat overflowed to %d", s)
	}
}

// TestHostileHugeKeyField: a 70,000-byte tx_id rejects its row with a
// bounded reason; the rows around it import.
func TestHostileHugeKeyField(t *testing.T) {
	rep, sink, rej, err := importHostile(t, "huge.csv", hostile.HugeKey(70000))
	if err != nil {
		t.Fatalf("the run must go on: %v", err)
	}
	if rep.Imported != 2 || rep.Rejected != 1 || len(sink.Txns) != 2 {
		t.Fatalf("imported %d rejected %d: %+v", rep.Imported, rep.Rejected, rep.Rejects)
	}
	r := rep.Rejects[0]
	if r.Column != "tx_id" || len(r.Value) > 100 || !strings.Contains(r.Value, "(70,000 bytes)") || len(r.Reason) > 200 {
		t.Errorf("reject %+v: want tx_id, a 64-byte prefix and the size", r)
	}
	if len(rej) > 1000 {
		t.Errorf("rejects file of %d bytes for one row", len(rej))
	}
}

// TestHostileRejectsAreFormulaSafe: the rejects CSV neutralises formula
// cells as the exports do.
func TestHostileRejectsAreFormulaSafe(t *testing.T) {
	_, _, rej, err := importHostile(t, "=cmd.csv", hostile.Formulas())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(rej)).ReadAll()
	if err != nil || len(rows) < 3 {
		t.Fatalf("rejects %q: %v", rej, err)
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if c := strings.TrimLeft(cell, " "); c != "" && strings.ContainsAny(c[:1], "=+-@") {
				t.Errorf("formula cell %q in rejects", cell)
			}
		}
	}
}

// BenchmarkHostileCROnly imports a CR-only persons file of n and 2n rows;
// the time per run must grow linearly with n (compare the two sizes).
func BenchmarkHostileCROnly(b *testing.B) {
	for _, n := range []int{20000, 40000} {
		data := hostile.Persons(n, "\r")
		b.Run(strings.Repeat("x", n/20000), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				rep, err := importers.ImportReader(context.Background(), bytes.NewReader(data), &rectest.Sink{}, importers.Options{Name: "p.csv"})
				if err != nil || rep.Imported != n {
					b.Fatalf("imported %d of %d, rejected %d: %v", rep.Imported, n, rep.Rejected, err)
				}
			}
		})
	}
}

// TestHostileLongLineIsBounded: a 20 MiB line stops the import with an
// error naming the file, without the parser buffering it whole.
func TestHostileLongLineIsBounded(t *testing.T) {
	data := append([]byte("exchange_id,name\nEX-1,"), bytes.Repeat([]byte("a"), 20<<20)...)
	_, _, _, err := importHostile(t, "long.csv", data)
	if err == nil || !strings.Contains(err.Error(), "long.csv") || !strings.Contains(err.Error(), "16 MiB") || len(err.Error()) > 500 {
		t.Fatalf("error %.300v", err)
	}
	r := importers.LimitRuns(bytes.NewReader(bytes.Repeat([]byte("ab\n"), 1<<20)), "\n", 4)
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Errorf("short lines refused: %v", err)
	}
	r = importers.LimitRuns(bytes.NewReader([]byte("<a>"+strings.Repeat("x", 100)+"</a>")), "<>", 64)
	if _, err := io.Copy(io.Discard, r); err != importers.ErrRunTooLong {
		t.Errorf("long XML text: %v", err)
	}
}
