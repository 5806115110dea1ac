package export

import (
	"regexp"
	"strings"
)

// CSV files are opened in spreadsheets, where a cell that starts with "=",
// "+", "-" or "@" is a formula: =HYPERLINK("http://…") leaks data when
// clicked, =cmd|' /C calc'!A0 runs a program through DDE. Names, references
// and file names come from imported data, so every cell of every CSV file in
// an export goes through csvCell, as OWASP's "CSV Injection" page advises: a
// cell that a spreadsheet could read as a formula gets a leading apostrophe
// (shown by no spreadsheet, and the usual sign of "text, not a formula"), and
// every cell is quoted.
//
// Two kinds of cell stay as they are, because they are data a reader must be
// able to use: a plain decimal number in a column that holds numbers (an
// amount of "-4950.00" is a refund, not a formula), and a phone number in
// E.164 form ("+77015551234"), which a spreadsheet reads as a number at worst.

// formulaStart are the characters that make a spreadsheet read a cell as a
// formula or command, including the fullwidth forms some locales accept.
const formulaStart = "=+-@\t\r＝＋－＠"

var (
	plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	e164Phone   = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
)

// csvCell returns the cell as it is written: neutralised unless it is a
// number in a numeric column or an E.164 phone number.
func csvCell(s string, numeric bool) string {
	if numeric && plainNumber.MatchString(s) || e164Phone.MatchString(s) {
		return s
	}
	// Spreadsheets skip leading blanks before they look for "=".
	t := strings.TrimLeft(s, " \u00a0")
	if t != "" && strings.ContainsRune(formulaStart, []rune(t)[0]) {
		return "'" + s
	}
	return s
}

// writeCSV renders rows (the first is the header) as RFC 4180 CSV with every
// field quoted and neutralised by csvCell. numeric names the header's columns
// that hold plain decimal numbers.
func writeCSV(rows [][]string, numeric ...string) ([]byte, error) {
	isNum := map[int]bool{}
	if len(rows) > 0 {
		for i, h := range rows[0] {
			for _, n := range numeric {
				if h == n {
					isNum[i] = true
				}
			}
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, f := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(csvCell(f, isNum[i]), `"`, `""`))
			b.WriteByte('"')
		}
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}
