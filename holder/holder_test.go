package holder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"casegraph/workbench"
)

// shortTemp is a temporary folder with a short path, and the socket
// folder pointed into it, so that the tests' sockets fit sun_path.
func shortTemp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cgh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	rt := filepath.Join(dir, "rt")
	if err := os.Mkdir(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", rt)
	return dir
}

func TestIdentify(t *testing.T) {
	lookup := func(uid string) (*user.User, error) {
		if uid == "1000" {
			return &user.User{Uid: uid, Username: "alice"}, nil
		}
		return nil, user.UnknownUserIdError(0)
	}
	id, err := Identify(1000, 1000, lookup)
	if err != nil || id.User != "alice" || id.Role != workbench.RoleOwner || id.UID != 1000 {
		t.Fatalf("the holder's own user: %+v %v", id, err)
	}
	// Another user, root included, is refused whatever it could claim.
	for _, peer := range []int{1001, 0} {
		if id, err := Identify(peer, 1000, lookup); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("uid %d may not use this database", peer)) {
			t.Errorf("uid %d: %+v %v", peer, id, err)
		}
	}
	// A uid without a name is journalled by number.
	if id, err := Identify(1002, 1002, lookup); err != nil || id.User != "uid:1002" {
		t.Errorf("a uid without a name: %+v %v", id, err)
	}
}

func TestSocketPathIsShortAndPrivate(t *testing.T) {
	tmp := shortTemp(t)
	// A database folder far longer than sun_path allows.
	long := filepath.Join(tmp, strings.Repeat("d", 200))
	p, err := SocketPath(long)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) > maxSocketPath || !strings.HasPrefix(p, filepath.Join(tmp, "rt", "casegraph")) {
		t.Fatalf("socket path %s (%d bytes)", p, len(p))
	}
	fi, err := os.Stat(filepath.Dir(p))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket folder: %v %v", fi, err)
	}
	if q, _ := SocketPath(long + "2"); q == p {
		t.Error("two databases share a socket")
	}
	// A socket folder others may enter is refused.
	os.Chmod(filepath.Dir(p), 0o755)
	if _, err := SocketPath(long); err == nil || !strings.Contains(err.Error(), "lets others in") {
		t.Errorf("an open socket folder: %v", err)
	}
}

// echo is a command for the tests: "echo WORDS" prints them, "cat" copies
// stdin, "fail N" exits with N after a line on stderr, "wait" blocks until
// cancelled and says so on cancelled.
func echo(cancelled chan<- error) RunFunc {
	return func(ctx context.Context, id Identity, req Request, stdin io.Reader, stdout, stderr io.Writer) int {
		switch req.Args[0] {
		case "echo":
			fmt.Fprintf(stdout, "%s as %s (%s) in %s\n", strings.Join(req.Args[1:], " "), id.User, id.Role, req.Dir)
		case "cat":
			io.Copy(stdout, stdin)
		case "fail":
			fmt.Fprintln(stderr, "casegraph: failed")
			var n int
			fmt.Sscan(req.Args[1], &n)
			return n
		case "panic":
			var m map[string]int
			m["boom"]++
		case "wait":
			fmt.Fprintln(stdout, "waiting")
			<-ctx.Done()
			cancelled <- ctx.Err()
			return 1
		}
		return 0
	}
}

