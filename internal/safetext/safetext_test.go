package safetext

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// hostile holds what an imported name may carry: an OSC 52 clipboard write,
// a screen clear, an 8-bit CSI, a right-to-left override, an isolate, a
// carriage return and a byte that is not UTF-8.
const hostile = "Ivan\x1b]52;c;cm0gLXJmIH4K\a \x1b[2J\u009b31m \u202egpj.exe\u2066x\u2069\rA\xff\nB\tC\x7f"

func TestLine(t *testing.T) {
	got := Line(hostile)
	want := `Ivan␛]52;c;cm0gLXJmIH4K␇ ␛[2J\u009b31m \u202egpj.exe\u2066x\u2069␍A\xff␊B␉C␡`
	if got != want {
		t.Errorf("Line:\n got %q\nwant %q", got, want)
	}
	if !Safe(got) {
		t.Errorf("Line's output is not Safe: %q", got)
	}
	if Safe(hostile) {
		t.Error("hostile text reported Safe")
	}
}

func TestText(t *testing.T) {
	got := Text(hostile)
	if !strings.Contains(got, "A\\xff\nB\tC␡") || strings.ContainsAny(got, "\x1b\a\r\u009b\u202e\u2066") {
		t.Errorf("Text: %q", got)
	}
}

func TestOrdinaryTextUnchanged(t *testing.T) {
	for _, s := range []string{"", "Ахметов Жанболат", "ТОО «ТенгеОбмен24»", "אבג عربي", "👩‍👩‍👧 café", "+77015551234"} {
		if Line(s) != s || Text(s) != s || !Safe(s) {
			t.Errorf("%q changed: %q", s, Line(s))
		}
	}
}

func TestWriterJoinsSplitRunes(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	msg := []byte("Ж\u202e\x1b[2J end\n")
	for i := range msg { // one byte at a time splits every multi-byte rune
		if n, err := w.Write(msg[i : i+1]); n != 1 || err != nil {
			t.Fatalf("Write: %d %v", n, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "Ж\\u202e␛[2J end\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	out.Reset()
	w.Write([]byte("x\xd0")) // an incomplete rune at the very end
	w.Flush()
	if got := out.String(); got != `x\xd0` {
		t.Errorf("flushed tail: %q", got)
	}
}

func TestJSONKeepsMeaning(t *testing.T) {
	in := map[string]string{"name": hostile}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	safe := JSON(raw)
	if bytes.ContainsAny(safe, "\x1b\a\u009b\u202e\u2066\u2069") {
		t.Errorf("raw control left in %s", safe)
	}
	var back map[string]string
	if err := json.Unmarshal(safe, &back); err != nil {
		t.Fatal(err)
	}
	// encoding/json turned the invalid byte into U+FFFD; everything else is
	// the same string.
	if want := strings.ReplaceAll(hostile, "\xff", "\ufffd"); back["name"] != want {
		t.Errorf("round trip changed the string: %q", back["name"])
	}
}

func TestStyledKeepsOnlySGR(t *testing.T) {
	in := "\x1b[1;38;5;208mName\x1b[0m " + hostile + "\n\x1b[38:2::1:2:3mx\x1b[m"
	got := Styled(in)
	want := "\x1b[1;38;5;208mName\x1b[0m " + Text(hostile) + "\n\x1b[38:2::1:2:3mx\x1b[m"
	if got != want {
		t.Errorf("Styled:\n got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"\x1b]", "\x1b[2J", "\a", "\u202e", "\u009b"} {
		if strings.Contains(got, bad) {
			t.Errorf("Styled left %q", bad)
		}
	}
}
