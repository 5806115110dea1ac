package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/importers"
	"casegraph/internal/safetext"
	"casegraph/store"
	"casegraph/workbench"
)

func cmdSearch(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	asJSON := fs.Bool("json", false, "print JSON")
	kindName := fs.String("kind", "", "only this kind: person, card, account, wallet, exchange, group, …")
	limit := fs.Int("limit", 20, "at most this many results")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"search needs a QUERY"}
	}
	kind := graph.KindUnknown
	if *kindName != "" {
		if kind, err = graph.ParseKind(*kindName); err != nil {
			return usageError{err.Error()}
		}
	}
	db, err := dbf.openToAnalyse()
	if err != nil {
		return err
	}
	defer db.Close()
	b := newBackend(db)
	if _, _, err := b.LoadSearch(ctx); err != nil {
		return err
	}
	start := time.Now()
	res, err := b.Search(ctx, strings.Join(pos, " "), kind, *limit)
	if err != nil {
		return err
	}
	took := time.Since(start)
	if *asJSON {
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
}

func searchJSON(res graph.SearchResult) any {
	hits := make([]hitJSON, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, hitJSON{Ref: h.Doc.Ref.String(), Kind: h.Doc.Ref.Kind.String(), Label: h.Doc.Label,
			Facts: h.Doc.Facts, Term: h.Term, Matched: h.Matched, Score: h.Score, Stub: h.Doc.Stub})
	}
	return map[string]any{"query": res.Query, "total": res.Total, "hits": hits}
}

func cmdShow(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", 50, "at most this many neighbours and transactions")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"show needs exactly one REF, e.g. card:4400430000000015 or iin:850312300002"}
	}
	db, b, ref, err := openRef(ctx, dbf, pos[0], true)
	if err != nil {
		return err
	}
	defer db.Close()
	e, err := b.Entity(ctx, ref)
	if err != nil {
		return fmt.Errorf("show %s: %w", ref, err)
	}
	nbs, nbTotal, err := b.Neighbors(ctx, ref, *limit)
	if err != nil {
		return fmt.Errorf("neighbours of %s: %w", ref, err)
	}
	page, err := b.Transactions(ctx, ref, graph.TxQuery{Sort: graph.SortTimeDesc, Limit: *limit})
	if err != nil {
		return fmt.Errorf("transactions of %s: %w", ref, err)
	}
	if *asJSON {
		return writeJSON(stdout, showJSON(e, nbs, nbTotal, page))
	}
	printShow(stdout, e, nbs, nbTotal, page)
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
	db, err := dbf.open(false, readOnly)
	if err != nil {
		return nil, nil, graph.Ref{}, err
	}
	ref, err := userRef(arg, inStore(ctx, db))
	if err != nil {
		db.Close()
		return nil, nil, graph.Ref{}, err
	}
	return db, newBackend(db), ref, nil
}

func userRef(s string, known func(graph.Ref) bool) (graph.Ref, error) {
	ref, err := importers.ParseRef(s)
	if err == nil {
		return ref, nil
	}
	if raw, rawErr := graph.ParseRef(s); rawErr == nil && known(raw) {
		return raw, nil
	}
	return graph.Ref{}, usageError{err.Error()}
}

// inStore is userRef's known for commands that have the database open.
func inStore(ctx context.Context, db *store.DB) func(graph.Ref) bool {
	return func(r graph.Ref) bool {
		_, err := db.Entity(ctx, r)
		return err == nil
	}
}

func printShow(w io.Writer, e graph.Entity, nbs []graph.Neighbor, nbTotal int, page graph.TxPage) {
	line := safetext.Line
	fmt.Fprintf(w, "%s %s  (%s)\n", strings.ToUpper(e.Ref.Kind.String()), line(graph.Title(e)), line(e.Ref.String()))
	if e.Stub {
		fmt.Fprintln(w, "  stub: referenced by other records but not imported itself")
	}
	for _, kv := range e.SortedProps() {
		fmt.Fprintf(w, "  %-14s %s\n", line(kv[0]), line(kv[1]))
	}
	fmt.Fprintf(w, "  %-14s %s\n", "source", line(e.Src.String()))
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
		dir, other := "→", t.To
		if t.To == e.Ref {
			dir, other = "←", t.From
		}
		fmt.Fprintf(w, "  %s  %-8s %s %-34s %18s  %s\n", t.Time.In(almaty).Format("2006-01-02 15:04"),
			t.Channel, dir, line(other.String()), line(graph.FormatMoney(t.Amount, t.Currency)), line(t.ID))
	}
}

func showJSON(e graph.Entity, nbs []graph.Neighbor, nbTotal int, page graph.TxPage) any {
	type nbJSON struct {
		Ref      string `json:"ref"`
		Name     string `json:"name,omitempty"`
		Relation string `json:"relation"`
		Dir      string `json:"direction"`
		Count    int    `json:"count"`
		Amount   string `json:"amount"`
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
	}
	ns := make([]nbJSON, 0, len(nbs))
	for _, n := range nbs {
		dir := "out"
		if n.Dir == graph.DirIn {
			dir = "in"
		}
		ns = append(ns, nbJSON{n.Ref.String(), n.Name, n.Relation, dir, n.Count, decimal(n.Amount)})
	}
	ts := make([]txJSON, 0, len(page.Txns))
	for _, t := range page.Txns {
		ts = append(ts, txJSON{t.ID, t.Time.UTC().Format(time.RFC3339), t.From.String(), t.To.String(),
			decimal(t.Amount), t.Currency, t.Channel.String(), t.Reference})
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

func cmdStats(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	db, err := dbf.open(false, true)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := newBackend(db).Stats(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
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
