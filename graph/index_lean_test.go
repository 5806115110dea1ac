package graph

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func FuzzLooksP2PBytes(f *testing.F) {
	for _, s := range []string{"USDT purchase", "ОРДЕР №554433", "order of business 12", "за обед", "\xff\xfeP2P",
		"КРИПТА", string(bytes.Repeat([]byte("я"), 300)) + " Binance"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := looksP2PBytes(b), LooksP2P(string(b)); got != want {
			t.Fatalf("looksP2PBytes(%q) = %v, LooksP2P = %v", b, got, want)
		}
	})
}

// TestScanBuilderMatches feeds the same records through AddEntity/AddLink/
// AddTxn and through their borrowed-bytes twins, reusing one buffer for
// every record the way a store scan does.
func TestScanBuilderMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 10 {
		d := newRandomData(r, 1+r.IntN(20), 1+r.IntN(40), r.IntN(60), r.IntN(300))
		d.ents = append(d.ents, Entity{Ref: icard(0), Stub: true, Name: "stub after", Props: map[string]string{PropBank: ""}},
			Entity{Ref: iperson(0), Props: map[string]string{PropIssued: "x", PropAFSALicence: "L", "other": "y"}})
		for i := range d.txns {
			d.txns[i].ATM = []string{"", "ATM1"}[r.IntN(2)]
			d.txns[i].IP = []string{"", "1.2.3.4", "5.6.7.8"}[r.IntN(3)]
			d.txns[i].Device = []string{"", "D"}[r.IntN(2)]
			d.txns[i].Reference = []string{"", "usdt", "ордер 12345", "Оплата"}[r.IntN(4)]
			d.txns[i].IINProvided, d.txns[i].AppConfirmed = Tri(r.IntN(3)), Tri(r.IntN(3))
			d.txns[i].Currency = []string{"", "USD", "KZT"}[r.IntN(3)]
			d.txns[i].DateOnly = r.IntN(3) == 0
		}
		want := d.build(nil)

		b := NewIndexBuilder()
		var buf []byte
		borrow := func(s string) []byte { buf = append(buf[:0], s...); return buf }
		for _, e := range d.ents {
			se := ScanEntity{Ref: ScanRef{Kind: e.Ref.Kind, Key: []byte(e.Ref.Key)}, Name: []byte(e.Name), Stub: e.Stub}
			for k, v := range e.Props {
				if slot, ok := IndexPropSlot([]byte(k)); ok {
					se.Props[slot], se.HasProps = []byte(v), se.HasProps|1<<slot
				}
			}
			b.AddScanEntity(&se)
		}
		for _, l := range d.links {
			b.AddScanLink(&ScanLink{From: ScanRef{l.From.Kind, []byte(l.From.Key)}, To: ScanRef{l.To.Kind, []byte(l.To.Key)}, Type: l.Type})
		}
		for _, x := range d.txns {
			st := ScanTxn{ID: []byte(x.ID), Time: x.Time.Unix(), From: ScanRef{x.From.Kind, []byte(x.From.Key)},
				To: ScanRef{x.To.Kind, borrow(x.To.Key)}, Amount: x.Amount, Channel: x.Channel,
				IINProvided: x.IINProvided, AppConfirmed: x.AppConfirmed, ATM: []byte(x.ATM), Device: []byte(x.Device),
				IP: []byte(x.IP), Reference: []byte(x.Reference), Currency: []byte(x.Currency), DateOnly: x.DateOnly,
				Batch: x.Src.Batch}
			b.AddScanTxn(&st)
			buf = append(buf[:0], "garbage overwriting the borrowed key"...)
		}
		requireSameIndex(t, want, b.Build())
	}
}
