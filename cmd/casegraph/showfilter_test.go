package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"casegraph/graph"
)

// shownTxns is the part of show --json these tests read.
type shownTxns struct {
	Txns []struct {
		ID       string `json:"tx_id"`
		Time     string `json:"time"`
		From     string `json:"from"`
		To       string `json:"to"`
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
		Via      string `json:"via"`
	} `json:"transactions"`
	Total  int               `json:"transactions_total"`
	In     string            `json:"in"`
	Out    string            `json:"out"`
	Filter map[string]string `json:"transactions_filter"`
}

func showTxns(t *testing.T, args ...string) shownTxns {
	t.Helper()
	var s shownTxns
	if err := json.Unmarshal([]byte(runCmd(t, append([]string{"show", "--json", "--limit", "0"}, args...)...)), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// bandFixture is the canonical fixtures and 80 more transactions of the
// two cards iin:850312300002 holds, at amounts around 450,000–500,000 ₸
// (the ends included), some in dollars, over March and April.
func bandFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("tx_id,time,from,to,amount,currency,channel,atm_id,device_id,ip,iin_provided,app_confirmed,reference\n")
	cards := []string{"card:4400430000000015", "card:4400431234567894"}
	amounts := []string{"300000", "449999.99", "450000", "470000", "499999.99", "500000", "650000"}
	for i := range 80 {
		from, to, ch := "cash", cards[i%2], "topup"
		if i%3 == 0 {
			from, to, ch = cards[i%2], "exchange:EX-0001", "trade"
		}
		cur := "KZT"
		if i%7 == 3 {
			cur = "USD"
		}
		at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 17 * time.Hour)
		fmt.Fprintf(&b, "B%03d,%s,%s,%s,%s,%s,%s,,,,,,\n", i, at.Format(time.RFC3339), from, to, amounts[i%len(amounts)], cur, ch)
	}
	extra := filepath.Join(dir, "band.csv")
	if err := os.WriteFile(extra, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "canonical"), extra)
	return db
}

// bandOracle filters show's unfiltered listing of owner as the flags say
// and adds up the totals: rows seen from their instrument (via) or owner.
func bandOracle(t *testing.T, all shownTxns, owner string, from, to time.Time, lo, hi int64, cur string) (map[string]bool, int64, int64) {
	t.Helper()
	rows := map[string]bool{}
	var in, out int64
	for _, x := range all.Txns {
		at, err := time.Parse(time.RFC3339, x.Time)
		if err != nil {
			t.Fatal(err)
		}
		amt, err := graph.ParseMajorAmount(x.Amount)
		if err != nil {
			t.Fatal(err)
		}
		q := graph.TxQuery{MinAmount: lo, MaxAmount: hi, Currency: cur}
		if (!from.IsZero() && at.Before(from)) || (!to.IsZero() && !at.Before(to)) || !q.Keeps(amt, x.Currency) {
			continue
		}
		seen := owner
		if x.Via != "" {
			seen = x.Via
		}
		rows[x.ID+"|"+x.Via+"|"+fmt.Sprint(x.To == seen)] = true
		if x.To == seen {
			in += amt
		} else {
			out += amt
		}
	}
	return rows, in, out
}

