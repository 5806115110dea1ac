package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"casegraph/graph"
	"casegraph/workbench"
)

// exportCmd: casegraph export --out DIR [CASE].
type exportCmd struct {
	DB      dbArgs    `embed:""`
	Out     string    `placeholder:"DIR" predictor:"dir" help:"folder to write the case file into (required)"`
	Redact  bool      `help:"pseudonymise every identifier and name (a fresh key per export: pseudonyms do not link exports)"`
	Refs    string    `placeholder:"REF,…" help:"comma-separated references to export instead of (or besides) a case's bookmarks"`
	Flags   *bool     `help:"include the red-flag hits on the exported entities (runs the rules); by default they are when the database holds an analysis, as in the TUI's export; --flags=false leaves them out"`
	Replace bool      `help:"replace the folder of an earlier export (a folder holding anything else is refused)"`
	Rules   ruleFlags `embed:""`
	Case    []string  `arg:"" optional:"" name:"case" help:"the case to export (id or name)"`
}

func (c *exportCmd) Run(e *env) error { return cmdExport(e.ctx, c, e.stdout, e.stderr) }

func cmdExport(ctx context.Context, c *exportCmd, stdout, stderr io.Writer) error {
	dbf, rf, pos := c.DB.flags(), c.Rules, c.Case
	if c.Out == "" {
		return usageError{msg: "export needs --out DIR"}
	}
	if len(pos) > 1 {
		return usageError{msg: "export takes at most one CASE"}
	}
	if len(pos) == 0 && c.Refs == "" {
		return usageError{msg: "export needs a CASE or --refs card:…,iin:…"}
	}
	req := workbench.ExportRequest{Out: hostPath(ctx, c.Out), Redact: c.Redact, Replace: c.Replace}
	if len(pos) == 1 {
		req.Case = pos[0]
	}
	refArgs := strings.Split(c.Refs, ",")
	for _, s := range refArgs {
		// Shape only here, before the rules' long run; userRef below
		// normalises each against the database.
		if s = strings.TrimSpace(s); s != "" {
			if _, err := graph.ParseRef(s); err != nil {
				return usageError{msg: err.Error()}
			}
		}
	}
	withFlags := c.Flags != nil && *c.Flags
	if c.Flags == nil {
		// Default: the red flags when an analysis exists (the TUI's, or
		// `casegraph flags`'s), as the TUI's export has them.
		db, err := dbf.openIn(ctx, false, true)
		if err != nil {
			return err
		}
		withFlags = workbench.HasAnalysis(ctx, db)
		db.Close()
		if !withFlags {
			fmt.Fprintln(stderr, "export: no analysis in this database yet, so no red flags: --flags runs the rules first")
		}
	}
	if withFlags {
		// The rules read the whole graph; they open and close the database
		// themselves, before the export opens it.
		a, err := runRules(ctx, dbf, rf, stderr)
		if err != nil {
			return err
		}
		req.Flags, req.WithFlags = a.ExportFlags(), true
	}

	// Writable: the export is journalled.
	db, err := dbf.openIn(ctx, false, false)
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
	res, err := backendOf(ctx, db).Export(ctx, req)
	if err != nil {
		return err
	}
	m := res.Manifest
	fmt.Fprintf(stdout, "exported %d entities, %d relations, %d transactions, %d red flags to %s (%d files)\n",
		m.Counts.Entities, m.Counts.Links, m.Counts.Transactions, m.Counts.Flags, c.Out, len(m.Files)+1)
	return nil
}
