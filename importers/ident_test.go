package importers

import (
	"strings"
	"testing"
	"time"

	"casegraph/graph"
)

func TestIINCheckDigit(t *testing.T) {
	tests := []struct {
		first11 string
		want    int
		ok      bool
	}{
		{"90051530000", 8, true}, // DOMAIN §1.1, first pass: 85 mod 11 = 8
		{"90051530090", 8, true}, // second pass: 175 mod 11 = 10, then 140 mod 11 = 8
		{"85031230000", 2, true},
		{"85031230038", 0, false}, // 10 on both passes: never issued
		{"9005153000", 0, false},
		{"9005153000a", 0, false},
	}
	for _, tt := range tests {
		got, ok := IINCheckDigit(tt.first11)
		if got != tt.want || ok != tt.ok {
			t.Errorf("IINCheckDigit(%q) = %d, %v; want %d, %v", tt.first11, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalizeIIN(t *testing.T) {
	tests := []struct {
		in, want, errPart string
	}{
		{"900515300008", "900515300008", ""},
		{"900515300908", "900515300908", ""},
		{" 900515 300908 ", "900515300908", ""},
		{"900515\u00a0300008", "900515300008", ""},
		{"900515300009", "", "checksum"},
		{"900515300900", "", "checksum"},
		{"850312300380", "", "not a valid number"},
		{"90051530000", "", "12 digits"},
		{"9005153000080", "", "12 digits"},
		{"90051530000X", "", "12 digits"},
		{"", "", "12 digits"},
	}
	for _, tt := range tests {
		got, err := NormalizeIIN(tt.in)
		checkNorm(t, "NormalizeIIN", tt.in, got, err, tt.want, tt.errPart)
	}
}

func checkNorm(t *testing.T, fn, in, got string, err error, want, errPart string) {
	t.Helper()
	if errPart == "" {
		if err != nil || got != want {
			t.Errorf("%s(%q) = %q, %v; want %q", fn, in, got, err, want)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), errPart) {
		t.Errorf("%s(%q) = %q, %v; want error containing %q", fn, in, got, err, errPart)
	}
}

func TestLuhn(t *testing.T) {
	valid := []string{"4400430000000015", "4400431234567894", "79927398713", "4111111111111111", "0000000000000000"}
	for _, v := range valid {
		if !LuhnValid(v) {
			t.Errorf("LuhnValid(%q) = false, want true", v)
		}
		if got := LuhnCheckDigit(v[:len(v)-1]); got != int(v[len(v)-1]-'0') {
			t.Errorf("LuhnCheckDigit(%q) = %d, want %c", v[:len(v)-1], got, v[len(v)-1])
		}
	}
	for _, v := range []string{"4400430000000016", "79927398710", "", "4", "4400 4300 0000 0015", "44004300000000a5"} {
		if LuhnValid(v) {
			t.Errorf("LuhnValid(%q) = true, want false", v)
		}
	}
	if got := LuhnCheckDigit("4400a"); got != -1 {
		t.Errorf("LuhnCheckDigit(non-digit) = %d, want -1", got)
	}
}

func TestNormalizePAN(t *testing.T) {
	tests := []struct {
		in, want, errPart string
	}{
		{"4400430000000015", "4400430000000015", ""},
		{"4400 4300 0000 0015", "4400430000000015", ""},
		{"4400-4312-3456-7894", "4400431234567894", ""},
		{"440043******7894", "440043******7894", ""},
		{"4400 43•• •••• 7894", "440043******7894", ""},
		{"440043XXXXXX7894", "440043******7894", ""},
		{"44004312****7894", "44004312****7894", ""}, // 8-digit BIN
		{"4400430000000016", "", "luhn"},
		{"440043000001", "", "13 to 19"},
		{"44004300000000000000", "", "13 to 19"},
		{"4400******7894", "", "first 6 to 8"},
		{"440043******789", "", "first 6 to 8"},
		{"440043***1**7894", "", "one run"},
		{"440043******789A", "", "unexpected character"},
		{"", "", "13 to 19"},
	}
	for _, tt := range tests {
		got, err := NormalizePAN(tt.in)
		checkNorm(t, "NormalizePAN", tt.in, got, err, tt.want, tt.errPart)
	}
}

func TestNormalizeIBAN(t *testing.T) {
	tests := []struct {
		in, want, errPart string
	}{
		{"KZ48551A024000213KZT", "KZ48551A024000213KZT", ""}, // DOMAIN §1.2
		{"KZ45722S000054326792", "KZ45722S000054326792", ""},
		{"KZ86125KZT5004100100", "KZ86125KZT5004100100", ""}, // ISO sample
		{"kz45 722s 0000 5432 6792", "KZ45722S000054326792", ""},
		{"DE89370400440532013000", "DE89370400440532013000", ""}, // generic ISO 13616
		{"KZ45722S000054326793", "", "mod-97"},
		{"KZ54722S000054326792", "", "mod-97"},
		{"KZ45722S00005432679", "", "20 characters"},
		{"KZ45A22S000054326792", "", "bank code"},
		{"KZ45722S00005432679-", "", "latin letters"},
		{"4572", "", "two letters"},
		{"DE8937040044", "", "15 to 34"},
		{"", "", "two letters"},
	}
	for _, tt := range tests {
		got, err := NormalizeIBAN(tt.in)
		checkNorm(t, "NormalizeIBAN", tt.in, got, err, tt.want, tt.errPart)
	}
}

func TestIBANCheckDigits(t *testing.T) {
	tests := []struct{ country, bban, want string }{
		{"KZ", "551A024000213KZT", "48"},
		{"KZ", "722S000054326792", "45"},
		{"KZ", "125KZT5004100100", "86"},
		{"DE", "370400440532013000", "89"},
		{"kz", "722S000054326792", ""},
		{"KZ", "722s000054326792", ""},
	}
	for _, tt := range tests {
		if got := IBANCheckDigits(tt.country, tt.bban); got != tt.want {
			t.Errorf("IBANCheckDigits(%q, %q) = %q, want %q", tt.country, tt.bban, got, tt.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want, errPart string
	}{
		{"+77015551234", "+77015551234", ""},
		{"+7 701 555 1234", "+77015551234", ""},
		{"8 (701) 555-12-34", "+77015551234", ""},
		{"87015551234", "+77015551234", ""},
		{"77015551234", "+77015551234", ""},
		{"7015551234", "+77015551234", ""},
		{"+7 (916) 123-45-67", "+79161234567", ""},
		{"+87015551234", "", "+7 number"},
		{"+380501234567", "", "+7 number"},
		{"701555123", "", "+7 number"},
		{"8701555123", "", "+7 number"},
		{"+7 701 555 12 34 ext 5", "", "digits"},
		{"", "", "digits"},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.in)
		checkNorm(t, "NormalizePhone", tt.in, got, err, tt.want, tt.errPart)
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"495000", 49500000, true},
		{"495000.50", 49500050, true},
		{"495000.5", 49500050, true},
		{"-12.5", -1250, true},
		{"+3", 300, true},
		{" 0.01 ", 1, true},
		{"0", 0, true},
		{"92233720368547758", 0, false}, // beyond MaxAmountMinor
		{"10000000000000", 1000000000000000, true},
		{"10000000000000.01", 0, false},
		{"-10000000000000", -1000000000000000, true},
		{"92233720368547759", 0, false},
		{"92233720368547758.07", 0, false},
		{"92233720368547758.08", 0, false},
		{"-92233720368547758.07", 0, false},
		{"1 000", 0, false},
		{"1,000", 0, false},
		{"1.234", 0, false},
		{"1.", 0, false},
		{".5", 0, false},
		{"1e5", 0, false},
		{"-", 0, false},
		{"", 0, false},
		{"12-", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseTime(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		in   string
		loc  *time.Location
		want time.Time
		ok   bool
	}{
		{"2025-03-15T02:10:00+05:00", nil, utc("2025-03-14T21:10:00Z"), true},
		{"2025-03-15T02:10:00Z", nil, utc("2025-03-15T02:10:00Z"), true},
		{"2025-03-15T02:10:00.123456789-03:30", nil, utc("2025-03-15T05:40:00.123456789Z"), true},
		{"2025-03-15 02:10", nil, utc("2025-03-14T21:10:00Z"), true},    // Almaty is UTC+5 since March 2024
		{"2023-03-15 02:10:30", nil, utc("2023-03-14T20:10:30Z"), true}, // and was UTC+6 before
		{"2025-03-15 02:10", time.UTC, utc("2025-03-15T02:10:00Z"), true},
		{"2024-02-29 00:00", time.UTC, utc("2024-02-29T00:00:00Z"), true},
		{"2025-02-29 00:00", nil, time.Time{}, false},
		{"2025-13-01 00:00", nil, time.Time{}, false},
		{"2025-03-15 24:00", nil, time.Time{}, false},
		{"2025-03-15 02:60", nil, time.Time{}, false},
		{"2025-03-15", nil, time.Time{}, false},
		{"2025-03-15 02:10:", nil, time.Time{}, false},
		{"2025-03-15 02:10:00.", nil, time.Time{}, false},
		{"2025-03-15T02:10:00+0500", nil, time.Time{}, false},
		{"15.03.2025 02:10", nil, time.Time{}, false},
		{"", nil, time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, tt.loc)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) location = %v, want UTC", tt.in, got.Location())
		}
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in      string
		want    graph.Ref
		errPart string
	}{
		{"card:4400 4300 0000 0015", graph.Ref{Kind: graph.KindCard, Key: "4400430000000015"}, ""},
		{"card:440043******7894", graph.Ref{Kind: graph.KindCard, Key: "440043******7894"}, ""},
		{"card:440043******7894~KASPI", graph.Ref{Kind: graph.KindCard, Key: "440043******7894~KASPI"}, ""},
		{"iin:900515300908", graph.Ref{Kind: graph.KindPerson, Key: "900515300908"}, ""},
		{"IBAN:kz45722s000054326792", graph.Ref{Kind: graph.KindAccount, Key: "KZ45722S000054326792"}, ""},
		{"wallet:tron:TXYZabc", graph.Ref{Kind: graph.KindWallet, Key: "TRON:TXYZabc"}, ""},
		{"exchange:EX-0001", graph.Ref{Kind: graph.KindExchange, Key: "EX-0001"}, ""},
		{"phone:8 701 555 12 34", graph.Ref{Kind: graph.KindPhone, Key: "+77015551234"}, ""},
		{"ip:::ffff:10.1.2.3", graph.Ref{Kind: graph.KindIP, Key: "::ffff:10.1.2.3"}, ""},
		{"ip:10.1.2.3", graph.Ref{Kind: graph.KindIP, Key: "10.1.2.3"}, ""},
		{"atm:ATM-ALA-0042", graph.Ref{Kind: graph.KindATM, Key: "ATM-ALA-0042"}, ""},
		{"cash", graph.CashRef, ""},
		{"CASH", graph.CashRef, ""},
		{"card:4400430000000016", graph.Ref{}, "luhn"},
		{"card:4400430000000015~X", graph.Ref{}, "only for masked"},
		{"iin:900515300009", graph.Ref{}, "checksum"},
		{"iban:KZ45722S000054326793", graph.Ref{}, "mod-97"},
		{"wallet:TXYZ", graph.Ref{}, "CHAIN:address"},
		{"ip:10.1.2", graph.Ref{}, "ip"},
		{"bitcoin:1abc", graph.Ref{}, "unknown entity kind"},
		{"4400430000000015", graph.Ref{}, "scheme:key"},
		{"exchange: ", graph.Ref{}, "scheme:key"},
	}
	for _, tt := range tests {
		got, err := ParseRef(tt.in)
		if tt.errPart == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseRef(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errPart) {
			t.Errorf("ParseRef(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.errPart)
		}
	}
}

func TestParseDateAndTri(t *testing.T) {
	for _, d := range []string{"2025-01-10", "2024-02-29"} {
		if _, err := ParseDate(d); err != nil {
			t.Errorf("ParseDate(%q): %v", d, err)
		}
	}
	for _, d := range []string{"2025-02-29", "2025-1-10", "10.01.2025", "2025-01-10x"} {
		if _, err := ParseDate(d); err == nil {
			t.Errorf("ParseDate(%q) accepted", d)
		}
	}
	tri := map[string]graph.Tri{"": graph.TriUnknown, "YES": graph.TriYes, "да": graph.TriYes, "Да": graph.TriYes,
		"1": graph.TriYes, "false": graph.TriNo, "нет": graph.TriNo, "0": graph.TriNo}
	for in, want := range tri {
		if got, ok := parseTri(in); !ok || got != want {
			t.Errorf("parseTri(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	if _, ok := parseTri("maybe"); ok {
		t.Error("parseTri(maybe) accepted")
	}
}

func TestNormalizeName(t *testing.T) {
	tests := map[string]string{
		"  Ахметов   Жанболат\tСерікұлы ": "Ахметов Жанболат Серікұлы",
		"Ivanova Marina":      "Ivanova Marina",
		"Ivanova  Marina":     "Ivanova Marina",
		"Ivanova\u00a0Marina": "Ivanova Marina",
		"":                    "",
	}
	for in, want := range tests {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAlmaty(t *testing.T) {
	loc := Almaty()
	if loc.String() != "Asia/Almaty" {
		t.Fatalf("Almaty() = %v", loc)
	}
	_, off := time.Date(2025, 6, 1, 0, 0, 0, 0, loc).Zone()
	if off != 5*3600 {
		t.Errorf("Almaty offset in 2025 = %d, want +5h", off)
	}
}
