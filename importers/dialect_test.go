package importers

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

func cp1251Bytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1251.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode cp1251: %v", err)
	}
	return b
}

const statement = "Выписка по счёту;;;;\n" +
	"Клиент:;ТОО Ромашка;;;\n" +
	"Счёт:;KZ45722S000054326792;;;\n" +
	"\n" +
	"Дата;Документ;Дебет;Кредит;Назначение\n" +
	"15.03.2025 10:22;1;1 234,50;;оплата\n" +
	"16.03.2025;2;;–12,00;возврат\n" +
	"Итого;;1 234,50;12,00;\n" +
	"Остаток на конец;;;1 222,50;\n"

func TestSniffDialect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []byte
		enc    string
		bom    bool
		comma  rune
		header int
	}{
		{"cp1251 statement", cp1251Bytes(t, statement), EncodingCP1251, false, ';', 5},
		{"utf8 statement", []byte(statement), EncodingUTF8, false, ';', 5},
		{"bom comma", []byte("\ufeffa,b,c\n1,2,3\n"), EncodingUTF8, true, ',', 1},
		{"tabs", []byte("name\tiin\tphone\nA\t1\t2\nB\t3\t4\n"), EncodingUTF8, false, '\t', 1},
		{"quoted semicolons", []byte("\"a\";\"b,c\";\"d\"\r\n1;\"2,5\";3\r\n"), EncodingUTF8, false, ';', 1},
		{"commas in quotes", []byte("a,b\n\"x;y;z\",1\n\"p;q;r\",2\n"), EncodingUTF8, false, ',', 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := SniffBytes(tc.in, true)
			if d.Encoding != tc.enc || d.BOM != tc.bom || d.Comma != tc.comma || d.HeaderLine != tc.header {
				t.Errorf("got %+v, want %s bom=%v %q header %d", d, tc.enc, tc.bom, tc.comma, tc.header)
			}
		})
	}
}

func TestSniffDialectCutRune(t *testing.T) {
	// A sample cut inside a two-byte UTF-8 rune is still UTF-8.
	s := strings.Repeat("имя;фамилия\n", 100)
	b := []byte(s)[:len(s)-4]
	if !utf8Cut(b) {
		t.Fatal("test sample should end inside a rune")
	}
	if d := SniffBytes(b, false); d.Encoding != EncodingUTF8 {
		t.Errorf("encoding %s, want utf-8", d.Encoding)
	}
	if d := SniffBytes(b, true); d.Encoding != EncodingCP1251 {
		t.Errorf("a complete file with a broken rune is not UTF-8, got %s", d.Encoding)
	}
}

func utf8Cut(b []byte) bool { return len(b) > 0 && b[len(b)-1] >= 0x80 }

func TestDecoder(t *testing.T) {
	in := cp1251Bytes(t, statement)
	d := SniffBytes(in, true)
	got, err := io.ReadAll(NewDecoder(bytes.NewReader(in), d))
	if err != nil || string(got) != statement {
		t.Fatalf("decoded %q, %v", got, err)
	}
	bomIn := append([]byte("\ufeff"), "a,b\n"...)
	br := bufio.NewReader(bytes.NewReader(bomIn))
	got, _ = io.ReadAll(NewDecoder(br, SniffBytes(bomIn, true)))
	if string(got) != "a,b\n" {
		t.Errorf("bom not dropped: %q", got)
	}
	if DecodeCP1251([]byte{0xB9, 0xA8, 0xB8}) != "№Ёё" {
		t.Errorf("DecodeCP1251 = %q", DecodeCP1251([]byte{0xB9, 0xA8, 0xB8}))
	}
}

