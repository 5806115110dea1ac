package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"casegraph/dgraphdb"
	"casegraph/graph"
	"casegraph/importers"
	"casegraph/importers/profile"
	"casegraph/internal/safetext"
	"casegraph/workbench"
)

// importCmd: casegraph import --db DIR FILE|DIR….
type importCmd struct {
	DB      dbArgs   `embed:"" set:"db_default=" set:"db_help= (required)"`
	Rejects string   `placeholder:"FILE" predictor:"file" help:"where to write rejected rows (CSV); default DIR/rejects/import-N.csv"`
	Profile string   `placeholder:"NAME|FILE" help:"map non-canonical files with a mapping profile: a built-in name (${profiles}) or a YAML file"`
	As      string   `placeholder:"list" help:"read every file as this kind instead of recognising it: list (a watch list, address list or AFSA register without a list_status column)"`
	BulkOut string   `name:"bulk-out" placeholder:"DIR" predictor:"dir" help:"instead of importing, write the input of Dgraph's bulk loader for a fresh cluster into DIR (data.rdf.gz, schema) and print how to load it (docs/DGRAPH.md); takes no --db"`
	Groups  int      `default:"1" placeholder:"N" help:"with --bulk-out: the number of groups (one alpha each) of the cluster to load: the bulk loader's shards"`
	Zero    string   `default:"127.0.0.1:5080" placeholder:"HOST:PORT" help:"with --bulk-out: the gRPC address of the new cluster's zero, for the printed bulk command"`
	Paths   []string `arg:"" optional:"" name:"path" predictor:"file" help:"files or folders to import"`
}

func (c *importCmd) Run(e *env) error { return cmdImport(e.ctx, c, e.stdout, e.stderr) }

func cmdImport(ctx context.Context, c *importCmd, stdout, stderr io.Writer) error {
	dbf, paths := c.DB.flags(), c.Paths
	var err error
	if len(paths) == 0 {
		return usageError{msg: "import needs at least one FILE or DIR"}
	}
	if c.As != "" && c.As != workbench.AsList {
		return usageError{msg: "--as takes list"}
	}
	if c.BulkOut != "" && dbf.dir != "" {
		return usageError{msg: "--bulk-out writes files for a cluster that is not running yet: it takes no --db (say its size with --groups)"}
	}
	if c.BulkOut == "" && (c.Groups != 1 || c.Zero != "127.0.0.1:5080") {
		return usageError{msg: "--groups and --zero go with --bulk-out"}
	}
	if c.Groups < 1 {
		return usageError{msg: "--groups takes a number of groups, 1 or more"}
	}
	var prof *profile.Profile
	var files []string
	if c.Profile != "" {
		if prof, err = profile.Load(c.Profile); err != nil {
			return err
		}
		files, err = workbench.ExpandProfileInputs(paths, prof)
	} else {
		files, err = workbench.ExpandInputs(paths)
	}
	if err != nil {
		return err
	}
	if c.BulkOut != "" {
		return cmdImportBulk(ctx, c, files, prof, stdout, stderr)
	}
	var b *workbench.Workbench
	if dbf.remote() {
		wb, done, err := dbf.openRemote(ctx)
		if err != nil {
			return err
		}
		defer done()
		b = wb
	} else {
		db, err := dbf.open(true, false)
		if err != nil {
			return err
		}
		defer db.Close()
		b = newBackend(db)
	}
	res, err := b.ImportAs(ctx, files, c.Rejects, newProgress(stderr), prof, c.As)
	printImportSummary(stdout, res)
	return err
}

func printImportSummary(w io.Writer, res workbench.ImportResult) {
	if len(res.Files) == 0 {
		return
	}
	fmt.Fprintf(w, "%-28s %-13s %12s %12s %10s\n", "file", "format", "read", "imported", "rejected")
	var read, imp, rej int
	for _, f := range res.Files {
		// File names and reasons quote the files: one line each, escaped.
		name := safetext.Line(filepath.Base(f.Path))
		if f.Skipped != "" {
			fmt.Fprintf(w, "%-28s skipped: %s\n", name, safetext.Line(f.Skipped))
			continue
		}
		r := f.Report
		read, imp, rej = read+r.Read, imp+r.Imported, rej+r.Rejected
		fmt.Fprintf(w, "%-28s %-13s %12s %12s %10s\n", name, r.Format,
			count(r.Read), count(r.Imported), count(r.Rejected))
		if f.Note != "" {
			fmt.Fprintf(w, "  %s\n", safetext.Line(f.Note))
		}
		printSkips(w, r)
	}
	fmt.Fprintf(w, "%-28s %-13s %12s %12s %10s\n", "total", "", count(read), count(imp), count(rej))
	if res.Took > 0 {
		rate := float64(read) / res.Took.Seconds()
		fmt.Fprintf(w, "took %s (%s rows/s)", res.Took.Round(time.Millisecond), count(int(rate)))
		if res.Indexed {
			fmt.Fprintf(w, ", of which %s building the graph index for the first analysis", res.IndexTook.Round(time.Millisecond))
		}
		fmt.Fprintln(w)
	}
	if res.IndexNote != "" {
		fmt.Fprintln(w, safetext.Line(res.IndexNote))
	}
	if res.SearchNote != "" {
		fmt.Fprintln(w, safetext.Line(res.SearchNote))
	}
	if rej > 0 {
		fmt.Fprintf(w, "%s rejected rows with file, line, column and reason: %s\n", count(rej), safetext.Line(res.RejectsPath))
		if strings.HasSuffix(res.RejectsPath, ".sealed") {
			fmt.Fprintf(w, "(encrypted with the database's key: read it with casegraph rejects --db DB --key-file K %s)\n",
				safetext.Line(filepath.Base(res.RejectsPath)))
		}
	}
}

// count formats an integer with thousands separators.
func count(n int) string { return graph.FormatAmount(int64(n) * 100) }

// printSkips lists the rows of a file that were read but are not data
// (metadata above the header, Итого/Остаток rows): the count and the first few.
func printSkips(w io.Writer, r importers.Report) {
	if r.Skipped == 0 {
		return
	}
	fmt.Fprintf(w, "  %s rows skipped:", count(r.Skipped))
	for i, s := range r.Skips {
		if i == 4 {
			fmt.Fprint(w, " …")
			break
		}
		fmt.Fprintf(w, " line %d %s;", s.Line, safetext.Line(s.Reason))
	}
	fmt.Fprintln(w)
}

// cmdImportBulk imports the files into a dgraphdb.BulkWriter: the same
// importers, validation and rejects as an import, written as the input of
// Dgraph's bulk loader; it prints the summary and the operator's next steps.
func cmdImportBulk(ctx context.Context, c *importCmd, files []string, prof *profile.Profile, stdout, stderr io.Writer) error {
	w, err := dgraphdb.NewBulkWriter(c.BulkOut)
	if err != nil {
		return err
	}
	res, err := workbench.ImportBulk(ctx, w, files, c.Rejects, newProgress(stderr), prof, c.As)
	printImportSummary(stdout, res)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s N-Quads\n", count(int(w.Lines())))
	fmt.Fprint(stdout, dgraphdb.BulkSteps(c.BulkOut, c.Zero, c.Groups))
	return nil
}
