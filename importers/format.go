package importers

import (
	"fmt"
	"strings"
)

// Format is the kind of a canonical input file, recognised from its header.
type Format string

// The canonical formats (docs/FORMATS.md).
const (
	FormatPersons      Format = "persons"
	FormatCards        Format = "cards"
	FormatExchanges    Format = "exchanges"
	FormatGroups       Format = "groups"
	FormatMemberships  Format = "memberships"
	FormatTransactions Format = "transactions"
)

// formatSpec lists the columns a format requires and the optional columns it
// understands; any other column becomes a property.
type formatSpec struct {
	format   Format
	required []string
	optional []string
}

// specs returns the column specifications of every format, in detection order.
func specs() []formatSpec {
	return []formatSpec{
		{FormatPersons, []string{"iin", "name"}, []string{"birth_date", "phone", "address"}},
		{FormatCards, []string{"pan", "holder_iin"}, []string{"bank", "iban", "issued", "status"}},
		{FormatExchanges, []string{"exchange_id", "name"}, []string{"domain", "afsa_licence", "status"}},
		{FormatGroups, []string{"group_id", "name"}, []string{"case_ref"}},
		{FormatMemberships, []string{"group_id", "member"}, []string{"role"}},
		{FormatTransactions, []string{"tx_id", "time", "from", "to", "amount"},
			[]string{"currency", "channel", "atm_id", "device_id", "ip", "iin_provided", "app_confirmed", "reference"}},
	}
}

// specFor returns the specification of f.
func specFor(f Format) (formatSpec, bool) {
	for _, s := range specs() {
		if s.format == f {
			return s, true
		}
	}
	return formatSpec{}, false
}

// headerName normalises a header cell: BOM and spaces trimmed, lower case.
func headerName(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	return strings.ToLower(strings.TrimSpace(s))
}

// Detect recognises the format of a file from its header row: the format
// whose required columns are all present. Column order and case do not
// matter. It fails when no format or more than one format fits, or when a
// column name repeats, and the error says what each format needs.
func Detect(header []string) (Format, error) {
	cols := make(map[string]bool, len(header))
	for _, h := range header {
		n := headerName(h)
		if n == "" {
			continue
		}
		if cols[n] {
			return "", fmt.Errorf("header names column %q twice (a duplicated column is refused: which one holds the data?)", Preview(n))
		}
		cols[n] = true
	}
	var match []Format
	for _, s := range specs() {
		all := true
		for _, r := range s.required {
			if !cols[r] {
				all = false
				break
			}
		}
		if all {
			match = append(match, s.format)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return "", fmt.Errorf("unrecognised header (%s): %s", headerPreview(header), needs())
	}
	names := make([]string, len(match))
	for i, m := range match {
		names[i] = string(m)
	}
	return "", fmt.Errorf("ambiguous header (%s) fits %s: %s", headerPreview(header),
		strings.Join(names, " and "), needs())
}

// needs describes the required columns of every format.
func needs() string {
	var parts []string
	for _, s := range specs() {
		parts = append(parts, string(s.format)+" needs "+strings.Join(s.required, ", "))
	}
	return strings.Join(parts, "; ")
}

// headerPreview is the header as an error quotes it: at most 200 bytes.
func headerPreview(header []string) string {
	s := strings.ToValidUTF8(strings.Join(header, ","), "\ufffd")
	if len(s) > 200 {
		return Preview(s[:200]) + "…"
	}
	return s
}
