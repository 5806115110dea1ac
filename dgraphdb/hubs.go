package dgraphdb

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/dgo/v250"

	"casegraph/graph"
)

// Hub summaries.
//
// A hub (an ATM, an exchange, a cash-out card) has thousands of
// transactions a month, and its neighbours are a @groupby over all of them.
// For an (entity, month) with at least hubMin transactions the cluster keeps
// the answer of that @groupby as summary nodes: hs.YYYY_MM from the entity to
// one node per (direction, counterparty, channel), h.YYYY_MM.other the
// counterparty, h.YYYY_MM.row the count, sum, first and last time (hubRow).
// Neighbors reads them for the months that have them (readNeighbors). The
// bulk writer writes them (BulkWriter.hubSummaries); the Loader recomputes
// them after each flush for the (entity, month) pairs the flush touched
// (refreshHubs), so that they are always the @groupby of the month as
// stored: an (entity, month) has summaries exactly when it had at least
// hubMin transactions when a flush last touched it.

// hubRow is a summary node's row, as h.YYYY_MM.row holds it.
type hubRow struct {
	Dir   graph.Direction `json:"dir"`
	Chan  int             `json:"ch"`
	Count int             `json:"n"`
	Sum   int64           `json:"sum"`
	Min   time.Time       `json:"min"`
	Max   time.Time       `json:"max"`
}

// hubPair is an (entity uid, month) a flush touched.
type hubPair struct{ uid, month string }

// refreshHubs recomputes the summaries of the pairs: those whose month now
// holds at least hubMin transactions of the entity, or that had summaries,
// are grouped again, and their summary nodes replaced (or dropped below
// hubMin), in one Dgraph transaction; a concurrent writer of the same
// hub's summaries aborts one of the two, which is retried with what both
// committed.
func (db *DB) refreshHubs(ctx context.Context, pairs map[hubPair]bool) error {
	byMonth := map[string][]string{}
	for p := range pairs {
		if strings.HasPrefix(p.uid, "0x") {
			byMonth[p.month] = append(byMonth[p.month], p.uid)
		}
	}
	if len(byMonth) == 0 {
		return nil
	}
	months := make([]string, 0, len(byMonth))
	for m := range byMonth {
		months = append(months, m)
	}
	slices.Sort(months)
	var b strings.Builder
	b.WriteString("{")
	for _, m := range months {
		fmt.Fprintf(&b, " c_%s(func: uid(%s)) { uid s: count(%s%s) r: count(%s%s) h: count(%s%s) }", m,
			strings.Join(byMonth[m], ","), predSent, m, predRecv, m, predHubs, m)
	}
	b.WriteString(" }")
	var counts map[string][]struct {
		UID string `json:"uid"`
		S   int    `json:"s"`
		R   int    `json:"r"`
		H   int    `json:"h"`
	}
	if err := db.query(ctx, b.String(), nil, &counts); err != nil {
		return fmt.Errorf("count hub months: %w", err)
	}
	targets := map[string][]string{}
	for _, m := range months {
		for _, c := range counts["c_"+m] {
			if c.S+c.R >= hubMin || c.H > 0 {
				targets[m] = append(targets[m], c.UID)
			}
		}
	}
	if len(targets) == 0 {
		return nil
	}
	return db.commit(ctx, func(txn *dgo.Txn) error {
		return writeHubs(ctx, txn, targets)
	})
}

