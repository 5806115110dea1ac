package store

import (
	"bytes"
	"testing"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
	"google.golang.org/protobuf/proto"
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
