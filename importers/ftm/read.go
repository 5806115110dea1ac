package ftm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// Sniff reports whether head (the first bytes of a file) looks like FtM:
// a JSON object or array whose first object has "schema" and "id" keys.
func Sniff(head []byte) bool {
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	if len(h) == 0 || (h[0] != '{' && h[0] != '[') {
		return false
	}
	return bytes.Contains(h, []byte(`"schema"`)) && bytes.Contains(h, []byte(`"id"`))
}

// each calls fn with every record of a JSON-lines file or a JSON array,
// with its line or element number. Blank lines are not records. A JSON array
// that is not well-formed stops with an error: its elements cannot be
// resynchronised.
func each(ctx context.Context, r io.Reader, fn func(line int, raw []byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	// Skip leading white space to see whether this is an array.
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' {
			_, _ = br.Discard(1)
			continue
		}
		if b[0] == '[' {
			return eachArray(ctx, br, fn)
		}
		break
	}
	line := 0
	for {
		raw, long, err := readLine(br, MaxRecordBytes)
		if long {
			line++
			if ferr := fn(line, nil); ferr != nil {
				return ferr
			}
		} else if len(raw) > 0 {
			line++
			if t := bytes.TrimSpace(raw); len(t) > 0 {
				if line&1023 == 0 {
					if cerr := ctx.Err(); cerr != nil {
						return fmt.Errorf("cancelled at line %d: %w", line, cerr)
					}
				}
				if ferr := fn(line, t); ferr != nil {
					return ferr
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read after line %d: %w", line, err)
		}
	}
}

// MaxRecordBytes bounds one JSON-lines record. A longer line is rejected
// (fn gets nil) and skipped without being held in memory.
const MaxRecordBytes = 16 << 20

// readLine reads one line of at most max bytes; a longer line is read to its
// end and dropped, and long reports it.
func readLine(br *bufio.Reader, max int) (line []byte, long bool, err error) {
	var acc []byte
	for {
		frag, err := br.ReadSlice('\n')
		if !long {
			if len(acc)+len(frag) > max {
				long, acc = true, nil
			} else {
				acc = append(acc, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return acc, long, err
	}
}

func eachArray(ctx context.Context, r io.Reader, fn func(int, []byte) error) error {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("read JSON array: %w", err)
	}
	n := 0
	for dec.More() {
		n++
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("JSON array element %d: %w", n, err)
		}
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("cancelled at element %d: %w", n, err)
			}
		}
		if err := fn(n, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("JSON array after element %d: %w", n, err)
	}
	return nil
}
