package export

import (
	"strings"

	"casegraph/internal/csvsafe"
)

// Every cell of every CSV file in an export goes through csvCell, which is
// internal/csvsafe.Cell: the same neutralisation the importers' rejects file
// uses (a formula-like cell gets a leading apostrophe, every cell is quoted,
// numbers in numeric columns and E.164 phones stay as they are).

// csvCell returns the cell as it is written (csvsafe.Cell).
func csvCell(s string, numeric bool) string { return csvsafe.Cell(s, numeric) }

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
