package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"casegraph/server"
	"casegraph/store"
)

// dbFlags are the flags of every command that opens a database.
type dbFlags struct {
	dir        string
	keyFile    string
	journalKey string
}

func (f *dbFlags) register(fs *flag.FlagSet, defaultDir string) {
	fs.StringVar(&f.dir, "db", defaultDir, "database directory")
	fs.StringVar(&f.keyFile, "key-file", os.Getenv("CASEGRAPH_KEY_FILE"),
		"encryption key file (16, 24 or 32 bytes, raw or hex); default $CASEGRAPH_KEY_FILE")
	fs.StringVar(&f.journalKey, "journal-key", os.Getenv("CASEGRAPH_JOURNAL_KEY"),
		"journal key file (at least 16 bytes) that keys the journal's HMAC; default $CASEGRAPH_JOURNAL_KEY, else derived from --key-file")
}

// open opens the database the flags name. A missing directory is an error
// unless create is set: a typo in --db must not silently make an empty case.
func (f *dbFlags) open(create, readOnly bool) (*store.DB, error) {
	if f.dir == "" {
		return nil, usageError{"--db DIR is required"}
	}
	// A --db that is a URL is never a path: "dgraph://host:9080" must not
	// quietly become a local folder named "dgraph:".
	if scheme, _, ok := strings.Cut(f.dir, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, `/\`) {
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
	}
	return db, err
}

// openToAnalyse opens the database for an analysis or search command:
// writable, so that a rebuilt graph or search index is stored for the next
// run, or read-only when
// another reader has it open (ErrLocked), so that two readers never lock
// each other out. A database a writer holds (a TUI, an import, a server)
// stays refused.
func (f *dbFlags) openToAnalyse() (*store.DB, error) {
	db, err := f.open(false, false)
	if errors.Is(err, store.ErrLocked) {
		if ro, rerr := f.open(false, true); rerr == nil {
			return ro, nil
		}
	}
	return db, err
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("search --db x QUERY --json"), returning the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usageError{fs.Name() + " flags:\n" + flagDefaults(fs)}
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func flagDefaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
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
