// Package dgraphtest starts a throwaway Dgraph cluster for tests: one zero and
// two alphas on 127.0.0.1, each alpha its own group (replicas 1), on free
// ports and in temporary folders, so that predicates can be shown to spread
// over groups (docs/DGRAPH.md).
//
// The dgraph binary is $CASEGRAPH_DGRAPH, else the one .ci/dgraph/build leaves
// in ~/.cache/casegraph/dgraph-VERSION/dgraph. Without one a test skips with a
// message saying how to build it, except under CI (CI is set), where it fails:
// the Dgraph tests must never skip there.
package dgraphtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Env names the dgraph binary.
const Env = "CASEGRAPH_DGRAPH"

// Binary finds the dgraph binary: $CASEGRAPH_DGRAPH, else the newest build in
// ~/.cache/casegraph/dgraph-*/dgraph. It returns "" and why when there is none.
func Binary() (string, string) {
	if p := os.Getenv(Env); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return "", fmt.Sprintf("$%s=%s is not a file", Env, p)
		}
		return p, ""
	}
	home, err := os.UserHomeDir()
	if err == nil {
		found, _ := filepath.Glob(filepath.Join(home, ".cache", "casegraph", "dgraph-*", "dgraph"))
		slices.Sort(found)
		if len(found) > 0 {
			return found[len(found)-1], ""
		}
	}
	return "", fmt.Sprintf("no dgraph binary: set $%s or build one with `bash .ci/dgraph/build`", Env)
}

// TB is the part of testing.TB the cluster needs.
type TB interface {
	Helper()
	Skip(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Cluster is a running zero and its alphas.
type Cluster struct {
	Alphas    []string // the alphas' gRPC addresses, one per group
	AlphaHTTP []string
	ZeroHTTP  string
	ZeroGRPC  string
	// BulkTook is how long `dgraph bulk` ran (StartBulk), BulkLog its log.
	BulkTook time.Duration
	BulkLog  string
	dir      string
	base     int
	procs    []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan error
}

// URL is the --db value that names the cluster: dgraph://alpha1,alpha2.
func (c *Cluster) URL() string { return "dgraph://" + strings.Join(c.Alphas, ",") }

// Require returns the dgraph binary or skips t (fails it under CI).
func Require(t TB) string {
	t.Helper()
	bin, why := Binary()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI must run the Dgraph tests: .ci/run builds it)", why)
		}
		t.Skip(why)
	}
	return bin
}

