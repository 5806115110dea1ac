package importers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"casegraph/graph"
)

// Hostile input (docs/SECURITY.md, "Hostile input files"): every file is
// read as if a suspect wrote it. Nothing is invented (a file that is not
// recognised is refused, never guessed into data), nothing is silently lost
// (a row is imported or rejected with its reason), and time and memory stay
// bounded whatever the input.

// MaxFieldBytes bounds one field of a canonical row: a longer value (a
// 64 KiB card number, a 100 MB name) is no datum but an attack on the store's
// keys and the search index, and the row is rejected naming the column.
const MaxFieldBytes = 4096

// MaxNameBytes bounds a name the non-CSV importers (FtM, goAML, lists, the
// mapping profiles) keep; a longer one is rejected with its record.
const MaxNameBytes = MaxFieldBytes

// ShowPrefix is how much of an oversized value a reject or an error quotes.
const ShowPrefix = 64

// Preview returns s, or for a value longer than ShowPrefix bytes its first
// ShowPrefix bytes (cut at a rune start) followed by "… (N bytes)". Every
// error and reject that quotes a hostile value goes through it, so that a
// 10 MB field never reaches stderr.
func Preview(s string) string {
	if len(s) <= ShowPrefix {
		return s
	}
	cut := ShowPrefix
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (" + groupThousands(len(s)) + " bytes)"
}

// groupThousands writes n with comma thousands separators (70,000).
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// CheckText refuses a value that is not valid UTF-8, holds a NUL byte or is
// longer than max bytes (max 0 means MaxFieldBytes). The reason says which
// and where; it never quotes more than ShowPrefix bytes.
func CheckText(s string, max int) error {
	if max <= 0 {
		max = MaxFieldBytes
	}
	if len(s) > max {
		return fmt.Errorf("value of %s bytes is longer than the %s bytes a field may hold", groupThousands(len(s)), groupThousands(max))
	}
	// One pass for the common case, ASCII without NUL.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return fmt.Errorf("value holds a NUL byte at byte %d", i)
		}
		if c >= utf8.RuneSelf {
			return checkUTF8(s, i)
		}
	}
	return nil
}

// checkUTF8 checks s from byte i on, the first non-ASCII byte.
func checkUTF8(s string, i int) error {
	if j := strings.IndexByte(s[i:], 0); j >= 0 {
		return fmt.Errorf("value holds a NUL byte at byte %d", i+j)
	}
	if utf8.ValidString(s[i:]) {
		return nil
	}
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return fmt.Errorf("value is not valid UTF-8 (byte 0x%02x at byte %d): save the file as UTF-8, or read it through a mapping profile with encoding: windows-1251", s[i], i)
		}
		i += n
	}
	return nil
}

// CheckHead refuses the start of a file that no importer should read as
// data: two byte-order marks, or binary content (more than one byte in
// twenty a control character other than tab, CR and LF). head is
// the first bytes of the file; the reason names what was found and where.
func CheckHead(head []byte) error {
	if bytes.HasPrefix(head, []byte("\ufeff\ufeff")) {
		return fmt.Errorf("starts with two byte-order marks: not a file casegraph reads")
	}
	return checkBinary(head)
}

// crReader turns lone CR line ends (classic Mac, some bank exports) into LF,
// so encoding/csv, which only knows LF and CRLF, sees the rows. A CR inside
// a quoted field becomes LF too, which is how encoding/csv already reads a
// CRLF there.
type crReader struct {
	r       io.Reader
	pending bool // the last byte returned was a CR turned into LF
}

func newCRReader(r io.Reader) *crReader { return &crReader{r: r} }

func (c *crReader) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		if n == 0 {
			return 0, err
		}
		if !c.pending && bytes.IndexByte(p[:n], '\r') < 0 {
			return n, err
		}
		w := 0
		for _, b := range p[:n] {
			if c.pending {
				c.pending = false
				if b == '\n' {
					continue // CRLF: the CR was already written as LF
				}
			}
			if b == '\r' {
				c.pending = true
				b = '\n'
			}
			p[w] = b
			w++
		}
		if w > 0 || err != nil {
			return w, err
		}
	}
}

