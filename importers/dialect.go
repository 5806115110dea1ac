package importers

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// This file recognises the dialect of a CSV file that is not in casegraph's
// canonical form: its encoding, separator and where the header sits. Bank
// and FIU exports in Kazakhstan and Russia are typically Windows-1251 with
// `;` separators and a block of metadata rows (bank, client, account) above
// the header (DOMAIN §5).

// Encodings a dialect can name.
const (
	EncodingUTF8    = "utf-8"
	EncodingCP1251  = "windows-1251"
	sniffSampleSize = 64 << 10
)

// Dialect describes how a delimited text file is written.
type Dialect struct {
	Encoding string // EncodingUTF8 or EncodingCP1251
	BOM      bool   // the file starts with a UTF-8 byte-order mark
	Comma    rune   // field separator: ';', ',', '\t' or '|'
	// HeaderLine is the 1-based physical line of the header row; the lines
	// above it are metadata (bank, client, period) and are not data rows.
	HeaderLine int
	Fields     int // number of fields in the header row as sniffed
}

// String renders the dialect for reports: "windows-1251, ';', header on line 9".
func (d Dialect) String() string {
	sep := string(d.Comma)
	if d.Comma == '\t' {
		sep = `\t`
	}
	bom := ""
	if d.BOM {
		bom = " with BOM"
	}
	return fmt.Sprintf("%s%s, '%s', header on line %d", d.Encoding, bom, sep, d.HeaderLine)
}

// separators are the candidates the sniffer tries, in order of preference
// when two fit equally well.
var separators = [...]rune{';', ',', '\t', '|'}

// SniffDialect reads up to 64 KiB from br without consuming it and
// recognises the encoding, separator and header line. A sample that is not
// valid UTF-8 is taken as Windows-1251, the only single-byte encoding
// Kazakh and Russian banks still export.
func SniffDialect(br *bufio.Reader) (Dialect, error) {
	sample, err := br.Peek(sniffSampleSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Dialect{}, fmt.Errorf("sniff dialect: %w", err)
	}
	return SniffBytes(sample, len(sample) < sniffSampleSize), nil
}

// SniffBytes recognises the dialect of sample, the start of a file; complete
// says the sample is the whole file (so its last line is not cut).
func SniffBytes(sample []byte, complete bool) Dialect {
	d := Dialect{Encoding: EncodingUTF8, Comma: ',', HeaderLine: 1}
	if len(sample) >= 3 && sample[0] == 0xEF && sample[1] == 0xBB && sample[2] == 0xBF {
		d.BOM = true
		sample = sample[3:]
	} else if !validUTF8Prefix(sample, complete) {
		d.Encoding = EncodingCP1251
	}
	text := string(sample)
	if d.Encoding == EncodingCP1251 {
		text = DecodeCP1251(sample)
	}
	lines := strings.Split(text, "\n")
	if !complete && len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last line may be cut short
	}
	if len(lines) > 200 {
		lines = lines[:200]
	}
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	bestScore, bestFields := 0, 0
	for _, sep := range separators {
		counts := make([]int, len(lines))
		freq := map[int]int{}
		for i, l := range lines {
			if strings.TrimSpace(l) == "" {
				continue
			}
			counts[i] = countFields(l, sep)
			if counts[i] >= 2 {
				freq[counts[i]]++
			}
		}
		mode, score := 0, 0
		for n, c := range freq {
			if c > score || (c == score && n > mode) {
				mode, score = n, c
			}
		}
		if score > bestScore || (score == bestScore && mode > bestFields) {
			bestScore, bestFields, d.Comma = score, mode, sep
		}
	}
	d.Fields = bestFields
	if bestFields < 2 {
		d.Fields = 1
		return d
	}
	for i, l := range lines {
		if strings.TrimSpace(l) == "" || countFields(l, d.Comma) != bestFields {
			continue
		}
		if looksLikeHeader(splitSimple(l, d.Comma), bestFields) {
			d.HeaderLine = i + 1
			return d
		}
	}
	return d
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing a rune cut at
// the end when b is only the start of a file.
func validUTF8Prefix(b []byte, complete bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if complete {
		return false
	}
	for cut := 1; cut <= 3 && cut < len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) {
			return true
		}
	}
	return false
}

