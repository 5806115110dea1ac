package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"casegraph/backend"
	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/importers"
	"casegraph/internal/safetext"
	"casegraph/store"
	"casegraph/workbench"
)

// searchCmd: casegraph search QUERY.
type searchCmd struct {
	DB    dbArgs   `embed:""`
	JSON  bool     `name:"json" help:"print JSON"`
	Kind  string   `placeholder:"KIND" help:"only this kind: person, card, account, wallet, exchange, group, …"`
	Limit int      `default:"20" placeholder:"N" help:"at most this many results"`
	Query []string `arg:"" optional:"" help:"what to find: a name, a card, IIN, IBAN or phone number, a wallet…"`
}

func (c *searchCmd) Run(e *env) error { return cmdSearch(e.ctx, c, e.stdout) }

func cmdSearch(ctx context.Context, c *searchCmd, stdout io.Writer) error {
	dbf, pos := c.DB.flags(), c.Query
	var err error
	if len(pos) == 0 {
		return usageError{msg: "search needs a QUERY"}
	}
	kind := graph.KindUnknown
	if c.Kind != "" {
		if kind, err = graph.ParseKind(c.Kind); err != nil {
			return usageError{msg: err.Error()}
		}
	}
	// A folder opens writable when it can, so the search index built here
	// is saved for the next start (search.idx); a cluster serves search.
	var b backend.Reader
	var wb *workbench.Workbench
	var done func()
	if dbf.remote() {
		b, wb, done, err = dbf.openReader(ctx)
	} else {
		var db *store.DB
		if db, err = dbf.openToAnalyse(ctx); err == nil {
			wb = backendOf(ctx, db)
			b, done = wb, func() { db.Close() }
		}
	}
	if err != nil {
		return err
	}
	defer done()
	if wb != nil {
		if err := wb.EnsureSearch(ctx); err != nil {
			return err
		}
	}
	start := time.Now()
	res, err := b.Search(ctx, strings.Join(pos, " "), kind, c.Limit)
	if err != nil {
		return err
	}
	took := time.Since(start)
	if c.JSON {
		return writeJSON(stdout, searchJSON(res))
	}
	for _, h := range res.Hits {
		// Labels, facts and references are imported data: one line each,
		// controls shown, never obeyed.
		line := fmt.Sprintf("%-9s %-44s %s", strings.ToUpper(h.Doc.Ref.Kind.String()), safetext.Line(h.Doc.Label),
			safetext.Line(h.Doc.Ref.String()))
		if h.Term != "" {
			line += "  matched " + safetext.Line(h.Term)
		}
		if h.Doc.Facts != "" {
			line += "  · " + safetext.Line(h.Doc.Facts)
		}
		if r := h.Risk; r.Known && r.Flagged {
			line += fmt.Sprintf("  ⚑ %.2f", r.Score)
			if r.Stale {
				line += " (data changed since the analysis)"
			}
		}
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "%d of %d matches · %s\n", len(res.Hits), res.Total, took.Round(time.Microsecond))
	return nil
}

type hitJSON struct {
	Ref     string `json:"ref"`
	Kind    string `json:"kind"`
	Label   string `json:"label"`
	Facts   string `json:"facts,omitempty"`
	Term    string `json:"matched_term,omitempty"`
	Matched []int  `json:"matched_runes,omitempty"`
	Score   int    `json:"score"`
	Stub    bool   `json:"stub,omitempty"`
	// Risk is the entity's risk from the kept analysis, when one exists.
	Risk *graph.RiskMark `json:"risk,omitempty"`
}

func searchJSON(res graph.SearchResult) any {
	hits := make([]hitJSON, 0, len(res.Hits))
	for _, h := range res.Hits {
		hj := hitJSON{Ref: h.Doc.Ref.String(), Kind: h.Doc.Ref.Kind.String(), Label: h.Doc.Label,
			Facts: h.Doc.Facts, Term: h.Term, Matched: h.Matched, Score: h.Score, Stub: h.Doc.Stub}
		if h.Risk.Known {
			r := h.Risk
			hj.Risk = &r
		}
		hits = append(hits, hj)
	}
	return map[string]any{"query": res.Query, "total": res.Total, "hits": hits}
}

