package export

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"casegraph/graph"
)

// bigInput is a case of n persons, each with a card, a phone and an
// address, and 4n transfers with devices, IPs and references naming them.
func bigInput(n int) Input {
	var in Input
	in.Case.Name = "bench"
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		p := ref(graph.KindPerson, fmt.Sprintf("9%011d", i))
		c := ref(graph.KindCard, fmt.Sprintf("44004300%08d", i))
		in.Entities = append(in.Entities,
			graph.Entity{Ref: p, Name: fmt.Sprintf("Person%d Surname%d", i, i), Props: map[string]string{
				"phone": fmt.Sprintf("+7701%07d", i), "address": fmt.Sprintf("Алматы, ул. Абая %d", i), "birth_date": "1990-01-01"}},
			graph.Entity{Ref: c, Props: map[string]string{"holder_iin": p.Key, "bank": "Kaspi Bank"}})
		in.Links = append(in.Links, graph.Link{From: p, To: c, Type: graph.LinkHolds})
		in.Case.Bookmarks = append(in.Case.Bookmarks, Bookmark{Ref: p, Note: "met Surname" + fmt.Sprint(i)})
	}
	for i := range 4 * n {
		a, b := in.Entities[2*(i%n)+1].Ref, in.Entities[2*((i+1)%n)+1].Ref
		in.Txns = append(in.Txns, graph.Txn{ID: fmt.Sprintf("T%07d", i), Time: t0.Add(time.Duration(i) * time.Minute), From: a, To: b,
			Amount: 100_00, Channel: graph.ChannelTransfer, Device: fmt.Sprintf("DEV-%05d", i%n), IP: fmt.Sprintf("10.0.%d.%d", i%250, i%200),
			Reference: fmt.Sprintf("to Person%d for rent", (i+1)%n)})
	}
	return in
}

// BenchmarkWrite compares a plain and a redacted (pseudonymised) export of
// 2,000 persons and 8,000 transactions.
func BenchmarkWrite(b *testing.B) {
	in := bigInput(2000)
	for _, redact := range []bool{false, true} {
		b.Run(fmt.Sprintf("redact=%v", redact), func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
				if _, err := Write(dir, in, Options{Redact: redact}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