// countFields counts the fields of one line, honouring double quotes.
func countFields(l string, sep rune) int {
	n, quoted := 1, false
	for _, r := range l {
		switch {
		case r == '"':
			quoted = !quoted
		case r == sep && !quoted:
			n++
		}
	}
	return n
}

// splitSimple splits one line on sep outside double quotes and strips the
// quotes; it is for sniffing only.
func splitSimple(l string, sep rune) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for _, r := range l {
		switch {
		case r == '"':
			quoted = !quoted
		case r == sep && !quoted:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteRune(r)
		}
	}
	return append(out, b.String())
}

// looksLikeHeader reports whether cells can be a header row: most cells are
// filled, and they are names, not amounts or dates.
func looksLikeHeader(cells []string, fields int) bool {
	filled, numeric := 0, 0
	for _, c := range cells {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		filled++
		if _, err := ParseDecimal(c, 0); err == nil {
			numeric++
		} else if _, err := ParseDateTime(c, DateFormat{Layout: "auto"}, nil); err == nil {
			numeric++
		}
	}
	need := (fields*3 + 4) / 5 // 60 %
	if need < 2 {
		need = 2
	}
	if fields == 2 {
		need = 2
	}
	return filled >= need && numeric*2 < filled
}

// cp1251 maps every Windows-1251 byte to its UTF-8 encoding.
var cp1251 = func() [256]string {
	var t [256]string
	for i := 0; i < 256; i++ {
		r := charmap.Windows1251.DecodeByte(byte(i))
		t[i] = string(r)
	}
	return t
}()

// DecodeCP1251 converts Windows-1251 bytes to a UTF-8 string.
func DecodeCP1251(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) * 2)
	for _, c := range b {
		if c < 0x80 {
			sb.WriteByte(c)
		} else {
			sb.WriteString(cp1251[c])
		}
	}
	return sb.String()
}

// cp1251Reader decodes a Windows-1251 stream to UTF-8 with a lookup table;
// it is several times faster than a general transform.Reader.
type cp1251Reader struct {
	r   io.Reader
	in  []byte
	buf []byte // decoded bytes; buf[off:] not yet returned
	off int
	err error
}

// NewDecoder returns a reader that yields r as UTF-8 text: Windows-1251 is
// decoded, a UTF-8 byte-order mark is dropped.
func NewDecoder(r io.Reader, d Dialect) io.Reader {
	if d.Encoding == EncodingCP1251 {
		// A Cyrillic letter takes two bytes in UTF-8, a few signs three.
		return &cp1251Reader{r: r, in: make([]byte, 32<<10), buf: make([]byte, 0, 64<<10)}
	}
	if d.BOM {
		br, ok := r.(*bufio.Reader)
		if !ok {
			br = bufio.NewReader(r)
		}
		if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
			_, _ = br.Discard(3)
		}
		return br
	}
	return r
}

func (c *cp1251Reader) Read(p []byte) (int, error) {
	for c.off == len(c.buf) {
		if c.err != nil {
			return 0, c.err
		}
		n, err := c.r.Read(c.in)
		c.err = err
		// The buffer is reused from its start: slicing it forward as it is
		// read would shrink its capacity and reallocate it on every fill.
		c.buf, c.off = c.buf[:0], 0
		for _, b := range c.in[:n] {
			if b < 0x80 {
				c.buf = append(c.buf, b)
			} else {
				c.buf = append(c.buf, cp1251[b]...)
			}
		}
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

// totalWords start the summary rows that statements put below the data:
// totals, turnovers and balances, in Russian, Kazakh and English.
var totalWords = []string{"итого", "всего", "остаток", "обороты", "оборот", "сальдо",
	"барлығы", "жиыны", "қалдық", "total", "subtotal", "balance", "closing balance", "opening balance"}

// TotalRow reports whether rec is a summary row (Итого, Остаток, Барлығы,
// Total…): its first non-empty cell starts with one of those words. It
// returns the word found.
func TotalRow(rec []string) (string, bool) {
	for _, c := range rec {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		low := strings.ToLower(c)
		for _, w := range totalWords {
			if strings.HasPrefix(low, w) {
				rest := low[len(w):]
				if rest == "" || !isWordRune(rest) {
					return c, true
				}
			}
		}
		return "", false
	}
	return "", false
}

// isWordRune reports whether s starts with a letter or digit, i.e. the word
// before it continues ("totality" is not "total").
func isWordRune(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// EmptyRow reports whether every cell of rec is blank.
func EmptyRow(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
