package graph

import (
	"slices"
	"testing"
	"unicode/utf8"
)

func TestSkeletonEquivalences(t *testing.T) {
	groups := [][]string{
		{"Жанболат", "Zhanbolat", "Janbolat", "ЖАНБОЛАТ", "Jänbolat"},
		{"Джанбулатов", "Dzhanbulatov", "Janbulatov", "Djanbulatov"},
		{"Юлия", "Yuliya", "Iuliia", "Yulia", "IULIIA"},
		{"Ахметов", "Akhmetov", "Ahmetov", "AHMETOV"},
		{"Сергей", "Sergei", "Sergey", "SERGEY"},
		{"Шынар", "Şynar", "Shynar", "Shinar"},
		{"Қасым", "Qasym", "Kasym", "Касым"},
		{"Цой", "Tsoi", "Coy", "Tsoy"},
		{"Ерлан", "Yerlan", "Erlan", "Ierlan"},
		{"Нұрлан", "Nurlan", "Nūrlan", "Нурлан"},
		{"Әлия", "Aliya", "Älia", "Алия", "Aliia"},
		{"Өмірзақ", "Ömirzaq", "Omirzak", "Омирзак"},
		{"Щукин", "Shchukin", "Shukin"},
		{"Хасен", "Khasen", "Hasen", "Һасен"},
		{"Ғалым", "Ğalym", "Galym", "Galim"},
		{"Пётр", "Petr", "Пётр"},
		{"Ахметов-Ким", "AKHMETOV KIM", "ahmetov  kim", " Ахметов, Ким. "},
	}
	for _, g := range groups {
		want := Skeleton(g[0])
		for _, s := range g[1:] {
			if got := Skeleton(s); got != want {
				t.Errorf("Skeleton(%q) = %q, want %q (as %q)", s, got, want, g[0])
			}
		}
	}
	// Different names must stay different.
	distinct := [][2]string{
		{"Ерлан", "Нурлан"}, {"Сергей", "Сергеев"}, {"Қасым", "Касымов"}, {"Иван", "Ivanov"},
		{"4400 4300 0000 0016", "4400 4300 0000 0017"},
	}
	for _, p := range distinct {
		if Skeleton(p[0]) == Skeleton(p[1]) {
			t.Errorf("Skeleton(%q) == Skeleton(%q) = %q", p[0], p[1], Skeleton(p[0]))
		}
	}
}

func TestSkeletonExact(t *testing.T) {
	cases := map[string]string{
		"Жанболат":                 "janbolat",
		"ZHANBOLATOV":              "janbolatov",
		"Ахметов-Ким":              "ahmetov kim",
		"4400 43•• •••• 7894":      "4400 43 7894",
		"KZ45 722S 0000 5432 6792": "kz45 722s 0000 5432 6792",
		"":                         "",
		"  ...  ":                  "",
		"Нурланов Ерлан Серикович": "nurlanov erlan serikovich",
		"Binance-KZ": "binance kz",
		"Аллаберген": "alabergen",
	}
	for in, want := range cases {
		if got := Skeleton(in); got != want {
			t.Errorf("Skeleton(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSkeletonSourceIndexes(t *testing.T) {
	var sk skeletonizer
	label := "Жанболат Ахметов"
	out := sk.build(label)
	runes := []rune(label)
	for i, c := range out {
		if c.src < 0 || int(c.src) >= len(runes) {
			t.Fatalf("byte %d %q: src %d out of range", i, c.b, c.src)
		}
		if i > 0 && c.src < out[i-1].src {
			t.Fatalf("source indexes not monotone at %d", i)
		}
	}
	// "j" comes from Ж, "h" of "ahmetov" from Х.
	if out[0].b != 'j' || out[0].src != 0 {
		t.Errorf("first byte %q from %d", out[0].b, out[0].src)
	}
	for _, c := range out {
		if c.b == 'h' && runes[c.src] != 'х' {
			t.Errorf("h maps to %q", runes[c.src])
		}
	}
}

func TestSkeletonTokens(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"Нурланов Ерлан Серикович", []string{"nurlan", "erlan", "serik"}},
		{"Nurlan Yerlan Serik uly", []string{"nurlan", "erlan", "serik"}},
		{"Ахметова Әлия Қасымқызы", []string{"ahmet", "ala", "kasim"}},
		{"Сейткали Айгерим Нурлановна", []string{"seitkali", "aigerim", "nurlan"}},
		{"Lin Ivan", []string{"lin", "ivan"}},
		{"Ким 1985", []string{"kim", "1985"}},
	}
	for _, c := range cases {
		got := SkeletonTokens(c.in)
		if !slices.Equal(got, c.want) {
			t.Errorf("SkeletonTokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzSkeleton(f *testing.F) {
	for _, s := range []string{"Жанболат", "Şynar", "4400 43•• •••• 7894", "Iuliia", "Ǆ", "ﬃ", "\xff", "İstanbul", "ßß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Skeleton(s)
		for i := 0; i < len(k); i++ {
			c := k[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ') {
				t.Fatalf("Skeleton(%q) = %q: byte %q", s, k, c)
			}
		}
		if k2 := Skeleton(k); k2 != k {
			t.Fatalf("not idempotent: %q → %q → %q", s, k, k2)
		}
		var sk skeletonizer
		out := sk.build(s)
		n := int32(utf8.RuneCountInString(s))
		for _, c := range out {
			if c.src < 0 || c.src >= n {
				t.Fatalf("src %d out of range for %q", c.src, s)
			}
		}
	})
}
