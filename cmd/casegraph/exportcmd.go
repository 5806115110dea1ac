package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"casegraph/export"
	"casegraph/graph"
	"casegraph/importers"
	"casegraph/store"
)

// Bounds of what one export gathers around the selected entities.
const (
	exportNeighbourLimit = 500   // neighbour rows per selected entity
	exportTxnLimit       = 20000 // transactions read per entity of the case
	exportTxnPage        = 1000
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	out := fs.String("out", "", "folder to write the case file into")
	redact := fs.Bool("redact", false, "mask PAN middle digits, IINs but the last 4 digits, and phone numbers")
	refList := fs.String("refs", "", "comma-separated references to export instead of (or besides) a case's bookmarks")
	withFlags := fs.Bool("flags", false, "run the red-flag rules and include the hits on the exported entities")
	var rf ruleFlags
	rf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageError{"export needs --out DIR"}
	}
	if len(pos) > 1 {
		return usageError{"export takes at most one CASE"}
	}
	if len(pos) == 0 && *refList == "" {
		return usageError{"export needs a CASE or --refs card:…,iin:…"}
	}
	var seeds []graph.Ref
	var queries []string
	for _, s := range strings.Split(*refList, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, err := importers.ParseRef(s)
		if err != nil {
			return usageError{err.Error()}
		}
		seeds = append(seeds, r)
		queries = append(queries, "ref "+r.String())
	}

	in := export.Input{Version: buildVersion()}
	if *withFlags {
		// The rules read the whole graph; they open and close the database
		// themselves, before the export opens it.
		cfg, err := rf.load()
		if err != nil {
			return err
		}
		ix, flags, err := runRules(ctx, dbf, cfg, stderr)
		if err != nil {
			return err
		}
		in.Flags = flagRows(ix, flags)
	}

	db, err := dbf.open(false, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(pos) == 1 {
		c, err := db.Case(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("export case %q: %w", pos[0], err)
		}
		in.Case = exportCase(c)
		queries = append([]string{"case " + c.Name}, queries...)
		for _, b := range c.Bookmarks {
			seeds = append(seeds, b.Target.Refs...)
			queries = append(queries, "bookmark "+b.Target.Key())
		}
	} else {
		in.Case.Name = strings.Join(strings.Split(*refList, ","), " ")
	}
	if len(seeds) == 0 {
		return fmt.Errorf("export: the case has no bookmarked entities")
	}
	queries = append(queries,
		fmt.Sprintf("neighbours: 1 hop of every selected entity, at most %d rows each", exportNeighbourLimit),
		fmt.Sprintf("transactions: both ends among the selected entities and their neighbours, oldest first, at most %d read per entity; plus the evidence of their red flags",
			exportTxnLimit))
	in.Queries = queries
	if err := gatherExport(ctx, db, seeds, &in); err != nil {
		return err
	}
	m, err := export.Write(*out, in, export.Options{Redact: *redact})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d entities, %d relations, %d transactions, %d red flags to %s (%d files)\n",
		m.Counts.Entities, m.Counts.Links, m.Counts.Transactions, m.Counts.Flags, *out, len(m.Files)+1)
	return nil
}

// exportCase turns a stored case into what the export writes to case.json.
func exportCase(c graph.Case) export.Case {
	out := export.Case{Name: c.Name, Tags: c.Tags}
	if c.Notes != "" {
		out.Notes = append(out.Notes, export.Note{Text: c.Notes})
	}
	for _, b := range c.Bookmarks {
		for _, r := range b.Target.Refs {
			out.Bookmarks = append(out.Bookmarks, export.Bookmark{Ref: r, Note: b.Note, Tags: b.Tags})
		}
	}
	return out
}

