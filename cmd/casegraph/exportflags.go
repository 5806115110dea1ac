package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"casegraph/graph"
	"casegraph/workbench"
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	out := fs.String("out", "", "folder to write the case file into")
	redact := fs.Bool("redact", false, "pseudonymise every identifier and name (a fresh key per export: pseudonyms do not link exports)")
	refList := fs.String("refs", "", "comma-separated references to export instead of (or besides) a case's bookmarks")
	withFlags := fs.Bool("flags", false, "include the red-flag hits on the exported entities (runs the rules); by default they are included when the database holds an analysis, as the TUI's export does; --flags=false leaves them out")
	replace := fs.Bool("replace", false, "replace the folder of an earlier export (a folder holding anything else is refused)")
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
	req := workbench.ExportRequest{Out: *out, Redact: *redact, Replace: *replace}
	if len(pos) == 1 {
		req.Case = pos[0]
	}
	refArgs := strings.Split(*refList, ",")
	for _, s := range refArgs {
		// Shape only here, before the rules' long run; userRef below
		// normalises each against the database.
		if s = strings.TrimSpace(s); s != "" {
			if _, err := graph.ParseRef(s); err != nil {
				return usageError{err.Error()}
			}
		}
	}
	flagsGiven := false
	fs.Visit(func(f *flag.Flag) { flagsGiven = flagsGiven || f.Name == "flags" })
	if !flagsGiven {
		// Default: the red flags when an analysis exists (the TUI's, or
		// `casegraph flags`'s), as the TUI's export has them.
		db, err := dbf.open(false, true)
		if err != nil {
			return err
		}
		*withFlags = workbench.HasAnalysis(ctx, db)
		db.Close()
		if !*withFlags {
			fmt.Fprintln(stderr, "export: no analysis in this database yet, so no red flags: --flags runs the rules first")
		}
	}
	if *withFlags {
		// The rules read the whole graph; they open and close the database
		// themselves, before the export opens it.
		a, err := runRules(ctx, dbf, rf, stderr)
		if err != nil {
			return err
		}
		req.Flags, req.WithFlags = a.ExportFlags(), true
	}

	// Writable: the export is journalled.
	db, err := dbf.open(false, false)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, s := range refArgs {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, err := userRef(s, inStore(ctx, db))
		if err != nil {
			return err
		}
		req.Refs = append(req.Refs, r)
	}
	res, err := newBackend(db).Export(ctx, req)
	if err != nil {
		return err
	}
	m := res.Manifest
	fmt.Fprintf(stdout, "exported %d entities, %d relations, %d transactions, %d red flags to %s (%d files)\n",
		m.Counts.Entities, m.Counts.Links, m.Counts.Transactions, m.Counts.Flags, *out, len(m.Files)+1)
	return nil
}
