package workbench

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

// csvColumn is the set of values of one column of an export's CSV file.
func csvColumn(t *testing.T, path, column string) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	for _, row := range readCSVFile(t, path) {
		set[row[column]] = true
	}
	return set
}

// readCSVFile reads an export's CSV file as rows keyed by column name.
func readCSVFile(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[strings.TrimPrefix(h, "\ufeff")] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// checkHolderExport exports a case holding only holder and checks that
// the export carries the holder's money as its entity page reads it (the
// transactions of the instruments it holds): every transaction, every
// counterparty as an entity (a full record where the data has one), the
// holds links, counts that reconcile in the manifest, and the rule said in
// the reports. It returns the export folder.
func checkHolderExport(t *testing.T, b *Workbench, holder graph.Ref) string {
	t.Helper()
	ctx := context.Background()
	c, err := b.CreateCase(ctx, "Holder "+holder.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.EntityTarget(holder, "")}); err != nil {
		t.Fatal(err)
	}
	page, err := b.Transactions(ctx, holder, graph.TxQuery{Sort: graph.SortTimeAsc})
	if err != nil {
		t.Fatal(err)
	}
	held, err := b.Holdings(ctx, holder, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Txns) < 2 || held.Total == 0 || page.Total != len(page.Txns) {
		t.Fatalf("the fixture gives %s %d transactions on %d instruments", holder, len(page.Txns), held.Total)
	}
	// The page lists a transfer between two held instruments once for each.
	want := map[string]bool{}
	for _, tx := range page.Txns {
		want[tx.ID] = true
	}
	dir := filepath.Join(t.TempDir(), "out")
	res, err := b.Export(ctx, ExportRequest{Case: c.ID, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	ents := readCSVFile(t, filepath.Join(dir, "entities.csv"))
	txns := readCSVFile(t, filepath.Join(dir, "transactions.csv"))
	links := readCSVFile(t, filepath.Join(dir, "links.csv"))
	m := readManifest(t, dir)
	if m.Counts.Transactions != len(txns) || m.Counts.Entities != len(ents) || m.Counts.Links != len(links) ||
		res.Manifest.Counts != m.Counts {
		t.Errorf("manifest counts %+v, files hold %d entities, %d links, %d transactions", m.Counts, len(ents), len(links), len(txns))
	}
	byRef, byID := map[string]map[string]string{}, map[string]string{}
	for _, e := range ents {
		byRef[e["ref"]], byID[e["id"]] = e, e["ref"]
	}
	got := map[string]map[string]string{}
	for _, tx := range txns {
		got[tx["tx_id"]] = tx
		// Reconciled: both ends of every transaction are exported entities.
		if byID[tx["from_id"]] != tx["from"] || byID[tx["to_id"]] != tx["to"] {
			t.Errorf("transaction %s: %s (%s) → %s (%s) not both exported entities", tx["tx_id"], tx["from"], tx["from_id"], tx["to"], tx["to_id"])
		}
	}
	for _, tx := range page.Txns {
		row, ok := got[tx.ID]
		if !ok {
			t.Errorf("transaction %s of %s via %s is not exported (%d of %d are)", tx.ID, holder, tx.Via, len(got), len(want))
			continue
		}
		if row["from"] != tx.From.String() || row["to"] != tx.To.String() {
			t.Errorf("transaction %s exported as %s → %s", tx.ID, row["from"], row["to"])
		}
		for _, end := range []graph.Ref{tx.From, tx.To} {
			e, ok := byRef[end.String()]
			if !ok {
				t.Errorf("counterparty %s of %s is not an exported entity", end, tx.ID)
				continue
			}
			// A counterparty the data has a record of is exported with it.
			if rec, err := b.db.Entity(ctx, end); err == nil && e["stub"] != strconv.FormatBool(rec.Stub) {
				t.Errorf("counterparty %s exported with stub %s, stored with %v", end, e["stub"], rec.Stub)
			}
		}
	}
	if len(got) < len(want) {
		t.Fatalf("%d transactions exported, %s's page lists %d", len(got), holder, len(want))
	}
	// The gathered input reconciles before the export package fills in
	// stubs for any end it lacks: every transaction's ends are entities
	// read from the store, each once.
	var in export.Input
	if err := gatherExport(ctx, b.db, []graph.Ref{holder}, &in); err != nil {
		t.Fatal(err)
	}
	gathered := map[graph.Ref]bool{}
	for _, e := range in.Entities {
		if gathered[e.Ref] {
			t.Errorf("%s gathered twice", e.Ref)
		}
		gathered[e.Ref] = true
	}
	for _, tx := range in.Txns {
		if !gathered[tx.From] || !gathered[tx.To] {
			t.Errorf("transaction %s: %s → %s, not both gathered", tx.ID, tx.From, tx.To)
		}
	}
	holds := map[string]bool{}
	for _, l := range links {
		if l["from_ref"] == holder.String() && l["relation"] == "holds" {
			holds[l["to_ref"]] = true
		}
	}
	for _, it := range held.Items {
		if !holds[it.Ref.String()] || byRef[it.Ref.String()] == nil {
			t.Errorf("held instrument %s (or its holds link) is not exported", it.Ref)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "instruments it holds") || !slices.ContainsFunc(m.Queries, func(q string) bool {
		return strings.Contains(q, "instruments it holds")
	}) {
		t.Errorf("the report does not say whose transactions a holder's are: %q", m.Queries)
	}
	return dir
}

// A person has no transactions of his own: his money moves on the cards
// and accounts he holds. A case holding only the organiser exports those
// transactions and their counterparties (it exported none), the same on
// every run.
func TestExportPersonCarriesHeldInstrumentsMoney(t *testing.T) {
	b, _ := canonicalCase(t)
	organiser := graph.Ref{Kind: graph.KindPerson, Key: "850312300002"}
	dir := checkHolderExport(t, b, organiser)
	got := csvColumn(t, filepath.Join(dir, "transactions.csv"), "tx_id")
	// The ATM top-up, the purchase at the exchange and the transfer from his
	// second card (testdata/canonical/transactions.csv).
	for _, id := range []string{"T000001", "T000002", "T000003"} {
		if !got[id] {
			t.Errorf("%s is not exported", id)
		}
	}
	ents := csvColumn(t, filepath.Join(dir, "entities.csv"), "ref")
	for _, r := range []string{"atm:ATM-ALA-0042", "exchange:EX-0001", "card:4400431234567894"} {
		if !ents[r] {
			t.Errorf("counterparty %s is not exported", r)
		}
	}
	// Deterministic: the same case exports byte-identical files.
	again := filepath.Join(t.TempDir(), "again")
	c, err := b.db.Case(context.Background(), "Holder "+organiser.Key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Export(context.Background(), ExportRequest{Case: c.ID, Out: again})
	if err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(dir, export.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(first)
	if res.ManifestSHA256 != hex.EncodeToString(sum[:]) {
		t.Error("a second export of the same case differs")
	}
}

// goAMLCompany is a goAML report in which a company owns an account that
// receives from a person's account and pays a third one.
const goAMLCompany = `<?xml version="1.0" encoding="UTF-8"?>
<report>
  <rentity_id>7</rentity_id>
  <report_code>STR</report_code>
  <entity_reference>KZ-9</entity_reference>
  <currency_code_local>KZT</currency_code_local>
  <transaction>
    <transactionnumber>C1</transactionnumber>
    <date_transaction>2025-03-15T02:10:00</date_transaction>
    <amount_local>495000.00</amount_local>
    <t_from>
      <from_account>
        <institution_name>Kaspi Bank</institution_name>
        <iban>KZ45 722S 0000 5432 6792</iban>
        <signatory><is_primary>true</is_primary><t_person><first_name>Жанболат</first_name><last_name>Ахметов</last_name><ssn>850312300002</ssn></t_person><role>A</role></signatory>
      </from_account>
    </t_from>
    <t_to_my_client>
      <to_account>
        <institution_name>Halyk</institution_name>
        <iban>KZ48 551A 0240 0021 3KZT</iban>
        <t_entity><name>ТОО Ромашка</name><incorporation_number>040340004345</incorporation_number></t_entity>
      </to_account>
    </t_to_my_client>
  </transaction>
  <transaction>
    <transactionnumber>C2</transactionnumber>
    <date_transaction>2025-03-16T10:00:00</date_transaction>
    <amount_local>480000.00</amount_local>
    <t_from_my_client>
      <from_account>
        <institution_name>Halyk</institution_name>
        <iban>KZ48 551A 0240 0021 3KZT</iban>
        <t_entity><name>ТОО Ромашка</name><incorporation_number>040340004345</incorporation_number></t_entity>
      </from_account>
    </t_from_my_client>
    <t_to>
      <to_account>
        <institution_name>Freedom Bank</institution_name>
        <iban>KZ84 722S 0000 9988 7766</iban>
      </to_account>
    </t_to>
  </transaction>
</report>`

// A company's money is on the accounts it holds, as a person's: the same
// rule exports it.
func TestExportOrganisationCarriesHeldAccountsMoney(t *testing.T) {
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "str.xml"), []byte(goAMLCompany), 0o600); err != nil {
		t.Fatal(err)
	}
	dbDir := filepath.Join(t.TempDir(), "db")
	importInto(t, dbDir, data)
	s, err := store.Open(dbDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := New(s, "test").As("aigerim")
	var org graph.Ref
	err = s.EntitiesOf(context.Background(), []graph.Kind{graph.KindOrganisation}, func(e graph.Entity) error {
		org = e.Ref
		return nil
	})
	if err != nil || org.IsZero() {
		t.Fatalf("no organisation imported (%v)", err)
	}
	checkHolderExport(t, b, org)
}
