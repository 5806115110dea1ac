// Package csvsafe makes CSV cells safe to open in a spreadsheet. It is the
// one implementation shared by the exports and the importers' rejects file.
//
// CSV files are opened in spreadsheets, where a cell that starts with "=",
// "+", "-" or "@" is a formula: =HYPERLINK("http://…") leaks data when
// clicked, =cmd|' /C calc'!A0 runs a program through DDE. Names, references
// and file names come from imported data, so every cell casegraph writes to
// a CSV file goes through Cell, as OWASP's "CSV Injection" page advises: a
// cell that a spreadsheet could read as a formula gets a leading apostrophe
// (shown by no spreadsheet, and the usual sign of "text, not a formula").
//
// Two kinds of cell stay as they are, because they are data a reader must be
// able to use: a plain decimal number in a column that holds numbers (an
// amount of "-4950.00" is a refund, not a formula), and a phone number in
// E.164 form ("+77015551234"), which a spreadsheet reads as a number at worst.
package csvsafe

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// FormulaStart are the characters that make a spreadsheet read a cell as a
// formula or command, including the fullwidth forms some locales accept.
const FormulaStart = "=+-@\t\r＝＋－＠"

// PlainNumber is a decimal number kept as is in a numeric column;
// E164Phone a phone number kept as is anywhere.
var (
	PlainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	E164Phone   = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
)

// Cell returns the cell as it is written: neutralised unless it is a number
// in a numeric column or an E.164 phone number.
func Cell(s string, numeric bool) string {
	if numeric && PlainNumber.MatchString(s) || E164Phone.MatchString(s) {
		return s
	}
	// Spreadsheets skip leading blanks before they look for "=".
	t := strings.TrimLeft(s, " \u00a0")
	if t == "" {
		return s
	}
	if r, _ := utf8.DecodeRuneInString(t); strings.ContainsRune(FormulaStart, r) {
		return "'" + s
	}
	return s
}
