package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	tea "charm.land/bubbletea/v2"

	"casegraph/graph"
	"casegraph/tui"
	"casegraph/workbench"
)

// cmdOpen opens the TUI on an existing database.
func cmdOpen(ctx context.Context, args []string, _, _ io.Writer) error {
	fs := flag.NewFlagSet("casegraph", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, defaultDemoDB())
	start := fs.String("open", "", "open this entity first (REF, e.g. card:4400430000000015)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	if dbf.dir == defaultDemoDB() {
		if _, err := os.Stat(dbf.dir); err != nil {
			return fmt.Errorf("no database at the default location %s: run `casegraph demo` first, or pass --db DIR", dbf.dir)
		}
	}
	return openTUI(ctx, dbf, *start)
}

// openTUI runs the TUI until the user quits. The search index loads in the
// background so that the first frame does not wait for it.
func openTUI(ctx context.Context, dbf dbFlags, startRef string) error {
	var opts tui.Options
	if startRef != "" {
		ref, err := graph.ParseRef(startRef)
		if err != nil {
			return usageError{err.Error()}
		}
		opts.Start = &ref
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
		db, err := dbf.open(false, false)
		if err != nil {
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
	_, err := p.Run()
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
