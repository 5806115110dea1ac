package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui"
)

// withIndex opens the database, loads the index (stored again when it had
// to be rebuilt) and calls fn.
func withIndex(ctx context.Context, dbf dbFlags, stderr io.Writer, fn func(*graph.Index) error) error {
	db, err := dbf.open(false, false)
	if err != nil {
		return err
	}
	ix, err := loadIndex(ctx, db, stderr)
	db.Close()
	if err != nil {
		return err
	}
	return fn(ix)
}

// lookupRef resolves "card:…", "iin:…" to a node.
func lookupRef(ix *graph.Index, s string) (graph.NodeID, error) {
	ref, err := userRef(s, func(r graph.Ref) bool { _, ok := ix.Lookup(r); return ok })
	if err != nil {
		return 0, err
	}
	id, ok := ix.Lookup(ref)
	if !ok {
		return 0, fmt.Errorf("%s: %w", ref, graph.ErrNotFound)
	}
	return id, nil
}

func unixText(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

type stepOut struct {
	Ref     string `json:"ref"`
	Name    string `json:"name,omitempty"`
	Via     string `json:"via,omitempty"`
	Forward bool   `json:"forward,omitempty"`
	Tx      string `json:"tx,omitempty"`
	Amount  string `json:"amount,omitempty"`
	Time    string `json:"time,omitempty"`
}

func cmdPath(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("path", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	asJSON := fs.Bool("json", false, "print JSON")
	k := fs.Int("k", 1, "up to this many shortest simple paths")
	maxHops := fs.Int("max-hops", graph.MaxPathHops, "longest path searched (1–6)")
	directed := fs.Bool("directed", false, "follow money sender → receiver and links owner → owned only")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{"path needs two references, e.g. path card:4400… iin:8503…"}
	}
	if *k < 1 || *maxHops < 1 || *maxHops > graph.MaxPathHops {
		return usageError{fmt.Sprintf("--k must be ≥ 1 and --max-hops in 1–%d", graph.MaxPathHops)}
	}
	return withIndex(ctx, dbf, stderr, func(ix *graph.Index) error {
		a, err := lookupRef(ix, pos[0])
		if err != nil {
			return err
		}
		b, err := lookupRef(ix, pos[1])
		if err != nil {
			return err
		}
		paths, err := graph.KShortestPaths(ctx, ix, a, b, graph.PathOptions{MaxHops: *maxHops, Directed: *directed}, *k)
		if err != nil {
			return err
		}
		var out [][]stepOut
		for _, p := range paths {
			var steps []stepOut
			for i, s := range p {
				so := stepOut{Ref: ix.Ref(s.Node).String(), Name: ix.Name(s.Node)}
				if i > 0 {
					so.Forward = s.Forward
					if s.Money {
						so.Via = ix.TxChannel(s.Tx).String()
						so.Tx, so.Amount, so.Time = ix.TxID(s.Tx), graph.FormatMoney(s.Amount, ""), unixText(s.Time)
					} else {
						so.Via = s.Link.String()
					}
				}
				steps = append(steps, so)
			}
			out = append(out, steps)
		}
		if *asJSON {
			if out == nil {
				out = [][]stepOut{}
			}
			return writeJSON(stdout, map[string]any{"paths": out})
		}
		if len(out) == 0 {
			fmt.Fprintf(stdout, "no path within %d hops\n", *maxHops)
			return nil
		}
		for i, p := range out {
			fmt.Fprintf(stdout, "path %d · %d hops\n", i+1, len(p)-1)
			for j, s := range p {
				if j > 0 {
					arrow := "←"
					if s.Forward {
						arrow = "→"
					}
					extra := ""
					if s.Tx != "" {
						extra = fmt.Sprintf(" %s %s %s", s.Tx, s.Amount, s.Time)
					}
					fmt.Fprintf(stdout, "    %s %s%s\n", arrow, safetext.Line(s.Via), safetext.Line(extra))
				}
				fmt.Fprintf(stdout, "  %s %s\n", safetext.Line(s.Ref), safetext.Line(s.Name))
			}
		}
		return nil
	})
}

func cmdTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	asJSON := fs.Bool("json", false, "print JSON")
	backward := fs.Bool("backward", false, "follow the money back to where it came from")
	maxHops := fs.Int("max-hops", graph.DefaultTraceHops, "hop depth of the trace")
	maxDwell := fs.Duration("max-dwell", graph.DefaultDwell, "longest time money may sit on an instrument between hops")
	proportional := fs.Bool("proportional", false, "proportional (haircut) attribution instead of FIFO")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"trace needs one REF (card:…, iban:…) or transaction id"}
	}
	return withIndex(ctx, dbf, stderr, func(ix *graph.Index) error {
		var start graph.TraceStart
		if i, ok := ix.LookupTx(pos[0]); ok {
			start = graph.StartAtTx(i)
		} else {
			id, err := lookupRef(ix, pos[0])
			if err != nil {
				return err
			}
			start = graph.StartAtNode(id)
		}
		tr, err := graph.Trace(ctx, ix, start, graph.TraceOptions{Forward: !*backward, MaxHops: *maxHops,
			MaxDwell: *maxDwell, Proportional: *proportional})
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, traceJSON(ix, tr))
		}
		printTrace(stdout, ix, tr)
		return nil
	})
}

