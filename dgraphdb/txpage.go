package dgraphdb

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"casegraph/graph"
)

// txRow is one transaction as seen from an entity: the record and the
// direction it has for that entity.
// The queries name the month's predicates with these aliases (txFields).
type txRow struct {
	Rec    string    `json:"rec"`
	Time   time.Time `json:"time"`
	SortID string    `json:"sortid"`
	Amount int64     `json:"amount"`
	dir    graph.Direction
}

// txRowFields reads a txRow's fields of month m under their aliases.
func txRowFields(m string) string {
	return fmt.Sprintf("rec: %s time: %s sortid: %s amount: %s",
		txPred(m, fRec), txPred(m, fTime), txPred(m, fSortID), txPred(m, fAmount))
}

// keyCmp orders rows as the Badger store's transaction keys: time, then id
// (length, then bytes), then direction (outgoing first).
func keyCmp(a, b txRow) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.SortID, b.SortID); c != 0 {
		return c
	}
	return cmp.Compare(a.dir, b.dir)
}

// monthCounts is how many transactions an entity sent and received in a
// month.
type monthCounts struct {
	month   string
	out, in int
}

// Transactions returns one page of ref's transactions with totals over all of
// them, as the Badger store does. The totals come from one query (count and
// sum per month bucket and channel); a time-ordered page reads only the
// months it covers, in the cluster's time order (each bucket sorted by time,
// then id); an amount-ordered page asks each month for its best
// offset+limit and merges them. A time range (From, To) and an amount band
// (MinAmount, MaxAmount) filter every month's rows in the cluster, totals
// included; a currency (TxQuery.Currency) is refused, as the cluster keeps
// no currency predicate, and Via is not read (a cluster lists a holder's
// own rows, docs/DGRAPH.md).
func (db *DB) Transactions(ctx context.Context, ref graph.Ref, q graph.TxQuery) (graph.TxPage, error) {
	var page graph.TxPage
	if q.Offset < 0 || q.Limit < 0 {
		return page, fmt.Errorf("read transactions of %s: negative offset or limit", ref)
	}
	if q.Currency != "" {
		return page, fmt.Errorf("read transactions of %s: %w", ref, ErrCurrencyFilter)
	}
	filter := filterOf(q)
	counts, err := db.monthTotals(ctx, ref, filter, &page)
	if err != nil {
		return graph.TxPage{}, fmt.Errorf("read transactions of %s: %w", ref, err)
	}
	switch q.Sort {
	case graph.SortTimeDesc, graph.SortTimeAsc:
		err = db.timePage(ctx, ref, q, filter, counts, &page)
	case graph.SortAmountDesc, graph.SortAmountAsc:
		err = db.amountPage(ctx, ref, q, filter, counts, &page)
	default:
		err = fmt.Errorf("unknown sort %d", q.Sort)
	}
	if err != nil {
		return graph.TxPage{}, fmt.Errorf("read transactions of %s: %w", ref, err)
	}
	return page, nil
}

// ErrCurrencyFilter refuses a transaction page of one currency only: the
// cluster keeps each transaction's currency in its record, not in a
// predicate a query can filter on.
var ErrCurrencyFilter = errors.New("a currency filter works on a folder only: a Dgraph cluster has no currency predicate yet")

// txFilter is a time range [From, To) and an amount band [MinAmount,
// MaxAmount) on transactions; the zero value keeps every row.
type txFilter struct {
	from, to   time.Time
	minA, maxA int64
}

func filterOf(q graph.TxQuery) txFilter {
	return txFilter{from: q.From, to: q.To, minA: q.MinAmount, maxA: q.MaxAmount}
}

// at is the DQL filter on month m's transactions ("" when it keeps every
// row), placed after the bucket's arguments.
func (f txFilter) at(m string) string {
	var fs []string
	if !f.from.IsZero() {
		fs = append(fs, fmt.Sprintf("ge(%s, %s)", txPred(m, fTime), quote(f.from.UTC().Format(time.RFC3339Nano))))
	}
	if !f.to.IsZero() {
		fs = append(fs, fmt.Sprintf("lt(%s, %s)", txPred(m, fTime), quote(f.to.UTC().Format(time.RFC3339Nano))))
	}
	if f.minA != 0 {
		fs = append(fs, fmt.Sprintf("ge(%s, %d)", txPred(m, fAmount), f.minA))
	}
	if f.maxA != 0 {
		fs = append(fs, fmt.Sprintf("lt(%s, %d)", txPred(m, fAmount), f.maxA))
	}
	if len(fs) == 0 {
		return ""
	}
	return " @filter(" + strings.Join(fs, " AND ") + ")"
}