// showCmd: casegraph show REF.
type showCmd struct {
	DB    dbArgs `embed:""`
	JSON  bool   `name:"json" help:"print JSON"`
	Limit int    `default:"50" placeholder:"N" help:"at most this many neighbours and transactions"`
	// The transactions listed, and their totals, kept to a time range and
	// an amount band (graph.TxQuery), both half open.
	From      string   `placeholder:"DATE" help:"only transactions from this day (YYYY-MM-DD, Almaty) or time (2025-03-15T02:10:00+05:00) on"`
	To        string   `placeholder:"DATE" help:"only transactions before this day or time (--to 2025-04-01 ends with March)"`
	MinAmount string   `name:"min-amount" placeholder:"AMOUNT" help:"only transactions of at least this amount, in major units: 450000, 450000.50, 450k, 1.5m"`
	MaxAmount string   `name:"max-amount" placeholder:"AMOUNT" help:"only transactions under this amount (--max-amount 500k keeps 499,999.99)"`
	Currency  string   `placeholder:"CODE" help:"only transactions in this currency (ISO 4217: KZT, USD); without it the band compares every currency's amounts as they are"`
	Ref       []string `arg:"" optional:"" name:"ref" help:"card:…, iin:…, iban:…, exchange:…, group:…"`
}

// txQuery is the transaction listing the flags ask for; a flag that does
// not parse is a usage error saying how to write it.
func (c *showCmd) txQuery() (graph.TxQuery, error) {
	q := graph.TxQuery{Sort: graph.SortTimeDesc, Limit: c.Limit}
	var err error
	if c.From != "" {
		if q.From, err = parseWhen(c.From); err != nil {
			return q, usageError{msg: "--from: " + err.Error(), cmd: "show"}
		}
	}
	if c.To != "" {
		if q.To, err = parseWhen(c.To); err != nil {
			return q, usageError{msg: "--to: " + err.Error(), cmd: "show"}
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, usageError{msg: fmt.Sprintf("--to %s is not after --from %s: the range [from, to) is empty", c.To, c.From), cmd: "show"}
	}
	if c.MinAmount != "" {
		if q.MinAmount, err = graph.ParseMajorAmount(c.MinAmount); err != nil {
			return q, usageError{msg: "--min-amount: " + err.Error(), cmd: "show"}
		}
	}
	if c.MaxAmount != "" {
		if q.MaxAmount, err = graph.ParseMajorAmount(c.MaxAmount); err != nil {
			return q, usageError{msg: "--max-amount: " + err.Error(), cmd: "show"}
		}
		if q.MaxAmount == 0 {
			return q, usageError{msg: "--max-amount 0 is no bound: give an amount above 0", cmd: "show"}
		}
	}
	if q.MaxAmount != 0 && q.MaxAmount <= q.MinAmount {
		return q, usageError{msg: fmt.Sprintf("--max-amount %s is not above --min-amount %s: the band [min, max) is empty",
			c.MaxAmount, c.MinAmount), cmd: "show"}
	}
	if c.Currency != "" {
		code := strings.ToUpper(strings.TrimSpace(c.Currency))
		if len(code) != 3 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return q, usageError{msg: fmt.Sprintf("--currency %q: want an ISO 4217 code such as KZT or USD", c.Currency), cmd: "show"}
		}
		q.Currency = code
	}
	return q, nil
}

// parseWhen reads a day (YYYY-MM-DD: its midnight in Almaty) or a time
// as the importers read one (a zone-less time is Almaty's).
func parseWhen(s string) (time.Time, error) {
	if len(strings.TrimSpace(s)) == len("2006-01-02") {
		day, err := importers.ParseDate(s)
		if err != nil {
			return time.Time{}, err
		}
		return time.ParseInLocation("2006-01-02", day, importers.Almaty())
	}
	t, err := importers.ParseTime(s, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a day YYYY-MM-DD or a time 2025-03-15T02:10:00+05:00", s)
	}
	return t, nil
}

