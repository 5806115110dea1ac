package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to read while the command writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeStartsAndStops: serve needs a team file, refuses a malformed
// one with file:line, prints its address and host key, makes the host key
// once (0600) and stops cleanly when interrupted.
func TestServeStartsAndStops(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "rules"))
	ctx := context.Background()
	var out lockedBuffer
	if err := run(ctx, []string{"serve", "--db", db}, &out, &out); err == nil || !strings.Contains(err.Error(), "--authorized-keys FILE is required") {
		t.Fatalf("serve without a team file: %v", err)
	}
	team := filepath.Join(t.TempDir(), "team_keys")
	os.WriteFile(team, []byte("# team\nuser=alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE/UzOQP02JaVzLsUtgmqn7GhezT0QO2MQLOE2uVfuUo\n"), 0o600)
	if err := run(ctx, []string{"serve", "--db", db, "--authorized-keys", team}, &out, &out); err == nil || !strings.Contains(err.Error(), "team_keys:2: every key needs") {
		t.Fatalf("serve with a malformed team file: %v", err)
	}
	os.WriteFile(team, []byte("user=alice,role=viewer ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE/UzOQP02JaVzLsUtgmqn7GhezT0QO2MQLOE2uVfuUo\n"), 0o600)
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(sctx, []string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--authorized-keys", team}, &out, &out)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "host key SHA256:") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The database is the server's while it serves: other commands say so.
	var jout bytes.Buffer
	if err := run(ctx, []string{"journal", "--db", db}, &jout, &jout); err == nil || !strings.Contains(err.Error(), "a team server (casegraph serve) listens on 127.0.0.1:") {
		t.Errorf("journal while serving: %v", err)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after interrupt: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	fi, err := os.Stat(filepath.Join(db, ".casegraph-server", "host_ed25519"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(db, ".casegraph-server", "listening")); err == nil {
		t.Error("the listening file outlived the server")
	}
	if !strings.Contains(out.String(), "stopping") {
		t.Errorf("output: %q", out.String())
	}
}

// TestServeStopsCleanlyOnHangup: the terminal that started serve goes away
// (an SSH session to the server machine drops, tmux is killed): SIGHUP stops
// the server like an interrupt, and the database is closed cleanly, so a
// read-only command opens it at once.
func TestServeStopsCleanlyOnHangup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs serve as a process")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "casegraph")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := filepath.Join(tmp, "db")
	runCmd(t, "import", "--db", db, filepath.Join("..", "..", "testdata", "rules"))
	team := filepath.Join(tmp, "team_keys")
	os.WriteFile(team, []byte("user=alice,role=viewer ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE/UzOQP02JaVzLsUtgmqn7GhezT0QO2MQLOE2uVfuUo\n"), 0o600)
	var out lockedBuffer
	cmd := exec.Command(bin, "serve", "--db", db, "--listen", "127.0.0.1:0", "--authorized-keys", team)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "host key SHA256:") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("serve did not start: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGHUP: %v\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("serve did not stop on SIGHUP")
	}
	if res, err := exec.Command(bin, "stats", "--db", db).CombinedOutput(); err != nil {
		t.Fatalf("stats after the server stopped: %v\n%s", err, res)
	}
}
