package store

import (
	"bytes"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
)

func TestKeyRoundTrips(t *testing.T) {
	refs := []graph.Ref{
		{Kind: graph.KindCard, Key: "4400430000000016"},
		{Kind: graph.KindPerson, Key: "850312300002"},
		{Kind: graph.KindWallet, Key: "TRON:TXYZ"},
		{Kind: graph.KindCard, Key: "440043******7894~2"},
		graph.CashRef,
		{Kind: graph.KindAddress, Key: "Алматы, ул. Абая 10"},
	}
	times := []time.Time{t0, time.Unix(0, 0).UTC(), time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), t0.Add(123456789)}
	for _, r := range refs {
		for _, stub := range []bool{false, true} {
			gr, gs, err := parseEntityKey(entityKey(r, stub))
			if err != nil || gr != r || gs != stub {
				t.Errorf("entity key %v/%v: got %v/%v, %v", r, stub, gr, gs, err)
			}
		}
		for _, pfx := range []byte{pfxLinkOut, pfxLinkIn} {
			other := refs[0]
			gp, go1, gt, go2, err := parseLinkKey(linkKey(pfx, r, graph.LinkUsesPhone, other))
			if err != nil || gp != pfx || go1 != r || gt != graph.LinkUsesPhone || go2 != other {
				t.Errorf("link key %c %v: got %c %v %v %v, %v", pfx, r, gp, go1, gt, go2, err)
			}
		}
		for _, at := range times {
			for _, dir := range []graph.Direction{graph.DirOut, graph.DirIn} {
				o, gt, id, d, err := parseTxnKey(txnKey(r, at, "T000001", dir))
				if err != nil || o != r || !gt.Equal(at) || id != "T000001" || d != dir {
					t.Errorf("txn key %v %v %v: got %v %v %q %v, %v", r, at, dir, o, gt, id, d, err)
				}
			}
		}
		gotOwner, ch, dir, other, err := parseNbrKey(nbrKey(r, graph.ChannelCashOut, graph.DirIn, refs[1]))
		if err != nil || gotOwner != r || ch != graph.ChannelCashOut || dir != graph.DirIn || other != refs[1] {
			t.Errorf("neighbour key %v: got %v %v %v %v, %v", r, gotOwner, ch, dir, other, err)
		}
		if g, err := parseTxnAggKey(txnAggKey(r)); err != nil || g != r {
			t.Errorf("agg key %v: got %v, %v", r, g, err)
		}
	}
	if id, err := parseTxnIDKey(txnIDKey("T-Ω-1")); err != nil || id != "T-Ω-1" {
		t.Errorf("txn id key: %q, %v", id, err)
	}
	if id, err := parseBatchKey(batchKey(70000)); err != nil || id != 70000 {
		t.Errorf("batch key: %d, %v", id, err)
	}
	if s, err := parseHashKey(hashKey("ab12")); err != nil || s != "ab12" {
		t.Errorf("hash key: %q, %v", s, err)
	}
	if c, err := parseDocsKey(docsKey(3)); err != nil || c != 3 {
		t.Errorf("docs key: %d, %v", c, err)
	}
}