// Start starts one zero and groups alphas (one group each) in dir and waits
// until every alpha is healthy and zero lists all the groups. The caller
// calls Stop.
func Start(ctx context.Context, bin, dir string, groups int) (*Cluster, error) {
	c, err := startZero(bin, dir, groups)
	if err != nil {
		return nil, err
	}
	if err := c.startAlphas(ctx, bin, groups); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// StartBulk starts a cluster from Dgraph's bulk loader: zero first, then
// the loader against it (bulk returns its command line for zero's gRPC
// address and the output folder; a --tmp and an --http address of the
// test's are added), then one alpha per group on its shard: the loader's
// out/g/p becomes alpha g+1's p folder, as docs/DGRAPH.md tells an operator.
// The loader's time is in BulkTook, its log beside the others.
func StartBulk(ctx context.Context, bin, dir string, groups int, bulk func(zero, out string) []string) (*Cluster, error) {
	c, err := startZero(bin, dir, groups)
	if err != nil {
		return nil, err
	}
	if err := c.runBulk(ctx, bin, groups, bulk); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.startAlphas(ctx, bin, groups); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func startZero(bin, dir string, groups int) (*Cluster, error) {
	c := &Cluster{dir: dir}
	base, err := freeOffset(groups)
	if err != nil {
		return nil, err
	}
	c.base = base
	c.ZeroGRPC = fmt.Sprintf("127.0.0.1:%d", 5080+base)
	c.ZeroHTTP = fmt.Sprintf("127.0.0.1:%d", 6080+base)
	zdir := filepath.Join(dir, "zero")
	if err := c.spawn(bin, "zero", zdir, "zero", "--my", c.ZeroGRPC, "--port_offset", strconv.Itoa(base),
		"--replicas", "1", "--raft", "idx=1", "--wal", filepath.Join(zdir, "zw"), "--bindall=false"); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// runBulk waits for zero, runs the bulk loader and moves each shard's p
// folder into its alpha's folder.
func (c *Cluster) runBulk(ctx context.Context, bin string, groups int, bulk func(zero, out string) []string) error {
	if err := c.waitZero(ctx); err != nil {
		return err
	}
	bdir := filepath.Join(c.dir, "bulk")
	out := filepath.Join(bdir, "out")
	if err := os.MkdirAll(bdir, 0o700); err != nil {
		return err
	}
	httpPort, err := freePort()
	if err != nil {
		return err
	}
	args := bulk(c.ZeroGRPC, out)
	if len(args) < 2 {
		return fmt.Errorf("bulk command %q: too short", args)
	}
	args = append(args[1:], "--tmp", filepath.Join(bdir, "tmp"), "--http", fmt.Sprintf("127.0.0.1:%d", httpPort))
	logPath := filepath.Join(c.dir, "bulk.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = bdir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("dgraph bulk %q: %w; its log ends:\n%s", args, err, tail(logPath))
	}
	c.BulkTook = time.Since(start)
	c.BulkLog = logPath
	for g := 0; g < groups; g++ {
		adir := filepath.Join(c.dir, fmt.Sprintf("alpha%d", g+1))
		if err := os.MkdirAll(adir, 0o700); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(out, strconv.Itoa(g), "p"), filepath.Join(adir, "p")); err != nil {
			return fmt.Errorf("dgraph bulk made no shard %d: %w", g, err)
		}
	}
	return nil
}

// startAlphas starts the alphas one at a time, each on the p folder in its
// own folder (empty, or a bulk loader's shard).
func (c *Cluster) startAlphas(ctx context.Context, bin string, groups int) error {
	zeroGRPC, base := c.ZeroGRPC, c.base
	for g := 1; g <= groups; g++ {
		off := base + g
		name := fmt.Sprintf("alpha%d", g)
		adir := filepath.Join(c.dir, name)
		c.Alphas = append(c.Alphas, fmt.Sprintf("127.0.0.1:%d", 9080+off))
		c.AlphaHTTP = append(c.AlphaHTTP, fmt.Sprintf("127.0.0.1:%d", 8080+off))
		err := c.spawn(bin, name, adir, "alpha", "--my", fmt.Sprintf("127.0.0.1:%d", 7080+off),
			"--zero", zeroGRPC, "--port_offset", strconv.Itoa(off),
			"-p", filepath.Join(adir, "p"), "-w", filepath.Join(adir, "w"), "--tmp", filepath.Join(adir, "t"),
			"--cache", "size-mb=256", "--security", "whitelist=127.0.0.1/32", "--bindall=false")
		if err != nil {
			return err
		}
		// One alpha at a time: zero gives each new alpha the next group, so
		// alpha g serves group g.
		if err := c.waitGroups(ctx, g); err != nil {
			return err
		}
	}
	for i := range c.AlphaHTTP {
		if err := c.waitHealthy(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// waitZero waits until zero answers /state.
func (c *Cluster) waitZero(ctx context.Context) error {
	for {
		if err := c.exited(); err != nil {
			return err
		}
		_, err := c.State(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dgraph zero does not answer: %w (last: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartT starts a two-group cluster for a test and stops it when the test
// ends; it skips (fails under CI) without a dgraph binary.
func StartT(t interface {
	TB
	TempDir() string
	Cleanup(func())
}) *Cluster {
	t.Helper()
	bin := Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, bin, t.TempDir(), 2)
	if err != nil {
		t.Fatalf("start dgraph cluster: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// freeOffset finds a port offset o such that zero's ports (5080+o, 6080+o)
// and each alpha g's (7080, 8080, 9080 + o+g) are free on 127.0.0.1.
func freeOffset(groups int) (int, error) {
	for try := 0; try < 50; try++ {
		base := 100 + rand.IntN(20000)
		ports := []int{5080 + base, 6080 + base}
		for g := 1; g <= groups; g++ {
			ports = append(ports, 7080+base+g, 8080+base+g, 9080+base+g)
		}
		if allFree(ports) {
			return base, nil
		}
	}
	return 0, errors.New("no free port range for a dgraph cluster on 127.0.0.1")
}

func allFree(ports []int) bool {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for _, p := range ports {
		if p > 65535 {
			return false
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		ls = append(ls, l)
	}
	return true
}

func (c *Cluster) spawn(bin, name, dir string, args ...string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	logPath := filepath.Join(c.dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start dgraph %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	c.procs = append(c.procs, p)
	return nil
}

// exited reports a process that has already stopped, with its log's tail.
func (c *Cluster) exited() error {
	for _, p := range c.procs {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("dgraph %s exited (%v); its log ends:\n%s", p.name, err, tail(p.log))
		default:
		}
	}
	return nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// State is the part of zero's /state the tests read.
type State struct {
	Groups map[string]struct {
		Members map[string]struct {
			Addr string `json:"addr"`
		} `json:"members"`
		Tablets map[string]struct {
			GroupID   uint32 `json:"groupId"`
			Predicate string `json:"predicate"`
		} `json:"tablets"`
	} `json:"groups"`
}

// State reads zero's /state.
func (c *Cluster) State(ctx context.Context) (State, error) {
	var st State
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.ZeroHTTP+"/state", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return st, err
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("zero /state: %s: %s", resp.Status, buf.String())
	}
	if err := json.Unmarshal(buf.Bytes(), &st); err != nil {
		return st, fmt.Errorf("zero /state: %w", err)
	}
	return st, nil
}

// Tablets maps each predicate (without its namespace) to the group serving it.
func (st State) Tablets() map[string]uint32 {
	out := map[string]uint32{}
	for _, g := range st.Groups {
		for _, t := range g.Tablets {
			out[StripNamespace(t.Predicate)] = t.GroupID
		}
	}
	return out
}

// StripNamespace drops the namespace Dgraph prefixes to predicate names in
// zero's state: eight bytes of namespace id in v25 ("\x00…\x00name"), or
// "0-name" in older releases.
func StripNamespace(p string) string {
	if len(p) > 8 && strings.Count(p[:8], "\x00") >= 7 {
		return p[8:]
	}
	if ns, rest, ok := strings.Cut(p, "-"); ok {
		if _, err := strconv.ParseUint(ns, 10, 64); err == nil {
			return rest
		}
	}
	return p
}

func (c *Cluster) waitGroups(ctx context.Context, n int) error {
	for {
		if err := c.exited(); err != nil {
			return err
		}
		st, err := c.State(ctx)
		if err == nil {
			have := 0
			for _, g := range st.Groups {
				if len(g.Members) > 0 {
					have++
				}
			}
			if have >= n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dgraph zero did not list %d groups: %w (last: %v)", n, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *Cluster) waitHealthy(ctx context.Context, i int) error {
	url := "http://" + c.AlphaHTTP[i] + "/health"
	var last string
	for {
		if err := c.exited(); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			last = buf.String()
			if resp.StatusCode == http.StatusOK && strings.Contains(last, `"healthy"`) {
				return nil
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dgraph alpha %s not healthy: %w (last: %s)", c.Alphas[i], ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop stops the alphas, then zero (SIGTERM, then SIGKILL after 10 s), and
// leaves the folders to the test's TempDir cleanup.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.done:
			p.done <- err
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			p.done <- <-p.done
		}
	}
	c.procs = nil
}
