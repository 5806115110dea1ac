package holder

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"
)

// Request is what a client asks the holder to run.
type Request struct {
	Args []string `json:"args"` // the command line after "casegraph"
	Dir  string   `json:"dir"`  // the client's working folder, for relative paths in Args
}

// RunFunc runs one command for a caller and returns its exit code. stdin
// is read only when the command reads it (then the client is asked for
// its stdin); ctx ends when the client goes away.
type RunFunc func(ctx context.Context, id Identity, req Request, stdin io.Reader, stdout, stderr io.Writer) int

// Holder serves the command line of one held database on its socket.
type Holder struct {
	dbDir string
	sock  string
	l     *net.UnixListener
	run   RunFunc
	log   *slog.Logger
	self  int

	ctx    context.Context // cancelled by Close: every running command ends
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{} // commands running at once
	once   sync.Once
}

// MaxConcurrent is how many commands a holder runs at once; more wait.
const MaxConcurrent = 8

// Listen makes the process holding the database in dbDir (kind "serve" or
// "tui") serve the command line: it listens on SocketPath(dbDir) and
// writes the holder file naming it. The caller holds the database (has it
// open for writing) and calls Close before closing it.
func Listen(dbDir, kind string, run RunFunc, log *slog.Logger) (*Holder, error) {
	if !supported {
		return nil, errors.New("the command line beside a holder needs Linux (peer credentials)")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sock, err := SocketPath(dbDir)
	if err != nil {
		return nil, err
	}
	// A socket left by a holder that was killed: this process holds the
	// database now, so nobody serves that one.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("stale socket %s: %w", sock, err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("holder socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("holder socket: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Holder{dbDir: dbDir, sock: sock, l: l, run: run, log: log, self: os.Getuid(), ctx: ctx, cancel: cancel,
		slots: make(chan struct{}, MaxConcurrent)}
	if err := writeInfo(dbDir, Info{PID: os.Getpid(), UID: h.self, Kind: kind, Socket: sock, Since: time.Now().UTC()}); err != nil {
		l.Close()
		cancel()
		return nil, fmt.Errorf("holder file: %w", err)
	}
	h.wg.Add(1)
	go h.accept()
	return h, nil
}

// Socket is where the holder listens.
func (h *Holder) Socket() string { return h.sock }

// Close stops listening, cancels the commands running and waits for them,
// and removes the socket and the holder file.
func (h *Holder) Close() error {
	var err error
	h.once.Do(func() {
		err = h.l.Close() // removes the socket file
		h.cancel()
		h.wg.Wait()
		if in, rerr := ReadInfo(h.dbDir); rerr == nil && in.PID == os.Getpid() {
			os.Remove(FilePath(h.dbDir))
		}
	})
	return err
}

func (h *Holder) accept() {
	defer h.wg.Done()
	for {
		c, err := h.l.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				h.log.Error("holder socket", "err", err)
			}
			return
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer c.Close()
			h.serve(c)
		}()
	}
}

// hello is the holder's greeting.
type hello struct {
	Kind string `json:"kind"`
	PID  int    `json:"pid"`
	User string `json:"user"`
	Role string `json:"role"`
}

// serve runs one connection: who the peer is, its request, the command.
func (h *Holder) serve(c *net.UnixConn) {
	uid, err := peerUID(c)
	var id Identity
	if err == nil {
		id, err = Identify(uid, h.self, user.LookupId)
	}
	if err != nil {
		h.log.Warn("holder: caller refused", "uid", uid, "err", err)
		_ = writeFrame(c, frameRefuse, []byte(err.Error()))
		return
	}
	kind := "holder"
	if in, err := ReadInfo(h.dbDir); err == nil {
		kind = in.Kind
	}
	raw, _ := json.Marshal(hello{Kind: kind, PID: os.Getpid(), User: id.User, Role: string(id.Role)})
	if err := writeFrame(c, frameHello, raw); err != nil {
		return
	}
	// The request follows at once; a client that sends nothing is not
	// waited for.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, p, err := readFrame(c)
	if err != nil || typ != frameRequest {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	var req Request
	if err := json.Unmarshal(p, &req); err != nil || len(req.Args) == 0 || !filepath.IsAbs(req.Dir) {
		_ = writeFrame(c, frameRefuse, []byte("holder protocol: a request needs the arguments and an absolute working folder"))
		return
	}
	select {
	case h.slots <- struct{}{}:
	case <-h.ctx.Done():
		return
	}
	defer func() { <-h.slots }()

	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	out := &frameWriter{c: c}
	in := &stdinReader{out: out}
	in.pr, in.pw = io.Pipe()
	// The client's frames: its stdin, or the connection ending, which
	// cancels the command (Ctrl-C on the client).
	go func() {
		defer cancel()
		for {
			typ, p, err := readFrame(c)
			if err != nil {
				in.pw.CloseWithError(io.ErrUnexpectedEOF)
				return
			}
			switch typ {
			case frameInput:
				if _, err := in.pw.Write(p); err != nil {
					return
				}
			case frameInputEOF:
				in.pw.Close()
			}
		}
	}()
	code := h.runSafely(ctx, id, req, in, out)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(int32(code)))
	_ = out.frame(frameExit, b[:])
	in.pr.Close()
}

// runSafely runs the command; a command that panics ends with exit code
// 70 (EX_SOFTWARE) and a message, not with the process that holds the
// database and its users' sessions.
func (h *Holder) runSafely(ctx context.Context, id Identity, req Request, in io.Reader, out *frameWriter) (code int) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("holder: a command panicked", "args", req.Args, "panic", p, "stack", string(debug.Stack()))
			fmt.Fprintf(out.stream(frameStderr), "casegraph: internal error in the database's holder: %v\n", p)
			code = 70
		}
	}()
	return h.run(ctx, id, req, in, out.stream(frameStdout), out.stream(frameStderr))
}

// frameWriter writes the frames of one connection, one at a time.
type frameWriter struct {
	mu  sync.Mutex
	c   net.Conn
	err error
}

func (w *frameWriter) frame(typ byte, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	for len(p) > maxFrame {
		if w.err = writeFrame(w.c, typ, p[:maxFrame]); w.err != nil {
			return w.err
		}
		p = p[maxFrame:]
	}
	w.err = writeFrame(w.c, typ, p)
	return w.err
}

type streamWriter struct {
	w   *frameWriter
	typ byte
}

func (s streamWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := s.w.frame(s.typ, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *frameWriter) stream(typ byte) io.Writer { return streamWriter{w, typ} }

// stdinReader asks the client for its stdin on the first read.
type stdinReader struct {
	out    *frameWriter
	once   sync.Once
	pr     *io.PipeReader
	pw     *io.PipeWriter
	askErr error
}

func (r *stdinReader) Read(p []byte) (int, error) {
	r.once.Do(func() { r.askErr = r.out.frame(frameStdin, nil) })
	if r.askErr != nil {
		return 0, r.askErr
	}
	return r.pr.Read(p)
}
