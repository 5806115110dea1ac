package dgraphdb

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestRDFString: a literal reads back (strconv.Unquote, as Dgraph's RDF
// parser does) as the Loader's JSON would store it, invalid UTF-8 replaced
// byte by byte, and never holds a raw newline, which ends an N-Quad.
func TestRDFString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "new\nline\r\t", "\x00\x07\x1b\x7f",
		"Ахметов ₸ 😀", "bad\xffutf8\xc3", "\u2028\u2029", `_:e1 <p> "x" . # c`} {
		lit := rdfString(s)
		if strings.ContainsAny(lit, "\n\r") {
			t.Errorf("%q: raw line break in %s", s, lit)
		}
		got, err := strconv.Unquote(lit)
		if err != nil {
			t.Errorf("%q: %s does not unquote: %v", s, lit, err)
			continue
		}
		var want string
		b, _ := json.Marshal(s)
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%q: reads back as %q, JSON stores %q", s, got, want)
		}
	}
}
