package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/klauspost/compress/s2"
)

// A sorted run spilled to disk by a bulk import (docs/adr/0009-compressed-runs.md).
//
// The records, [klen uvarint][vlen uvarint][key][value]…, are cut into
// blocks of about markEvery bytes at record boundaries, and each block is
// compressed on its own with S2:
//
//	block…   [plain len uint32 LE][stored len uint32 LE][S2 block]
//
// Every block begins with a marked record, so a merge part starts at the
// block of the last mark not after its first key and decompresses from
// there. In an encrypted database the blocks are written into a sealed
// stream (seal.go); a mark's offset is then an offset of the sealed
// plaintext. Sorted keys share long prefixes (the owner, the BIN, the day),
// so a run takes about half its plaintext on disk: the runs of a
// 30M-transaction import are 7.1 GB instead of 16 GB, and the merge holds
// one small block per run instead of a 256 KiB read buffer.

// markEvery is the default spacing, in plaintext bytes of a run, of its
// sparse index, and so the size of its blocks.
const markEvery = 64 << 10

const (
	runBlockHeader = 8
	// maxRunBlock bounds a block's plaintext when it is read back: a block
	// is cut after markEvery bytes, so only a record of a megabyte or more
	// (a key is at most 64 KiB; values are records of one entity or
	// transaction) can make it larger than that.
	maxRunBlock = 256 << 20
)

// runMark is one entry of a run file's sparse index: the key that begins a
// block, the plaintext offset of its record and the offset of the block in
// the stored stream.
type runMark struct {
	key []byte
	off int64
	at  int64
}

// spillRun is a sorted run written to disk, with a sparse index of its keys:
// a merge can start part-way through the file, and the marks, each standing
// for about markEvery bytes, sample the run's key distribution.
type spillRun struct {
	path   string
	marks  []runMark // the first record, then one every so many bytes
	size   int64     // plaintext bytes
	stored int64     // bytes of the stored stream (before sealing)
	key    []byte    // seal key when the run is sealed (an encrypted database), else nil
}

