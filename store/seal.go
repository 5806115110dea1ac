package store

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Sealed files: what an encrypted database writes outside Badger (the
// sorted runs a bulk import spills to .import-tmp, the rejects of an
// import) is encrypted with a key derived from the database key, so nothing
// it read leaves the database in plaintext.
//
// Format (streaming, seekable by plaintext offset):
//
//	"CGSEAL1\n"   8 bytes magic
//	salt          32 random bytes; file key = HMAC-SHA256(seal key, salt)
//	chunk…        AES-256-GCM of sealChunk plaintext bytes + 16-byte tag;
//	              nonce = chunk index uint64 BE ‖ final flag uint32 BE
//
// Every chunk but the last holds exactly sealChunk bytes; the last holds
// fewer (possibly none) and is sealed with the final flag, so a cut file, a
// reordered or swapped chunk and an edited byte all fail to open. The seal
// key is HMAC-SHA256(database key, sealLabel): a fresh salt per file gives
// each file its own AES key, so the counter nonces never repeat under a key.
const (
	sealMagic  = "CGSEAL1\n"
	sealSalt   = 32
	sealHeader = len(sealMagic) + sealSalt
	sealChunk  = 64 << 10
	sealTag    = 16
	sealLabel  = "casegraph sealed files v1"
)

// ErrSealed means a sealed file could not be opened: the key is wrong or
// the file was cut or changed.
var ErrSealed = errors.New("sealed file is damaged or needs another key")

func deriveSealKey(dbKey []byte) []byte {
	m := hmac.New(sha256.New, dbKey)
	m.Write([]byte(sealLabel))
	return m.Sum(nil)
}

func sealAEAD(sealKey, salt []byte) (cipher.AEAD, error) {
	m := hmac.New(sha256.New, sealKey)
	m.Write(salt)
	blk, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

func sealNonce(dst []byte, chunk uint64, final bool) []byte {
	dst = binary.BigEndian.AppendUint64(dst[:0], chunk)
	var f uint32
	if final {
		f = 1
	}
	return binary.BigEndian.AppendUint32(dst, f)
}

// sealWriter encrypts what is written to it into w; Close seals the final
// chunk (it does not close w).
type sealWriter struct {
	w     io.Writer
	aead  cipher.AEAD
	buf   []byte // plaintext of the chunk being filled
	out   []byte
	nonce []byte
	chunk uint64
	err   error
}

func newSealWriter(w io.Writer, sealKey []byte) (*sealWriter, error) {
	salt := make([]byte, sealSalt)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := sealAEAD(sealKey, salt)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if _, err := io.WriteString(w, sealMagic); err != nil {
		return nil, err
	}
	if _, err := w.Write(salt); err != nil {
		return nil, err
	}
	return &sealWriter{w: w, aead: aead, buf: make([]byte, 0, sealChunk), out: make([]byte, 0, sealChunk+sealTag),
		nonce: make([]byte, 0, 12)}, nil
}

func (s *sealWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := 0
	for len(p) > 0 {
		c := copy(s.buf[len(s.buf):cap(s.buf)], p)
		s.buf = s.buf[:len(s.buf)+c]
		p, n = p[c:], n+c
		if len(s.buf) == sealChunk {
			if s.err = s.flush(false); s.err != nil {
				return n, s.err
			}
		}
	}
	return n, nil
}

func (s *sealWriter) flush(final bool) error {
	s.out = s.aead.Seal(s.out[:0], sealNonce(s.nonce, s.chunk, final), s.buf, nil)
	s.chunk++
	s.buf = s.buf[:0]
	_, err := s.w.Write(s.out)
	return err
}

// Close seals the last chunk.
func (s *sealWriter) Close() error {
	if s.err != nil {
		return s.err
	}
	s.err = s.flush(true)
	if s.err == nil {
		s.err = errors.New("seal: write after close")
		return nil
	}
	return s.err
}

// sealReader decrypts a sealed file from a plaintext offset on.
type sealReader struct {
	r     io.Reader
	aead  cipher.AEAD
	in    []byte
	plain []byte // decrypted, not yet read
	nonce []byte
	chunk uint64
	done  bool
	name  string
}

// openSealed reads the header of the sealed file f and positions it at the
// plaintext offset off.
func openSealed(f *os.File, sealKey []byte, off int64) (*sealReader, error) {
	hdr := make([]byte, sealHeader)
	if _, err := io.ReadFull(f, hdr); err != nil || string(hdr[:len(sealMagic)]) != sealMagic {
		return nil, fmt.Errorf("%s: not a sealed file: %w", f.Name(), ErrSealed)
	}
	aead, err := sealAEAD(sealKey, hdr[len(sealMagic):])
	if err != nil {
		return nil, err
	}
	chunk := off / sealChunk
	if chunk > 0 {
		if _, err := f.Seek(int64(sealHeader)+chunk*(sealChunk+sealTag), io.SeekStart); err != nil {
			return nil, err
		}
	}
	s := &sealReader{r: bufio.NewReaderSize(f, 2*(sealChunk+sealTag)), aead: aead, in: make([]byte, sealChunk+sealTag),
		nonce: make([]byte, 0, 12), chunk: uint64(chunk), name: f.Name()}
	if skip := off % sealChunk; skip > 0 {
		if err := s.fill(); err != nil {
			return nil, err
		}
		if int64(len(s.plain)) < skip {
			return nil, fmt.Errorf("%s: offset %d past the end: %w", s.name, off, ErrSealed)
		}
		s.plain = s.plain[skip:]
	}
	return s, nil
}

// newSealedStream returns a reader of the plaintext of a sealed stream.
func newSealedStream(r io.Reader, sealKey []byte, name string) (*sealReader, error) {
	hdr := make([]byte, sealHeader)
	if _, err := io.ReadFull(r, hdr); err != nil || string(hdr[:len(sealMagic)]) != sealMagic {
		return nil, fmt.Errorf("%s: not a sealed file: %w", name, ErrSealed)
	}
	aead, err := sealAEAD(sealKey, hdr[len(sealMagic):])
	if err != nil {
		return nil, err
	}
	return &sealReader{r: r, aead: aead, in: make([]byte, sealChunk+sealTag), nonce: make([]byte, 0, 12), name: name}, nil
}

func (s *sealReader) fill() error {
	if s.done {
		return io.EOF
	}
	n, err := io.ReadFull(s.r, s.in)
	final := false
	switch {
	case err == nil:
	case errors.Is(err, io.ErrUnexpectedEOF) && n >= sealTag:
		final = true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: cut short: %w", s.name, ErrSealed)
	default:
		return err
	}
	plain, oerr := s.aead.Open(s.in[:0], sealNonce(s.nonce, s.chunk, final), s.in[:n], nil)
	if oerr != nil {
		return fmt.Errorf("%s: chunk %d: %w", s.name, s.chunk, ErrSealed)
	}
	s.chunk++
	s.plain = plain
	s.done = final
	return nil
}

func (s *sealReader) Read(p []byte) (int, error) {
	for len(s.plain) == 0 {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.plain)
	s.plain = s.plain[n:]
	return n, nil
}

func (s *sealReader) ReadByte() (byte, error) {
	for len(s.plain) == 0 {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	b := s.plain[0]
	s.plain = s.plain[1:]
	return b, nil
}

// Encrypted reports whether the database is encrypted at rest, and so
// seals the files it writes outside Badger.
func (db *DB) Encrypted() bool { return db.sealKey != nil }

// SealWriter returns a writer that seals what is written into w with the
// database's key (see seal.go), or w itself, with a no-op Close, when the
// database is not encrypted. Close seals the end; it does not close w.
func (db *DB) SealWriter(w io.Writer) (io.WriteCloser, error) {
	if db.sealKey == nil {
		return nopCloser{w}, nil
	}
	return newSealWriter(w, db.sealKey)
}

// OpenSealed returns the plaintext of a sealed stream written by
// SealWriter of this database; name is for errors. It fails with ErrSealed
// on a file cut short or changed, and when the database is not encrypted.
func (db *DB) OpenSealed(r io.Reader, name string) (io.Reader, error) {
	if db.sealKey == nil {
		return nil, fmt.Errorf("%s: the database is not encrypted, so it seals nothing: %w", name, ErrSealed)
	}
	return newSealedStream(r, db.sealKey, name)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
