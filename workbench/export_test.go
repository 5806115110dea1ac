package workbench

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"casegraph/export"
	"casegraph/graph"
	"casegraph/store"
)

// canonicalCase imports testdata/canonical and makes a case bookmarking
// the organiser of group G-ALA-3, a dropper's card and the exchange.
func canonicalCase(t *testing.T) (*Workbench, graph.Case) {
	t.Helper()
	s, err := store.Open(importTestdata(t, "canonical"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := New(s, "test").As("aigerim")
	ctx := context.Background()
	c, err := b.CreateCase(ctx, "Ring")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []graph.Ref{{Kind: graph.KindPerson, Key: "850312300002"}, {Kind: graph.KindCard, Key: "4400430000000015"},
		{Kind: graph.KindExchange, Key: "EX-0001"}} {
		if _, err := b.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.EntityTarget(r, ""), Note: "note on " + r.String()}); err != nil {
			t.Fatal(err)
		}
	}
	return b, c
}

func readManifest(t *testing.T, dir string) export.Manifest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, export.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m export.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The sources of an export name every imported file its records came
// from: the group memberships are links, and their file was missing.
func TestExportSourcesIncludeLinkFiles(t *testing.T) {
	b, c := canonicalCase(t)
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := b.Export(context.Background(), ExportRequest{Case: c.ID, Out: dir}); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, s := range readManifest(t, dir).Sources {
		files = append(files, filepath.Base(s.File))
	}
	for _, want := range []string{"persons.csv", "cards.csv", "transactions.csv", "memberships.csv", "groups.csv", "exchanges.csv"} {
		if !slices.Contains(files, want) {
			t.Errorf("sources %v lack %s", files, want)
		}
	}
}

// sourceIdentifiers reads every identifier of the rows of the CSV files in
// dir: IINs, PANs, IBANs, phones, names, addresses, birth dates, exchange
// ids, names, domains and handles, group names, devices and IPs (ATM ids,
// group ids and transaction ids are not identifiers of a person and stay).
func sourceIdentifiers(t *testing.T, dir string) (texts []string, digits []string) {
	t.Helper()
	cols := map[string][]string{
		"persons.csv":      {"iin", "name", "phone", "address", "birth_date"},
		"cards.csv":        {"holder_iin", "pan", "iban"},
		"exchanges.csv":    {"exchange_id", "name", "domain", "telegram"},
		"groups.csv":       {"name"},
		"memberships.csv":  {"member"},
		"transactions.csv": {"from", "to", "device_id", "ip", "iin_provided"},
	}
	for file, want := range cols {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		head := map[string]int{}
		for i, h := range rows[0] {
			head[strings.TrimPrefix(h, "\ufeff")] = i
		}
		for _, r := range rows[1:] {
			for _, c := range want {
				i, ok := head[c]
				if !ok || i >= len(r) {
					continue
				}
				v := strings.Join(strings.Fields(r[i]), " ")
				if v == "cash" {
					continue // the cash side of a transaction
				}
				if kind, key, ok := strings.Cut(v, ":"); ok && (c == "from" || c == "to") {
					if kind == "atm" || kind == "cash" {
						continue
					}
					v = key
				}
				if len([]rune(v)) < 4 {
					continue
				}
				texts = append(texts, v)
				d := strings.Map(func(r rune) rune {
					if r >= '0' && r <= '9' {
						return r
					}
					return -1
				}, v)
				if len(d) >= 10 && len(d) >= len([]rune(v))-6 { // a number written with separators
					digits = append(digits, d)
					if len(d) == 11 && (d[0] == '7' || d[0] == '8') {
						digits = append(digits, d[1:]) // a phone without its country code
					}
				}
				if strings.HasPrefix(strings.ToUpper(v), "KZ") {
					iban := strings.ToUpper(strings.ReplaceAll(v, " ", ""))
					texts = append(texts, iban, graph.FormatIBAN(iban))
				}
			}
		}
	}
	return texts, digits
}

// leaked returns every source identifier found in any file of an export
// folder: as text (ignoring letter case), and as digits however they are
// grouped.
func leaked(t *testing.T, dir string, texts, digits []string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cluster := regexp.MustCompile(`[0-9](?:[0-9 \x{00a0}.\-/()+]*[0-9])?`)
	var out []string
	for _, e := range ents {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ToLower(string(raw))
		for _, v := range texts {
			if strings.Contains(s, strings.ToLower(v)) {
				out = append(out, e.Name()+": "+v)
			}
		}
		for _, m := range cluster.FindAllString(s, -1) {
			d := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, m)
			for _, v := range digits {
				if strings.Contains(d, v) {
					out = append(out, e.Name()+": "+v+" in "+m)
				}
			}
		}
	}
	return out
}

// A redacted export holds no identifier of the case's source rows, in any
// file (csv, json, md, html, graph files, manifest).
func TestRedactedExportLeaksNoSourceIdentifier(t *testing.T) {
	b, c := canonicalCase(t)
	ctx := context.Background()
	// Every person and card of the data set, as one cluster bookmark.
	var refs []graph.Ref
	for _, k := range []string{"850312300002", "900515300008", "920711400122", "881102300336"} {
		refs = append(refs, graph.Ref{Kind: graph.KindPerson, Key: k})
	}
	if _, err := b.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.Target{Kind: graph.TargetCluster, Refs: refs, Label: "everyone"},
		Note: "Ахметов and Сейткали Айгерім share the address Алматы, ул. Абая 10, кв 5; call +7 701 555 1234"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetCaseNotes(ctx, c.ID, "Cards 4400430000000015 and 4003039876543213; IBAN KZ45722S000054326792; device DEV-9F3A at 10.1.2.3"); err != nil {
		t.Fatal(err)
	}
	texts, digits := sourceIdentifiers(t, filepath.Join("..", "testdata", "canonical"))
	plain := filepath.Join(t.TempDir(), "plain")
	if _, err := b.Export(ctx, ExportRequest{Case: c.ID, Out: plain}); err != nil {
		t.Fatal(err)
	}
	// The scan must see the identifiers in the plain export, or it proves
	// nothing about the redacted one.
	if n := len(leaked(t, plain, texts, digits)); n < 50 {
		t.Fatalf("the scan sees only %d identifiers in the plain export", n)
	}
	red := filepath.Join(t.TempDir(), "red")
	if _, err := b.Export(ctx, ExportRequest{Case: c.ID, Out: red, Redact: true}); err != nil {
		t.Fatal(err)
	}
	for _, l := range leaked(t, red, texts, digits) {
		t.Errorf("redacted export leaks %s", l)
	}
}
