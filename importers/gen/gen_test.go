package gen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
	"casegraph/importers"
)

// generateTiny writes the tiny world for seed into a fresh directory.
func generateTiny(t *testing.T, seed int64) (string, Summary) {
	t.Helper()
	dir := t.TempDir()
	sum, err := Generate(context.Background(), dir, Config{Seed: seed, Scale: scaleTiny}, nil)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return dir, sum
}

// readCSV returns the header and the rows of a generated file.
func readCSV(t *testing.T, dir, name string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(all) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return all[0], all[1:]
}

// column returns the values of one column by header name.
func column(t *testing.T, header []string, rows [][]string, name string) []string {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("no column %q in %v", name, header)
	}
	out := make([]string, len(rows))
	for j, r := range rows {
		out[j] = r[i]
	}
	return out
}

func readTruth(t *testing.T, dir string) truth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, fileTruth))
	if err != nil {
		t.Fatal(err)
	}
	var tr truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("ground truth: %v", err)
	}
	return tr
}

func TestParseScale(t *testing.T) {
	for in, want := range map[string]Scale{"small": ScaleSmall, " Medium ": ScaleMedium, "LARGE": ScaleLarge, "xlarge": ScaleXLarge} {
		got, err := ParseScale(in)
		if err != nil || got != want {
			t.Errorf("ParseScale(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "tiny", "huge"} {
		if _, err := ParseScale(in); err == nil {
			t.Errorf("ParseScale(%q) accepted", in)
		}
	}
	// xlarge is three large demos over the same days (issue #14: how cost
	// grows from 10M to 30M transactions).
	l, _ := paramsFor(ScaleLarge)
	x, err := paramsFor(ScaleXLarge)
	if err != nil || x.txns != 3*l.txns || x.persons != 3*l.persons || x.groups != 3*l.groups || x.days != l.days {
		t.Errorf("xlarge params %+v (%v), want three times large %+v over the same days", x, err, l)
	}
}

func TestDeterministic(t *testing.T) {
	a, sa := generateTiny(t, 42)
	b, sb := generateTiny(t, 42)
	c, _ := generateTiny(t, 43)
	if sa.Transactions != sb.Transactions || sa.Persons != sb.Persons || sa.Planted != sb.Planted {
		t.Fatalf("summaries differ: %+v vs %+v", sa, sb)
	}
	for _, name := range []string{filePersons, fileCards, fileExchanges, fileGroups, fileMemberships, fileTxns, fileTruth} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
		z, err := os.ReadFile(filepath.Join(c, name))
		if err != nil {
			t.Fatal(err)
		}
		if name != fileExchanges && bytes.Equal(x, z) {
			t.Errorf("%s is identical for seeds 42 and 43", name)
		}
	}
}

// The headers are those of docs/FORMATS.md: every example header there is
// read from the document and must equal ours (persons.csv adds residency).
func TestHeadersMatchFormats(t *testing.T) {
	doc, err := os.ReadFile("../../docs/FORMATS.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := map[string][]string{} // keyed by the first two columns
	sc := bufio.NewScanner(bytes.NewReader(doc))
	inCSV, first := false, false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "```csv":
			inCSV, first = true, true
		case strings.HasPrefix(line, "```"):
			inCSV = false
		case inCSV && first:
			cols := strings.Split(line, ",")
			examples[cols[0]+","+cols[1]] = cols
			first = false
		}
	}
	ours := map[string][]string{filePersons: headPersons, fileCards: headCards, fileExchanges: headExchanges,
		fileGroups: headGroups, fileMemberships: headMemberships, fileTxns: headTxns}
	dir, _ := generateTiny(t, 1)
	for name, want := range ours {
		header, _ := readCSV(t, dir, name)
		if !slices.Equal(header, want) {
			t.Errorf("%s header %v, want %v", name, header, want)
		}
		doc := examples[want[0]+","+want[1]]
		if doc == nil {
			t.Errorf("%s: no example header in FORMATS.md starting %s,%s", name, want[0], want[1])
			continue
		}
		got := header
		if name == filePersons {
			got = header[:len(header)-1] // residency is our extra property column
		}
		if !slices.Equal(got, doc) {
			t.Errorf("%s header %v, FORMATS.md has %v", name, got, doc)
		}
		f, err := importers.Detect(header)
		if err != nil {
			t.Errorf("%s: importers do not recognise the header: %v", name, err)
		} else if string(f)+".csv" != name {
			t.Errorf("%s detected as %s", name, f)
		}
	}
}