// TestDecoderSmallReads reads a Windows-1251 stream larger than the
// decoder's buffer in odd-sized pieces: the text must come out whole, and
// refilling must reuse the decoded buffer rather than allocate each time.
func TestDecoderSmallReads(t *testing.T) {
	want := strings.Repeat(statement, 4000)
	in := cp1251Bytes(t, want)
	if len(in) < 3*32<<10 {
		t.Fatalf("sample of %d bytes does not span several fills", len(in))
	}
	d := SniffBytes(in, true)
	dec := NewDecoder(bytes.NewReader(in), d)
	var got []byte
	p := make([]byte, 777)
	for {
		n, err := dec.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != want {
		t.Fatalf("decoded %d bytes, want %d", len(got), len(want))
	}

	allocs := testing.AllocsPerRun(5, func() {
		dec := NewDecoder(bytes.NewReader(in), d)
		for {
			if _, err := dec.Read(p); err != nil {
				break
			}
		}
	})
	// A reader, its input buffer and the decoded buffer growing to its
	// size: a few allocations, not one per fill.
	if fills := float64(len(in) / (32 << 10)); allocs > fills/2 {
		t.Errorf("%.0f allocations for %.0f fills", allocs, fills)
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		dec  byte
		want int64
		ok   bool
	}{
		{"1 234,50", 0, 123450, true},
		{"1\u00a0234,5", 0, 123450, true},
		{"1\u202f234 567,89", ',', 123456789, true},
		{"−12,00", 0, -1200, true},
		{"-12.5", 0, -1250, true},
		{"12,600.00", 0, 1260000, true},
		{"12.600,00", 0, 1260000, true},
		{"1,234", 0, 123400, true},
		{"1,234", ',', 123, true},
		{"1,2345", 0, 123, true},
		{"0.005", '.', 1, true},
		{"$134.09", 0, 13409, true},
		{"$-25.00", 0, -2500, true},
		{"12 600,00 ₸", 0, 1260000, true},
		{"100 KZT", 0, 10000, true},
		{"(12.50)", 0, -1250, true},
		{"+3", 0, 300, true},
		{"12.50-", 0, -1250, true},
		{"700.00", 0, 70000, true},
		{"1'000'000", 0, 100000000, true},
		{"", 0, 0, false},
		{"abc", 0, 0, false},
		{"1.2.3", '.', 0, false},
		{"12,", 0, 0, false},
		{"1 2a3", 0, 0, false},
		{"--1", 0, 0, false},
		{"(12", 0, 0, false},
		{"1e5", 0, 0, false},
		{"99999999999999999999", 0, 0, false},
	} {
		got, err := ParseDecimal(tc.in, tc.dec)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseDecimal(%q, %q) = %d, %v; want %d ok=%v", tc.in, tc.dec, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseDateTime(t *testing.T) {
	utc := time.UTC
	for _, tc := range []struct {
		in   string
		f    DateFormat
		want string
		ok   bool
	}{
		{"15.03.2025 10:22", DateFormat{Layout: "dmy"}, "2025-03-15T10:22:00Z", true},
		{"15.03.2025 10:22:05", DateFormat{Layout: "auto"}, "2025-03-15T10:22:05Z", true},
		{"15.03.25", DateFormat{Layout: "dmy"}, "2025-03-15T00:00:00Z", true},
		{"5/3/2025", DateFormat{Layout: "mdy"}, "2025-05-03T00:00:00Z", true},
		{"2022/09/01 00:06", DateFormat{Layout: "auto"}, "2022-09-01T00:06:00Z", true},
		{"2002-9-1 06:21", DateFormat{Layout: "ymd"}, "2002-09-01T06:21:00Z", true},
		{"930101", DateFormat{Layout: "yymmdd"}, "1993-01-01T00:00:00Z", true},
		{"931107 00:00:00", DateFormat{Layout: "yymmdd"}, "1993-11-07T00:00:00Z", true},
		{"706213", DateFormat{Layout: "yymmdd", Century: 1900, MonthOffset: 50}, "1970-12-13T00:00:00Z", true},
		{"450204", DateFormat{Layout: "yymmdd", Century: 1900, MonthOffset: 50}, "1945-02-04T00:00:00Z", true},
		{"20250315", DateFormat{Layout: "auto"}, "2025-03-15T00:00:00Z", true},
		{"2011-01-01T00:00:00Z", DateFormat{Layout: "auto"}, "2011-01-01T00:00:00Z", true},
		{"2025-01-10", DateFormat{Layout: "iso"}, "2025-01-10T00:00:00Z", true},
		{"1700000000", DateFormat{Layout: "epoch"}, "2023-11-14T22:13:20Z", true},
		{"1700000000123", DateFormat{Layout: "epoch_ms"}, "2023-11-14T22:13:20.123Z", true},
		{"31.02.2025", DateFormat{Layout: "dmy"}, "", false},
		{"15.03.2025 25:00", DateFormat{Layout: "dmy"}, "", false},
		{"931307", DateFormat{Layout: "yymmdd"}, "", false},
		{"x", DateFormat{Layout: "auto"}, "", false},
		{"", DateFormat{Layout: "auto"}, "", false},
		{"1", DateFormat{Layout: "nope"}, "", false},
	} {
		got, err := ParseDateTime(tc.in, tc.f, utc)
		if (err == nil) != tc.ok || (tc.ok && got.Format(time.RFC3339Nano) != tc.want) {
			t.Errorf("ParseDateTime(%q, %+v) = %s, %v; want %s ok=%v", tc.in, tc.f, got.Format(time.RFC3339Nano), err, tc.want, tc.ok)
		}
	}
	// Zone-less times default to Almaty.
	got, err := ParseDateTime("15.03.2025 10:00", DateFormat{Layout: "dmy"}, nil)
	if err != nil || got.Hour() != 5 {
		t.Errorf("Almaty default: %s, %v", got, err)
	}
}

func TestTotalRow(t *testing.T) {
	for _, tc := range []struct {
		rec  []string
		want bool
	}{
		{[]string{"Итого:", "1 000", ""}, true},
		{[]string{"", " Остаток на 31.03.2025", "5"}, true},
		{[]string{"БАРЛЫҒЫ", "5"}, true},
		{[]string{"Total", "5"}, true},
		{[]string{"Totally legit", "5"}, false},
		{[]string{"Итоговый платёж", "5"}, false},
		{[]string{"15.03.2025", "Итого"}, false},
		{[]string{"", ""}, false},
	} {
		if _, got := TotalRow(tc.rec); got != tc.want {
			t.Errorf("TotalRow(%q) = %v, want %v", tc.rec, got, tc.want)
		}
	}
	if !EmptyRow([]string{" ", ""}) || EmptyRow([]string{"", "x"}) {
		t.Error("EmptyRow")
	}
}

func TestReconcilesCountsSkipped(t *testing.T) {
	r := Report{Read: 5, Imported: 2, Rejected: 1, Skipped: 2}
	if !r.Reconciles() {
		t.Error("read = imported + rejected + skipped should reconcile")
	}
	r.Skipped = 1
	if r.Reconciles() {
		t.Error("a missing row should not reconcile")
	}
}

func FuzzSniffDialect(f *testing.F) {
	f.Add([]byte(statement), true)
	f.Add(cp1251Bytes(f, statement), false)
	f.Add([]byte("\ufeffa,b\n\"x\n"), true)
	f.Fuzz(func(t *testing.T, b []byte, complete bool) {
		d := SniffBytes(b, complete)
		if d.HeaderLine < 1 || d.Fields < 1 {
			t.Fatalf("bad dialect %+v", d)
		}
		if _, err := io.ReadAll(NewDecoder(bytes.NewReader(b), d)); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"1 234,50", "−12,00", "$-25.00", "(1.5)", "1,234", "12.600,00"} {
		f.Add(s, byte(0))
	}
	f.Fuzz(func(t *testing.T, s string, dec byte) {
		if dec != '.' && dec != ',' {
			dec = 0
		}
		v, err := ParseDecimal(s, dec)
		if err != nil {
			return
		}
		// A parsed amount must survive a round trip through its plain form.
		plain := formatPlain(v)
		w, err := ParseDecimal(plain, '.')
		if err != nil || w != v {
			t.Fatalf("%q → %d → %q → %d, %v", s, v, plain, w, err)
		}
	})
}

func formatPlain(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := itoa(v/100) + "." + itoa(100 + v%100)[1:]
	if neg {
		return "-" + s
	}
	return s
}

func itoa(v int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"15.03.2025 10:22", "930101", "2022/09/01 00:06", "1700000000", "706213"} {
		f.Add(s, "auto", 0)
	}
	layouts := []string{"auto", "iso", "dmy", "mdy", "ymd", "yymmdd", "yyyymmdd", "epoch", "epoch_ms"}
	f.Fuzz(func(t *testing.T, s, layout string, off int) {
		l := layouts[len(layout)%len(layouts)]
		tm, err := ParseDateTime(s, DateFormat{Layout: l, MonthOffset: off & 63}, time.UTC)
		if err == nil && tm.Location() != time.UTC {
			t.Fatalf("%q: result not UTC", s)
		}
	})
}
