package profile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"casegraph/importers"
)

func TestInferStatement(t *testing.T) {
	var buf bytes.Buffer
	if err := writeStatement(&buf, 50); err != nil {
		t.Fatal(err)
	}
	y, err := Infer(bytes.NewReader(buf.Bytes()), "statement.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"encoding: windows-1251", `separator: ";"`, "header_line: 5", "{meta.account}",
		`amount: {debit: "{Дебет}", credit: "{Кредит}"}`, "format: dmy"} {
		if !strings.Contains(y, want) {
			t.Errorf("proposal lacks %q:\n%s", want, y)
		}
	}
	p, err := Parse([]byte(y))
	if err != nil {
		t.Fatalf("proposal does not parse: %v\n%s", err, y)
	}
	rep, err := p.Import(context.Background(), bytes.NewReader(buf.Bytes()), newSink(), Options{Options: importers.Options{Name: "statement.csv"}})
	if err != nil || !rep.Reconciles() || rep.Imported != 50 || rep.Skipped != 6 {
		t.Fatalf("import with the proposal: %+v, %v\n%s", rep, err, y)
	}
}

// TestInferSharedData proposes a profile for every public data file; each
// proposal must parse, never read a label column, and import reconciling.
func TestInferSharedData(t *testing.T) {
	root := sharedData(t, ".")
	files := []string{
		"amlsim/run100-aiyazmiran/transactions.csv", "amlsim/run100-aiyazmiran/accounts.csv",
		"amlsim/ibm-sample-outputs/cash_tx.csv", "amlworld-hi-small/transactions_sample.csv",
		"amlworld-hi-small/accounts_sample.csv", "berka-pkdd99/trans_first3MiB.asc", "berka-pkdd99/client.asc",
		"ibm-credit-card/User0_credit_card_transactions.csv", "ibm-credit-card/sd254_cards.csv",
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join(root, f)
			in, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			y, err := Infer(in, filepath.Base(path))
			in.Close()
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse([]byte(y))
			if err != nil {
				t.Fatalf("proposal does not parse: %v\n%s", err, y)
			}
			sink := newSink()
			rep := importPath(t, p, path, sink)
			if rep.Imported == 0 {
				t.Errorf("nothing imported with the proposal: %+v\n%s", rep.Rejects[:min(3, len(rep.Rejects))], y)
			}
			for _, x := range sink.txns {
				for k := range x.Props {
					if k == "is_sar" || k == "is_fraud" || k == "is_laundering" || k == "alert_id" {
						t.Fatalf("label %s read", k)
					}
				}
			}
		})
	}
}
