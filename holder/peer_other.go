//go:build !linux && !darwin

package holder

import (
	"errors"
	"io/fs"
	"net"
)

// peerUID: only Linux's SO_PEERCRED and macOS's LOCAL_PEERCRED are used; elsewhere the holder does not
// listen (supported) and a command on a held database reports the lock.
func peerUID(*net.UnixConn) (int, error) {
	return -1, errors.New("peer credentials are read on Linux and macOS only")
}

func ownerOf(fs.FileInfo) (int, bool) { return 0, false }

const supported = false
