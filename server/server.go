// Package server is casegraph's team server: it serves the full TUI over
// SSH, one Bubble Tea program per connection at that terminal's size and
// colour profile, all sharing one workbench.Workbench (one open store, one
// search index, one analysis).
//
// Who may connect is the team file (ParseTeam): OpenSSH public keys, each
// with a user name and a role. Only public-key authentication is offered.
// Each connection works through a session of the workbench with that user
// and role (workbench.AsRole), so the roles are enforced by the workbench
// for every change whatever the front end shows, and the journal names the
// SSH user. Logins, logouts and refusals are journalled too.
package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	bm "charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"casegraph/tui"
	"casegraph/workbench"
)

// Journal actions of the server. The user of a login, logout or refused
// session is the team member; a connection refused before it proved a key
// of the team is journalled as Unauthenticated.
const (
	ActLogin   = "server.login"
	ActLogout  = "server.logout"
	ActRefused = "server.refused"

	Unauthenticated = "(unauthenticated)"
)

// Config is what a Server needs besides the workbench.
type Config struct {
	// TeamFile is the authorized-keys file with users and roles
	// (ParseTeam); it is read again when it changes.
	TeamFile string
	// StateDir keeps the server's own files: the host key
	// (host_ed25519, made once, mode 0600) and the exports of the
	// sessions (exports/USER/…).
	StateDir string
	// IdleTimeout ends a session that sent no input for so long (0: never).
	IdleTimeout time.Duration
	// MaxSessionsPerKey is how many sessions one key may have open at once
	// (0: no limit).
	MaxSessionsPerKey int
	// Logger gets what is not journalled (errors, the team file failing to
	// parse on reload); nil discards.
	Logger *slog.Logger
	// Ready, when set, is called once the server has said where it listens
	// (ListeningFile), just before it accepts connections: the moment to
	// tell the operator.
	Ready func()
}

// Server serves one workbench over SSH.
type Server struct {
	wb   *workbench.Workbench
	cfg  Config
	team *team
	log  *slog.Logger
	ssh  *ssh.Server
	host gossh.Signer

	search     chan struct{} // closed when the search index is loaded
	searchDone tui.SearchReadyMsg

	mu       sync.Mutex
	perKey   map[string]int                // open sessions by key fingerprint
	attempts map[string]*attempt           // unauthenticated connections by remote address
	live     map[*tea.Program]*liveSession // for Close
	closing  bool
	listener net.Listener   // the one Serve accepts on, closed by Close
	wg       sync.WaitGroup // session handlers
	refusals refusalLimit
}

type liveSession struct{ reason atomic.Pointer[string] }

// attempt is what an unauthenticated connection tried, for the journal.
type attempt struct {
	login string
	keys  []string // fingerprints offered
	why   string   // the last reason a key was refused
}

// New makes a server of wb: it reads the team file and loads the host key
// from cfg.StateDir, or makes one there.
func New(wb *workbench.Workbench, cfg Config) (*Server, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("server: no state folder")
	}
	t, err := loadTeam(cfg.TeamFile)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("server state: %w", err)
	}
	host, err := loadHostKey(filepath.Join(cfg.StateDir, "host_ed25519"))
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{wb: wb, cfg: cfg, team: t, log: log, host: host, search: make(chan struct{}),
		perKey: map[string]int{}, attempts: map[string]*attempt{}, live: map[*tea.Program]*liveSession{}}
	s.ssh = &ssh.Server{
		Handler:          s.handle,
		HostSigners:      []ssh.Signer{host},
		PublicKeyHandler: s.authorize,
		// No PasswordHandler and no KeyboardInteractiveHandler: the
		// public key is the only method offered.
		ConnectionFailedCallback: s.failed,
		ConnectionCloseCallback:  s.closed,
		HandshakeTimeout:         30 * time.Second,
		Version:                  "casegraph",
	}
	// A session without its own channel activity still holds a
	// connection: the SSH idle timeout ends those. The TUI's idle timeout
	// (input only: the server's own writes do not count) is in handle.
	if cfg.IdleTimeout > 0 {
		s.ssh.IdleTimeout = cfg.IdleTimeout + 30*time.Second
	}
	return s, nil
}

