package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"casegraph/holder"
	"casegraph/store"
)

// twinRun is what a command printed on stdout and its exit code.
type twinRun struct {
	out  string
	code int
}

func runTwin(args ...string) twinRun {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code := 0
	if err != nil {
		code = printError(&errOut, err)
	}
	return twinRun{out.String(), code}
}

// searchTook is the one part of search's output that is a measurement.
var searchTook = regexp.MustCompile(`(?m)^(\d+ of \d+ matches) · .*$`)

// TestTwinsBesideAServer: on a small generated database, every twin gives
// the same stdout and exit code through a running team server's socket as
// it gives run on its own (read-only) before the server started.
func TestTwinsBesideAServer(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and imports a decoy world, then runs a server")
	}
	tmp := t.TempDir()
	data, db := filepath.Join(tmp, "data"), filepath.Join(tmp, "db")
	runCmd(t, "generate", "--out", data, "--world", "decoys", "--persons", "1000", "--seed", "3")
	runCmd(t, "import", "--db", db, data)

	var hits struct {
		Hits []struct {
			Ref  string `json:"ref"`
			Kind string `json:"kind"`
		} `json:"hits"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "search", "--db", db, "--json", "--kind", "person", "--limit", "1", "a")), &hits); err != nil || len(hits.Hits) == 0 {
		t.Fatalf("no person found: %v", err)
	}
	person := hits.Hits[0].Ref
	var shown struct {
		Neighbours []struct {
			Ref string `json:"ref"`
		} `json:"neighbours"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, "show", "--db", db, "--json", person)), &shown); err != nil || len(shown.Neighbours) == 0 {
		t.Fatalf("%s has no neighbours: %v", person, err)
	}
	card := shown.Neighbours[0].Ref
	runCmd(t, "case", "new", "--db", db, "Twins")
	runCmd(t, "case", "add", "--db", db, "Twins", person, card, "--tag", "mule")
	runCmd(t, "verdict", "confirm", "--db", db, person, "--note", "seen twice")

	out := filepath.Join(tmp, "export")
	cmds := [][]string{
		{"search", "--db", db, "a"},
		{"search", "--db", db, "--json", "--kind", "card", "4"},
		{"show", "--db", db, person},
		{"show", "--db", db, "--json", card},
		{"show", "--db", db, "card:4400430000000999"}, // not there: an error after the open
		{"stats", "--db", db},
		{"stats", "--db", db, "--json"},
		{"flags", "--db", db, "--limit", "5"},
		{"flags", "--db", db, "--json", "--limit", "3"},
		{"clusters", "--db", db, "--limit", "3"},
		{"path", "--db", db, person, card},
		{"trace", "--db", db, card},
		{"case", "list", "--db", db},
		{"case", "show", "--db", db, "Twins"},
		{"verdict", "list", "--db", db},
		{"export", "--db", db, "--out", out, "Twins"},
	}
	direct := make([]twinRun, len(cmds))
	for i, c := range cmds {
		direct[i] = runTwin(c...)
		if i == len(cmds)-1 {
			os.RemoveAll(out) // the same folder again through the server
		}
	}
	if direct[4].code != 1 || direct[0].code != 0 {
		t.Fatalf("direct runs: %+v", direct)
	}

	stop := startServe(t, db)
	defer stop()
	for i, c := range cmds {
		got := runTwin(c...)
		want := direct[i]
		if c[0] == "search" {
			got.out = searchTook.ReplaceAllString(got.out, "$1")
			want.out = searchTook.ReplaceAllString(want.out, "$1")
		}
		if got != want {
			t.Errorf("casegraph %s beside the server:\n got %d %q\nwant %d %q", strings.Join(c, " "), got.code, trim(got.out), want.code, trim(want.out))
		}
	}
	// The server ran them: a command that is not a twin still finds the
	// database locked.
	if r := runTwin("journal", "--db", db); r.code != 1 {
		t.Errorf("journal while serving: %+v", r)
	}
}

func trim(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// startServe runs casegraph serve on db in-process until the returned
// function stops it.
func startServe(t *testing.T, db string) func() {
	t.Helper()
	team := filepath.Join(t.TempDir(), "team_keys")
	os.WriteFile(team, []byte("user=alice,role=viewer ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE/UzOQP02JaVzLsUtgmqn7GhezT0QO2MQLOE2uVfuUo\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--authorized-keys", team}, &out, &out)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "host key SHA256:") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	}
}

