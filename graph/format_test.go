package graph

import (
	"strings"
	"testing"
)

func TestFormatAmount(t *testing.T) {
	for _, c := range []struct {
		minor int64
		want  string
	}{
		{0, "0"}, {49500000, "495,000"}, {1250, "12.50"}, {-100, "-1"}, {123456789012, "1,234,567,890.12"}, {5, "0.05"},
	} {
		if got := FormatAmount(c.minor); got != c.want {
			t.Errorf("FormatAmount(%d) = %q, want %q", c.minor, got, c.want)
		}
	}
	if got := FormatShortMoney(149250000); got != "1.49M ₸" {
		t.Errorf("FormatShortMoney = %q", got)
	}
}

func TestRefTitle(t *testing.T) {
	for _, c := range []struct {
		ref  Ref
		want string
	}{
		{Ref{KindCard, "4400430000000015"}, "4400 4300 0000 0015"},
		{Ref{KindCard, "440043******7894~halyk"}, "4400 43•• •••• 7894"},
		{Ref{KindAccount, "KZ45722S000054326792"}, "KZ45 722S 0000 5432 6792"},
		{Ref{KindPerson, "850312300002"}, "IIN 850312 300002"},
		// Keys of other data sets are shown as they are.
		{Ref{KindAccount, "berka:2378"}, "berka:2378"},
		{Ref{KindPerson, "berka:1"}, "berka:1"},
		{Ref{KindCard, "ibm:0:3"}, "ibm:0:3"},
		{CashRef, "cash"},
	} {
		if got := RefTitle(c.ref); got != c.want {
			t.Errorf("RefTitle(%v) = %q, want %q", c.ref, got, c.want)
		}
	}
}

func TestMaskPAN(t *testing.T) {
	if got := MaskPAN("4400430000000015"); got != "4400 43•• •••• 0015" {
		t.Errorf("MaskPAN = %q", got)
	}
}

func TestDocForFindsIdentifiers(t *testing.T) {
	d := DocFor(Entity{Ref: Ref{KindCard, "4400430000000015"}, Props: map[string]string{"bank": "Kaspi Bank"}})
	if d.Label != "4400 4300 0000 0015" || d.Facts != "Kaspi Bank" {
		t.Fatalf("card doc = %+v", d)
	}
	found := map[string]bool{}
	for _, term := range d.Terms {
		found[term] = true
	}
	if !found["4400430000000015"] || !found["0015"] {
		t.Fatalf("card doc terms %v lack the PAN or its last 4", d.Terms)
	}
}

func TestParseMajorAmount(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"450000", 450_000_00}, {"450000.5", 450_000_50}, {"450000.05", 450_000_05}, {"450k", 450_000_00},
		{"450K", 450_000_00}, {"1.5m", 1_500_000_00}, {"2.25M", 2_250_000_00}, {"0.00001k", 1}, {"0", 0},
		{"007", 700}, {" 12 ", 1200}, {"92233720368547758.07", 1<<63 - 1},
	} {
		got, err := ParseMajorAmount(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMajorAmount(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, why string }{
		{"", "empty"}, {"-5", "negative"}, {"450,000", "separators"}, {"450_000", "separators"}, {"450 000", "separators"},
		{"1e6", "not a number"}, {"12.345", "at most 2 decimals"}, {"1.123456k", "at most 5 decimals"},
		{"k", "not a number"}, {"1.", "not a number"}, {".5", "not a number"}, {"1kk", "not a number"},
		{"92233720368547758.08", "too large"}, {"5g", "not a number"}, {"+5", "not a number"}, {"0x10", "not a number"},
	} {
		if got, err := ParseMajorAmount(c.in); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("ParseMajorAmount(%q) = %d, %v; want an error saying %q", c.in, got, err, c.why)
		}
	}
}

func TestFormatBand(t *testing.T) {
	for _, c := range []struct {
		lo, hi int64
		cur    string
		want   string
	}{
		{450_000_00, 500_000_00, "KZT", "450k–500k ₸"},
		{450_000_00, 0, "KZT", "≥450k ₸"},
		{0, 5_000_00, "KZT", "<5,000 ₸"},
		{1_000_000_00, 2_500_000_00, "KZT", "1M–2.5M ₸"},
		{123_456_00, 200_000_00, "KZT", "123,456–200k ₸"}, // 123k would round
		{1_250_50, 2_000_000, "USD", "$1,250.50–$20k"},
		{0, 0, "KZT", "any amount"},
		{450_000_00, 500_000_00, "", "450k–500k"},
		{123_456_78, 0, "", "≥123,456.78"},
		{0, 1_500_000_00, "", "<1.5M"},
	} {
		if got := FormatBand(c.lo, c.hi, c.cur); got != c.want {
			t.Errorf("FormatBand(%d, %d, %q) = %q, want %q", c.lo, c.hi, c.cur, got, c.want)
		}
	}
}

func TestTxQueryKeeps(t *testing.T) {
	q := TxQuery{MinAmount: 450_000_00, MaxAmount: 500_000_00}
	for _, c := range []struct {
		amount int64
		cur    string
		want   bool
	}{
		{450_000_00, "KZT", true}, {499_999_99, "USD", true}, {500_000_00, "KZT", false}, {449_999_99, "", false},
	} {
		if got := q.Keeps(c.amount, c.cur); got != c.want {
			t.Errorf("%+v keeps %d %s: %v", q, c.amount, c.cur, got)
		}
	}
	q.Currency = "KZT"
	if !q.Keeps(470_000_00, "") || q.Keeps(470_000_00, "USD") || !q.Banded() {
		t.Errorf("a KZT band keeps a row without a currency and no USD row")
	}
	open := TxQuery{MinAmount: 1}
	if !open.Keeps(1<<62, "EUR") || open.Keeps(0, "KZT") || (TxQuery{}).Banded() {
		t.Errorf("an open band")
	}
	if !(TxQuery{MaxAmount: 10}).Keeps(-5, "KZT") {
		t.Errorf("a band open below keeps negative amounts")
	}
}