// HostKey is the server's public host key (for known_hosts).
func (s *Server) HostKey() gossh.PublicKey { return s.host.PublicKey() }

// Serve loads the search index in the background and serves connections
// on l until Close; it returns nil after Close.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	// Say where the server listens, for the commands that find the
	// database locked (ListeningFile).
	lf := ListeningFile(s.cfg.StateDir)
	if err := os.WriteFile(lf, []byte(l.Addr().String()+"\n"), 0o600); err != nil {
		s.log.Warn("listening file not written", "err", err)
	}
	defer os.Remove(lf)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil // closed before it began to serve
	}
	s.listener = l
	s.mu.Unlock()
	go func() {
		n, took, err := s.wb.LoadSearch(ctx)
		s.searchDone = tui.SearchReadyMsg{Docs: n, Took: took, Err: err, Server: s.wb.Remote() != nil}
		close(s.search)
		collectSooner()
	}()
	if s.cfg.Ready != nil {
		s.cfg.Ready()
	}
	err := s.ssh.Serve(l)
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if errors.Is(err, ssh.ErrServerClosed) || closing {
		return nil // a Close while Serve was starting closes the listener instead
	}
	return err
}

// serverGCPercent is the collector's target while a server serves: a
// server's heap is mostly its long-lived search index and analysis, and
// the garbage of many sessions' frames would otherwise let the process
// grow to twice that before a collection (Go's default, GOGC=100). At 25
// the heap may exceed what is live by a quarter; the collections this
// costs mark the index more often (docs/PERFORMANCE.md, team server).
const serverGCPercent = 25

// collectSooner sets serverGCPercent unless GOGC says otherwise.
func collectSooner() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
}

// ListeningFile is the file in a server's state folder that holds the
// address it listens on while it serves.
func ListeningFile(stateDir string) string { return filepath.Join(stateDir, "listening") }

// Close ends every session (journalling their logouts), then the server.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	var quit []*tea.Program
	for p, ls := range s.live {
		r := "server stopped"
		ls.reason.CompareAndSwap(nil, &r)
		quit = append(quit, p)
	}
	s.mu.Unlock()
	// Not under s.mu: Quit waits for the program to take the message.
	for _, p := range quit {
		p.Quit()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.log.Warn("sessions did not end within 10s; closing their connections")
	}
	// The sessions' analyses shown before they were kept (the TUI's
	// deferred keep) are kept before the database closes.
	s.wb.WaitKeeps()
	err := s.ssh.Close()
	if errors.Is(err, ssh.ErrServerClosed) {
		err = nil
	}
	// Serve may have been between taking the listener and handing it to
	// the SSH server, which then never learns of the Close.
	s.mu.Lock()
	if s.listener != nil {
		s.listener.Close()
	}
	s.mu.Unlock()
	return err
}

// authorize is the public-key check: the key must be in the team file and
// the login name must be its user's.
func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	if _, err := s.team.reload(); err != nil {
		s.log.Error("team file not reloaded; the last good one stays in force", "err", err)
	}
	fp := gossh.FingerprintSHA256(key)
	m, ok := s.team.lookup(key)
	why := ""
	switch {
	case !ok:
		why = "key not in the team file"
	case m.User != ctx.User():
		why = fmt.Sprintf("key of %s offered to log in as another user", m.User)
	}
	if why == "" {
		return true
	}
	addr := ctx.RemoteAddr().String()
	s.mu.Lock()
	a := s.attempts[addr]
	if a == nil {
		a = &attempt{}
		s.attempts[addr] = a
	}
	a.login = ctx.User()
	if len(a.keys) < 16 {
		a.keys = append(a.keys, fp)
	}
	a.why = why
	s.mu.Unlock()
	return false
}