// show --min-amount/--max-amount/--currency/--from/--to list only the
// transactions in the band and range, with the totals over them, for one
// card and for the person holding two (their merged listing); the JSON says
// what was kept, the text heading too.
func TestShowFiltersTransactions(t *testing.T) {
	db := bandFixture(t)
	almaty, _ := time.LoadLocation("Asia/Almaty")
	for _, ref := range []string{"card:4400430000000015", "iin:850312300002"} {
		all := showTxns(t, "--db", db, ref)
		if all.Total < 40 || len(all.Txns) != all.Total {
			t.Fatalf("%s: %d of %d rows unfiltered", ref, len(all.Txns), all.Total)
		}
		for _, c := range []struct {
			args     []string
			from, to time.Time
			lo, hi   int64
			cur      string
		}{
			{args: []string{"--min-amount", "450k", "--max-amount", "500000"}, lo: 450_000_00, hi: 500_000_00},
			{args: []string{"--min-amount", "450000", "--max-amount", "0.5m", "--currency", "kzt"}, lo: 450_000_00, hi: 500_000_00, cur: "KZT"},
			{args: []string{"--min-amount", "499999.99"}, lo: 499_999_99},
			{args: []string{"--max-amount", "450k", "--from", "2025-03-10", "--to", "2025-04-01"}, hi: 450_000_00,
				from: time.Date(2025, 3, 10, 0, 0, 0, 0, almaty), to: time.Date(2025, 4, 1, 0, 0, 0, 0, almaty)},
			{args: []string{"--min-amount", "450k", "--max-amount", "500k", "--from", "2025-03-20T09:00:00Z"}, lo: 450_000_00, hi: 500_000_00,
				from: time.Date(2025, 3, 20, 9, 0, 0, 0, time.UTC)},
		} {
			want, in, out := bandOracle(t, all, ref, c.from, c.to, c.lo, c.hi, c.cur)
			if len(want) == 0 || len(want) == all.Total {
				t.Fatalf("%s %v keeps %d of %d rows: not a test", ref, c.args, len(want), all.Total)
			}
			got := showTxns(t, append([]string{"--db", db, ref}, c.args...)...)
			if got.Total != len(want) || len(got.Txns) != len(want) || got.In != decimal(in) || got.Out != decimal(out) {
				t.Errorf("%s %v: %d rows of %d, in %s out %s; want %d, in %s out %s", ref, c.args, len(got.Txns), got.Total,
					got.In, got.Out, len(want), decimal(in), decimal(out))
			}
			for _, x := range got.Txns {
				seen := ref
				if x.Via != "" {
					seen = x.Via
				}
				if k := x.ID + "|" + x.Via + "|" + fmt.Sprint(x.To == seen); !want[k] {
					t.Errorf("%s %v: row %s is not in the band and range", ref, c.args, k)
				}
			}
			if got.Filter == nil || (c.lo != 0 && got.Filter["min_amount"] != decimal(c.lo)) || got.Filter["currency"] != c.cur {
				t.Errorf("%s %v: filter %v", ref, c.args, got.Filter)
			}
		}
	}
	text := runCmd(t, "show", "--db", db, "card:4400430000000015", "--min-amount", "450k", "--max-amount", "500k", "--to", "2025-04-01")
	if !strings.Contains(text, " · before 2025-04-01 00:00 · amounts 450k–500k\n") {
		t.Errorf("the heading does not say what was kept:\n%s", text)
	}
	if plain := showTxns(t, "--db", db, "card:4400430000000015"); plain.Filter != nil {
		t.Errorf("no flags, yet a filter: %v", plain.Filter)
	}
}

// A band or range that does not parse, or is empty, is a usage error that
// says how to write it.
func TestShowFilterFlagsStrict(t *testing.T) {
	db := fixtureDB(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--min-amount", "450,000"}, "no thousands separators"},
		{[]string{"--min-amount", "-5"}, "no negative ends"},
		{[]string{"--max-amount", "1e6"}, "not a number"},
		{[]string{"--max-amount", "12.345"}, "at most 2 decimals"},
		{[]string{"--max-amount", "0"}, "no bound"},
		{[]string{"--min-amount", "500k", "--max-amount", "450k"}, "not above --min-amount"},
		{[]string{"--from", "2025-03-32"}, "calendar date"},
		{[]string{"--to", "yesterday"}, "want a day YYYY-MM-DD"},
		{[]string{"--from", "2025-04-01", "--to", "2025-03-01"}, "is not after --from"},
		{[]string{"--currency", "tenge"}, "ISO 4217"},
	} {
		err := runErr(append([]string{"show", "--db", db, "card:4400430000000015"}, c.args...)...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error saying %q", c.args, err, c.want)
		}
	}
}
