package importers

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
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

// utf8Hint tells what to do with a file that is not UTF-8. The usual one is
// Windows-1251 (Cyrillic text from older Windows programs and 1C exports).
const utf8Hint = ": if the file is Windows-1251 (Cyrillic from older Windows programs or 1C), convert it " +
	"(iconv -f WINDOWS-1251 -t UTF-8 FILE > FILE.utf8.csv) or import it through a mapping profile with " +
	"encoding: windows-1251 (casegraph profile infer FILE proposes one)"

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
			return fmt.Errorf("value is not valid UTF-8 (byte 0x%02x at byte %d)%s", s[i], i, utf8Hint)
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