// Every identifier written validates with the importers' own normalisers,
// and normalisation does not change the canonical ones.
func TestIdentifiersValidate(t *testing.T) {
	dir, _ := generateTiny(t, 5)

	h, rows := readCSV(t, dir, filePersons)
	iins := map[string]bool{}
	phoneForms := map[string]bool{}
	var kazakh, latin, russian int
	for i, iin := range column(t, h, rows, "iin") {
		if n, err := importers.NormalizeIIN(iin); err != nil || n != iin {
			t.Errorf("persons line %d: iin %q: %v", i+2, iin, err)
		}
		if iins[iin] {
			t.Errorf("persons line %d: iin %s repeats", i+2, iin)
		}
		iins[iin] = true
		birth := rows[i][slices.Index(h, "birth_date")]
		if _, err := importers.ParseDate(birth); err != nil {
			t.Errorf("persons line %d: %v", i+2, err)
		} else if birth[2:4]+birth[5:7]+birth[8:10] != iin[:6] {
			t.Errorf("persons line %d: iin %s does not start with birth date %s", i+2, iin, birth)
		}
		name := rows[i][slices.Index(h, "name")]
		switch {
		case strings.ContainsAny(name, "ӘҒҚҢӨҰҮІәғқңөұүі"):
			kazakh++
		case strings.ToUpper(name) == name && !strings.ContainsAny(name, "АЕИОУЫЭЮЯ"):
			latin++
		default:
			russian++
		}
	}
	if kazakh == 0 || latin == 0 || russian == 0 {
		t.Errorf("name mix: %d with Kazakh letters, %d Latin, %d other Cyrillic", kazakh, latin, russian)
	}
	for i, p := range column(t, h, rows, "phone") {
		if p == "" {
			continue
		}
		if _, err := importers.NormalizePhone(p); err != nil {
			t.Errorf("persons line %d: %v", i+2, err)
		}
		phoneForms[strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return 'd'
			}
			return r
		}, p)] = true
	}
	if len(phoneForms) < 3 {
		t.Errorf("phones written in only %d forms: %v", len(phoneForms), phoneForms)
	}

	h, rows = readCSV(t, dir, fileCards)
	for i, r := range rows {
		pan, iban := r[slices.Index(h, "pan")], r[slices.Index(h, "iban")]
		if n, err := importers.NormalizePAN(pan); err != nil || n != pan {
			t.Errorf("cards line %d: pan %q: %v", i+2, pan, err)
		}
		if n, err := importers.NormalizeIBAN(iban); err != nil || n != iban {
			t.Errorf("cards line %d: iban %q: %v", i+2, iban, err)
		}
		issuer := r[slices.Index(h, "bank")]
		bi := slices.IndexFunc(banks, func(b bank) bool { return b.name == issuer })
		if bi < 0 || iban[4:7] != banks[bi].code {
			t.Errorf("cards line %d: iban %s does not carry the code of %s", i+2, iban, issuer)
		}
		if !iins[r[slices.Index(h, "holder_iin")]] {
			t.Errorf("cards line %d: holder not in persons.csv", i+2)
		}
	}

	h, rows = readCSV(t, dir, fileTxns)
	loc := importers.Almaty()
	for i, r := range rows {
		line := i + 2
		for _, col := range []string{"from", "to"} {
			if _, err := importers.ParseRef(r[slices.Index(h, col)]); err != nil {
				t.Errorf("transactions line %d: %s: %v", line, col, err)
			}
		}
		if a, err := importers.ParseAmount(r[slices.Index(h, "amount")]); err != nil || a <= 0 {
			t.Errorf("transactions line %d: amount %q: %v", line, r[slices.Index(h, "amount")], err)
		}
		if _, err := importers.ParseTime(r[slices.Index(h, "time")], loc); err != nil {
			t.Errorf("transactions line %d: %v", line, err)
		}
		if _, err := graph.ParseChannel(r[slices.Index(h, "channel")]); err != nil {
			t.Errorf("transactions line %d: %v", line, err)
		}
		if p := r[slices.Index(h, "iin_provided")]; p != "" && p != "no" {
			if _, err := importers.NormalizeIIN(p); err != nil {
				t.Errorf("transactions line %d: iin_provided: %v", line, err)
			}
		}
		if i > 0 && r[slices.Index(h, "time")] < rows[i-1][slices.Index(h, "time")] {
			t.Errorf("transactions line %d: out of time order", line)
		}
	}
}

