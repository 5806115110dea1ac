// Package loadtest drives a team server the way its users do, for
// `casegraph bench --serve-sessions N`: it serves a workbench in-process
// (server.Server on 127.0.0.1), connects real SSH clients with a pty
// (golang.org/x/crypto/ssh), types search queries a keystroke at a time
// and pages through the results, and times each keystroke until the
// redrawn screen (drawn by a terminal emulator, as the user would see it)
// shows that query's results. The figures go to docs/PERFORMANCE.md.
//
// It first runs one session alone, then N at once, sampling the process's
// resident memory in each phase: the clients and their emulators live in
// the same process, so the figures are the server's plus theirs (a
// terminal emulator and an SSH client each, one to two MiB, small beside
// the server's index).
package loadtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"casegraph/server"
	"casegraph/tui"
	"casegraph/workbench"
)

// Config is a load test.
type Config struct {
	Sessions int           // SSH sessions at once in the main phase
	Duration time.Duration // of the main phase
	Single   time.Duration // of the one-session phase before it
	Width    int           // terminal size of every session
	Height   int
	Words    []string // typed one keystroke at a time, in turn
	// Interval is the typing pace: a keystroke is sent this long after
	// the one before (or as soon as its results show, when they take
	// longer); 0 types as fast as the screens redraw. A session pauses
	// four intervals after a word and its pages, reading.
	Interval time.Duration
	// Memory reports the process's resident and peak resident memory in
	// MiB (nil: not measured).
	Memory func() (rss, peak float64)
	// CPU reports the CPU time the process has used so far (nil: not
	// measured).
	CPU func() time.Duration
	// Progress, when set, hears what the test is doing.
	Progress io.Writer
}

// Phase is what one phase measured.
type Phase struct {
	Sessions   int
	Keystrokes []time.Duration // keystroke sent → that query's results on the screen
	Pages      []time.Duration // page down sent → the next page on the screen
	Errors     int
	FirstError string
	// Resident memory sampled every 250 ms while the sessions worked:
	// the last sample (steady) and the largest.
	RSSMiB, RSSPeakMiB float64
	// CPU is the process's CPU time over the phase: server and clients.
	CPU time.Duration
}

// Report is a load test's result.
type Report struct {
	IdleRSSMiB float64 // the server with its index loaded, before any session
	Single     Phase
	Many       Phase
	PeakMiB    float64 // the process's peak resident memory (VmHWM), index load included
}

