package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"casegraph/graph"
)

// TestProfileImportRecordsSkippedRows imports a small Windows-1251 bank
// statement with metadata rows above the header and total rows below the
// data: the batch record keeps the skipped rows, so read = imported +
// rejected + skipped holds in the stats as it does in the summary.
func TestProfileImportRecordsSkippedRows(t *testing.T) {
	lines := []string{
		"Выписка по лицевому счёту за период 01.03.2025 - 31.03.2025;;;;;;;;",
		"Клиент:;ТОО \"Ромашка\";;;;;;;",
		"ИИН/БИН:;900515300008;;;;;;;",
		"Счёт:;KZ48551A024000213KZT;;;;;;;",
		"Дата;Номер документа;Дебет;Кредит;Валюта;Корреспондент;ИИН/БИН корреспондента;Счёт корреспондента;Назначение платежа",
		"01.03.2025 10:15;1;12\u00a0600,00;;KZT;ИП Иванов;850312300002;KZ45722S000054326792;Оплата по счёту 1",
		"02.03.2025 11:00;2;;495\u00a0000,00;KZT;ИП Иванов;850312300002;KZ45722S000054326792;Возврат",
		"03.03.2025 12:30;3;7\u00a0000,00;;KZT;Снятие наличных;;;ATM",
		"Итого обороты;;19\u00a0600,00;495\u00a0000,00;;;;;",
		"Остаток на 31.03.2025;;;5\u00a0000,00;;;;;",
	}
	dir := t.TempDir()
	file := writeCP1251(t, filepath.Join(dir, "statement.csv"), lines)
	db := filepath.Join(dir, "db")
	out := runCmd(t, "import", "--db", db, "--profile", "bank-statement", file)
	if !strings.Contains(out, "skipped") {
		t.Fatalf("summary does not report the skipped rows:\n%s", out)
	}
	var st struct {
		Batches []struct {
			Read, Imported, Rejected, Skipped int
			Res                               string `json:"time_resolution"`
			Unit                              int64  `json:"time_unit"`
			Zone                              string `json:"time_zone"`
		} `json:"batches"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "stats", "--db", db, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Batches) != 1 {
		t.Fatalf("batches %+v", st.Batches)
	}
	b := st.Batches[0]
	if b.Skipped == 0 || b.Imported != 3 || b.Read != b.Imported+b.Rejected+b.Skipped {
		t.Fatalf("batch %+v: want 3 imported, skipped rows recorded, counts reconciling", b)
	}
	// The batch records the statement's clock: timestamps in Almaty time.
	if b.Res != "timestamps" || b.Unit != 1 || b.Zone != "Asia/Almaty" {
		t.Fatalf("batch clock %s/%d/%s, want timestamps/1/Asia/Almaty", b.Res, b.Unit, b.Zone)
	}
	if out := runCmd(t, "stats", "--db", db); !strings.Contains(out, "times: timestamps, Asia/Almaty") {
		t.Fatalf("stats does not show the batch's times:\n%s", out)
	}
}

// TestProfileRejectNamesMetadataField: a statement without its account line
// above the header cannot place its rows; each reject names the metadata
// field the profile needed.
func TestProfileRejectNamesMetadataField(t *testing.T) {
	dir := t.TempDir()
	file := writeCP1251(t, filepath.Join(dir, "statement.csv"), []string{
		"Дата;Номер документа;Дебет;Кредит;Валюта;Корреспондент;ИИН/БИН корреспондента;Счёт корреспондента;Назначение платежа",
		"01.03.2025 10:15;1;12\u00a0600,00;;KZT;ИП Иванов;850312300002;KZ45722S000054326792;Оплата",
	})
	rejects := filepath.Join(dir, "rejects.csv")
	runCmd(t, "import", "--db", filepath.Join(dir, "db"), "--rejects", rejects, "--profile", "bank-statement", file)
	raw, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "statement.csv,2,meta.account,,required value is empty") {
		t.Fatalf("reject does not name the metadata field:\n%s", raw)
	}
}

func writeCP1251(t *testing.T, path string, lines []string) string {
	t.Helper()
	text, err := charmap.Windows1251.NewEncoder().String(strings.Join(lines, "\r\n") + "\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGenerateStatement writes a statement with generate --statement and
// imports it through the bank-statement profile: every data row imported,
// the metadata and total lines skipped, nothing rejected.
func TestGenerateStatement(t *testing.T) {
	dir := t.TempDir()
	out := runCmd(t, "generate", "--out", dir, "--statement", "2000")
	file := filepath.Join(dir, "statement.csv")
	if !strings.Contains(out, file) || !strings.Contains(out, "2,000 rows") {
		t.Fatalf("generate said %q", out)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := charmap.Windows1251.NewDecoder().Bytes(raw); !strings.Contains(string(text), "Счёт корреспондента") {
		t.Fatal("statement is not Windows-1251 with the expected header")
	}
	db := filepath.Join(dir, "db")
	runCmd(t, "import", "--db", db, "--profile", "bank-statement", file)
	var st struct {
		Batches []struct{ Read, Imported, Rejected, Skipped int } `json:"batches"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "stats", "--db", db, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Batches) != 1 || st.Batches[0].Imported != 2000 || st.Batches[0].Rejected != 0 || st.Batches[0].Skipped != 6 {
		t.Fatalf("batches %+v: want 2000 imported, 6 skipped (4 metadata lines, 2 totals), none rejected", st.Batches)
	}
}

