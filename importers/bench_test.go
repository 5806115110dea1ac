package importers

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"testing"

	"casegraph/graph"
)

// discardSink accepts everything and keeps nothing.
type discardSink struct{ n int }

func (d *discardSink) PutEntity(graph.Entity) error { d.n++; return nil }
func (d *discardSink) PutLink(graph.Link) error     { d.n++; return nil }
func (d *discardSink) PutTxn(graph.Txn) error       { d.n++; return nil }

// benchTransactions builds a transactions file of n rows over a few thousand
// valid cards, with devices, IPs and the occasional quoted reference.
func benchTransactions(n int) []byte {
	cards := make([]string, 5000)
	for i := range cards {
		p := "440043" + strconv.Itoa(100000000+i)
		cards[i] = p + strconv.Itoa(LuhnCheckDigit(p))
	}
	var b bytes.Buffer
	b.WriteString("tx_id,time,from,to,amount,currency,channel,atm_id,device_id,ip,iin_provided,app_confirmed,reference\n")
	for i := 0; i < n; i++ {
		from, to := cards[i%len(cards)], cards[(i*7+3)%len(cards)]
		b.WriteString("T")
		b.WriteString(strconv.Itoa(i))
		b.WriteString(",2025-03-")
		b.WriteString(strconv.Itoa(10 + i%18))
		b.WriteString(" 1")
		b.WriteString(strconv.Itoa(i % 10))
		b.WriteString(":22:0")
		b.WriteString(strconv.Itoa(i % 10))
		b.WriteString(",card:")
		b.WriteString(from)
		b.WriteString(",card:")
		b.WriteString(to)
		b.WriteString(",")
		b.WriteString(strconv.Itoa(1000 + i%500000))
		b.WriteString(".50,KZT,transfer,,DEV-")
		b.WriteString(strconv.Itoa(i % 900))
		b.WriteString(",10.1.")
		b.WriteString(strconv.Itoa(i % 200))
		b.WriteString(".7,,yes,")
		if i%10 == 0 {
			b.WriteString("\"перевод, долг\"")
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// BenchmarkImportTransactions measures the parse and validation stage alone
// (the sink discards), in rows per second.
func BenchmarkImportTransactions(b *testing.B) {
	const rows = 200000
	data := benchTransactions(rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := ImportReader(context.Background(), bytes.NewReader(data), &discardSink{}, Options{Name: "bench.csv"})
		if err != nil || rep.Imported != rows {
			b.Fatalf("imported %d of %d: %v", rep.Imported, rows, err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCSVBaseline reads the same file with encoding/csv alone, so that
// BenchmarkImportTransactions can be read as a ratio on a noisy machine.
func BenchmarkCSVBaseline(b *testing.B) {
	const rows = 200000
	data := benchTransactions(rows)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		n := 0
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows+1 {
			b.Fatalf("read %d records", n)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