// Run serves wb and measures it once the server has loaded the search
// index (its load is not a keystroke).
func Run(ctx context.Context, wb *workbench.Workbench, cfg Config) (Report, error) {
	var rep Report
	if cfg.Sessions < 1 || cfg.Duration <= 0 || len(cfg.Words) == 0 {
		return rep, errors.New("load test: needs sessions, a duration and words to type")
	}
	if cfg.Width == 0 {
		cfg.Width, cfg.Height = 120, 40
	}
	say := func(format string, a ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", a...)
		}
	}
	state, err := os.MkdirTemp("", "casegraph-loadtest")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(state)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return rep, err
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return rep, err
	}
	team := filepath.Join(state, "team")
	line := "user=bench,role=viewer " + strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + "\n"
	if err := os.WriteFile(team, []byte(line), 0o600); err != nil {
		return rep, err
	}
	srv, err := server.New(wb, server.Config{TeamFile: team, StateDir: filepath.Join(state, "server")})
	if err != nil {
		return rep, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	defer func() {
		srv.Close()
		<-served
	}()
	dial := func() (*gossh.Client, error) {
		return gossh.Dial("tcp", l.Addr().String(), &gossh.ClientConfig{User: "bench",
			Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, HostKeyCallback: gossh.FixedHostKey(srv.HostKey()),
			Timeout: 10 * time.Second})
	}
	// The server loads the search index as it starts serving, as in
	// use; the sessions begin once it is loaded.
	say("loading the search index…")
	for {
		_, err := wb.Search(ctx, "a", 0, 1)
		if !errors.Is(err, tui.ErrSearchNotReady) {
			break
		}
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case err := <-served:
			return rep, fmt.Errorf("the server stopped: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if cfg.Memory != nil {
		rep.IdleRSSMiB, _ = cfg.Memory()
	}
	single := cfg.Single
	if single <= 0 {
		single = max(cfg.Duration/4, 2*time.Second)
	}
	say("1 session for %s…", single)
	if rep.Single, err = phase(ctx, dial, cfg, 1, single); err != nil {
		return rep, err
	}
	say("%d sessions for %s…", cfg.Sessions, cfg.Duration)
	if rep.Many, err = phase(ctx, dial, cfg, cfg.Sessions, cfg.Duration); err != nil {
		return rep, err
	}
	if cfg.Memory != nil {
		_, rep.PeakMiB = cfg.Memory()
	}
	return rep, nil
}

// phase runs n sessions for d, each typing the words from its own offset.
func phase(ctx context.Context, dial func() (*gossh.Client, error), cfg Config, n int, d time.Duration) (Phase, error) {
	ph := Phase{Sessions: n}
	var mu sync.Mutex
	record := func(r result) {
		mu.Lock()
		defer mu.Unlock()
		ph.Keystrokes = append(ph.Keystrokes, r.keys...)
		ph.Pages = append(ph.Pages, r.pages...)
		ph.Errors += len(r.errs)
		if len(r.errs) > 0 && ph.FirstError == "" {
			ph.FirstError = r.errs[0].Error()
		}
	}
	// Every session connects and opens its search screen first; the clock
	// starts when all are ready.
	sessions := make([]*session, n)
	for i := range sessions {
		s, err := open(dial, cfg.Width, cfg.Height)
		if err != nil {
			for _, o := range sessions[:i] {
				o.close()
			}
			return ph, fmt.Errorf("session %d: %w", i+1, err)
		}
		sessions[i] = s
	}
	defer func() {
		for _, s := range sessions {
			s.close()
		}
	}()
	for i, s := range sessions {
		if err := s.ready(); err != nil {
			return ph, fmt.Errorf("session %d: %w", i+1, err)
		}
	}
	var cpu0 time.Duration
	if cfg.CPU != nil {
		cpu0 = cfg.CPU()
	}
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			record(s.work(pctx, cfg.Words, i, cfg.Interval))
		}()
	}
	// Memory while they work.
	if cfg.Memory != nil {
		t := time.NewTicker(250 * time.Millisecond)
	sample:
		for {
			select {
			case <-pctx.Done():
				break sample
			case <-t.C:
				rss, _ := cfg.Memory()
				ph.RSSMiB = rss
				ph.RSSPeakMiB = max(ph.RSSPeakMiB, rss)
			}
		}
		t.Stop()
	}
	wg.Wait()
	if cfg.CPU != nil {
		ph.CPU = cfg.CPU() - cpu0
	}
	return ph, ctx.Err()
}

// session is one SSH client with a pty, its output drawn by a terminal
// emulator.
type session struct {
	client  *gossh.Client
	sess    *gossh.Session
	in      io.WriteCloser
	inMu    sync.Mutex
	mu      sync.Mutex // guards emu's screen
	emu     *vt.Emulator
	changed chan struct{} // a byte arrived (capacity 1)
}

func open(dial func() (*gossh.Client, error), w, h int) (*session, error) {
	c, err := dial()
	if err != nil {
		return nil, err
	}
	sess, err := c.NewSession()
	if err != nil {
		c.Close()
		return nil, err
	}
	s := &session{client: c, sess: sess, emu: vt.NewEmulator(w, h), changed: make(chan struct{}, 1)}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		s.close()
		return nil, err
	}
	if s.in, err = sess.StdinPipe(); err != nil {
		s.close()
		return nil, err
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		s.close()
		return nil, err
	}
	// The emulator answers the program's queries (cursor position,
	// colours) on its input, as a terminal does.
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := s.emu.Read(buf)
			if n > 0 {
				s.send(string(buf[:n]))
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.emu.Write(buf[:n])
				s.mu.Unlock()
				select {
				case s.changed <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	if err := sess.Shell(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) close() {
	s.sess.Close()
	s.client.Close()
}

func (s *session) send(keys string) {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	_, _ = io.WriteString(s.in, keys)
}

func (s *session) screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emu.String()
}

// waitFor returns once ok holds for the screen, or an error after timeout.
func (s *session) waitFor(timeout time.Duration, what string, ok func(screen string) bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if ok(s.screen()) {
			return nil
		}
		select {
		case <-s.changed:
		case <-deadline.C:
			return fmt.Errorf("%s: not on the screen after %s:\n%s", what, timeout, s.screen())
		}
	}
}

