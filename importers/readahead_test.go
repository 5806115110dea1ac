package importers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestReadAheadMatchesReader reads the same text, with malformed rows among
// well-formed ones across several batches, through csv.Reader and through
// ReadAhead: records, lines and errors must be the same.
func TestReadAheadMatchesReader(t *testing.T) {
	var b strings.Builder
	for i := range 3*readAheadRows + 7 {
		if i%97 == 5 {
			fmt.Fprintf(&b, "x,\"broken\"quote,%d\n", i)
			continue
		}
		fmt.Fprintf(&b, "a%d,\"b,%d\",c\n", i, i)
	}
	open := func() *csv.Reader {
		rd := csv.NewReader(strings.NewReader(b.String()))
		rd.FieldsPerRecord, rd.ReuseRecord = -1, true
		return rd
	}
	want := open()
	ra := NewReadAhead(open())
	defer ra.Close()
	for n := 0; ; n++ {
		wrec, werr := want.Read()
		wline := 0
		var pe *csv.ParseError
		switch {
		case werr == nil:
			wline, _ = want.FieldPos(0)
		case errors.As(werr, &pe):
			wline = pe.StartLine
		}
		rec, line, err := ra.Read()
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Fatalf("row %d: error %v, csv.Reader gives %v", n, err, werr)
		}
		if werr == io.EOF {
			if n < 3*readAheadRows {
				t.Fatalf("ended after %d rows", n)
			}
			return
		}
		if werr != nil {
			wrec = nil // csv.Reader returns part of a malformed row; nobody uses it
		}
		if line != wline || !slices.Equal(rec, wrec) {
			t.Fatalf("row %d: %q on line %d, csv.Reader gives %q on line %d", n, rec, line, wrec, wline)
		}
	}
}

// TestReadAheadCloseEarly stops reading in the middle: the goroutine must
// not block forever (the race detector and goroutine leak show in -race runs).
func TestReadAheadCloseEarly(t *testing.T) {
	rd := csv.NewReader(strings.NewReader(strings.Repeat("a,b\n", 10*readAheadRows)))
	ra := NewReadAhead(rd)
	if _, _, err := ra.Read(); err != nil {
		t.Fatal(err)
	}
	ra.Close()
	ra.Close() // twice is harmless
}