// failed journals a connection that never authenticated, when it offered
// a key (a port scan is not journalled).
func (s *Server) failed(conn net.Conn, err error) {
	addr := conn.RemoteAddr().String()
	s.mu.Lock()
	a := s.attempts[addr]
	delete(s.attempts, addr)
	s.mu.Unlock()
	if a == nil {
		s.log.Debug("connection failed before authentication", "remote", addr, "err", err)
		return
	}
	login := a.login
	if len(login) > 64 {
		login = login[:64]
	}
	s.refuse(Unauthenticated, map[string]any{"login": login, "remote": addr, "keys": a.keys, "reason": a.why})
}

func (s *Server) closed(conn net.Conn) {
	s.mu.Lock()
	delete(s.attempts, conn.RemoteAddr().String())
	s.mu.Unlock()
}

// refuse journals a refusal, at most refusalBurst a minute: past that
// they are counted and the next one journalled says how many were not.
func (s *Server) refuse(user string, detail map[string]any) {
	s.log.Warn("refused", "user", user, "detail", detail)
	n, ok := s.refusals.take(time.Now())
	if !ok {
		return
	}
	if n > 0 {
		detail["unjournalled_before"] = n
	}
	if err := s.wb.As(user).Record(context.Background(), ActRefused, "", detail); err != nil {
		s.log.Error("journal refusal", "err", err)
	}
}

// handle serves one SSH session: the TUI, as the key's user.
func (s *Server) handle(sess ssh.Session) {
	ctx := context.Background()
	remote := sess.RemoteAddr().String()
	m, ok := s.team.lookup(sess.PublicKey())
	if !ok {
		// Removed from the team file since the handshake.
		s.refuse(Unauthenticated, map[string]any{"login": sess.User(), "remote": remote, "reason": "key no longer in the team file"})
		fmt.Fprintln(sess.Stderr(), "casegraph: your key is not in the team file")
		_ = sess.Exit(1)
		return
	}
	pty, windows, isPty := sess.Pty()
	if !isPty || sess.RawCommand() != "" || sess.Subsystem() != "" {
		s.refuse(m.User, map[string]any{"remote": remote, "key": m.Fingerprint, "reason": "not an interactive terminal session"})
		fmt.Fprintln(sess.Stderr(), "casegraph serves its terminal workbench only: connect with ssh -t and no command")
		_ = sess.Exit(1)
		return
	}
	if !s.acquire(m.Fingerprint) {
		s.refuse(m.User, map[string]any{"remote": remote, "key": m.Fingerprint, "reason": "session limit", "limit": s.cfg.MaxSessionsPerKey})
		fmt.Fprintf(sess.Stderr(), "casegraph: this key already has %d sessions open (the server's limit)\r\n", s.cfg.MaxSessionsPerKey)
		_ = sess.Exit(1)
		return
	}
	defer s.release(m.Fingerprint)

	wb := s.wb.AsRole(m.User, m.Role, filepath.Join(s.cfg.StateDir, "exports"))
	start := time.Now()
	if err := wb.Record(ctx, ActLogin, "", map[string]any{"role": string(m.Role), "key": m.Fingerprint, "remote": remote,
		"term": pty.Term, "width": pty.Window.Width, "height": pty.Window.Height}); err != nil {
		s.log.Error("journal login", "user", m.User, "err", err)
		fmt.Fprintln(sess.Stderr(), "casegraph: the server could not journal the login; try again later")
		_ = sess.Exit(1)
		return
	}

	// Input, for the idle timeout: the server's own writes (another
	// user's change on screen) do not keep a session alive.
	in := &activity{r: sess}
	in.touch()
	opts := append(bm.MakeOptions(sess), tea.WithInput(in))
	p := tea.NewProgram(tui.New(wb, tui.Options{Remote: true}), opts...)
	ls := &liveSession{}
	if !s.track(p, ls) {
		_ = wb.Record(ctx, ActLogout, "", map[string]any{"reason": "server stopping", "seconds": 0})
		return
	}
	defer s.untrack(p)

	sctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	go s.feed(sctx, p, wb, windows, in, ls)

	_, err := p.Run()
	// The user quit, unless something ended the program first (feed,
	// Close); decided before cancel, which feed would take for a
	// disconnection.
	quit := "quit"
	ls.reason.CompareAndSwap(nil, &quit)
	p.Kill()
	cancel()
	reason := *ls.reason.Load()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		s.log.Error("session ended with an error", "user", m.User, "err", err)
	}
	if reason == "idle" {
		fmt.Fprintf(sess.Stderr(), "casegraph: no input for %s; disconnected\r\n", s.cfg.IdleTimeout)
	}
	if err := wb.Record(ctx, ActLogout, "", map[string]any{"reason": reason,
		"seconds": int(time.Since(start).Seconds())}); err != nil {
		s.log.Error("journal logout", "user", m.User, "err", err)
	}
}