func TestForwardRunsInTheHolder(t *testing.T) {
	tmp := shortTemp(t)
	db := filepath.Join(tmp, "db")
	os.Mkdir(db, 0o700)
	cancelled := make(chan error, 1)
	h, err := Listen(db, "tui", echo(cancelled), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	fi, err := os.Stat(h.Socket())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	in, err := ReadInfo(db)
	if err != nil || in.PID != os.Getpid() || in.Kind != "tui" || in.Socket != h.Socket() {
		t.Fatalf("holder file: %+v %v", in, err)
	}
	ctx := context.Background()
	me, _ := user.Current()

	var out, errOut bytes.Buffer
	code, err := Forward(ctx, db, Request{Args: []string{"echo", "hello", "there"}, Dir: "/work"}, nil, &out, &errOut)
	if err != nil || code != 0 || out.String() != fmt.Sprintf("hello there as %s () in /work\n", me.Username) {
		t.Fatalf("echo: %d %v %q", code, err, out.String())
	}

	out.Reset()
	big := strings.Repeat("0123456789abcdef", 200_000) // more than one frame
	code, err = Forward(ctx, db, Request{Args: []string{"cat"}, Dir: "/"}, strings.NewReader(big), &out, &errOut)
	if err != nil || code != 0 || out.String() != big {
		t.Fatalf("cat: %d %v, %d bytes back of %d", code, err, out.Len(), len(big))
	}

	out.Reset()
	errOut.Reset()
	code, err = Forward(ctx, db, Request{Args: []string{"fail", "3"}, Dir: "/"}, nil, &out, &errOut)
	if err != nil || code != 3 || errOut.String() != "casegraph: failed\n" || out.Len() != 0 {
		t.Fatalf("fail: %d %v %q %q", code, err, out.String(), errOut.String())
	}

	// A command that panics ends itself, not the holder.
	errOut.Reset()
	code, err = Forward(ctx, db, Request{Args: []string{"panic"}, Dir: "/"}, nil, io.Discard, &errOut)
	if err != nil || code != 70 || !strings.Contains(errOut.String(), "internal error") {
		t.Fatalf("panic: %d %v %q", code, err, errOut.String())
	}

	// The client going away (Ctrl-C) cancels the command in the holder.
	wctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Forward(wctx, db, Request{Args: []string{"wait"}, Dir: "/"}, nil, pw, io.Discard)
		done <- err
	}()
	line := make([]byte, 8)
	if _, err := io.ReadFull(pr, line); err != nil || string(line) != "waiting\n" {
		t.Fatalf("wait: %q %v", line, err)
	}
	cancel()
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the command ended with %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("cancelling the client did not cancel the command in the holder")
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the client returned %v", err)
	}

	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{h.Socket(), FilePath(db)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s outlived the holder: %v", p, err)
		}
	}
}

// TestStaleSocketDoesNotHang: a holder killed without cleaning up leaves
// its holder file and socket; nobody answers there, and Forward says so at
// once (ErrNoHolder) instead of waiting.
func TestStaleSocketDoesNotHang(t *testing.T) {
	tmp := shortTemp(t)
	db := filepath.Join(tmp, "db")
	os.Mkdir(db, 0o700)
	sock, err := SocketPath(db)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close() // the socket file stays, with nobody listening
	if err := writeInfo(db, Info{PID: 999999, UID: os.Getuid(), Kind: "tui", Socket: sock}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Forward(context.Background(), db, Request{Args: []string{"echo"}, Dir: "/"}, nil, io.Discard, io.Discard)
	if !errors.Is(err, ErrNoHolder) || time.Since(start) > dialTimeout {
		t.Fatalf("stale socket: %v after %s", err, time.Since(start))
	}
	// No holder file at all.
	os.Remove(FilePath(db))
	if _, err := Forward(context.Background(), db, Request{Args: []string{"echo"}, Dir: "/"}, nil, io.Discard, io.Discard); !errors.Is(err, ErrNoHolder) {
		t.Fatalf("no holder file: %v", err)
	}
	// A new holder replaces the stale socket.
	h, err := Listen(db, "serve", echo(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var out bytes.Buffer
	if code, err := Forward(context.Background(), db, Request{Args: []string{"echo", "x"}, Dir: "/"}, nil, &out, io.Discard); err != nil || code != 0 {
		t.Fatalf("after the stale socket: %d %v", code, err)
	}
}

// TestHungHolderTimesOut: a process that accepts on the socket but never
// greets (hung, or not a holder) does not hang the command line.
func TestHungHolderTimesOut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the greeting timeout")
	}
	tmp := shortTemp(t)
	db := filepath.Join(tmp, "db")
	os.Mkdir(db, 0o700)
	sock, _ := SocketPath(db)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(helloTimeout + 2*time.Second)
		}
	}()
	writeInfo(db, Info{PID: os.Getpid(), UID: os.Getuid(), Kind: "tui", Socket: sock})
	start := time.Now()
	_, err = Forward(context.Background(), db, Request{Args: []string{"echo"}, Dir: "/"}, nil, io.Discard, io.Discard)
	if !errors.Is(err, ErrNoHolder) || time.Since(start) > helloTimeout+time.Second {
		t.Fatalf("hung holder: %v after %s", err, time.Since(start))
	}
}