// writeHubs groups the months of targets (month → entity uids) inside txn
// and replaces their summary nodes.
func writeHubs(ctx context.Context, txn *dgo.Txn, targets map[string][]string) error {
	var b strings.Builder
	b.WriteString("{")
	for m, uids := range targets {
		fmt.Fprintf(&b, " g_%s(func: uid(%s)) { uid\n", m, strings.Join(uids, ","))
		for _, d := range []struct{ alias, pred, other string }{{"s", predSent, fTo}, {"r", predRecv, fFrom}} {
			fmt.Fprintf(&b, "  %s: %s%s @groupby(%s, %s) { count(uid) sum(%s) min(%s) max(%s) }\n",
				d.alias, d.pred, m, txPred(m, d.other), txPred(m, fChan),
				txPred(m, fAmount), txPred(m, fTime), txPred(m, fTime))
		}
		fmt.Fprintf(&b, "  old: %s%s { uid } }\n", predHubs, m)
	}
	b.WriteString("}")
	resp, err := txn.QueryWithVars(ctx, b.String(), nil)
	if err != nil {
		return err
	}
	var out map[string][]map[string]json.RawMessage
	if err := json.Unmarshal(resp.Json, &out); err != nil {
		return fmt.Errorf("decode hub months: %w", err)
	}
	var set, del []any
	blank := 0
	for m := range targets {
		for _, e := range out["g_"+m] {
			var uid string
			if err := json.Unmarshal(e["uid"], &uid); err != nil {
				return fmt.Errorf("decode hub month %s: %w", m, err)
			}
			var old []struct {
				UID string `json:"uid"`
			}
			if raw, ok := e["old"]; ok {
				if err := json.Unmarshal(raw, &old); err != nil {
					return fmt.Errorf("decode hub month %s: %w", m, err)
				}
			}
			if len(old) > 0 {
				edges := make([]any, len(old))
				for i, o := range old {
					edges[i] = map[string]any{"uid": o.UID}
					del = append(del, map[string]any{"uid": o.UID, hubPred(m, hubOther): nil, hubPred(m, hubRowFld): nil})
				}
				del = append(del, map[string]any{"uid": uid, predHubs + m: edges})
			}
			var nodes []any
			total := 0
			for _, d := range []struct {
				alias, other string
				dir          graph.Direction
			}{{"s", fTo, graph.DirOut}, {"r", fFrom, graph.DirIn}} {
				raw, ok := e[d.alias]
				if !ok {
					continue
				}
				rows, err := groupRows(raw, m, d.other)
				if err != nil {
					return fmt.Errorf("decode hub month %s: %w", m, err)
				}
				for _, r := range rows {
					total += r.Count
					blank++
					nodes = append(nodes, map[string]any{
						"uid":                 fmt.Sprintf("_:h%d", blank),
						hubPred(m, hubOther):  map[string]any{"uid": r.Other},
						hubPred(m, hubRowFld): mustJSON(hubRowOf(d.dir, r)),
					})
				}
			}
			if total >= hubMin {
				set = append(set, map[string]any{"uid": uid, predHubs + m: nodes})
			}
		}
	}
	return mutateJSON(ctx, txn, set, del)
}

func hubRowOf(dir graph.Direction, r groupRow) hubRow {
	return hubRow{Dir: dir, Chan: r.Channel, Count: r.Count, Sum: r.Sum, Min: r.Min.UTC(), Max: r.Max.UTC()}
}

// hubRows decodes a block of readNeighbors' h_YYYY_MM: the summary nodes of
// an entity, with their counterparties.
func hubRows(raw json.RawMessage) ([]hubRow, []refJSON, error) {
	var nodes []struct {
		Row   string  `json:"row"`
		Other refJSON `json:"other"`
	}
	if err := json.Unmarshal(raw, &nodes); err != nil {
		return nil, nil, err
	}
	rows := make([]hubRow, len(nodes))
	others := make([]refJSON, len(nodes))
	for i, n := range nodes {
		if err := json.Unmarshal([]byte(n.Row), &rows[i]); err != nil {
			return nil, nil, fmt.Errorf("decode a hub summary: %w", err)
		}
		others[i] = n.Other
	}
	return rows, others, nil
}

// hubKey is one summary node a BulkWriter writes.
type hubKey struct {
	hub   *bulkEnt
	month string
	dir   graph.Direction
	other *bulkEnt
	ch    int
}

