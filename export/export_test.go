package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestExportTwiceIsByteIdentical(t *testing.T) {
	for _, redact := range []bool{false, true} {
		a, _ := export(t, fixture(), redact)
		b, _ := export(t, shuffled(), redact)
		fa, fb := readAll(t, a), readAll(t, b)
		if len(fa) != len(fb) {
			t.Fatalf("redact=%v: %d files vs %d", redact, len(fa), len(fb))
		}
		for _, name := range sortedKeys(fa) {
			if !bytes.Equal(fa[name], fb[name]) {
				t.Errorf("redact=%v: %s differs between two exports of the same data", redact, name)
			}
		}
	}
}

func TestWriteListsEveryFileInManifest(t *testing.T) {
	dir, m := export(t, fixture(), false)
	files := readAll(t, dir)
	raw, ok := files[ManifestName]
	if !ok {
		t.Fatal("no manifest.json")
	}
	var got Manifest
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	want := []string{"case.json", "entities.csv", "entities.ftm.json", "graph.dot", "graph.gexf", "graph.graphml",
		"i2_import.csv", "i2_import_spec.txt", "links.csv", "report.html", "report.md", "transactions.csv"}
	if len(got.Files) != len(want) {
		t.Fatalf("manifest lists %d files, want %d", len(got.Files), len(want))
	}
	for i, f := range got.Files {
		if f.Name != want[i] {
			t.Errorf("file %d is %s, want %s", i, f.Name, want[i])
		}
		b := files[f.Name]
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 || f.Bytes != len(b) {
			t.Errorf("%s: manifest hash or size does not match the file", f.Name)
		}
	}
	if len(files) != len(want)+1 {
		t.Errorf("folder has %d files, want %d and the manifest", len(files), len(want))
	}
	if got.Version != "test-1" || got.Format != FormatID || got.Redacted {
		t.Errorf("manifest header: %+v", got)
	}
	if len(got.Sources) != 2 || got.Sources[0].Batch != 1 || got.Sources[0].SHA256 != "1a0b" {
		t.Errorf("sources: %+v", got.Sources)
	}
	if strings.Join(got.Queries, "|") != strings.Join(fixture().Queries, "|") {
		t.Errorf("queries: %q", got.Queries)
	}
	// 14 entities given, one a duplicate; the ATM and cash appear only in
	// transactions.
	if got.Counts != (Counts{Entities: 15, Links: 11, Transactions: 8, Flags: 2}) {
		t.Errorf("counts: %+v", got.Counts)
	}
	if m.Counts != got.Counts {
		t.Errorf("returned manifest differs from the written one")
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v", err)
	}
	return rows
}

func TestCSVTables(t *testing.T) {
	dir, _ := export(t, fixture(), false)
	files := readAll(t, dir)
	ents := readCSV(t, files["entities.csv"])
	if len(ents) != 16 {
		t.Fatalf("entities.csv: %d rows, want header + 15", len(ents))
	}
	ids := map[string]bool{}
	for _, r := range ents[1:] {
		ids[r[0]] = true
	}
	var full []string
	for _, r := range ents[1:] {
		if r[2] == "card:"+panA {
			full = r
		}
	}
	if full == nil || full[4] != "false" || !strings.Contains(full[8], "bank=Kaspi Bank") || full[9] != "cards.csv:2" {
		t.Errorf("card %s: want the full record, got %q", panA, full)
	}
	txs := readCSV(t, files["transactions.csv"])
	if len(txs) != 9 {
		t.Fatalf("transactions.csv: %d rows, want header + 8", len(txs))
	}
	prev := ""
	for _, r := range txs[1:] {
		if !ids[r[2]] || !ids[r[4]] {
			t.Errorf("transaction %s names unknown ids %s, %s", r[0], r[2], r[4])
		}
		if r[1] < prev {
			t.Errorf("transactions not in time order at %s", r[0])
		}
		prev = r[1]
	}
	if txs[3][0] != "T000003" || txs[3][1] != "2025-03-14T05:15:00Z" || txs[3][6] != "490000.00" || txs[3][7] != "KZT" {
		t.Errorf("T000003 row: %q", txs[3])
	}
	links := readCSV(t, files["links.csv"])
	if len(links) != 12 {
		t.Errorf("links.csv: %d rows, want header + 11", len(links))
	}
}

