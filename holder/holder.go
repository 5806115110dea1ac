// Package holder lets the command line work beside the process that holds
// a database. Badger admits one writer: while a `casegraph serve` or a
// local TUI has the database open, no other process may open it, not even
// to read. That process (the holder) therefore listens on a Unix socket
// and runs the command-line twins (search, show, stats, flags, clusters,
// path, trace, case, verdict, export) for the caller, on the database it
// holds, with the caller's identity taken from the socket's peer
// credentials (SO_PEERCRED), never from what the client says. Changes made
// so are journalled under that user and reach the open TUI and SSH
// sessions at once, like their own.
//
// Where the socket is: the holder writes a holder file (FilePath) into the
// database folder naming its socket, its process and its kind. The socket
// lives in a private folder of the user (SocketDir, mode 0700; the socket
// itself 0600), named after a hash of the database's path so that it fits
// the 108 bytes of sun_path. A holder killed without cleaning up leaves
// both behind; the kernel has released the database's lock with it, so a
// command opens the database itself and never asks the dead socket. When
// the lock is held by a process that does not answer on the socket (an
// import, or a holder file left over), Forward fails fast with
// ErrNoHolder and the command reports the lock.
//
// Who may connect: the OS user the holder runs as (who owns the database
// folder, mode 0700), with the rights of the database's owner working
// locally; anyone else is refused (Identify). docs/SECURITY.md.
//
// The protocol is one request per connection, in frames (frame.go): the
// holder greets (or refuses), the client sends its arguments and working
// folder, the holder streams the command's stdout and stderr back, asks
// for stdin when the command reads it, and ends with the exit code. A
// client that goes away (Ctrl-C) cancels the command in the holder.
package holder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// FileName is the holder file in a database folder.
const FileName = ".casegraph-holder"

// FilePath is the holder file of the database in dbDir.
func FilePath(dbDir string) string { return filepath.Join(dbDir, FileName) }

// Info is what a holder file says.
type Info struct {
	PID    int       `json:"pid"`
	UID    int       `json:"uid"`
	Kind   string    `json:"kind"` // "serve" or "tui"
	Socket string    `json:"socket"`
	Since  time.Time `json:"since"`
}

// ReadInfo reads the holder file of the database in dbDir (at most 4 KiB).
func ReadInfo(dbDir string) (Info, error) {
	f, err := os.Open(FilePath(dbDir))
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	buf := make([]byte, 4<<10)
	n, _ := f.Read(buf)
	var in Info
	if err := json.Unmarshal(buf[:n], &in); err != nil || in.Socket == "" {
		return Info{}, fmt.Errorf("holder file %s: not a holder file", FilePath(dbDir))
	}
	return in, nil
}

// writeInfo writes the holder file atomically, readable by its owner only.
func writeInfo(dbDir string, in Info) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	tmp := FilePath(dbDir) + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, FilePath(dbDir))
}

// maxSocketPath is the longest socket path this package makes: sun_path
// holds 108 bytes on Linux with the terminating NUL, 104 on the BSDs.
const maxSocketPath = 103

// SocketDir is the private folder of this user's holder sockets:
// $XDG_RUNTIME_DIR/casegraph when that is set (a per-user folder the
// system keeps), else casegraph-UID in the temporary folder. It is made
// with mode 0700 and refused when it is a link, another user's, or open
// to others.
func SocketDir() (string, error) {
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" || !filepath.IsAbs(base) || len(base) > 60 {
		return privateDir(filepath.Join(os.TempDir(), "casegraph-"+strconv.Itoa(os.Getuid())))
	}
	return privateDir(filepath.Join(base, "casegraph"))
}

func privateDir(dir string) (string, error) {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("socket folder %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("socket folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("socket folder %s is not a folder", dir)
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Getuid() {
		return "", fmt.Errorf("socket folder %s belongs to uid %d, not to this user", dir, uid)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("socket folder %s: mode %04o lets others in", dir, fi.Mode().Perm())
	}
	return dir, nil
}

// SocketPath is the socket of the holder of the database in dbDir: a name
// hashed from the database's absolute path in SocketDir, short enough for
// sun_path.
func SocketPath(dbDir string) (string, error) {
	abs, err := filepath.Abs(dbDir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	dir, err := SocketDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	p := filepath.Join(dir, hex.EncodeToString(sum[:8])+".sock")
	if len(p) > maxSocketPath {
		return "", fmt.Errorf("socket path %s is longer than the %d bytes a Unix socket's name may have", p, maxSocketPath)
	}
	return p, nil
}
