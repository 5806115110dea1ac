package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"casegraph/graph"
	"casegraph/store"
	"casegraph/workbench"
)

// team is a running server on a throw-away database and its members' keys.
type testTeam struct {
	t    *testing.T
	db   *store.DB
	srv  *Server
	addr string
	keys map[string]gossh.Signer // by user; "mallory" is in no team file
	dir  string                  // where the team file and keys are
}

func newKey(t *testing.T) (gossh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

// startTeam imports testdata/rules, writes a team file (alice
// investigator, bob analyst, vera viewer) and serves the database on
// 127.0.0.1:0.
func startTeam(t *testing.T, cfg Config) *testTeam {
	t.Helper()
	dir := t.TempDir()
	dbDir := filepath.Join(dir, "db")
	db, err := store.Open(dbDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wb := workbench.New(db, "team")
	files, err := workbench.ExpandInputs([]string{filepath.Join("..", "testdata", "rules")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wb.Import(context.Background(), files, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	tt := &testTeam{t: t, db: db, keys: map[string]gossh.Signer{}, dir: dir}
	var lines []string
	for _, u := range []struct{ user, role string }{{"alice", "investigator"}, {"bob", "analyst"}, {"vera", "viewer"}, {"mallory", ""}} {
		s, priv := newKey(t)
		tt.keys[u.user] = s
		block, err := gossh.MarshalPrivateKey(priv, u.user)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, u.user+".key"), pemBytes(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if u.role != "" {
			lines = append(lines, fmt.Sprintf("user=%s,role=%s %s", u.user, u.role, gossh.MarshalAuthorizedKey(s.PublicKey())))
		}
	}
	cfg.TeamFile = filepath.Join(dir, "team_keys")
	if err := os.WriteFile(cfg.TeamFile, []byte("# casegraph team\n"+strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = filepath.Join(dbDir, ".casegraph-server")
	srv, err := New(wb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
		db.Close()
	})
	tt.srv, tt.addr = srv, l.Addr().String()
	return tt
}

// dial connects as login with the key of user, pinning the host key.
func (tt *testTeam) dial(login, user string) (*gossh.Client, error) {
	cfg := &gossh.ClientConfig{
		User:            login,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(tt.keys[user])},
		HostKeyCallback: gossh.FixedHostKey(tt.srv.HostKey()),
		Timeout:         10 * time.Second,
	}
	return gossh.Dial("tcp", tt.addr, cfg)
}

// screen is an SSH session with a PTY whose output a terminal emulator
// draws, as the user would see it.
type screen struct {
	t      *testing.T
	name   string
	client *gossh.Client
	sess   *gossh.Session
	emu    *vt.SafeEmulator
	raw    rawLog // every byte the server sent
	inMu   sync.Mutex
	in     io.WriteCloser
	ended  chan error
}

func (tt *testTeam) open(user string, w, h int) *screen {
	tt.t.Helper()
	return tt.openTerm(user, "xterm-256color", w, h)
}

// rawLog keeps what a session received, safe to read while it grows.
type rawLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (r *rawLog) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.Write(p)
}

func (r *rawLog) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.String()
}

// openTerm is open with the terminal type term.
func (tt *testTeam) openTerm(user, term string, w, h int) *screen {
	tt.t.Helper()
	c, err := tt.dial(user, user)
	if err != nil {
		tt.t.Fatalf("%s: dial: %v", user, err)
	}
	sess, err := c.NewSession()
	if err != nil {
		tt.t.Fatal(err)
	}
	if err := sess.RequestPty(term, h, w, gossh.TerminalModes{}); err != nil {
		tt.t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		tt.t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		tt.t.Fatal(err)
	}
	s := &screen{t: tt.t, name: user, client: c, sess: sess, emu: vt.NewSafeEmulator(w, h), in: in, ended: make(chan error, 1)}
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
	go func() { _, _ = io.Copy(io.MultiWriter(s.emu, &s.raw), out) }()
	if err := sess.Shell(); err != nil {
		tt.t.Fatal(err)
	}
	go func() { s.ended <- sess.Wait() }()
	// The emulator is not closed: its Close races with the Read above.
	tt.t.Cleanup(func() { c.Close() })
	return s
}

func (s *screen) send(keys string) {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	_, _ = io.WriteString(s.in, keys)
}

// text is the screen as the emulator shows it, without styles.
func (s *screen) text() string { return ansi.Strip(s.emu.Render()) }

// wait returns once every one of want is on the screen, failing the test
// after timeout.
func (s *screen) wait(timeout time.Duration, want ...string) {
	s.t.Helper()
	if err := s.waitErr(timeout, want...); err != nil {
		s.t.Fatal(err)
	}
}

// waitErr is wait for other goroutines than the test's: it returns the
// failure.
func (s *screen) waitErr(timeout time.Duration, want ...string) error {
	deadline := time.Now().Add(timeout)
	for {
		txt := s.text()
		missing := ""
		for _, w := range want {
			if !strings.Contains(txt, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %q not on the screen after %s:\n%s", s.name, missing, timeout, txt)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quit presses ctrl+c and waits for the session to end.
func (s *screen) quit() {
	s.t.Helper()
	s.send("\x03")
	select {
	case <-s.ended:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("%s: the session did not end after ctrl+c", s.name)
	}
}

const (
	ctrlS = "\x13"
	enter = "\r"
	tab   = "\t"
)

// openDropper searches the first dropper by IIN and opens them.
func (s *screen) openDropper() {
	s.t.Helper()
	s.wait(10*time.Second, "search index ready")
	s.send("/")
	s.wait(5*time.Second, "Latin and Cyrillic")
	s.send("990101300102")
	s.wait(5*time.Second, "1 of 1 matches")
	s.send(enter)
	s.wait(5*time.Second, "Дроппер 1", "persons.csv")
}

// TestTeamServerEndToEnd: alice (investigator) bookmarks over SSH and bob
// (analyst), on his Cases screen in a terminal of another size, sees it
// within a second; vera (viewer) is refused the bookmark in her status
// line; a key not in the team file and a key offered for another user are
// refused; the journal names each user and verifies.
func TestTeamServerEndToEnd(t *testing.T) {
	tt := startTeam(t, Config{IdleTimeout: time.Minute, MaxSessionsPerKey: 2})
	ctx := context.Background()

	alice := tt.open("alice", 120, 40)
	bob := tt.open("bob", 100, 30)
	bob.wait(10*time.Second, "search index ready")
	bob.send("c")
	bob.wait(5*time.Second, "No cases yet")

	alice.openDropper()
	alice.send("b")
	alice.wait(5*time.Second, "Bookmark")
	alice.send(tab + "Team case" + tab + "mule" + ctrlS) // the case picker, the new case's name, tags
	alice.wait(5*time.Second, "(new case)")
	start := time.Now()
	bob.wait(time.Second, "Team case", "1 bookmark", "alice bookmarked")
	t.Logf("bob saw alice's bookmark %s after she did", time.Since(start).Round(time.Millisecond))

	// Both open the case's notes; alice saves first; bob's save, begun on
	// the notes as they were, is refused naming her.
	alice.send("c")
	alice.wait(5*time.Second, "1 bookmark")
	alice.send("n")
	alice.wait(5*time.Second, "Notes of Team case")
	bob.send("n")
	bob.wait(5*time.Second, "Notes of Team case")
	alice.send("met the courier" + ctrlS)
	alice.wait(5*time.Second, "case notes saved")
	bob.wait(time.Second, "alice wrote the notes")
	bob.send("my version" + ctrlS)
	bob.wait(5*time.Second, "not saved: alice changed the notes")
	alice.send("\x1b") // esc: back where she was

	vera := tt.open("vera", 90, 28)
	vera.openDropper()
	vera.send("b")
	vera.wait(5*time.Second, "Bookmark")
	vera.send(ctrlS) // the picker is on the current case, "Team case"
	vera.wait(5*time.Second, "vera is a viewer and may not")

	// Referred, the case is read-only for everyone, bob's screen and the
	// server alike; only alice, an investigator, may reopen it.
	alice.send("c")
	alice.wait(5*time.Second, "Team case")
	alice.send("S")
	alice.wait(5*time.Second, `"Team case" is referred`)
	bob.wait(time.Second, "[referred]")
	bob.send("n")
	bob.wait(5*time.Second, "read-only")
	c, err := tt.db.Case(ctx, "Team case")
	if err != nil {
		t.Fatal(err)
	}
	ana := tt.srv.wb.AsRole("bob", "analyst", "")
	if _, err := ana.AddBookmark(ctx, c.ID, graph.Bookmark{Target: graph.EntityTarget(graph.Ref{Kind: graph.KindExchange, Key: "EX-0001"}, "")}); !errors.Is(err, store.ErrCaseReadOnly) {
		t.Errorf("the server's session bookmarked into a referred case: %v", err)
	}
	alice.send("S")
	alice.wait(5*time.Second, `"Team case" is closed`)
	alice.send("S")
	alice.wait(5*time.Second, `"Team case" is open`)

	// Refused: a key not in the team file, and alice's key offered as bob.
	if c, err := tt.dial("alice", "mallory"); err == nil {
		c.Close()
		t.Fatal("a key not in the team file logged in")
	}
	if c, err := tt.dial("bob", "alice"); err == nil {
		c.Close()
		t.Fatal("alice's key logged in as bob")
	}
	// Passwords and keyboard-interactive are not even offered.
	_, err = gossh.Dial("tcp", tt.addr, &gossh.ClientConfig{User: "alice", HostKeyCallback: gossh.FixedHostKey(tt.srv.HostKey()),
		Auth: []gossh.AuthMethod{gossh.Password("alice"), gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return nil, nil
		})}, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "attempted methods [none]") {
		t.Fatalf("password login: %v", err)
	}

	for _, s := range []*screen{alice, bob, vera} {
		s.quit()
	}
	// Logouts are journalled as each handler ends; give them a moment.
	var j []store.JournalEntry
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		if j, err = tt.db.Journal(ctx, ""); err != nil {
			t.Fatal(err)
		}
		// (A refused connection is journalled by the server after the
		// client has given up: it may come late, in either order.)
		if count(j, "", ActLogout) == 3 && count(j, Unauthenticated, ActRefused) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, u := range []string{"alice", "bob", "vera"} {
		if count(j, u, ActLogin) != 1 || count(j, u, ActLogout) != 1 {
			t.Errorf("%s: %d logins, %d logouts journalled", u, count(j, u, ActLogin), count(j, u, ActLogout))
		}
	}
	if count(j, "alice", store.ActCaseCreate) != 1 || count(j, "alice", store.ActBookmarkAdd) != 1 {
		t.Errorf("alice's case and bookmark are not journalled as hers")
	}
	if count(j, "vera", workbench.ActAccessDenied) != 1 || count(j, "vera", store.ActBookmarkAdd) != 0 {
		t.Errorf("vera's refused bookmark: %d refusals, %d bookmarks", count(j, "vera", workbench.ActAccessDenied), count(j, "vera", store.ActBookmarkAdd))
	}
	var logins []string
	for _, e := range j {
		if e.Action == ActRefused && e.User == Unauthenticated {
			var d struct{ Login, Reason string }
			_ = json.Unmarshal(e.Detail, &d)
			logins = append(logins, d.Login+": "+d.Reason)
		}
	}
	slices.Sort(logins)
	if len(logins) != 2 || !strings.Contains(logins[0], "alice: key not in the team file") || !strings.Contains(logins[1], "bob: key of alice") {
		t.Errorf("refusals journalled: %q", logins)
	}
	rep, err := tt.db.VerifyJournal(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("journal verify: %+v %v", rep, err)
	}
}

func count(j []store.JournalEntry, user, action string) int {
	n := 0
	for _, e := range j {
		if (user == "" || e.User == user) && e.Action == action {
			n++
		}
	}
	return n
}

// TestTeamServerLimits: a key past its session limit is refused, a
// session without a terminal or with a command is refused, and a session
// without input ends after the idle timeout; all journalled.
func TestTeamServerLimits(t *testing.T) {
	tt := startTeam(t, Config{MaxSessionsPerKey: 1})

	first := tt.open("bob", 80, 24)
	first.wait(10*time.Second, "casegraph")
	c, err := tt.dial("bob", "bob")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("")
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(string(out), "sessions open") {
		t.Fatalf("second session of a key limited to one: %v %q", err, out)
	}
	sess, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err = sess.CombinedOutput("journal")
	if !errors.As(err, &exit) || !strings.Contains(string(out), "terminal workbench only") {
		t.Fatalf("a command: %v %q", err, out)
	}

	first.quit()

	// No input: a session ends on its own after the idle timeout; input
	// keeps it alive.
	idle := startTeam(t, Config{IdleTimeout: time.Second})
	quiet := idle.open("bob", 80, 24)
	busy := idle.open("alice", 80, 24)
	for range 30 {
		busy.send("?") // help on, help off
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case <-quiet.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("an idle session was not ended")
	}
	select {
	case err := <-busy.ended:
		t.Fatalf("a session with input ended: %v", err)
	default:
	}
	busy.quit()
	checkReasons(t, tt.db, []string{"server.refused session limit", "server.refused not an interactive terminal session", "server.logout quit"})
	checkReasons(t, idle.db, []string{"server.logout idle"})
}

// checkReasons compares bob's journalled refusals and logouts with want.
func checkReasons(t *testing.T, db *store.DB, want []string) {
	t.Helper()
	ctx := context.Background()
	j, err := db.Journal(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range j {
		if e.User != "bob" || (e.Action != ActRefused && e.Action != ActLogout) {
			continue
		}
		var d struct{ Reason string }
		_ = json.Unmarshal(e.Detail, &d)
		reasons = append(reasons, e.Action+" "+d.Reason)
	}
	if strings.Join(reasons, "|") != strings.Join(want, "|") {
		t.Errorf("journalled %q, want %q", reasons, want)
	}
}

func pemBytes(b *pem.Block) []byte { return pem.EncodeToMemory(b) }

// TestTwentySessions: twenty sessions at once on one workbench (seven of
// alice, seven of bob, six of vera, each its own terminal size); alice's
// bookmark reaches the nineteen other screens within a second.
func TestTwentySessions(t *testing.T) {
	if testing.Short() {
		t.Skip("twenty SSH sessions: not in -short")
	}
	tt := startTeam(t, Config{IdleTimeout: time.Minute})
	var screens []*screen
	for i := range 20 {
		user := []string{"alice", "bob", "vera"}[i%3]
		screens = append(screens, tt.open(user, 90+i, 28+i%5))
	}
	for _, s := range screens {
		s.wait(20*time.Second, "search index ready")
	}
	for _, s := range screens[1:] {
		s.send("c")
	}
	for _, s := range screens[1:] {
		s.wait(10*time.Second, "No cases yet")
	}
	a := screens[0]
	a.openDropper()
	a.send("b")
	a.wait(5*time.Second, "Bookmark")
	a.send(tab + "Busy case" + ctrlS)
	a.wait(5*time.Second, "(new case)")
	start := time.Now()
	var wg sync.WaitGroup
	for _, s := range screens[1:] {
		wg.Go(func() {
			if err := s.waitErr(time.Second, "alice bookmarked", "Busy case"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("nineteen screens showed the bookmark within %s", time.Since(start).Round(time.Millisecond))
	for _, s := range screens {
		s.quit()
	}
	j, err := tt.db.Journal(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(j, "", ActLogin); n != 20 {
		t.Errorf("%d logins journalled, want 20", n)
	}
	if rep, err := tt.db.VerifyJournal(context.Background()); err != nil || !rep.OK {
		t.Fatalf("journal verify: %+v %v", rep, err)
	}
}

// sgrColour is an SGR sequence that sets a foreground colour.
var sgrColour = regexp.MustCompile(`\x1b\[(?:[0-9]+;)*(?:3[0-7]|9[0-7]|38;[25];[0-9;]+)m`)

// TestEachSessionItsOwnTerminal: two sessions of one key at once, one in a
// colour terminal of 132×40 and one in a dumb terminal of 80×24, get each
// their own frame: colours only in the first, each laid out to its width.
func TestEachSessionItsOwnTerminal(t *testing.T) {
	tt := startTeam(t, Config{})
	colour := tt.openTerm("bob", "xterm-256color", 132, 40)
	dumb := tt.openTerm("bob", "dumb", 80, 24)
	// (Not "search index ready": the emulator may draw the dumb
	// terminal's status line without the part that changed.)
	for _, s := range []*screen{colour, dumb} {
		s.wait(10*time.Second, "documents in")
	}
	if !sgrColour.MatchString(colour.raw.String()) {
		t.Errorf("the colour terminal got no colours: %q", colour.raw.String()[:300])
	}
	if sgrColour.MatchString(dumb.raw.String()) {
		t.Errorf("the dumb terminal got colours: %q", sgrColour.FindString(dumb.raw.String()))
	}
	width := func(s *screen) int {
		w := 0
		for _, l := range strings.Split(s.text(), "\n") {
			w = max(w, len([]rune(strings.TrimRight(l, " "))))
		}
		return w
	}
	if w := width(colour); w != 132 {
		t.Errorf("the 132-column screen is %d wide", w)
	}
	if w := width(dumb); w != 80 {
		t.Errorf("the 80-column screen is %d wide", w)
	}
	colour.quit()
	dumb.quit()
}

// TestCloseEndsSessions: stopping the server ends the sessions and
// journals why.
func TestCloseEndsSessions(t *testing.T) {
	tt := startTeam(t, Config{})
	s := tt.open("alice", 80, 24)
	s.wait(10*time.Second, "documents in")
	if err := tt.srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the session outlived the server")
	}
	j, err := tt.db.Journal(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	last := j[len(j)-1]
	if last.User != "alice" || last.Action != ActLogout || !strings.Contains(string(last.Detail), `"reason":"server stopped"`) {
		t.Fatalf("last entry: %+v %s", last, last.Detail)
	}
}

// TestCloseRacingServe: a Close that comes before Serve hands its listener
// to the SSH server (an operator's ctrl+c just after start) still ends
// Serve, and removes the listening file.
func TestCloseRacingServe(t *testing.T) {
	tt := startTeam(t, Config{})
	for _, closeFirst := range []bool{true, false} {
		srv, err := New(workbench.New(tt.db, "team"), Config{TeamFile: filepath.Join(tt.dir, "team_keys"), StateDir: filepath.Join(tt.dir, "second")})
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		srv.cfg.Ready = func() { close(ready) }
		served := make(chan error, 1)
		if closeFirst {
			srv.Close()
			go func() { served <- srv.Serve(context.Background(), l) }()
		} else {
			go func() { served <- srv.Serve(context.Background(), l) }()
			<-ready
			srv.Close()
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("close first %v: serve: %v", closeFirst, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("close first %v: Serve did not return", closeFirst)
		}
		if _, err := os.Stat(ListeningFile(filepath.Join(tt.dir, "second"))); err == nil {
			t.Errorf("close first %v: the listening file outlived Serve", closeFirst)
		}
	}
}