func TestI2ImportTable(t *testing.T) {
	dir, _ := export(t, fixture(), false)
	files := readAll(t, dir)
	r := csv.NewReader(bytes.NewReader(files["i2_import.csv"]))
	r.FieldsPerRecord = 0 // every row must have the header's column count
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("i2_import.csv: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(i2Header, ",") {
		t.Fatalf("header %q", rows[0])
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	// 11 relations + 8 transactions; every entity is linked.
	if len(rows) != 1+11+8 {
		t.Fatalf("%d rows, want 20", len(rows))
	}
	label := map[string]string{}
	for _, row := range rows[1:] {
		for _, side := range []string{"Entity1", "Entity2"} {
			id, l := row[col[side+"Identity"]], row[col[side+"Label"]]
			if id == "" || row[col[side+"Type"]] == "" {
				t.Errorf("row %q: empty %s", row, side)
			}
			if old, ok := label[id]; ok && old != l {
				t.Errorf("identity %s has two labels %q and %q", id, old, l)
			}
			label[id] = l
		}
		if row[col["LinkType"]] == "trade" && (row[col["LinkDate"]] == "" || row[col["LinkAmount"]] == "") {
			t.Errorf("transaction row without date or amount: %q", row)
		}
	}
	spec := string(files["i2_import_spec.txt"])
	for _, h := range i2Header {
		if !strings.Contains(spec, strings.TrimPrefix(strings.TrimPrefix(h, "Entity1"), "Entity2")) {
			t.Errorf("spec does not describe column %s", h)
		}
	}
}

func TestDOTIsBalanced(t *testing.T) {
	dir, _ := export(t, fixture(), false)
	b, err := os.ReadFile(filepath.Join(dir, "graph.dot"))
	if err != nil {
		t.Fatal(err)
	}
	checkDOT(t, b)
	for _, want := range []string{"digraph ", `"person-1" -> "group-1"`, `"card-3" -> "exchange-1" [label="trade 1,400,000 ₸"]`,
		`Sarsenov \"Dias\" | Bek`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("graph.dot lacks %s", want)
		}
	}
	runDot(t, filepath.Join(dir, "graph.dot"))
}

// checkDOT checks that braces and brackets balance outside quoted strings,
// that every string is closed and that escapes are valid.
func checkDOT(t *testing.T, b []byte) {
	t.Helper()
	depth, brackets, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			case '\n':
				t.Fatalf("raw newline inside a DOT string at byte %d", i)
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{':
			depth++
		case '}':
			depth--
		case '[':
			brackets++
		case ']':
			brackets--
		}
		if depth < 0 || brackets < 0 {
			t.Fatalf("unbalanced at byte %d", i)
		}
	}
	if inStr || depth != 0 || brackets != 0 {
		t.Fatalf("unbalanced DOT: open string %v, depth %d, brackets %d", inStr, depth, brackets)
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	dir, _ := export(t, fixture(), false)
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, bad := range []string{"<script", "<link", "<img", "@import", "url(http"} {
		if strings.Contains(s, bad) {
			t.Errorf("report.html contains %s", bad)
		}
	}
	for _, u := range regexp.MustCompile(`https?://[^"'\s<)]+`).FindAllString(s, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("report.html refers to %s", u)
		}
	}
	for _, want := range []string{`<svg xmlns="http://www.w3.org/2000/svg" class="network"`, `class="timeline"`,
		"R11", "T000005", "ТенгеОбмен24", "Asia/Almaty", "2025-03-15 06:05 &#43;05", "Sarsenov &#34;Dias&#34; | Bek",
		"T000099 (not in this export)", "1,400,000 ₸"} {
		if !strings.Contains(s, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// Transactions on four Almaty days from 13 to 17 March (the last one
	// is 16 March in UTC): five bars, the 16th empty.
	if n := strings.Count(s, `fill="#4e79a7"><title>2025-03-`); n != 5 {
		t.Errorf("timeline has %d day bars, want 5", n)
	}
	if !strings.Contains(s, "<title>2025-03-16: 0 transactions, 0</title>") ||
		!strings.Contains(s, "<title>2025-03-17: 2 transactions, 150,000</title>") {
		t.Errorf("timeline does not bin by Almaty day")
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte(`Sarsenov "Dias" \| Bek`)) || !bytes.Contains(md, []byte("## Red flags")) {
		t.Errorf("report.md lacks escaped names or sections")
	}
}
