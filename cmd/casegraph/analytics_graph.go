package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/internal/safetext"
	"casegraph/tui"
	"casegraph/workbench"
)

// withIndex opens the database, loads the index (stored again when it had
// to be rebuilt) and calls fn.
func withIndex(ctx context.Context, dbf dbFlags, stderr io.Writer, fn func(*graph.Index) error) error {
	defer dbf.releasePull()
	db, err := dbf.openToAnalyse(ctx)
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

// pathCmd: casegraph path REF REF.
type pathCmd struct {
	DB       dbArgs    `embed:""`
	Pull     pullFlags `embed:""`
	JSON     bool      `name:"json" help:"print JSON"`
	K        int       `name:"k" default:"1" placeholder:"N" help:"up to this many shortest simple paths"`
	MaxHops  int       `name:"max-hops" default:"${max_path_hops}" placeholder:"N" help:"longest path searched (1–${max_path_hops})"`
	Directed bool      `help:"follow money sender → receiver and links owner → owned only"`
	Refs     []string  `arg:"" optional:"" name:"ref" help:"the two ends: card:…, iin:…, iban:…"`
}

func (c *pathCmd) Run(e *env) error { return cmdPath(e.ctx, c, e.stdout, e.stderr) }

func cmdPath(ctx context.Context, c *pathCmd, stdout, stderr io.Writer) error {
	dbf, pos := c.DB.flags(), c.Refs
	if len(pos) != 2 {
		return usageError{msg: "path needs two references, e.g. path card:4400… iin:8503…"}
	}
	if c.K < 1 || c.MaxHops < 1 || c.MaxHops > graph.MaxPathHops {
		return usageError{msg: fmt.Sprintf("--k must be ≥ 1 and --max-hops in 1–%d", graph.MaxPathHops)}
	}
	// On a cluster: every path of at most --max-hops between the two ends
	// lies within half of it around one of them.
	var err error
	if dbf.pull, err = c.Pull.spec(dbf, (c.MaxHops+1)/2, stderr, pos...); err != nil {
		return err
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
		out, err := workbench.PathSteps(ctx, ix, a, b, graph.PathOptions{MaxHops: c.MaxHops, Directed: c.Directed}, c.K)
		if err != nil {
			return err
		}
		if c.JSON {
			if out == nil {
				out = [][]workbench.PathStep{}
			}
			return writeJSON(stdout, map[string]any{"paths": out})
		}
		if len(out) == 0 {
			fmt.Fprintf(stdout, "no path within %d hops\n", c.MaxHops)
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

// traceCmd: casegraph trace REF|TXID.
type traceCmd struct {
	DB           dbArgs        `embed:""`
	Pull         pullFlags     `embed:""`
	JSON         bool          `name:"json" help:"print JSON"`
	Backward     bool          `help:"follow the money back to where it came from"`
	MaxHops      int           `name:"max-hops" default:"${trace_hops}" placeholder:"N" help:"hop depth of the trace"`
	MaxDwell     time.Duration `name:"max-dwell" default:"${trace_dwell}" placeholder:"24h" help:"longest time money may sit on an instrument between hops"`
	Proportional bool          `help:"proportional (haircut) attribution instead of FIFO"`
	Start        []string      `arg:"" optional:"" name:"start" help:"a REF (card:…, iban:…; iin:… starts from everything the person holds) or a transaction id"`
}

func (c *traceCmd) Run(e *env) error { return cmdTrace(e.ctx, c, e.stdout, e.stderr) }

func cmdTrace(ctx context.Context, c *traceCmd, stdout, stderr io.Writer) error {
	dbf, pos := c.DB.flags(), c.Start
	if len(pos) != 1 {
		return usageError{msg: "trace needs one REF (card:…, iban:…, iin:… for everything a person holds) or transaction id"}
	}
	// On a cluster: the trail hop by hop, each hop following the money on
	// (later than it came, or back: earlier than it left).
	var err error
	if dbf.pull, err = c.Pull.spec(dbf, c.MaxHops, stderr, pos...); err != nil {
		return err
	}
	if dbf.pull != nil {
		dbf.pull.follow, dbf.pull.holders, dbf.pull.txSeeds = dgraphdb.FollowOut, true, true
		if c.Backward {
			dbf.pull.follow = dgraphdb.FollowIn
		}
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
		tr, err := graph.Trace(ctx, ix, start, graph.TraceOptions{Forward: !c.Backward, MaxHops: c.MaxHops,
			MaxDwell: c.MaxDwell, Proportional: c.Proportional})
		if err != nil {
			return err
		}
		if c.JSON {
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

// clustersCmd: casegraph clusters.
type clustersCmd struct {
	DB     dbArgs    `embed:""`
	Pull   pullFlags `embed:""`
	Rules  ruleFlags `embed:""`
	JSON   bool      `name:"json" help:"print JSON"`
	By     string    `default:"risk" placeholder:"turnover|risk" help:"rank by turnover or risk"`
	Method string    `default:"groups" placeholder:"groups|louvain" help:"groups: suspected groups of flagged entities, as on the TUI's Clusters screen; louvain: communities of the whole money graph"`
	Limit  int       `default:"20" placeholder:"N" help:"at most this many clusters (0: all)"`
}

func (c *clustersCmd) Run(e *env) error { return cmdClusters(e.ctx, c, e.stdout, e.stderr) }

func cmdClusters(ctx context.Context, c *clustersCmd, stdout, stderr io.Writer) error {
	dbf, rf := c.DB.flags(), c.Rules
	if c.By != "risk" && c.By != "turnover" {
		return usageError{msg: "--by must be turnover or risk"}
	}
	if c.Method != "groups" && c.Method != "louvain" {
		return usageError{msg: "--method must be groups or louvain"}
	}
	var err error
	if dbf.pull, err = c.Pull.spec(dbf, 2, stderr); err != nil {
		return err
	}
	a, err := runRules(ctx, dbf, rf, stderr)
	if err != nil {
		return err
	}
	if c.Method == "groups" {
		list, err := a.Groups(ctx, tui.ClusterOrder(c.By))
		if err != nil {
			return err
		}
		return printGroups(stdout, list, c.Limit, c.JSON)
	}
	out, comms, err := a.Communities(ctx, c.By == "risk", c.Limit)
	if err != nil {
		return err
	}
	if c.JSON {
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
