package graph

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// richIndex has every feature the snapshot must carry: names (Cyrillic),
// stubs, kept and dropped properties, links of several types, transactions
// with ATM, device, IP and flags, and a self-transfer.
func richIndex(r *rand.Rand, np, nc, nl, nt int) *Index {
	return richBuilder(r, np, nc, nl, nt).Build()
}

// richBuilder is the builder richIndex builds.
func richBuilder(r *rand.Rand, np, nc, nl, nt int) *IndexBuilder {
	b := NewIndexBuilder()
	richFeed(b, r, np, nc, nl, nt)
	return b
}

// richFeed adds richIndex's records to b.
func richFeed(b *IndexBuilder, r *rand.Rand, np, nc, nl, nt int) {
	for i := range np {
		b.AddEntity(Entity{Ref: iperson(i), Name: fmt.Sprintf("Айдар %d", i), Stub: r.IntN(5) == 0,
			Props: map[string]string{"birth": "1985", PropBank: fmt.Sprintf("bank %d", r.IntN(3))}})
	}
	for i := range nc {
		props := map[string]string{}
		if r.IntN(2) == 0 {
			props[PropIssued] = fmt.Sprintf("2024-01-%02d", 1+r.IntN(28))
		}
		if r.IntN(3) == 0 {
			props[PropAFSALicence] = "A-" + fmt.Sprint(i)
		}
		b.AddEntity(Entity{Ref: icard(i), Stub: r.IntN(4) == 0, Props: props})
	}
	for range nl {
		typ := []LinkType{LinkHolds, LinkUsesPhone, LinkMemberOf, LinkSameAs}[r.IntN(4)]
		b.AddLink(Link{From: iperson(r.IntN(np)), To: icard(r.IntN(nc)), Type: typ})
	}
	refs := []string{"", "USDT", "оплата ордер №123456", "за обед"}
	curs := []string{"", "KZT", "USD", "EUR", "CZK"}
	b.AddBatch(Batch{ID: 2, TimeZone: "Europe/Prague", TimeResolution: TimeDates, TimeUnit: 86400})
	b.AddBatch(Batch{ID: 3, TimeZone: "UTC", TimeResolution: TimeTimestamps, TimeUnit: 1})
	for i := range nt {
		t := Txn{ID: fmt.Sprintf("tx%05d", i), Time: ixT0.Add(time.Duration(r.IntN(500)-100) * time.Minute),
			From: icard(r.IntN(nc)), To: icard(r.IntN(nc)), Amount: int64(r.IntN(100000) - 100),
			Channel: Channel(r.IntN(int(channelCount))), IINProvided: Tri(r.IntN(3)), AppConfirmed: Tri(r.IntN(3)),
			Reference: refs[r.IntN(len(refs))], Currency: curs[r.IntN(len(curs))], DateOnly: r.IntN(4) == 0,
			Src: Provenance{Batch: uint32(r.IntN(4))}}
		if r.IntN(3) == 0 {
			t.ATM = fmt.Sprintf("ATM%d", r.IntN(5))
		}
		if r.IntN(2) == 0 {
			t.Device = fmt.Sprintf("DEV-%d", r.IntN(20))
		}
		if r.IntN(2) == 0 {
			t.IP = fmt.Sprintf("10.0.0.%d", r.IntN(20))
		}
		if i == 3 {
			t.To = t.From
		}
		b.AddTxn(t)
	}
}