// ready waits for the home screen, then opens the search screen.
func (s *session) ready() error {
	if err := s.waitFor(time.Minute, "search index ready", contains("search index ready")); err != nil {
		return err
	}
	s.send("/")
	return s.waitFor(10*time.Second, "the search screen", contains("Latin and Cyrillic"))
}

func contains(want string) func(string) bool {
	return func(screen string) bool { return strings.Contains(screen, want) }
}

var footer = regexp.MustCompile(`(\d+) of ([\d,]+) matches`)

// shows reports whether the screen shows the results of query q: the
// query line holds q, and no search is running (the screen is redrawn
// with the query line and the busy mark in one frame, so a frame with q
// and no busy mark holds q's results).
func shows(q string) func(string) bool {
	return func(screen string) bool {
		if strings.Contains(screen, "searching…") {
			return false
		}
		at := strings.Index(screen, "/ "+q)
		if at < 0 {
			return false
		}
		rest := screen[at+2+len(q):]
		if rest != "" && rest[0] != ' ' && rest[0] != '\n' {
			return false // a longer query
		}
		return footer.MatchString(screen) || strings.Contains(screen, "no matches for")
	}
}

type result struct {
	keys, pages []time.Duration
	errs        []error
}

const (
	keyTimeout = 5 * time.Second
	pgDown     = "\x1b[6~"
	clearLine  = "\x15" // ctrl+u: delete the query
)

// work types the words in turn from offset until ctx ends, at the pace of
// interval: each keystroke timed until its results show; after a word, up
// to three pages down, each timed until the screen changes; then a pause
// and the query is cleared.
func (s *session) work(ctx context.Context, words []string, offset int, interval time.Duration) result {
	var r result
	pace := func(since time.Time, d time.Duration) {
		if wait := d - time.Since(since); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
	fail := func(err error) bool {
		r.errs = append(r.errs, err)
		// Start the next word from a clean query line.
		s.send(clearLine)
		_ = s.waitFor(keyTimeout, "an empty query", contains("Latin and Cyrillic"))
		return ctx.Err() == nil
	}
	for i := offset; ctx.Err() == nil; i++ {
		runes := []rune(words[i%len(words)])
		ok := true
		for j := 1; j <= len(runes) && ctx.Err() == nil; j++ {
			q := string(runes[:j])
			t0 := time.Now()
			s.send(string(runes[j-1]))
			if err := s.waitFor(keyTimeout, "results of "+strconv.Quote(q), shows(q)); err != nil {
				ok = fail(err)
				break
			}
			r.keys = append(r.keys, time.Since(t0))
			pace(t0, interval)
		}
		if !ok || ctx.Err() != nil {
			continue
		}
		// Page down while there are more hits than the screen shows.
		for p := 0; p < 3 && ctx.Err() == nil; p++ {
			before := s.screen()
			m := footer.FindStringSubmatch(before)
			if m == nil {
				break
			}
			if n, _ := strconv.Atoi(m[1]); n < 2*s.emu.Height() {
				break
			}
			t0 := time.Now()
			s.send(pgDown)
			if err := s.waitFor(keyTimeout, "the next page", func(sc string) bool { return sc != before }); err != nil {
				fail(err)
				break
			}
			r.pages = append(r.pages, time.Since(t0))
			pace(t0, interval)
		}
		pace(time.Now(), 4*interval)
		s.send(clearLine)
		if err := s.waitFor(keyTimeout, "an empty query", contains("Latin and Cyrillic")); err != nil {
			fail(err)
		}
	}
	return r
}
