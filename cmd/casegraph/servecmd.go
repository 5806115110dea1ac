package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"casegraph/server"
	"casegraph/store"
	"casegraph/workbench"
)

// cmdServe owns a database and serves the TUI over SSH to the team file's
// keys until interrupted (server/). On a Dgraph cluster (--db dgraph://…)
// the sessions read the cluster and the server owns the local store beside
// it, where the team's cases, bookmarks and journal are (docs/DGRAPH.md).
// serveCmd: casegraph serve --db DIR|dgraph://… --authorized-keys FILE.
type serveCmd struct {
	DB                dbArgs        `embed:"" set:"db_default=" set:"db_help= (required)"`
	Listen            string        `default:"127.0.0.1:2222" placeholder:"ADDR" help:"address to listen on (:2222 for every interface)"`
	AuthorizedKeys    string        `name:"authorized-keys" placeholder:"FILE" predictor:"file" help:"the team file (required): a line user=NAME,role=investigator|analyst|viewer KEYTYPE BASE64 [COMMENT] per key"`
	State             string        `placeholder:"DIR" predictor:"dir" help:"the server's own folder: host key, exports (default DIR/.casegraph-server; on a dgraph:// --db, beside the cluster's local store)"`
	IdleTimeout       time.Duration `name:"idle-timeout" default:"30m" placeholder:"30m" help:"end a session without input for this long (0: never)"`
	MaxSessionsPerKey int           `name:"max-sessions-per-key" default:"4" placeholder:"N" help:"sessions one key may have open at once (0: no limit)"`
}

func (c *serveCmd) Run(e *env) error { return cmdServe(e.ctx, c, e.stdout) }

func cmdServe(ctx context.Context, c *serveCmd, stdout io.Writer) error {
	dbf := c.DB.flags()
	if c.AuthorizedKeys == "" {
		return usageError{msg: "serve: --authorized-keys FILE is required"}
	}
	if c.IdleTimeout < 0 || c.MaxSessionsPerKey < 0 {
		return usageError{msg: "serve: --idle-timeout and --max-sessions-per-key may not be negative"}
	}
	wb, db, local, done, err := openServed(ctx, &dbf)
	if err != nil {
		return err
	}
	defer done()
	if c.State == "" {
		c.State = filepath.Join(local, ".casegraph-server")
	}
	var srv *server.Server
	var l net.Listener
	// The banner comes once the server says where it listens, so that a
	// command finding the database locked can name it.
	ready := func() {
		fmt.Fprintf(stdout, "casegraph serve: %s on %s\nhost key %s\nconnect with: ssh -p %d NAME@HOST · ctrl+c stops\n",
			dbf.dir, l.Addr(), gossh.FingerprintSHA256(srv.HostKey()), l.Addr().(*net.TCPAddr).Port)
		if f, ok := stdout.(interface{ Flush() error }); ok {
			_ = f.Flush()
		}
	}
	srv, err = server.New(wb, server.Config{TeamFile: c.AuthorizedKeys, StateDir: c.State, IdleTimeout: c.IdleTimeout,
		MaxSessionsPerKey: c.MaxSessionsPerKey, Logger: debugLogger(local), Ready: ready})
	if err != nil {
		return err
	}
	l, err = net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	// The command line of the server's OS user works beside it
	// (holdercmd.go); stopped before the database closes. (A folder only:
	// the local store beside a cluster is no --db anyone names.)
	if wb.Remote() == nil {
		defer serveTwins(db, wb, "serve")()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	select {
	case err := <-served:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "casegraph serve: stopping; ending the sessions")
	if err := srv.Close(); err != nil {
		return err
	}
	return <-served
}

// openServed opens what serve serves: the folder, or the cluster with its
// local store (openRemote). local is the folder the server owns (its state
// and log beside it); the caller calls done.
func openServed(ctx context.Context, dbf *dbFlags) (wb *workbench.Workbench, db *store.DB, local string, done func(), err error) {
	if dbf.remote() {
		wb, done, err := dbf.openRemote(ctx)
		if err != nil {
			return nil, nil, "", nil, err
		}
		return wb, nil, remoteLocalDir(dbf.dir), done, nil
	}
	if db, err = dbf.open(false, false); err != nil {
		return nil, nil, "", nil, err
	}
	return newBackend(db), db, dbf.dir, func() { db.Close() }, nil
}