// TestCaseChangeThroughTheTUIsSocket: with a database held the way the TUI
// holds it, case commands run through its socket: the change is journalled
// under the OS user, and the open sessions hear of it within a second.
func TestCaseChangeThroughTheTUIsSocket(t *testing.T) {
	dir := fixtureDB(t)
	db, err := (&dbFlags{dir: dir}).open(false, false)
	if err != nil {
		t.Fatal(err)
	}
	wb := newBackend(db)
	stop := serveTwins(db, wb, "tui")
	changes, unsubscribe := wb.Subscribe()
	defer unsubscribe()
	me, _ := user.Current()

	if r := runTwin("case", "new", "--db", dir, "Beside", "the", "TUI"); r.code != 0 || !strings.Contains(r.out, `"Beside the TUI"`) {
		t.Fatalf("case new through the socket: %+v", r)
	}
	select {
	case c := <-changes:
		if c.User != me.Username || c.Session == wb.Session() || !strings.Contains(c.What, "Beside the TUI") {
			t.Errorf("change: %+v", c)
		}
	case <-time.After(time.Second):
		t.Fatal("the TUI did not hear of the new case within a second")
	}
	// A note read from stdin goes through the holder too.
	var out, errOut bytes.Buffer
	if err := runWith(context.Background(), []string{"case", "note", "--db", dir, "Beside the TUI", "-"},
		strings.NewReader("from stdin\nline two\n"), &out, &errOut); err != nil || !strings.Contains(out.String(), "(2 lines)") {
		t.Fatalf("case note -: %v %q %q", err, out.String(), errOut.String())
	}
	select {
	case c := <-changes:
		if !strings.Contains(c.What, "notes") {
			t.Errorf("change: %+v", c)
		}
	case <-time.After(time.Second):
		t.Fatal("the note did not reach the TUI within a second")
	}
	// A verdict too: the open sessions are told which entity changed.
	if r := runTwin("verdict", "confirm", "--db", dir, "card:4400430000000015", "--note", "from the CLI"); r.code != 0 {
		t.Fatalf("verdict through the socket: %+v", r)
	}
	select {
	case c := <-changes:
		if c.Ref.String() != "card:4400430000000015" || c.User != me.Username {
			t.Errorf("change: %+v", c)
		}
	case <-time.After(time.Second):
		t.Fatal("the verdict did not reach the TUI within a second")
	}
	// What needs the database to itself is refused by the holder, and the
	// local command says who holds it.
	var stderr bytes.Buffer
	code, err := holder.Forward(context.Background(), dir, holder.Request{Args: []string{"import", "--db", dir, "x.csv"}, Dir: "/"}, nil, &bytes.Buffer{}, &stderr)
	if err != nil || code != 1 || !strings.Contains(stderr.String(), "import needs the database to itself") {
		t.Errorf("import through the socket: %d %v %q", code, err, stderr.String())
	}
	if err := runErr("journal", "--db", dir); err == nil || !strings.Contains(err.Error(), "a casegraph TUI (pid") {
		t.Errorf("journal beside the TUI: %v", err)
	}
	stop()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	var entries []store.JournalEntry
	json.Unmarshal([]byte(runCmd(t, "journal", "--db", dir, "--json")), &entries)
	// The journal names the OS user for all three changes made through
	// the socket.
	if len(entries) != 3 {
		t.Fatalf("journal: %d entries", len(entries))
	}
	for i, act := range []string{store.ActCaseCreate, store.ActCaseNotes, "verdict.set"} {
		if e := entries[i]; e.User != me.Username || e.Action != act {
			t.Errorf("journal entry %d: %s %s, want %s %s", i+1, e.User, e.Action, me.Username, act)
		}
	}
	if out := runCmd(t, "journal", "--db", dir, "verify"); !strings.Contains(out, "journal OK") {
		t.Errorf("verify: %s", out)
	}
}

// TestStaleHolderFallsBack: a holder killed without cleaning up leaves its
// holder file and socket. With the database free a twin opens it itself;
// with the database locked by a process that is no holder, the twin
// reports the lock at once.
func TestStaleHolderFallsBack(t *testing.T) {
	dir := fixtureDB(t)
	want := runTwin("stats", "--db", dir)
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	raw, _ := json.Marshal(holder.Info{PID: 999999, UID: os.Getuid(), Kind: "tui", Socket: sock})
	os.WriteFile(holder.FilePath(dir), raw, 0o600)

	if got := runTwin("stats", "--db", dir); got != want || got.code != 0 {
		t.Fatalf("stats with a stale holder file: %+v, want %+v", got, want)
	}
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	err = runErr("stats", "--db", dir)
	if !errors.Is(err, store.ErrLocked) || time.Since(start) > 3*time.Second {
		t.Fatalf("stats on a locked database with a dead socket: %v after %s", err, time.Since(start))
	}
}

func TestHostPathIsTheCallersFolder(t *testing.T) {
	ctx := context.WithValue(context.Background(), heldKey{}, &heldRun{dir: "/home/alice/case"})
	for in, want := range map[string]string{"out": "/home/alice/case/out", "../x.json": "/home/alice/x.json", "/abs": "/abs", "": ""} {
		if got := hostPath(ctx, in); got != want {
			t.Errorf("hostPath(%q) = %q, want %q", in, got, want)
		}
	}
	if got := hostPath(context.Background(), "out"); got != "out" {
		t.Errorf("outside a holder: %q", got)
	}
}
