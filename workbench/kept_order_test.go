package workbench

import (
	"errors"
	"testing"
)

// inOrderAhead hands every converted element to put in order, whatever
// order the workers finish in, and stops at put's first error.
func TestInOrderAhead(t *testing.T) {
	in := make([]int, 3*keptChunk+17)
	for i := range in {
		in[i] = i
	}
	var got []int
	if err := inOrderAhead(in, func(v int) int { return 2 * v }, func(v int) error {
		got = append(got, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("%d put, want %d", len(got), len(in))
	}
	for i, v := range got {
		if v != 2*i {
			t.Fatalf("position %d: %d, want %d", i, v, 2*i)
		}
	}
	boom := errors.New("boom")
	n := 0
	err := inOrderAhead(in, func(v int) int { return v }, func(int) error {
		if n++; n == keptChunk+5 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != keptChunk+5 {
		t.Fatalf("err %v after %d puts, want boom after %d", err, n, keptChunk+5)
	}
	if err := inOrderAhead(nil, func(v int) int { return v }, func(int) error { return boom }); err != nil {
		t.Fatalf("no elements: %v", err)
	}
}
