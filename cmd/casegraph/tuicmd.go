package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/tui"
	"casegraph/workbench"
)

// cmdOpen opens the TUI on an existing database.
// openCmd: casegraph [--db DIR] [--open REF].
type openCmd struct {
	DB      dbArgs `embed:""`
	Open    string `placeholder:"REF" help:"open this entity first (REF, e.g. card:4400430000000015)"`
	Exports string `placeholder:"DIR" predictor:"dir" help:"folder the TUI's case exports go under (default $CASEGRAPH_EXPORTS, else CASEGRAPH_HOME/exports)"`
}

func (c *openCmd) Run(e *env) error { return cmdOpen(e.ctx, c) }

func cmdOpen(ctx context.Context, c *openCmd) error {
	dbf := c.DB.flags()
	if dbf.dir == defaultDemoDB() {
		if _, err := os.Stat(dbf.dir); err != nil {
			return fmt.Errorf("no database at the default location %s: run `casegraph demo` first, or pass --db DIR", dbf.dir)
		}
	}
	return openTUI(ctx, dbf, c.Open, c.Exports)
}

// exportsDir is where the TUI's case exports go: flag when given, else
// $CASEGRAPH_EXPORTS, else the exports folder in CASEGRAPH_HOME; never the
// working directory.
func exportsDir(flag string) (string, error) {
	d := cmp.Or(flag, os.Getenv("CASEGRAPH_EXPORTS"))
	if d == "" {
		d = filepath.Join(defaultHome(), "exports")
	}
	return filepath.Abs(d)
}

// openTUI runs the TUI until the user quits. The search index loads in the
// background so that the first frame does not wait for it.
func openTUI(ctx context.Context, dbf dbFlags, startRef, exports string) error {
	var opts tui.Options
	if startRef != "" {
		ref, err := graph.ParseRef(startRef)
		if err != nil {
			return usageError{msg: err.Error()}
		}
		opts.Start = &ref
	}
	dir, err := exportsDir(exports)
	if err != nil {
		return fmt.Errorf("export folder: %w", err)
	}
	opts.ExportDir = dir
	var b *workbench.Workbench
	var db *store.DB
	if dbf.remote() {
		wb, done, err := dbf.openRemote(ctx)
		if err != nil {
			return err
		}
		defer done()
		b = wb
	} else {
		if db, err = dbf.open(false, false); err != nil {
			return err
		}
		defer db.Close()
		b = newBackend(db)
	}
	p := tea.NewProgram(tui.New(b, opts), tea.WithContext(ctx))
	go func() {
		n, took, err := b.LoadSearch(ctx)
		p.Send(tui.SearchReadyMsg{Docs: n, Took: took, Err: err, Server: b.Remote() != nil})
	}()
	// The command line works beside the TUI (holdercmd.go): its changes
	// show here at once. Stopped before the database closes.
	// (A folder only: the local store beside a cluster is no --db anyone
	// names.)
	if db != nil {
		defer serveTwins(db, b, "tui")()
	}
	changes, unsubscribe := b.Subscribe()
	defer unsubscribe()
	go func() {
		for c := range changes {
			if c.Session != b.Session() {
				p.Send(tui.ChangedMsg{User: c.User, What: c.What, CaseID: c.CaseID, Ref: c.Ref})
			}
		}
	}()
	_, err = p.Run()
	// An analysis shown before it was kept is kept before the database
	// closes (workbench.AnalyzeDeferred).
	if b.Keeping() {
		fmt.Fprintln(os.Stderr, "casegraph: keeping the analysis in the database…")
	}
	b.WaitKeeps()
	if err != nil && ctx.Err() != nil {
		return nil // interrupted by a signal: a normal way to leave
	}
	return err
}

// debugLogger sends debug logs (Badger's among them) to a file beside the
// database, never to the terminal the TUI draws on.
func debugLogger(dbDir string) *slog.Logger {
	path := filepath.Clean(dbDir) + ".log"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