// countingSink counts what the importers send and fails on nothing.
type countingSink struct{ entities, links, txns int }

func (s *countingSink) PutEntity(graph.Entity) error { s.entities++; return nil }
func (s *countingSink) PutLink(graph.Link) error     { s.links++; return nil }
func (s *countingSink) PutTxn(graph.Txn) error       { s.txns++; return nil }

// Every generated row imports through the real importers without a reject.
func TestImportsCleanly(t *testing.T) {
	dir, sum := generateTiny(t, 9)
	want := map[string]int{filePersons: sum.Persons, fileCards: sum.Cards, fileExchanges: sum.Exchanges,
		fileGroups: sum.Groups, fileTxns: sum.Transactions}
	var sink countingSink
	for _, name := range []string{filePersons, fileCards, fileExchanges, fileGroups, fileMemberships, fileTxns} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := importers.ImportReader(context.Background(), f, &sink, importers.Options{Name: name, Batch: 1})
		f.Close()
		if err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
		if rep.Rejected != 0 {
			t.Errorf("import %s: %d rejected, first: %+v", name, rep.Rejected, rep.Rejects[0])
		}
		if n, ok := want[name]; ok && rep.Read != n {
			t.Errorf("import %s: read %d rows, summary says %d", name, rep.Read, n)
		}
	}
	if sink.txns != sum.Transactions {
		t.Errorf("sink got %d transactions, want %d", sink.txns, sum.Transactions)
	}
}

