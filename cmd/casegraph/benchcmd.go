package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/tui"
	"casegraph/tui/search"
	"casegraph/workbench"
)

// processStart is as close to the process start as Go lets a program see.
var processStart = time.Now()

// benchReport is what `casegraph bench` measures on one database: the
// start-up (T7), search latency (T5), transaction pages (T6) and memory (T8)
// targets of docs/PERFORMANCE.md.
type benchReport struct {
	DB            string  `json:"db"`
	Entities      int     `json:"entities"`
	Txns          int     `json:"transactions"`
	OpenMS        float64 `json:"open_ms"`
	FirstFrameMS  float64 `json:"first_frame_ms"`
	StatsFrameMS  float64 `json:"first_frame_with_counts_ms"`
	SearchReadyMS float64 `json:"search_ready_ms"`
	SearchDocs    int     `json:"search_docs"`
	SearchSource  string  `json:"search_source"`
	Keystroke     latency `json:"keystroke"`
	KeystrokeCold latency `json:"keystroke_cold"`
	FirstPage     latency `json:"first_page_sample"`
	HubFirstPage  latency `json:"first_page_hubs"`
	HubMaxTxns    int     `json:"hub_max_transactions"`
	Neighbors     latency `json:"neighbours_sample"`
	// NamesFromSearch: the neighbour rows were named from the search index.
	NamesFromSearch bool               `json:"neighbour_names_from_search"`
	RSSMiB          float64            `json:"rss_mib"`
	RSSAnonMiB      float64            `json:"rss_anon_mib"`
	RSSFileMiB      float64            `json:"rss_file_mib"`
	PeakRSSMiB      float64            `json:"peak_rss_mib"`
	HeapMiB         float64            `json:"heap_mib"`
	Queries         map[string]float64 `json:"query_ms"`
	Slowest         []keystroke        `json:"slowest_keystrokes"`
	GoMaxProcs      int                `json:"gomaxprocs"`
	MeasuredAtUTC   string             `json:"measured_at_utc"`
	KeystrokeCount  int                `json:"keystrokes"`

	// On a cluster, the same keystrokes through the search pane
	// (paneKeys): until the local hits show, and until the cluster's are
	// merged (DebounceMS included); the local index's documents after.
	KeystrokeLocal  latency `json:"keystroke_local,omitzero"`
	KeystrokeMerged latency `json:"keystroke_merged,omitzero"`
	DebounceMS      float64 `json:"debounce_ms,omitempty"`
	LocalDocs       int     `json:"local_search_docs,omitempty"`
}

// keystroke is one query as typed so far and how long its search took.
type keystroke struct {
	Query string  `json:"query"`
	MS    float64 `json:"ms"`
}

