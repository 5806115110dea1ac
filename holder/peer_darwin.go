package holder

import "golang.org/x/sys/unix"

// fdPeerUID reads the peer's uid of a Unix socket with LOCAL_PEERCRED,
// macOS's counterpart of Linux's SO_PEERCRED.
func fdPeerUID(fd int) (int, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}
