package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"casegraph/holder"
	"casegraph/store"
	"casegraph/workbench"
)

// The command-line twins: the commands a process holding the database (a
// TUI, a team server) runs for the command line over its socket (holder/).
// The others need the database to themselves (import, resolve, calibrate)
// or read what the holder's lock guards (journal, rejects).
var twins = map[string]bool{
	"search": true, "show": true, "stats": true, "flags": true, "clusters": true,
	"path": true, "trace": true, "case": true, "verdict": true, "export": true,
}

// heldRun is a command the holder runs for a caller: the database it
// holds, the caller's session of its workbench, and the caller's working
// folder.
type heldRun struct {
	db  *store.DB
	wb  *workbench.Workbench
	dir string
}

type heldKey struct{}

func heldOf(ctx context.Context) *heldRun {
	h, _ := ctx.Value(heldKey{}).(*heldRun)
	return h
}

// hostPath is a path a user typed, as they meant it: relative to their
// working folder, which is not the holder's when the holder runs the
// command.
func hostPath(ctx context.Context, p string) string {
	if h := heldOf(ctx); h != nil && p != "" && !filepath.IsAbs(p) {
		return filepath.Join(h.dir, p)
	}
	return p
}

// backendOf is the workbench a twin works through on db: the caller's
// session when the holder runs it (its changes journalled under the caller
// and shown to the open sessions), else a workbench of its own.
func backendOf(ctx context.Context, db *store.DB) *workbench.Workbench {
	if h := heldOf(ctx); h != nil && h.db == db {
		return h.wb
	}
	return newBackend(db)
}

// heldError is a database a holder has: the lock's error, and the folder
// whose holder file names the socket.
type heldError struct {
	err error
	dir string
}

func (e *heldError) Error() string { return e.err.Error() }
func (e *heldError) Unwrap() error { return e.err }

// openIn opens the database for a twin: the one the holder lends when it
// runs the command, else the database itself; when a holder has it, the
// error is a *heldError, and run forwards the command.
func (f *dbFlags) openIn(ctx context.Context, create, readOnly bool) (*store.DB, error) {
	if h := heldOf(ctx); h != nil {
		want, err := os.Stat(hostPath(ctx, f.dir))
		have, herr := os.Stat(h.db.Dir())
		if err != nil || herr != nil || !os.SameFile(want, have) {
			return nil, fmt.Errorf("this process holds %s, not %s", h.db.Dir(), f.dir)
		}
		return h.db.Retain(), nil
	}
	db, err := f.open(create, readOnly)
	if errors.Is(err, store.ErrLocked) {
		if _, ierr := holder.ReadInfo(f.dir); ierr == nil {
			return nil, &heldError{err: err, dir: f.dir}
		}
	}
	return db, err
}

// exitCode is the exit code of a command its holder ran, which printed
// its own error.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// forward runs a twin in the holder of its database, with this process's
// stdin, stdout and stderr; when nobody answers there, the lock's error
// stands.
func forward(ctx context.Context, he *heldError, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	wd, err := os.Getwd()
	if err != nil {
		return he
	}
	code, err := holder.Forward(ctx, he.dir, holder.Request{Args: args, Dir: wd}, stdin, stdout, stderr)
	switch {
	case errors.Is(err, holder.ErrNoHolder):
		return he.err
	case err != nil:
		return err
	case code != 0:
		return exitCode(code)
	}
	return nil
}

// serveTwins makes this process, which holds db open for writing, run the
// twins for the command line of its OS user (holder.Identify) through wb's
// sessions. Without a socket (another system, a folder it may not make)
// the process goes on; the command line then finds the database locked.
func serveTwins(db *store.DB, wb *workbench.Workbench, kind string) (stop func()) {
	run := func(ctx context.Context, id holder.Identity, req holder.Request, stdin io.Reader, stdout, stderr io.Writer) int {
		if !twins[req.Args[0]] {
			fmt.Fprintf(stderr, "casegraph: %s needs the database to itself; a casegraph %s has it open (pid %d): close it first\n",
				req.Args[0], kind, os.Getpid())
			return 1
		}
		ctx = context.WithValue(ctx, heldKey{}, &heldRun{db: db, wb: wb.AsRole(id.User, id.Role, ""), dir: req.Dir})
		if err := runWith(ctx, req.Args, stdin, stdout, stderr); err != nil {
			return printError(stderr, err)
		}
		return 0
	}
	log := debugLogger(db.Dir())
	h, err := holder.Listen(db.Dir(), kind, run, log)
	if err != nil {
		log.Warn("the command line cannot work beside this process", "err", err)
		return func() {}
	}
	return func() { h.Close() }
}
