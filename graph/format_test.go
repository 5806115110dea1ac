package graph

import "testing"

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