// Everything the ground truth names exists in the files.
func TestGroundTruthReferences(t *testing.T) {
	dir, sum := generateTiny(t, 11)
	tr := readTruth(t, dir)
	if tr.Seed != 11 || tr.Scale != scaleTiny || len(tr.Groups) != sum.Groups || sum.Groups == 0 {
		t.Fatalf("truth header: seed %d scale %q groups %d (summary %d)", tr.Seed, tr.Scale, len(tr.Groups), sum.Groups)
	}
	set := func(name, col string) map[string]bool {
		h, rows := readCSV(t, dir, name)
		m := map[string]bool{}
		for _, v := range column(t, h, rows, col) {
			m[v] = true
		}
		return m
	}
	persons, cards, exchanges, groups := set(filePersons, "iin"), set(fileCards, "pan"), set(fileExchanges, "exchange_id"), set(fileGroups, "group_id")
	h, rows := readCSV(t, dir, fileTxns)
	used := map[string]bool{}
	for _, r := range rows {
		used[r[slices.Index(h, "from")]] = true
		used[r[slices.Index(h, "to")]] = true
		used["atm_id:"+r[slices.Index(h, "atm_id")]] = true
	}
	mh, mrows := readCSV(t, dir, fileMemberships)
	members := map[string]bool{}
	for _, r := range mrows {
		members[r[slices.Index(mh, "group_id")]+"/"+r[slices.Index(mh, "member")]] = true
	}
	mules := 0
	for _, g := range tr.Groups {
		if !groups[g.GroupID] {
			t.Errorf("group %s not in groups.csv", g.GroupID)
		}
		if !slices.IsSorted(g.Members) || !slices.IsSorted(g.Cards) || !slices.IsSorted(g.Typologies) {
			t.Errorf("group %s: lists are not sorted", g.GroupID)
		}
		if len(g.Members) < 6 || len(g.Typologies) < 4 {
			t.Errorf("group %s: %d members, typologies %v", g.GroupID, len(g.Members), g.Typologies)
		}
		for _, m := range g.Members {
			if !persons[m] || !members[g.GroupID+"/"+m] {
				t.Errorf("group %s: member %s missing from persons.csv or memberships.csv", g.GroupID, m)
			}
		}
		active := 0
		for _, c := range g.Cards {
			if !cards[c] {
				t.Errorf("group %s: card %s not in cards.csv", g.GroupID, c)
			}
			if used["card:"+c] {
				active++
			}
		}
		if active < 3 {
			t.Errorf("group %s: only %d of its cards transact", g.GroupID, active)
		}
		for _, e := range g.Exchanges {
			if !exchanges[e] || !used["exchange:"+e] {
				t.Errorf("group %s: exchange %s not in exchanges.csv or never used", g.GroupID, e)
			}
		}
		for _, a := range g.ATMs {
			if !used["atm_id:"+a] {
				t.Errorf("group %s: atm %s never used", g.GroupID, a)
			}
		}
	}
	for _, c := range tr.MuleCards {
		if !cards[c] {
			t.Errorf("mule card %s not in cards.csv", c)
		}
		if used["card:"+c] {
			mules++
		}
	}
	if !slices.IsSorted(tr.MuleCards) || mules == 0 {
		t.Errorf("mule cards: sorted %v, %d of %d transact", slices.IsSorted(tr.MuleCards), mules, len(tr.MuleCards))
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, t.TempDir(), Config{Seed: 1, Scale: scaleTiny}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before start: err = %v", err)
	}

	// Cancel half way through the transactions.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var last int64
	_, err := Generate(ctx, t.TempDir(), Config{Seed: 1, Scale: scaleTiny}, func(done, total int64) {
		if done > total/2 {
			cancel()
		}
		last = done
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled mid-way: err = %v", err)
	}
	if last == 0 {
		t.Fatal("no progress was reported before cancellation")
	}
}

func TestProgressAndSummary(t *testing.T) {
	dir := t.TempDir()
	var calls, last, total int64
	sum, err := Generate(context.Background(), dir, Config{Seed: 3, Scale: scaleTiny, Start: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)},
		func(done, tot int64) {
			if done < last || (total != 0 && tot != total) {
				t.Errorf("progress went from %d/%d to %d/%d", last, total, done, tot)
			}
			calls++
			last, total = done, tot
		})
	if err != nil {
		t.Fatal(err)
	}
	if calls < 5 || last != total {
		t.Errorf("progress: %d calls, ended at %d of %d", calls, last, total)
	}
	if len(sum.Files) != 7 {
		t.Errorf("files: %v", sum.Files)
	}
	rows := func(name string) int { _, r := readCSV(t, dir, name); return len(r) }
	_, members := readCSV(t, dir, fileMemberships)
	if got := int64(sum.Persons + sum.Cards + sum.Exchanges + sum.Groups + len(members) + sum.Transactions); got != total {
		t.Errorf("summary rows %d, progress total %d", got, total)
	}
	for name, n := range map[string]int{filePersons: sum.Persons, fileCards: sum.Cards, fileExchanges: sum.Exchanges,
		fileGroups: sum.Groups, fileTxns: sum.Transactions} {
		if rows(name) != n {
			t.Errorf("%s has %d rows, summary says %d", name, rows(name), n)
		}
	}
	if sum.Transactions != 3000 || sum.Planted == 0 || sum.Planted >= sum.Transactions {
		t.Errorf("transactions %d, planted %d", sum.Transactions, sum.Planted)
	}
	h, txns := readCSV(t, dir, fileTxns)
	times := column(t, h, txns, "time")
	if !strings.HasPrefix(times[0], "2025-06-01 ") || !strings.HasPrefix(times[len(times)-1], "2025-06-21 ") {
		t.Errorf("times run from %s to %s, want 2025-06-01 … 2025-06-21", times[0], times[len(times)-1])
	}
}

func BenchmarkGenerateSmall(b *testing.B) {
	dir := b.TempDir()
	var rows int
	for b.Loop() {
		sum, err := Generate(context.Background(), dir, Config{Seed: 1, Scale: ScaleSmall}, nil)
		if err != nil {
			b.Fatal(err)
		}
		rows = sum.Persons + sum.Cards + sum.Transactions
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