type traceHopOut struct {
	Ref      string `json:"ref"`
	Tx       string `json:"tx,omitempty"`
	Amount   int64  `json:"amount_minor"`
	Time     string `json:"time,omitempty"`
	Dwell    string `json:"dwell,omitempty"`
	Depth    int    `json:"depth"`
	Parent   int    `json:"parent"`
	End      string `json:"end,omitempty"`
	Children []int  `json:"children,omitempty"`
}

func traceJSON(ix *graph.Index, tr graph.FlowTrace) any {
	hops := make([]traceHopOut, 0, len(tr.Hops))
	for _, h := range tr.Hops {
		ho := traceHopOut{Ref: ix.Ref(h.Node).String(), Amount: h.Amount, Depth: h.Depth, Parent: h.Parent,
			End: h.End.String(), Children: h.Children}
		if h.HasTx {
			ho.Tx, ho.Time = ix.TxID(h.Tx), unixText(h.Time)
			ho.Dwell = h.Dwell.String()
		}
		hops = append(hops, ho)
	}
	ends := map[string]any{}
	for k, e := range tr.ByEnd {
		if name := graph.EndKind(k).String(); name != "" {
			ends[name] = map[string]int64{"hops": int64(e.Hops), "amount_minor": e.Amount}
		}
	}
	return map[string]any{"forward": tr.Forward, "truncated": tr.Truncated, "hops": hops, "by_depth": tr.ByDepth, "by_end": ends}
}

func printTrace(w io.Writer, ix *graph.Index, tr graph.FlowTrace) {
	var walk func(i int)
	walk = func(i int) {
		h := tr.Hops[i]
		line := strings.Repeat("  ", h.Depth) + safetext.Line(graph.RefTitle(ix.Ref(h.Node))) + "  " +
			graph.FormatShortMoney(h.Amount)
		if h.HasTx {
			line += fmt.Sprintf("  %s  after %s", safetext.Line(ix.TxID(h.Tx)), h.Dwell.Round(time.Minute))
		}
		if h.End != graph.EndNone {
			line += "  [" + h.End.String() + "]"
		}
		fmt.Fprintln(w, line)
		for _, c := range h.Children {
			walk(c)
		}
	}
	if len(tr.Hops) > 0 {
		walk(0)
	}
	fmt.Fprintln(w, "depth  nodes  amount")
	for _, d := range tr.ByDepth {
		fmt.Fprintf(w, "%5d  %5d  %s\n", d.Hops, d.Nodes, graph.FormatShortMoney(d.Amount))
	}
	for k, e := range tr.ByEnd {
		if name := graph.EndKind(k).String(); name != "" && e.Hops > 0 {
			fmt.Fprintf(w, "ends %-9s %4d hops  %s\n", name, e.Hops, graph.FormatShortMoney(e.Amount))
		}
	}
	if tr.Truncated {
		fmt.Fprintln(w, "(node budget reached: trace truncated)")
	}
}

// clusterOut is one cluster of either method. Members lists every member
// of every kind by its ref: the persons first, then the instruments (cards,
// accounts, wallets…); Persons and Instruments count them.
type clusterOut struct {
	Rank        int      `json:"rank"`
	Risk        float64  `json:"risk"`
	Flagged     int      `json:"flagged"`
	Members     []string `json:"members"`
	Persons     int      `json:"persons"`
	Instruments int      `json:"instruments"`
	Turnover    string   `json:"turnover"`
	TxCount     int      `json:"transactions"`
	First       string   `json:"first,omitempty"`
	Last        string   `json:"last,omitempty"`
}

