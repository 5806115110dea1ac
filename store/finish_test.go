package store

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
	"google.golang.org/protobuf/proto"

	"casegraph/graph"
)

// TestAppendKVMatchesProto checks the hand-written pb.KV encoding against
// protobuf itself: same bytes, and it decodes back to the same fields.
func TestAppendKVMatchesProto(t *testing.T) {
	long := bytes.Repeat([]byte{0xfe}, 300) // two-byte length varints
	cases := []struct {
		k, v   []byte
		stream uint32
	}{
		{[]byte("k"), []byte("v"), 0},
		{[]byte("k"), nil, 0},
		{[]byte("k"), []byte{}, 1},
		{long, long, 2},
		{[]byte{0}, long[:127], 127},
		{long[:128], []byte{1}, 128},
		{[]byte("x"), []byte("y"), 1 << 20},
	}
	for _, c := range cases {
		zb := z.NewBuffer(1<<10, "test")
		appendKV(zb, c.k, c.v, c.stream)
		want, err := proto.Marshal(&pb.KV{Key: c.k, Value: c.v, Version: 1, StreamId: c.stream})
		if err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		if err := zb.SliceIterate(func(s []byte) error {
			got = append(got, bytes.Clone(s))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_ = zb.Release()
		if len(got) != 1 || !bytes.Equal(got[0], want) {
			t.Errorf("key %d bytes, value %d bytes, stream %d: got %x, want %x", len(c.k), len(c.v), c.stream, got, want)
			continue
		}
		var kv pb.KV
		if err := proto.Unmarshal(got[0], &kv); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(kv.Key, c.k) || !bytes.Equal(kv.Value, c.v) || kv.Version != 1 || kv.StreamId != c.stream {
			t.Errorf("decoded %+v", &kv)
		}
	}
}

// TestReusedRunBufferStartsEmpty guards the spill trigger: a buffer reused
// after a spill keeps its capacity but must measure as empty, or every put
// would spill a run of its own.
func TestReusedRunBufferStartsEmpty(t *testing.T) {
	var m memRun
	for i := range 100_000 {
		m.add([]byte{byte(i >> 16), byte(i >> 8), byte(i)}, []byte("value"))
	}
	full := m.size()
	m.sort()
	m.reset()
	if got := m.size(); got != 0 {
		t.Fatalf("reset buffer measures %d bytes (full was %d)", got, full)
	}
	m.add([]byte("k"), []byte("v"))
	if got := m.size(); got >= full/1000 {
		t.Errorf("one record in a reused buffer measures %d bytes, full was %d", got, full)
	}
}

// TestBulkDropsShadowedStubs checks that a bulk import does not store the
// stub key of an entity that also has a full record, and keeps the stubs of
// entities that have none.
func TestBulkDropsShadowedStubs(t *testing.T) {
	db := openTemp(t)
	full := graph.Entity{Ref: cardRef(1), Name: "full", Src: graph.Provenance{File: "cards.csv", Line: 2, Batch: 1}}
	load(t, db, records{ents: []graph.Entity{
		{Ref: cardRef(1), Stub: true}, full, {Ref: cardRef(2), Stub: true},
	}})
	has := func(k []byte) bool {
		_, err := db.getValue(k)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	if has(entityKey(cardRef(1), true)) {
		t.Error("stub of a full entity was stored")
	}
	if !has(entityKey(cardRef(1), false)) || !has(entityKey(cardRef(2), true)) {
		t.Error("full entity or lone stub missing")
	}
	if got := mustEntity(t, db, cardRef(1)); got.Name != "full" || got.Stub {
		t.Errorf("entity 1: %+v", got)
	}
	if got := mustEntity(t, db, cardRef(2)); !got.Stub {
		t.Errorf("entity 2: %+v, want the stub", got)
	}
	if s, _ := db.Stats(ctx); s.Stubs != 1 || s.Entities[graph.KindCard] != 2 {
		t.Errorf("stats: %d stubs, %d cards; want 1, 2", s.Stubs, s.Entities[graph.KindCard])
	}
}
