package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportAsList: a list without a list_status column is refused by a
// plain import (it does not say it is a list), and imported with --as list,
// its status taken from the file name.
func TestImportAsList(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "ofac.csv")
	if err := os.WriteFile(list, []byte("iin,reason\n601007376541,court order\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"import", "--db", db, list}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "ofac.csv") || !strings.Contains(err.Error(), "--as list") {
		t.Fatalf("plain import: %v, want a refusal naming the file and --as list", err)
	}
	runCmd(t, "import", "--db", db, "--as", "list", list)
	var e struct {
		Props map[string]string `json:"properties"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "show", "--db", db, "--json", "iin:601007376541")), &e); err != nil {
		t.Fatal(err)
	}
	if e.Props["list_status"] != "sanctioned" {
		t.Errorf("properties %v: want list_status sanctioned", e.Props)
	}
	if err := run(context.Background(), []string{"import", "--db", db, "--as", "persons", list}, &out, &errOut); err == nil {
		t.Error("--as persons accepted")
	}
}
