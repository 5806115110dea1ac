package graph

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"testing"
)

var flagsKey = [32]byte{7, 7, 7}

func writeFlags(t testing.TB, f Flags, key [32]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteFlagsFile(&buf, f, key); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sameFlags compares two runs the way their users see them: every field,
// with an empty slice and a missing one alike.
func sameFlags(t *testing.T, want, got Flags) {
	t.Helper()
	norm := func(f Flags) Flags {
		f.Hits, f.Risks = slicesCopy(f.Hits), slicesCopy(f.Risks)
		for i := range f.Hits {
			if len(f.Hits[i].Evidence) == 0 {
				f.Hits[i].Evidence = nil
			}
		}
		for i := range f.Risks {
			if len(f.Risks[i].Rules) == 0 {
				f.Risks[i].Rules = nil
			}
			if len(f.Risks[i].Hits) == 0 {
				f.Risks[i].Hits = nil
			}
		}
		return f
	}
	if !reflect.DeepEqual(norm(want), norm(got)) {
		t.Fatalf("flags differ after the results file: %d hits, %d risks; want %d, %d", len(got.Hits), len(got.Risks), len(want.Hits), len(want.Risks))
	}
}

func slicesCopy[T any](s []T) []T { return append([]T(nil), s...) }

// TestFlagsFileRoundTrip: a rules run read back from its results file is
// the run, on two worlds with hits of many rules (holders, vias, evidence,
// windows, strong and weak hits).
func TestFlagsFileRoundTrip(t *testing.T) {
	for i, ix := range []*Index{rulesWorld(400, 20000), richIndex(rand.New(rand.NewPCG(3, 4)), 300, 600, 900, 20000)} {
		want, err := RunRules(context.Background(), ix, DefaultRuleConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && (len(want.Hits) == 0 || len(want.Flagged()) == 0) {
			t.Fatalf("world %d: %d hits, %d flagged: the test needs hits", i, len(want.Hits), len(want.Flagged()))
		}
		got, err := ReadFlagsFile(writeFlags(t, want, flagsKey), ix, flagsKey)
		if err != nil {
			t.Fatal(err)
		}
		sameFlags(t, want, got)
	}
}

// TestFlagsFileRefuses: another key is stale; a damaged file, a truncated
// one and one naming nodes or transactions the index does not hold are
// errors, never a panic or wrong flags.
func TestFlagsFileRefuses(t *testing.T) {
	ix := rulesWorld(200, 8000)
	f, err := RunRules(context.Background(), ix, DefaultRuleConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := writeFlags(t, f, flagsKey)
	if _, err := ReadFlagsFile(b, ix, [32]byte{1}); !errors.Is(err, ErrStaleFlagsFile) {
		t.Fatalf("another key: %v, want ErrStaleFlagsFile", err)
	}
	for name, mod := range map[string]func([]byte) []byte{
		"flipped byte": func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b },
		"truncated":    func(b []byte) []byte { return b[:len(b)-9] },
		"not a file":   func(b []byte) []byte { return []byte("hello") },
	} {
		c := mod(bytes.Clone(b))
		if _, err := ReadFlagsFile(c, ix, flagsKey); !errors.Is(err, ErrBadFlagsFile) {
			t.Errorf("%s: %v, want ErrBadFlagsFile", name, err)
		}
	}
	// A smaller index than the run's: its node ids are out of range even
	// though the checksum holds.
	if _, err := ReadFlagsFile(b, rulesWorld(20, 100), flagsKey); !errors.Is(err, ErrBadFlagsFile) {
		t.Errorf("smaller index: %v, want ErrBadFlagsFile", err)
	}
}

// FuzzReadFlagsFile: any bytes with a valid checksum are read or refused.
func FuzzReadFlagsFile(f *testing.F) {
	ix := rulesWorld(50, 1000)
	fl, err := RunRules(context.Background(), ix, DefaultRuleConfig(), nil)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteFlagsFile(&buf, fl, flagsKey); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes()[flagsFileHeader:])
	f.Fuzz(func(t *testing.T, body []byte) {
		head := append([]byte(flagsFileMagic), flagsKey[:]...)
		head = binary.LittleEndian.AppendUint64(head, uint64(len(body)))
		head = binary.LittleEndian.AppendUint32(head, crc32.Checksum(body, castagnoli))
		_, _ = ReadFlagsFile(append(head, body...), ix, flagsKey)
	})
}