type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := min(len(s)-1, int(q*float64(len(s))))
		return ms(s[i])
	}
	return latency{N: len(s), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// typedQueries are whole words typed one keystroke at a time: Cyrillic and
// Latin names, card digits, IBAN and exchange prefixes.
var typedQueries = []string{"нурлан", "ерлан", "zhanbol", "akhmet", "44001", "4400 43", "kz86", "binance", "обмен", "ahmt"}

// typedKey is one prefix of a typed word and how long its search took.
type typedKey struct {
	word, query string
	took        time.Duration
}

// typeQueries searches every prefix of the typed words in order, forgetting
// the index's earlier queries before each one when cold.
func typeQueries(ctx context.Context, b *workbench.Workbench, cold bool) ([]typedKey, error) {
	var out []typedKey
	// A cluster answers queries of dgraphdb.MinQuery characters and more:
	// shorter prefixes cost nothing there and are not measured.
	first := 1
	if b.Remote() != nil {
		first = dgraphdb.MinQuery
	}
	for _, w := range typedQueries {
		runes := []rune(w)
		for i := first; i <= len(runes); i++ {
			if cold {
				b.ForgetQueries()
			}
			q := string(runes[:i])
			t0 := time.Now()
			if _, err := b.Search(ctx, q, graph.KindUnknown, 50); err != nil {
				return nil, err
			}
			out = append(out, typedKey{w, q, time.Since(t0)})
		}
	}
	return out, nil
}

// benchCmd: casegraph bench.
type benchCmd struct {
	DB      dbArgs          `embed:""`
	JSON    bool            `name:"json" help:"print JSON"`
	Samples int             `default:"300" placeholder:"N" help:"instruments sampled for transaction pages and neighbours"`
	Serve   serveBenchFlags `embed:""`
}

func (c *benchCmd) Run(e *env) error { return cmdBench(e.ctx, c, e.stdout) }

func cmdBench(ctx context.Context, c *benchCmd, stdout io.Writer) error {
	dbf := c.DB.flags()
	if c.Serve.Sessions > 0 {
		return benchServe(ctx, dbf, c.Serve, c.JSON, stdout)
	}
	r := benchReport{DB: dbf.dir, Queries: map[string]float64{}, GoMaxProcs: runtime.GOMAXPROCS(0),
		MeasuredAtUTC: time.Now().UTC().Format(time.RFC3339)}

	// T7: first frame. The TUI draws its first frame as soon as the database
	// is open; counts arrive with the first Stats call.
	b, list, done, err := openBench(ctx, dbf)
	if err != nil {
		return err
	}
	defer done()
	r.OpenMS = ms(time.Since(processStart))
	m := tui.New(b, tui.Options{})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	_ = m.View()
	r.FirstFrameMS = ms(time.Since(processStart))
	st, err := b.Stats(ctx)
	if err != nil {
		return err
	}
	for _, n := range st.Entities {
		r.Entities += n
	}
	r.Txns = st.Txns
	_ = m.View()
	r.StatsFrameMS = ms(time.Since(processStart))

	n, _, err := b.LoadSearch(ctx)
	if err != nil {
		return err
	}
	r.SearchDocs = n
	r.SearchSource = b.SearchSource()
	r.SearchReadyMS = ms(time.Since(processStart))

	// On a cluster: the keystrokes through the search pane first, in a
	// session whose local index holds only what LoadSearch put there.
	if b.SearchServer() != "" {
		local, merged, err := paneKeys(ctx, b)
		if err != nil {
			return err
		}
		r.KeystrokeLocal, r.KeystrokeMerged = summarize(local), summarize(merged)
		r.DebounceMS = ms(search.Debounce)
		r.LocalDocs = b.LocalSearchDocs()
	}

	// T5: every keystroke of whole typed words, as the TUI issues them; then
	// the same prefixes cold, each scanned from scratch with no earlier query
	// to narrow from or remembered answer (a pasted query).
	typed, err := typeQueries(ctx, b, false)
	if err != nil {
		return err
	}
	cold, err := typeQueries(ctx, b, true)
	if err != nil {
		return err
	}
	keys := make([]time.Duration, len(typed))
	for i, k := range typed {
		keys[i] = k.took
		if i+1 == len(typed) || typed[i+1].word != k.word {
			r.Queries[k.word] = ms(k.took)
		}
	}
	r.Keystroke = summarize(keys)
	r.KeystrokeCount = len(keys)
	coldKeys := make([]time.Duration, len(cold))
	for i, k := range cold {
		coldKeys[i] = k.took
	}
	r.KeystrokeCold = summarize(coldKeys)
	slices.SortStableFunc(typed, func(a, b typedKey) int { return cmp.Compare(b.took, a.took) })
	for _, k := range typed[:min(5, len(typed))] {
		r.Slowest = append(r.Slowest, keystroke{k.query, ms(k.took)})
	}

	// T6: first page of transactions and the neighbours of sampled
	// instruments, and of every ATM (the hubs of a cash-out network).
	var instruments, atms []graph.Ref
	err = list(ctx, func(ref graph.Ref) {
		switch ref.Kind {
		case graph.KindCard, graph.KindAccount:
			instruments = append(instruments, ref)
		case graph.KindATM, graph.KindExchange:
			atms = append(atms, ref)
		}
	})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(instruments), func(i, j int) { instruments[i], instruments[j] = instruments[j], instruments[i] })
	instruments = instruments[:min(len(instruments), c.Samples)]
	var pages, nbs, hubs []time.Duration
	q := graph.TxQuery{Sort: graph.SortTimeDesc, Limit: 50}
	for _, ref := range instruments {
		t0 := time.Now()
		if _, err := b.Transactions(ctx, ref, q); err != nil {
			return err
		}
		pages = append(pages, time.Since(t0))
		t0 = time.Now()
		if _, _, err := b.Neighbors(ctx, ref, 500); err != nil {
			return err
		}
		nbs = append(nbs, time.Since(t0))
	}
	for _, ref := range atms {
		t0 := time.Now()
		p, err := b.Transactions(ctx, ref, q)
		if err != nil {
			return err
		}
		hubs = append(hubs, time.Since(t0))
		r.HubMaxTxns = max(r.HubMaxTxns, p.Total)
	}
	r.FirstPage, r.Neighbors, r.HubFirstPage = summarize(pages), summarize(nbs), summarize(hubs)
	r.NamesFromSearch = b.NamesFromSearch()

	// T8: memory with the database open and the search index loaded.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapMiB = float64(ms.HeapAlloc) / (1 << 20)
	mem := procMemMiB()
	r.RSSMiB, r.PeakRSSMiB, r.RSSAnonMiB, r.RSSFileMiB = mem["VmRSS:"], mem["VmHWM:"], mem["RssAnon:"], mem["RssFile:"]
	runtime.KeepAlive(b) // the search index must count as live above

	if c.JSON {
		return writeJSON(stdout, r)
	}
	printBench(stdout, r)
	return nil
}