func TestKeyParsersRejectGarbage(t *testing.T) {
	good := txnKey(cardRef(1), t0, "T1", graph.DirOut)
	cases := map[string]func() error{
		"entity wrong prefix": func() error {
			_, _, err := parseEntityKey(append([]byte{'x'}, entityKey(cardRef(1), false)[1:]...))
			return err
		},
		"entity bad flag":  func() error { _, _, err := parseEntityKey(append(refPrefix(pfxEntity, cardRef(1)), 7)); return err },
		"entity truncated": func() error { _, _, err := parseEntityKey(entityKey(cardRef(1), false)[:5]); return err },
		"txn truncated":    func() error { _, _, _, _, err := parseTxnKey(good[:len(good)-4]); return err },
		"txn bad dir":      func() error { _, _, _, _, err := parseTxnKey(append(good[:len(good)-1:len(good)-1], 9)); return err },
		"link trailing": func() error {
			_, _, _, _, err := parseLinkKey(append(linkKey(pfxLinkOut, cardRef(1), 1, cardRef(2)), 0))
			return err
		},
		"batch short": func() error { _, err := parseBatchKey([]byte{pfxBatch, 1}); return err },
		"empty":       func() error { _, err := parseTxnIDKey(nil); return err },
	}
	for name, f := range cases {
		if f() == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestKeyOrdering(t *testing.T) {
	c := cardRef(1)
	// Transaction keys of one owner sort by time, including before 1970.
	ts := []time.Time{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0), t0, t0.Add(time.Nanosecond), t0.Add(time.Hour)}
	var keys [][]byte
	for i := len(ts) - 1; i >= 0; i-- {
		keys = append(keys, txnKey(c, ts[i], "T", graph.DirOut))
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	for i, k := range keys {
		_, at, _, _, _ := parseTxnKey(k)
		if !at.Equal(ts[i]) {
			t.Errorf("position %d: time %v, want %v", i, at, ts[i])
		}
	}
	// A full entity sorts directly before its stub.
	if bytes.Compare(entityKey(c, false), entityKey(c, true)) >= 0 {
		t.Error("full entity key does not sort before stub key")
	}
	// One reference's scan prefix never covers another reference whose key extends it.
	short := graph.Ref{Kind: graph.KindCard, Key: "4400"}
	long := graph.Ref{Kind: graph.KindCard, Key: "44001"}
	if bytes.HasPrefix(txnKey(long, t0, "T", graph.DirIn), refPrefix(pfxTxn, short)) {
		t.Error("prefix of card 4400 covers transactions of card 44001")
	}
	// prefixEnd is above every key under the prefix and below the next prefix.
	p := refPrefix(pfxTxn, c)
	end := prefixEnd(p)
	maxKey := txnKey(c, time.Unix(1<<40, 0), strings.Repeat("\xff", 40), graph.DirIn)
	if bytes.Compare(maxKey, end) >= 0 || !bytes.HasPrefix(maxKey, p) {
		t.Error("prefixEnd is not above the largest key of the prefix")
	}
	if got := prefixEnd([]byte{1, 0xff, 0xff}); !reflect.DeepEqual(got, []byte{2}) {
		t.Errorf("prefixEnd carry: %v", got)
	}
	if prefixEnd([]byte{0xff}) != nil {
		t.Error("prefixEnd of all 0xff is not nil")
	}
}

func TestValueRoundTrips(t *testing.T) {
	r := dataset(3, 10)
	for _, e := range r.ents {
		got, err := decodeEntity(e.Ref, e.Stub, encodeEntity(e))
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("entity %v: got %+v, %v", e.Ref, got, err)
		}
	}
	for _, x := range r.txns {
		for _, dir := range []graph.Direction{graph.DirOut, graph.DirIn} {
			owner, other := x.From, x.To
			if dir == graph.DirIn {
				owner, other = x.To, x.From
			}
			got, err := decodeTxn(txnKey(owner, x.Time, x.ID, dir), encodeTxnValue(x, other))
			if err != nil || !reflect.DeepEqual(got, x) {
				t.Errorf("txn %s %v: got %+v, %v", x.ID, dir, got, err)
			}
		}
	}
	for _, e := range r.ents {
		d := graph.DocFor(e)
		dr := docReader{s: string(appendDoc(appendDoc(nil, d), d))}
		for range 2 {
			if got := dr.doc(); dr.err != nil || !reflect.DeepEqual(got, d) {
				t.Errorf("doc reader: got %+v, %v; want %+v", got, dr.err, d)
			}
		}
		if len(dr.s) != 0 {
			t.Errorf("doc reader left %d bytes", len(dr.s))
		}
	}
	nb := nbrAgg{count: 3, amount: 600, first: t0.UnixNano(), last: t0.Add(time.Hour).UnixNano()}
	if got, err := decodeNbr(encodeNbr(nb)); err != nil || got != nb {
		t.Errorf("neighbour row: got %+v, %v", got, err)
	}
	a := txnAgg{count: 5, in: 100, out: -3}
	if got, err := decodeAgg(encodeAgg(a)); err != nil || got != a {
		t.Errorf("agg: got %+v, %v", got, err)
	}
}

// FuzzParseKeys shows that the key parsers and value decoders never panic on
// arbitrary bytes, and that what parses re-encodes to the same key.
func FuzzParseKeys(f *testing.F) {
	f.Add(entityKey(cardRef(1), true))
	f.Add(linkKey(pfxLinkIn, cardRef(1), graph.LinkHolds, personRef(2)))
	f.Add(txnKey(cardRef(1), t0, "T1", graph.DirOut))
	f.Add(txnIDKey("T1"))
	f.Add(nbrKey(cardRef(1), graph.ChannelTopup, graph.DirIn, atmRef))
	f.Add(encodeTxnValue(dataset(2, 2).txns[1], cardRef(3)))
	f.Add(encodeEntity(dataset(1, 0).ents[0]))
	f.Add([]byte{})
	f.Add([]byte{pfxTxn, 3, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, k []byte) {
		if r, stub, err := parseEntityKey(k); err == nil && !bytes.Equal(entityKey(r, stub), k) {
			t.Errorf("entity key %x re-encodes to %x", k, entityKey(r, stub))
		}
		if p, o, typ, other, err := parseLinkKey(k); err == nil && !bytes.Equal(linkKey(p, o, typ, other), k) {
			t.Errorf("link key %x does not re-encode", k)
		}
		if o, at, id, dir, err := parseTxnKey(k); err == nil && !bytes.Equal(txnKey(o, at, id, dir), k) {
			t.Errorf("txn key %x does not re-encode", k)
		}
		if id, err := parseTxnIDKey(k); err == nil && !bytes.Equal(txnIDKey(id), k) {
			t.Errorf("txn id key %x does not re-encode", k)
		}
		if o, ch, dir, other, err := parseNbrKey(k); err == nil && !bytes.Equal(nbrKey(o, ch, dir, other), k) {
			t.Errorf("neighbour key %x does not re-encode", k)
		}
		_, _ = decodeNbr(k)
		_, _ = parseTxnAggKey(k)
		_, _ = parseBatchKey(k)
		_, _ = parseHashKey(k)
		_, _ = parseDocsKey(k)
		_, _ = decodeEntity(cardRef(1), false, k)
		_, _ = decodeTxnHead(k)
		_, _ = decodeTxn(txnKey(cardRef(1), t0, "T", graph.DirIn), k)
		_, _ = decodeAgg(k)
		_, _, _ = decodeTxnID("T", k)
		_, _, _ = decodeLink(k)
		_, _, _ = decodeDocsMeta(k)
		dr := docReader{s: string(k)}
		for dr.err == nil && len(dr.s) > 0 {
			dr.doc()
		}
	})
}