// filterText describes q's range and band for show's heading: "" without
// either, else e.g. "from 2025-03-01 · before 2025-04-01 · amounts
// 450k–500k".
func filterText(q graph.TxQuery) string {
	almaty := importers.Almaty()
	var parts []string
	if !q.From.IsZero() {
		parts = append(parts, "from "+q.From.In(almaty).Format("2006-01-02 15:04"))
	}
	if !q.To.IsZero() {
		parts = append(parts, "before "+q.To.In(almaty).Format("2006-01-02 15:04"))
	}
	if q.MinAmount != 0 || q.MaxAmount != 0 {
		parts = append(parts, "amounts "+graph.FormatBand(q.MinAmount, q.MaxAmount, q.Currency))
	} else if q.Currency != "" {
		parts = append(parts, "in "+q.Currency)
	}
	return strings.Join(parts, " · ")
}

func (c *showCmd) Run(e *env) error { return cmdShow(e.ctx, c, e.stdout) }

func cmdShow(ctx context.Context, c *showCmd, stdout io.Writer) error {
	dbf, pos := c.DB.flags(), c.Ref
	if len(pos) != 1 {
		return usageError{msg: "show needs exactly one REF, e.g. card:4400430000000015 or iin:850312300002"}
	}
	q, err := c.txQuery()
	if err != nil {
		return err
	}
	b, wb, done, err := dbf.openReader(ctx)
	if err != nil {
		return err
	}
	defer done()
	ref, err := userRef(pos[0], func(r graph.Ref) bool {
		_, err := b.Entity(ctx, r)
		return err == nil
	})
	if err != nil {
		return err
	}
	e, err := b.Entity(ctx, ref)
	if err != nil {
		return fmt.Errorf("show %s: %w", ref, err)
	}
	// A person's or organisation's: their holdings, their counterparties
	// over everything they hold, and their transactions merged; on a
	// cluster (wb nil) read from it straight (docs/DGRAPH.md).
	var hp workbench.HolderPages = wb
	if wb == nil {
		hp = workbench.ClusterHolderPages(b)
	}
	nbs, nbTotal, err := hp.HolderNeighbors(ctx, ref, graph.Ref{}, c.Limit)
	if err != nil {
		return fmt.Errorf("neighbours of %s: %w", ref, err)
	}
	page, err := hp.Transactions(ctx, ref, q)
	if err != nil {
		return fmt.Errorf("transactions of %s: %w", ref, err)
	}
	held, err := hp.Holdings(ctx, ref, 10)
	if err != nil {
		return fmt.Errorf("holdings of %s: %w", ref, err)
	}
	var risk workbench.EntityRisk
	var hasRisk bool
	if wb != nil {
		if risk, hasRisk, err = wb.EntityRisk(ctx, ref); err != nil {
			return fmt.Errorf("risk of %s: %w", ref, err)
		}
	} else if dg, ok := b.(*dgraphdb.DB); ok {
		// A cluster: the risk an analysis of a pulled neighbourhood wrote
		// back (flags --db dgraph://… --seed …).
		if risk, _, hasRisk, err = workbench.RemoteRisk(ctx, dg, ref); err != nil {
			return fmt.Errorf("risk of %s: %w", ref, err)
		}
	}
	if c.JSON {
		out := showJSON(e, nbs, nbTotal, page)
		if f := filterJSON(q); f != nil {
			out["transactions_filter"] = f
		}
		out["risk"] = nil // no analysis has run on the database
		if hasRisk {
			out["risk"] = risk
		}
		if held.Total > 0 {
			out["holdings"] = workbench.HoldingsReportOf(held)
		}
		return writeJSON(stdout, out)
	}
	var riskLines []string
	if held.Total > 0 {
		riskLines = workbench.HoldingsLines(held)
	}
	if hasRisk {
		riskLines = append(riskLines, risk.Lines()...)
	}
	printShow(stdout, e, riskLines, nbs, nbTotal, page, filterText(q))
	return nil
}