// requireSameIndex compares two indexes through every accessor.
func requireSameIndex(t *testing.T, want, got *Index) {
	t.Helper()
	if want.Len() != got.Len() || want.TxCount() != got.TxCount() {
		t.Fatalf("sizes: %d nodes %d txns, want %d, %d", got.Len(), got.TxCount(), want.Len(), want.TxCount())
	}
	for v := range NodeID(want.Len()) {
		if want.Ref(v) != got.Ref(v) || want.Name(v) != got.Name(v) || want.Kind(v) != got.Kind(v) || want.Stub(v) != got.Stub(v) {
			t.Fatalf("node %d: %v %q stub=%v, want %v %q stub=%v", v, got.Ref(v), got.Name(v), got.Stub(v),
				want.Ref(v), want.Name(v), want.Stub(v))
		}
		if id, ok := got.Lookup(want.Ref(v)); !ok || id != v {
			t.Fatalf("Lookup(%v) = %d, %v", want.Ref(v), id, ok)
		}
		for _, k := range keptProps {
			if want.Prop(v, k) != got.Prop(v, k) {
				t.Fatalf("node %d prop %s = %q, want %q", v, k, got.Prop(v, k), want.Prop(v, k))
			}
		}
		if !slices.Equal(want.OutTx(v), got.OutTx(v)) || !slices.Equal(want.InTx(v), got.InTx(v)) ||
			!slices.Equal(want.Links(v), got.Links(v)) {
			t.Fatalf("node %d: adjacency differs", v)
		}
	}
	for i := range uint32(want.TxCount()) {
		if want.TxID(i) != got.TxID(i) || want.TxFrom(i) != got.TxFrom(i) || want.TxTo(i) != got.TxTo(i) ||
			want.TxTime(i) != got.TxTime(i) || want.TxAmount(i) != got.TxAmount(i) ||
			want.TxChannel(i) != got.TxChannel(i) || want.TxFlags(i) != got.TxFlags(i) {
			t.Fatalf("transaction %d differs", i)
		}
		wa, wok := want.TxATM(i)
		ga, gok := got.TxATM(i)
		wd, wdok := want.TxDevice(i)
		gd, gdok := got.TxDevice(i)
		wi, wiok := want.TxIP(i)
		gi, giok := got.TxIP(i)
		if wa != ga || wok != gok || wd != gd || wdok != gdok || wi != gi || wiok != giok {
			t.Fatalf("transaction %d: atm/device/ip differ", i)
		}
		wh, whok := want.TxLocalHour(i)
		gh, ghok := got.TxLocalHour(i)
		if want.TxCurrency(i) != got.TxCurrency(i) || want.TxZone(i) != got.TxZone(i) || wh != gh || whok != ghok ||
			want.TxLocalDay(i) != got.TxLocalDay(i) {
			t.Fatalf("transaction %d: currency, zone or local time differ", i)
		}
	}
	if want.TimeUnit() != got.TimeUnit() || !slices.Equal(want.Currencies(), got.Currencies()) || !slices.Equal(want.Zones(), got.Zones()) {
		t.Fatalf("time unit %d, currencies %v, zones %v; want %d, %v, %v", got.TimeUnit(), got.Currencies(), got.Zones(),
			want.TimeUnit(), want.Currencies(), want.Zones())
	}
	if want.Bytes() != got.Bytes() {
		t.Fatalf("Bytes = %d, want %d", got.Bytes(), want.Bytes())
	}
}

func snapshotBytes(t *testing.T, ix *Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	cases := []*Index{NewIndexBuilder().Build(), richIndex(r, 3, 4, 2, 5)}
	for range 10 {
		cases = append(cases, richIndex(r, 1+r.IntN(30), 1+r.IntN(60), r.IntN(80), r.IntN(400)))
	}
	for i, ix := range cases {
		b := snapshotBytes(t, ix)
		got, err := ReadIndex(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		requireSameIndex(t, ix, got)
		// Writing the read index again gives the same bytes.
		if !bytes.Equal(snapshotBytes(t, got), b) {
			t.Fatalf("case %d: snapshot of the read index differs", i)
		}
	}
}

func TestSnapshotRejectsDamage(t *testing.T) {
	ix := richIndex(rand.New(rand.NewPCG(9, 9)), 20, 40, 50, 300)
	good := snapshotBytes(t, ix)
	check := func(name string, b []byte) {
		t.Helper()
		got, err := ReadIndex(bytes.NewReader(b))
		if !errors.Is(err, ErrBadSnapshot) || got != nil {
			t.Errorf("%s: err = %v, want ErrBadSnapshot", name, err)
		}
	}
	check("empty", nil)
	check("truncated header", good[:20])
	for _, cut := range []int{snapHeader + 4, len(good) / 2, len(good) - 1} {
		check(fmt.Sprintf("truncated at %d", cut), good[:cut])
	}
	bad := slices.Clone(good)
	bad[0] = 'X'
	check("magic", bad)
	bad = slices.Clone(good)
	bad[8] = snapVersion + 1
	check("version", bad)
	bad = slices.Clone(good)
	bad[13]++ // a count in the header
	check("header", bad)
	// Every single flipped bit of the body is caught.
	r := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		bad = slices.Clone(good)
		i := snapHeader + 4 + r.IntN(len(good)-snapHeader-4)
		bad[i] ^= 1 << r.IntN(8)
		check(fmt.Sprintf("bit flip at %d", i), bad)
	}
}

func FuzzReadIndex(f *testing.F) {
	var buf bytes.Buffer
	if _, err := richIndex(rand.New(rand.NewPCG(2, 2)), 3, 5, 4, 10).WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := ReadIndex(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever reads without error is usable.
		for v := range NodeID(ix.Len()) {
			_, _ = ix.Ref(v), ix.OutTx(v)
		}
	})
}