// checkBinary refuses a head of file that is binary: more than one byte in
// twenty is a control character other than tab, CR and LF (NUL included).
// Text with a stray ESC in a name, or a NUL in one row, is still text: those
// rows are rejected one by one (CheckText).
func checkBinary(head []byte) error {
	ctl, first := 0, -1
	for i, c := range head {
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
			ctl++
			if first < 0 {
				first = i
			}
		}
	}
	if len(head) > 0 && ctl*20 > len(head) {
		return fmt.Errorf("binary content (%d control bytes in the first %d, the first 0x%02x at offset %d): not a text file (UTF-16 and spreadsheets must be saved as UTF-8 CSV)",
			ctl, len(head), head[first], first)
	}
	return nil
}

// columnName is the name a reject gives column i of the header.
func (im *importer) columnName(i int) string {
	if i < len(im.header) {
		if n := headerName(im.header[i]); n != "" {
			return n
		}
	}
	return "column_" + strconv.Itoa(i+1)
}

// checkFields rejects a row with a field that is too long, not UTF-8 or
// holds a NUL byte, before any of it reaches the sink.
func (im *importer) checkFields(rec []string) rowError {
	for i, v := range rec {
		if err := CheckText(v, MaxFieldBytes); err != nil {
			return rowError{column: im.columnName(i), value: showValue(v), reason: err.Error()}
		}
	}
	return rowError{}
}

// showValue is a hostile value as a reject quotes it: at most ShowPrefix
// bytes, invalid UTF-8 and NUL shown as U+FFFD.
func showValue(v string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(Preview(v), "\ufffd"), "\x00", "\ufffd")
}

// maxIDs bounds the ids a file remembers for conflict checks (one word
// each, about 16 MB with the map's overhead). Beyond it, ids not seen yet are
// no longer remembered: a conflict between two rows past the first maxIDs
// distinct ids goes unreported.
const maxIDs = 1 << 20

// firstRow is where an id was first seen in a file (the low 32 bits: its
// line) and a 32-bit hash of that row (the high bits): one word per id.
type firstRow uint64

func newFirstRow(sum uint64, line int) firstRow {
	return firstRow(sum&^0xffffffff | uint64(uint32(line)))
}

func (f firstRow) sum() uint64 { return uint64(f) &^ 0xffffffff }
func (f firstRow) line() int   { return int(uint32(f)) }

// IDGuard finds conflicting duplicates in one file: the same id given by two
// rows with different data. Check a row's id and the hash of its data; once
// the row is imported, Remember it (a rejected row holds no id). The first
// row is kept, a conflicting one is rejected with ConflictReason; an
// identical repeat passes. Used by the canonical importer and the mapping
// profiles.
type IDGuard struct {
	seed       maphash.Seed
	ids        map[uint64]firstRow
	pendingID  uint64
	pendingRow firstRow
	hasPending bool
}

// NewIDGuard returns an empty guard.
func NewIDGuard() *IDGuard {
	return &IDGuard{seed: maphash.MakeSeed(), ids: make(map[uint64]firstRow)}
}

// Seed is the seed to hash a row's data with (maphash).
func (g *IDGuard) Seed() maphash.Seed { return g.seed }

// Check reports the line of the row that gave id first, when it gave it with
// data of another hash; otherwise it notes id for Remember.
func (g *IDGuard) Check(id string, sum uint64, line int) (firstLine int, conflict bool) {
	k := maphash.String(g.seed, id)
	if first, ok := g.ids[k]; ok {
		if first.sum() == sum&^0xffffffff {
			g.hasPending = false
			return 0, false
		}
		return first.line(), true
	}
	g.pendingID, g.pendingRow, g.hasPending = k, newFirstRow(sum, line), true
	return 0, false
}

// Remember records the id last checked, once its row is imported.
func (g *IDGuard) Remember() {
	if g.hasPending && len(g.ids) < maxIDs {
		g.ids[g.pendingID] = g.pendingRow
	}
	g.hasPending = false
}

// ConflictReason is the reject reason of a conflicting duplicate.
func ConflictReason(column, id, file string, line, firstLine int) string {
	return fmt.Sprintf("conflicting duplicate: %s %s at %s:%d has different data than at %s:%d (the first is kept)",
		column, Preview(id), file, line, file, firstLine)
}

// TxnSum hashes what a transaction says (not where it was read).
func TxnSum(seed maphash.Seed, t *graph.Txn) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, s := range [...]string{t.From.Key, t.To.Key, t.Currency, t.ATM, t.Device, t.IP, t.Reference} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	var b [8 * 5]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(t.Time.UnixNano()))
	binary.LittleEndian.PutUint64(b[8:], uint64(t.Amount))
	binary.LittleEndian.PutUint64(b[16:], uint64(t.From.Kind)<<8|uint64(t.To.Kind))
	binary.LittleEndian.PutUint64(b[24:], uint64(t.Channel))
	if t.DateOnly {
		b[32] = 1
	}
	h.Write(b[:])
	return h.Sum64()
}