// writeFile writes a sorted run in blocks (see above), each beginning at a
// mark set every markBytes plaintext bytes. With a seal key the stream is
// sealed (seal.go). The file is private (0600) and new.
func (m *memRun) writeFile(path string, markBytes int64, sealKey []byte) (spillRun, error) {
	run := spillRun{path: path, key: sealKey}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return run, fmt.Errorf("spill import run: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	var w io.Writer = bw
	var sw *sealWriter
	if sealKey != nil {
		if sw, err = newSealWriter(bw, sealKey); err != nil {
			_ = f.Close()
			return run, fmt.Errorf("spill import run %s: %w", path, err)
		}
		w = sw
	}
	var (
		block, enc []byte
		off        int64
	)
	flush := func() error {
		if len(block) == 0 {
			return nil
		}
		enc = s2.Encode(enc[:cap(enc)], block)
		var hdr [runBlockHeader]byte
		binary.LittleEndian.PutUint32(hdr[:4], uint32(len(block)))
		binary.LittleEndian.PutUint32(hdr[4:], uint32(len(enc)))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := w.Write(enc); err != nil {
			return err
		}
		run.stored += int64(runBlockHeader + len(enc))
		block = block[:0]
		return nil
	}
	err = m.each(func(k, v []byte) error {
		if len(block) == 0 || int64(len(block)) >= markBytes {
			if err := flush(); err != nil {
				return err
			}
			run.marks = append(run.marks, runMark{key: bytes.Clone(k), off: off, at: run.stored})
		}
		n := len(block)
		block = binary.AppendUvarint(block, uint64(len(k)))
		block = binary.AppendUvarint(block, uint64(len(v)))
		block = append(block, k...)
		block = append(block, v...)
		off += int64(len(block) - n)
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && sw != nil {
		err = sw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return run, fmt.Errorf("spill import run %s: %w", path, err)
	}
	run.size = off
	return run, nil
}

// blockReader serves the records of a run's blocks, one block in memory.
// A block holds whole records, so a record is a slice of it.
type blockReader struct {
	src   io.Reader // the stored stream, positioned at a block
	name  string
	plain []byte // the current block
	pos   int
	enc   []byte
}

// fill reads and decompresses the next block; io.EOF at the end of the
// stream.
func (b *blockReader) fill() error {
	var hdr [runBlockHeader]byte
	if _, err := io.ReadFull(b.src, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("read import run %s: %w", b.name, err)
	}
	n, stored := binary.LittleEndian.Uint32(hdr[:4]), binary.LittleEndian.Uint32(hdr[4:])
	if n == 0 || n > maxRunBlock || int(stored) > s2.MaxEncodedLen(int(n)) {
		return fmt.Errorf("read import run %s: a block of %d bytes stored in %d", b.name, n, stored)
	}
	b.enc = slices.Grow(b.enc[:0], int(stored))[:stored]
	if _, err := io.ReadFull(b.src, b.enc); err != nil {
		return fmt.Errorf("read import run %s: %w", b.name, err)
	}
	if got, err := s2.DecodedLen(b.enc); err != nil || got != int(n) {
		return fmt.Errorf("read import run %s: a damaged block (%d bytes, %v)", b.name, got, err)
	}
	plain, err := s2.Decode(b.plain[:cap(b.plain)], b.enc)
	if err != nil {
		return fmt.Errorf("read import run %s: %w", b.name, err)
	}
	b.plain, b.pos = plain, 0
	return nil
}

type fileIter struct {
	f *os.File
	r *blockReader
}

// openRun opens a run file at the block of the last mark not after lo (at
// its start when lo is nil); the records before lo that remain are for the
// caller to skip.
func openRun(run spillRun, lo []byte) (*fileIter, error) {
	f, err := os.Open(run.path)
	if err != nil {
		return nil, fmt.Errorf("open import run: %w", err)
	}
	var at int64
	if lo != nil {
		// The first mark after lo; the one before it is where to start.
		i := sort.Search(len(run.marks), func(i int) bool { return bytes.Compare(run.marks[i].key, lo) > 0 })
		if i > 0 {
			at = run.marks[i-1].at
		}
	}
	br := &blockReader{name: run.path}
	if run.key != nil {
		sr, err := openSealed(f, run.key, at)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("open import run: %w", err)
		}
		br.src = sr
	} else {
		if at > 0 {
			if _, err := f.Seek(at, io.SeekStart); err != nil {
				_ = f.Close()
				return nil, fmt.Errorf("seek import run %s: %w", run.path, err)
			}
		}
		br.src = f
	}
	return &fileIter{f: f, r: br}, nil
}

// next returns the next record; its key and value are slices of the
// current block, valid until the next call.
func (it *fileIter) next() ([]byte, []byte, bool, error) {
	b := it.r
	if b.pos == len(b.plain) {
		if err := b.fill(); err == io.EOF {
			return nil, nil, false, nil
		} else if err != nil {
			return nil, nil, false, err
		}
	}
	rec := b.plain[b.pos:]
	kl, n1 := binary.Uvarint(rec)
	if n1 <= 0 {
		return nil, nil, false, fmt.Errorf("read import run %s: a damaged record", b.name)
	}
	vl, n2 := binary.Uvarint(rec[n1:])
	h := n1 + n2
	if n2 <= 0 || kl > uint64(len(rec)-h) || vl > uint64(len(rec)-h)-kl {
		return nil, nil, false, fmt.Errorf("read import run %s: a damaged record", b.name)
	}
	k := rec[h : h+int(kl) : h+int(kl)]
	v := rec[h+int(kl) : h+int(kl)+int(vl) : h+int(kl)+int(vl)]
	b.pos += h + int(kl) + int(vl)
	return k, v, true, nil
}

func (it *fileIter) close() error { return it.f.Close() }
