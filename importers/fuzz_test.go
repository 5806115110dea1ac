package importers

import (
	"casegraph/internal/fuzzbudget"

	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Each fuzz target checks more than "no panic": accepted values must be in
// canonical form and normalising them again must be a fixed point.

func FuzzNormalizeIIN(f *testing.F) {
	for _, s := range []string{"900515300008", "900515300908", " 900515 300008", "850312300380", "", "12345678901x", "９００５１５３０００８"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeIIN(s)
		if err != nil {
			return
		}
		if len(got) != 12 || !allDigits(got) {
			t.Fatalf("NormalizeIIN(%q) = %q", s, got)
		}
		if c, ok := IINCheckDigit(got[:11]); !ok || c != int(got[11]-'0') {
			t.Fatalf("NormalizeIIN(%q) = %q with a wrong check digit", s, got)
		}
		if again, err := NormalizeIIN(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q, %v", got, again, err)
		}
	})
}

func FuzzNormalizePAN(f *testing.F) {
	for _, s := range []string{"4400430000000015", "4400 4300 0000 0015", "440043******7894", "4400 43•• •••• 7894", "44004312XXXX7894", "4400-43", "", "**********"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePAN(s)
		if err != nil {
			return
		}
		if n := len(got); n < 13 || n > 19 {
			t.Fatalf("NormalizePAN(%q) = %q: bad length", s, got)
		}
		if allDigits(got) && !LuhnValid(got) {
			t.Fatalf("NormalizePAN(%q) = %q fails Luhn", s, got)
		}
		if strings.Trim(got, "0123456789*") != "" {
			t.Fatalf("NormalizePAN(%q) = %q: unexpected characters", s, got)
		}
		if again, err := NormalizePAN(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q, %v", got, again, err)
		}
	})
}

func FuzzNormalizeIBAN(f *testing.F) {
	for _, s := range []string{"KZ48551A024000213KZT", "kz45 722s 0000 5432 6792", "KZ86125KZT5004100100", "DE89370400440532013000", "KZ", "", "KZ00ЖЖЖ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeIBAN(s)
		if err != nil {
			return
		}
		if IBANCheckDigits(got[:2], got[4:]) != got[2:4] {
			t.Fatalf("NormalizeIBAN(%q) = %q but check digits disagree", s, got)
		}
		if again, err := NormalizeIBAN(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q, %v", got, again, err)
		}
	})
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+7 701 555 1234", "8 (701) 555-12-34", "87015551234", "7015551234", "+", "8", "(((", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePhone(s)
		if err != nil {
			return
		}
		if len(got) != 12 || !strings.HasPrefix(got, "+7") || !allDigits(got[1:]) {
			t.Fatalf("NormalizePhone(%q) = %q", s, got)
		}
		if again, err := NormalizePhone(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q, %v", got, again, err)
		}
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"495000", "495000.50", "-12.5", "+3", "92233720368547758.07", "1e5", ".5", "", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseAmount(s)
		if err != nil {
			return
		}
		// Render back and parse again: the value must survive.
		neg := v < 0
		u := uint64(v)
		if neg {
			u = uint64(-v)
		}
		str := formatMinor(u, neg)
		if again, err := ParseAmount(str); err != nil || again != v {
			t.Fatalf("ParseAmount(%q) = %d; %q parses to %d, %v", s, v, str, again, err)
		}
	})
}

// formatMinor renders minor units as a plain decimal, for round trips.
func formatMinor(u uint64, neg bool) string {
	whole, frac := u/100, u%100
	s := uitoa(whole) + "." + string([]byte{byte('0' + frac/10), byte('0' + frac%10)})
	if neg {
		return "-" + s
	}
	return s
}

func uitoa(u uint64) string {
	if u == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	return string(b[i:])
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2025-03-15T02:10:00+05:00", "2025-03-15 02:10", "2025-03-15 02:10:59.999", "2024-02-29T00:00:00Z", "2025-03-15 02:10:", "0000-01-01 00:00", "9999-12-31T23:59:59-23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, time.UTC)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) not in UTC", s)
		}
		// A zone-less time read as UTC must agree with the standard library.
		if trimmed := strings.TrimSpace(s); len(trimmed) == 19 {
			want, perr := time.Parse("2006-01-02 15:04:05", strings.Replace(trimmed, "T", " ", 1))
			if perr == nil && !want.Equal(got) {
				t.Fatalf("ParseTime(%q) = %v, time.Parse = %v", s, got, want)
			}
		}
	})
}

func FuzzImportReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "canonical", "*.csv"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("group_id,name\nG1,\"x\n"))
	f.Add([]byte("\ufeffiin,name\n900515300008,\"A\"\"B\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzzbudget.Start(t, len(data))()
		var rej strings.Builder
		sink := &recordingSink{}
		rep, err := ImportReader(context.Background(), strings.NewReader(string(data)), sink,
			Options{Name: "fuzz.csv", Rejects: NewRejectWriter(&rej)})
		if !rep.Reconciles() {
			t.Fatalf("does not reconcile: %+v (err %v)", rep, err)
		}
		if err == nil && rep.Imported > 0 && len(sink.entities)+len(sink.links)+len(sink.txns) == 0 {
			t.Fatalf("imported %d rows but emitted nothing", rep.Imported)
		}
		if n := strings.Count(rej.String(), "fuzz.csv,"); n < rep.Rejected {
			t.Fatalf("rejects file names %d rows, report says %d", n, rep.Rejected)
		}
	})
}