// TestWatchListBeforeData: a watch list imported before the persons it
// names still flags them once they are imported, in one import or two (and
// showing a person of a database without transactions works).
func TestWatchListBeforeData(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "watchlist.csv")
	persons := filepath.Join(dir, "persons.csv")
	if err := os.WriteFile(list, []byte("iin,list_status,reason\n601007376541,black,court order\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(persons, []byte("iin,name,birth_date,phone,address,residency\n"+
		"601007376541,KALIEV MEIIRKHAN,1960-10-07,+77715147420,\"Астана, ул. Кабанбай батыра 21\",resident\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A list whose header also reads as persons (iin, name) is a list.
	named := filepath.Join(dir, "named-list.csv")
	if err := os.WriteFile(named, []byte("iin,name,list_status\n601007376541,KALIEV M.,black\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		imports [][]string
	}{
		{"one import", [][]string{{list, persons}}},
		{"a list with a name column", [][]string{{named}, {persons}}},
		{"one import, list last", [][]string{{persons, list}}},
		{"two imports", [][]string{{list}, {persons}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "db")
			for _, files := range tc.imports {
				runCmd(t, append([]string{"import", "--db", db}, files...)...)
			}
			var e struct {
				Name  string            `json:"name"`
				Stub  bool              `json:"stub"`
				Props map[string]string `json:"properties"`
			}
			out := runCmd(t, "show", "--db", db, "--json", "iin:601007376541")
			if err := json.Unmarshal([]byte(out), &e); err != nil {
				t.Fatalf("show: %v\n%s", err, out)
			}
			if e.Stub || e.Props["list_status"] != "black" || e.Props["birth_date"] != "1960-10-07" {
				t.Fatalf("person %+v: want the full record with the list's status\n%s", e, out)
			}
		})
	}
}

// TestProfileInferImportNoLabels: `profile infer` on AMLSim's run100
// transactions proposes a transaction mapping; saved and given to `import
// --profile`, it imports every row with no reject, and no stored entity or
// transaction carries a label column (is_sar, alert_id).
func TestProfileInferImportNoLabels(t *testing.T) {
	file := filepath.Join(externalDir(t, "amlsim/run100-aiyazmiran"), "transactions.csv")
	y := runCmd(t, "profile", "infer", file)
	if !strings.Contains(y, "- txn:") || !strings.Contains(y, `- "is_sar"`) || !strings.Contains(y, `- "alert_id"`) {
		t.Fatalf("proposal is not a transaction mapping with is_sar and alert_id as labels:\n%s", y)
	}
	dir := t.TempDir()
	prof := filepath.Join(dir, "amlsim-run.yaml")
	if err := os.WriteFile(prof, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	db, rejects := filepath.Join(dir, "db"), filepath.Join(dir, "rejects.csv")
	runCmd(t, "import", "--db", db, "--rejects", rejects, "--profile", prof, file)
	if raw, err := os.ReadFile(rejects); err == nil && strings.Count(string(raw), "\n") > 1 {
		t.Fatalf("rejects:\n%s", raw)
	}
	var st struct {
		Batches []struct{ Read, Imported, Rejected int } `json:"batches"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "stats", "--db", db, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Batches) != 1 || st.Batches[0].Imported != 10333 || st.Batches[0].Rejected != 0 {
		t.Fatalf("batches %+v: want 10333 imported, 0 rejected", st.Batches)
	}
	dbf := dbFlags{dir: db}
	store, err := dbf.open(false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ents, txns := 0, 0
	label := func(props map[string]string) string {
		for k := range props {
			if k == "is_sar" || k == "alert_id" {
				return k
			}
		}
		return ""
	}
	err = store.ScanAll(context.Background(), func(e graph.Entity) error {
		ents++
		if l := label(e.Props); l != "" {
			return fmt.Errorf("entity %s has the label %s", e.Ref, l)
		}
		return nil
	}, nil, func(x graph.Txn) error {
		txns++
		if l := label(x.Props); l != "" {
			return fmt.Errorf("transaction %s has the label %s", x.ID, l)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if txns != 10333 || ents == 0 {
		t.Fatalf("%d entities, %d transactions stored; want accounts and 10333", ents, txns)
	}
}
