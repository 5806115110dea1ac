//go:build linux || darwin

package holder

import "net"

// peerUID is the uid of the process at the other end of c, from the
// kernel (fdPeerUID: SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS): what
// the peer says about itself never counts.
func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	uid, uerr := -1, error(nil)
	if err := raw.Control(func(fd uintptr) { uid, uerr = fdPeerUID(int(fd)) }); err != nil {
		return -1, err
	}
	return uid, uerr
}