// openBench opens what bench measures: a database folder (read-only) or a
// Dgraph cluster (--db dgraph://…, with its local store), and how to list
// the references of the instruments, ATMs and exchanges it samples.
func openBench(ctx context.Context, dbf dbFlags) (*workbench.Workbench, func(context.Context, func(graph.Ref)) error, func(), error) {
	if dbf.remote() {
		b, done, err := dbf.openRemote(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		list := func(ctx context.Context, fn func(graph.Ref)) error {
			for _, k := range []graph.Kind{graph.KindCard, graph.KindAccount, graph.KindATM, graph.KindExchange} {
				err := b.Remote().Entities(ctx, k, func(e graph.Entity) error { fn(e.Ref); return nil })
				if err != nil {
					return err
				}
			}
			return nil
		}
		return b, list, done, nil
	}
	db, err := dbf.open(false, true)
	if err != nil {
		return nil, nil, nil, err
	}
	list := func(ctx context.Context, fn func(graph.Ref)) error {
		return db.SearchDocs(ctx, func(d graph.SearchDoc) error { fn(d.Ref); return nil })
	}
	return newBackend(db), list, func() { db.Close() }, nil
}

// procRSS is the resident and peak resident set sizes in MiB (the load
// test's memory probe); zero where /proc is not there.
func procRSS() (rss, peak float64) {
	m := procMemMiB()
	return m["VmRSS:"], m["VmHWM:"]
}

// procMemMiB reads the memory figures of /proc/self/status, in MiB by their
// field names ("VmRSS:", "VmHWM:" the peak, "RssAnon:" the process's own
// memory, "RssFile:" mapped file pages the kernel may drop and read again);
// empty where /proc is not there.
func procMemMiB() map[string]float64 {
	out := map[string]float64{}
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] != "kB" {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		out[f[0]] = kb / 1024
	}
	return out
}

func printBench(w io.Writer, r benchReport) {
	fmt.Fprintf(w, "database %s: %s entities, %s transactions (GOMAXPROCS %d, %s)\n",
		r.DB, count(r.Entities), count(r.Txns), r.GoMaxProcs, r.MeasuredAtUTC)
	fmt.Fprintf(w, "T7 open %.1f ms · first frame %.1f ms · with counts %.1f ms · search ready %.0f ms (%s docs, %s)\n",
		r.OpenMS, r.FirstFrameMS, r.StatsFrameMS, r.SearchReadyMS, count(r.SearchDocs), r.SearchSource)
	fmt.Fprintf(w, "T5 keystroke → results over %d keystrokes: p50 %.1f ms · p95 %.1f ms · max %.1f ms\n",
		r.KeystrokeCount, r.Keystroke.P50, r.Keystroke.P95, r.Keystroke.Max)
	fmt.Fprintf(w, "   the same prefixes cold (nothing to narrow from or remembered): p50 %.1f ms · p95 %.1f ms · max %.1f ms\n",
		r.KeystrokeCold.P50, r.KeystrokeCold.P95, r.KeystrokeCold.Max)
	qs := make([]string, 0, len(r.Queries))
	for _, q := range typedQueries {
		qs = append(qs, fmt.Sprintf("%s %.1f", q, r.Queries[q]))
	}
	fmt.Fprintf(w, "   last keystroke (ms): %s\n", strings.Join(qs, " · "))
	if r.KeystrokeMerged.N > 0 {
		fmt.Fprintf(w, "   through the search pane, a pause after each key: local hits p50 %.1f ms · p95 %.1f ms · max %.1f ms; "+
			"the cluster's merged (%.0f ms debounce included) p50 %.0f ms · p95 %.0f ms · max %.0f ms; local index %s documents\n",
			r.KeystrokeLocal.P50, r.KeystrokeLocal.P95, r.KeystrokeLocal.Max, r.DebounceMS,
			r.KeystrokeMerged.P50, r.KeystrokeMerged.P95, r.KeystrokeMerged.Max, count(r.LocalDocs))
	}
	slow := make([]string, 0, len(r.Slowest))
	for _, k := range r.Slowest {
		slow = append(slow, fmt.Sprintf("%q %.1f", k.Query, k.MS))
	}
	fmt.Fprintf(w, "   slowest keystrokes (ms): %s\n", strings.Join(slow, " · "))
	fmt.Fprintf(w, "T6 first page (50 tx), %d sampled instruments: p50 %.2f ms · p99 %.2f ms · max %.2f ms\n",
		r.FirstPage.N, r.FirstPage.P50, r.FirstPage.P99, r.FirstPage.Max)
	fmt.Fprintf(w, "T6 first page, %d ATMs and exchanges (largest %s tx): p50 %.2f ms · max %.2f ms\n",
		r.HubFirstPage.N, count(r.HubMaxTxns), r.HubFirstPage.P50, r.HubFirstPage.Max)
	names := "names read from the store"
	if r.NamesFromSearch {
		names = "names from the search index"
	}
	fmt.Fprintf(w, "T6 neighbours, sampled instruments: p50 %.2f ms · p99 %.2f ms · max %.2f ms (%s)\n",
		r.Neighbors.P50, r.Neighbors.P99, r.Neighbors.Max, names)
	fmt.Fprintf(w, "T8 resident %.0f MiB (peak %.0f MiB): %.0f MiB the process's own, %.0f MiB mapped file pages; Go heap %.0f MiB\n",
		r.RSSMiB, r.PeakRSSMiB, r.RSSAnonMiB, r.RSSFileMiB, r.HeapMiB)
}