// filterJSON is q's range and band for show --json: nil without either;
// amounts as decimals in major units, times in RFC 3339.
func filterJSON(q graph.TxQuery) map[string]string {
	if !q.Ranged() && !q.Banded() {
		return nil
	}
	f := map[string]string{}
	if !q.From.IsZero() {
		f["from"] = q.From.UTC().Format(time.RFC3339Nano)
	}
	if !q.To.IsZero() {
		f["to"] = q.To.UTC().Format(time.RFC3339Nano)
	}
	if q.MinAmount != 0 {
		f["min_amount"] = decimal(q.MinAmount)
	}
	if q.MaxAmount != 0 {
		f["max_amount"] = decimal(q.MaxAmount)
	}
	if q.Currency != "" {
		f["currency"] = q.Currency
	}
	return f
}

// userRef turns a REF typed by a user into a stored reference: validated
// and normalised as the importers store it ("card:4400 4300 …" → digits),
// or, for keys of other data sets that the Kazakh validators refuse
// ("account:berka:2378"), taken as written when known says the case holds
// it. Every command that takes a REF goes through it.
// openRef opens the database the flags name and reads the reference a user
// typed (userRef) against it; the caller closes the database.
func openRef(ctx context.Context, dbf dbFlags, arg string, readOnly bool) (*store.DB, *workbench.Workbench, graph.Ref, error) {
	db, err := dbf.openIn(ctx, false, readOnly)
	if err != nil {
		return nil, nil, graph.Ref{}, err
	}
	ref, err := userRef(arg, inStore(ctx, db))
	if err != nil {
		db.Close()
		return nil, nil, graph.Ref{}, err
	}
	return db, backendOf(ctx, db), ref, nil
}

func userRef(s string, known func(graph.Ref) bool) (graph.Ref, error) {
	ref, err := importers.ParseRef(s)
	if err == nil {
		return ref, nil
	}
	if raw, rawErr := graph.ParseRef(s); rawErr == nil && known(raw) {
		return raw, nil
	}
	return graph.Ref{}, usageError{msg: err.Error()}
}

// inStore is userRef's known for commands that have the database open.
func inStore(ctx context.Context, db *store.DB) func(graph.Ref) bool {
	return func(r graph.Ref) bool {
		_, err := db.Entity(ctx, r)
		return err == nil
	}
}

func printShow(w io.Writer, e graph.Entity, risk []string, nbs []graph.Neighbor, nbTotal int, page graph.TxPage, filter string) {
	line := safetext.Line
	fmt.Fprintf(w, "%s %s  (%s)\n", strings.ToUpper(e.Ref.Kind.String()), line(graph.Title(e)), line(e.Ref.String()))
	if e.Stub {
		fmt.Fprintln(w, "  stub: referenced by other records but not imported itself")
	}
	for _, kv := range e.SortedProps() {
		fmt.Fprintf(w, "  %-14s %s\n", line(kv[0]), line(kv[1]))
	}
	fmt.Fprintf(w, "  %-14s %s\n", "source", line(e.Src.String()))
	for _, l := range risk {
		fmt.Fprintln(w, "  "+line(l))
	}
	fmt.Fprintf(w, "\nneighbours (%d of %d)\n", len(nbs), nbTotal)
	for _, n := range nbs {
		amt := ""
		if n.Amount != 0 {
			amt = graph.FormatMoney(n.Amount, "")
		}
		name := graph.RefTitle(n.Ref)
		if n.Name != "" {
			name = n.Name
		}
		if n.Role != "" {
			name += " (" + n.Role + ")"
		}
		if !n.Via.IsZero() && n.Via != e.Ref {
			name += " via " + n.Via.String()
			if n.ViaCount > 1 {
				name += fmt.Sprintf(" +%d", n.ViaCount-1)
			}
		}
		fmt.Fprintf(w, "  %-11s %s %-40s ×%-5d %18s  %s\n", n.Relation, n.Dir.Arrow(), line(name), n.Count, amt,
			line(n.Ref.String()))
	}
	if page.Total == 0 {
		if filter != "" {
			fmt.Fprintf(w, "\ntransactions 0 · %s\n", filter)
		}
		return
	}
	if filter != "" {
		filter = " · " + filter
	}
	fmt.Fprintf(w, "\ntransactions %d · in %s · out %s%s\n", page.Total,
		graph.FormatMoney(page.In, ""), graph.FormatMoney(page.Out, ""), filter)
	almaty := importers.Almaty()
	for _, t := range page.Txns {
		owner, via := e.Ref, ""
		if !t.Via.IsZero() {
			owner = t.Via // a holder's row: seen from the instrument it is on
			via = "  via " + t.Via.String()
		}
		dir, other := "→", t.To
		if t.To == owner {
			dir, other = "←", t.From
		}
		fmt.Fprintf(w, "  %s  %-8s %s %-34s %18s  %s%s\n", t.Time.In(almaty).Format("2006-01-02 15:04"),
			t.Channel, dir, line(other.String()), line(graph.FormatMoney(t.Amount, t.Currency)), line(t.ID), line(via))
	}
}