// gatherExport reads the seeds, their one-hop neighbours, the relations
// between them and the transactions among all of them, and the import
// batches those records came from.
func gatherExport(ctx context.Context, db *store.DB, seeds []graph.Ref, in *export.Input) error {
	set := map[graph.Ref]bool{}
	var order []graph.Ref
	addRef := func(r graph.Ref) {
		if !set[r] {
			set[r] = true
			order = append(order, r)
		}
	}
	for _, s := range seeds {
		addRef(s)
	}
	for _, s := range seeds {
		nbs, _, err := db.Neighbors(ctx, s, exportNeighbourLimit)
		if err != nil {
			return fmt.Errorf("neighbours of %s: %w", s, err)
		}
		for _, n := range nbs {
			addRef(n.Ref)
			lt, err := graph.ParseLinkType(n.Relation)
			if err != nil {
				continue // a transaction channel: transactions are read below
			}
			l := graph.Link{From: s, To: n.Ref, Type: lt}
			if n.Dir == graph.DirIn {
				l.From, l.To = n.Ref, s
			}
			in.Links = append(in.Links, l)
		}
	}
	batches := map[uint32]bool{}
	for _, r := range order {
		e, err := db.Entity(ctx, r)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, graph.ErrNotFound) {
			e = graph.Entity{Ref: r, Stub: true}
		} else if err != nil {
			return fmt.Errorf("read %s: %w", r, err)
		}
		in.Entities = append(in.Entities, e)
		batches[e.Src.Batch] = true
	}
	seen := map[string]bool{}
	for _, r := range order {
		if r == graph.CashRef {
			continue // every cash transaction has an instrument on the other side
		}
		for off := 0; off < exportTxnLimit; off += exportTxnPage {
			page, err := db.Transactions(ctx, r, graph.TxQuery{Sort: graph.SortTimeAsc, Offset: off, Limit: exportTxnPage})
			if err != nil {
				return fmt.Errorf("transactions of %s: %w", r, err)
			}
			for _, t := range page.Txns {
				if set[t.From] && set[t.To] && !seen[t.ID] {
					seen[t.ID] = true
					in.Txns = append(in.Txns, t)
					batches[t.Src.Batch] = true
				}
			}
			if len(page.Txns) < exportTxnPage {
				break
			}
		}
	}
	for _, l := range in.Links {
		batches[l.Src.Batch] = true
	}
	// Keep only the flags on exported entities.
	kept := in.Flags[:0]
	for _, f := range in.Flags {
		if set[f.Ref] {
			kept = append(kept, f)
		}
	}
	in.Flags = kept
	// Evidence is part of the case even when it reaches beyond one hop:
	// read those transactions and their ends too.
	for _, f := range in.Flags {
		for _, id := range f.Evidence {
			if seen[id] {
				continue
			}
			t, err := db.Txn(ctx, id)
			if err != nil {
				return fmt.Errorf("evidence transaction %s of %s %s: %w", id, f.Rule, f.Ref, err)
			}
			seen[id] = true
			in.Txns = append(in.Txns, t)
			for _, r := range []graph.Ref{t.From, t.To} {
				if set[r] {
					continue
				}
				addRef(r)
				e, err := db.Entity(ctx, r)
				if errors.Is(err, store.ErrNotFound) || errors.Is(err, graph.ErrNotFound) {
					e = graph.Entity{Ref: r, Stub: true}
				} else if err != nil {
					return fmt.Errorf("read %s: %w", r, err)
				}
				in.Entities = append(in.Entities, e)
			}
		}
	}
	st, err := db.Stats(ctx)
	if err != nil {
		return fmt.Errorf("read import batches: %w", err)
	}
	for _, e := range in.Entities {
		batches[e.Src.Batch] = true
	}
	for _, t := range in.Txns {
		batches[t.Src.Batch] = true
	}
	for _, b := range st.Batches {
		if batches[b.ID] {
			in.Sources = append(in.Sources, b)
		}
	}
	return nil
}

// flagRows turns rule hits into export rows with transaction ids.
func flagRows(ix *graph.Index, flags graph.Flags) []export.FlagRow {
	rows := make([]export.FlagRow, 0, len(flags.Hits))
	for _, h := range flags.Hits {
		ev := make([]string, 0, len(h.Evidence))
		for _, i := range h.Evidence {
			ev = append(ev, ix.TxID(i))
		}
		rows = append(rows, export.FlagRow{Rule: h.Rule, Ref: ix.Ref(h.Node), Score: h.Score, Reason: h.Reason,
			Evidence: ev})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Ref.Less(rows[j].Ref) })
	return rows
}

// buildVersion names the casegraph build: the module version, or the VCS
// revision for a development build ("devel+1a2b3c4d5e6f", "-dirty" when the
// tree had changes).
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty, _ = strconv.ParseBool(s.Value)
		}
	}
	if rev == "" {
		return "devel"
	}
	v := "devel+" + rev[:min(12, len(rev))]
	if dirty {
		v += "-dirty"
	}
	return v
}
