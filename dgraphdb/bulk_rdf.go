package dgraphdb

// Writing N-Quads: the literals, strings and edges of the bulk loader's
// data file (BulkWriter, bulk.go).

import (
	"unicode/utf8"
)

// value writes one N-Quad with a literal object (already in RDF form).
func (w *BulkWriter) value(subj, pred, obj string) { w.edge(subj, pred, obj, "") }

// str writes one N-Quad whose object is the string literal v.
func (w *BulkWriter) str(subj, pred, v string) {
	if w.err != nil {
		return
	}
	w.buf = append(w.buf[:0], subj...)
	w.buf = append(w.buf, " <"...)
	w.buf = append(w.buf, pred...)
	w.buf = append(w.buf, "> "...)
	w.buf = appendRDFString(w.buf, v)
	w.buf = append(w.buf, " .\n"...)
	_, w.err = w.w.Write(w.buf)
	w.lines++
}

// edge writes one N-Quad whose object is written as given (another node's
// label, or a literal for value), with facets ("" for none).
func (w *BulkWriter) edge(subj, pred, obj, facets string) {
	if w.err != nil {
		return
	}
	w.w.WriteString(subj)
	w.w.WriteString(" <")
	w.w.WriteString(pred)
	w.w.WriteString("> ")
	w.w.WriteString(obj)
	if facets != "" {
		w.w.WriteString(" (")
		w.w.WriteString(facets)
		w.w.WriteString(")")
	}
	_, w.err = w.w.WriteString(" .\n")
	w.lines++
}

// rdfString is an RDF string literal that Dgraph's parser reads back as s,
// with invalid UTF-8 replaced byte by byte by U+FFFD as encoding/json does
// for the Loader's JSON mutations. Quotes, backslashes and control
// characters are escaped (the lexer refuses a raw newline; strconv.Unquote
// reads the escapes).
func rdfString(s string) string { return string(appendRDFString(nil, s)) }

func appendRDFString(b []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\uFFFD`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
		switch {
		case c == '"':
			b = append(b, '\\', '"')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func rdfTyped(v, typ string) string { return `"` + v + `"^^<` + typ + `>` }
