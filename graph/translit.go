package graph

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Names of the same person reach an investigation in several scripts and
// spellings: Cyrillic (Russian and Kazakh letters), Kazakh 2021 Latin with
// diacritics (Şynar, Qasym), ICAO 9303 passport spellings (Zhanbolat,
// Iuliia), GOST 7.79 System B and informal ones (Janbolat, Yuliya, Sergey).
// Skeleton maps all of them onto one ASCII key in three stages:
//
//  1. each rune becomes lower-case ASCII: Cyrillic by the ICAO table, Kazakh
//     letters folded to their base letter, Latin diacritics dropped except
//     where Kazakh Latin uses them for a digraph (ş → sh, ç → ch), q → k and
//     y → i; digits stay; anything else is a word break;
//  2. words are separated by single spaces;
//  3. spelling variants are collapsed by rewriting until nothing changes:
//     shch → sh, zh → j, dj → j (so dzh → j), kh → h, ts → c, cz → c,
//     iu → u, ia → a, ie → e, and any doubled letter → one letter.
//
// Every rewrite makes the key shorter, so stage 3 terminates, and its result
// contains nothing any stage would change again: Skeleton is idempotent.

// cyrLower maps lower-case Cyrillic letters (U+0430–U+04FF) to ASCII.
var cyrLower = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh",
	'з': "z", 'и': "i", 'й': "i", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o",
	'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts",
	'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "i", 'ь': "", 'э': "e", 'ю': "iu",
	'я': "ia",
	// Kazakh.
	'ә': "a", 'ғ': "g", 'қ': "k", 'ң': "n", 'ө': "o", 'ұ': "u", 'ү': "u", 'һ': "h", 'і': "i",
	// Ukrainian and Belarusian letters that turn up in CIS documents.
	'є': "ie", 'ї': "i", 'ґ': "g", 'ў': "u", 'ј': "j",
}

// latinLower maps lower-case Latin letters with diacritics whose ASCII form
// is not simply their base letter, or that NFD does not decompose.
var latinLower = map[rune]string{
	'ş': "sh", 'ș': "sh", 'š': "sh", 'ç': "ch", 'č': "ch", 'ž': "zh",
	'ı': "i", 'ł': "l", 'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d",
	'ð': "d", 'þ': "th",
}

// Skeleton returns the ASCII transliteration key of s: Жанболат, Zhanbolat
// and Janbolat all become "janbolat"; "Ахметов-Ким" becomes "ahmetov kim".
// Digits are kept, so identifiers keep their skeleton.
func Skeleton(s string) string {
	var sk skeletonizer
	return sk.skeleton(s)
}

// skeletonizer reuses its buffers across calls; the zero value is ready.
type skeletonizer struct {
	buf, tmp []skelByte
}

// skelByte is one byte of a skeleton with the rune index in the source
// string it came from, so matches in the skeleton can be shown on the label.
type skelByte struct {
	b   byte
	src int32
}

func (sk *skeletonizer) skeleton(s string) string {
	out := sk.build(s)
	b := make([]byte, len(out))
	for i, c := range out {
		b[i] = c.b
	}
	return string(b)
}

// build computes the skeleton of s with source rune indexes. The returned
// slice is valid until the next call.
func (sk *skeletonizer) build(s string) []skelByte {
	buf := sk.buf[:0]
	space := true // suppress leading and repeated spaces
	emit := func(str string, src int32) {
		for i := 0; i < len(str); i++ {
			buf = append(buf, skelByte{str[i], src})
		}
		if len(str) > 0 {
			space = false
		}
	}
	brk := func(src int32) {
		if !space {
			buf = append(buf, skelByte{' ', src})
			space = true
		}
	}
	var ri int32
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			emit(asciiLetter(byte(r)), ri)
		case r >= 'A' && r <= 'Z':
			emit(asciiLetter(byte(r)+'a'-'A'), ri)
		case r >= '0' && r <= '9':
			buf = append(buf, skelByte{byte(r), ri})
			space = false
		case r < 0x80:
			brk(ri)
		default:
			if str, ok := foldRune(r); ok {
				emit(str, ri)
			} else {
				brk(ri)
			}
		}
		ri++
	}
	if n := len(buf); n > 0 && buf[n-1].b == ' ' {
		buf = buf[:n-1]
	}
	for {
		next, changed := rewriteOnce(buf, sk.tmp[:0])
		sk.tmp = buf
		buf = next
		if !changed {
			break
		}
	}
	sk.buf = buf
	return buf
}

