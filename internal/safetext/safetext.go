// Package safetext makes untrusted text inert on a terminal.
//
// Names, notes, references and file names come from imported files and may
// hold anything: ESC sequences that clear the screen, retitle the window or
// write the clipboard (OSC 52), 8-bit C1 controls that some terminals read as
// CSI, carriage returns that overwrite a line, and Unicode bidi overrides that
// show "gpj.exe" for "exe.jpg". Every string casegraph prints to a terminal
// passes through this package first: each such character is replaced by a
// visible escape, so the investigator sees that it is there and the terminal
// never acts on it.
//
//   - C0 controls and DEL become their Control Pictures: ESC is "␛", BEL "␇",
//     CR "␍", NUL "␀", DEL "␡";
//   - C1 controls (U+0080–U+009F) and the Unicode Bidi_Control characters
//     (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) become a Go
//     escape such as `\u202e`;
//   - bytes that are not UTF-8 become `\x9b`.
//
// Line escapes every control, newline and tab included, for text printed on
// one line (a name in a table row). Text keeps newlines and tabs for
// multi-line text (notes). Writer applies Text to everything written to it.
package safetext

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dangerous reports whether r is a character a terminal may act on or that
// reorders the text around it: a C0 or C1 control, DEL, or a bidi control.
func Dangerous(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Bidi_Control, r)
}

// Line returns s with every dangerous character, newline and tab included,
// replaced by a visible escape.
func Line(s string) string { return clean(s, false) }

// Text returns s with every dangerous character but newline and tab replaced
// by a visible escape.
func Text(s string) string { return clean(s, true) }

// Safe reports whether Line(s) == s.
func Safe(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || Dangerous(r) {
			return false
		}
		i += n
	}
	return true
}

func clean(s string, keepLines bool) string {
	i := firstUnsafe(s, keepLines)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case Dangerous(r):
			b.WriteString(visible(r))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func firstUnsafe(s string, keepLines bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (Dangerous(r) && !(keepLines && (r == '\n' || r == '\t'))) {
			return i
		}
		i += n
	}
	return -1
}

// visible is the escape shown for a dangerous rune.
func visible(r rune) string {
	switch {
	case r < 0x20:
		return string(rune(0x2400 + r)) // Control Pictures: ␀ … ␟
	case r == 0x7f:
		return "␡"
	}
	return fmt.Sprintf(`\u%04x`, r)
}

// Styled is Text for a rendered screen: it keeps the SGR sequences (colours
// and text attributes, ESC [ params m) that a renderer such as lipgloss puts
// around text, and escapes every other ESC, so no sequence that moves the
// cursor, clears the screen, sets the title or writes the clipboard
// survives. An SGR sequence can only change how text looks.
func Styled(s string) string {
	if !strings.ContainsRune(s, 0x1b) {
		return Text(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for len(s) > 0 {
		i := strings.IndexByte(s, 0x1b)
		if i < 0 {
			b.WriteString(Text(s))
			break
		}
		b.WriteString(Text(s[:i]))
		s = s[i:]
		if n := sgrLen(s); n > 0 {
			b.WriteString(s[:n])
			s = s[n:]
			continue
		}
		b.WriteString(visible(0x1b))
		s = s[1:]
	}
	return b.String()
}

// sgrLen returns the length of the SGR sequence s starts with, 0 if none.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9' || c == ';' || c == ':':
		case c == 'm':
			return i + 1
		default:
			return 0
		}
	}
	return 0
}

// Writer applies Text to everything written through it. A UTF-8 sequence
// split across two writes is joined before it is judged; Flush writes an
// incomplete sequence left at the end as escaped bytes.
type Writer struct {
	w     io.Writer
	carry []byte
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Unwrap returns the writer underneath, for output that must reach the
// terminal as is (a progress bar's own cursor movements).
func (w *Writer) Unwrap() io.Writer { return w.w }

// Write writes Text(p) and reports len(p) written on success.
func (w *Writer) Write(p []byte) (int, error) {
	buf := p
	if len(w.carry) > 0 {
		buf = append(w.carry, p...)
		w.carry = nil
	}
	// Hold back a trailing incomplete UTF-8 sequence for the next write.
	if k := incompleteTail(buf); k > 0 {
		w.carry = append([]byte(nil), buf[len(buf)-k:]...)
		buf = buf[:len(buf)-k]
	}
	if _, err := io.WriteString(w.w, Text(string(buf))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what a previous Write held back.
func (w *Writer) Flush() error {
	if len(w.carry) == 0 {
		return nil
	}
	s := Text(string(w.carry))
	w.carry = nil
	_, err := io.WriteString(w.w, s)
	return err
}

// incompleteTail returns the length of a trailing UTF-8 sequence that has
// its lead byte but not all its continuation bytes, 0 when there is none.
func incompleteTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xc0 { // a lead byte
			if !utf8.FullRune(b[len(b)-k:]) {
				return k
			}
			return 0
		}
	}
	return 0
}

// JSON rewrites encoded JSON so that it holds no raw dangerous character:
// encoding/json escapes C0 controls but writes C1 controls and bidi controls
// as they are. Those only occur inside JSON strings, where `\u202e` is the
// same string, so the document means exactly what it meant before.
func JSON(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x80 && Dangerous(r) }) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + 16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x80 && Dangerous(r) {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.Write(b[i : i+n])
		}
		i += n
	}
	return out.Bytes()
}
