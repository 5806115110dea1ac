package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"casegraph/holder"
	"casegraph/server"
	"casegraph/store"
)

// dbArgs are the flags of every command that opens a database. A command
// embeds them; import, resolve and serve set db_default to nothing: there
// --db is required.
type dbArgs struct {
	Dir        string `name:"db" default:"${db_default}" placeholder:"DIR" predictor:"dir" help:"database directory${db_help}"`
	KeyFile    string `name:"key-file" env:"CASEGRAPH_KEY_FILE" placeholder:"FILE" predictor:"file" help:"encryption key file (16, 24 or 32 bytes, raw or hex)"`
	JournalKey string `name:"journal-key" env:"CASEGRAPH_JOURNAL_KEY" placeholder:"FILE" predictor:"file" help:"journal key file (at least 16 bytes) that keys the journal's HMAC; default: derived from --key-file"`
}

func (a dbArgs) flags() dbFlags {
	return dbFlags{dir: a.Dir, keyFile: a.KeyFile, journalKey: a.JournalKey}
}

// dbFlags say which database a command opens, and with which keys.
type dbFlags struct {
	dir        string
	keyFile    string
	journalKey string
	// pull, on a dgraph:// --db, is the neighbourhood flags, clusters,
	// path and trace pull to analyse (pullcmd.go); release removes the
	// scratch folder openToAnalyse pulled into.
	pull    *pullSpec
	release func()
}

// releasePull removes the scratch folder of a pull, if any.
func (f *dbFlags) releasePull() {
	if f.release != nil {
		f.release()
		f.release = nil
	}
}

// open opens the database the flags name. A missing directory is an error
// unless create is set: a typo in --db must not silently make an empty case.
func (f *dbFlags) open(create, readOnly bool) (*store.DB, error) {
	if f.dir == "" {
		return nil, usageError{msg: "--db DIR is required"}
	}
	// A --db that is a URL is never a path: "dgraph://host:9080" must not
	// quietly become a local folder named "dgraph:".
	if scheme, _, ok := strings.Cut(f.dir, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, `/\`) {
		if f.remote() {
			return nil, fmt.Errorf("--db %s is a URL of a Dgraph cluster: this command does not work on one yet "+
				"(search, show, stats, import, pull, serve and the TUI do; flags, clusters, path and trace on a pulled neighbourhood; docs/DGRAPH.md)", f.dir)
		}
		return nil, fmt.Errorf("--db %s is a URL: this casegraph opens database folders only (a %s backend is not built in)", f.dir, scheme)
	}
	if !create {
		if _, err := os.Stat(f.dir); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("database %s does not exist (create one with casegraph import --db %s FILE…)", f.dir, f.dir)
		}
	}
	privateUmask()
	var opts store.Options
	if f.keyFile != "" {
		key, err := store.LoadKeyFile(f.keyFile)
		if err != nil {
			return nil, err
		}
		opts.EncryptionKey = key
	}
	if f.journalKey != "" {
		key, err := store.LoadJournalKeyFile(f.journalKey)
		if err != nil {
			return nil, err
		}
		opts.JournalKey = key
	}
	opts.ReadOnly = readOnly
	opts.Logger = debugLogger(f.dir)
	db, err := store.Open(f.dir, opts)
	if errors.Is(err, store.ErrKeyRequired) {
		return nil, fmt.Errorf("%w; pass --key-file FILE or set CASEGRAPH_KEY_FILE", err)
	}
	if errors.Is(err, store.ErrLocked) {
		// A team server owns the database while it serves it.
		if addr, rerr := os.ReadFile(server.ListeningFile(filepath.Join(f.dir, ".casegraph-server"))); rerr == nil {
			_, port, _ := net.SplitHostPort(strings.TrimSpace(string(addr)))
			return nil, fmt.Errorf("%w: a team server (casegraph serve) listens on %s; work through it: ssh -p %s NAME@HOST",
				err, strings.TrimSpace(string(addr)), port)
		}
		if in, rerr := holder.ReadInfo(f.dir); rerr == nil && in.Kind == "tui" {
			return nil, fmt.Errorf("%w: a casegraph TUI (pid %d) has it open; search, show, stats, flags, clusters, path, trace, case, verdict and export work beside it, this command needs it closed",
				err, in.PID)
		}
	}
	return db, err
}

// openToAnalyse opens the database for an analysis or search command:
// writable, so that a rebuilt graph or search index is stored for the next
// run, or read-only when
// another reader has it open (ErrLocked), so that two readers never lock
// each other out. A database a writer holds (a TUI, an import, a server)
// stays refused.
func (f *dbFlags) openToAnalyse(ctx context.Context) (*store.DB, error) {
	if f.remote() && f.pull != nil {
		// A cluster: the neighbourhood the command names, pulled into a
		// scratch folder (pullcmd.go); the caller calls releasePull.
		db, done, err := f.openPulled(ctx, f.pull.stderr)
		f.release = done
		return db, err
	}
	db, err := f.openIn(ctx, false, false)
	if errors.Is(err, store.ErrLocked) {
		if ro, rerr := f.openIn(ctx, false, true); rerr == nil {
			return ro, nil
		}
	}
	return db, err
}

// defaultHome is where the demo data set and database live when no --db is
// given: the user's cache directory, so a second run starts at once.
func defaultHome() string {
	if d := os.Getenv("CASEGRAPH_HOME"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "casegraph")
}

func defaultDemoDB() string { return filepath.Join(defaultHome(), "demo", "db") }
