package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"casegraph/server"
)

// cmdServe owns a database and serves the TUI over SSH to the team file's
// keys until interrupted (server/).
func cmdServe(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var dbf dbFlags
	dbf.register(fs, "")
	listen := fs.String("listen", "127.0.0.1:2222", "address to listen on (:2222 for every interface)")
	team := fs.String("authorized-keys", "", "the team `FILE` (required): a line user=NAME,role=investigator|analyst|viewer KEYTYPE BASE64 [COMMENT] per key")
	state := fs.String("state", "", "the server's own folder: host key, exports (default DIR/.casegraph-server)")
	idle := fs.Duration("idle-timeout", 30*time.Minute, "end a session without input for this long (0: never)")
	perKey := fs.Int("max-sessions-per-key", 4, "sessions one key may have open at once (0: no limit)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("serve: unexpected argument %q", pos[0])}
	}
	if *team == "" {
		return usageError{"serve: --authorized-keys FILE is required"}
	}
	if *idle < 0 || *perKey < 0 {
		return usageError{"serve: --idle-timeout and --max-sessions-per-key may not be negative"}
	}
	db, err := dbf.open(false, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if *state == "" {
		*state = filepath.Join(dbf.dir, ".casegraph-server")
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
	wb := newBackend(db)
	srv, err = server.New(wb, server.Config{TeamFile: *team, StateDir: *state, IdleTimeout: *idle,
		MaxSessionsPerKey: *perKey, Logger: debugLogger(dbf.dir), Ready: ready})
	if err != nil {
		return err
	}
	l, err = net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	// The command line of the server's OS user works beside it
	// (holdercmd.go); stopped before the database closes.
	defer serveTwins(db, wb, "serve")()
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
