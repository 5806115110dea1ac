package profile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// TestInferSharedData proposes a profile for every CSV of the AMLSim,
// AMLworld and IBM credit card data sets and a few Berka files; each
// proposal must parse, import every row with no reject, and read no label
// column. The transfer files get a transaction mapping.
func TestInferSharedData(t *testing.T) {
	root := sharedData(t, ".")
	var files []string
	for _, dir := range []string{"amlsim", "amlworld-hi-small", "ibm-credit-card"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".csv") {
				rel, _ := filepath.Rel(root, p)
				files = append(files, rel)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 20 {
		t.Fatalf("only %d CSV files under %s", len(files), root)
	}
	files = append(files, "berka-pkdd99/trans_first3MiB.asc", "berka-pkdd99/client.asc")
	transfers := map[string]bool{"transactions.csv": true, "alert_transactions.csv": true, "tx.csv": true, "cash_tx.csv": true,
		"transactions_sample.csv": true, "hi_small_pattern_transactions.csv": true, "User0_credit_card_transactions.csv": true,
		"trans_first3MiB.asc": true}
	labels := map[string][]string{
		"amlsim/run100-aiyazmiran/transactions.csv":           {"is_sar", "alert_id"},
		"amlsim/run100-aiyazmiran/accounts.csv":               {"prior_sar_count"},
		"amlsim/ibm-sample-outputs/accounts.csv":              {"suspicious", "isFraud"},
		"amlworld-hi-small/transactions_sample.csv":           {"is_laundering"},
		"amlworld-hi-small/hi_small_pattern_transactions.csv": {"typology", "typology_detail", "Is Laundering"},
		"ibm-credit-card/User0_credit_card_transactions.csv":  {"Is Fraud?"},
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join(root, f)
			y, p := inferFile(t, path)
			if transfers[filepath.Base(f)] != strings.Contains(y, "- txn:") {
				t.Errorf("transaction mapping: %v, want %v:\n%s", !transfers[filepath.Base(f)], transfers[filepath.Base(f)], y)
			}
			for _, l := range labels[filepath.ToSlash(f)] {
				if !slices.Contains(p.Labels, l) {
					t.Errorf("labels %v lack %s", p.Labels, l)
				}
			}
			sink := newSink()
			rep := importPath(t, p, path, sink)
			if rep.Imported == 0 || rep.Rejected != 0 {
				t.Errorf("imported %d, rejected %d with the proposal: %+v\n%s", rep.Imported, rep.Rejected, rep.Rejects[:min(3, len(rep.Rejects))], y)
			}
			noLabels(t, sink, append(slices.Clone(p.Labels), "is_sar", "is_fraud", "is_laundering", "alert_id", "isfraud")...)
		})
	}
}

