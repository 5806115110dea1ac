package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"casegraph/internal/dgraphtest"
	"casegraph/store"
	"casegraph/workbench"
)

// TestDgraphTeam runs the team's work on one cluster: the team server on a
// dgraph:// URL over a real SSH client; pulls from a watch list and a
// search; written-back risks going stale.
func TestDgraphTeam(t *testing.T) {
	c := dgraphtest.StartT(t)
	t.Setenv("CASEGRAPH_HOME", t.TempDir())
	rules := filepath.Join("..", "..", "testdata", "rules")
	runOut := func(args ...string) string {
		t.Helper()
		var out, errBuf bytes.Buffer
		if err := run(context.Background(), args, &out, &errBuf); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errBuf.String())
		}
		return out.String()
	}
	runOut("import", "--db", c.URL(), rules)

	t.Run("serve", func(t *testing.T) { testDgraphServe(t, c.URL()) })
	t.Run("seeds from a list and a search", func(t *testing.T) { testDgraphListSeeds(t, c.URL()) })
}

// testDgraphListSeeds: pull, flags and clusters start from the entities of
// an imported watch list (--list) and from the hits of a search
// (--search), the scope says so in pull.json and in the risks written back;
// show says a risk is stale once the cluster imported another file.
func testDgraphListSeeds(t *testing.T, url string) {
	run2 := func(args ...string) (string, string, error) {
		var out, errBuf bytes.Buffer
		err := run(context.Background(), args, &out, &errBuf)
		return out.String(), errBuf.String(), err
	}
	runOut := func(args ...string) string {
		t.Helper()
		out, errs, err := run2(args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errs)
		}
		return out
	}
	dir := t.TempDir()
	list := filepath.Join(dir, "watch.csv")
	if err := os.WriteFile(list, []byte("iin,list_status,name\n990101300102,grey,Дроппер 1\n990101300201,black,Дроппер 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runOut("import", "--db", url, list)
	pull := func(args ...string) workbench.PullScope {
		t.Helper()
		out := filepath.Join(t.TempDir(), "pulled")
		var scope workbench.PullScope
		if err := json.Unmarshal([]byte(runOut(append([]string{"pull", "--json", "--db", url, "--hops", "1", "--out", out}, args...)...)), &scope); err != nil {
			t.Fatal(err)
		}
		kept, ok, err := workbench.ReadPullScope(out)
		if err != nil || !ok || kept.Describe() != scope.Describe() {
			t.Errorf("pull.json: %+v %v %v", kept, ok, err)
		}
		return scope
	}
	s := pull("--list", "watch.csv")
	if strings.Join(s.Seeds, " ") != "iin:990101300102 iin:990101300201" || s.List != "watch.csv" ||
		!strings.Contains(s.Describe(), "1 hops around list watch.csv") || s.Batch == 0 {
		t.Errorf("--list: %+v %s", s, s.Describe())
	}
	// The list's holders bring their cards at one hop.
	if s.Entities < 8 {
		t.Errorf("--list pulled %d entities", s.Entities)
	}
	s = pull("--search", "Дроппер", "--search-limit", "3", "--seed", "exchange:EX-0001")
	if len(s.Seeds) != 4 || s.Seeds[0] != "exchange:EX-0001" || s.Search != "Дроппер" ||
		s.Describe() != `1 hops around exchange:EX-0001 and the hits of search "Дроппер"` {
		t.Errorf("--search: %+v %s", s, s.Describe())
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"flags", "--db", url, "--list", "nope.csv"}, "no list nope.csv on " + url + " (imported lists: watch.csv)"},
		{[]string{"clusters", "--db", url, "--search", "xyzzyq"}, `--search "xyzzyq" finds nothing`},
		{[]string{"pull", "--db", url, "--search", "Дроппер", "--search-limit", "0", "--out", filepath.Join(t.TempDir(), "x")}, "--search-limit must be positive"},
		{[]string{"flags", "--db", filepath.Join(t.TempDir(), "db"), "--list", "watch.csv"}, "use them with --db dgraph://"},
	} {
		if _, errs, err := run2(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q\n%s", c.args, err, c.want, errs)
		}
	}

	// flags on the list's neighbourhood writes the risks back with the
	// scope; show reads them, current, then stale after another import.
	if _, errs, err := run2("flags", "--db", url, "--list", "watch.csv"); err != nil || !strings.Contains(errs, "written back to") {
		t.Fatalf("flags --list: %v\n%s", err, errs)
	}
	type shown struct {
		Risk *workbench.EntityRisk `json:"risk"`
	}
	show := func() (shown, string) {
		var sh shown
		if err := json.Unmarshal([]byte(runOut("show", "--json", "--db", url, "iin:990101300102")), &sh); err != nil {
			t.Fatal(err)
		}
		return sh, runOut("show", "--db", url, "iin:990101300102")
	}
	sh, text := show()
	if sh.Risk == nil || !sh.Risk.Flagged || sh.Risk.Analysis.Stale || sh.Risk.Scope != "2 hops around list watch.csv" ||
		strings.Contains(text, "stale") {
		t.Errorf("show after flags --list: %+v\n%s", sh.Risk, text)
	}
	late := filepath.Join(dir, "late.csv")
	if err := os.WriteFile(late, []byte("tx_id,time,from,to,amount,channel\nLATE9,2025-04-02 10:00:00,card:440043100000007,card:440043100100005,1000,transfer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runOut("import", "--db", url, late)
	sh, text = show()
	if sh.Risk == nil || !sh.Risk.Analysis.Stale || !strings.Contains(text, "stale: the cluster imported data after the analysis") {
		t.Errorf("show after another import: %+v\n%s", sh.Risk, text)
	}
	// The same file again is skipped: no new batch, nothing staler.
	runOut("flags", "--db", url, "--list", "watch.csv")
	runOut("import", "--db", url, late)
	if sh, text = show(); sh.Risk == nil || sh.Risk.Analysis.Stale {
		t.Errorf("show after a skipped import: %+v\n%s", sh.Risk, text)
	}
}

// testDgraphServe: casegraph serve --db dgraph://… serves the TUI over SSH;
// a session's search finds a person loaded into the cluster and opens
// their page, and the bookmark made there, the logins and logouts are in
// the local store beside the cluster.
func testDgraphServe(t *testing.T, url string) {
	signer, pub := sshKey(t)
	team := filepath.Join(t.TempDir(), "team_keys")
	if err := os.WriteFile(team, []byte("user=alice,role=investigator "+pub), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", url, "--listen", "127.0.0.1:0", "--authorized-keys", team}, &out, &out)
	}()
	stopped := false
	shutdown := func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve after interrupt: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	}
	defer shutdown()
	banner := regexp.MustCompile(`on (127\.0\.0\.1:\d+)\nhost key (SHA256:\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	var m []string
	for m = banner.FindStringSubmatch(out.String()); m == nil; m = banner.FindStringSubmatch(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("serve on a cluster did not start: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "casegraph serve: "+url) {
		t.Errorf("banner does not name the cluster: %q", out.String())
	}
	cfg := &gossh.ClientConfig{User: "alice", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, Timeout: 10 * time.Second,
		HostKeyCallback: func(_ string, _ net.Addr, key gossh.PublicKey) error {
			if gossh.FingerprintSHA256(key) != m[2] {
				return fmt.Errorf("host key %s, the server printed %s", gossh.FingerprintSHA256(key), m[2])
			}
			return nil
		}}
	s := openTerm(t, m[1], cfg, 140, 40)
	s.wait(20*time.Second, "search served by "+url)
	s.send("/")
	s.wait(5*time.Second, "Latin and Cyrillic")
	s.send("Дроппер 1")
	s.wait(10*time.Second, "IIN 990101 300102", "1 of 1 matches")
	s.send("\r")
	// A person's page: everything they hold, on a cluster as on a folder.
	s.wait(10*time.Second, "Дроппер 1", "persons.csv:2", "3 instruments · i: one at a time", "Transactions of 3 instruments")
	s.send("b")
	s.wait(5*time.Second, "Bookmark")
	s.send("\tCluster case\tmule\x13") // the case picker, the new case's name, tags; ctrl+s
	s.wait(10*time.Second, "(new case)")
	s.send("\x03")
	select {
	case <-s.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end after ctrl+c")
	}
	// The journal records the logout as the handler ends.
	time.Sleep(200 * time.Millisecond)
	shutdown()

	db, err := store.Open(remoteLocalDir(url), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs, err := db.Case(context.Background(), "Cluster case")
	if err != nil || len(cs.Bookmarks) != 1 || cs.Bookmarks[0].Target.Refs[0].Key != "990101300102" {
		t.Fatalf("the bookmark made over SSH is not in the local store: %+v %v", cs, err)
	}
	j, err := db.Journal(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range j {
		if e.User == "alice" {
			acts = append(acts, e.Action)
		}
	}
	if got := strings.Join(acts, " "); got != "server.login case.create bookmark.add server.logout" {
		t.Errorf("alice's journal: %s", got)
	}
	if _, err := os.Stat(filepath.Join(remoteLocalDir(url), ".casegraph-server", "host_ed25519")); err != nil {
		t.Errorf("the server's state is not beside the local store: %v", err)
	}
}

func sshKey(t *testing.T) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, string(gossh.MarshalAuthorizedKey(s.PublicKey()))
}

// sshScreen is an SSH session with a PTY drawn by a terminal emulator.
type sshScreen struct {
	t     *testing.T
	emu   *vt.SafeEmulator
	inMu  sync.Mutex
	in    io.WriteCloser
	ended chan error
}

func openTerm(t *testing.T, addr string, cfg *gossh.ClientConfig, w, h int) *sshScreen {
	t.Helper()
	c, err := gossh.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &sshScreen{t: t, emu: vt.NewSafeEmulator(w, h), in: in, ended: make(chan error, 1)}
	// The emulator answers the program's queries on its input, as a
	// terminal does.
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
	go func() { _, _ = io.Copy(s.emu, out) }()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { s.ended <- sess.Wait() }()
	return s
}

func (s *sshScreen) send(keys string) {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	_, _ = io.WriteString(s.in, keys)
}

func (s *sshScreen) wait(timeout time.Duration, want ...string) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		txt := ansi.Strip(s.emu.Render())
		missing := ""
		for _, w := range want {
			if !strings.Contains(txt, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%q not on the screen after %s:\n%s", missing, timeout, txt)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