func showJSON(e graph.Entity, nbs []graph.Neighbor, nbTotal int, page graph.TxPage) map[string]any {
	type nbJSON struct {
		Ref      string `json:"ref"`
		Name     string `json:"name,omitempty"`
		Relation string `json:"relation"`
		Dir      string `json:"direction"`
		Count    int    `json:"count"`
		Amount   string `json:"amount"`
		Via      string `json:"via,omitempty"` // a holder's row: the instrument with the most of its transactions
	}
	type txJSON struct {
		ID       string `json:"tx_id"`
		Time     string `json:"time"`
		From     string `json:"from"`
		To       string `json:"to"`
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
		Channel  string `json:"channel"`
		Ref      string `json:"reference,omitempty"`
		Via      string `json:"via,omitempty"` // a holder's row: the instrument it is on
	}
	ns := make([]nbJSON, 0, len(nbs))
	for _, n := range nbs {
		dir := "out"
		if n.Dir == graph.DirIn {
			dir = "in"
		}
		via := ""
		if !n.Via.IsZero() {
			via = n.Via.String()
		}
		ns = append(ns, nbJSON{n.Ref.String(), n.Name, n.Relation, dir, n.Count, decimal(n.Amount), via})
	}
	ts := make([]txJSON, 0, len(page.Txns))
	for _, t := range page.Txns {
		via := ""
		if !t.Via.IsZero() {
			via = t.Via.String()
		}
		ts = append(ts, txJSON{t.ID, t.Time.UTC().Format(time.RFC3339), t.From.String(), t.To.String(),
			decimal(t.Amount), t.Currency, t.Channel.String(), t.Reference, via})
	}
	props := map[string]string{}
	for k, v := range e.Props {
		props[k] = v
	}
	return map[string]any{
		"ref": e.Ref.String(), "kind": e.Ref.Kind.String(), "name": e.Name, "stub": e.Stub,
		"properties": props, "source": map[string]any{"file": e.Src.File, "line": e.Src.Line, "batch": e.Src.Batch},
		"neighbours": ns, "neighbours_total": nbTotal,
		"transactions": ts, "transactions_total": page.Total, "in": decimal(page.In), "out": decimal(page.Out),
	}
}

