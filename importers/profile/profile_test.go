package profile

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
	"casegraph/importers"
)

// recSink records what an import sends.
type recSink struct {
	ents  map[graph.Ref]graph.Entity
	stubs int
	links []graph.Link
	txns  []graph.Txn
	ids   map[string]bool
}

func newSink() *recSink {
	return &recSink{ents: map[graph.Ref]graph.Entity{}, ids: map[string]bool{}}
}

func (s *recSink) PutEntity(e graph.Entity) error {
	if e.Stub {
		s.stubs++
		if _, ok := s.ents[e.Ref]; ok {
			return nil
		}
	}
	s.ents[e.Ref] = e
	return nil
}
func (s *recSink) PutLink(l graph.Link) error { s.links = append(s.links, l); return nil }
func (s *recSink) PutTxn(t graph.Txn) error {
	s.txns = append(s.txns, t)
	s.ids[t.ID] = true
	return nil
}

// sharedData returns a path under the public data sets directory — found
// through $CASEGRAPH_SHARED_DATA, then ../shared/data beside the module
// root, then /work/shared/data — or skips the test.
func sharedData(t *testing.T, sub string) string {
	t.Helper()
	var tried []string
	for _, dir := range []string{os.Getenv("CASEGRAPH_SHARED_DATA"), filepath.Join("..", "..", "..", "shared", "data"), "/work/shared/data"} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, sub)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		tried = append(tried, p)
	}
	t.Skipf("shared data set %s not available (tried %s; set CASEGRAPH_SHARED_DATA)", sub, strings.Join(tried, ", "))
	return ""
}

// dataRows counts the non-blank lines of a file after its first line.
func dataRows(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := -1
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n
}

// importPath imports one file through a profile and checks that the report
// reconciles and that every row of the file was read.
func importPath(t *testing.T, p *Profile, path string, sink *recSink) importers.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rejects bytes.Buffer
	dir := filepath.Dir(path)
	rep, err := p.Import(context.Background(), f, sink, Options{
		Options: importers.Options{Name: filepath.Base(path), Rejects: &rejects},
		Open:    func(name string) (io.ReadCloser, error) { return os.Open(filepath.Join(dir, name)) },
	})
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	if !rep.Reconciles() {
		t.Fatalf("%s: does not reconcile: %+v", path, rep)
	}
	if want := dataRows(t, path); rep.Read != want {
		t.Errorf("%s: read %d rows, the file has %d", path, rep.Read, want)
	}
	if got := strings.Count(rejects.String(), "\n"); got != rep.Rejected {
		t.Errorf("%s: %d reject lines written, report says %d", path, got, rep.Rejected)
	}
	return rep
}

