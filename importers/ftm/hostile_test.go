package ftm

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"casegraph/importers"
	"casegraph/importers/internal/rectest"
	"casegraph/internal/fuzzbudget"
	"casegraph/internal/hostile"
)

// TestHostileManyValues: one property with 100,000 values imports in
// bounded time (the de-duplication was quadratic: 174 s), every value kept.
func TestHostileManyValues(t *testing.T) {
	data := hostile.FtMManyValues(100000)
	sink := &rectest.Sink{}
	var err error
	fuzzbudget.Within(t, 10*time.Second, func() {
		_, err = Import(context.Background(), bytes.NewReader(data), sink, importers.Options{Name: "many.json"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.Entities) != 1 || strings.Count(sink.Entities[0].Props["alias"], "; ") != 99999 {
		t.Errorf("want one entity with 100,000 aliases, got %d entities", len(sink.Entities))
	}
}

// TestHostileLongName: a name beyond importers.MaxNameBytes is rejected
// with a bounded reason; the next entity imports.
func TestHostileLongName(t *testing.T) {
	sink := &rectest.Sink{}
	res, err := Import(context.Background(), bytes.NewReader(hostile.FtMLongName(100000)), sink, importers.Options{Name: "long.json"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 1 || res.Rejected != 1 || res.Rejects[0].Column != "name" || len(res.Rejects[0].Value) > 200 {
		t.Errorf("report %+v", res.Report)
	}
}

// BenchmarkFtMManyValues imports one entity with n values in a property;
// the time per run must grow linearly with n (compare the two sizes).
func BenchmarkFtMManyValues(b *testing.B) {
	for _, n := range []int{50000, 100000} {
		data := hostile.FtMManyValues(n)
		b.Run(strings.Repeat("x", n/50000), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Import(context.Background(), bytes.NewReader(data), &rectest.Sink{}, importers.Options{Name: "many.json"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestHostileConflictingDuplicates: an id given twice with different data
// (a person renamed, a payment with another amount) rejects the second
// record naming both lines; an exact repeat imports; the counts reconcile.
func TestHostileConflictingDuplicates(t *testing.T) {
	sink := &rectest.Sink{}
	res, err := Import(context.Background(), bytes.NewReader(hostile.FtMConflicting()), sink, importers.Options{Name: "c.json"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 6 || res.Imported != 4 || res.Rejected != 2 || !res.Reconciles() {
		t.Fatalf("read %d imported %d rejected %d: %+v", res.Read, res.Imported, res.Rejected, res.Rejects)
	}
	for i, want := range []int{2, 4} {
		r := res.Rejects[i]
		if r.Line != want || r.Column != "id" || !strings.Contains(r.Reason, "conflicting duplicate") ||
			!strings.Contains(r.Reason, "c.json:"+strconv.Itoa(want)) || !strings.Contains(r.Reason, "c.json:"+strconv.Itoa(want-1)) {
			t.Errorf("reject %+v: want line %d naming c.json:%d and c.json:%d", r, want, want, want-1)
		}
	}
	for _, e := range sink.Entities {
		if e.Name == "Petrov Petr" {
			t.Errorf("the conflicting person reached the sink: %+v", e)
		}
	}
	if len(sink.Txns) != 1 || sink.Txns[0].Amount != 10000 {
		t.Errorf("transactions %+v, want pay1 of 100 once", sink.Txns)
	}
}

// TestHostileFields: a Windows-1251 name (which encoding/json would store
// as U+FFFD), a NUL byte in a property and a 70,000-byte id reject their
// records with a bounded reason that says what to do; the good record
// imports and the run goes on.
func TestHostileFields(t *testing.T) {
	sink := &rectest.Sink{}
	res, err := Import(context.Background(), bytes.NewReader(hostile.FtMHostileFields(70000)), sink, importers.Options{Name: "h.json"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 4 || res.Imported != 1 || res.Rejected != 3 || len(sink.Entities) != 1 {
		t.Fatalf("read %d imported %d rejected %d, %d entities: %+v", res.Read, res.Imported, res.Rejected, len(sink.Entities), res.Rejects)
	}
	for i, want := range []string{"encoding: windows-1251", "NUL byte", "70,004 bytes"} {
		r := res.Rejects[i]
		if r.Line != i+1 || !strings.Contains(r.Reason, want) || len(r.Reason) > 400 || len(r.Value) > 200 {
			t.Errorf("reject %d %+v: want line %d saying %q, bounded", i, r, i+1, want)
		}
	}
}

// TestHostileAmountsAndDates: FtM payments of an amount beyond 10^15 minor
// units (also one with three decimals, which a float path read up to
// 9·10^18) or dated outside 1800–2200 are rejected with the reason, never
// stored wrapped.
func TestHostileAmountsAndDates(t *testing.T) {
	data := hostile.FtMPerson("p1", 1, "A") + hostile.FtMPerson("p2", 2, "B") +
		hostile.FtMPayment("x", "92233720368547758.07") + "\n" +
		hostile.FtMPayment("w", "50000000000000.125") + "\n" + // 5·10^15 minor units, three decimals

		strings.Replace(hostile.FtMPayment("y", "5"), "2025-03-15", "9999-12-31", 1) + "\n" +
		strings.Replace(hostile.FtMPayment("z", "5"), "2025-03-15", "0000-01-01", 1) + "\n" +
		hostile.FtMPayment("ok", "5") + "\n"
	sink := &rectest.Sink{}
	res, err := Import(context.Background(), strings.NewReader(data), sink, importers.Options{Name: "a.json"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 3 || res.Rejected != 4 || len(sink.Txns) != 1 {
		t.Fatalf("imported %d rejected %d: %+v", res.Imported, res.Rejected, res.Rejects)
	}
	for i, r := range res.Rejects {
		if want := []string{"out of range", "out of range", "outside the supported range", "outside the supported range"}[i]; !strings.Contains(r.Reason, want) {
			t.Errorf("reject %+v: want %q", r, want)
		}
	}
}
