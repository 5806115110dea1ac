package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"casegraph/graph"
	"casegraph/store"
)

// cmdResolve lists entity-resolution merges and proposals over the persons,
// organisations and exchanges of a database, leaving out the pairs that a
// same_as link already records or an analyst rejected; with --apply it
// writes the deterministic merges, and the proposals named by --accept, as
// same_as links through an incremental loader, and records the proposals
// named by --reject as rejected. --revert A=B removes the same_as link
// between two entities.
func cmdResolve(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("resolve", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, "")
	apply := fs.Bool("apply", false, "write deterministic merges (and accepted proposals) as same_as links")
	accept := fs.String("accept", "", "proposal numbers to accept with --apply, e.g. 1,3,4")
	reject := fs.String("reject", "", "proposal numbers to reject with --apply (not proposed again), e.g. 2,5")
	revert := fs.String("revert", "", "remove the same_as link between two entities: REF=REF, e.g. iin:850312300002=iin:ftm:p1")
	minScore := fs.Float64("min-score", 0.85, "smallest name score proposed")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{"resolve takes no arguments"}
	}
	accepted, err := parseNumbers("--accept", *accept)
	if err != nil {
		return err
	}
	rejected, err := parseNumbers("--reject", *reject)
	if err != nil {
		return err
	}
	if (len(accepted) > 0 || len(rejected) > 0) && !*apply {
		return usageError{"--accept and --reject need --apply"}
	}
	for n := range accepted {
		if rejected[n] {
			return usageError{fmt.Sprintf("proposal %d is both accepted and rejected", n)}
		}
	}
	if *revert != "" {
		if *apply {
			return usageError{"--revert does not go with --apply"}
		}
		return revertCmd(ctx, dbf, *revert, stdout)
	}
	db, err := dbf.open(false, !*apply)
	if err != nil {
		return err
	}
	defer db.Close()

	r, err := resolveStore(ctx, db, *minScore, nil)
	if err != nil {
		return err
	}
	res := r.res
	for _, nums := range []map[int]bool{accepted, rejected} {
		for n := range nums {
			if n < 1 || n > len(res.Proposals) {
				return usageError{fmt.Sprintf("proposal %d: there are %d proposals", n, len(res.Proposals))}
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resolutionJSON(r)); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
	} else {
		printResolution(stdout, r, accepted, rejected)
	}
	if !*apply {
		return nil
	}
	for i, m := range res.Proposals {
		if !rejected[i+1] {
			continue
		}
		if _, err := db.RejectMatch(ctx, actor(), store.Rejection{A: m.A, B: m.B, Score: m.Score, Method: m.Method}); err != nil {
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
	loader, err := db.NewLoader()
	if err != nil {
		return fmt.Errorf("start writing same_as links: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			loader.Abort()
		}
	}()
	h := sha256.New()
	fmt.Fprintf(h, "resolve %s", time.Now().UTC().Format(time.RFC3339Nano))
	for _, l := range links {
		fmt.Fprintf(h, "\n%s %s %s", l.From, l.To, l.Role)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	batch := loader.BeginBatch("resolve", sum, "same_as")
	for _, l := range links {
		l.Src = graph.Provenance{File: "resolve", Line: 0, Batch: batch}
		if err := loader.PutLink(l); err != nil {
			return fmt.Errorf("write same_as %s → %s: %w", l.From, l.To, err)
		}
	}
	if err := loader.EndBatch(graph.Batch{ID: batch, Read: len(links), Imported: len(links), At: time.Now().UTC()}); err != nil {
		return err
	}
	if err := loader.Finish(ctx, nil); err != nil {
		return fmt.Errorf("finish writing same_as links: %w", err)
	}
	ok = true
	fmt.Fprintf(stdout, "wrote %d same_as links as batch #%d\n", len(links), batch)
	return nil
}

// revertCmd removes the same_as link named by "A=B", in either direction.
func revertCmd(ctx context.Context, dbf dbFlags, pair string, stdout io.Writer) error {
	as, bs, ok := strings.Cut(pair, "=")
	if !ok {
		return usageError{fmt.Sprintf("--revert %q: want REF=REF, e.g. iin:850312300002=iin:ftm:p1", pair)}
	}
	a, err := graph.ParseRef(as)
	if err != nil {
		return usageError{"--revert: " + err.Error()}
	}
	b, err := graph.ParseRef(bs)
	if err != nil {
		return usageError{"--revert: " + err.Error()}
	}
	db, err := dbf.open(false, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := revertSameAs(ctx, db, a, b); err != nil {
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
			return nil, usageError{fmt.Sprintf("%s %q: want proposal numbers such as 1,3", flagName, s)}
		}
		out[n] = true
	}
	return out, nil
}

func printResolution(w io.Writer, r resolution, accepted, rejected map[int]bool) {
	res := r.res
	fmt.Fprintf(w, "%d entities compared · already decided: %d linked, %d rejected\n", r.count, r.linked, r.rejected)
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

func resolutionJSON(r resolution) map[string]any {
	res := r.res
	conv := func(ms []graph.Match) []matchJSON {
		out := make([]matchJSON, 0, len(ms))
		for _, m := range ms {
			out = append(out, matchJSON{A: m.A.String(), B: m.B.String(), Score: m.Score, Method: m.Method, Names: m.Names})
		}
		return out
	}
	return map[string]any{"merges": conv(res.Merges), "proposals": conv(res.Proposals), "skipped_blocks": res.Skipped,
		"entities": r.count, "linked": r.linked, "rejected": r.rejected}
}
