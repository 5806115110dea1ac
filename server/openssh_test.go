package server

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// tmux runs tmux on the test's own server socket.
type tmux struct {
	t    *testing.T
	sock string
}

func (x tmux) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-S", x.sock}, args...)...).CombinedOutput()
	return string(out), err
}

// wait polls the pane until every one of want is on it.
func (x tmux) wait(pane string, timeout time.Duration, want ...string) {
	x.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		txt, err := x.run("capture-pane", "-p", "-t", pane)
		missing := ""
		for _, w := range want {
			if !strings.Contains(txt, w) {
				missing = w
				break
			}
		}
		if err == nil && missing == "" {
			return
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("%s: %q not on the pane after %s (%v):\n%s", pane, missing, timeout, err, txt)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOpenSSHClientUnderTmux: the real OpenSSH client, in tmux panes of two
// sizes, logs in with a key file and known_hosts pinning the server's host
// key; alice bookmarks, bob's pane shows it; a key not in the team file
// gets "Permission denied (publickey)".
func TestOpenSSHClientUnderTmux(t *testing.T) {
	for _, tool := range []string{"ssh", "tmux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the OpenSSH test needs ssh and tmux (.ci/run installs openssh-client and tmux)", tool)
		}
	}
	tt := startTeam(t, Config{MaxSessionsPerKey: 2})
	_, port, _ := strings.Cut(tt.addr, ":")
	kh := filepath.Join(tt.dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(fmt.Sprintf("[127.0.0.1]:%s %s", port, gossh.MarshalAuthorizedKey(tt.srv.HostKey()))), 0o600); err != nil {
		t.Fatal(err)
	}
	sshCmd := func(user, key string) string {
		return fmt.Sprintf("ssh -F /dev/null -tt -p %s -i %s -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile=%s "+
			"-o StrictHostKeyChecking=yes -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o BatchMode=yes %s@127.0.0.1; sleep 30",
			port, filepath.Join(tt.dir, key+".key"), kh, user)
	}
	// A short socket path: the temporary folder's may pass the limit.
	sockDir, err := os.MkdirTemp("", "cgtmux")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	x := tmux{t: t, sock: filepath.Join(sockDir, "s")}
	for _, p := range []struct {
		name, user, key string
		w, h            int
	}{{"alice", "alice", "alice", 120, 40}, {"bob", "bob", "bob", 100, 30}, {"mallory", "alice", "mallory", 80, 24}} {
		args := []string{"new-session", "-d", "-s", p.name, "-x", fmt.Sprint(p.w), "-y", fmt.Sprint(p.h), "-e", "TERM=xterm-256color", sshCmd(p.user, p.key)}
		if out, err := x.run(args...); err != nil {
			t.Fatalf("tmux %s: %v %s", p.name, err, out)
		}
	}
	defer x.run("kill-server")

	x.wait("mallory", 10*time.Second, "Permission denied (publickey)")
	x.wait("bob", 15*time.Second, "search index ready")
	if _, err := x.run("send-keys", "-t", "bob", "c"); err != nil {
		t.Fatal(err)
	}
	x.wait("bob", 5*time.Second, "No cases yet")
	x.wait("alice", 15*time.Second, "search index ready")
	send := func(keys ...string) {
		if out, err := x.run(append([]string{"send-keys", "-t", "alice"}, keys...)...); err != nil {
			t.Fatalf("send-keys %q: %v %s", keys, err, out)
		}
	}
	send("/")
	x.wait("alice", 5*time.Second, "Latin and Cyrillic")
	send("-l", "990101300102")
	x.wait("alice", 5*time.Second, "1 of 1 matches")
	send("Enter")
	x.wait("alice", 5*time.Second, "persons.csv")
	send("b")
	x.wait("alice", 5*time.Second, "Bookmark")
	send("Tab")
	send("-l", "Shared case")
	send("C-s")
	x.wait("alice", 5*time.Second, "(new case)")
	x.wait("bob", 2*time.Second, "Shared case", "alice bookmarked")
	send("C-c")
	x.wait("alice", 10*time.Second, "Connection to 127.0.0.1 closed")
}