// hubSummaries writes the summary nodes of every (entity, month) with at
// least hubMin transactions: the transactions written so far (their last
// versions: after dropSuperseded) are read back from the data file once
// and those of the hubs' months summed, and the file goes on as a second
// gzip member (the bulk loader, like Go's gzip reader, reads concatenated
// members as one stream). Nothing is read when no month is a hub's.
func (w *BulkWriter) hubSummaries(ctx context.Context) error {
	hubs := map[entMonth]bool{}
	for k, n := range w.perMonth {
		if int(n) >= hubMin {
			hubs[k] = true
		}
	}
	if len(hubs) == 0 {
		return nil
	}
	if err := w.close(); err != nil {
		return err
	}
	aggs, order, err := w.scanHubs(ctx, hubs)
	if err != nil {
		return err
	}
	part, err := os.OpenFile(w.part.Name(), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w.part = part
	w.open(part)
	for i, k := range order {
		a := aggs[k]
		s := "_:h" + strconv.Itoa(i+1)
		w.edge(s, hubPred(k.month, hubOther), k.other.label, "")
		w.str(s, hubPred(k.month, hubRowFld), mustJSON(*a))
		w.edge(k.hub.label, predHubs+k.month, s, "")
	}
	return w.err
}

// scanHubs reads the transaction blocks of the closed data file and sums
// those of the hubs' months by (hub, month, direction, counterparty,
// channel), in order of first appearance.
func (w *BulkWriter) scanHubs(ctx context.Context, hubs map[entMonth]bool) (map[hubKey]*hubRow, []hubKey, error) {
	f, err := os.Open(w.part.Name())
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, err
	}
	aggs := map[hubKey]*hubRow{}
	var order []hubKey
	add := func(hub *bulkEnt, m string, dir graph.Direction, other *bulkEnt, ch int, amount int64, at time.Time) {
		k := hubKey{hub, m, dir, other, ch}
		a := aggs[k]
		if a == nil {
			a = &hubRow{Dir: dir, Chan: ch, Min: at, Max: at}
			aggs[k] = a
			order = append(order, k)
		}
		a.Count++
		a.Sum += amount // as the cluster's sum() adds
		if at.Before(a.Min) {
			a.Min = at
		}
		if at.After(a.Max) {
			a.Max = at
		}
	}
	var (
		at       time.Time
		amount   int64
		ch       int
		from, to *bulkEnt
	)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for n := 0; sc.Scan(); n++ {
		if n%1_000_000 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		line := sc.Text()
		// SUBJECT <tx.YYYY_MM.FIELD> OBJECT .
		sp := strings.IndexByte(line, ' ')
		if sp < 0 || !strings.HasPrefix(line[sp:], " <tx.") {
			continue
		}
		rest := line[sp+len(" <tx."):]
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			continue
		}
		m, field, ok := strings.Cut(rest[:end], ".")
		if !ok || !isMonth(m) {
			continue // tx.id.NN, tx.month.NN
		}
		obj := strings.TrimSuffix(rest[end+2:], " .")
		switch field {
		case fTime:
			at, err = time.Parse(time.RFC3339Nano, literal(obj))
		case fAmount:
			amount, err = strconv.ParseInt(literal(obj), 10, 64)
		case fChan:
			ch, err = strconv.Atoi(literal(obj))
		case fFrom:
			from, err = w.entOfLabel(obj)
		case fTo:
			if to, err = w.entOfLabel(obj); err == nil {
				mi := int32(monthIndex(m))
				if hubs[entMonth{from, mi}] {
					add(from, m, graph.DirOut, to, ch, amount, at)
				}
				if hubs[entMonth{to, mi}] {
					add(to, m, graph.DirIn, from, ch, amount, at)
				}
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("bulk output: read back %q: %w", line, err)
		}
	}
	return aggs, order, sc.Err()
}

// literal is the lexical form of a typed literal "…"^^<type>.
func literal(obj string) string {
	s, _, _ := strings.Cut(strings.TrimPrefix(obj, `"`), `"`)
	return s
}

// entOfLabel is the entity of a blank node "_:eN" (the N-th mentioned).
func (w *BulkWriter) entOfLabel(label string) (*bulkEnt, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(label, "_:e"))
	if err != nil || n < 1 || n > len(w.entList) {
		return nil, fmt.Errorf("no entity %q", label)
	}
	return w.entList[n-1], nil
}
