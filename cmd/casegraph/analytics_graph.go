package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui"
	"casegraph/workbench"
)

// withIndex opens the database, loads the index (stored again when it had
// to be rebuilt) and calls fn.
func withIndex(ctx context.Context, dbf dbFlags, stderr io.Writer, fn func(*graph.Index) error) error {
	db, err := dbf.openToAnalyse()
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
		out, err := workbench.PathSteps(ctx, ix, a, b, graph.PathOptions{MaxHops: *maxHops, Directed: *directed}, *k)
		if err != nil {
			return err
		}
		if *asJSON {
			if out == nil {
				out = [][]workbench.PathStep{}
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
		return usageError{"trace needs one REF (card:…, iban:…, iin:… for everything a person holds) or transaction id"}
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
			start = workbench.TraceStartAt(ix, id)
		}
		tr, err := graph.Trace(ctx, ix, start, graph.TraceOptions{Forward: !*backward, MaxHops: *maxHops,
			MaxDwell: *maxDwell, Proportional: *proportional})
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, workbench.TraceReport(ix, tr))
		}
		printTrace(stdout, ix, tr)
		return nil
	})
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
	out, comms, err := a.Communities(ctx, *by == "risk", *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		if out == nil {
			out = []workbench.ClusterRow{}
		}
		return writeJSON(stdout, map[string]any{"communities": comms, "clusters": out})
	}
	for _, c := range out {
		fmt.Fprintf(stdout, "#%-3d risk %.2f  %d flagged  %d persons  %d instruments  %s in %d transactions  %s … %s\n",
			c.Rank, c.Risk, c.Flagged, c.Persons, c.Instruments, c.Turnover, c.TxCount, c.First, c.Last)
	}
	fmt.Fprintf(stdout, "%d of %d communities\n", len(out), comms)
	return nil
}

// printGroups prints suspected groups as the Clusters screen lists them.
func printGroups(w io.Writer, list []tui.Cluster, limit int, asJSON bool) error {
	out := workbench.GroupRows(list, limit)
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
