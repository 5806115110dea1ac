package gen

import (
	"math/rand/v2"
	"strings"
	"testing"

	"casegraph/importers"
)

// Every written phone form normalises back to the number it was made from.
func TestPhoneTextRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := newIDs()
	for i := 0; i < 2000; i++ {
		e := x.phone(r, i%5 == 0)
		text := phoneText(r, e)
		got, err := importers.NormalizePhone(text)
		if err != nil || got != e {
			t.Fatalf("phone %s written as %q normalises to %q, %v", e, text, got, err)
		}
	}
}

// IINs carry the birth date and the century/sex digit, pass the checksum and
// never repeat.
func TestIINEncodesBirthAndSex(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := newIDs()
	for i := 0; i < 5000; i++ {
		birth := birthDate(r, 1950, 2009)
		male := i%2 == 0
		iin := x.iin(r, birth, male)
		if _, err := importers.NormalizeIIN(iin); err != nil {
			t.Fatal(err)
		}
		if want := birth.String()[2:4] + birth.String()[5:7] + birth.String()[8:10]; iin[:6] != want {
			t.Fatalf("iin %s for birth %s", iin, birth)
		}
		c := iin[6]
		wantC := byte('3')
		if birth.y >= 2000 {
			wantC = '5'
		}
		if !male {
			wantC++
		}
		if c != wantC {
			t.Fatalf("iin %s: century/sex digit %c, want %c (born %s, male %v)", iin, c, wantC, birth, male)
		}
	}
}

// Every bank's cards and accounts validate and carry the bank's IBAN code.
func TestCardsAndAccountsPerBank(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := newIDs()
	for b, bk := range banks {
		for i := 0; i < 200; i++ {
			pan, iban := x.pan(r, b), x.iban(r, b)
			if !importers.LuhnValid(pan) || len(pan) != 16 {
				t.Fatalf("%s: pan %s", bk.name, pan)
			}
			if !strings.HasPrefix(pan, bk.bins[0]) && !strings.HasPrefix(pan, bk.bins[1]) &&
				(len(bk.bins) < 3 || !strings.HasPrefix(pan, bk.bins[2])) {
				t.Fatalf("%s: pan %s has none of the bank's BINs %v", bk.name, pan, bk.bins)
			}
			if _, err := importers.NormalizeIBAN(iban); err != nil || iban[4:7] != bk.code {
				t.Fatalf("%s: iban %s: %v", bk.name, iban, err)
			}
		}
	}
}

func TestTranslit(t *testing.T) {
	for in, want := range map[string]string{
		"Жанболатов": "ZHANBOLATOV", "Айдар": "AIDAR", "Құдайбергенов": "KUDAIBERGENOV",
		"Щукина": "SHCHUKINA", "Әсем": "ASEM", "Юлия": "IULIIA",
	} {
		if got := translit(in); got != want {
			t.Errorf("translit(%q) = %q, want %q", in, got, want)
		}
	}
}