func mustBuiltin(t *testing.T, name string) *Profile {
	t.Helper()
	p, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuiltinsParse(t *testing.T) {
	names := Builtins()
	want := []string{"amlsim", "amlworld", "bank-statement", "berka", "ibm-cards"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("builtins %v, want %v", names, want)
	}
	for _, n := range names {
		if _, err := Builtin(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := Builtin("nope"); err == nil {
		t.Error("unknown builtin should fail")
	}
}

func TestAMLSimRun100(t *testing.T) {
	dir := sharedData(t, "amlsim/run100-aiyazmiran")
	p := mustBuiltin(t, "amlsim")
	sink := newSink()
	acc := importPath(t, p, filepath.Join(dir, "accounts.csv"), sink)
	if acc.Imported != 100 || acc.Rejected != 0 || acc.Format != "amlsim-accounts" {
		t.Errorf("accounts: %+v", acc)
	}
	tx := importPath(t, p, filepath.Join(dir, "transactions.csv"), sink)
	if tx.Imported != 10333 || tx.Rejected != 0 || tx.Skipped != 0 {
		t.Errorf("transactions: imported %d rejected %d skipped %d", tx.Imported, tx.Rejected, tx.Skipped)
	}
	// Alert 0: 21 senders fan in to account 62.
	senders := map[string]bool{}
	for _, x := range sink.txns {
		if x.Props["is_sar"] != "" || x.Props["alert_id"] != "" {
			t.Fatalf("label leaked into props: %+v", x.Props)
		}
		if x.To.Key == "amlsim:62" && x.ID == "amlsim:1" {
			senders[x.From.Key] = true
		}
	}
	if !senders["amlsim:50"] {
		t.Errorf("transaction amlsim:1 should be 50 → 62")
	}
	e := sink.ents[graph.Ref{Kind: graph.KindAccount, Key: "amlsim:62"}]
	if e.Stub || e.Props["bank"] != "uae_bank" || e.Props["prior_sar_count"] != "" {
		t.Errorf("account 62 = %+v", e)
	}
	if first := sink.txns[0]; first.Amount != 23408 || first.Currency != "USD" || !first.Time.Equal(time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("first txn %+v", first)
	}
	if _, err := p.candidates("alert_transactions.csv"); err == nil {
		t.Error("alert files are ground truth and must have no mapping")
	}
}

func TestAMLSimSampleCash(t *testing.T) {
	dir := sharedData(t, "amlsim/ibm-sample-outputs")
	p := mustBuiltin(t, "amlsim")
	sink := newSink()
	acc := importPath(t, p, filepath.Join(dir, "accounts.csv"), sink)
	if acc.Imported != 30 || acc.Format != "amlsim-sample-accounts" {
		t.Errorf("accounts: %+v", acc)
	}
	tx := importPath(t, p, filepath.Join(dir, "tx.csv"), sink)
	if tx.Imported != 45 {
		t.Errorf("tx: %+v", tx)
	}
	n := len(sink.txns)
	cash := importPath(t, p, filepath.Join(dir, "cash_tx.csv"), sink)
	if cash.Imported != 88 || cash.Rejected != 0 {
		t.Errorf("cash: %+v", cash)
	}
	outs, ins := 0, 0
	for _, x := range sink.txns[n:] {
		if x.From.Key == "amlsim-sample:0" || x.To.Key == "amlsim-sample:0" {
			t.Fatalf("cash row %s hangs on account 0: %s → %s", x.ID, x.From, x.To)
		}
		switch x.Channel {
		case graph.ChannelCashOut:
			outs++
			if x.From != graph.CashRef || x.To.Kind != graph.KindATM || x.ATM == "" {
				t.Errorf("cash-out %s: %s → %s atm %q", x.ID, x.From, x.To, x.ATM)
			}
		case graph.ChannelTopup:
			ins++
			if x.From != graph.CashRef || x.To.Kind != graph.KindAccount {
				t.Errorf("cash-in %s: %s → %s", x.ID, x.From, x.To)
			}
		}
	}
	if outs != 80 || ins != 8 {
		t.Errorf("cash-out %d, cash-in %d; want 80 and 8", outs, ins)
	}
	// Step 1 is a day after the base.
	if got := sink.txns[n].Time; !got.Equal(time.Date(2017, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("step time = %s", got)
	}
}

func TestAMLworld(t *testing.T) {
	dir := sharedData(t, "amlworld-hi-small")
	p := mustBuiltin(t, "amlworld")
	sink := newSink()
	acc := importPath(t, p, filepath.Join(dir, "accounts_sample.csv"), sink)
	if acc.Imported != 1000 || acc.Rejected != 0 {
		t.Errorf("accounts: %+v", acc)
	}
	owners := map[graph.Ref]int{}
	for _, l := range sink.links {
		if l.Type == graph.LinkHolds {
			owners[l.From]++
		}
	}
	many, largest := 0, 0
	for _, n := range owners {
		if n >= 2 {
			many++
		}
		largest = max(largest, n)
	}
	if len(owners) != 855 || many != 46 || largest != 19 {
		t.Errorf("owners %d, with ≥2 accounts %d, largest %d; want 855, 46, 19", len(owners), many, largest)
	}
	tx := importPath(t, p, filepath.Join(dir, "transactions_sample.csv"), sink)
	if tx.Imported != 1000 || tx.Format != "amlworld-transactions" {
		t.Errorf("transactions: %+v", tx)
	}
	pat := importPath(t, p, filepath.Join(dir, "hi_small_pattern_transactions.csv"), sink)
	if pat.Imported != 3209 || pat.Rejected != 0 {
		t.Errorf("patterns: %+v rejects %v", pat, pat.Rejects)
	}
	last := sink.txns[len(sink.txns)-3209]
	// "021174" in the pattern file joins "21174" in the samples.
	if last.From.Key != "amlworld:21174:800737690" || last.Currency != "EUR" || last.Amount != 284896 {
		t.Errorf("first pattern txn %+v", last)
	}
	for _, x := range sink.txns {
		if _, ok := x.Props["is_laundering"]; ok {
			t.Fatal("label leaked")
		}
	}
}

func TestBerka(t *testing.T) {
	dir := sharedData(t, "berka-pkdd99")
	p := mustBuiltin(t, "berka")
	sink := newSink()
	want := map[string]int{"client.asc": 5369, "account.asc": 4500, "disp.asc": 5369, "card.asc": 892, "trans_first3MiB.asc": 49102}
	for _, f := range []string{"client.asc", "account.asc", "disp.asc", "card.asc", "trans_first3MiB.asc"} {
		rep := importPath(t, p, filepath.Join(dir, f), sink)
		if rep.Imported != want[f] || rep.Rejected != 0 {
			t.Errorf("%s: imported %d rejected %d, want %d; rejects %v", f, rep.Imported, rep.Rejected, want[f], rep.Rejects)
		}
	}
	c1 := sink.ents[graph.Ref{Kind: graph.KindPerson, Key: "berka:1"}]
	if c1.Props["birth_date"] != "1970-12-13" || c1.Props["sex"] != "F" {
		t.Errorf("client 1 (706213) = %+v", c1.Props)
	}
	c2 := sink.ents[graph.Ref{Kind: graph.KindPerson, Key: "berka:2"}]
	if c2.Props["birth_date"] != "1945-02-04" || c2.Props["sex"] != "M" {
		t.Errorf("client 2 (450204) = %+v", c2.Props)
	}
	// Card 1005 hangs off disposition 9285: its holder holds it and it is
	// card_of the disposition's account.
	card := graph.Ref{Kind: graph.KindCard, Key: "berka:1005"}
	var holder, acct graph.Ref
	for _, l := range sink.links {
		if l.To == card && l.Type == graph.LinkHolds {
			holder = l.From
		}
		if l.From == card && l.Type == graph.LinkCardOf {
			acct = l.To
		}
	}
	if holder.Kind != graph.KindPerson || acct.Kind != graph.KindAccount {
		t.Fatalf("card 1005: holder %v account %v", holder, acct)
	}
	owns := false
	for _, l := range sink.links {
		if l.From == holder && l.To == acct && l.Type == graph.LinkHolds && l.Role == "owner" {
			owns = true
		}
	}
	if !owns {
		t.Errorf("card holder %s should own account %s", holder, acct)
	}
	var cashOut, ext, toAcct0 int
	for _, x := range sink.txns {
		if x.To.Key == "berka-ext::0" || x.From.Key == "berka-ext::0" {
			toAcct0++
		}
		if x.Channel == graph.ChannelCashOut && x.To == graph.CashRef {
			cashOut++
		}
		if strings.HasPrefix(x.To.Key, "berka-ext:") || strings.HasPrefix(x.From.Key, "berka-ext:") {
			ext++
		}
	}
	if toAcct0 != 0 || ext != 10115 || cashOut == 0 {
		t.Errorf("placeholder counterparties %d, external transfers %d (want 10115), cash-outs %d", toAcct0, ext, cashOut)
	}
	first := sink.txns[len(sink.txns)-49102]
	if first.ID != "berka:695247" || first.From != graph.CashRef || first.To.Key != "berka:2378" || first.Amount != 70000 || first.Currency != "CZK" {
		t.Errorf("first trans %+v", first)
	}
}

func TestIBMCards(t *testing.T) {
	dir := sharedData(t, "ibm-credit-card")
	p := mustBuiltin(t, "ibm-cards")
	sink := newSink()
	u := importPath(t, p, filepath.Join(dir, "sd254_users.csv"), sink)
	c := importPath(t, p, filepath.Join(dir, "sd254_cards.csv"), sink)
	tx := importPath(t, p, filepath.Join(dir, "User0_credit_card_transactions.csv"), sink)
	if u.Imported != 2000 || c.Imported != 6146 || tx.Imported != 19963 || u.Rejected+c.Rejected+tx.Rejected != 0 {
		t.Fatalf("users %+v cards %+v tx %+v", u, c, tx)
	}
	hazel := sink.ents[graph.Ref{Kind: graph.KindPerson, Key: "ibm:0"}]
	if hazel.Name != "Hazel Robinson" {
		t.Errorf("user 0 = %+v", hazel)
	}
	held := 0
	for _, l := range sink.links {
		if l.From.Key == "ibm:0" && l.Type == graph.LinkHolds {
			held++
		}
	}
	neg := 0
	for _, x := range sink.txns {
		if x.Amount < 0 {
			neg++
		}
		if x.Props["is fraud?"] != "" {
			t.Fatal("label leaked")
		}
	}
	if held != 5 || neg != 650 {
		t.Errorf("user 0 holds %d cards (want 5); %d refunds kept (want 650)", held, neg)
	}
	first := sink.txns[0]
	if first.From.Key != "ibm:0:0" || first.Amount != 13409 || first.To.Key != "ibm-merchant:3527213246127876953" ||
		!first.Time.Equal(time.Date(2002, 9, 1, 6, 21, 0, 0, time.UTC)) {
		t.Errorf("first txn %+v", first)
	}
}