// feed sends the program what happens outside it: window changes, the
// search index becoming ready, the other sessions' changes, and the end
// of the session (the connection gone, or idle).
func (s *Server) feed(ctx context.Context, p *tea.Program, wb *workbench.Workbench, windows <-chan ssh.Window, in *activity, ls *liveSession) {
	changes, unsubscribe := wb.Subscribe()
	defer unsubscribe()
	search := s.search
	var idle <-chan time.Time
	if s.cfg.IdleTimeout > 0 {
		every := min(max(s.cfg.IdleTimeout/10, 10*time.Millisecond), 5*time.Second)
		t := time.NewTicker(every)
		defer t.Stop()
		idle = t.C
	}
	for {
		select {
		case <-ctx.Done():
			r := "disconnected"
			ls.reason.CompareAndSwap(nil, &r)
			p.Quit()
			return
		case w := <-windows:
			p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
		case <-search:
			search = nil
			p.Send(s.searchDone)
		case c, ok := <-changes:
			if !ok {
				return
			}
			if c.Session != wb.Session() {
				p.Send(tui.ChangedMsg{User: c.User, What: c.What, CaseID: c.CaseID, Ref: c.Ref})
			}
		case now := <-idle:
			if now.Sub(in.last()) >= s.cfg.IdleTimeout {
				r := "idle"
				ls.reason.CompareAndSwap(nil, &r)
				p.Quit()
				return
			}
		}
	}
}

func (s *Server) acquire(fp string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.MaxSessionsPerKey > 0 && s.perKey[fp] >= s.cfg.MaxSessionsPerKey {
		return false
	}
	s.perKey[fp]++
	return true
}

func (s *Server) release(fp string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perKey[fp]--; s.perKey[fp] <= 0 {
		delete(s.perKey, fp)
	}
}

func (s *Server) track(p *tea.Program, ls *liveSession) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.live[p] = ls
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(p *tea.Program) {
	s.mu.Lock()
	delete(s.live, p)
	s.mu.Unlock()
	s.wg.Done()
}

// activity is the session's input, noting when it last read a byte.
type activity struct {
	r    io.Reader
	nano atomic.Int64
}

func (a *activity) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.touch()
	}
	return n, err
}

func (a *activity) touch()          { a.nano.Store(time.Now().UnixNano()) }
func (a *activity) last() time.Time { return time.Unix(0, a.nano.Load()) }

// refusalLimit lets refusalBurst refusals a minute into the journal.
type refusalLimit struct {
	mu      sync.Mutex
	window  time.Time
	n       int
	dropped int
}

const refusalBurst = 30

// take reports whether a refusal may be journalled now and how many were
// not since the last that was.
func (l *refusalLimit) take(now time.Time) (dropped int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Minute {
		l.window, l.n = now, 0
	}
	if l.n >= refusalBurst {
		l.dropped++
		return 0, false
	}
	l.n++
	dropped, l.dropped = l.dropped, 0
	return dropped, true
}

// loadHostKey reads the ed25519 host key at path, or makes it (once) when
// there is none. A key file others may read is refused, as OpenSSH does.
func loadHostKey(path string) (gossh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("host key: %w", err)
		}
		block, err := gossh.MarshalPrivateKey(priv, "casegraph team server")
		if err != nil {
			return nil, fmt.Errorf("host key: %w", err)
		}
		data = pem.EncodeToMemory(block)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("host key: %w", err)
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(path)
			return nil, fmt.Errorf("host key: %w", werr)
		}
	} else if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("host key %s: mode %04o lets others read it; chmod 600 it", path, fi.Mode().Perm())
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	return signer, nil
}