// decimal renders minor units as a plain decimal string for JSON: "495000.00".
func decimal(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

// statsCmd: casegraph stats.
type statsCmd struct {
	DB   dbArgs `embed:""`
	JSON bool   `name:"json" help:"print JSON"`
}

func (c *statsCmd) Run(e *env) error { return cmdStats(e.ctx, c, e.stdout) }

func cmdStats(ctx context.Context, c *statsCmd, stdout io.Writer) error {
	dbf := c.DB.flags()
	b, _, done, err := dbf.openReader(ctx)
	if err != nil {
		return err
	}
	defer done()
	st, err := b.Stats(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(stdout, statsJSON(st))
	}
	fmt.Fprintln(stdout, "entities")
	total := 0
	for _, k := range graph.Kinds {
		if n := st.Entities[k]; n > 0 {
			total += n
			fmt.Fprintf(stdout, "  %-12s %12s\n", k, count(n))
		}
	}
	fmt.Fprintf(stdout, "  %-12s %12s  (%s stubs: referenced, not imported)\n", "total", count(total), count(st.Stubs))
	fmt.Fprintln(stdout, "links")
	for _, name := range sortedKeys(st.Links) {
		fmt.Fprintf(stdout, "  %-12s %12s\n", name, count(st.Links[mustLink(name)]))
	}
	fmt.Fprintf(stdout, "transactions %12s\n", count(st.Txns))
	for c := graph.ChannelTransfer; c <= graph.ChannelTrade; c++ {
		if n := st.TxnsByChan[c]; n > 0 {
			fmt.Fprintf(stdout, "  %-12s %12s\n", c, count(n))
		}
	}
	fmt.Fprintln(stdout, "import batches")
	for _, b := range st.Batches {
		// The path goes last: it is as long as the user's directories are.
		skipped := ""
		if b.Skipped > 0 {
			skipped = " · skipped " + count(b.Skipped)
		}
		fmt.Fprintf(stdout, "  #%-3d %-16s %s  read %10s · imported %10s · rejected %8s%s%s  %s\n", b.ID, b.Format,
			b.At.In(importers.Almaty()).Format("2006-01-02 15:04"), count(b.Read), count(b.Imported), count(b.Rejected),
			skipped, batchClock(b), b.File)
	}
	return nil
}

// batchClock says how a batch gave its transaction times: " · times: dates,
// Europe/Prague", " · times: steps of 1 day, UTC"; empty for a batch
// without transactions or recorded before the resolution was kept.
func batchClock(b graph.Batch) string {
	if b.TimeResolution == "" {
		return ""
	}
	res := b.TimeResolution
	if res == graph.TimeSteps && b.TimeUnit > 0 {
		res += " of " + graph.Duration(time.Duration(b.TimeUnit)*time.Second).String()
	}
	zone := b.TimeZone
	if zone == "" {
		zone = graph.DefaultTimeZone
	}
	return " · times: " + res + ", " + zone
}

func sortedKeys(m map[graph.LinkType]int) []string {
	var out []string
	for t, n := range m {
		if n > 0 {
			out = append(out, t.String())
		}
	}
	sort.Strings(out)
	return out
}

func mustLink(name string) graph.LinkType {
	t, _ := graph.ParseLinkType(name)
	return t
}

func statsJSON(st graph.Stats) any {
	ents, links, chans := map[string]int{}, map[string]int{}, map[string]int{}
	for k, n := range st.Entities {
		ents[k.String()] = n
	}
	for t, n := range st.Links {
		links[t.String()] = n
	}
	for c, n := range st.TxnsByChan {
		chans[c.String()] = n
	}
	type batchJSON struct {
		ID       uint32 `json:"id"`
		File     string `json:"file"`
		SHA256   string `json:"sha256"`
		Format   string `json:"format"`
		Read     int    `json:"read"`
		Imported int    `json:"imported"`
		Rejected int    `json:"rejected"`
		Skipped  int    `json:"skipped"`
		At       string `json:"at"`
		// How the file gave its times, the finest step in seconds, and the
		// wall-clock zone of its times.
		TimeResolution string `json:"time_resolution,omitempty"`
		TimeUnit       int64  `json:"time_unit,omitempty"`
		TimeZone       string `json:"time_zone,omitempty"`
	}
	bs := make([]batchJSON, 0, len(st.Batches))
	for _, b := range st.Batches {
		bs = append(bs, batchJSON{b.ID, b.File, b.SHA256, b.Format, b.Read, b.Imported, b.Rejected, b.Skipped,
			b.At.UTC().Format(time.RFC3339), b.TimeResolution, b.TimeUnit, b.TimeZone})
	}
	return map[string]any{"entities": ents, "stubs": st.Stubs, "links": links,
		"transactions": st.Txns, "transactions_by_channel": chans, "batches": bs}
}

// writeJSON prints v as indented JSON. encoding/json escapes C0 controls;
// safetext.JSON escapes the C1 and bidi controls it leaves raw, so the JSON
// means the same and shows inert on a terminal.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(safetext.JSON(buf.Bytes()))
	return err
}