// asciiLetter applies the letter-level collapses to a lower-case ASCII letter.
func asciiLetter(c byte) string {
	switch c {
	case 'q':
		return "k"
	case 'y':
		return "i"
	}
	return asciiStrings[c-'a' : c-'a'+1]
}

const asciiStrings = "abcdefghijklmnopqrstuvwxyz"

// foldRune transliterates one non-ASCII rune. ok is false for runes that are
// not letters (or digits) with an ASCII rendering: they break words.
func foldRune(r rune) (string, bool) {
	lr := unicode.ToLower(r)
	if str, ok := cyrLower[lr]; ok {
		return foldASCII(str), true
	}
	if str, ok := latinLower[lr]; ok {
		return foldASCII(str), true
	}
	if !unicode.IsLetter(lr) {
		return "", false
	}
	// Decompose (é → e + ◌́) and keep the ASCII base letters.
	var b strings.Builder
	for _, d := range norm.NFD.String(string(lr)) {
		if d < 0x80 && unicode.IsLetter(d) {
			b.WriteString(asciiLetter(byte(unicode.ToLower(d))))
		}
	}
	if b.Len() == 0 {
		return "", false
	}
	return b.String(), true
}

// foldASCII applies asciiLetter to a table entry (ы → "i" is already folded,
// but "y" and "q" never appear in the tables; this keeps them honest).
func foldASCII(s string) string {
	if !strings.ContainsAny(s, "qy") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString(asciiLetter(s[i]))
	}
	return b.String()
}

// skelRules are the variant collapses, longest first at each position.
var skelRules = []struct{ from, to string }{
	{"shch", "sh"},
	{"zh", "j"},
	{"dj", "j"},
	{"kh", "h"},
	{"ts", "c"},
	{"cz", "c"},
	{"iu", "u"},
	{"ia", "a"},
	{"ie", "e"},
}

// rewriteOnce applies the collapse rules in one left-to-right pass, writing
// into dst. A replacement inherits the source index of its first byte.
func rewriteOnce(src, dst []skelByte) ([]skelByte, bool) {
	changed := false
	for i := 0; i < len(src); {
		c := src[i].b
		if c < 'a' || c > 'z' {
			dst = append(dst, src[i])
			i++
			continue
		}
		if i+1 < len(src) && src[i+1].b == c {
			dst = append(dst, src[i])
			i += 2
			changed = true
			continue
		}
		matched := false
		for _, rule := range skelRules {
			if rule.from[0] != c || i+len(rule.from) > len(src) {
				continue
			}
			ok := true
			for k := 1; k < len(rule.from); k++ {
				if src[i+k].b != rule.from[k] {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			for k := 0; k < len(rule.to); k++ {
				dst = append(dst, skelByte{rule.to[k], src[i].src})
			}
			i += len(rule.from)
			matched, changed = true, true
			break
		}
		if !matched {
			dst = append(dst, src[i])
			i++
		}
	}
	return dst, changed
}

// nameSuffixes are the patronymic and surname endings SkeletonTokens strips,
// in skeleton spelling (ұлы → "uli", қызы → "kizi"), longest first.
var nameSuffixes = []string{"ovich", "evich", "ovna", "evna", "kizi", "uli", "ova", "eva", "ina", "ov", "ev", "in"}

// SkeletonTokens splits the skeleton of s into words and strips the Russian
// and Kazakh surname and patronymic endings (-ov/-ev/-ova/-eva/-in/-ina,
// -ovich/-ovna, -uly/-kyzy), so "Нурланов Ерлан Серикович" and "Nurlan
// Yerlan Serik uly" give comparable token sets for entity resolution. A stem
// keeps at least three letters; stand-alone "uly"/"kyzy" words are dropped.
func SkeletonTokens(s string) []string {
	words := strings.Fields(Skeleton(s))
	out := words[:0]
	for _, w := range words {
		if w == "uli" || w == "kizi" {
			continue
		}
		for _, suf := range nameSuffixes {
			if len(w)-len(suf) >= 3 && strings.HasSuffix(w, suf) && isLetters(w) {
				w = w[:len(w)-len(suf)]
				break
			}
		}
		out = append(out, w)
	}
	return out
}

func isLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}
