package workbench

import (
	"cmp"
	"context"
	"slices"
	"time"

	"casegraph/graph"
	"casegraph/tui"
)

// The rows the CLI twins of the graph analyses print or write as JSON:
// casegraph path, trace and clusters.

func unixText(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

// PathStep is one step of a path: the entity reached and, after the first,
// the link or the transaction that led there.
type PathStep struct {
	Ref     string `json:"ref"`
	Name    string `json:"name,omitempty"`
	Via     string `json:"via,omitempty"`
	Forward bool   `json:"forward,omitempty"`
	Tx      string `json:"tx,omitempty"`
	Amount  string `json:"amount,omitempty"`
	Time    string `json:"time,omitempty"`
}

// PathSteps finds up to k shortest simple paths from a to b on ix
// (casegraph path) and describes each step by step.
func PathSteps(ctx context.Context, ix *graph.Index, a, b graph.NodeID, opts graph.PathOptions, k int) ([][]PathStep, error) {
	paths, err := graph.KShortestPaths(ctx, ix, a, b, opts, k)
	if err != nil {
		return nil, err
	}
	var out [][]PathStep
	for _, p := range paths {
		var steps []PathStep
		for i, s := range p {
			so := PathStep{Ref: ix.Ref(s.Node).String(), Name: ix.Name(s.Node)}
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
	return out, nil
}

// TraceHop is one hop of a money trace.
type TraceHop struct {
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

// TraceEndRow is where an amount of traced money ended, in how many hops.
type TraceEndRow struct {
	Amount int64 `json:"amount_minor"`
	Hops   int64 `json:"hops"`
}

// TraceRows is casegraph trace --json. The fields are in the order of
// their JSON names.
type TraceRows struct {
	ByDepth   []graph.TraceDepth     `json:"by_depth"`
	ByEnd     map[string]TraceEndRow `json:"by_end"`
	Forward   bool                   `json:"forward"`
	Hops      []TraceHop             `json:"hops"`
	Truncated bool                   `json:"truncated"`
}

// TraceReport describes a money trace on ix hop by hop.
func TraceReport(ix *graph.Index, tr graph.FlowTrace) TraceRows {
	hops := make([]TraceHop, 0, len(tr.Hops))
	for _, h := range tr.Hops {
		ho := TraceHop{Ref: ix.Ref(h.Node).String(), Amount: h.Amount, Depth: h.Depth, Parent: h.Parent,
			End: h.End.String(), Children: h.Children}
		if h.HasTx {
			ho.Tx, ho.Time = ix.TxID(h.Tx), unixText(h.Time)
			ho.Dwell = h.Dwell.String()
		}
		hops = append(hops, ho)
	}
	ends := map[string]TraceEndRow{}
	for k, e := range tr.ByEnd {
		if name := graph.EndKind(k).String(); name != "" {
			ends[name] = TraceEndRow{Hops: int64(e.Hops), Amount: e.Amount}
		}
	}
	return TraceRows{Forward: tr.Forward, Truncated: tr.Truncated, Hops: hops, ByDepth: tr.ByDepth, ByEnd: ends}
}

// ClusterRow is one cluster of either method (suspected groups, Louvain
// communities). Members lists every member of every kind by its ref: the
// persons first, then the instruments (cards, accounts, wallets…); Persons
// and Instruments count them.
type ClusterRow struct {
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

// Communities finds the Louvain communities of the whole money graph
// (casegraph clusters --method louvain) and ranks them by the risk of their
// riskiest member and their flagged members when byRisk, else by turnover;
// it returns at most limit (0: all) and how many communities there are.
func (a *Analysis) Communities(ctx context.Context, byRisk bool, limit int) ([]ClusterRow, int, error) {
	ix, flags := a.ix, a.flags
	comms, err := graph.Communities(ctx, ix, graph.CommunityOptions{})
	if err != nil {
		return nil, 0, err
	}
	risk := make(map[graph.NodeID]float64, len(flags.Risks))
	for _, r := range flags.Risks {
		risk[r.Node] = r.Score
	}
	rows := make([]ClusterRow, 0, len(comms))
	for _, c := range comms {
		co := ClusterRow{Turnover: graph.FormatMoney(c.Turnover, ""), TxCount: c.TxCount,
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
		if byRisk {
			if c := cmp.Compare(rows[b].Risk, rows[a].Risk); c != 0 {
				return c
			}
			if c := cmp.Compare(rows[b].Flagged, rows[a].Flagged); c != 0 {
				return c
			}
		}
		return cmp.Compare(turnover[b], turnover[a])
	})
	var out []ClusterRow
	for r, i := range idx {
		if limit > 0 && r == limit {
			break
		}
		rows[i].Rank = r + 1
		out = append(out, rows[i])
	}
	return out, len(comms), nil
}

// GroupRows describes the first limit (0: all) suspected groups of list.
func GroupRows(list []tui.Cluster, limit int) []ClusterRow {
	out := []ClusterRow{}
	for i, c := range list {
		if limit > 0 && i == limit {
			break
		}
		co := ClusterRow{Rank: i + 1, Risk: c.Risk, Flagged: c.Flagged, Persons: c.Persons, Instruments: c.Instruments,
			Turnover: graph.FormatMoney(c.Turnover, ""), TxCount: c.TxCount, Members: make([]string, 0, len(c.Members))}
		for _, m := range c.Members {
			co.Members = append(co.Members, m.Ref.String())
		}
		if !c.First.IsZero() {
			co.First, co.Last = c.First.UTC().Format(time.RFC3339), c.Last.UTC().Format(time.RFC3339)
		}
		out = append(out, co)
	}
	return out
}
