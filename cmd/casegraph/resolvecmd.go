package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"casegraph/graph"
	"casegraph/tui"
	"casegraph/workbench"
)

// cmdResolve lists entity-resolution merges and proposals over the persons,
// organisations and exchanges of a database, leaving out the pairs that a
// same_as link already records or an analyst rejected; with --apply it
// writes the deterministic merges, and the proposals named by --accept, as
// same_as links through an incremental loader, and records the proposals
// named by --reject as rejected. --revert A=B removes the same_as link
// between two entities.
// resolveCmd: casegraph resolve --db DIR.
type resolveCmd struct {
	DB       dbArgs  `embed:"" set:"db_default=" set:"db_help= (required)"`
	Apply    bool    `help:"write deterministic merges (and accepted proposals) as same_as links"`
	Accept   string  `placeholder:"N,M" help:"proposal numbers to accept with --apply, e.g. 1,3,4"`
	Reject   string  `placeholder:"N,M" help:"proposal numbers to reject with --apply (not proposed again), e.g. 2,5"`
	Revert   string  `placeholder:"REF=REF" help:"remove the same_as link between two entities: REF=REF, e.g. iin:850312300002=iin:ftm:p1"`
	MinScore float64 `name:"min-score" default:"0.85" placeholder:"S" help:"smallest name score proposed"`
	JSON     bool    `name:"json" help:"print JSON"`
}

func (c *resolveCmd) Run(e *env) error { return cmdResolve(e.ctx, c, e.stdout) }

func cmdResolve(ctx context.Context, c *resolveCmd, stdout io.Writer) error {
	dbf := c.DB.flags()
	accepted, err := parseNumbers("--accept", c.Accept)
	if err != nil {
		return err
	}
	rejected, err := parseNumbers("--reject", c.Reject)
	if err != nil {
		return err
	}
	if (len(accepted) > 0 || len(rejected) > 0) && !c.Apply {
		return usageError{msg: "--accept and --reject need --apply"}
	}
	for n := range accepted {
		if rejected[n] {
			return usageError{msg: fmt.Sprintf("proposal %d is both accepted and rejected", n)}
		}
	}
	if c.Revert != "" {
		if c.Apply {
			return usageError{msg: "--revert does not go with --apply"}
		}
		return revertCmd(ctx, dbf, c.Revert, stdout)
	}
	db, err := dbf.open(false, !c.Apply)
	if err != nil {
		return err
	}
	defer db.Close()

	wb := newBackend(db)
	r, err := wb.Resolve(ctx, c.MinScore, nil)
	if err != nil {
		return err
	}
	res := r.Result
	for _, nums := range []map[int]bool{accepted, rejected} {
		for n := range nums {
			if n < 1 || n > len(res.Proposals) {
				return usageError{msg: fmt.Sprintf("proposal %d: there are %d proposals", n, len(res.Proposals))}
			}
		}
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resolutionJSON(r)); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
	} else {
		printResolution(stdout, r, accepted, rejected)
	}
	if !c.Apply {
		return nil
	}
	for i, m := range res.Proposals {
		if !rejected[i+1] {
			continue
		}
		if err := wb.Reject(ctx, tui.Proposal{Match: m}); err != nil {
			return err
		}
	}
	if len(rejected) > 0 {
		fmt.Fprintf(stdout, "rejected %d proposals: they are not proposed again\n", len(rejected))
	}
	var links []graph.Link
	for _, m := range res.Merges {
		links = append(links, m.Link("auto", graph.Provenance{}))
	}
	for i, m := range res.Proposals {
		if accepted[i+1] {
			links = append(links, m.Link("accepted", graph.Provenance{}))
		}
	}
	if len(links) == 0 {
		fmt.Fprintln(stdout, "nothing to write")
		return nil
	}
	batch, err := wb.WriteSameAs(ctx, links)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d same_as links as batch #%d\n", len(links), batch)
	return nil
}

// revertCmd removes the same_as link named by "A=B", in either direction.
func revertCmd(ctx context.Context, dbf dbFlags, pair string, stdout io.Writer) error {
	as, bs, ok := strings.Cut(pair, "=")
	if !ok {
		return usageError{msg: fmt.Sprintf("--revert %q: want REF=REF, e.g. iin:850312300002=iin:ftm:p1", pair)}
	}
	a, err := graph.ParseRef(as)
	if err != nil {
		return usageError{msg: "--revert: " + err.Error()}
	}
	b, err := graph.ParseRef(bs)
	if err != nil {
		return usageError{msg: "--revert: " + err.Error()}
	}
	db, err := dbf.open(false, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := newBackend(db).RevertSameAs(ctx, a, b); err != nil {
		return fmt.Errorf("revert same_as %s = %s: %w", a, b, err)
	}
	fmt.Fprintf(stdout, "removed same_as %s = %s\n", a, b)
	return nil
}

func parseNumbers(flagName, s string) (map[int]bool, error) {
	out := map[int]bool{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, usageError{msg: fmt.Sprintf("%s %q: want proposal numbers such as 1,3", flagName, s)}
		}
		out[n] = true
	}
	return out, nil
}

func printResolution(w io.Writer, r workbench.Resolution, accepted, rejected map[int]bool) {
	res := r.Result
	fmt.Fprintf(w, "%d entities compared · already decided: %d linked, %d rejected\n", r.Count, r.Linked, r.Rejected)
	fmt.Fprintf(w, "deterministic merges: %d\n", len(res.Merges))
	for _, m := range res.Merges {
		fmt.Fprintf(w, "  %s = %s  (%s)\n", m.A, m.B, m.Role())
	}
	fmt.Fprintf(w, "proposals: %d\n", len(res.Proposals))
	for i, m := range res.Proposals {
		mark := " "
		switch {
		case accepted[i+1]:
			mark = "✓"
		case rejected[i+1]:
			mark = "✗"
		}
		fmt.Fprintf(w, "%s %3d. %.2f  %s %q ~ %s %q\n", mark, i+1, m.Score, m.A, m.Names[0], m.B, m.Names[1])
	}
	if res.Skipped > 0 {
		fmt.Fprintf(w, "%d birth-date blocks were too large to compare\n", res.Skipped)
	}
}

type matchJSON struct {
	A, B   string
	Score  float64
	Method string
	Names  [2]string `json:",omitempty"`
}

func resolutionJSON(r workbench.Resolution) map[string]any {
	res := r.Result
	conv := func(ms []graph.Match) []matchJSON {
		out := make([]matchJSON, 0, len(ms))
		for _, m := range ms {
			out = append(out, matchJSON{A: m.A.String(), B: m.B.String(), Score: m.Score, Method: m.Method, Names: m.Names})
		}
		return out
	}
	return map[string]any{"merges": conv(res.Merges), "proposals": conv(res.Proposals), "skipped_blocks": res.Skipped,
		"entities": r.Count, "linked": r.Linked, "rejected": r.Rejected}
}
