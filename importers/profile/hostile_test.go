package profile

import (
	"context"
	"strings"
	"testing"

	"casegraph/importers"
)

const hostileProfile = `name: hostile
files:
  - match: "*.csv"
    records:
      - txn:
          id: "{id}"
          time: {value: "{date}", format: iso}
          from: {kind: account, key: "p:{from}"}
          to: {kind: account, key: "p:{to}"}
          amount: {value: "{amount}"}
`

// TestHostileProfileRows: through a mapping profile, a transaction id given
// twice with different data rejects the second row naming both lines (an
// identical repeat imports), and an oversized field, a NUL byte, a year 9999
// and an amount beyond 10^15 minor units reject their rows.
func TestHostileProfileRows(t *testing.T) {
	p, err := Parse([]byte(hostileProfile))
	if err != nil {
		t.Fatal(err)
	}
	csv := "id,date,from,to,amount\n" +
		"T1,2025-03-15 10:00,a,b,100\n" + // 2
		"T1,2025-03-15 10:00,a,c,100\n" + // 3: conflict
		"T2,2025-03-15 10:00,a,b,5\n" + // 4
		"T2,2025-03-15 10:00,a,b,5\n" + // 5: identical
		"T3,2025-03-15 10:00," + strings.Repeat("k", 70000) + ",b,5\n" + // 6
		"T4,2025-03-15 10:00,a\x00,b,5\n" + // 7
		"T5,9999-12-31 10:00,a,b,5\n" + // 8
		"T6,2025-03-15 10:00,a,b,92233720368547758\n" // 9
	sink := newSink()
	rep, err := p.Import(context.Background(), strings.NewReader(csv), sink, Options{Options: importers.Options{Name: "p.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 3 || rep.Rejected != 5 || !rep.Reconciles() {
		t.Fatalf("imported %d rejected %d: %+v", rep.Imported, rep.Rejected, rep.Rejects)
	}
	want := map[int]string{3: "p.csv:2", 6: "(70,000 bytes)", 7: "NUL byte", 8: "outside the supported range", 9: "out of range"}
	for _, r := range rep.Rejects {
		if w := want[r.Line]; w == "" || !strings.Contains(r.Reason+r.Value, w) {
			t.Errorf("reject %+v: want %q", r, w)
		}
	}
}