// writeEdgeList writes an edge list as graph data sets publish them:
// source, target, value, time (simulation steps), a fraudStep label set
// only on the rows of fraud accounts, and a neutrally named marker set on
// a few rows past the first 200 only (a label found by its content).
func writeEdgeList(t *testing.T, rows int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("sourceNodeId,targetNodeId,value,time,fraudStep,mark\n")
	for i := range rows {
		src, dst := i%37+1, (i*7)%41+100
		fraud, mark := "", "0"
		if src == 5 {
			fraud = strconv.Itoa(i / 10)
		}
		if i > 220 && i%50 == 0 {
			mark = "1"
		}
		fmt.Fprintf(&b, "%d,%d,%d.%02d,%d,%s,%s\n", src, dst, 10+i%900, i%100, i/10, fraud, mark)
	}
	path := filepath.Join(t.TempDir(), "edges.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// inferFile proposes a profile for a file and parses it.
func inferFile(t *testing.T, path string) (string, *Profile) {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	y, err := Infer(in, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse([]byte(y))
	if err != nil {
		t.Fatalf("proposal does not parse: %v\n%s", err, y)
	}
	return y, p
}

// noLabels fails when a record holds a property named like a label.
func noLabels(t *testing.T, sink *recSink, labels ...string) {
	t.Helper()
	bad := map[string]bool{}
	for _, l := range labels {
		bad[propName(l)] = true
	}
	for _, x := range sink.txns {
		for k := range x.Props {
			if bad[k] {
				t.Fatalf("label %s imported on transaction %s", k, x.ID)
			}
		}
	}
	for _, e := range sink.ents {
		for k := range e.Props {
			if bad[k] {
				t.Fatalf("label %s imported on entity %s", k, e.Ref)
			}
		}
	}
}

// TestInferEdgeList: an edge list gets a transaction mapping, not an
// entity one, and its label columns go under labels:, so importing with
// the proposal imports every row and no label.
func TestInferEdgeList(t *testing.T) {
	path := writeEdgeList(t, 400)
	y, p := inferFile(t, path)
	for _, want := range []string{"- txn:", `from: {kind: auto, fallback: account, key: "edges:{sourceNodeId}"}`,
		`to: {kind: auto, fallback: account, key: "edges:{targetNodeId}"}`, `amount: {value: "{value}"`,
		`time: {value: "{time}", format: step`, `- "fraudStep" # named like a label`, `- "mark" # CHECK: set on 3 of 400 rows`} {
		if !strings.Contains(y, want) {
			t.Errorf("proposal lacks %q:\n%s", want, y)
		}
	}
	if strings.Contains(y, "- entity:") || strings.Contains(y, `"{fraudStep}"`) || strings.Contains(y, `"{mark}"`) {
		t.Errorf("proposal maps an entity or reads a label:\n%s", y)
	}
	if want := []string{"fraudStep", "mark"}; !slices.Equal(p.Labels, want) {
		t.Errorf("labels %v, want %v", p.Labels, want)
	}
	sink := newSink()
	rep := importPath(t, p, path, sink)
	if rep.Imported != 400 || rep.Rejected != 0 || len(sink.txns) != 400 {
		t.Fatalf("imported %d, rejected %d, %d transactions; want 400, 0, 400: %+v", rep.Imported, rep.Rejected, len(sink.txns), rep.Rejects[:min(3, len(rep.Rejects))])
	}
	noLabels(t, sink, "fraudStep", "mark")

	// Without header words: two identifier columns, an amount and a time.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "plain.csv")
	data := strings.Replace(string(raw), "sourceNodeId,targetNodeId,value,time", "a_id,b_id,v,timestamp", 1)
	if err := os.WriteFile(plain, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	y, p = inferFile(t, plain)
	for _, want := range []string{"- txn:", `key: "plain:{a_id}"} # CHECK (chosen by content)`, `key: "plain:{b_id}"} # CHECK (chosen by content)`,
		`amount: {value: "{v}"`} {
		if !strings.Contains(y, want) {
			t.Errorf("proposal lacks %q:\n%s", want, y)
		}
	}
	sink = newSink()
	if rep := importPath(t, p, plain, sink); rep.Imported != 400 {
		t.Fatalf("plain edge list: %+v", rep)
	}
	noLabels(t, sink, "fraudStep", "mark")
}

// TestInferLabelNames: headers named like labels, and those that are not.
func TestInferLabelNames(t *testing.T) {
	for _, h := range []string{"is_sar", "isFraud", "Is Fraud?", "Is Laundering", "fraudStep", "FRAUD_STEP", "alert_id",
		"ALERT_KEY", "prior_sar_count", "label", "y_label", "isFlaggedFraud", "typology", "is_active"} {
		if !labelName(h) {
			t.Errorf("%q is not taken for a label", h)
		}
	}
	for _, h := range []string{"sarah", "amount", "Card on Dark Web", "island", "tran_id", "time", "sourceNodeId"} {
		if labelName(h) {
			t.Errorf("%q is taken for a label", h)
		}
	}
}

// TestInferAMLSimRun: the proposal for AMLSim's run100 transactions maps
// transactions, lists is_sar and alert_id as labels, imports every row with
// no reject and reads no label.
func TestInferAMLSimRun(t *testing.T) {
	path := sharedData(t, "amlsim/run100-aiyazmiran/transactions.csv")
	y, p := inferFile(t, path)
	if !strings.Contains(y, "- txn:") || !slices.Contains(p.Labels, "is_sar") || !slices.Contains(p.Labels, "alert_id") {
		t.Fatalf("proposal:\n%s", y)
	}
	sink := newSink()
	rep := importPath(t, p, path, sink)
	if rep.Rejected != 0 || rep.Imported != 10333 || len(sink.txns) != 10333 {
		t.Fatalf("imported %d, rejected %d: %+v", rep.Imported, rep.Rejected, rep.Rejects[:min(3, len(rep.Rejects))])
	}
	noLabels(t, sink, "is_sar", "alert_id")
}
