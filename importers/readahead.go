package importers

import (
	"encoding/csv"
	"errors"
)

// ReadAhead reads a CSV file's records on a goroutine of its own, a batch
// ahead of the caller: decoding (Windows-1251 to UTF-8) and splitting then
// overlap validating and storing the rows on the second core. Read has the
// contract of csv.Reader.Read plus the record's line; a malformed row gives
// its *csv.ParseError and reading goes on, any other error (io.EOF at the
// end) ends it. Close stops the goroutine when the caller stops early.
type ReadAhead struct {
	ch   chan *rowBatch
	free chan *rowBatch
	stop chan struct{}
	cur  *rowBatch
	i    int
	end  error
}

const readAheadRows = 512

// rowBatch holds rows as one slice of fields with each row's end.
type rowBatch struct {
	fields []string
	ends   []int
	lines  []int
	errs   []error // a row's *csv.ParseError, else nil
	final  error   // what ended reading after the batch's rows, if anything
}

func (b *rowBatch) reset() {
	clear(b.fields)
	b.fields, b.ends, b.lines, b.errs, b.final = b.fields[:0], b.ends[:0], b.lines[:0], b.errs[:0], nil
}

// NewReadAhead starts reading rd (whose records may be reused: fields are
// copied out, the strings themselves are not).
func NewReadAhead(rd *csv.Reader) *ReadAhead {
	a := &ReadAhead{ch: make(chan *rowBatch, 1), free: make(chan *rowBatch, 3), stop: make(chan struct{})}
	for range 3 {
		a.free <- &rowBatch{}
	}
	go a.run(rd)
	return a
}

func (a *ReadAhead) run(rd *csv.Reader) {
	defer close(a.ch)
	for {
		var b *rowBatch
		select {
		case b = <-a.free:
		case <-a.stop:
			return
		}
		b.reset()
		for len(b.lines) < readAheadRows && b.final == nil {
			rec, err := rd.Read()
			var pe *csv.ParseError
			switch {
			case err == nil:
				line, _ := rd.FieldPos(0)
				b.fields = append(b.fields, rec...)
				b.ends, b.lines, b.errs = append(b.ends, len(b.fields)), append(b.lines, line), append(b.errs, nil)
			case errors.As(err, &pe):
				b.ends, b.lines, b.errs = append(b.ends, len(b.fields)), append(b.lines, pe.StartLine), append(b.errs, err)
			default:
				b.final = err
			}
		}
		select {
		case a.ch <- b:
		case <-a.stop:
			return
		}
		if b.final != nil {
			return
		}
	}
}

// Read returns the next record and its line. The record is valid until the
// next call.
func (a *ReadAhead) Read() ([]string, int, error) {
	for a.cur == nil || a.i == len(a.cur.lines) {
		if a.cur != nil {
			if a.cur.final != nil {
				a.end = a.cur.final
			}
			a.free <- a.cur
			a.cur = nil
		}
		if a.end != nil {
			return nil, 0, a.end
		}
		b, ok := <-a.ch
		if !ok {
			return nil, 0, errors.New("read ahead: stopped")
		}
		a.cur, a.i = b, 0
	}
	i := a.i
	a.i++
	if err := a.cur.errs[i]; err != nil {
		return nil, a.cur.lines[i], err
	}
	start := 0
	if i > 0 {
		start = a.cur.ends[i-1]
	}
	return a.cur.fields[start:a.cur.ends[i]:a.cur.ends[i]], a.cur.lines[i], nil
}

// Close stops the reading goroutine; Read must not be called afterwards.
func (a *ReadAhead) Close() {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
}