func cmdClusters(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clusters", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	var rf ruleFlags
	rf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	by := fs.String("by", "risk", "rank by turnover or risk")
	method := fs.String("method", "groups", "groups: suspected groups of flagged entities, as on the TUI's Clusters screen; louvain: communities of the whole money graph")
	limit := fs.Int("limit", 20, "at most this many clusters (0: all)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *by != "risk" && *by != "turnover" {
		return usageError{"--by must be turnover or risk"}
	}
	if *method != "groups" && *method != "louvain" {
		return usageError{"--method must be groups or louvain"}
	}
	a, err := runRules(ctx, dbf, rf, stderr)
	if err != nil {
		return err
	}
	if *method == "groups" {
		list, err := a.Groups(ctx, tui.ClusterOrder(*by))
		if err != nil {
			return err
		}
		return printGroups(stdout, list, *limit, *asJSON)
	}
	ix, flags := a.Index(), a.Flags()
	comms, err := graph.Communities(ctx, ix, graph.CommunityOptions{})
	if err != nil {
		return err
	}
	risk := make(map[graph.NodeID]float64, len(flags.Risks))
	for _, r := range flags.Risks {
		risk[r.Node] = r.Score
	}
	rows := make([]clusterOut, 0, len(comms))
	for _, c := range comms {
		co := clusterOut{Turnover: graph.FormatMoney(c.Turnover, ""), TxCount: c.TxCount,
			Members: make([]string, 0, len(c.Members)+len(c.Instruments))}
		for _, n := range append(slices.Clone(c.Instruments), c.Members...) {
			co.Risk = max(co.Risk, risk[n])
			if risk[n] >= flags.Threshold {
				co.Flagged++
			}
		}
		// Persons first (the holders, and a person that moves money
		// itself), then the instruments; each member once.
		persons := slices.Clone(c.Members)
		var instruments []graph.NodeID
		for _, n := range c.Instruments {
			if ix.Kind(n) == graph.KindPerson {
				persons = append(persons, n)
			} else {
				instruments = append(instruments, n)
			}
		}
		slices.Sort(persons)
		persons = slices.Compact(persons)
		for _, m := range persons {
			co.Members = append(co.Members, ix.Ref(m).String())
		}
		for _, m := range instruments {
			co.Members = append(co.Members, ix.Ref(m).String())
		}
		co.Persons, co.Instruments = len(persons), len(instruments)
		if c.TxCount > 0 {
			co.First, co.Last = unixText(c.First), unixText(c.Last)
		}
		rows = append(rows, co)
	}
	turnover := make(map[int]int64, len(comms))
	for i := range comms {
		turnover[i] = comms[i].Turnover
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if *by == "risk" {
			if c := cmp.Compare(rows[b].Risk, rows[a].Risk); c != 0 {
				return c
			}
			if c := cmp.Compare(rows[b].Flagged, rows[a].Flagged); c != 0 {
				return c
			}
		}
		return cmp.Compare(turnover[b], turnover[a])
	})
	var out []clusterOut
	for r, i := range idx {
		if *limit > 0 && r == *limit {
			break
		}
		rows[i].Rank = r + 1
		out = append(out, rows[i])
	}
	if *asJSON {
		if out == nil {
			out = []clusterOut{}
		}
		return writeJSON(stdout, map[string]any{"communities": len(comms), "clusters": out})
	}
	for _, c := range out {
		fmt.Fprintf(stdout, "#%-3d risk %.2f  %d flagged  %d persons  %d instruments  %s in %d transactions  %s … %s\n",
			c.Rank, c.Risk, c.Flagged, c.Persons, c.Instruments, c.Turnover, c.TxCount, c.First, c.Last)
	}
	fmt.Fprintf(stdout, "%d of %d communities\n", len(out), len(comms))
	return nil
}

// printGroups prints suspected groups as the Clusters screen lists them.
func printGroups(w io.Writer, list []tui.Cluster, limit int, asJSON bool) error {
	out := []clusterOut{}
	for i, c := range list {
		if limit > 0 && i == limit {
			break
		}
		co := clusterOut{Rank: i + 1, Risk: c.Risk, Flagged: c.Flagged, Persons: c.Persons, Instruments: c.Instruments,
			Turnover: graph.FormatMoney(c.Turnover, ""), TxCount: c.TxCount, Members: make([]string, 0, len(c.Members))}
		for _, m := range c.Members {
			co.Members = append(co.Members, m.Ref.String())
		}
		if !c.First.IsZero() {
			co.First, co.Last = c.First.UTC().Format(time.RFC3339), c.Last.UTC().Format(time.RFC3339)
		}
		out = append(out, co)
	}
	if asJSON {
		return writeJSON(w, map[string]any{"groups": len(list), "clusters": out})
	}
	for _, c := range out {
		fmt.Fprintf(w, "#%-3d risk %.2f  %d flagged  %d persons  %d instruments  %s in %d transactions  %s … %s\n",
			c.Rank, c.Risk, c.Flagged, c.Persons, c.Instruments, c.Turnover, c.TxCount, c.First, c.Last)
	}
	fmt.Fprintf(w, "%d of %d suspected groups\n", len(out), len(list))
	return nil
}