// monthTotals fills the page's totals over the rows filter keeps and
// returns the months with such transactions of ref, oldest first.
func (db *DB) monthTotals(ctx context.Context, ref graph.Ref, filter txFilter, page *graph.TxPage) ([]monthCounts, error) {
	months, err := db.entityMonths(ctx, []graph.Ref{ref})
	if err != nil || len(months) == 0 {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{ e(func: eq(%s, %s)) {\n", predRef, quote(refID(ref)))
	for _, m := range months {
		for _, p := range []string{predSent, predRecv} {
			fmt.Fprintf(&b, "  %s_%s: %s%s%s @groupby(%s) { count(uid) sum(%s) }\n", p[:1], m, p, m, filter.at(m),
				txPred(m, fChan), txPred(m, fAmount))
		}
	}
	b.WriteString("} }")
	var out struct {
		E []map[string]json.RawMessage `json:"e"`
	}
	if err := db.query(ctx, b.String(), nil, &out); err != nil {
		return nil, err
	}
	if len(out.E) == 0 {
		return nil, nil
	}
	var res []monthCounts
	for _, m := range months {
		mc := monthCounts{month: m}
		for _, alias := range []string{"s_" + m, "r_" + m} {
			raw, ok := out.E[0][alias]
			if !ok {
				continue
			}
			rows, err := groupRows(raw, m, "")
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", alias, err)
			}
			for _, r := range rows {
				if alias[0] == 's' {
					mc.out += r.Count
					page.Out = graph.AddSat(page.Out, r.Sum)
				} else {
					mc.in += r.Count
					page.In = graph.AddSat(page.In, r.Sum)
				}
			}
		}
		if mc.out+mc.in > 0 {
			page.Total += mc.out + mc.in
			res = append(res, mc)
		}
	}
	return res, nil
}

// fetch is one month bucket's rows to read: the first n in the given order,
// or, when the entity has few rows that month (local), all of them in no
// order, for the caller to sort.
type fetch struct {
	month string
	n     int // 0: all
	local bool
}

// localSortMax is the most rows an entity may have in a month for its page
// to read them all and sort them here rather than have the cluster order
// them. The cluster orders a month's rows by walking the sort predicate's
// index (an hour or an amount per bucket) and keeping the entity's rows it
// meets, so the fewer rows an entity has, the more of the month's index it
// walks before it has its page: 110–160 ms for a card with 6–35 rows on the
// medium demo (docs/DGRAPH.md, "Months of an entity"). 512 rows are about
// 150 KB of records at most.
var localSortMax = 512

// isLocal says whether a month's n rows are read whole and sorted here.
func isLocal(n int) bool { return n <= localSortMax }

// readRows reads, per month and direction, the first n transactions that
// filter keeps in the order order(m) says (a DQL ordering of month m such as
// "orderdesc: tx.2026_03.time, orderdesc: tx.2026_03.sortid").
func (db *DB) readRows(ctx context.Context, ref graph.Ref, order func(m string) string, filter txFilter, fs []fetch) (map[string][]txRow, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "{ e(func: eq(%s, %s)) {\n", predRef, quote(refID(ref)))
	for _, f := range fs {
		args := ""
		if !f.local {
			args = " (" + order(f.month)
			if f.n > 0 {
				args += fmt.Sprintf(", first: %d", f.n)
			}
			args += ")"
		}
		for _, p := range []string{predSent, predRecv} {
			fmt.Fprintf(&b, "  %s_%s: %s%s%s%s { %s }\n", p[:1], f.month, p, f.month, args,
				filter.at(f.month), txRowFields(f.month))
		}
	}
	b.WriteString("} }")
	var out struct {
		E []map[string]json.RawMessage `json:"e"`
	}
	if err := db.query(ctx, b.String(), nil, &out); err != nil {
		return nil, err
	}
	res := map[string][]txRow{}
	if len(out.E) == 0 {
		return res, nil
	}
	for _, f := range fs {
		for _, alias := range []string{"s_" + f.month, "r_" + f.month} {
			raw, ok := out.E[0][alias]
			if !ok {
				continue
			}
			var rows []txRow
			if err := json.Unmarshal(raw, &rows); err != nil {
				return nil, fmt.Errorf("decode %s: %w", alias, err)
			}
			dir := graph.DirOut
			if alias[0] == 'r' {
				dir = graph.DirIn
			}
			for i := range rows {
				rows[i].dir = dir
				rows[i].Time = rows[i].Time.UTC()
			}
			res[f.month] = append(res[f.month], rows...)
		}
	}
	return res, nil
}

func (db *DB) timePage(ctx context.Context, ref graph.Ref, q graph.TxQuery, filter txFilter, counts []monthCounts, page *graph.TxPage) error {
	desc := q.Sort == graph.SortTimeDesc
	if desc {
		counts = slices.Clone(counts)
		slices.Reverse(counts)
	}
	// Which months the page covers, and how much of each: skip whole months
	// by their counts, then read offset-in-month + what is still wanted.
	skip, want := q.Offset, q.Limit
	var fs []fetch
	var los []int
	for _, mc := range counts {
		n := mc.out + mc.in
		if skip >= n {
			skip -= n
			continue
		}
		take := n - skip
		if want > 0 {
			take = min(take, want)
		}
		fs = append(fs, fetch{month: mc.month, n: skip + take, local: isLocal(n)})
		los = append(los, skip)
		skip = 0
		if want > 0 {
			if want -= take; want == 0 {
				break
			}
		}
	}
	if len(fs) == 0 {
		return nil
	}
	dir := "orderasc"
	if desc {
		dir = "orderdesc"
	}
	order := func(m string) string {
		return fmt.Sprintf("%s: %s, %s: %s", dir, txPred(m, fTime), dir, txPred(m, fSortID))
	}
	rows, err := db.readRows(ctx, ref, order, filter, fs)
	if err != nil {
		return err
	}
	for i, f := range fs {
		r := rows[f.month]
		slices.SortFunc(r, func(a, b txRow) int {
			if desc {
				return keyCmp(b, a)
			}
			return keyCmp(a, b)
		})
		end := min(len(r), f.n)
		if los[i] >= end {
			continue
		}
		for _, row := range r[los[i]:end] {
			t, err := decodeTxn(row)
			if err != nil {
				return err
			}
			page.Txns = append(page.Txns, t)
		}
	}
	return nil
}

func (db *DB) amountPage(ctx context.Context, ref graph.Ref, q graph.TxQuery, filter txFilter, counts []monthCounts, page *graph.TxPage) error {
	desc := q.Sort == graph.SortAmountDesc
	keep := 0
	if q.Limit > 0 {
		keep = q.Offset + q.Limit
	}
	fs := make([]fetch, 0, len(counts))
	for _, mc := range counts {
		fs = append(fs, fetch{month: mc.month, n: keep, local: isLocal(mc.out + mc.in)})
	}
	if len(fs) == 0 {
		return nil
	}
	dir := "orderasc"
	if desc {
		dir = "orderdesc"
	}
	order := func(m string) string {
		return fmt.Sprintf("%s: %s, orderasc: %s, orderasc: %s", dir, txPred(m, fAmount), txPred(m, fTime), txPred(m, fSortID))
	}
	byMonth, err := db.readRows(ctx, ref, order, filter, fs)
	if err != nil {
		return err
	}
	var rows []txRow
	for _, f := range fs {
		rows = append(rows, byMonth[f.month]...)
	}
	// Amount, ties in time order (the Badger store's rule).
	slices.SortFunc(rows, func(a, b txRow) int {
		if a.Amount != b.Amount {
			if desc {
				return cmp.Compare(b.Amount, a.Amount)
			}
			return cmp.Compare(a.Amount, b.Amount)
		}
		return keyCmp(a, b)
	})
	if keep > 0 && len(rows) > keep {
		rows = rows[:keep]
	}
	if q.Offset >= len(rows) {
		return nil
	}
	for _, r := range rows[q.Offset:] {
		t, err := decodeTxn(r)
		if err != nil {
			return err
		}
		page.Txns = append(page.Txns, t)
	}
	return nil
}

func decodeTxn(r txRow) (graph.Txn, error) {
	var t graph.Txn
	if err := json.Unmarshal([]byte(r.Rec), &t); err != nil {
		return t, fmt.Errorf("decode transaction: %w", err)
	}
	t.Time = t.Time.UTC()
	if len(t.Props) == 0 {
		t.Props = nil
	}
	return t, nil
}