// setIdentity picks the column that identifies the records of format f.
func (im *importer) setIdentity(f Format) {
	im.idCol = -1
	switch f {
	case FormatPersons:
		im.idCol = im.idx("iin")
	case FormatCards:
		im.idCol = im.idx("pan")
	case FormatExchanges:
		im.idCol = im.idx("exchange_id")
	case FormatGroups:
		im.idCol = im.idx("group_id")
	case FormatTransactions:
		im.idCol = im.idx("tx_id")
	}
	if im.idCol >= 0 {
		im.ids = NewIDGuard()
	}
}

// conflict rejects a row whose id an earlier row of the file gave with
// different data: the first is kept, the second is rejected naming both
// lines, never silently overwritten. An identical repeat is accepted (it
// changes nothing). Ids are compared as written after trimming and, for
// IINs and PANs, without spaces and dashes.
func (im *importer) conflict(rec []string, file string, line int) rowError {
	if im.idCol < 0 {
		return rowError{}
	}
	var id string
	switch im.rep.Format {
	case FormatPersons, FormatCards:
		id = strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' || r == '\t' {
				return -1
			}
			return r
		}, rec[im.idCol])
	default:
		id = strings.TrimSpace(rec[im.idCol])
	}
	if id == "" {
		return rowError{}
	}
	var h maphash.Hash
	h.SetSeed(im.ids.Seed())
	for _, v := range rec {
		h.WriteString(strings.TrimSpace(v))
		h.WriteByte(0)
	}
	if first, bad := im.ids.Check(id, h.Sum64(), line); bad {
		col := im.columnName(im.idCol)
		return rowError{column: col, value: showValue(id), reason: ConflictReason(col, id, file, line, first)}
	}
	return rowError{}
}

// remember records the id of the row conflict last checked, once that row
// is imported.
func (im *importer) remember() {
	if im.ids != nil {
		im.ids.Remember()
	}
}

// ConflictError is what a Sink returns for a record whose id an earlier
// import stored with different data. The canonical importer rejects the row
// with it (the stored record is kept) instead of stopping.
type ConflictError struct {
	Column, Value string
	Reason        string // names both places: this row and the stored one
}

func (e *ConflictError) Error() string { return e.Reason }

// asConflict unwraps a ConflictError from a sink error.
func asConflict(err error) (*ConflictError, bool) {
	var ce *ConflictError
	ok := errors.As(err, &ce)
	return ce, ok
}

// MaxLineBytes bounds a physical line of a CSV file and a run of text or
// tag of an XML file: a longer one stops the import with an error naming the
// file, after reading no more than this much of it into memory.
const MaxLineBytes = 16 << 20

// ErrRunTooLong is the error of a LimitRuns reader.
var ErrRunTooLong = errors.New("longer than 16 MiB without a line end (or, in XML, a tag boundary): not a file casegraph reads")

// LimitRuns passes r through and fails with ErrRunTooLong once more than max
// bytes pass without one of the bytes of delims ("\n" for CSV, "<>" for
// XML), so that no parser buffers an unbounded line, text or tag.
func LimitRuns(r io.Reader, delims string, max int) io.Reader {
	return &runLimiter{r: r, delims: delims, max: max}
}

type runLimiter struct {
	r      io.Reader
	delims string
	max    int
	run    int // bytes since the last delimiter
}

func (l *runLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	b := p[:n]
	var first, last int
	if len(l.delims) == 1 {
		first, last = bytes.IndexByte(b, l.delims[0]), bytes.LastIndexByte(b, l.delims[0])
	} else {
		first, last = bytes.IndexAny(b, l.delims), bytes.LastIndexAny(b, l.delims)
	}
	if first < 0 {
		l.run += n
	} else {
		if l.run+first > l.max {
			return 0, ErrRunTooLong
		}
		if n > l.max {
			// A run between two delimiters of this chunk may be too long
			// too (only when max is below the chunk size).
			prev := first
			for i := first + 1; i <= last; i++ {
				if strings.IndexByte(l.delims, b[i]) >= 0 {
					if i-prev-1 > l.max {
						return 0, ErrRunTooLong
					}
					prev = i
				}
			}
		}
		l.run = n - 1 - last
	}
	if l.run > l.max {
		return 0, ErrRunTooLong
	}
	return n, err
}
