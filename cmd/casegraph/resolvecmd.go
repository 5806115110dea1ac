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
)

// cmdResolve lists entity-resolution merges and proposals over the persons,
// organisations and exchanges of a database; with --apply it writes the
// deterministic merges, and the proposals named by --accept, as same_as
// links through an incremental loader.
func cmdResolve(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("resolve", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, "")
	apply := fs.Bool("apply", false, "write deterministic merges (and accepted proposals) as same_as links")
	accept := fs.String("accept", "", "proposal numbers to accept with --apply, e.g. 1,3,4")
	minScore := fs.Float64("min-score", 0.85, "smallest name score proposed")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{"resolve takes no arguments"}
	}
	accepted, err := parseAccept(*accept)
	if err != nil {
		return err
	}
	if len(accepted) > 0 && !*apply {
		return usageError{"--accept needs --apply"}
	}
	db, err := dbf.open(false, !*apply)
	if err != nil {
		return err
	}
	defer db.Close()

	var parties []graph.Party
	kinds := map[graph.Kind]bool{graph.KindPerson: true, graph.KindOrganisation: true, graph.KindExchange: true}
	if err := entitiesOf(ctx, db, kinds, func(e graph.Entity) error {
		parties = append(parties, graph.PartyOf(e))
		return nil
	}); err != nil {
		return fmt.Errorf("read entities of %s: %w", db.Dir(), err)
	}
	res, err := graph.Resolve(ctx, parties, graph.ResolveOptions{MinScore: *minScore})
	if err != nil {
		return err
	}
	for n := range accepted {
		if n < 1 || n > len(res.Proposals) {
			return usageError{fmt.Sprintf("--accept %d: there are %d proposals", n, len(res.Proposals))}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resolutionJSON(res)); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
	} else {
		printResolution(stdout, res, accepted)
	}
	if !*apply {
		return nil
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

func parseAccept(s string) (map[int]bool, error) {
	out := map[int]bool{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, usageError{fmt.Sprintf("--accept %q: want proposal numbers such as 1,3", s)}
		}
		out[n] = true
	}
	return out, nil
}

func printResolution(w io.Writer, res graph.Resolution, accepted map[int]bool) {
	fmt.Fprintf(w, "deterministic merges: %d\n", len(res.Merges))
	for _, m := range res.Merges {
		fmt.Fprintf(w, "  %s = %s  (%s)\n", m.A, m.B, m.Role())
	}
	fmt.Fprintf(w, "proposals: %d\n", len(res.Proposals))
	for i, m := range res.Proposals {
		mark := " "
		if accepted[i+1] {
			mark = "✓"
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

func resolutionJSON(res graph.Resolution) map[string]any {
	conv := func(ms []graph.Match) []matchJSON {
		out := make([]matchJSON, 0, len(ms))
		for _, m := range ms {
			out = append(out, matchJSON{A: m.A.String(), B: m.B.String(), Score: m.Score, Method: m.Method, Names: m.Names})
		}
		return out
	}
	return map[string]any{"merges": conv(res.Merges), "proposals": conv(res.Proposals), "skipped_blocks": res.Skipped}
}
