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
	DB    dbArgs   `embed:""`
	JSON  bool     `name:"json" help:"print JSON"`
	Limit int      `default:"50" placeholder:"N" help:"at most this many neighbours and transactions"`
	Ref   []string `arg:"" optional:"" name:"ref" help:"card:…, iin:…, iban:…, exchange:…, group:…"`
}

func (c *showCmd) Run(e *env) error { return cmdShow(e.ctx, c, e.stdout) }

func cmdShow(ctx context.Context, c *showCmd, stdout io.Writer) error {
	dbf, pos := c.DB.flags(), c.Ref
	if len(pos) != 1 {
		return usageError{msg: "show needs exactly one REF, e.g. card:4400430000000015 or iin:850312300002"}
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
	// A person's or organisation's: their counterparties over everything
	// they hold, and their transactions merged.
	// A cluster (wb nil) has neither holdings nor a kept analysis yet
	// (docs/DGRAPH.md): its own neighbours only.
	var nbs []graph.Neighbor
	var nbTotal int
	if wb != nil {
		nbs, nbTotal, err = wb.HolderNeighbors(ctx, ref, graph.Ref{}, c.Limit)
	} else {
		nbs, nbTotal, err = b.Neighbors(ctx, ref, c.Limit)
	}
	if err != nil {
		return fmt.Errorf("neighbours of %s: %w", ref, err)
	}
	page, err := b.Transactions(ctx, ref, graph.TxQuery{Sort: graph.SortTimeDesc, Limit: c.Limit})
	if err != nil {
		return fmt.Errorf("transactions of %s: %w", ref, err)
	}
	var risk workbench.EntityRisk
	var hasRisk bool
	var held graph.Holdings
	if wb != nil {
		if risk, hasRisk, err = wb.EntityRisk(ctx, ref); err != nil {
			return fmt.Errorf("risk of %s: %w", ref, err)
		}
		if held, err = wb.Holdings(ctx, ref, 10); err != nil {
			return fmt.Errorf("holdings of %s: %w", ref, err)
		}
	}
	if c.JSON {
		out := showJSON(e, nbs, nbTotal, page)
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
	printShow(stdout, e, riskLines, nbs, nbTotal, page)
	return nil
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

func printShow(w io.Writer, e graph.Entity, risk []string, nbs []graph.Neighbor, nbTotal int, page graph.TxPage) {
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
		return
	}
	fmt.Fprintf(w, "\ntransactions %d · in %s · out %s\n", page.Total,
		graph.FormatMoney(page.In, ""), graph.FormatMoney(page.Out, ""))
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
