package store

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"casegraph/graph"
)

// A bulk import can keep, beside its merge, a copy of the records the lean
// scan reads (ScanLean): the entities as written, the outgoing links' keys
// and the senders' transaction rows, in key order. The graph index is then
// built from that copy right after the import, without reading the database
// again: the scan's Badger reads were 30 s of the 46 s of CPU the index
// build took on the large demo (docs/adr/0008-index-built-by-the-import.md).

// leanLogBuffer is the buffer of each part's log writer and reader.
const leanLogBuffer = 1 << 20

// leanPart is the kept copy of one part of the merge: an unlinked file of
// records [uvarint key length][key][uvarint value length][value].
type leanPart struct {
	f    *os.File
	path string // set when the file could not be unlinked at once (removed at Close)
	w    *bufio.Writer
	size int64
}

func newLeanPart(dir string) (*leanPart, error) {
	f, err := os.CreateTemp(dir, ".lean-*")
	if err != nil {
		return nil, fmt.Errorf("keep records for the graph index: %w", err)
	}
	p := &leanPart{f: f, w: bufio.NewWriterSize(f, leanLogBuffer)}
	// The file's blocks live while it is open; a killed import leaves
	// nothing behind. A system that cannot remove an open file has it
	// removed at Close.
	if os.Remove(f.Name()) != nil {
		p.path = f.Name()
	}
	return p, nil
}

// add keeps k and v when the lean scan would read them.
func (p *leanPart) add(k, v []byte) error {
	if len(k) < 2 {
		return nil
	}
	switch k[0] {
	case pfxEntity:
	case pfxLinkOut:
		v = nil // read from the key alone
	case pfxTxn:
		if k[len(k)-1] != byte(graph.DirOut) {
			return nil // only the sender's row is read
		}
	default:
		return nil
	}
	var hk, hv [binary.MaxVarintLen64]byte
	a := binary.AppendUvarint(hk[:0], uint64(len(k)))
	b := binary.AppendUvarint(hv[:0], uint64(len(v)))
	for _, c := range [][]byte{a, k, b, v} {
		if _, err := p.w.Write(c); err != nil {
			return fmt.Errorf("keep records for the graph index: %w", err)
		}
	}
	p.size += int64(len(a) + len(k) + len(b) + len(v))
	return nil
}

func (p *leanPart) flush() error {
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("keep records for the graph index: %w", err)
	}
	p.w = nil
	return nil
}

func (p *leanPart) close() error {
	err := p.f.Close()
	if p.path != "" {
		err = errors.Join(err, os.Remove(p.path))
	}
	return err
}

// LeanLog is what a bulk import kept for the graph index (Loader.KeepLean):
// a graph.LeanSource that replays the records the lean scan would read from
// the database the import wrote, in the same order, with the database's
// statistics. Close removes it.
type LeanLog struct {
	db    *DB
	parts []*leanPart
}

// Stats are the statistics of the database the import wrote.
func (g *LeanLog) Stats(ctx context.Context) (graph.Stats, error) { return g.db.Stats(ctx) }

// Size is the bytes kept.
func (g *LeanLog) Size() int64 {
	var n int64
	for _, p := range g.parts {
		n += p.size
	}
	return n
}

// ScanLean is DB.ScanLean over the kept records: every entity, then every
// link, then every transaction, each in key order, decoded as the store's
// scan decodes them.
func (g *LeanLog) ScanLean(ctx context.Context, fe func(*graph.ScanEntity) error, fl func(*graph.ScanLink) error, ft func(*graph.ScanTxn) error) error {
	var d leanDecoder
	var k, v []byte
	n := 0
	for i, p := range g.parts {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := bufio.NewReaderSize(io.NewSectionReader(p.f, 0, p.size), leanLogBuffer)
		for {
			var err error
			k, err = readChunk(r, k)
			if err == io.EOF {
				break
			}
			if err == nil && len(k) == 0 {
				err = errors.New("an empty key")
			}
			if err == nil {
				if v, err = readChunk(r, v); err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
			}
			if err != nil {
				return fmt.Errorf("read the records kept for the graph index (part %d): %w", i, err)
			}
			switch k[0] {
			case pfxEntity:
				if fe != nil {
					err = d.entity(k, v, fe)
				}
			case pfxLinkOut:
				if fl != nil {
					err = d.link(k, fl)
				}
			case pfxTxn:
				if ft != nil {
					owner, at, id, out, herr := senderRow(k)
					if err = herr; err == nil && out {
						err = d.txn(owner, at, id, v, ft)
					}
				}
			}
			if err != nil {
				return err
			}
			if n++; n%progressEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readChunk reads one length-prefixed chunk into buf's memory.
func readChunk(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > 1<<30 {
		return nil, fmt.Errorf("a record of %d bytes", n)
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return buf, nil
}

// Close removes the kept records.
func (g *LeanLog) Close() error {
	var err error
	for _, p := range g.parts {
		err = errors.Join(err, p.close())
	}
	g.parts = nil
	return err
}
