package holder

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// ErrNoHolder means no process answers for the database: there is no
// holder file, or its socket is gone or dead (a holder that was killed).
var ErrNoHolder = errors.New("no process serves this database's command line")

// RefusedError is the holder refusing the caller (Identify).
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "the database's holder refused: " + e.Reason }

// How long a client waits for a holder to answer: the greeting comes from
// the holder's accept loop, not from a command, so a holder that does not
// greet within this is hung or is not one.
const (
	dialTimeout  = 2 * time.Second
	helloTimeout = 5 * time.Second
)

// Forward runs req in the holder of the database in dbDir: it copies the
// command's stdout and stderr to stdout and stderr, hands it stdin when it
// reads it, and returns its exit code. Cancelling ctx (Ctrl-C) closes the
// connection, which cancels the command in the holder. An error wrapping
// ErrNoHolder means nobody answered: the caller may go on as if no holder
// existed.
func Forward(ctx context.Context, dbDir string, req Request, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	in, err := ReadInfo(dbDir)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoHolder, err)
	}
	d := net.Dialer{Timeout: dialTimeout}
	nc, err := d.DialContext(ctx, "unix", in.Socket)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoHolder, err)
	}
	c := nc.(*net.UnixConn)
	defer c.Close()
	// The socket the holder file names must be this user's holder's: a
	// socket of someone else's is not given our commands.
	if uid, err := peerUID(c); err != nil || uid != os.Getuid() {
		return 0, fmt.Errorf("the socket %s is not this user's (uid %d, %v)", in.Socket, uid, err)
	}
	_ = c.SetReadDeadline(time.Now().Add(helloTimeout))
	typ, p, err := readFrame(c)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%w: the holder (pid %d) did not answer: %v", ErrNoHolder, in.PID, err)
	case typ == frameRefuse:
		return 0, &RefusedError{Reason: string(p)}
	case typ != frameHello:
		return 0, fmt.Errorf("holder protocol: greeting %q", typ)
	}
	_ = c.SetReadDeadline(time.Time{})
	raw, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	if err := writeFrame(c, frameRequest, raw); err != nil {
		return 0, fmt.Errorf("holder: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	var sent bool
	for {
		typ, p, err := readFrame(c)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("the database's holder went away before the command ended: %w", err)
		}
		switch typ {
		case frameStdout:
			if _, err := stdout.Write(p); err != nil {
				return 0, err
			}
		case frameStderr:
			if _, err := stderr.Write(p); err != nil {
				return 0, err
			}
		case frameStdin:
			if !sent {
				sent = true
				go sendStdin(c, stdin)
			}
		case frameRefuse:
			return 0, &RefusedError{Reason: string(p)}
		case frameExit:
			if len(p) != 4 {
				return 0, errors.New("holder protocol: a short exit code")
			}
			return int(int32(binary.BigEndian.Uint32(p))), nil
		}
	}
}

// sendStdin copies stdin to the holder in frames, then says it ended.
func sendStdin(c net.Conn, stdin io.Reader) {
	if stdin != nil {
		buf := make([]byte, 32<<10)
		for {
			n, err := stdin.Read(buf)
			if n > 0 {
				if writeFrame(c, frameInput, buf[:n]) != nil {
					return
				}
			}
			if err != nil {
				break
			}
		}
	}
	_ = writeFrame(c, frameInputEOF, nil)
}
